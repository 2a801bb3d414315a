"""lazyir: a lazy, fused, compiled runtime for the PyData stack."""

from .config import config
from .errors import EagerFallbackWarning, IRRuntimeError, IRSyntaxError, IRTypeError, LazyIRError
from .ir import Dictionary, Expr, parse

__all__ = [
    "Dictionary",
    "EagerFallbackWarning",
    "Expr",
    "IRRuntimeError",
    "IRSyntaxError",
    "IRTypeError",
    "LazyIRError",
    "compile",
    "config",
    "interpret",
    "parse",
]


def interpret(program, *args):
    """Run ``program`` (an ``Expr`` or IR text) with the reference interpreter."""
    from .ir.interpret import interpret as _interpret

    return _interpret(program, *args)


def compile(program, **options):  # noqa: A001 - the public name is lazyir.compile
    """Compile ``program`` (an ``Expr`` or IR text) to a callable. See ``lazyir.engine``."""
    from .engine import compile as _compile

    return _compile(program, **options)
