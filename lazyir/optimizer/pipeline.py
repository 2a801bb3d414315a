"""The optimizer pipeline: named passes run in order, each timed, optionally verified.

A pass is a function from a typed program (a root lambda) to an equivalent typed program,
registered under a name with ``@register("name")``. Passes live one per module in this package.
The default order is data (``lazyir.config.passes``, which the engine hands in); the optimizer
itself knows only the IR.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import LazyIRError
from ..ir import deep
from ..ir import nodes as n
from ..ir.analysis import count_loops
from ..ir.typecheck import typecheck

PassFn = Callable[[n.Expr], n.Expr]

#: name -> (function, one-line description)
PASSES: dict[str, tuple[PassFn, str]] = {}


def register(name: str) -> Callable[[PassFn], PassFn]:
    """Decorator: make ``fn`` the pass called ``name`` (its docstring's first line describes it)."""

    def add(fn: PassFn) -> PassFn:
        doc = (fn.__doc__ or "").strip().splitlines()
        PASSES[name] = (fn, doc[0] if doc else name)
        return fn

    return add


@dataclass
class PassRun:
    name: str
    seconds: float
    changed: bool


@dataclass
class Report:
    """What ``optimize`` did: the passes run in order, and loop counts before and after."""

    before: n.Expr
    after: n.Expr
    runs: list[PassRun] = field(default_factory=list)

    @property
    def loops_before(self) -> int:
        return count_loops(self.before)

    @property
    def loops_after(self) -> int:
        return count_loops(self.after)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.runs)


class PassError(LazyIRError):
    """A pass produced an ill-typed program (a bug in lazyir: please report it)."""


def _load_passes() -> None:
    # Importing the pass modules registers them.
    from . import passes  # noqa: F401


def optimize(
    program: n.Expr, passes: Sequence[str], verify: bool = False, trace: Callable[[str, n.Expr], None] | None = None
) -> tuple[n.Expr, Report]:
    """Run ``passes`` in order over a typed program; with ``verify``, type-check the whole program
    after every pass and raise ``PassError`` naming the pass that broke it; ``trace(name, program)``
    is called after each pass (debug dumps)."""
    # IR nodes form no reference cycles; the cyclic collector's full sweeps over the many live
    # nodes of a large program would make the passes superlinear, so it pauses meanwhile.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        run = _Run(program, tuple(passes), verify, trace)
        # The passes run on the caller's stack while it is deep enough (most programs are
        # shallow: no thread to start). A pass that runs out of it is retried with room for deep
        # recursion (``run_deep``); the program is then deep, and the passes left run in one thread
        # with that room.
        retried = deep.retries()
        while not run.done():
            run.step()
            if deep.retries() != retried:
                deep.in_deep_thread(run.finish)
        return run.current, run.report
    finally:
        if was_enabled:
            gc.enable()


class _Run:
    """The passes of one ``optimize`` call, run one at a time."""

    def __init__(
        self, program: n.Expr, passes: tuple[str, ...], verify: bool, trace: Callable[[str, n.Expr], None] | None
    ):
        _load_passes()
        unknown = [p for p in passes if p not in PASSES]
        if unknown:
            raise ValueError(f"unknown optimizer pass(es) {unknown}; known: {sorted(PASSES)}")
        self.passes, self.verify, self.trace = passes, verify, trace
        self.report = Report(before=program, after=program)
        self.current = program

    def done(self) -> bool:
        return len(self.report.runs) == len(self.passes)

    def step(self) -> None:
        """Run the next pass."""
        name = self.passes[len(self.report.runs)]
        fn, _ = PASSES[name]
        t = time.perf_counter()
        out = fn(self.current)
        seconds = time.perf_counter() - t
        if self.verify:
            try:
                checked = typecheck(out)
            except Exception as exc:
                raise PassError(f"pass {name!r} produced an ill-typed program: {exc}\n{out}") from exc
            if checked is not out:
                raise PassError(f"pass {name!r} produced nodes with wrong types:\n{out}")
        self.report.runs.append(PassRun(name, seconds, out is not self.current))
        self.current = self.report.after = out
        if self.trace is not None:
            self.trace(name, out)

    def finish(self) -> None:
        """Run the passes left."""
        while not self.done():
            self.step()


def describe() -> dict[str, str]:
    """Every registered pass with its one-line description."""
    _load_passes()
    return {name: doc for name, (_, doc) in sorted(PASSES.items())}
