"""Math functions for compiled code: libm for scalars, glibc's libmvec for vector loops.

A scalar call goes to ``lz_<fn>_<f64|f32>``, a symbol bound to the libm function (a name LLVM does
not recognize, so it is not turned into an intrinsic that would be scalarized again). The call
carries a ``vector-function-abi-variant`` attribute listing libmvec's variants (``_ZGVeN8v_exp``:
AVX-512, 8 lanes) that this host can run; LLVM's loop vectorizer then calls them on whole vectors
and keeps the scalar call for the remainder. Without libmvec the attribute is left out and the
scalar path gives the same results.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

import llvmlite.binding as llvm
from llvmlite import ir

from ..ir.nodes import FLOAT_UNOPS
from .lltypes import F32

INTRINSIC_UNARY = {"sqrt": "llvm.sqrt", "floor": "llvm.floor", "ceil": "llvm.ceil", "abs": "llvm.fabs"}
#: IR unary functions that call libm (the others above are LLVM intrinsics).
LIBM_UNARY = tuple(f for f in FLOAT_UNOPS if f not in INTRINSIC_UNARY)
LIBM_BINARY = ("pow", "atan2", "fmod")

# libmvec ISA letters and lane counts per element width: (letter, host feature, f64 lanes).
_ISAS = (("b", "sse4.2", 2), ("d", "avx2", 4), ("e", "avx512f", 8))


@cache
def _libm() -> ctypes.CDLL:
    try:
        return ctypes.CDLL("libm.so.6")
    except OSError:
        return ctypes.CDLL(ctypes.util.find_library("m"))


@cache
def _libmvec() -> ctypes.CDLL | None:
    for name in ("libmvec.so.1", None):
        name = name or ctypes.util.find_library("mvec")  # slow (runs ldconfig): only as a fallback
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            llvm.load_library_permanently(name)
            return lib
        except OSError:
            continue
    return None


@cache
def host_features() -> frozenset[str]:
    flat = llvm.get_host_cpu_features().flatten()
    return frozenset(f[1:] for f in flat.split(",") if f.startswith("+"))


def symbol(fn: str, bits: int) -> str:
    return f"lz_{fn}_f{bits}"


@cache
def bind_symbols() -> None:
    """Bind every ``lz_<fn>_<bits>`` symbol to libm's function, and load libmvec for its vector
    variants (once per process, at start-up rather than in the first program's compile)."""
    libm = _libm()
    for fn in LIBM_UNARY + LIBM_BINARY:
        for bits, cname in ((64, fn), (32, fn + "f")):
            addr = ctypes.cast(getattr(libm, cname), ctypes.c_void_p).value
            llvm.add_symbol(symbol(fn, bits), addr)
    _libmvec()


@cache
def vector_variants(fn: str, bits: int) -> tuple[tuple[int, str], ...]:
    """``(lanes, libmvec name)`` pairs this host can run for ``fn`` on ``bits``-wide floats."""
    lib = _libmvec()
    if lib is None or fn == "fmod":
        return ()
    feats = host_features()
    params = "vv" if fn in LIBM_BINARY else "v"
    out = []
    for letter, feature, lanes64 in _ISAS:
        if feature not in feats:
            continue
        lanes = lanes64 if bits == 64 else lanes64 * 2
        name = f"_ZGV{letter}N{lanes}{params}_{fn}{'' if bits == 64 else 'f'}"
        if hasattr(lib, name):
            out.append((lanes, name))
    return tuple(out)


def config_key() -> str:
    """What the generated code depends on besides the program: part of the disk-cache key."""
    return "libmvec=" + ("1" if _libmvec() is not None else "0")


class _Anything(frozenset):
    def __contains__(self, item: object) -> bool:
        return True


class _CallAttrs(ir.instructions.CallInstrAttributes):
    """Call-site attributes without llvmlite's whitelist (for string attributes)."""

    _known = _Anything()


class _FnAttrs(ir.values.FunctionAttributes):
    _known = _Anything()


@cache
def tuning_attributes() -> tuple[str, ...]:
    """The function attributes every generated function carries: loops use the host's widest
    vectors (LLVM prefers 256 bits on AVX-512 hosts, which halves the width of libmvec calls in
    transcendental loops)."""
    return ('"prefer-vector-width"="512"',) if "avx512f" in host_features() else ()


def tune_function(fn: ir.Function) -> None:
    """Give ``fn`` the ``tuning_attributes``."""
    extra = tuning_attributes()
    if extra:
        attrs = _FnAttrs(list(fn.attributes))
        for a in extra:
            attrs.add(a)
        fn.attributes = attrs


class MathLib:
    """Declares math functions in one module and emits calls to them. The libmvec variants are
    never called directly, only named by the calls' attributes: their declarations are text
    (``declarations``, the same for every module) rather than llvmlite objects."""

    def __init__(self, module: ir.Module, vector: bool = True):
        self.module = module
        self.vector = vector
        self._keep: dict[str, str] = {}  # libmvec name -> its declaration

    def _declare(self, name: str, fty: ir.FunctionType) -> ir.Function:
        fn = self.module.globals.get(name)
        if fn is None:
            fn = ir.Function(self.module, fty, name)
        return fn

    def call(self, b: ir.IRBuilder, fn: str, args: list[ir.Value]) -> ir.Value:
        """Emit ``fn(*args)`` on f32 or f64 values."""
        ty = args[0].type
        bits = 32 if ty == F32 else 64
        if fn in INTRINSIC_UNARY:
            f = self._declare(f"{INTRINSIC_UNARY[fn]}.f{bits}", ir.FunctionType(ty, [ty]))
            return b.call(f, args)
        f = self._declare(symbol(fn, bits), ir.FunctionType(ty, [ty] * len(args)))
        if not isinstance(f.attributes, _FnAttrs):
            f.attributes = _FnAttrs(["nounwind", "willreturn", "memory(none)"])
        call = b.call(f, args)
        if self.vector:
            variants = _variants(fn, bits, len(args))
            if variants:
                call.attributes = _CallAttrs([variants[0]])
                self._keep.update(variants[1])
        return call

    def declarations(self) -> str:
        """The text to append to the module's: the vector variants the calls name, kept declared
        by ``llvm.compiler.used`` (LLVM drops unused declarations before vectorizing)."""
        if not self._keep:
            return ""
        used = ", ".join(f'ptr @"{name}"' for name in self._keep)
        kept = f'@llvm.compiler.used = appending global [{len(self._keep)} x ptr] [{used}], section "llvm.metadata"'
        return "\n".join([*self._keep.values(), kept, ""])


@cache
def _variants(fn: str, bits: int, nargs: int) -> tuple[str, dict[str, str]] | None:
    """The call attribute naming the libmvec variants of ``fn`` and their declarations."""
    variants = vector_variants(fn, bits)
    if not variants:
        return None
    params = "v" * nargs
    scalar = symbol(fn, bits)
    mangled = ",".join(f"_ZGV_LLVM_N{lanes}{params}_{scalar}({name})" for lanes, name in variants)
    decls = {}
    for lanes, name in variants:
        vty = f"<{lanes} x {'double' if bits == 64 else 'float'}>"
        decls[name] = f'declare {vty} @"{name}"({", ".join([vty] * nargs)})'
    return f'"vector-function-abi-variant"="{mangled}"', decls
