"""Passing Python values into compiled code and taking results out, without copies.

Each parameter is passed as a pointer to its memory form, built in a one-element NumPy array of
``memory_dtype(ty)`` (a vector is ``{u8 data, i64 len}`` pointing at the caller's NumPy buffer).
Results are read from such an array; vector data the kernel allocated becomes the buffer of a NumPy
array that owns the heap block (freed when the last array over it dies). Blocks no result points
into are freed right after the call.
"""

from __future__ import annotations

import bisect
import ctypes
import ctypes.util
from functools import cache
from typing import Any

import numpy as np

from ..ir import types as T
from ..ir.values import Dictionary, numpy_dtype
from .runtime import HEADER, CContext

_libc = ctypes.CDLL(None)  # the process's own symbols include libc's free
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None

VEC_DTYPE = np.dtype([("data", "u8"), ("len", "i8")], align=True)
TABLE_DTYPE = np.dtype([("entries", "u8"), ("count", "i8"), ("cap", "i8"), ("index", "u8"), ("mask", "i8")])


@cache
def memory_dtype(ty: T.Type) -> np.dtype:
    """The NumPy dtype with the memory layout compiled code uses for ``ty`` (C-aligned structs)."""
    if T.is_scalar_struct(ty):
        return numpy_dtype(ty)  # the interpreter's dtype: both sides must agree
    if isinstance(ty, T.Vec):
        return VEC_DTYPE
    if isinstance(ty, T.Struct):
        return np.dtype(
            {
                "names": [f"f{i}" for i in range(len(ty.fields))],
                "formats": [memory_dtype(f) for f in ty.fields],
            },
            align=True,
        )
    return np.dtype("u8")  # dict and builder pointers


def pack(value: Any, ty: T.Type, keep: list) -> np.ndarray:
    """A one-element array holding ``value`` (already normalized by ``check_args``) in memory form."""
    buf = np.zeros(1, dtype=memory_dtype(ty))
    _fill(buf, 0, None, value, ty, keep)
    keep.append(buf)
    return buf


def _fill(buf: np.ndarray, index: int, field: str | None, value: Any, ty: T.Type, keep: list) -> None:
    target = buf[field] if field is not None else buf
    if isinstance(ty, T.Scalar):
        target[index] = value
    elif isinstance(ty, T.Vec):
        arr = _vec_buffer(value, ty.elem, keep)
        target[index] = (arr.ctypes.data if arr.size else 0, len(value))
    elif isinstance(ty, T.Struct):
        sub = target[index : index + 1]
        for i, f in enumerate(ty.fields):
            _fill(sub, 0, f"f{i}", value[i], f, keep)
        target[index : index + 1] = sub
    else:
        raise TypeError(f"compiled programs cannot take a {ty} argument")


def _vec_buffer(value: Any, elem: T.Type, keep: list) -> np.ndarray:
    if T.is_scalar_struct(elem):
        arr = np.ascontiguousarray(value, dtype=memory_dtype(elem))
        keep.append(arr)
        return arr
    arr = np.zeros(len(value), dtype=memory_dtype(elem))
    for i, x in enumerate(value):
        _fill(arr, i, None, x, elem, keep)
    keep.append(arr)
    return arr


class _Block:
    """A heap block the kernel allocated; frees it when the last array over it is gone."""

    __slots__ = ("base", "__weakref__")

    def __init__(self, base: int):
        self.base = base

    def __del__(self) -> None:
        if self.base:
            _libc.free(self.base)
            self.base = 0


class _View:
    """An ``__array_interface__`` over part of a block, keeping the block alive."""

    __slots__ = ("owner", "__array_interface__")

    def __init__(self, owner: object, ptr: int, count: int, dtype: np.dtype):
        self.owner = owner
        self.__array_interface__ = {
            "version": 3,
            "shape": (count,),
            "typestr": dtype.str if dtype.names is None else f"|V{dtype.itemsize}",
            "data": (ptr, False),
        }


class Heap:
    """The blocks one call allocated, for giving results their memory and freeing the rest."""

    def __init__(self, ctx: CContext, inputs: list[np.ndarray]):
        self.starts: list[int] = []
        self.blocks: list[tuple[int, int, int]] = []  # (start, end, base)
        if ctx.records and ctx.count:
            table = (ctypes.c_uint64 * ctx.count).from_address(ctx.records)
            for base in table:
                if base:
                    size = ctypes.c_int64.from_address(base + 8).value
                    self.blocks.append((base + HEADER, base + HEADER + size, base))
        self.blocks.sort()
        self.starts = [b[0] for b in self.blocks]
        self.owners: dict[int, _Block] = {}
        self.inputs = inputs
        self.records = ctx.records

    def owner(self, ptr: int, nbytes: int) -> object:
        i = bisect.bisect_right(self.starts, ptr) - 1
        if i >= 0:
            start, end, base = self.blocks[i]
            if ptr + nbytes <= end:
                if base not in self.owners:
                    self.owners[base] = _Block(base)
                return self.owners[base]
        for arr in self.inputs:
            lo = arr.ctypes.data
            if lo <= ptr and ptr + nbytes <= lo + arr.nbytes:
                return arr
        raise RuntimeError("a result points at memory lazyir does not know (internal error)")

    def release(self) -> None:
        """Free every block no result array took, and the record table itself."""
        for _, _, base in self.blocks:
            if base not in self.owners:
                _libc.free(base)
        if self.records:
            _libc.free(self.records)
        self.blocks = []


def array_at(heap: Heap, ptr: int, count: int, elem: T.Type) -> Any:
    """The result ``vec[elem]`` with ``count`` elements at ``ptr``."""
    dtype = memory_dtype(elem)
    if count == 0:
        out = np.empty(0, dtype=dtype)
    else:
        owner = heap.owner(ptr, count * dtype.itemsize)
        out = np.asarray(_View(owner, ptr, count, dtype))
        if out.dtype != dtype or dtype.isalignedstruct != out.dtype.isalignedstruct:
            out = out.view(dtype)
    if T.is_scalar_struct(elem):
        return out
    return [decode(out, i, elem, heap) for i in range(count)]


def decode(buf: np.ndarray, index: int, ty: T.Type, heap: Heap) -> Any:
    """The Python value of the memory-form ``ty`` at ``buf[index]``."""
    item = buf[index]
    return _decode_item(item, ty, heap)


def _decode_item(item: Any, ty: T.Type, heap: Heap) -> Any:
    if isinstance(ty, T.Scalar):
        return ty.numpy.type(item)
    if isinstance(ty, T.Vec):
        return array_at(heap, int(item["data"]), int(item["len"]), ty.elem)
    if isinstance(ty, T.Struct):
        return tuple(_decode_item(item[f"f{i}"], f, heap) for i, f in enumerate(ty.fields))
    if isinstance(ty, T.Dict):
        return decode_dict(int(item), ty, heap)
    raise TypeError(f"cannot return a {ty}")


def decode_dict(ptr: int, ty: T.Dict, heap: Heap) -> Dictionary:
    header = np.frombuffer((ctypes.c_char * TABLE_DTYPE.itemsize).from_address(ptr), dtype=TABLE_DTYPE)[0]
    entry = T.Struct((ty.key, ty.value))
    count = int(header["count"])
    if T.is_scalar_struct(entry):
        entries = array_at(heap, int(header["entries"]), count, entry)
        return Dictionary(keys=entries["f0"], values=entries["f1"])
    raw = array_at(heap, int(header["entries"]), count, entry)
    keys = [k for k, _ in raw]
    values = [v for _, v in raw]
    key_arr = np.array(keys, dtype=memory_dtype(ty.key)) if T.is_scalar_struct(ty.key) else keys
    return Dictionary(keys=key_arr, values=values)
