"""Small analyses over IR expressions shared by the optimizer and the backend."""

from __future__ import annotations

from functools import lru_cache

from . import nodes as n


@lru_cache(maxsize=1 << 16)
def free_vars(e: n.Expr) -> frozenset[str]:
    """Names ``e`` uses that it does not bind itself."""
    if e.op == n.IDENT:
        return frozenset((e.arg,))
    if e.op == n.LET:
        # Walk let chains iteratively: frontends build long ones.
        chain = []
        while e.op == n.LET:
            chain.append(e)
            e = e.src[1]
        out = free_vars(e)
        for node in reversed(chain):
            out = (out - {node.arg}) | free_vars(node.src[0])
        return out
    if e.op == n.LAMBDA:
        return free_vars(e.body) - {name for name, _ in e.params}
    out: frozenset[str] = frozenset()
    for s in e.src:
        out |= free_vars(s)
    return out


def count_loops(e: n.Expr) -> int:
    """Number of ``for`` nodes in ``e`` (passes over memory, before fusion)."""
    seen: set[int] = set()
    stack, total = [e], 0
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        total += x.op == n.FOR
        stack.extend(x.src)
    return total


def bound_names(e: n.Expr) -> frozenset[str]:
    """Every name a ``let`` or lambda inside ``e`` binds."""
    out: set[str] = set()
    seen: set[int] = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if x.op == n.LET:
            out.add(x.arg)
        elif x.op == n.LAMBDA:
            out.update(name for name, _ in x.params)
        stack.extend(x.src)
    return frozenset(out)


class Fresh:
    """Names not used in a given set of expressions: ``fresh("b")`` -> ``b__1``, ``b__2``..."""

    def __init__(self, *exprs: n.Expr):
        self.taken: set[str] = set()
        for e in exprs:
            self.taken |= free_vars(e) | bound_names(e)
        self.counter = 0

    def __call__(self, base: str) -> str:
        base = base.split("__")[0]
        while True:
            self.counter += 1
            name = f"{base}__{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def substitute(e: n.Expr, mapping: dict[str, n.Expr]) -> n.Expr:
    """``e`` with free occurrences of the names in ``mapping`` replaced, avoiding capture: a binder
    inside ``e`` that would capture a free name of a replacement is renamed. Replacements must
    have the types of the names they replace (identifiers they contain carry types)."""
    if not mapping:
        return e
    if any(v.ty is None for v in mapping.values()):
        # Typed trees must not get untyped parts (the checker trusts typed nodes): type them.
        mapping = {k: _typed_if_possible(v) for k, v in mapping.items()}
    repl_free: frozenset[str] = frozenset().union(*(free_vars(v) for v in mapping.values()))
    fresh = Fresh(e, *mapping.values())
    memo: dict[tuple[n.Expr, tuple], n.Expr] = {}

    def go(x: n.Expr, m: dict[str, n.Expr]) -> n.Expr:
        live = {k: v for k, v in m.items() if k in free_vars(x)}
        if not live:
            return x
        key = (x, tuple(sorted((k, id(v)) for k, v in live.items())))
        done = memo.get(key)
        if done is not None:
            return done
        out = _subst_node(x, live)
        memo[key] = out
        return out

    def _subst_node(x: n.Expr, m: dict[str, n.Expr]) -> n.Expr:
        if x.op == n.IDENT:
            return m[x.arg]
        if x.op == n.LET:
            value = go(x.src[0], m)
            name, body = x.arg, x.src[1]
            inner = {k: v for k, v in m.items() if k != name}
            if name in repl_free and inner and (free_vars(body) & inner.keys()):
                new = fresh(name)
                body = go(body, {name: n.ident(new, x.src[0].ty)})
                name = new
            return x.replace(src=(value, go(body, inner)), arg=name)
        if x.op == n.LAMBDA:
            params = list(x.params)
            inner = {k: v for k, v in m.items() if k not in {p for p, _ in params}}
            body = x.body
            renames: dict[str, n.Expr] = {}
            for j, (p, ty) in enumerate(params):
                if p in repl_free and inner:
                    new = fresh(p)
                    renames[p] = n.ident(new, ty)
                    params[j] = (new, ty)
            if renames:
                body = go(body, renames)
            return x.replace(src=(go(body, inner),), arg=tuple(params))
        return x.replace(src=tuple(go(s, m) for s in x.src))

    return go(e, mapping)


def _typed_if_possible(v: n.Expr) -> n.Expr:
    if v.ty is not None:
        return v
    from ..errors import IRTypeError
    from .typecheck import typecheck

    try:
        return typecheck(v, trust_typed=True)
    except IRTypeError:
        return v  # it mentions untyped names: typed later, with its context


def use_count(e: n.Expr, name: str) -> int:
    """How many times free ``name`` occurs in ``e`` (occurrences in shared sub-trees count each
    time the tree uses them, as evaluation would)."""
    memo: dict[n.Expr, int] = {}

    def go(x: n.Expr) -> int:
        if name not in free_vars(x):
            return 0
        if x.op == n.IDENT:
            return 1
        done = memo.get(x)
        if done is not None:
            return done
        if x.op == n.LET:
            total = go(x.src[0]) + (0 if x.arg == name else go(x.src[1]))
        elif x.op == n.LAMBDA:
            total = go(x.body)
        else:
            total = sum(go(s) for s in x.src)
        memo[x] = total
        return total

    return go(e)
