"""Pass ``size``: an appender filled once per loop iteration gets its exact size as a hint.

``for(iters, appender[T], |b, i, e| body)`` where every evaluation of ``body`` merges into ``b``
exactly ``k`` times on every path (and returns that builder) ends with ``k`` times the loop's
iteration count elements, so the appender is created as ``appender[T](count * k)``: one allocation
instead of a doubling series. The same holds for the appender fields of a struct of builders
built in place (``{appender[T], merger[...]}``). The hint is only capacity: results do not change.

The count is the one the interpreter uses: ``len(v)``, ``(end - start + stride - 1) / stride``
clamped to ``[0, len(v)]`` for ``iter(v, start, end, stride)``, and clamped at 0 (and 0 for a
stride that is not positive) for ``rangeiter``; a ``zip`` has its iterators' common length (a
plain vector's when there is one). Iterator operands the count repeats are bound to names first
(in their order, before the loop, where the loop evaluated them anyway), so nothing is computed
twice and the count itself cannot fail.

The merge analysis follows the builder through ``let``, struct fields, ``merge`` chains and
nested loops that take it (a nested loop merges an unknown number of times); ``if`` counts when
both branches agree, ``select`` counts both sides (it evaluates both). Cost: linear in the loop
bodies (each node once per loop that contains it).
"""

from __future__ import annotations

from ...ir import nodes as n
from ...ir import types as T
from ...ir.analysis import free_vars
from ...ir.deep import run_deep
from ..pipeline import register
from .cse import LazyFresh, any_node, free_builders, is_trivial

Path = tuple[int, ...]


@register("size")
def run(program: n.Expr) -> n.Expr:
    """Size inference: appenders filled once per iteration get the loop's iteration count as a size hint."""
    if not any_node(program, lambda x: x.op == n.FOR and bool(_leaves(n.for_parts(x)[1]))):
        return program
    return run_deep(_Sizer(program).go, program)


class _Unknown(Exception):
    """The loop body uses its builder in a way the analysis does not follow."""


def _i64(value: int) -> n.Expr:
    return n.lit(value, T.I64)


def _op(op: str, a: n.Expr, b: n.Expr) -> n.Expr:
    """A typed i64 binary operation, folding literal operands where the result is obvious."""
    if a.op == n.LIT and b.op == n.LIT and op in ("+", "-", "*", "min", "max"):
        x, y = a.arg, b.arg
        value = {"+": x + y, "-": x - y, "*": x * y, "min": min(x, y), "max": max(x, y)}[op]
        if -(1 << 63) <= value < (1 << 63):
            return _i64(value)
    if b.op == n.LIT and ((op in ("+", "-") and b.arg == 0) or (op in ("*", "/") and b.arg == 1)):
        return a
    ty = T.BOOL if op in n.COMPARE_BINOPS else T.I64
    return n.Expr(n.BINOP, (a, b), op, ty)


def iteration_count(it: n.Expr) -> n.Expr:
    """The number of elements iterator ``it`` visits when it is valid (its operands are cheap to
    repeat: names, literals, ``len`` of names). Never fails; harmless when ``it`` is invalid."""
    if it.arg == "vec":
        return n.Expr(n.LEN, (it.src[0],), None, T.I64)
    if it.arg == "iter":
        v, start, end, stride = it.src
        span = _op("+", _op("-", end, start), _op("-", stride, _i64(1)))
        count = _op("min", _op("/", span, stride), n.Expr(n.LEN, (v,), None, T.I64))
        return _op("max", count, _i64(0))
    start, end, stride = it.src
    if start.op == n.LIT and end.op == n.LIT and stride.op == n.LIT:
        return _i64(len(range(start.arg, end.arg, stride.arg)) if stride.arg > 0 else 0)
    span = _op("+", _op("-", end, start), _op("-", stride, _i64(1)))
    count = _op("max", _op("/", span, stride), _i64(0))
    if stride.op == n.LIT and stride.arg > 0:
        return count
    return n.Expr(n.SELECT, (_op(">", stride, _i64(0)), count, _i64(0)), None, T.I64)


def _leaves(builder: n.Expr, path: Path = ()) -> list[Path]:
    """Paths of the appenders without a size hint that ``builder`` creates in place."""
    if builder.op == n.NEWBUILDER:
        return [path] if isinstance(builder.arg, (T.Appender, T.Scanner)) and not builder.src else []
    if builder.op == n.STRUCT:
        return [p for k, s in enumerate(builder.src) for p in _leaves(s, (*path, k))]
    return []


def _with_hints(builder: n.Expr, hints: dict[Path, n.Expr], path: Path = ()) -> n.Expr:
    if path in hints:
        return builder.replace(src=(hints[path],))
    if builder.op == n.STRUCT:
        return builder.replace(src=tuple(_with_hints(s, hints, (*path, k)) for k, s in enumerate(builder.src)))
    return builder


class _Merges:
    """Per-iteration merge counts of one loop body into its builder's leaves."""

    def __init__(self) -> None:
        self.memo: dict[tuple, object] = {}
        self.scopes: list[dict[str, Path]] = []  # keeps alias maps alive: memo keys hold their ids

    def scope(self, aliases: dict[str, Path]) -> dict[str, Path]:
        self.scopes.append(aliases)
        return aliases

    def resolve(self, e: n.Expr, aliases: dict[str, Path]) -> Path | None:
        """Which part of the loop's builder ``e`` evaluates to (merges return their builder)."""
        key = ("r", e, id(aliases))
        if key in self.memo:
            return self.memo[key]  # type: ignore[return-value]
        out: Path | None = None
        if e.op == n.IDENT:
            out = aliases.get(e.arg)
        elif e.op == n.GETFIELD:
            p = self.resolve(e.src[0], aliases)
            out = None if p is None else (*p, e.arg)
        elif e.op == n.MERGE:
            out = self.resolve(e.src[0], aliases)
        elif e.op == n.LET:
            out = self.resolve(e.src[1], self.bind(e, aliases))
        elif e.op in (n.IF, n.SELECT):
            t = self.resolve(e.src[1], aliases)
            out = t if t is not None and t == self.resolve(e.src[2], aliases) else None
        elif e.op == n.FOR:
            _, builder, func = n.for_parts(e)
            inner = self.scope({func.params[0][0]: ()})
            out = self.resolve(builder, aliases) if self.resolve(func.body, inner) == () else None
        elif e.op == n.STRUCT:
            parts = [self.resolve(s, aliases) for s in e.src]
            if parts and all(p is not None and p[:-1] == parts[0][:-1] and p[-1:] == (k,) for k, p in enumerate(parts)):
                out = parts[0][:-1]  # type: ignore[index]
        self.memo[key] = out
        return out

    def bind(self, e: n.Expr, aliases: dict[str, Path]) -> dict[str, Path]:
        """The aliases inside the body of ``let`` node ``e``."""
        key = ("b", e, id(aliases))
        if key not in self.memo:
            inner = {k: v for k, v in aliases.items() if k != e.arg}
            value = e.src[0]
            if value.ty is not None and value.ty.is_builder and free_vars(value) & aliases.keys():
                p = self.resolve(value, aliases)
                if p is None:
                    raise _Unknown
                inner[e.arg] = p
            self.memo[key] = self.scope(inner)
        return self.memo[key]  # type: ignore[return-value]

    def count(self, e: n.Expr, aliases: dict[str, Path]) -> dict[Path, int | None]:
        """Merges one evaluation of ``e`` makes into each part of the builder (None: varies)."""
        if not (free_vars(e) & aliases.keys()):
            return {}
        key = ("c", e, id(aliases))
        if key in self.memo:
            return self.memo[key]  # type: ignore[return-value]
        out: dict[Path, int | None]
        if e.op == n.IDENT:
            out = {}
        elif e.op == n.MERGE:
            p = self.resolve(e.src[0], aliases)
            if p is None:
                raise _Unknown
            out = _add(self.count(e.src[0], aliases), self.count(e.src[1], aliases))
            out = _add(out, {p: 1})
        elif e.op == n.IF:
            t, f = self.count(e.src[1], aliases), self.count(e.src[2], aliases)
            both = {p: t.get(p, 0) if t.get(p, 0) == f.get(p, 0) else None for p in t.keys() | f.keys()}
            out = _add(self.count(e.src[0], aliases), both)
        elif e.op == n.LET:
            out = _add(self.count(e.src[0], aliases), self.count(e.src[1], self.bind(e, aliases)))
        elif e.op == n.FOR:
            _, builder, func = n.for_parts(e)
            if free_vars(func) & aliases.keys():
                raise _Unknown
            out = {}
            for s in e.src[:-1]:
                out = _add(out, self.count(s, aliases))
            p = self.resolve(builder, aliases)
            if p is not None:
                out = _add(out, {p: None})  # the nested loop merges into it any number of times
        elif e.op == n.LAMBDA:
            raise _Unknown
        else:
            out = {}
            for s in e.src:
                out = _add(out, self.count(s, aliases))
        self.memo[key] = out
        return out


def _add(a: dict[Path, int | None], b: dict[Path, int | None]) -> dict[Path, int | None]:
    if not b:
        return a
    out = dict(a)
    for p, k in b.items():
        old = out.get(p, 0)
        out[p] = None if old is None or k is None else old + k
    return out


def merges_per_iteration(func: n.Expr) -> dict[Path, int | None] | None:
    """How many merges every iteration of loop function ``func`` makes into each part of its
    builder (a path of struct fields; None: not the same on every path), or None when the body
    does not return its builder or uses it in a way the analysis does not follow."""
    merges = _Merges()
    aliases = merges.scope({func.params[0][0]: ()})
    try:
        if merges.resolve(func.body, aliases) != ():
            return None
        return merges.count(func.body, aliases)
    except _Unknown:
        return None


def _leaf_count(counts: dict[Path, int | None], path: Path) -> int | None:
    """Merges into the builder leaf at ``path`` (counts at ``path`` and at struct paths above it)."""
    total = 0
    for k in range(len(path) + 1):
        c = counts.get(path[:k], 0)
        if c is None:
            return None
        total += c
    return total


class _Sizer:
    def __init__(self, program: n.Expr):
        self.fresh = LazyFresh(program)
        self.memo: dict[n.Expr, n.Expr] = {}

    def go(self, e: n.Expr) -> n.Expr:
        out = self.memo.get(e)
        if out is None:
            if e.op == n.RESULT and e.src[0].op == n.FOR:  # the lets go around result(for(...))
                loop, lets = self.loop(e.src[0])
                out = _wrap(lets, e.replace(src=(loop,)))
            elif e.op == n.FOR:
                out = _wrap(*reversed(self.loop(e)))
            else:
                out = _rebuild(e, tuple(self.go(s) for s in e.src))
            self.memo[e] = out
        return out

    def loop(self, e: n.Expr) -> tuple[n.Expr, list[tuple[str, n.Expr]]]:
        """``for`` node ``e`` rewritten, with hints where they apply, and the lets it needs."""
        loop = _rebuild(e, tuple(self.go(s) for s in e.src))
        iters, builder, func = n.for_parts(loop)
        leaves = _leaves(builder)
        counts = merges_per_iteration(func) if leaves else None
        if counts is None:
            return loop, []
        per = {p: k for p in leaves if (k := _leaf_count(counts, p))}
        if not per:
            return loop, []
        j = next((j for j, it in enumerate(iters) if it.arg == "vec"), 0)
        lets = []
        operands = []
        for s in iters[j].src:
            if is_trivial(s):
                operands.append(s)
                continue
            if free_builders(s):
                return loop, []  # evaluated earlier, it could see another state of that builder
            name = self.fresh("v" if isinstance(s.ty, T.Vec) else "n")
            lets.append((name, s))
            operands.append(n.ident(name, s.ty))
        it = iters[j].replace(src=tuple(operands))
        count = iteration_count(it)
        hints = {p: _op("*", count, _i64(k)) for p, k in per.items()}
        return loop.replace(src=(*iters[:j], it, *iters[j + 1 :], _with_hints(builder, hints), func)), lets


def _rebuild(e: n.Expr, src: tuple[n.Expr, ...]) -> n.Expr:
    return e.replace(src=src) if any(a is not b for a, b in zip(src, e.src, strict=True)) else e


def _wrap(lets: list[tuple[str, n.Expr]], body: n.Expr) -> n.Expr:
    for name, value in reversed(lets):
        body = n.Expr(n.LET, (value, body), name, body.ty)
    return body
