"""Wires the stages: text -> IR (parse, type check) -> optimizer -> backend.

The one module that imports from every layer; frontends call it, never the backend directly.
"""

from __future__ import annotations

from typing import Any

from .ir import Expr, parse, typecheck


def as_program(program: Expr | str) -> Expr:
    """A type-checked root lambda from IR text or an ``Expr``."""
    if isinstance(program, str):
        return parse(program)
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

    return compile_typed(as_program(program), use_disk=cache, keep_ir=keep_ir)
