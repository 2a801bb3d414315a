"""``lazyir.evaluate`` and ``lazyir.explain`` on lazy values of any frontend."""

from __future__ import annotations

from typing import Any

from . import graph
from .numpy.array import lazy_nodes, ndarray, unwrap


def evaluate(values: tuple) -> Any:
    if len(values) == 1 and isinstance(values[0], ndarray):  # the common case, kept short
        return graph.evaluate([values[0]._node])[0]
    out = unwrap(list(values))
    return out[0] if len(out) == 1 else tuple(out)


def explain_values(value: Any, passes: Any = None) -> str:
    nodes = lazy_nodes(value)
    if not nodes:
        raise TypeError(f"nothing lazy to explain in {type(value).__name__}")
    todo = [m for m in dict.fromkeys(nodes) if not m.known]
    if not todo:
        return "(every value is already computed: no program)"
    from .. import engine

    prog, _ = graph.program(todo)
    return engine.explain(prog, passes)
