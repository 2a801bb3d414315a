"""Pass ``fuse_vertical`` (not written yet: returns the program unchanged)."""

from __future__ import annotations

from ...ir import nodes as n
from ..pipeline import register


@register("fuse_vertical")
def run(program: n.Expr) -> n.Expr:
    """fuse_vertical (placeholder)."""
    return program
