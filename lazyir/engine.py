"""Wires the stages: text -> IR (parse, type check) -> optimizer -> backend.

The one module that imports from every layer; frontends call it, never the backend directly.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from .config import config
from .ir import Expr, parse, typecheck


@lru_cache(maxsize=1024)
def _parse_text(text: str) -> Expr:
    return parse(text)


def as_program(program: Expr | str) -> Expr:
    """A type-checked root lambda from IR text or an ``Expr``."""
    if isinstance(program, str):
        return _parse_text(program)
    if not isinstance(program, Expr):
        raise TypeError(f"expected IR text or a lazyir Expr, got {type(program).__name__}")
    if program.ty is None:
        typed = _typed.get(program)  # nodes are interned: a program built again is the same key
        if typed is None:
            if len(_typed) > 4096:
                _typed.clear()
            typed = _typed[program] = typecheck(program)
        return typed
    return program


_typed: dict[Expr, Expr] = {}


def optimize(program: Expr | str, passes: list[str] | tuple[str, ...] | None = None) -> Expr:
    """The optimized program (``passes`` by name; default ``lazyir.config.passes``)."""
    return _optimize(as_program(program), passes)[0]


_optimized: dict[tuple[Expr, tuple[str, ...]], tuple[Expr, Any]] = {}


def _optimize(program: Expr, passes: list[str] | tuple[str, ...] | None = None) -> tuple[Expr, Any]:
    from .optimizer.pipeline import optimize as run_passes

    opts = config.options
    names = tuple(opts.passes if passes is None else passes)
    key = (program, names)
    hit = _optimized.get(key)
    if hit is not None and not opts.debug:
        return hit
    trace = None
    if opts.debug >= 2:

        def trace(name: str, p: Expr) -> None:
            print(f"--- after {name} ---\n{p}", flush=True)

    out = run_passes(program, names, verify=opts.debug >= 1, trace=trace)
    if len(_optimized) > 4096:
        _optimized.clear()
    _optimized[key] = out
    return out


def explain(program: Expr | str, passes: list[str] | tuple[str, ...] | None = None) -> str:
    """The program before and after optimization, the passes that changed it with their times,
    and the number of loops (passes over memory) before and after."""
    prog = as_program(program)
    _, report = _optimize(prog, passes)
    lines = ["== program ==", str(report.before), "", "== passes =="]
    for run in report.runs:
        mark = "changed" if run.changed else "-"
        lines.append(f"  {run.name:<16} {run.seconds * 1e3:8.2f} ms  {mark}")
    lines += [
        f"  {'total':<16} {report.seconds * 1e3:8.2f} ms",
        "",
        "== optimized ==",
        str(report.after),
        "",
        f"loops: {report.loops_before} before, {report.loops_after} after",
    ]
    return "\n".join(lines)


def compile(program: Expr | str, *, cache: bool = True, keep_ir: bool = False, optimize: bool | None = None) -> Any:  # noqa: A001
    """Compile ``program`` to a callable ``CompiledProgram``; optimized first unless
    ``optimize=False`` (default ``lazyir.config.optimize``).

    ``cache=False`` skips the on-disk object cache (the in-memory cache always applies);
    ``keep_ir=True`` keeps the optimized LLVM IR text on the result as ``.llvm_ir``.
    """
    from .backend.compiler import compile_typed

    opts = config.options
    prog = as_program(program)
    run_optimizer = opts.optimize if optimize is None else optimize
    compiled = compile_typed(
        prog,
        cache_dir=opts.cache_dir if (cache and opts.disk_cache) else None,
        vector_math=opts.vector_math,
        keep_ir=keep_ir,
        prepare=(lambda p: _optimize(p)[0]) if run_optimizer else None,
        prepare_key=(",".join(opts.passes) if run_optimizer else "none") + "|" + code_fingerprint(),
    )
    key = (compiled, run_optimizer)
    wrapped = _programs.get(key)
    if wrapped is None:  # setdefault: threads compiling at once all get the one wrapper
        wrapped = _programs.setdefault(key, Program(compiled, prog, run_optimizer))
    return wrapped


_programs: dict[tuple[Any, bool], Program] = {}
_NO_PLAN = object()


class Program:
    """A compiled program (``CompiledProgram``'s attributes: ``stats``, ``llvm_ir``...). Called
    with several threads (``config.num_threads``) on inputs of at least two chunks
    (``config.min_chunk``), its top-level loops are split across the threads
    (``lazyir.dist.threads``); otherwise it runs as one compiled function."""

    def __init__(self, compiled: Any, program: Expr, optimized: bool):
        self._compiled = compiled
        self._program = program
        self._optimized = optimized
        self._plan: Any = _NO_PLAN

    def __getattr__(self, name: str) -> Any:
        return getattr(self._compiled, name)

    def __repr__(self) -> str:
        return repr(self._compiled)

    def __call__(self, *args: Any) -> Any:
        opts = config.options
        scheduler = opts.scheduler
        if scheduler == "sync":
            return self._compiled(*args)
        if scheduler == "threads":
            if opts.num_threads <= 1 or not _large(args, 2 * opts.min_chunk):
                return self._compiled(*args)
            return self.run_partitioned(args, opts.num_threads, opts.min_chunk)
        from .dist import dask

        if not dask.is_client(scheduler):
            raise ValueError(f"scheduler must be 'threads', 'sync' or a distributed.Client, not {scheduler!r}")
        values = dask.arguments(self._program, args, scheduler)
        plan = self.plan()
        if plan is None or not plan.loops:
            return self._compiled(*dask.local(values))
        return dask.run(plan, values, _compile_stage, scheduler, dask.workers(scheduler))

    def plan(self) -> Any:
        """How the program splits into statements and chunked loops (``None``: it does not)."""
        if self._plan is _NO_PLAN:
            from .dist.partition import plan

            prog = _optimize(self._program)[0] if self._optimized else self._program
            self._plan = plan(prog)
        return self._plan

    def run_partitioned(self, args: tuple, threads: int, min_chunk: int, chunking: Any = None) -> Any:
        """Run statement by statement, each partitionable loop in chunks on ``threads`` threads
        (``chunking(count)`` may give the chunk bounds instead: tests)."""
        from .dist import threads as pool

        return self._split(
            args, lambda plan, values: pool.run(plan, values, _compile_stage, threads, min_chunk, chunking)
        )

    def _split(self, args: tuple, run: Any) -> Any:
        """``run(plan, checked args)`` when the program has loops to split; else one call."""
        from .ir.values import check_args

        plan = self.plan()
        if plan is None or not plan.loops:
            return self._compiled(*args)
        return run(plan, check_args(self._program, args))


def _compile_stage(program: Expr) -> Any:
    return compile(program, optimize=False)._compiled


def _large(args: tuple, limit: int) -> bool:
    for a in args:
        size = getattr(a, "size", None)
        if size is None and isinstance(a, list | tuple):
            size = len(a)
        if size is not None and size >= limit:
            return True
    return False


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of lazyir's own IR, optimizer and backend sources: part of every disk-cache key, so
    object code cached by another version of lazyir is never reused."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in (
        sorted(root.glob("*.py"))
        + sorted(root.glob("ir/**/*.py"))
        + sorted(root.glob("optimizer/**/*.py"))
        + sorted(root.glob("backend/**/*.py"))
    ):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
