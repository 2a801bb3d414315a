"""Pass ``predicate``: a conditional merge into a ``merger`` becomes an unconditional one.

``if(c, merge(b, e), b)`` -> ``merge(b, select(c, e, IDENTITY))`` when ``b`` is a ``merger`` (or a
field of a struct of builders that is one), where IDENTITY is the merger operator's identity:
merging it changes nothing. A filtered reduction then has no branch, so its loop vectorizes.
Chains ``if(c, merge(merge(b, e1), e2), b)`` and the mirrored ``if(c, b, merge(b, e))`` too; an
``if`` over a whole struct of builders, ``if(c, {merge(b.$0, e), ...}, b)``, is first split into
one ``if`` per field.

``select`` evaluates both sides, so ``e`` must not fail and must be cheap: scalar arithmetic,
casts, math functions, fields, structs, ``len``, ``select``/``if``, ``let`` (no loops, lookups,
sorts or dictionaries), and at most ``MAX_NODES`` distinct nodes. Appenders, vecmergers,
dictmergers and groupmergers keep their ``if``: skipping the merge is not merging an identity.

Identities are exact: ``+`` is ``-0.0`` on floats (``x + -0.0 == x`` for every ``x``, ``-0.0``
included, while ``-0.0 + 0.0`` is ``0.0``), ``*`` is 1, ``min``/``max`` are ``+inf``/``-inf`` on
floats (NaN-propagating ``min(x, inf)`` is ``x``) and the type's largest/smallest value on ints.
"""

from __future__ import annotations

import math

from ...ir import nodes as n
from ...ir import types as T
from ...ir.analysis import can_fail
from ...ir.deep import run_deep
from ...ir.values import int_range
from ..pipeline import register
from ..rewrite import RuleSet
from .cse import LazyFresh, any_node, is_trivial

#: The most distinct nodes a merged value may have to be evaluated unconditionally.
MAX_NODES = 64
_CHEAP = frozenset((n.LIT, n.IDENT, n.LET, n.BINOP, n.UNOP, n.CAST, n.SELECT, n.IF, n.STRUCT, n.GETFIELD, n.LEN))


@register("predicate")
def run(program: n.Expr) -> n.Expr:
    """Predication: a conditional merge into a merger merges the identity when the condition is false."""
    if not any_node(program, lambda x: x.op == n.IF and _has_merger(x.ty)):
        return program
    rules = RuleSet("predicate")
    fresh = LazyFresh(program)
    rules.rule(n.IF)(lambda e: _predicate(e, fresh))
    return run_deep(rules.rewrite, program)


def _has_merger(t: T.Type | None) -> bool:
    return isinstance(t, T.Merger) or (isinstance(t, T.Struct) and any(_has_merger(f) for f in t.fields))


def identity(op: str, ty: T.Type) -> n.Expr:
    """The typed literal (struct of literals) that merging with ``op`` leaves unchanged."""
    if isinstance(ty, T.Struct):
        return n.Expr(n.STRUCT, tuple(identity(op, f) for f in ty.fields), None, ty)
    assert isinstance(ty, T.Scalar) and not ty.is_bool, ty
    if op == "+":
        value: float = -0.0 if ty.is_float else 0
    elif op == "*":
        value = 1
    elif ty.is_float:
        value = math.inf if op == "min" else -math.inf
    else:
        lo, hi = int_range(ty)
        value = hi if op == "min" else lo
    return n.lit(value, ty)


def _speculable(e: n.Expr) -> bool:
    """Cheap, and cannot fail: fine to evaluate when the program would not have."""
    seen: set[n.Expr] = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if x in seen:
            continue
        if x.op not in _CHEAP or len(seen) >= MAX_NODES:
            return False
        seen.add(x)
        stack.extend(x.src)
    return not can_fail(e)


def _merged(chain: n.Expr, base: n.Expr) -> list[n.Expr] | None:
    """The values ``chain`` merges into ``base`` (innermost first), if it is ``merge(...(base)...)``."""
    values = []
    while chain is not base:
        if chain.op != n.MERGE:
            return None
        values.append(chain.src[1])
        chain = chain.src[0]
    return values[::-1] or None


def _predicate(e: n.Expr, fresh: LazyFresh) -> n.Expr | None:
    if isinstance(e.ty, T.Struct) and e.ty.is_builder:
        return _distribute(e, fresh)
    if not isinstance(e.ty, T.Merger):
        return None
    cond, then, other = e.src
    for merged, base, taken in ((then, other, True), (other, then, False)):
        values = _merged(merged, base)
        if values is None or not all(_speculable(v) for v in values):
            continue
        unit = identity(e.ty.op, e.ty.elem)
        c = cond
        if len(values) > 1 and cond.op not in (n.IDENT, n.LIT):
            c = n.ident(fresh("c"), cond.ty)  # one evaluation of the condition for the chain
        out = base
        for v in values:
            pick = (c, v, unit) if taken else (c, unit, v)
            out = n.Expr(n.MERGE, (out, n.Expr(n.SELECT, pick, None, v.ty)), None, e.ty)
        return out if c is cond else n.Expr(n.LET, (cond, out), c.arg, out.ty)
    return None


def _distribute(e: n.Expr, fresh: LazyFresh) -> n.Expr | None:
    """``if(c, {f0, f1}, b)`` -> ``{if(c, f0, b.$0), if(c, f1, b.$1)}`` (the same merges happen), when
    that lets some field be predicated; ``b`` is a name or a field of one (it is repeated)."""
    cond, then, other = e.src
    for struct, base, taken in ((then, other, True), (other, then, False)):
        if struct.op != n.STRUCT or not is_trivial(base):
            continue
        fields = [n.Expr(n.GETFIELD, (base,), k, t) for k, t in enumerate(e.ty.fields)]  # type: ignore[union-attr]
        if not any(
            isinstance(f.ty, T.Merger) and (vs := _merged(s, f)) is not None and all(_speculable(v) for v in vs)
            for s, f in zip(struct.src, fields, strict=True)
        ):
            continue
        c = cond if cond.op in (n.IDENT, n.LIT) else n.ident(fresh("c"), cond.ty)
        parts = tuple(
            f if s is f else n.Expr(n.IF, (c, s, f) if taken else (c, f, s), None, f.ty)
            for s, f in zip(struct.src, fields, strict=True)
        )
        out = n.Expr(n.STRUCT, parts, None, e.ty)
        return out if c is cond else n.Expr(n.LET, (cond, out), c.arg, out.ty)
    return None
