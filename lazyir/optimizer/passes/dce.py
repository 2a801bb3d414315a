"""Pass ``dce``: remove code whose value is never used and whose evaluation can be skipped.

Code can be skipped when it is ``analysis.removable``: it cannot raise ``IRRuntimeError`` (an
unused ``lookup`` out of range still makes the program fail) and merges into no builder from
outside (merges update builders in place). Rules, run by the rewrite driver:

- ``let x = v; body`` with ``x`` unused in ``body`` and ``v`` removable -> ``body``; this drops
  loops and builders whose results are never used (``let r = result(for(...)); ...``);
- ``let s = {a, b, c}; body`` where ``body`` only reads fields of ``s`` (``s.$k``) and leaves a
  removable field unread -> one ``let`` per field, so the previous rule drops the unread ones;
- ``{a, b}.$0 -> a`` when ``b`` is removable (the rule of ``fold``);
- ``if(c, a, a) -> a`` when ``c`` is removable; ``select(c, a, a) -> a`` when moreover ``a``
  merges into no outside builder (``select`` evaluates it twice);
- ``for(iters, b0, |b, i, e| b) -> b0`` (a loop that merges nothing) when the iteration is
  removable.
"""

from __future__ import annotations

from ...ir import nodes as n
from ...ir.analysis import Fresh, can_fail, free_builders, free_vars, removable, substitute
from ..pipeline import register
from ..rewrite import RuleSet
from .fold import field_of_struct

rules = RuleSet("dce")
rules.rule(n.GETFIELD)(field_of_struct)


@rules.rule(n.LET)
def unused_let(e: n.Expr) -> n.Expr | None:
    """``let x = v; body -> body`` when ``x`` is not used and ``v`` is removable."""
    value, body = e.src
    if e.arg in free_vars(body) or not removable(value):
        return None
    return body


@rules.rule(n.LET)
def unread_fields(e: n.Expr) -> n.Expr | None:
    """``let s = {a, b}; ...s.$0...`` -> ``let s__1 = a; let s__2 = b; ...s__1...`` when the body
    reads only fields of ``s`` and leaves a removable one unread."""
    value, body = e.src
    if value.op != n.STRUCT:
        return None
    read = fields_read(body, e.arg)
    if read is None or all(k in read or not removable(f) for k, f in enumerate(value.src)):
        return None
    fresh = Fresh(e)
    names = [fresh(e.arg) for _ in value.src]
    idents = tuple(n.ident(name, f.ty) for name, f in zip(names, value.src, strict=True))
    out = substitute(body, {e.arg: n.Expr(n.STRUCT, idents, None, value.ty)})
    for name, f in reversed(list(zip(names, value.src, strict=True))):
        out = n.let(name, f, out)
    return out


def fields_read(e: n.Expr, name: str) -> set[int] | None:
    """The fields ``k`` of the struct variable ``name`` that ``e`` reads as ``name.$k``, or ``None``
    when ``e`` uses ``name`` otherwise (as a whole value)."""
    read: set[int] = set()
    seen: set[n.Expr] = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if x in seen or name not in free_vars(x):
            continue  # (a lambda binding `name` has no free `name`)
        seen.add(x)
        if x.op == n.IDENT:
            return None
        if x.op == n.GETFIELD and x.src[0].op == n.IDENT:
            read.add(x.arg)
        elif x.op == n.LET and x.arg == name:
            stack.append(x.src[0])  # its body sees another `name`
        else:
            stack.extend(x.src)
    return read


@rules.rule(n.IF, n.SELECT)
def same_branches(e: n.Expr) -> n.Expr | None:
    """``if(c, a, a) -> a`` (nodes are interned: equal means identical)."""
    c, t, f = e.src
    if t is not f or not removable(c) or (e.op == n.SELECT and free_builders(t)):
        return None
    return t


@rules.rule(n.FOR)
def empty_loop(e: n.Expr) -> n.Expr | None:
    """``for(iters, b0, |b, i, e| b) -> b0``: the loop merges nothing."""
    iters, builder, func = n.for_parts(e)
    body = func.body
    if body.op != n.IDENT or body.arg != func.params[0][0]:
        return None
    if can_fail(e) or any(free_builders(it) for it in iters):
        return None
    return builder


@register("dce")
def run(program: n.Expr) -> n.Expr:
    """Remove unused lets, loops, struct fields and branches whose evaluation can be skipped."""
    return rules.rewrite(program)
