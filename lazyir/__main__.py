"""``python -m lazyir``: compile an IR program, run it against NumPy and say what happened."""

from __future__ import annotations

import sys
import time

import numpy as np

import lazyir

PROGRAM = """|a: vec[f64], b: vec[f64], c: vec[f64]|
  result(for(zip(a, b, c), merger[f64,+], |s, i, e|
    merge(s, sqrt(e.$0 * e.$0 + e.$1 * e.$1) * e.$2)))"""


def main(argv: list[str]) -> int:
    size = int(argv[0]) if argv else 10_000_000
    print("lazyir demo: sum(sqrt(a*a + b*b) * c) as one fused loop\n")
    print(PROGRAM, "\n")
    t = time.perf_counter()
    program = lazyir.parse(PROGRAM)
    parsed = time.perf_counter() - t
    fn = lazyir.compile(program)
    print(
        f"parsed and type-checked in {parsed * 1e3:.1f} ms; compiled ({fn.stats.source}) in "
        f"{fn.stats.times['total'] * 1e3:.1f} ms"
    )
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(size) for _ in range(3))
    t = time.perf_counter()
    got = fn(a, b, c)
    compiled = time.perf_counter() - t
    t = time.perf_counter()
    want = np.sum(np.sqrt(a * a + b * b) * c)
    eager = time.perf_counter() - t
    interp_n = min(size, 2_000)
    ref = lazyir.interpret(program, a[:interp_n], b[:interp_n], c[:interp_n])
    check = fn(a[:interp_n], b[:interp_n], c[:interp_n])
    print(
        f"n = {size:,}: compiled {got:.6f} in {compiled * 1e3:.1f} ms; NumPy {want:.6f} in {eager * 1e3:.1f} ms "
        f"({eager / compiled:.1f}x)"
    )
    print(f"reference interpreter on the first {interp_n:,}: {ref:.12f} (compiled: {check:.12f})")
    ok = np.isclose(got, want, rtol=1e-9) and np.isclose(ref, check, rtol=1e-12)
    print("results agree" if ok else "RESULTS DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
