"""Pass ``inline`` (not written yet: returns the program unchanged)."""

from __future__ import annotations

from ...ir import nodes as n
from ..pipeline import register


@register("inline")
def run(program: n.Expr) -> n.Expr:
    """inline (placeholder)."""
    return program
