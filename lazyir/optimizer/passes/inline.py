"""Pass ``inline``: substitute ``let``-bound values into their uses, drop unused ``let``s.

``let x = v; body`` goes away when

- ``v`` is trivial (a name or a literal): every use of ``x`` becomes ``v``;
- ``x`` is used once, not inside a lambda (a loop body would evaluate ``v`` once per iteration),
  and either the use is evaluated whenever the ``let`` is (not in a branch of an ``if``) or
  ``v`` can be skipped (``analysis.removable``: it cannot fail and merges into no outside
  builder): moving a failing ``v`` into a branch would lose its error;
- ``x`` is unused and ``v`` is removable;
- ``v`` is a map (an appender loop over whole vectors merging once per iteration) and every use
  of ``x`` is the vector of a loop or of ``len``, none inside a lambda or a branch: each consumer
  then loops over the map's inputs and fuses with it (``fuse_vertical``); consumers over the same
  vectors become one loop (``fuse_horizontal``) and ``cse`` computes the map's body once there.
  Only maps up to ``SHARED_MAP_NODES`` (``SHARED_MAP_TREE`` as a tree): chains of shared maps
  would grow exponentially.
  Frontends bind every library call to a name, so a value used twice (``d1`` in Black-Scholes)
  would otherwise cost a pass over memory to write it and one per use to read it.

Moving ``v`` to its use relies on builders being linear (docs/ir.md): no other code in the
``let``'s body touches a builder that ``v`` merges into.

Frontends emit chains of thousands of ``let``s (``let a1 = f(p); let a2 = g(a1); ...``), so this
pass does not go through the bottom-up rewrite driver, which would rebuild the rest of the chain
at every step. It walks each chain once top-down, outermost ``let`` first: one bottom-up sweep of
the chain counts the uses of every name in its scope; the top-down sweep then carries the pending
replacements and substitutes them (capture-avoiding: a lean walk when nothing needs renaming, else
``analysis.substitute``) into each remaining ``let`` value and the final body, so a chain costs
time linear in its length wherever the names are used. A kept binder that would capture a free
name of a pending replacement is renamed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from ...ir import nodes as n
from ...ir import types as T
from ...ir.analysis import Fresh, free_vars, removable, substitute
from ...ir.deep import run_deep
from ..pipeline import register
from .fuse_vertical import peel_map

#: Use flags: the use may not be evaluated (``if`` branch, lambda body), or evaluated many times,
#: or is not the vector of a loop or of ``len``.
LAZY, REPEATED, NOT_LOOPED = 1, 2, 4

Uses = dict[str, tuple[int, int]]  # name -> (number of uses, capped at 2; flags)
_NO_USES: Uses = {}  # shared by every node that uses no name (answers are never mutated)


def _add(into: Uses, name: str, count: int, flags: int) -> None:
    old = into.get(name)
    if old is not None:
        count, flags = min(2, old[0] + count), old[1] | flags
    into[name] = (count, flags)


class _Inliner:
    def __init__(self, program: n.Expr):
        self.fresh = Fresh(program)
        self.memo: dict[n.Expr, n.Expr] = {}
        self.uses_memo: dict[n.Expr, Uses] = {}

    def go(self, e: n.Expr) -> n.Expr:
        """``e`` with every ``let`` inside it inlined or kept (memoized: the IR is a DAG)."""
        if not e.src:
            return e
        done = self.memo.get(e)
        if done is not None:
            return done
        if e.op == n.LET:
            out = self.chain(e)
        else:
            src = tuple([self.go(s) for s in e.src])
            out = e if src == e.src else n.Expr(e.op, src, e.arg, e.ty)
        self.memo[e] = out
        if out is not e:
            self.memo[out] = out
        return out

    def chain(self, e: n.Expr) -> n.Expr:
        lets: list[n.Expr] = []
        while e.op == n.LET:
            lets.append(e)
            e = e.src[1]
        values = [self.go(x.src[0]) for x in lets]
        body = self.go(e)

        # Bottom-up: the uses of each let's name in its scope (later values and the body).
        in_scope: list[tuple[int, int]] = [(0, 0)] * len(lets)
        acc: Uses = dict(self.uses(body))
        for i in range(len(lets) - 1, -1, -1):
            in_scope[i] = acc.pop(lets[i].arg, (0, 0))
            for name, (count, flags) in self.uses(values[i]).items():
                _add(acc, name, count, flags)

        # Top-down: decide each let, carrying the replacements still to substitute.
        pending = _Pending()
        kept: list[tuple[n.Expr, str, n.Expr]] = []
        for x, value, (count, flags) in zip(lets, values, in_scope, strict=True):
            value = pending.apply(value, self.uses)
            name = x.arg
            pending.unbind(name)  # below this binder, `name` is this let's variable
            trivial = value.op in (n.IDENT, n.LIT)
            once = count == 1 and not flags & REPEATED and not (flags & LAZY and not removable(value))
            shared_map = (
                count > 1 and not flags & (LAZY | REPEATED | NOT_LOOPED) and is_vector_map(value) and _small(value)
            )
            if trivial or shared_map:
                pending.bind(name, value, single=False)
            elif once:
                pending.bind(name, value, single=not trivial)
            elif count == 0 and removable(value):
                continue
            else:
                if pending.captures(name):
                    new = self.fresh(name)
                    pending.bind(name, n.ident(new, value.ty), single=False)
                    name = new
                kept.append((x, name, value))
        out = pending.apply(body, self.uses)
        for x, name, value in reversed(kept):
            out = n.Expr(n.LET, (value, out), name, x.ty)
        return out

    def uses(self, e: n.Expr) -> Uses:
        """Free names of ``e`` with their use counts and flags (never mutate the answer). The keys
        are ``free_vars(e)``: substitution reads them, so no free names are computed for the
        nodes that inlining replaces."""
        done = self.uses_memo.get(e)
        if done is not None:
            return done
        out: Uses
        if not e.src:
            out = {e.arg: (1, NOT_LOOPED)} if e.op == n.IDENT else _NO_USES
        elif e.op in (n.ITER, n.LEN) and e.src[0].op == n.IDENT and (e.op == n.LEN or e.arg == "vec"):
            out = {e.src[0].arg: (1, 0)}
        elif e.op == n.LAMBDA:
            params = {p for p, _ in e.params}
            out = {k: (count, LAZY | REPEATED) for k, (count, _) in self.uses(e.body).items() if k not in params}
        elif len(e.src) == 1:
            out = self.uses(e.src[0])  # shared
        else:
            parts = [(k, u) for k, u in enumerate(map(self.uses, e.src)) if u]
            if not parts:
                out = _NO_USES
            elif e.op not in (n.IF, n.LET):
                out = parts[0][1]  # shared when one operand uses names
                if len(parts) > 1:
                    out = dict(out)
                    for _, u in parts[1:]:
                        for name, use in u.items():
                            old = out.get(name)
                            out[name] = use if old is None else (min(2, old[0] + use[0]), old[1] | use[1])
            else:
                out = {}
                for k, u in parts:
                    lazy = LAZY if e.op == n.IF and k > 0 else 0
                    shadowed = e.arg if e.op == n.LET and k == 1 else None
                    for name, (count, flags) in u.items():
                        if name != shadowed:
                            _add(out, name, count, flags | lazy)
        self.uses_memo[e] = out
        return out


class _Pending:
    """Replacements waiting to be substituted into the rest of a let chain, and the free names
    of those replacements (a binder with one of those names would capture it).

    The free names are counted only when a kept binder asks (``captures``): most replacements
    are substituted and dropped before that, and a replacement just built by substitution would
    otherwise have its free names computed for nothing."""

    def __init__(self) -> None:
        self.repl: dict[str, n.Expr] = {}
        self.single: set[str] = set()  # used once: dropped once substituted
        self.free: dict[str, int] = {}  # free names of the counted replacements, with counts
        self.uncounted: dict[str, n.Expr] = {}  # replacements not counted in `free` yet

    def bind(self, name: str, value: n.Expr, single: bool) -> None:
        self.unbind(name)
        self.repl[name] = value
        self.uncounted[name] = value
        if single:
            self.single.add(name)

    def unbind(self, name: str) -> None:
        value = self.repl.pop(name, None)
        if value is not None:
            if self.uncounted.pop(name, None) is None:
                free = self.free
                for v in free_vars(value):
                    free[v] -= 1
            self.single.discard(name)

    def captures(self, name: str) -> bool:
        free = self.free
        for value in self.uncounted.values():
            for v in free_vars(value):
                free[v] = free.get(v, 0) + 1
        self.uncounted.clear()
        return free.get(name, 0) > 0

    def apply(self, e: n.Expr, free: Callable[[n.Expr], Collection[str]]) -> n.Expr:
        """``e`` with the pending replacements substituted (``free``: free names of a node)."""
        out = self.repl.get(e.arg) if e.op == n.IDENT else None
        if out is not None and out.ty is not None:  # a name, often a builder passed on: no walk
            mapping = {e.arg: out}
        else:
            mapping = {name: self.repl[name] for name in free(e) if name in self.repl}
            if not mapping:
                return e
            out = _substitute_plain(e, mapping, free)
            if out is None:
                out = substitute(e, mapping)
        for name in mapping:
            if name in self.single:
                self.unbind(name)
        return out


def _keys(names: Collection[str]) -> Collection[str]:
    """A set of names, or a dict's keys as a view: ``isdisjoint`` then scans the smaller side."""
    return names.keys() if type(names) is dict else names  # type: ignore[attr-defined]


class _Capture(Exception):
    """A binder on the way to a use would capture a free name of a replacement."""


def _substitute_plain(
    e: n.Expr,
    mapping: dict[str, n.Expr],
    free: Callable[[n.Expr], Collection[str]] = free_vars,
    repl_free: frozenset[str] | None = None,
) -> n.Expr | None:
    """``substitute(e, mapping)`` when that renames nothing (no binder on the way to a use binds a
    free name of a replacement), else None: the common case, without the general substitution's
    renaming machinery, and at each node work in the smaller of its free names and the mapping
    (the general one scans the whole mapping per node: quadratic when a body uses many names).
    ``free``: the free names of a node of ``e``, a set or a dict keyed by them (``free_vars``, or
    what the caller knows already);
    ``repl_free``: the free names of the replacements, when known (``substitute`` renames a
    binder that has one of them, whichever replacement it comes from)."""
    for v in mapping.values():
        if v.ty is None:
            return None
    names = mapping.keys()
    one = next(iter(names)) if len(mapping) == 1 else None
    memo: dict[n.Expr, n.Expr] = {}

    def go(x: n.Expr) -> n.Expr:
        nonlocal repl_free
        fv = free(x)
        if one is not None:
            if one not in fv:
                return x
        elif names.isdisjoint(_keys(fv)):
            return x
        out = memo.get(x)
        if out is not None:
            return out
        op = x.op
        if op == n.IDENT:
            out = mapping[x.arg]
        elif op == n.LET or op == n.LAMBDA:
            if repl_free is None:
                repl_free = frozenset().union(*(free_vars(v) for v in mapping.values()))
            bound = [x.arg] if op == n.LET else [p for p, _ in x.arg]
            body = x.src[-1]
            inner = mapping if names.isdisjoint(bound) else {k: v for k, v in mapping.items() if k not in bound}
            if inner and not inner.keys().isdisjoint(_keys(free(body))):
                if not repl_free.isdisjoint(bound):
                    raise _Capture
                body = go(body) if inner is mapping else _substitute_plain(body, inner, free, repl_free)
                if body is None:
                    raise _Capture
            src = (go(x.src[0]), body) if op == n.LET else (body,)
            out = n.Expr(op, src, x.arg, x.ty)
        else:
            out = n.Expr(op, tuple([go(s) for s in x.src]), x.arg, x.ty)
        memo[x] = out
        return out

    try:
        return go(e)
    except _Capture:
        return None


#: A shared map is recomputed by each loop that reads it only up to this many distinct nodes,
#: and this many nodes counted as a tree (shared sub-expressions once per use): a chain of
#: shared maps would otherwise grow the program, and the work, exponentially.
SHARED_MAP_NODES = 400
SHARED_MAP_TREE = 20_000


def _small(e: n.Expr) -> bool:
    tree: dict[n.Expr, int] = {}
    stack: list[tuple[n.Expr, bool]] = [(e, False)]
    while stack:
        x, done = stack.pop()
        if done:
            tree[x] = 1 + sum(tree[c] for c in x.src)
            if tree[x] > SHARED_MAP_TREE:
                return False
            continue
        if x in tree:
            continue
        if len(tree) + len(stack) > 4 * SHARED_MAP_NODES:
            return False
        tree[x] = 0  # placeholder: visiting
        stack.append((x, True))
        stack.extend((c, False) for c in x.src if c not in tree)
    return len(tree) <= SHARED_MAP_NODES


def is_vector_map(e: n.Expr) -> bool:
    """``result(for(vectors, appender, |b, i, x| lets; merge(b, v)))``: one element per element
    of its input vectors (or ``rangeiter``s)."""
    if e.op != n.RESULT or e.src[0].op != n.FOR:
        return False
    iters, builder, _ = n.for_parts(e.src[0])
    if builder.op != n.NEWBUILDER or not isinstance(builder.arg, T.Appender):
        return False
    return all(it.op == n.ITER and it.arg in ("vec", "range") for it in iters) and peel_map(e.src[0]) is not None


@register("inline")
def run(program: n.Expr) -> n.Expr:
    """Inline single-use and trivial lets and drop unused ones (linear on long let chains)."""
    return run_deep(lambda: _Inliner(program).go(program))
