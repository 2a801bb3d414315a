"""Pass ``dce`` (not written yet: returns the program unchanged)."""

from __future__ import annotations

from ...ir import nodes as n
from ..pipeline import register


@register("dce")
def run(program: n.Expr) -> n.Expr:
    """dce (placeholder)."""
    return program
