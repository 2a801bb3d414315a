"""1 vs 2 threads on kernels that are not bound by this machine's shared sqrt/divide unit.

    python benchmarks/threads.py [--size N] [--repeats R]

An integer hash mix (ALU-bound) and a streaming ``sum(a * 2.5 + 1.0)`` (memory-bound), each one
fused loop; median of interleaved repeats, so load on the shared machine hits both columns alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import lazyir
import lazyir.numpy as lnp


def hash_mix(x):
    for _ in range(4):
        x = (x * 2654435761) ^ (x >> 13)
    return lnp.sum(x & 1023)


def stream(x):
    return lnp.sum(x * 2.5 + 1.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=20_000_000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    cases = [
        ("integer hash mix, 4 rounds (i64)", hash_mix, rng.integers(0, 1 << 40, args.size)),
        ("sum(a * 2.5 + 1.0) (f64, memory-bound)", stream, rng.random(args.size)),
    ]
    print("| kernel | 1 thread ms | 2 threads ms | speedup |\n|---|---|---|---|")
    for name, kernel, data in cases:
        times: dict[int, list[float]] = {1: [], 2: []}
        for rep in range(args.repeats + 1):
            for threads in (1, 2):
                with lazyir.config.set(num_threads=threads, eager_threshold=0):
                    t = time.perf_counter()
                    lazyir.evaluate(kernel(lnp.asarray(data)))
                    if rep:  # the first round compiles
                        times[threads].append(time.perf_counter() - t)
        one, two = statistics.median(times[1]), statistics.median(times[2])
        print(f"| {name} | {one * 1e3:.1f} | {two * 1e3:.1f} | {one / two:.2f}x |")


if __name__ == "__main__":
    main()
