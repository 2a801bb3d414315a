"""Compile a typed program to a callable: codegen, LLVM optimization, object code, caches.

Compiled code is cached in memory by program (nodes are interned, so the program itself is the
key) and on disk as object code under a key that also covers the llvmlite version, the host CPU
name and features and the math-library configuration. ``LAZYIR_CACHE_DIR`` overrides the location
(default ``$XDG_CACHE_HOME/lazyir`` or ``~/.cache/lazyir``); the directory is created private
(0700). A cache file that is truncated or corrupt is recompiled and rewritten, never trusted.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IRRuntimeError
from ..ir import nodes as n
from ..ir.deep import run_deep
from ..ir.values import check_args
from . import abi
from .codegen import Codegen
from .jit import target
from .runtime import ERROR_MESSAGES, CContext

#: Bump when generated code changes meaning: part of every disk-cache key.
CODEGEN_VERSION = "1"
_MAGIC = b"LZIR1\n"
_ENTRY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


@dataclass
class CompileStats:
    """Where a compiled program came from and what each stage cost (seconds)."""

    source: str = "cold"  # "cold", "disk" or "memory"
    times: dict[str, float] = field(default_factory=dict)


class CompiledProgram:
    """A compiled program; call it with the program's arguments."""

    def __init__(
        self, program: n.Expr, address: int, llvm_ir: str | None, stats: CompileStats, obj: bytes, symbol: str
    ):
        self.program = program
        self.params = program.params
        self.result_type = program.body.ty
        self._fn = _ENTRY(address)
        self.llvm_ir = llvm_ir
        self.stats = stats
        #: The object code and its entry symbol: what another process of the same target loads
        #: (``load_object``) instead of compiling.
        self.object = obj
        self.symbol = symbol

    def __call__(self, *args: Any) -> Any:
        values = check_args(self.program, args)
        keep: list = []
        bufs = [abi.pack(v, ty, keep) for v, (_, ty) in zip(values, self.params, strict=True)]
        argv = (ctypes.c_void_p * max(1, len(bufs)))(*[b.ctypes.data for b in bufs])
        out = np.zeros(1, dtype=abi.memory_dtype(self.result_type))
        ctx = CContext()
        self._fn(ctypes.addressof(ctx), ctypes.addressof(argv), out.ctypes.data)
        inputs = [a for a in keep if isinstance(a, np.ndarray) and a.size]
        heap = abi.Heap(ctx, inputs)
        try:
            if ctx.error:
                raise IRRuntimeError(f"{ERROR_MESSAGES.get(ctx.error, 'runtime error')} (value {ctx.detail})")
            return abi.decode(out, 0, self.result_type, heap)
        finally:
            heap.release()

    def __repr__(self) -> str:
        return f"<CompiledProgram {self.stats.source} {str(self.program)[:60]!r}>"


_memory: dict[tuple[n.Expr, bool], CompiledProgram] = {}
_lock = threading.Lock()


def compile_typed(
    program: n.Expr,
    cache_dir: str | os.PathLike | None = None,
    vector_math: bool = True,
    keep_ir: bool = False,
    prepare: Callable[[n.Expr], n.Expr] | None = None,
    prepare_key: str = "",
) -> CompiledProgram:
    """Compile a type-checked program (a root lambda), using the memory cache and, when
    ``cache_dir`` is given, the disk cache there. ``vector_math`` lets loops call libmvec.

    ``prepare`` (the optimizer) turns the program into the one to generate code for; it runs
    only on a cache miss: both caches are keyed by the program as given and ``prepare_key``
    (naming what ``prepare`` does), so a cache hit skips the optimizer too."""
    key = (program, vector_math, prepare_key)
    hit = _memory.get(key)
    if hit is not None and (hit.llvm_ir is not None or not keep_ir):
        return hit
    with _lock:
        hit = _memory.get(key)
        if hit is not None and (hit.llvm_ir is not None or not keep_ir):
            return hit
        path = Path(cache_dir) if cache_dir else None
        compiled = _compile(program, path, vector_math, keep_ir, prepare, prepare_key)
        _memory[key] = compiled
        return compiled


def _compile(
    program: n.Expr,
    cache_dir: Path | None,
    vector_math: bool,
    keep_ir: bool,
    prepare: Callable[[n.Expr], n.Expr] | None,
    prepare_key: str,
) -> CompiledProgram:
    if program.body.ty is not None and program.body.ty.is_builder:
        raise TypeError("a program cannot return a builder; return result(...) of it")
    stats = CompileStats()
    tg = target()
    t0 = time.perf_counter()
    text = str(program)
    config_key = f"{CODEGEN_VERSION}|{tg.cache_key}|vector_math={int(vector_math)}|prepare={prepare_key}"
    key = hashlib.sha256(f"{config_key}\n{text}".encode()).hexdigest()
    symbol = f"lz_main_{key[:24]}"
    path = cache_dir / f"{key}.o" if cache_dir else None
    stats.times["key"] = time.perf_counter() - t0
    obj = _read_cache(path) if path else None
    llvm_ir = None
    if obj is not None:
        stats.source = "disk"
    else:
        t = time.perf_counter()
        final = program
        if prepare is not None:
            final = prepare(program)
            stats.times["optimize"] = time.perf_counter() - t
            t = time.perf_counter()
        raw_ir = run_deep(lambda: Codegen(final, tg.triple, tg.data_layout, vector_math).text(symbol))
        stats.times["codegen"] = time.perf_counter() - t
        t = time.perf_counter()
        obj, llvm_ir = tg.optimize_and_emit(raw_ir, keep_ir)
        stats.times["llvm"] = time.perf_counter() - t
        if path:
            _write_cache(path, obj)
    t = time.perf_counter()
    address = tg.load(obj, symbol)
    stats.times["load"] = time.perf_counter() - t
    stats.times["total"] = time.perf_counter() - t0
    return CompiledProgram(program, address, llvm_ir, stats, obj, symbol)


def load_object(program: n.Expr, obj: bytes, symbol: str) -> CompiledProgram:
    """``program`` from object code compiled for it by another process on this target (see
    ``target_key``): loaded, not compiled."""
    stats = CompileStats(source="object")
    t = time.perf_counter()
    address = target().load(obj, symbol)
    stats.times["load"] = stats.times["total"] = time.perf_counter() - t
    return CompiledProgram(program, address, None, stats, obj, symbol)


def target_key() -> str:
    """What object code depends on besides the program: the code generator and the host target.
    Object code made under one key loads only in processes with the same key."""
    return f"{CODEGEN_VERSION}|{target().cache_key}"


def _read_cache(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 32
    if len(data) < head or not data.startswith(_MAGIC):
        return None
    digest, obj = data[len(_MAGIC) : head], data[head:]
    if hashlib.sha256(obj).digest() != digest:
        return None  # truncated or corrupt: recompile
    return obj


def _write_cache(path: Path, obj: bytes) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + hashlib.sha256(obj).digest() + obj)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full disk only costs the next process a compile


def clear_memory_cache() -> None:
    """Forget compiled programs held in memory (the code stays loaded in the engine)."""
    with _lock:
        _memory.clear()
