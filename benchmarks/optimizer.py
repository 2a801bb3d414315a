"""Optimizer benchmark: what optimizing costs, and what fusion buys at run time.

    python benchmarks/optimizer.py [--quick] [--scaling] [--repeats N]

1. Optimizer time against program size: chains of 10, 100, 1,000 and 10,000 elementwise loops
   (median of several runs, each on a freshly built program; the time of each pass for the
   1,000-loop chain), and chains of loops that each zip the previous result with a second
   vector (what binary NumPy operators build).
2. A chain of 10 elementwise maps and a sum over 50M f64, compiled with and without the optimizer,
   against the streaming ceiling (``np.copyto`` reading the same bytes) and NumPy eager
   (``--scaling`` skips it).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
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


def _summed(cur: n.Expr, binds: list[tuple[str, n.Expr]], params: list[str]) -> n.Expr:
    """``|params: vec[f64]...| let binds...; sum(cur)``, type-checked."""
    mer = T.Merger(F64, "+")
    total = n.result(
        n.for_(
            [cur],
            n.new_builder(mer),
            n.lam([("q", mer), ("i", T.I64), ("x", F64)], n.merge(n.ident("q", mer), n.ident("x", F64))),
        )
    )
    for name, value in reversed(binds):
        total = n.let(name, value, total)
    return lazyir.ir.typecheck(n.lam([(p, VEC) for p in params], total))


def chain_program(k: int, with_lets: bool = True) -> n.Expr:
    """``sum(f_k(...f_1(a)))``: k elementwise loops, each materializing a vector, then a sum."""
    cur: n.Expr = n.ident("a", VEC)
    binds = []
    app = T.Appender(F64)
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
    return _summed(cur, binds, ["a"])


def zip_chain_program(k: int) -> n.Expr:
    """``sum(g_k(...g_1(a, b)..., b))``: k loops, each zipping the previous result with ``b``."""
    a, b = n.ident("a", VEC), n.ident("b", VEC)
    app = T.Appender(F64)
    pair = T.Struct((F64, F64))
    cur: n.Expr = a
    binds = []
    for j in range(k):
        op, c = MAPS[j % len(MAPS)]
        e = n.ident("e", pair)
        value = n.binop(op, n.binop("*", n.getfield(e, 0), n.getfield(e, 1)), n.lit(c, F64))
        body = n.merge(n.ident("q", app), value)
        loop = n.result(n.for_([cur, b], n.new_builder(app), n.lam([("q", app), ("i", T.I64), ("e", pair)], body)))
        binds.append((f"v{j}", loop))
        cur = n.ident(f"v{j}", VEC)
    return _summed(cur, binds, ["a", "b"])


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


def run_scaling(sizes: list[int], repeats: int = 1, make=chain_program) -> list[dict]:
    """Optimizer time for programs ``make(k)``: the median of ``repeats`` runs (fewer for 10,000
    loops and more), each on a freshly built program, and the median time of each pass."""
    from lazyir.optimizer.pipeline import optimize

    optimize(make(2), lazyir.config.passes)  # first-call costs (imports) are not the optimizer's
    out = []
    for k in sizes:
        runs = []
        for _ in range(repeats if k < 10_000 else max(1, (repeats + 1) // 2)):
            program = make(k)
            gc.collect()
            t = time.perf_counter()
            optimized, report = optimize(program, lazyir.config.passes)
            runs.append((time.perf_counter() - t, report))
        seconds = statistics.median(s for s, _ in runs)
        passes: dict[str, list[float]] = {}
        for _, report in runs:
            for j, r in enumerate(report.runs):
                passes.setdefault(f"{j}:{r.name}", []).append(r.seconds * 1e3)
        per_pass = {name: statistics.median(v) for name, v in passes.items()}
        out.append(
            {
                "ops": k,
                "ms": seconds * 1e3,
                "min_ms": min(s for s, _ in runs) * 1e3,
                "runs": len(runs),
                "per_op_us": seconds / k * 1e6,
                "loops_before": count_loops(program),
                "loops_after": count_loops(optimized),
                "slowest": max(per_pass, key=per_pass.__getitem__).split(":", 1)[1],
                "passes_ms": per_pass,
            }
        )
    return out


def _print_scaling(title: str, rows: list[dict], detail: int) -> None:
    print(f"\n{title}")
    for row in rows:
        print(
            f"  {row['ops']:>6} ops: {row['ms']:9.1f} ms ({row['per_op_us']:.0f} us/op; median of {row['runs']}, "
            f"min {row['min_ms']:.1f}), loops {row['loops_before']} -> {row['loops_after']}, slowest pass {row['slowest']}"
        )
        if row["ops"] == detail:
            passes = ", ".join(f"{name.split(':', 1)[1]} {ms:.1f}" for name, ms in row["passes_ms"].items())
            print(f"         per pass (ms): {passes}")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    ap.add_argument("--scaling", action="store_true", help="optimizer time only (no 50M-element run)")
    ap.add_argument("--repeats", type=int, default=5, help="optimizer runs per size (the median is shown)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    sizes = [10, 100] if args.quick else [10, 100, 1_000, 10_000]
    repeats = 1 if args.quick else args.repeats
    scaling = run_scaling(sizes, repeats)
    _print_scaling("optimizer time against program size (chain of k elementwise loops + sum)", scaling, 1_000)
    zips = run_scaling(sizes, repeats, zip_chain_program)
    _print_scaling("chain of k loops zipping the previous result with a second vector (binary operators)", zips, 1_000)
    result = {"scaling": scaling, "zip_scaling": zips}
    if not args.scaling:
        result["fusion"] = _fusion(args.quick)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


def _fusion(quick: bool) -> dict:
    fusion = run_fusion(20_000 if quick else 50_000_000, 2 if quick else 7)
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
    return fusion


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
