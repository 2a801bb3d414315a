"""Pass ``fuse_horizontal`` (not written yet: returns the program unchanged)."""

from __future__ import annotations

from ...ir import nodes as n
from ..pipeline import register


@register("fuse_horizontal")
def run(program: n.Expr) -> n.Expr:
    """fuse_horizontal (placeholder)."""
    return program
