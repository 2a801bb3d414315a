"""Exceptions and warnings that users of lazyir meet."""

from __future__ import annotations


class LazyIRError(Exception):
    """Base class of lazyir's own errors."""


def _caret(source: str | None, line: int, col: int) -> str:
    if not source or line < 1:
        return ""
    lines = source.splitlines() or [""]
    if line > len(lines):
        return ""
    text = lines[line - 1]
    return f"\n  {text}\n  {' ' * (col - 1)}^"


class _Located(LazyIRError):
    """An error at a place in IR text: ``line`` and ``col`` are 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0, col: int = 0, source: str | None = None):
        self.message, self.line, self.col = message, line, col
        where = f"line {line}, column {col}: " if line else ""
        super().__init__(where + message + _caret(source, line, col))


class IRSyntaxError(_Located, ValueError):
    """Malformed IR text; the message shows the line with a caret under the spot."""


class IRTypeError(_Located, TypeError):
    """An IR program that does not type-check; the message names the offending sub-expression."""


class IRRuntimeError(LazyIRError, RuntimeError):
    """A compiled or interpreted program failed at run time (index out of range, missing key...)."""


class EagerFallbackWarning(UserWarning):
    """An operation lazyir does not capture ran eagerly on the real library."""
