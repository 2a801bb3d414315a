"""Wires the stages: text -> IR (parse, type check) -> optimizer -> backend.

The one module that imports from every layer; frontends call it, never the backend directly.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .config import config
from .ir import Expr, parse, typecheck


@lru_cache(maxsize=1024)
def _parse_text(text: str) -> Expr:
    return parse(text)


def as_program(program: Expr | str) -> Expr:
    """A type-checked root lambda from IR text or an ``Expr``."""
    if isinstance(program, str):
        return _parse_text(program)
    if not isinstance(program, Expr):
        raise TypeError(f"expected IR text or a lazyir Expr, got {type(program).__name__}")
    if program.ty is None:
        return typecheck(program)
    return program


def compile(program: Expr | str, *, cache: bool = True, keep_ir: bool = False) -> Any:  # noqa: A001
    """Compile ``program`` to a callable ``CompiledProgram``.

    ``cache=False`` skips the on-disk object cache (the in-memory cache always applies);
    ``keep_ir=True`` keeps the optimized LLVM IR text on the result as ``.llvm_ir``.
    """
    from .backend.compiler import compile_typed

    opts = config.options
    return compile_typed(
        as_program(program),
        cache_dir=opts.cache_dir if (cache and opts.disk_cache) else None,
        vector_math=opts.vector_math,
        keep_ir=keep_ir,
    )
