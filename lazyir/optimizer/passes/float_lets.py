"""Pass ``float_lets``: ``let``s around a loop's iterator operands move out in front of the loop.

``for(zip(a, let x = v; result(for(...))), B, f)`` -> ``let x = v; for(zip(a, result(for(...))), B, f)``.
Iterator operands are evaluated once, before the loop runs, so the ``let`` is evaluated once
either way; what changes is that the producer ``result(for(...))`` now sits directly in the
``zip``, where vertical fusion finds it (a frontend binds a matrix-vector product's weights this
way, and the product then fuses with what consumes it). A floated name that something else in
the loop uses is renamed first.

The one observable difference: when an earlier iterator operand and the floated value would both
fail, the error raised is the floated value's. Values never change.
"""

from __future__ import annotations

from ...ir import nodes as n
from ...ir.analysis import Fresh, free_vars, substitute
from ..pipeline import register
from ..rewrite import RuleSet

rules = RuleSet("float_lets")


@register("float_lets")
def run(program: n.Expr) -> n.Expr:
    """Lets around loop iterator operands move in front of the loop (their producers can then fuse)."""
    return rules.rewrite(program)


@rules.rule(n.FOR)
def float_iterator_lets(e: n.Expr) -> n.Expr | None:
    iters, builder, func = n.for_parts(e)
    for k, it in enumerate(iters):
        for j, s in enumerate(it.src):
            lets: list[tuple[str, n.Expr]] = []
            body = s
            while True:  # ``let``s, also under ``result`` (``result(let x = v; b)`` is ``let x = v; result(b)``)
                if body.op == n.LET:
                    lets.append((body.arg, body.src[0]))
                    body = body.src[1]
                elif body.op == n.RESULT and body.src[0].op == n.LET:
                    inner = body.src[0]
                    lets.append((inner.arg, inner.src[0]))
                    body = body.replace(src=(inner.src[1],))
                else:
                    break
            if not lets:
                continue
            taken = free_vars(e)  # names the rest of the loop uses: a floated let must not shadow them
            fresh = Fresh(e)
            renamed: dict[str, n.Expr] = {}
            out_lets = []
            for name, value in lets:
                value = substitute(value, renamed)
                if name in taken:
                    new = fresh(name)
                    renamed[name] = n.ident(new, value.ty)
                    name = new
                else:
                    renamed.pop(name, None)
                out_lets.append((name, value))
            body = substitute(body, renamed)
            new_it = it.replace(src=it.src[:j] + (body,) + it.src[j + 1 :])
            out = e.replace(src=(*iters[:k], new_it, *iters[k + 1 :], builder, func))
            for name, value in reversed(out_lets):
                out = n.Expr(n.LET, (value, out), name, out.ty)
            return out
    return None
