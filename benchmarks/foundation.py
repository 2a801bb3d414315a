"""Foundation benchmark: compile times and the speed of compiled loops against NumPy.

    python benchmarks/foundation.py [--quick]

Prints, from one run: compile time of a one-loop program and of Black-Scholes (cold in a fresh
process, disk-cache hit in a second process, memory hit), and the run time of the fused
``sum(sqrt(a*a + b*b) * c)`` over 50M f64 and Black-Scholes over 10M options, compiled against
NumPy eager, with the streaming ceiling (``np.copyto`` over the same bytes). Timings are medians of
interleaved repeats, reported as ratios too, because the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import timed  # noqa: E402
from programs import BLACK_SCHOLES, FUSED_SUM, ONE_LOOP  # noqa: E402

from lazyir.bench.workloads import black_scholes, black_scholes_inputs, fused_sum  # noqa: E402


def fused_sum_numpy(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    return float(fused_sum(np, a, b, c)[0])


def black_scholes_numpy(*inputs: np.ndarray) -> tuple:
    return black_scholes(np, *inputs)


_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import lazyir
from lazyir.backend.jit import target
import lazyir.backend.compiler, lazyir.backend.codegen, lazyir.backend.hashtable, lazyir.backend.sort
import lazyir.optimizer.passes, lazyir.engine
lazyir.engine.code_fingerprint()
target()
t1 = time.perf_counter()
out = {"startup": t1 - t0}
for name, text in json.loads(sys.argv[1]).items():
    program = lazyir.parse(text)
    t = time.perf_counter()
    fn = lazyir.compile(program)
    first = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(100):
        lazyir.compile(program)
    again = (time.perf_counter() - t) / 100
    out[name] = {"source": fn.stats.source, "first": first, "memory": again, "stages": fn.stats.times}
print(json.dumps(out))
"""


def compile_times(programs: dict[str, str], repeats: int) -> dict:
    """Cold (empty cache dir) and disk-hit compile times, each in a fresh process."""
    cold: dict[str, list] = {k: [] for k in programs}
    stages: dict[str, list] = {k: [] for k in programs}  # the cold compiles' stage times
    disk: dict[str, list] = {k: [] for k in programs}
    memory: dict[str, list] = {k: [] for k in programs}
    startup = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, LAZYIR_CACHE_DIR=tmp)
            for label, store in (("cold", cold), ("disk", disk)):
                res = subprocess.run(
                    [sys.executable, "-c", _CHILD, json.dumps(programs)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                data = json.loads(res.stdout)
                startup.append(data["startup"])
                for name in programs:
                    assert data[name]["source"] == label, (label, data[name])
                    store[name].append(data[name]["first"])
                    memory[name].append(data[name]["memory"])
                    if label == "cold":
                        stages[name].append(data[name]["stages"])
    med = statistics.median
    return {
        "startup_ms": med(startup) * 1e3,
        **{
            name: {
                "cold_ms": med(cold[name]) * 1e3,
                "disk_ms": med(disk[name]) * 1e3,
                "memory_us": med(memory[name]) * 1e6,
                "cold_stages_ms": {k: med(t[k] for t in stages[name]) * 1e3 for k in stages[name][0]},
            }
            for name in programs
        },
    }


def run_times(n_sum: int, n_bs: int, repeats: int) -> dict:
    import lazyir

    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(n_sum) for _ in range(3))
    fused = lazyir.compile(FUSED_SUM)
    assert np.isclose(fused(a, b, c), fused_sum_numpy(a, b, c), rtol=1e-9)
    src = np.concatenate([a, b, c])
    dst = np.empty_like(src)
    t_sum = timed(
        {
            "compiled": lambda: fused(a, b, c),
            "numpy": lambda: fused_sum_numpy(a, b, c),
            "copy": lambda: np.copyto(dst, src),
        },
        repeats,
    )
    inputs = black_scholes_inputs(n_bs, np.random.default_rng(0))
    bs = lazyir.compile(BLACK_SCHOLES)
    call, put = bs(*inputs)
    ref_call, ref_put = black_scholes_numpy(*inputs)
    assert np.allclose(call, ref_call, rtol=1e-10, atol=1e-10) and np.allclose(put, ref_put, rtol=1e-10, atol=1e-10)
    t_bs = timed({"compiled": lambda: bs(*inputs), "numpy": lambda: black_scholes_numpy(*inputs)}, repeats)
    bytes_read = 3 * 8 * n_sum
    return {
        "sum": {
            "n": n_sum,
            "compiled_ms": t_sum["compiled"] * 1e3,
            "numpy_ms": t_sum["numpy"] * 1e3,
            "speedup": t_sum["numpy"] / t_sum["compiled"],
            "read_GBps": bytes_read / t_sum["compiled"] / 1e9,
            "copy_read_GBps": bytes_read / t_sum["copy"] / 1e9,
            "of_copy": t_sum["copy"] / t_sum["compiled"],
        },
        "black_scholes": {
            "n": n_bs,
            "compiled_ms": t_bs["compiled"] * 1e3,
            "numpy_ms": t_bs["numpy"] * 1e3,
            "speedup": t_bs["numpy"] / t_bs["compiled"],
        },
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes and few repeats (smoke test)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    quick = args.quick
    programs = {"one_loop": ONE_LOOP, "black_scholes": BLACK_SCHOLES}
    comp = compile_times(programs, repeats=1 if quick else 5)
    runs = run_times(20_000 if quick else 50_000_000, 10_000 if quick else 10_000_000, 2 if quick else 7)
    print("compile time (median of fresh processes)")
    print(f"  process start-up incl. imports and LLVM target: {comp['startup_ms']:.0f} ms")
    print(f"  {'program':<16}{'cold':>10}{'disk hit':>12}{'memory hit':>14}")
    for name in programs:
        c = comp[name]
        print(f"  {name:<16}{c['cold_ms']:>8.1f}ms{c['disk_ms']:>10.2f}ms{c['memory_us']:>12.1f}us")
    for name in programs:
        parts = ", ".join(f"{k} {v:.1f}" for k, v in comp[name]["cold_stages_ms"].items() if k != "total")
        print(f"  {name} cold, by stage (ms): {parts}")
    s, bs = runs["sum"], runs["black_scholes"]
    print(f"\nsum(sqrt(a*a+b*b)*c), n={s['n']:,} f64 (one thread)")
    print(f"  compiled {s['compiled_ms']:.1f} ms, NumPy {s['numpy_ms']:.1f} ms: {s['speedup']:.1f}x")
    print(
        f"  reads {s['read_GBps']:.1f} GB/s; np.copyto over the same bytes reads {s['copy_read_GBps']:.1f} GB/s "
        f"-> {s['of_copy'] * 100:.0f}% of copy bandwidth"
    )
    print(f"\nBlack-Scholes, n={bs['n']:,} options (one thread)")
    print(f"  compiled {bs['compiled_ms']:.1f} ms, NumPy+SciPy erf {bs['numpy_ms']:.1f} ms: {bs['speedup']:.1f}x")
    result = {"compile": comp, "run": runs}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
