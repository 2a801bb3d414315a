"""Pass ``size`` (not written yet: returns the program unchanged)."""

from __future__ import annotations

from ...ir import nodes as n
from ..pipeline import register


@register("size")
def run(program: n.Expr) -> n.Expr:
    """size (placeholder)."""
    return program
