"""A program's statements run in order, each partitionable loop split across a pool of threads.

Compiled code is called through ctypes, which releases the GIL for the call, so the chunks of one
loop run at once; their partial results are merged in chunk order (``partition.merge``). The pool
is created on first use and grown when more threads are asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..config import config
from ..ir import nodes as n
from . import partition as P

Compile = Callable[[n.Expr], Callable[..., Any]]
Chunking = Callable[[int], Sequence[tuple[int, int]]]

_pools: dict[str, tuple[ThreadPoolExecutor, int]] = {}
_pool_lock = threading.Lock()


def _grown(kind: str, threads: int) -> ThreadPoolExecutor:
    """The process's pool ``kind`` with at least ``threads`` workers (replaced when too small)."""
    with _pool_lock:
        current = _pools.get(kind)
        if current is None or current[1] < threads:
            _pools[kind] = (ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"lazyir-{kind}"), threads)
            if current is not None:
                current[0].shutdown(wait=False)
        return _pools[kind][0]


def pool(threads: int) -> ThreadPoolExecutor:
    """The pool that runs chunks."""
    return _grown("chunks", threads)


def statement_pool(threads: int) -> ThreadPoolExecutor:
    """The pool that runs statements (apart from the chunk pool: a statement waits for its chunks)."""
    return _grown("statements", threads)


LoopRunner = Callable[[P.Loop, dict[str, Any]], Any]

#: Seconds an evaluation runs before its progress bar shows.
PROGRESS_DELAY = 2.0


class Progress:
    """Chunks done out of chunks started, as a tqdm bar that appears only when the evaluation
    takes longer than ``PROGRESS_DELAY`` (and ``config.progress`` is on, and tqdm is there)."""

    def __init__(self, enabled: bool):
        self.bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # pragma: no cover - tqdm is a dependency
                return
            self.bar = tqdm(total=0, unit="chunk", desc="lazyir", delay=PROGRESS_DELAY, leave=False)
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        if self.bar is not None:
            with self.lock:
                self.bar.total += n  # shown at the next update (a refresh now would ignore the delay)

    def done(self, *_: Any) -> None:
        if self.bar is not None:
            with self.lock:
                self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(
    plan: P.Plan,
    args: Sequence[Any],
    compile_fn: Compile,
    threads: int,
    min_chunk: int,
    chunking: Chunking | None = None,
) -> Any:
    """The program's result: statements in order, loops in chunks (``chunking(count)`` gives the
    chunk bounds when set; otherwise up to ``threads`` chunks of at least ``min_chunk``)."""

    progress = Progress(config.options.progress)

    def loop_runner(loop: P.Loop, env: dict[str, Any]) -> Any:
        return _run_loop(loop, env, compile_fn, threads, min_chunk, chunking, progress)

    try:
        return run_statements(plan, args, compile_fn, loop_runner, concurrent=threads)
    finally:
        progress.close()


def run_statements(
    plan: P.Plan, args: Sequence[Any], compile_fn: Compile, loop_runner: LoopRunner, concurrent: int = 1
) -> Any:
    """The statements: loops through ``loop_runner``, the rest compiled whole. With
    ``concurrent`` > 1, a statement starts as soon as the statements it reads are done, so
    independent loops run at the same time (a small dependency scheduler); else in order."""
    env: dict[str, Any] = dict(zip(plan.params, args, strict=True))

    def compute(st: P.Statement, inputs: dict[str, Any]) -> Any:
        if st.loop is None:
            assert st.program is not None
            return compile_fn(st.program)(*[inputs[f] for f in st.free])
        return loop_runner(st.loop, inputs)

    if concurrent <= 1 or len(plan.statements) < 2:
        results = []
        for st in plan.statements:
            value = compute(st, env)
            if st.name is not None:
                env[st.name] = value
            else:
                results.append(value)
        return tuple(results) if plan.fields else results[0]
    futures: dict[str, Future] = {}

    def task(st: P.Statement, deps: list[str]) -> Any:
        # submitted in statement order to a FIFO pool: what this waits for has already started
        inputs = dict(env)
        for d in deps:
            inputs[d] = futures[d].result()
        return compute(st, inputs)

    scheduler = statement_pool(concurrent)
    pending = []
    for st in plan.statements:
        fut = scheduler.submit(task, st, [f for f in st.free if f in futures])
        if st.name is not None:
            futures[st.name] = fut
        else:
            pending.append(fut)
    results = [f.result() for f in pending]
    return tuple(results) if plan.fields else results[0]


def _run_loop(
    loop: P.Loop,
    env: dict[str, Any],
    compile_fn: Compile,
    threads: int,
    min_chunk: int,
    chunking: Chunking | None,
    progress: Progress | None = None,
) -> Any:
    count, shapes = P.iteration_count(loop, env)
    bounds = list(chunking(count)) if chunking is not None else P.chunks(count, threads, min_chunk)
    kernel = compile_fn(loop.kernel)
    calls = [P.chunk_args(loop, env, shapes, lo, hi) for lo, hi in bounds]
    if len(calls) == 1:
        partials = [kernel(*calls[0])]
    else:
        futures = [pool(max(threads, 1)).submit(kernel, *a) for a in calls]
        if progress is not None:
            progress.add(len(futures))
            for f in futures:
                f.add_done_callback(progress.done)
        partials = [f.result() for f in futures]  # raises in chunk order
    return P.merge(loop, partials, env)
