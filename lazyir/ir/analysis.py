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
