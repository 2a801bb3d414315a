"""Pass ``cse``: an expression that occurs twice or more is computed once, in a ``let``.

Nodes are interned, so a repeated sub-expression is one node reached twice; the backend and the
interpreter evaluate every occurrence, so a repeated loop runs twice. This pass binds each repeated
expression to a fresh name at the innermost position that dominates all its occurrences, and
replaces the occurrences with the name.

What counts as an occurrence is a position in the tree (a shared sub-tree contributes its
occurrences once per place it is used), and two occurrences are the same value only when their
free names refer to the same binders: the pass works on *instances*, pairs of a node and the binders
of its free names, so ``x * x`` in two loops that both call their element ``x`` is two values.

Where the ``let`` goes: the lowest common ancestor ``L`` of the occurrences (never outside a binder
of one of the expression's names, never around a lambda or an iterator, and not between a builder
and what uses it). An expression that may fail, or is expensive (a loop, a sort, ``tovec``, a
vector literal), is bound at ``L`` only if evaluating ``L`` evaluates it anyway: one occurrence is
reached from ``L`` through operands that are always evaluated (not through an ``if`` branch or a
lambda body), or both branches of one ``if`` reach one. Otherwise its occurrences are grouped
where that holds (for example two uses in one ``if`` branch). Cheap expressions that cannot fail
are bound at ``L`` regardless. Builders, expressions of builder type, and expressions that use a
builder from outside (``result(b)`` of a loop's builder) are never bound: builders are linear.

Cost: one pass over the instances in topological order (parents first), with a lowest-common-
ancestor query per occurrence on the tree of positions built along the way (skew-binary jump
pointers: O(log depth) each), so O(size * log depth) plus the free-name bookkeeping.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

from ...ir import nodes as n
from ...ir.analysis import Fresh, can_fail, fold_into, free_vars, walk
from ...ir.deep import run_deep
from ..pipeline import register

#: Constructs never bound on their own: names, literals, and parts of a ``for`` or ``sort``.
_NEVER = frozenset((n.LIT, n.IDENT, n.LAMBDA, n.ITER, n.NEWBUILDER))
#: Constructs too costly to evaluate where the program would not have evaluated them.
_EXPENSIVE = frozenset((n.FOR, n.SORT, n.TOVEC, n.VECTOR))
#: Above this many occurrences, an expression that cannot be bound at its common ancestor is
#: not split into groups (keeps the pass linear; such expressions are bound nowhere).
_MAX_GROUPED = 64
#: Parents a builder-typed binding position moves up through (they bind no names and always
#: evaluate the child), so that a ``let`` does not sit between a builder and its ``merge``.
_BUILDER_PARENTS = frozenset((n.MERGE, n.GETFIELD, n.STRUCT, n.SELECT, n.FOR))


@register("cse")
def run(program: n.Expr) -> n.Expr:
    """Common sub-expressions: a repeated expression is computed once, in a let that dominates its uses."""
    return run_deep(_Cse(program).run)


def is_trivial(e: n.Expr) -> bool:
    """A name, a literal, or fields and lengths of a name: free to recompute."""
    while e.op in (n.GETFIELD, n.LEN):
        e = e.src[0]
    return e.op in (n.IDENT, n.LIT)


memo_up = fold_into  # the shared memoized bottom-up fold


def any_node(e: n.Expr, pred: Callable[[n.Expr], bool]) -> bool:
    """Whether some node of ``e`` satisfies ``pred`` (each shared node tested once)."""
    return any(pred(x) for x in walk(e))


class LazyFresh:
    """``Fresh(program)`` made on first use: only programs a pass changes pay for the scan."""

    def __init__(self, program: n.Expr):
        self.program = program
        self.fresh: Fresh | None = None

    def __call__(self, base: str) -> str:
        if self.fresh is None:
            self.fresh = Fresh(self.program)
        return self.fresh(base)


def _free_builder_names(x: n.Expr, subs: list[frozenset[str]]) -> frozenset[str]:
    if x.op == n.IDENT:
        return frozenset((x.arg,)) if x.ty is not None and x.ty.is_builder else frozenset()
    if x.op == n.LET:
        return subs[0] | (subs[1] - {x.arg})
    if x.op == n.LAMBDA:
        return subs[0] - {p for p, _ in x.params}
    return frozenset().union(*subs)


_FREE_BUILDERS: weakref.WeakKeyDictionary[n.Expr, frozenset[str]] = weakref.WeakKeyDictionary()


def free_builders(e: n.Expr) -> frozenset[str]:
    """Free names of builder type in ``e``: an expression using one depends on when it is
    evaluated (merges update builders in place), so it is never moved or shared."""
    return memo_up(e, _FREE_BUILDERS, _free_builder_names)  # type: ignore[return-value]


class _Elem(NamedTuple):
    """Where some occurrences of an instance are: under position ``at``; ``strict`` when one of
    them is evaluated whenever ``at`` is; ``edge`` (parent instance, operand index) to replace, or
    None; ``weight``: how many occurrences (2 stands for "two or more")."""

    at: int
    strict: bool
    edge: tuple[int, int] | None
    weight: int


class _Cse:
    def __init__(self, program: n.Expr):
        self.program = program
        self.fresh = LazyFresh(program)
        self._expensive: dict[n.Expr, bool] = {}
        # Instances: node, its free names, each paired with the instance that binds it, operand
        # instances, and uses (parent instance, operand index).
        self.expr: list[n.Expr] = []
        self.names: list[frozenset[str]] = []
        self.key: list[tuple[tuple[str, int], ...]] = []
        self.kids: list[list[int]] = []
        self.parents: list[list[tuple[int, int]]] = []
        # Per instance, filled in topological order: occurrences (1, or 2 for "two or more") once
        # the bindings decided so far are made; for repeated ones, the common ancestor position
        # of the occurrences and whether one is evaluated whenever that position is.
        self.count: list[int] = []
        self.anc: dict[int, int] = {}
        self.sreach: dict[int, bool] = {}
        # The tree of positions (instances that occur once): parent, depth, jump pointer, region
        # (the innermost if-branch or lambda body holding it), if-branch roots.
        self.up: list[int] = []
        self.depth: list[int] = []
        self.jump: list[int] = []
        self.region: list[int] = []
        self.branch_of: dict[int, tuple[int, int]] = {}
        self.branch: dict[tuple[int, int], int] = {}
        # The rewrite: operand edges replaced by a name, and the lets placed at positions.
        self.repl: dict[tuple[int, int], n.Expr] = {}
        self.lets: dict[int, list[tuple[str, int]]] = {}

    # -- instances -----------------------------------------------------------------------------
    def build(self) -> int:
        """Instances reachable from the program; returns the root's."""
        index: dict[tuple[int, tuple], int] = {}
        expr, names, keys, kids, parents = self.expr, self.names, self.key, self.kids, self.parents

        def intern(e: n.Expr, fv: frozenset[str], key: tuple[tuple[str, int], ...]) -> tuple[int, bool]:
            i = index.get((id(e), key))
            if i is not None:
                return i, False
            i = index[(id(e), key)] = len(expr)
            expr.append(e)
            names.append(fv)
            keys.append(key)
            kids.append([])
            parents.append([])
            return i, True

        root, _ = intern(self.program, free_vars(self.program), ())
        stack = [root]
        while stack:
            i = stack.pop()
            e, fv, key = expr[i], names[i], keys[i]
            env: dict[str, int] | None = None
            bound: frozenset[str] | set[str] = frozenset()
            if e.op == n.LAMBDA:
                bound = {p for p, _ in e.params}
            for j, s in enumerate(e.src):
                sfv = free_vars(s)
                if not sfv:
                    k: tuple[tuple[str, int], ...] = ()
                elif sfv is fv and not bound:  # same names, same binders: the common case
                    k = key
                else:
                    if env is None:
                        env = dict(key)
                    if e.op == n.LET and j == 1:
                        bound = {e.arg}
                    k = tuple((v, i if v in bound else env[v]) for v in sfv)
                c, new = intern(s, sfv, k)
                if new:
                    stack.append(c)
                kids[i].append(c)
                parents[c].append((i, j))
        return root

    def run(self) -> n.Expr:
        root = self.build()
        size = len(self.expr)
        self.count = [0] * size
        self.up, self.depth, self.jump, self.region = [0] * size, [0] * size, [0] * size, [0] * size
        pending = [len(p) for p in self.parents]
        order: list[int] = []
        queue = deque([root])
        while queue:  # topological order: every parent before its operands
            i = queue.popleft()
            order.append(i)
            self.place(i, root)
            for c in self.kids[i]:
                pending[c] -= 1
                if pending[c] == 0:
                    queue.append(c)
        return self.rebuild(order, root) if self.lets else self.program

    def rebuild(self, order: list[int], root: int) -> n.Expr:
        out: list[n.Expr] = list(self.expr)
        changed = [False] * len(self.expr)
        for i in reversed(order):
            kids = self.kids[i]
            touched = i in self.lets or any((i, j) in self.repl for j in range(len(kids)))
            if not (touched or any(changed[c] for c in kids)):
                continue
            src = []
            for j, c in enumerate(kids):
                name = self.repl.get((i, j))
                src.append(name if name is not None else out[c])
            x = self.expr[i].replace(src=tuple(src))
            for name, value in self.lets.get(i, ()):  # later bindings go outside earlier ones
                x = n.Expr(n.LET, (out[value], x), name, x.ty)
            out[i] = x
            changed[i] = True
        return out[root]

    # -- the tree of positions ------------------------------------------------------------------
    def attach(self, i: int, parent: int | None, guarded: bool = False, index: int = 0) -> None:
        """Instance ``i`` now occurs once, below position ``parent`` (``guarded``: as an if-branch
        or lambda body, not always evaluated with its parent)."""
        self.count[i] = 1
        if parent is None:
            self.up[i] = self.jump[i] = self.region[i] = i
            return
        self.up[i] = parent
        self.depth[i] = self.depth[parent] + 1
        j = self.jump[parent]
        same = self.depth[parent] - self.depth[j] == self.depth[j] - self.depth[self.jump[j]]
        self.jump[i] = self.jump[j] if same else parent
        self.region[i] = i if guarded else self.region[parent]
        if guarded and self.expr[parent].op == n.IF:
            self.branch_of[i] = (parent, index)
            self.branch[(parent, index)] = i

    def ancestor_at(self, u: int, depth: int) -> int:
        while self.depth[u] > depth:
            j = self.jump[u]
            u = j if self.depth[j] >= depth else self.up[u]
        return u

    def lca(self, u: int, v: int) -> int:
        if self.depth[u] < self.depth[v]:
            u, v = v, u
        u = self.ancestor_at(u, self.depth[v])
        while u != v:
            if self.jump[u] != self.jump[v]:
                u, v = self.jump[u], self.jump[v]
            else:
                u, v = self.up[u], self.up[v]
        return u

    def under(self, u: int, v: int) -> bool:
        return self.depth[u] >= self.depth[v] and self.ancestor_at(u, self.depth[v]) == v

    # -- decisions ------------------------------------------------------------------------------
    def place(self, i: int, root: int) -> None:
        if i == root:
            self.attach(i, None)
            return
        edges = self.parents[i]
        if len(edges) == 1 and self.count[edges[0][0]] == 1:
            p, j = edges[0]
            self.attach(i, p, self.guarded(p, j), j)
            return
        if not self.expr[i].src:
            self.count[i] = 2  # a repeated name or literal: nothing below it to place
            return
        elems = []
        then_of = {p for p, j in edges if j == 1 and self.expr[p].op == n.IF and self.count[p] == 1}
        for p, j in edges:
            if self.count[p] == 1:
                elems.append(_Elem(p, not self.guarded(p, j), (p, j), 1))
            else:
                elems.append(_Elem(self.anc[p], self.sreach[p] and not self.guarded(p, j), (p, j), 2))
            if j == 2 and p in then_of:
                elems.append(_Elem(p, True, None, 0))  # if(c, x, x): x is evaluated either way
        if self.bindable(i):
            at = self.common(elems)
            if self.speculable(i) or self.anticipated(at, elems):
                if self.bind(i, at, elems):
                    return
            elems = self.bind_groups(i, elems)
        self.settle(i, elems)

    def settle(self, i: int, elems: list[_Elem]) -> None:
        """Record where the occurrences of ``i`` are, for its operands' decisions."""
        weighted = [el for el in elems if el.weight]
        if len(weighted) == 1 and weighted[0].weight == 1:
            el = weighted[0]
            if el.edge is None:  # the one occurrence is a let value: evaluated where the let is
                self.attach(i, el.at)
            else:
                self.attach(i, el.edge[0], self.guarded(*el.edge), el.edge[1])
            return
        at = self.common(elems)
        self.count[i] = 2
        self.anc[i] = at
        self.sreach[i] = self.anticipated(at, elems)

    def common(self, elems: list[_Elem]) -> int:
        at = elems[0].at
        for el in elems[1:]:
            at = self.lca(at, el.at)
        return at

    def guarded(self, p: int, j: int) -> bool:
        """Whether operand ``j`` of instance ``p`` may go unevaluated when ``p`` is evaluated."""
        op = self.expr[p].op
        return op == n.LAMBDA or (op == n.IF and j > 0)

    def anticipated(self, at: int, elems: list[_Elem]) -> bool:
        """Whether evaluating position ``at`` evaluates one of the occurrences."""
        home = self.region[at]
        regions = set()
        for el in elems:
            if el.strict:
                if self.region[el.at] == home:
                    return True
                regions.add(self.region[el.at])
        for r in regions:  # both branches of an if that is always evaluated
            b = self.branch_of.get(r)
            if b is not None and self.branch.get((b[0], 3 - b[1])) in regions and self.region[b[0]] == home:
                return True
        return False

    def bindable(self, i: int) -> bool:
        e = self.expr[i]
        if e.op in _NEVER or is_trivial(e) or e.ty is None or e.ty.is_builder:
            return False
        if free_builders(e):
            return False  # uses a builder from outside: its value depends on when it is evaluated
        return all(self.count[b] == 1 for _, b in self.key[i])  # binders of its names occur once

    def speculable(self, i: int) -> bool:
        e = self.expr[i]
        expensive = memo_up(e, self._expensive, lambda x, subs: x.op in _EXPENSIVE or any(subs))
        return not expensive and not can_fail(e)

    def position(self, at: int) -> int | None:
        """Where a let for occurrences below ``at`` goes: ``at``, or an ancestor when ``at`` is an
        iterator (part of its ``for``) or a builder its parent uses; None for a lambda."""
        if self.expr[at].op == n.ITER:
            at = self.up[at]
        while True:
            e = self.expr[at]
            if e.op == n.LAMBDA:
                return None
            if e.ty is None or not e.ty.is_builder or self.up[at] == at:
                return at
            p = self.up[at]
            if self.expr[p].op not in _BUILDER_PARENTS:
                return at
            at = p

    def bind(self, i: int, at: int, elems: list[_Elem]) -> bool:
        pos = self.position(at)
        if pos is None:
            return False
        ref = n.ident(self.fresh("cse"), self.expr[i].ty)
        for el in elems:
            if el.edge is not None:
                self.repl[el.edge] = ref
        self.lets.setdefault(pos, []).append((ref.arg, i))
        self.attach(i, pos)
        return True

    def bind_groups(self, i: int, elems: list[_Elem]) -> list[_Elem]:
        """Bind ``i`` once per group of occurrences where one is always evaluated; the elements
        left, plus one per binding made (its let value)."""
        if len(elems) > _MAX_GROUPED:
            return elems
        by_region: dict[int, int] = {}
        for el in elems:
            if el.strict:
                r = self.region[el.at]
                by_region[r] = el.at if r not in by_region else self.lca(by_region[r], el.at)
        left = list(elems)
        made = []
        for at in sorted(by_region.values(), key=self.depth.__getitem__):
            inside = [el for el in left if self.under(el.at, at)]
            home = self.region[at]
            if sum(el.weight for el in inside) < 2 or not any(
                el.strict and self.region[el.at] == home for el in inside
            ):
                continue
            pos = self.position(at)
            if pos is None:
                continue
            ref = n.ident(self.fresh("cse"), self.expr[i].ty)
            for el in inside:
                if el.edge is not None:
                    self.repl[el.edge] = ref
            self.lets.setdefault(pos, []).append((ref.arg, i))
            left = [el for el in left if el not in inside]
            made.append(_Elem(pos, True, None, 1))
        return left + made
