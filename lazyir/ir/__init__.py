"""The lazyir IR: types, immutable expression nodes, text form, parser and type checker."""

from . import nodes, types
from .nodes import Expr
from .printer import to_text
from .typecheck import typecheck
from .values import Dictionary

__all__ = ["Dictionary", "Expr", "nodes", "parse", "to_text", "typecheck", "types"]


def parse(text: str, check: bool = True) -> Expr:
    """Parse IR text; with ``check`` (the default) also type-check it. See docs/ir.md."""
    from .parser import parse_with_positions

    e, positions = parse_with_positions(text)
    return typecheck(e, source=text, positions=positions) if check else e
