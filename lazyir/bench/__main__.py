"""The benchmark suite: ``python -m lazyir.bench [--quick] [--only NAME ...] [--out DIR]``.

Each workload (``lazyir.bench.workloads``) runs eager (NumPy), fused (``lazyir.numpy``, the same
code) and on the peers that are installed (numexpr, numba), one thread each; every result is
checked against the eager one before anything is timed. Times are medians of interleaved repeats
(the machine is shared), reported with the speedup over eager and the peak memory each run added
to the process (Linux: the peak RSS is reset before the run). Prints a table and writes
``bench.md`` and ``bench.png`` (when matplotlib is installed) to ``--out``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import lazyir
import lazyir.numpy as lnp

from .workloads import Workload, workloads


def _single_threaded() -> None:
    """One thread for every implementation: numexpr, numba, and NumPy's BLAS (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    try:
        import numexpr

        numexpr.set_num_threads(1)
    except ImportError:
        pass
    try:
        import numba

        numba.set_num_threads(1)
    except (ImportError, ValueError):
        pass


# --- memory ---------------------------------------------------------------------------------
def _proc_status(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _exact_rss() -> None:
    """Large blocks always mmapped (glibc otherwise raises its mmap threshold after the first
    large free and keeps freed memory in the heap, hiding later allocations from the RSS)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD: fixed, so no dynamic adjustment
    except (OSError, AttributeError):
        pass


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_added(fn: Callable[[], Any]) -> tuple[Any, int | None]:
    """Run ``fn``; the bytes its peak resident set exceeded the resident set before it."""
    gc.collect()
    ok = _reset_peak()
    before = _proc_status("VmRSS")
    out = fn()
    peak = _proc_status("VmHWM")
    if not ok or before is None or peak is None:
        return out, None
    return out, max(0, peak - before)


# --- runs -----------------------------------------------------------------------------------
def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _nbytes(values: tuple) -> int:
    return int(sum(np.asarray(v).nbytes for v in values))


def _agree(got: tuple, want: tuple, name: str) -> None:
    assert len(got) == len(want), name
    for g, w in zip(got, want, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{name}: shape {g.shape} vs {w.shape}"
        scale = float(np.max(np.abs(w))) if w.size else 0.0
        if not np.allclose(g, w, rtol=1e-7, atol=1e-9 * max(scale, 1.0), equal_nan=True):
            bad = np.argmax(~np.isclose(g, w, rtol=1e-7, atol=1e-9 * max(scale, 1.0), equal_nan=True))
            raise AssertionError(f"{name} disagrees with eager NumPy: {g.ravel()[bad]} vs {w.ravel()[bad]}")


def implementations(w: Workload, threads: int = 0, client: Any = None) -> dict[str, Callable[..., tuple]]:
    def fused(*xs: Any, **options: Any) -> tuple:
        with lazyir.config.set(**options):
            return _as_tuple(lazyir.evaluate(w.run(lnp, *[lnp.asarray(x) for x in xs])))

    impls: dict[str, Callable[..., tuple]] = {
        "numpy": lambda *xs: _as_tuple(w.run(np, *xs)),
        "lazyir": lambda *xs: fused(*xs),
    }
    if threads > 1:
        impls[f"lazyir {threads} threads"] = lambda *xs: fused(*xs, num_threads=threads)
    if client is not None:
        impls["lazyir dask"] = lambda *xs: fused(*xs, scheduler=client)
    for peer, factory in w.peers.items():
        try:
            impls[peer] = factory()
        except ImportError:
            continue
    return impls


def run_workload(w: Workload, size: int, repeats: int, seed: int = 0, threads: int = 0, client: Any = None) -> dict:
    rng = np.random.default_rng(seed)
    inputs = w.make(size, rng)
    impls = implementations(w, threads, client)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        results = {name: _as_tuple(fn(*inputs)) for name, fn in impls.items()}  # also compiles
        want = results["numpy"]
        for name, got in results.items():
            _agree(got, want, f"{w.name}/{name}")
        times: dict[str, list[float]] = {name: [] for name in impls}
        for _ in range(repeats):
            for name, fn in impls.items():
                t = time.perf_counter()
                fn(*inputs)
                times[name].append(time.perf_counter() - t)
        memory = {}
        for name, fn in impls.items():
            _, added = peak_added(lambda f=fn: f(*inputs))
            memory[name] = added
    med = {name: statistics.median(ts) for name, ts in times.items()}
    return {
        "name": w.name,
        "size": size,
        "note": w.note,
        "inputs_bytes": _nbytes(inputs),
        "outputs_bytes": _nbytes(want),
        "seconds": med,
        "speedup": {name: med["numpy"] / t for name, t in med.items()},
        "peak_added": memory,
        "loops": _loop_counts(w, inputs),
    }


def _loop_counts(w: Workload, inputs: tuple) -> str:
    lazy = _as_tuple(w.run(lnp, *[lnp.asarray(x) for x in inputs]))
    try:
        text = lazyir.explain(list(lazy))
    except TypeError:
        return "-"
    last = text.rstrip().splitlines()[-1]
    return last.replace("loops: ", "")


def dask_overhead(client: Any, size: int = 1000, repeats: int = 20) -> float:
    """Milliseconds per evaluation of a tiny program through Dask (median)."""
    a = lnp.asarray(np.random.default_rng(0).standard_normal(size))
    lazyir.evaluate(lnp.sum(a * 2.0), scheduler=client)  # compiled on the workers
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        lazyir.evaluate(lnp.sum(a * 2.0), scheduler=client)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def overhead(size: int = 1000, number: int = 2000) -> tuple[float, float]:
    """Microseconds per ``lazyir.evaluate(a + b)`` on small arrays (the eager small-input path,
    the default configuration) and per NumPy's ``a + b``: best of 5 timeit runs."""
    import timeit

    x = np.random.default_rng(0).standard_normal(size)
    a, b = lnp.asarray(x), lnp.asarray(x)
    lazy = min(timeit.repeat(lambda: lazyir.evaluate(a + b), number=number, repeat=5)) / number
    eager = min(timeit.repeat(lambda: x + x, number=number, repeat=5)) / number
    return lazy * 1e6, eager * 1e6


# --- report ---------------------------------------------------------------------------------
def _mb(x: int | None) -> str:
    return "-" if x is None else f"{x / 2**20:.0f}"


def table(rows: list[dict]) -> str:
    peers = sorted({p for r in rows for p in r["seconds"]} - {"numpy", "lazyir"})
    head = ["workload", "size", "numpy s", "lazyir s", "speedup"] + [f"{p} s (x)" for p in peers]
    head += ["in+out MB", "numpy +MB", "lazyir +MB", "loops"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        s, x, mem = r["seconds"], r["speedup"], r["peak_added"]
        cells = [r["name"], f"{r['size']:,}", f"{s['numpy']:.4f}", f"{s['lazyir']:.4f}", f"{x['lazyir']:.2f}x"]
        cells += [f"{s[p]:.4f} ({x[p]:.2f}x)" if p in s else "-" for p in peers]
        cells += [
            _mb(r["inputs_bytes"] + r["outputs_bytes"]),
            _mb(mem.get("numpy")),
            _mb(mem.get("lazyir")),
            r["loops"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    impls = sorted({p for r in rows for p in r["speedup"]}, key=lambda p: (p != "numpy", p != "lazyir", p))
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(impls)
    for j, impl in enumerate(impls):
        xs = [i + j * width for i in range(len(rows))]
        ax.bar(xs, [r["speedup"].get(impl, 0.0) for r in rows], width, label=impl)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], [r["name"] for r in rows], rotation=20)
    ax.set_ylabel("speedup over NumPy (1 thread)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lazyir.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (a smoke test)")
    ap.add_argument("--only", nargs="*", help="workload names")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--out", default=".", help="directory for bench.md and bench.png")
    ap.add_argument("--threads", type=int, default=2, help="also run lazyir on this many threads (<2: no)")
    ap.add_argument("--dask", action="store_true", help="also run lazyir on a 2-worker Dask LocalCluster")
    args = ap.parse_args(argv)
    _single_threaded()
    _exact_rss()
    chosen = [w for w in workloads() if not args.only or w.name in args.only]
    repeats = args.repeats or (1 if args.quick else 5)
    rows = []
    cluster = client = None
    if args.dask:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        # the compiled path, even at --quick sizes; one thread unless a column says otherwise
        with lazyir.config.set(eager_threshold=0, num_threads=1, progress=False):
            for w in chosen:
                size = w.quick if args.quick else w.size
                print(f"running {w.name} (size {size:,}) ...", file=sys.stderr, flush=True)
                rows.append(run_workload(w, size, repeats, threads=args.threads, client=client))
            dask_ms = dask_overhead(client) if client is not None else None
    finally:
        if client is not None:
            client.close()
            cluster.close()
    lazy_us, numpy_us = overhead(number=200 if args.quick else 2000)
    text = table(rows) + (
        f"\n\nPer-evaluate overhead on small inputs: `lazyir.evaluate(a + b)` on 1,000 f64 takes "
        f"{lazy_us:.1f} us, NumPy's `a + b` {numpy_us:.1f} us (+{lazy_us - numpy_us:.1f} us)."
    )
    if dask_ms is not None:
        text += f" Dask overhead per evaluation (a sum of 1,000 f64 as Dask tasks): {dask_ms:.1f} ms."
    if args.threads > 1:
        text += (
            f" `lazyir {args.threads} threads`: top-level loops split across threads. This machine's two"
            " cores are SMT siblings sharing one sqrt/divide unit: sqrt- and divide-bound kernels"
            " (Black-Scholes, Haversine, n-body, the fused sum's sqrt) gain little from a second thread."
        )
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = (
        f"# lazyir benchmark suite\n\n`python -m lazyir.bench{' --quick' if args.quick else ''}` on "
        f"{os.cpu_count()} cores, one thread per implementation; median of {repeats} interleaved runs. "
        "`+MB`: peak resident memory the run added beyond its inputs. `loops`: passes over memory "
        "before and after lazyir's optimizer.\n\n"
    )
    (out / "bench.md").write_text(header + text + "\n")
    if plot(rows, out / "bench.png"):
        print(f"wrote {out / 'bench.md'} and {out / 'bench.png'}", file=sys.stderr)
    else:
        print(f"wrote {out / 'bench.md'} (no matplotlib: no plot)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
