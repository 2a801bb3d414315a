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
    "evaluate",
    "fallback_report",
    "explain",
    "optimize",
    "interpret",
    "parse",
]


def interpret(program, *args):
    """Run ``program`` (an ``Expr`` or IR text) with the reference interpreter."""
    from .ir.interpret import interpret as _interpret

    return _interpret(program, *args)


def compile(program, **options):  # noqa: A001 - the public name is lazyir.compile
    """Compile ``program`` (an ``Expr`` or IR text) to a callable, optimized by default.
    See ``lazyir.engine.compile``."""
    from .engine import compile as _compile

    return _compile(program, **options)


def optimize(program, passes=None):
    """The optimized program (``passes`` by name; default ``lazyir.config.passes``)."""
    from .engine import optimize as _optimize

    return _optimize(program, passes)


def explain(program, passes=None) -> str:
    """Text: the program before and after optimization, the passes that changed it with their
    times, and the loop counts before and after. ``program`` is an ``Expr``, IR text, or lazy
    values (a lazy array, or a list/tuple/dict of them): then the program that would compute
    them."""
    from .engine import explain as _explain

    if not isinstance(program, (str, Expr)):
        from .frontends.api import explain_values

        return explain_values(program, passes)
    return _explain(program, passes)


def evaluate(*values, scheduler=None):
    """Compute every lazy value in ``values`` (lazy arrays, plain values, and lists, tuples and
    dicts of them) in one optimized program; plain NumPy values in the same structure. One
    argument gives one result; several give a tuple.

    ``scheduler``: ``"threads"`` (the default: loops split across ``config.num_threads``),
    ``"sync"`` (one thread) or a ``distributed.Client`` (loops split into Dask tasks)."""
    global _evaluate
    if _evaluate is None:
        from .frontends.api import evaluate as _evaluate
    if scheduler is not None:
        with config.set(scheduler=scheduler):
            return _evaluate(values)
    return _evaluate(values)


_evaluate = None


def fallback_report() -> dict:
    """Which functions ran eagerly on the real library (``EagerFallbackWarning``), how often."""
    from .frontends.fallback import report

    return report()
