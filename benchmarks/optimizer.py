"""Optimizer benchmark: what fusion buys at run time, and what optimizing costs.

    python benchmarks/optimizer.py [--quick]

1. A chain of 10 elementwise maps and a sum over 50M f64, compiled with and without the optimizer,
   against the streaming ceiling (``np.copyto`` reading the same bytes) and NumPy eager.
2. Optimizer time against program size: chains of 10, 100, 1,000 and 10,000 elementwise loops.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import timed  # noqa: E402

import lazyir  # noqa: E402
from lazyir.ir import nodes as n  # noqa: E402
from lazyir.ir import types as T  # noqa: E402
from lazyir.ir.analysis import count_loops  # noqa: E402

F64, VEC = T.F64, T.Vec(T.F64)
MAPS = [("*", 1.0001), ("+", 0.5), ("*", 0.9999), ("-", 0.25), ("*", 1.5), ("+", 1.0), ("*", 0.5), ("-", 0.125)]


def chain_program(k: int, with_lets: bool = True) -> n.Expr:
    """``sum(f_k(...f_1(a)))``: k elementwise loops, each materializing a vector, then a sum."""
    cur: n.Expr = n.ident("a", VEC)
    binds = []
    app, mer = T.Appender(F64), T.Merger(F64, "+")
    for j in range(k):
        op, c = MAPS[j % len(MAPS)]
        x = n.ident("x", F64)
        body = n.merge(n.ident("b", app), n.binop(op, x, n.lit(c, F64)))
        loop = n.result(n.for_([cur], n.new_builder(app), n.lam([("b", app), ("i", T.I64), ("x", F64)], body)))
        if with_lets:
            name = f"v{j}"
            binds.append((name, loop))
            cur = n.ident(name, VEC)
        else:
            cur = loop
    total = n.result(
        n.for_(
            [cur],
            n.new_builder(mer),
            n.lam([("b", mer), ("i", T.I64), ("x", F64)], n.merge(n.ident("b", mer), n.ident("x", F64))),
        )
    )
    for name, value in reversed(binds):
        total = n.let(name, value, total)
    return lazyir.ir.typecheck(n.lam([("a", VEC)], total))


def numpy_chain(a: np.ndarray, k: int) -> float:
    x = a
    for j in range(k):
        op, c = MAPS[j % len(MAPS)]
        x = x * c if op == "*" else x + c if op == "+" else x - c
    return float(np.sum(x))


def run_fusion(size: int, repeats: int) -> dict:
    program = chain_program(10)
    fused = lazyir.compile(program)
    unfused = lazyir.compile(program, optimize=False)
    a = np.random.default_rng(0).standard_normal(size)
    want = numpy_chain(a, 10)
    assert np.isclose(fused(a), want, rtol=1e-9) and np.isclose(unfused(a), want, rtol=1e-9)
    dst = np.empty_like(a)
    t = timed(
        {
            "fused": lambda: fused(a),
            "unfused": lambda: unfused(a),
            "numpy": lambda: numpy_chain(a, 10),
            "copy": lambda: np.copyto(dst, a),
        },
        repeats,
    )
    return {
        "n": size,
        "loops_before": count_loops(program),
        "loops_after": count_loops(lazyir.optimize(program)),
        **{f"{k}_ms": v * 1e3 for k, v in t.items()},
        "fused_vs_unfused": t["unfused"] / t["fused"],
        "fused_vs_numpy": t["numpy"] / t["fused"],
        "of_copy_bandwidth": t["copy"] / t["fused"],
    }


def run_scaling(sizes: list[int]) -> list[dict]:
    from lazyir.optimizer.pipeline import optimize

    out = []
    for k in sizes:
        program = chain_program(k)
        t = time.perf_counter()
        optimized, report = optimize(program, lazyir.config.passes)
        seconds = time.perf_counter() - t
        out.append(
            {
                "ops": k,
                "ms": seconds * 1e3,
                "per_op_us": seconds / k * 1e6,
                "loops_before": count_loops(program),
                "loops_after": count_loops(optimized),
                "slowest": max(report.runs, key=lambda r: r.seconds).name,
            }
        )
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    fusion = run_fusion(20_000 if args.quick else 50_000_000, 2 if args.quick else 7)
    scaling = run_scaling([10, 100] if args.quick else [10, 100, 1_000, 10_000])
    print(
        f"10 maps + sum over {fusion['n']:,} f64 (one thread): loops {fusion['loops_before']} -> {fusion['loops_after']}"
    )
    print(
        f"  fused {fusion['fused_ms']:.1f} ms, unfused {fusion['unfused_ms']:.1f} ms ({fusion['fused_vs_unfused']:.1f}x), "
        f"NumPy {fusion['numpy_ms']:.1f} ms ({fusion['fused_vs_numpy']:.1f}x)"
    )
    print(
        f"  np.copyto reading the same bytes: {fusion['copy_ms']:.1f} ms -> fused loop at "
        f"{fusion['of_copy_bandwidth'] * 100:.0f}% of copy bandwidth"
    )
    print("\noptimizer time against program size (chain of k elementwise loops + sum)")
    for row in scaling:
        print(
            f"  {row['ops']:>6} ops: {row['ms']:9.1f} ms ({row['per_op_us']:.0f} us/op), loops "
            f"{row['loops_before']} -> {row['loops_after']}, slowest pass {row['slowest']}"
        )
    result = {"fusion": fusion, "scaling": scaling}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
