"""The one rewrite driver: rules, matched by op, applied bottom-up to a fixed point.

A rule is a function ``rule(e) -> Expr | None`` registered for the ops it matches; it returns a
replacement for ``e`` (an equivalent expression) or ``None``. Rules build nodes with the
constructors in ``lazyir.ir.nodes``; identifiers and lambda parameters they create carry types,
and the driver types the rest of what a rule built (``typecheck(trust_typed=True)``), so a rule
never re-checks what it did not build.

The driver owns the traversal: children first, then the node, then again on a rule's result until
no rule applies. Nodes are interned, so every distinct sub-expression is rewritten once per pass
(memoized), which keeps passes linear in the size of the program.

A rule registered ``top_down`` is tried on a node before its operands are rewritten (and, if it
applies, its result is rewritten as a whole). That is for rules whose cost is the depth at which
their matches sit: a ``let`` whose uses move into its body, applied outermost first along a chain
of such ``let``s, finds each use where the previous step left it, near the top; bottom-up, each
step would find its uses at the bottom of everything the inner steps built (quadratic).
"""

from __future__ import annotations

from collections.abc import Callable

from ..ir import nodes as n
from ..ir.analysis import walk  # noqa: F401 - re-exported for the passes
from ..ir.deep import run_deep
from ..ir.typecheck import typecheck

Rule = Callable[[n.Expr], "n.Expr | None"]

#: Bound on rule applications at one node, against rules that undo each other.
MAX_STEPS_PER_NODE = 64


class RuleSet:
    """Rules indexed by the op they match."""

    def __init__(self, name: str):
        self.name = name
        self.by_op: dict[str, list[Rule]] = {}
        self.top_down: dict[str, list[Rule]] = {}

    def rule(self, *ops: str, top_down: bool = False) -> Callable[[Rule], Rule]:
        """Decorator: register a rule for ``ops`` (``top_down``: also tried before the operands
        are rewritten)."""

        def add(fn: Rule) -> Rule:
            for op in ops:
                self.by_op.setdefault(op, []).append(fn)
                if top_down:
                    self.top_down.setdefault(op, []).append(fn)
            return fn

        return add

    def rewrite(self, e: n.Expr) -> n.Expr:
        """Apply the rules everywhere in ``e`` until none applies."""
        return run_deep(_Rewriter(self.by_op, self.top_down).go, e)


def retype(e: n.Expr) -> n.Expr:
    """Type the untyped nodes a rule built (typed sub-expressions are kept as they are)."""
    return e if e.ty is not None else typecheck(e, trust_typed=True)


class _Rewriter:
    def __init__(self, by_op: dict[str, list[Rule]], top_down: dict[str, list[Rule]]):
        self.by_op = by_op
        self.top_down = top_down
        self.memo: dict[n.Expr, n.Expr] = {}

    def go(self, e: n.Expr) -> n.Expr:
        src = e.src
        if not src and e.op not in self.by_op:
            return e  # a leaf no rule matches
        done = self.memo.get(e)
        if done is not None:
            return done
        if e.op in self.top_down:
            y = self.apply(e, self.top_down)
            if y is not None:
                x = self.go(retype(y))
                self.memo[e] = x
                return x
        if src:
            new = tuple([self.go(s) for s in src])
            x = e if new == src else n.Expr(e.op, new, e.arg, e.ty)
        else:
            x = e
        if x.op in self.by_op:
            for _ in range(MAX_STEPS_PER_NODE):
                y = self.apply(x, self.by_op)
                if y is None:
                    break
                x = self.go(retype(y))
        self.memo[e] = x
        self.memo[x] = x
        return x

    def apply(self, x: n.Expr, rules: dict[str, list[Rule]]) -> n.Expr | None:
        for rule in rules.get(x.op, ()):
            y = rule(x)
            if y is not None and y is not x:
                return y
        return None
