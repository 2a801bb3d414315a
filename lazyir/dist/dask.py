"""Partitioned loops on a Dask distributed cluster (``lazyir.evaluate(..., scheduler=client)``).

Each partitionable loop (``partition.plan``) becomes one Dask task per partition. A task carries
the chunk kernel as IR text and the partition's arguments: the vectors the loop only iterates are
cut to the partition's part before they are sent, the vectors it looks up in are scattered once
(broadcast) and shared by its tasks. A worker compiles a kernel once per process (lazyir's
compile cache, keyed by the program's structure; the on-disk object cache makes later processes on
the same machine faster still) and runs it. Partial results are combined pairwise on the workers,
a tree of ``combine_partials`` tasks, and the client applies the builders' initial values.

Tasks are pure, so a worker lost while running one costs time, not correctness: Dask reruns the
task elsewhere. Statements that are not partitionable loops run on the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import partition as P
from ..config import config
from .threads import Compile, Progress, run_statements


def _run_chunk(kernel_text: str, args: list[Any]) -> Any:
    """On a worker: compile (once per process) and run one partition's kernel."""
    from ..engine import compile as compile_program

    return compile_program(kernel_text, optimize=False)(*args)


def _combine(leaves: list[P.Leaf], builder_ty: Any, *parts: Any) -> Any:
    return P.combine_partials(leaves, builder_ty, list(parts))


def run(plan: P.Plan, args: Sequence[Any], compile_fn: Compile, client: Any, partitions: int) -> Any:
    """The program's result, its partitionable loops split into ``partitions`` Dask tasks."""

    progress = Progress(config.options.progress)

    def loop_runner(loop: P.Loop, env: dict[str, Any]) -> Any:
        return _run_loop(loop, env, client, partitions, progress)

    try:
        return run_statements(plan, args, compile_fn, loop_runner)
    finally:
        progress.close()


def _run_loop(loop: P.Loop, env: dict[str, Any], client: Any, partitions: int, progress: Progress) -> Any:
    count, shapes = P.iteration_count(loop, env)
    bounds = P.chunks(count, partitions, 1)
    text = str(loop.kernel)
    shared = {nm: client.scatter(env[nm], broadcast=True, hash=False) for nm in loop.free if nm not in loop.sliceable}
    futures = []
    for lo, hi in bounds:
        args = P.chunk_args(loop, env, shapes, lo, hi, slice_vectors=True)
        for k, nm in enumerate(loop.free):  # the looked-up vectors: the scattered copies
            if nm in shared:
                args[k] = shared[nm]
            elif getattr(args[k], "size", 0) > 1:  # the partition's part: sent as data, not in the graph
                args[k] = client.scatter(args[k], hash=False)
        futures.append(client.submit(_run_chunk, text, args, pure=False))
    progress.add(len(futures))
    for f in futures:
        f.add_done_callback(progress.done)
    while len(futures) > 1:  # combine neighbours, a tree
        pairs = [futures[k : k + 2] for k in range(0, len(futures), 2)]
        futures = [
            client.submit(_combine, loop.leaves, loop.builder_ty, *pair, pure=False) if len(pair) == 2 else pair[0]
            for pair in pairs
        ]
    partial = futures[0].result()
    return P.finish(loop, partial, env)


def is_client(scheduler: Any) -> bool:
    return type(scheduler).__name__ == "Client" and hasattr(scheduler, "submit")


def workers(client: Any) -> int:
    """Partitions for a client: two per worker thread, so a slow or lost worker delays less."""
    info = client.scheduler_info()
    threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
    return max(1, 2 * threads)

