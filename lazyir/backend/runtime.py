"""Runtime support in LLVM: allocation and error reporting.

The functions are compiled once per process into the JIT (``emit_runtime(module, define=True,
export=True)``) and every program module only declares them, so a program's compile time does not
include optimizing and emitting them again. Standalone modules (tests) define private copies.

Every compiled call gets a context (``CTX``): a table of the heap blocks it allocated and an error
slot. Blocks carry a 16-byte header ``{i64 record index, i64 size}`` in front of the pointer the
kernel sees, so ``realloc``/``free`` keep the table current. After the call, the Python side
hands the blocks that results point into to NumPy (zero copy) and frees the rest.

Errors do not unwind: ``error`` records the first error code, the kernel substitutes a safe value
and goes on, and the caller raises ``IRRuntimeError`` after the call.
"""

from __future__ import annotations

import ctypes

from llvmlite import ir

from .lltypes import I32, I64, PTR

#: The context struct: records, count, capacity, first error code, error detail.
CTX = ir.LiteralStructType([PTR, I64, I64, I64, I64])
HEADER = 16

ERR_LOOKUP, ERR_SLICE, ERR_KEY, ERR_ZIP, ERR_ITER, ERR_VECMERGER, ERR_NOMEM = 1, 2, 3, 4, 5, 6, 7
ERROR_MESSAGES = {
    ERR_LOOKUP: "lookup index out of range",
    ERR_SLICE: "slice bounds out of range",
    ERR_KEY: "lookup of a key that is not in the dictionary",
    ERR_ZIP: "zip of vectors of unequal lengths",
    ERR_ITER: "iter bounds outside the vector or stride <= 0",
    ERR_VECMERGER: "vecmerger index out of range",
    ERR_NOMEM: "out of memory",
}


class CContext(ctypes.Structure):
    """The Python view of ``CTX``."""

    _fields_ = [
        ("records", ctypes.c_void_p),
        ("count", ctypes.c_int64),
        ("cap", ctypes.c_int64),
        ("error", ctypes.c_int64),
        ("detail", ctypes.c_int64),
    ]


#: The runtime's symbols, exported from the process's runtime module.
ERROR, ALLOC, REALLOC, FREE = "lazyir_rt_error", "lazyir_rt_alloc", "lazyir_rt_realloc", "lazyir_rt_free"
SIGNATURES = {
    ERROR: (ir.VoidType(), [PTR, I64, I64]),
    ALLOC: (PTR, [PTR, I64]),
    REALLOC: (PTR, [PTR, PTR, I64]),
    FREE: (ir.VoidType(), [PTR, PTR]),
}

_FRESH = (ALLOC, REALLOC)


def _fn(module: ir.Module, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
    existing = module.globals.get(name)
    if existing is not None:
        return existing
    fn = ir.Function(module, ir.FunctionType(ret, args), name)
    if name in _FRESH:
        # Fresh memory, like malloc's: LLVM then knows two new vectors never overlap (no runtime
        # overlap check in front of a vectorized loop that fills both).
        fn.return_value.add_attribute("noalias")
    return fn


def libc(module: ir.Module, name: str) -> ir.Function:
    sigs = {
        "malloc": (PTR, [I64]),
        "realloc": (PTR, [PTR, I64]),
        "free": (ir.VoidType(), [PTR]),
        "memcpy": (PTR, [PTR, PTR, I64]),
        "memset": (PTR, [PTR, I32, I64]),
        "memcmp": (I32, [PTR, PTR, I64]),
    }
    ret, args = sigs[name]
    return _fn(module, name, ret, args)


def _field(b: ir.IRBuilder, ctx: ir.Value, i: int) -> ir.Value:
    return b.gep(ctx, [ir.Constant(I32, 0), ir.Constant(I32, i)], inbounds=True, source_etype=CTX)


def emit_runtime(module: ir.Module, define: bool = False, export: bool = False) -> None:
    """Declare the allocation and error functions in ``module`` (they
    resolve to the process's compiled copies), or define them there: private copies, or with
    ``export`` the process's copies under their exported names."""
    if ALLOC in module.globals:
        return
    if not define:
        for name, (ret, args) in SIGNATURES.items():
            _fn(module, name, ret, args)
        module.globals[ERROR].attributes.add("cold")
        return
    malloc, realloc, free = libc(module, "malloc"), libc(module, "realloc"), libc(module, "free")
    c = lambda v: ir.Constant(I64, v)  # noqa: E731
    linkage = "external" if export else "internal"

    # error(ctx, code, detail): keep the first error.
    f = _fn(module, ERROR, *SIGNATURES[ERROR])
    f.linkage = linkage
    f.attributes.add("cold")
    f.attributes.add("noinline")
    b = ir.IRBuilder(f.append_basic_block())
    ctx, code, detail = f.args
    slot = _field(b, ctx, 3)
    with b.if_then(b.icmp_signed("==", b.load(slot, typ=I64), c(0))):
        b.store(code, slot)
        b.store(detail, _field(b, ctx, 4))
    b.ret_void()

    # alloc(ctx, size): a block of `size` bytes, recorded in the context's table.
    f = _fn(module, ALLOC, *SIGNATURES[ALLOC])
    f.linkage = linkage
    f.attributes.add("noinline")  # rare calls: inlining them only costs compile time
    ctx, size = f.args
    b = ir.IRBuilder(f.append_basic_block())
    base = b.call(malloc, [b.add(size, c(HEADER))])
    ok = b.icmp_unsigned("!=", base, ir.Constant(PTR, None))
    with b.if_else(ok) as (then, otherwise):
        with then:
            count_p, cap_p, rec_p = _field(b, ctx, 1), _field(b, ctx, 2), _field(b, ctx, 0)
            count, cap = b.load(count_p, typ=I64), b.load(cap_p, typ=I64)
            with b.if_then(b.icmp_signed(">=", count, cap)):
                newcap = b.select(b.icmp_signed("<", cap, c(16)), c(64), b.mul(cap, c(2)))
                table = b.call(realloc, [b.load(rec_p, typ=PTR), b.mul(newcap, c(8))])
                b.store(table, rec_p)
                b.store(newcap, cap_p)
            table = b.load(rec_p, typ=PTR)
            b.store(base, b.gep(table, [count], source_etype=PTR))
            b.store(b.add(count, c(1)), count_p)
            b.store(count, base)
            b.store(size, b.gep(base, [c(1)], source_etype=I64))
            user = b.gep(base, [c(HEADER)], source_etype=ir.IntType(8))
            then_bb = b.block
        with otherwise:
            b.call(module.globals[ERROR], [ctx, c(ERR_NOMEM), size])
            else_bb = b.block
    phi = b.phi(PTR)
    phi.add_incoming(user, then_bb)
    phi.add_incoming(ir.Constant(PTR, None), else_bb)
    b.ret(phi)

    # realloc(ctx, p, size): grow a block from alloc (p may be null).
    f = _fn(module, REALLOC, *SIGNATURES[REALLOC])
    f.linkage = linkage
    f.attributes.add("noinline")
    ctx, p, size = f.args
    b = ir.IRBuilder(f.append_basic_block())
    with b.if_then(b.icmp_unsigned("==", p, ir.Constant(PTR, None)), likely=False):
        b.ret(b.call(module.globals[ALLOC], [ctx, size]))
    base = b.gep(p, [c(-HEADER)], source_etype=ir.IntType(8))
    idx = b.load(base, typ=I64)
    nb = b.call(realloc, [base, b.add(size, c(HEADER))])
    with b.if_then(b.icmp_unsigned("==", nb, ir.Constant(PTR, None)), likely=False):
        b.call(module.globals[ERROR], [ctx, c(ERR_NOMEM), size])
        b.ret(p)
    b.store(size, b.gep(nb, [c(1)], source_etype=I64))
    table = b.load(_field(b, ctx, 0), typ=PTR)
    b.store(nb, b.gep(table, [idx], source_etype=PTR))
    b.ret(b.gep(nb, [c(HEADER)], source_etype=ir.IntType(8)))

    # free(ctx, p): free a block from alloc early (p may be null).
    f = _fn(module, FREE, *SIGNATURES[FREE])
    f.linkage = linkage
    f.attributes.add("noinline")
    ctx, p = f.args
    b = ir.IRBuilder(f.append_basic_block())
    with b.if_then(b.icmp_unsigned("!=", p, ir.Constant(PTR, None))):
        base = b.gep(p, [c(-HEADER)], source_etype=ir.IntType(8))
        idx = b.load(base, typ=I64)
        table = b.load(_field(b, ctx, 0), typ=PTR)
        b.store(ir.Constant(PTR, None), b.gep(table, [idx], source_etype=PTR))
        b.call(free, [base])
    b.ret_void()


def alloc(b: ir.IRBuilder, ctx: ir.Value, nbytes: ir.Value) -> ir.Value:
    """Emit a call of ``alloc``."""
    return b.call(b.module.globals[ALLOC], [ctx, nbytes])


def realloc(b: ir.IRBuilder, ctx: ir.Value, p: ir.Value, nbytes: ir.Value) -> ir.Value:
    """Emit a call of ``realloc``."""
    return b.call(b.module.globals[REALLOC], [ctx, p, nbytes])


def free(b: ir.IRBuilder, ctx: ir.Value, p: ir.Value) -> None:
    """Emit a call of ``free``."""
    b.call(b.module.globals[FREE], [ctx, p])


def error(b: ir.IRBuilder, ctx: ir.Value, code: int, detail: ir.Value | None = None) -> None:
    """Emit a call of ``error`` (records the first error; execution continues)."""
    b.call(b.module.globals[ERROR], [ctx, ir.Constant(I64, code), detail or ir.Constant(I64, 0)])
