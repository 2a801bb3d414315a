"""Pass ``licm``: loop-invariant code motion.

Inside the lambda of a ``for`` (or the key function of a ``sort``), a sub-expression that uses none
of the lambda's parameters and no name bound inside the lambda is the same on every iteration: it
is computed once, in a ``let`` placed just outside the loop, and the loop uses the name. Nested
loops: an expression goes out of every loop it does not depend on, to just outside the outermost
one (its own sub-expressions may go further out still).

Only expressions that cannot fail move: outside the loop they are evaluated even when the loop
runs zero times, or when the ``if`` around them inside the body is never taken. Names, literals
and fields or lengths of names (free to recompute) stay, and so does anything that involves a
builder (a builder, a merge, a loop): builders are linear, and a loop stays where it is.

Cost: one walk of the program; sub-trees shared inside one loop body are visited once.
"""

from __future__ import annotations

from ...ir import nodes as n
from ...ir.analysis import can_fail, free_vars
from ...ir.deep import run_deep
from ..pipeline import register
from .cse import LazyFresh, is_trivial, memo_up

_NEVER = frozenset((n.LIT, n.IDENT, n.LAMBDA, n.ITER, n.NEWBUILDER))


@register("licm")
def run(program: n.Expr) -> n.Expr:
    """Loop-invariant code motion: what a loop body computes the same way every iteration moves out."""
    return run_deep(_Licm(program).go, program)


class _Hoisted:
    """The lets placed just outside one loop: value -> name, in the order they were made."""

    def __init__(self, serial: int) -> None:
        self.serial = serial  # identifies the loop in memo keys (an id() could be reused)
        self.names: dict[n.Expr, str] = {}

    def add(self, value: n.Expr, fresh: LazyFresh) -> str:
        name = self.names.get(value)
        if name is None:
            name = self.names[value] = fresh("inv")
        return name

    def wrap(self, loop: n.Expr) -> n.Expr:
        out = loop
        for value, name in reversed(self.names.items()):  # the first made is the outermost
            out = n.Expr(n.LET, (value, out), name, out.ty)
        return out


class _Licm:
    def __init__(self, program: n.Expr):
        self.fresh = LazyFresh(program)
        #: The loop depth at which each name in scope is bound (parameters of the program: 0).
        self.depth: dict[str, int] = {}
        #: One ``_Hoisted`` per enclosing loop, outermost first.
        self.loops: list[_Hoisted] = []
        self.memo: dict[tuple, n.Expr] = {}
        self.serial = 0
        self._has_loop: dict[n.Expr, bool] = {}
        self._linear: dict[n.Expr, bool] = {}

    def go(self, e: n.Expr) -> n.Expr:
        if not e.src:
            return e  # names, literals and plain builders stay
        d = len(self.loops)
        if d == 0:
            # outside every loop nothing moves, and every name in scope is bound at depth 0
            if not self.has_loop(e):
                return e
            key: tuple = (e, 0)
            needs = 0
        else:
            depth = self.depth
            # (a node's free names are one cached set: the same order every time)
            depths = tuple([depth.get(v, 0) for v in free_vars(e)])
            key = (e, self.loops[-1].serial, depths)
            needs = max(depths, default=0)
        out = self.memo.get(key)
        if out is None:
            out = self.memo[key] = self.visit(e, d, needs)
        return out

    def has_loop(self, e: n.Expr) -> bool:
        """Whether ``e`` contains a loop (a ``for`` or ``sort``); does not look inside loops."""
        memo = self._has_loop
        found = memo.get(e)
        if found is not None:
            return found
        stack = [e]
        while stack:
            x = stack[-1]
            if x in memo:
                stack.pop()
            elif x.op in (n.FOR, n.SORT):
                memo[x] = True
                stack.pop()
            else:
                todo = [s for s in x.src if s not in memo]
                if todo:
                    stack.extend(todo)
                else:
                    stack.pop()
                    memo[x] = any(memo[s] for s in x.src)
        return memo[e]

    def visit(self, e: n.Expr, d: int, needs: int) -> n.Expr:
        if needs < d and self.hoistable(e):
            # Invariant in loops needs+1 .. d: computed just outside loop needs+1, in the context
            # of loop needs' body (where its own invariant parts may move out further).
            saved = self.loops
            self.loops = saved[:needs]
            try:
                value = self.go(e)
            finally:
                self.loops = saved
            return n.ident(saved[needs].add(value, self.fresh), e.ty)
        if e.op == n.LET:
            value = self.go(e.src[0])
            body = self.scoped([e.arg], d, e.src[1])
            return e.replace(src=(value, body))
        if e.op in (n.FOR, n.SORT):
            loop, hoisted = self.loop(e, d)
            return hoisted.wrap(loop)
        if e.op == n.RESULT and e.src[0].op == n.FOR:  # the lets go around result(for(...))
            loop, hoisted = self.loop(e.src[0], d)
            return hoisted.wrap(e.replace(src=(loop,)))
        if e.op == n.LAMBDA:  # the program itself (other lambdas belong to a for or a sort)
            return e.replace(src=(self.scoped([p for p, _ in e.params], d, e.body),))
        src = tuple([self.go(s) for s in e.src])
        return e if src == e.src else n.Expr(e.op, src, e.arg, e.ty)

    def loop(self, e: n.Expr, d: int) -> tuple[n.Expr, _Hoisted]:
        """``for``/``sort`` node ``e`` with its lambda visited one loop deeper, and what moved out."""
        outside = [self.go(s) for s in e.src[:-1]]
        func = e.src[-1]
        self.serial += 1
        hoisted = _Hoisted(self.serial)
        self.loops.append(hoisted)
        try:
            body = self.scoped([p for p, _ in func.params], d + 1, func.body)
        finally:
            self.loops.pop()
        return e.replace(src=(*outside, func.replace(src=(body,)))), hoisted

    def scoped(self, names: list[str], depth: int, body: n.Expr) -> n.Expr:
        """``go(body)`` with ``names`` bound at loop depth ``depth``."""
        saved = [(v, self.depth.get(v)) for v in names]
        for v in names:
            self.depth[v] = depth
        try:
            return self.go(body)
        finally:
            for v, old in reversed(saved):
                if old is None:
                    del self.depth[v]
                else:
                    self.depth[v] = old

    def hoistable(self, e: n.Expr) -> bool:
        if e.op in _NEVER or is_trivial(e):
            return False
        linear = memo_up(e, self._linear, lambda x, subs: (x.ty is not None and x.ty.is_builder) or any(subs))
        return not linear and not can_fail(e)
