"""How IR types are laid out in LLVM.

Every IR type has a *value* type (what an SSA register holds) and a *memory* type (how it is stored
in a vector, a struct in memory or a hash table). They differ only for ``bool``: ``i1`` in
registers, ``i8`` in memory. Layouts:

- ``vec[T]``: ``{ptr data, i64 len}`` (data points at ``len`` memory-typed elements);
- ``{T1, T2}``: a literal LLVM struct of the fields' types;
- ``dict[K,V]``: a pointer to a hash table (see ``hashtable.py``);
- builders: a pointer to their state in memory (mergers: the accumulator; appenders:
  ``{ptr data, i64 len, i64 cap}``; vecmergers: a ``vec``; dict/group mergers: a hash table),
  structs of builders: a struct of those pointers.
"""

from __future__ import annotations

from functools import cache

from llvmlite import ir

from ..ir import types as T

PTR = ir.PointerType()
I1, I8, I32, I64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64)
F32, F64 = ir.FloatType(), ir.DoubleType()
VEC = ir.LiteralStructType([PTR, I64])
APPENDER_STATE = ir.LiteralStructType([PTR, I64, I64])


def scanner_state(elem: T.Type) -> ir.LiteralStructType:
    """An appender's state followed by the running value (a scanner)."""
    return ir.LiteralStructType([PTR, I64, I64, memory_type(elem)])


@cache
def value_type(t: T.Type) -> ir.Type:
    """The LLVM type an SSA value of IR type ``t`` has."""
    if isinstance(t, T.Scalar):
        if t.is_bool:
            return I1
        if t.is_float:
            return F32 if t.bits == 32 else F64
        return ir.IntType(t.bits)
    if isinstance(t, T.Vec):
        return VEC
    if isinstance(t, T.Struct):
        return ir.LiteralStructType([value_type(f) for f in t.fields])
    if isinstance(t, (T.Dict, T.Builder)):
        return PTR
    raise TypeError(f"no LLVM value type for {t}")


@cache
def memory_type(t: T.Type) -> ir.Type:
    """The LLVM type IR type ``t`` has when stored in memory."""
    if isinstance(t, T.Scalar) and t.is_bool:
        return I8
    if isinstance(t, T.Struct):
        return ir.LiteralStructType([memory_type(f) for f in t.fields])
    return value_type(t)


def has_bool(t: T.Type) -> bool:
    if isinstance(t, T.Scalar):
        return t.is_bool
    if isinstance(t, T.Struct):
        return any(has_bool(f) for f in t.fields)
    return False


def to_memory(b: ir.IRBuilder, v: ir.Value, t: T.Type) -> ir.Value:
    """Convert a value of IR type ``t`` to its memory form."""
    if not has_bool(t):
        return v
    if isinstance(t, T.Scalar):
        return b.zext(v, I8)
    out = ir.Constant(memory_type(t), ir.Undefined)
    for i, f in enumerate(t.fields):  # type: ignore[attr-defined]
        out = b.insert_value(out, to_memory(b, b.extract_value(v, i), f), i)
    return out


def from_memory(b: ir.IRBuilder, v: ir.Value, t: T.Type) -> ir.Value:
    """Convert a memory-form value of IR type ``t`` back to its value form."""
    if not has_bool(t):
        return v
    if isinstance(t, T.Scalar):
        return b.icmp_unsigned("!=", v, ir.Constant(I8, 0))
    out = ir.Constant(value_type(t), ir.Undefined)
    for i, f in enumerate(t.fields):  # type: ignore[attr-defined]
        out = b.insert_value(out, from_memory(b, b.extract_value(v, i), f), i)
    return out


def load(b: ir.IRBuilder, ptr: ir.Value, t: T.Type, align: int | None = None) -> ir.Value:
    """Load an IR value of type ``t`` stored at ``ptr``."""
    raw = b.load(ptr, typ=memory_type(t), align=align)
    return from_memory(b, raw, t)


def store(b: ir.IRBuilder, v: ir.Value, ptr: ir.Value, t: T.Type, align: int | None = None) -> None:
    """Store IR value ``v`` of type ``t`` at ``ptr``."""
    b.store(to_memory(b, v, t), ptr, align=align)


def elem_ptr(b: ir.IRBuilder, data: ir.Value, index: ir.Value, t: T.Type) -> ir.Value:
    """Address of element ``index`` of a ``vec[t]`` whose data pointer is ``data``."""
    return b.gep(data, [index], inbounds=True, source_etype=memory_type(t))


def sizeof(t: T.Type) -> int:
    """Bytes one memory-typed element of ``t`` occupies (x86-64 / NumPy aligned layout)."""
    return _llsize(memory_type(t))


def _llsize(t: ir.Type) -> int:
    if isinstance(t, ir.IntType):
        return max(1, t.width // 8)
    if isinstance(t, ir.FloatType):
        return 4
    if isinstance(t, ir.DoubleType):
        return 8
    if isinstance(t, ir.PointerType):
        return 8
    if isinstance(t, ir.LiteralStructType):
        off, align = 0, 1
        for e in t.elements:
            a = _llalign(e)
            off = (off + a - 1) // a * a + _llsize(e)
            align = max(align, a)
        return (off + align - 1) // align * align if t.elements else 0
    raise TypeError(t)


def _llalign(t: ir.Type) -> int:
    if isinstance(t, ir.LiteralStructType):
        return max((_llalign(e) for e in t.elements), default=1)
    return _llsize(t)


def field_offsets(t: T.Struct) -> list[int]:
    """Byte offsets of a struct's fields in memory (for NumPy structured dtypes)."""
    offs, off = [], 0
    for f in t.fields:
        m = memory_type(f)
        a = _llalign(m)
        off = (off + a - 1) // a * a
        offs.append(off)
        off += _llsize(m)
    return offs
