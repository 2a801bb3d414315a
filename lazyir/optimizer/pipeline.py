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
from ..ir import nodes as n
from ..ir.analysis import count_loops
from ..ir.deep import in_deep_thread
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
        return in_deep_thread(_optimize, program, tuple(passes), verify, trace)
    finally:
        if was_enabled:
            gc.enable()


def _optimize(
    program: n.Expr, passes: tuple[str, ...], verify: bool, trace: Callable[[str, n.Expr], None] | None
) -> tuple[n.Expr, Report]:
    _load_passes()
    names = passes
    unknown = [p for p in names if p not in PASSES]
    if unknown:
        raise ValueError(f"unknown optimizer pass(es) {unknown}; known: {sorted(PASSES)}")
    report = Report(before=program, after=program)
    current = program
    for name in names:
        fn, _ = PASSES[name]
        t = time.perf_counter()
        out = fn(current)
        seconds = time.perf_counter() - t
        if verify:
            try:
                checked = typecheck(out)
            except Exception as exc:
                raise PassError(f"pass {name!r} produced an ill-typed program: {exc}\n{out}") from exc
            if checked is not out:
                raise PassError(f"pass {name!r} produced nodes with wrong types:\n{out}")
        report.runs.append(PassRun(name, seconds, out is not current))
        current = out
        if trace is not None:
            trace(name, current)
    report.after = current
    return current, report


def describe() -> dict[str, str]:
    """Every registered pass with its one-line description."""
    _load_passes()
    return {name: doc for name, (_, doc) in sorted(PASSES.items())}
