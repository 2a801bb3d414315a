"""A program's statements run in order, each partitionable loop split across a pool of threads.

Compiled code is called through ctypes, which releases the GIL for the call, so the chunks of one
loop run at once; their partial results are merged in chunk order (``partition.merge``). The pool
is created on first use and grown when more threads are asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..ir import nodes as n
from . import partition as P

Compile = Callable[[n.Expr], Callable[..., Any]]
Chunking = Callable[[int], Sequence[tuple[int, int]]]

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def pool(threads: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < threads:
            old = _pool
            _pool, _pool_size = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lazyir"), threads
            if old is not None:
                old.shutdown(wait=False)
        return _pool


LoopRunner = Callable[[P.Loop, dict[str, Any]], Any]


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

    def loop_runner(loop: P.Loop, env: dict[str, Any]) -> Any:
        return _run_loop(loop, env, compile_fn, threads, min_chunk, chunking)

    return run_statements(plan, args, compile_fn, loop_runner)


def run_statements(plan: P.Plan, args: Sequence[Any], compile_fn: Compile, loop_runner: LoopRunner) -> Any:
    """Statements in order: loops through ``loop_runner``, the rest compiled whole, here."""
    env: dict[str, Any] = dict(zip(plan.params, args, strict=True))
    results = []
    for st in plan.statements:
        if st.loop is None:
            assert st.program is not None
            value = compile_fn(st.program)(*[env[f] for f in st.free])
        else:
            value = loop_runner(st.loop, env)
        if st.name is not None:
            env[st.name] = value
        else:
            results.append(value)
    return tuple(results) if plan.fields else results[0]


def _run_loop(
    loop: P.Loop,
    env: dict[str, Any],
    compile_fn: Compile,
    threads: int,
    min_chunk: int,
    chunking: Chunking | None,
) -> Any:
    count, shapes = P.iteration_count(loop, env)
    bounds = list(chunking(count)) if chunking is not None else P.chunks(count, threads, min_chunk)
    kernel = compile_fn(loop.kernel)
    calls = [P.chunk_args(loop, env, shapes, lo, hi) for lo, hi in bounds]
    if len(calls) == 1:
        partials = [kernel(*calls[0])]
    else:
        partials = list(pool(max(threads, 1)).map(lambda a: kernel(*a), calls))  # raises in chunk order
    return P.merge(loop, partials, env)
