"""Python-side values of IR types: argument checking, result conversion and dictionary keys.

Shared by the reference interpreter and the compiled backend, so both accept the same arguments
and give the same Python results (see "Python results" in docs/ir.md):

- ``check_args(program, args)`` validates call arguments against the root lambda's parameter types
  and normalizes them (exact NumPy dtypes, contiguous arrays, aligned structured dtypes);
- ``numpy_dtype(ty)`` is the NumPy dtype of a memory element of ``ty`` (aligned, C layout);
- ``to_result(value, ty)`` turns a *plain* value (NumPy scalars, sequences for vectors, tuples for
  structs, objects with ``items()`` for dictionaries) into the documented Python result;
- ``canonical_key``/``hash_key``/``canonical_key_array`` implement dictionary key identity: float
  keys are canonicalized (``-0.0`` becomes ``0.0``, every NaN becomes one NaN) and then compared by
  value.

Representation of arguments after ``check_args`` (what a backend receives), by IR type:

==========================  ====================================================================
scalar ``T``                NumPy scalar of exactly ``T``'s dtype (``np.float64``, ``np.bool_``...)
``vec[T]``, T scalar        1-d C-contiguous array of ``T``'s dtype
``vec[S]``, S struct of     1-d C-contiguous structured array of ``numpy_dtype(S)`` (fields
scalars                     ``f0, f1, ...``, aligned layout, nested structs nested)
other ``vec[T]``            list of normalized elements (``vec[vec[f64]]``: list of arrays)
struct                      tuple of normalized fields
``dict[K,V]``               ``Dictionary`` whose keys are normalized like ``vec[K]`` (canonical,
                            no duplicates) and values like ``vec[V]``
==========================  ====================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .nodes import LAMBDA
from .types import Builder, Dict, Function, Scalar, Struct, Type, Vec, is_scalar_struct


@dataclass(eq=False)
class Dictionary:
    """A ``dict[K,V]`` result: keys and values in first-insertion order.

    ``keys`` is a NumPy array (structured for struct keys; a list of arrays for vector keys);
    ``values`` is a NumPy array, or for a ``groupmerger`` result a list of arrays, one per key.
    Float keys are canonical: no ``-0.0`` and a single NaN.
    """

    keys: Any
    values: Any

    def __len__(self) -> int:
        return len(self.keys)

    def to_dict(self) -> dict:
        """A plain Python dict (struct keys become tuples, vector keys tuples of their elements)."""
        return {_plain(k): v for k, v in zip(self.keys, self.values, strict=True)}

    def __repr__(self) -> str:
        return f"Dictionary({self.to_dict()!r})"


def _plain(k: Any) -> Any:
    if isinstance(k, np.ndarray):
        return tuple(_plain(x) for x in k)
    if isinstance(k, np.void):
        return tuple(_plain(x) for x in k.tolist()) if isinstance(k.tolist(), tuple) else k.tolist()
    if isinstance(k, np.generic):
        return k.item()
    return k


# ---------------------------------------------------------------------------------------------
# Dtypes


def numpy_dtype(ty: Type) -> np.dtype:
    """The NumPy dtype of one memory element of ``ty``: a scalar or a (nested) struct of scalars.

    Structs become structured dtypes with fields ``f0, f1, ...`` in the aligned (C) layout,
    ``np.dtype(..., align=True)``, which is how the compiled backend stores structs; ``bool`` is one
    byte. Other types have no dtype (``TypeError``).
    """
    if isinstance(ty, Scalar):
        return ty.numpy
    if isinstance(ty, Struct) and is_scalar_struct(ty):
        return np.dtype([(f"f{i}", numpy_dtype(f)) for i, f in enumerate(ty.fields)], align=True)
    raise TypeError(f"{ty} has no NumPy dtype (only scalars and structs of scalars do)")


def dtype_matches(dt: np.dtype, ty: Type) -> bool:
    """Whether an array of dtype ``dt`` can stand for a ``vec[ty]``: equal scalar dtypes, or for
    structs the same number of fields whose dtypes match in order (names and padding may differ)."""
    if isinstance(ty, Scalar):
        return dt == ty.numpy
    if not isinstance(ty, Struct) or dt.names is None or len(dt.names) != len(ty.fields):
        return False
    return all(dtype_matches(dt.fields[name][0], f) for name, f in zip(dt.names, ty.fields, strict=True))


# ---------------------------------------------------------------------------------------------
# Scalars


def int_range(ty: Scalar) -> tuple[int, int]:
    """The smallest and largest value of integer type ``ty``."""
    if ty.is_signed:
        return -(1 << (ty.bits - 1)), (1 << (ty.bits - 1)) - 1
    return 0, (1 << ty.bits) - 1


def wrap_int(x: int, ty: Scalar) -> np.generic:
    """``x`` reduced to integer type ``ty`` (two's complement wrap), as a NumPy scalar."""
    x &= (1 << ty.bits) - 1
    if ty.is_signed and x >> (ty.bits - 1):
        x -= 1 << ty.bits
    return ty.numpy.type(x)


def int_to_float(x: int, ty: Scalar) -> np.generic:
    """The float of type ``ty`` nearest to the integer ``x`` (ties to even), rounded once.

    ``np.float32(x)`` would round ``x`` to a double first (two roundings); this rounds to 24 bits
    directly. Magnitudes beyond the type's range give infinity.
    """
    if ty.name == "f64":
        try:
            return np.float64(float(x))  # Python rounds ints to double exactly once
        except OverflowError:
            return np.float64(math.inf if x > 0 else -math.inf)
    sign, m = (-1 if x < 0 else 1), abs(x)
    shift = m.bit_length() - 24
    if shift > 0:
        q, r = divmod(m, 1 << shift)
        half = 1 << (shift - 1)
        if r > half or (r == half and q & 1):
            q += 1
        m = q << shift
    try:
        f = sign * float(m)  # m has at most 25 significant bits: exact
    except OverflowError:
        f = sign * math.inf
    with np.errstate(over="ignore"):
        return np.float32(f)  # exact, or inf beyond the f32 range


def canonical_float(x: Any, ty: Scalar) -> np.generic:
    """A float dictionary key in canonical form: ``-0.0`` becomes ``0.0``, NaNs one quiet NaN."""
    f = float(x)
    if math.isnan(f):
        return ty.numpy.type(math.nan)
    if f == 0.0:
        return ty.numpy.type(0.0)
    return ty.numpy.type(x)


# ---------------------------------------------------------------------------------------------
# Dictionary keys


def canonical_key(value: Any, ty: Type) -> Any:
    """``value`` (a plain value of key type ``ty``) with its floats in canonical form.

    Scalars come back as NumPy scalars of ``ty``, structs as tuples, vectors as lists.
    """
    if isinstance(ty, Scalar):
        return canonical_float(value, ty) if ty.is_float else ty.numpy.type(value)
    if isinstance(ty, Struct):
        return tuple(canonical_key(value[i], f) for i, f in enumerate(ty.fields))
    if isinstance(ty, Vec):
        return [canonical_key(x, ty.elem) for x in value]
    raise TypeError(f"{ty} cannot be a dictionary key")


_NAN_KEY = ("nan",)


def hash_key(value: Any, ty: Type) -> Any:
    """A hashable Python object identifying key ``value`` of type ``ty``: equal for keys that are
    equal after canonicalization (``0.0`` and ``-0.0``; any two NaNs), different otherwise."""
    if isinstance(ty, Scalar):
        if ty.is_float:
            f = float(value)
            return _NAN_KEY if math.isnan(f) else f  # -0.0 == 0.0 and they hash alike
        return bool(value) if ty.is_bool else int(value)
    if isinstance(ty, Struct):
        return tuple(hash_key(value[i], f) for i, f in enumerate(ty.fields))
    if isinstance(ty, Vec):
        return tuple(hash_key(x, ty.elem) for x in value)
    raise TypeError(f"{ty} cannot be a dictionary key")


def canonical_key_array(keys: Any, ty: Type) -> Any:
    """A normalized ``vec[ty]`` of keys (array or list) with its floats canonical (a copy)."""
    if isinstance(keys, np.ndarray):
        out = keys.copy()
        _canonicalize_in_place(out, ty)
        return out
    return [canonical_key_array(k, ty.elem) if isinstance(ty, Vec) else k for k in keys]


def _canonicalize_in_place(a: np.ndarray, ty: Type) -> None:
    if isinstance(ty, Scalar):
        if ty.is_float:
            a[a == 0] = 0.0
            a[np.isnan(a)] = np.nan
    elif isinstance(ty, Struct):
        for i, f in enumerate(ty.fields):
            _canonicalize_in_place(a[a.dtype.names[i]], f)
    else:  # vector keys come as lists of arrays (canonical_key_array)
        raise TypeError(f"unexpected key array for {ty}")


# ---------------------------------------------------------------------------------------------
# Arguments


def describe(x: Any) -> str:
    """A short description of a Python value's kind, for error messages."""
    if isinstance(x, np.ndarray):
        dims = "" if x.ndim == 1 else f"{x.ndim}-d "
        return f"{dims}numpy array of {x.dtype}"
    if isinstance(x, np.generic):
        return f"numpy {x.dtype} scalar"
    if isinstance(x, (bool, int, float)):
        return f"Python {type(x).__name__} {x!r}"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of length {len(x)}"
    return type(x).__qualname__


def check_args(program: Any, args: tuple | list) -> list:
    """Validate ``args`` against the parameter types of ``program``'s root lambda; normalize them.

    ``program`` is an ``Expr`` whose root lambda has typed parameters (a program that is not a
    lambda takes no arguments). Wrong count or kind of argument raises ``TypeError`` naming the
    parameter and both types; a Python int outside an integer parameter's range raises
    ``OverflowError``; a dictionary with duplicate (canonical) keys raises ``ValueError``.
    See the module docstring for the normalized forms.
    """
    params = program.params if program.op == LAMBDA else ()
    if len(args) != len(params):
        count = len(params)
        sig = ", ".join(f"{name}: {ty}" for name, ty in params)
        raise TypeError(f"program takes {count} argument{'' if count == 1 else 's'} ({sig}), got {len(args)}")
    return [normalize_arg(a, ty, f"argument {name}") for (name, ty), a in zip(params, args, strict=True)]


def normalize_arg(x: Any, ty: Type, where: str) -> Any:
    """One argument (or a part of one, named by ``where``) of IR type ``ty``, normalized."""
    if isinstance(ty, Scalar):
        return _scalar_arg(x, ty, where)
    if isinstance(ty, Vec):
        return _vec_arg(x, ty, where)
    if isinstance(ty, Struct) and not ty.is_builder:
        return _struct_arg(x, ty, where)
    if isinstance(ty, Dict):
        return _dict_arg(x, ty, where)
    if isinstance(ty, (Builder, Struct, Function)):
        raise TypeError(f"{where}: a program cannot take a {ty} argument")
    raise TypeError(f"{where}: unknown type {ty}")


def _mismatch(x: Any, ty: Type, where: str) -> TypeError:
    return TypeError(f"{where}: expected {ty}, got {describe(x)}")


def _scalar_arg(x: Any, ty: Scalar, where: str) -> np.generic:
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x[()]
    if isinstance(x, np.generic):
        if x.dtype != ty.numpy:
            raise _mismatch(x, ty, where)
        return x
    if isinstance(x, bool):
        if not ty.is_bool:
            raise _mismatch(x, ty, where)
        return np.bool_(x)
    if isinstance(x, int):
        if ty.is_int:
            lo, hi = int_range(ty)
            if not lo <= x <= hi:
                raise OverflowError(f"{where}: {x} is out of the range of {ty} [{lo}, {hi}]")
            return ty.numpy.type(x)
        if ty.is_float:
            return int_to_float(x, ty)
        raise _mismatch(x, ty, where)
    if isinstance(x, float):
        if not ty.is_float:
            raise _mismatch(x, ty, where)
        with np.errstate(over="ignore"):
            return ty.numpy.type(x)  # f32: rounds to nearest (overflow gives inf)
    raise _mismatch(x, ty, where)


def _vec_arg(x: Any, ty: Vec, where: str) -> Any:
    elem = ty.elem
    if is_scalar_struct(elem):
        dt = numpy_dtype(elem)
        if isinstance(x, np.ndarray):
            if x.ndim != 1 or not dtype_matches(x.dtype, elem):
                raise _mismatch(x, ty, where)
            if x.dtype == dt:
                return np.ascontiguousarray(x)  # copies only if strided
            out = np.empty(len(x), dt)
            out[...] = x  # structured assignment goes by field position
            return out
        if isinstance(x, (list, tuple)):
            items = [normalize_arg(v, elem, f"{where}[{i}]") for i, v in enumerate(x)]
            return np.array(items, dtype=dt)
        raise _mismatch(x, ty, where)
    if isinstance(x, (list, tuple)):
        return [normalize_arg(v, elem, f"{where}[{i}]") for i, v in enumerate(x)]
    raise _mismatch(x, ty, where)


def _struct_arg(x: Any, ty: Struct, where: str) -> tuple:
    if isinstance(x, np.void) and x.dtype.names is not None:
        x = tuple(x[i] for i in range(len(x.dtype.names)))
    if not isinstance(x, tuple) or len(x) != len(ty.fields):
        raise _mismatch(x, ty, where)
    return tuple(normalize_arg(v, f, f"{where}.${i}") for i, (v, f) in enumerate(zip(x, ty.fields, strict=True)))


def _dict_arg(x: Any, ty: Dict, where: str) -> Dictionary:
    if not isinstance(x, Dictionary):
        raise _mismatch(x, ty, where)
    keys = canonical_key_array(normalize_arg(x.keys, Vec(ty.key), f"{where}.keys"), ty.key)
    values = normalize_arg(x.values, Vec(ty.value), f"{where}.values")
    if len(keys) != len(values):
        raise TypeError(f"{where}: {len(keys)} keys but {len(values)} values")
    seen = set()
    for k in keys:
        h = hash_key(k, ty.key)
        if h in seen:
            raise ValueError(f"{where}: duplicate key {_plain(k)!r}")
        seen.add(h)
    return Dictionary(keys, values)


# ---------------------------------------------------------------------------------------------
# Results


def to_result(value: Any, ty: Type) -> Any:
    """The Python result for a plain value of type ``ty`` (see "Python results" in docs/ir.md).

    Plain values: scalars as NumPy or Python scalars, vectors as sequences, structs as tuples (or
    structured scalars), dictionaries as objects whose ``items()`` gives ``(key, value)`` pairs in
    insertion order. Results: scalar -> NumPy scalar of the exact dtype; ``vec`` of scalars or
    structs of scalars -> 1-d array (structured, ``numpy_dtype``); other ``vec`` -> list; struct ->
    tuple; ``dict`` -> ``Dictionary`` (keys and values converted like vectors).
    """
    if isinstance(ty, Scalar):
        return ty.numpy.type(value)
    if isinstance(ty, Vec):
        elem = ty.elem
        if isinstance(elem, Scalar):
            return np.array(list(value), dtype=elem.numpy).reshape(-1)
        if is_scalar_struct(elem):
            return np.array([_record(v, elem) for v in value], dtype=numpy_dtype(elem)).reshape(-1)
        return [to_result(v, elem) for v in value]
    if isinstance(ty, Struct) and not ty.is_builder:
        return tuple(to_result(value[i], f) for i, f in enumerate(ty.fields))
    if isinstance(ty, Dict):
        entries = list(value.items())
        return Dictionary(
            to_result([k for k, _ in entries], Vec(ty.key)),
            to_result([v for _, v in entries], Vec(ty.value)),
        )
    raise TypeError(f"a {ty} value cannot be a program result")


def _record(value: Any, ty: Type) -> Any:
    """A struct-of-scalars value as nested tuples (what ``np.array`` needs for records)."""
    if isinstance(ty, Struct):
        return tuple(_record(value[i], f) for i, f in enumerate(ty.fields))
    return value
