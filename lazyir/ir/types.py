"""Types of the lazyir IR: scalars, vectors, structs, dictionaries and builders.

Types are small frozen dataclasses; equal types compare and hash equal, and ``str(t)`` is the
text the parser reads back (``vec[f64]``, ``{i64, f32}``, ``merger[f64,+]``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

#: Binary operators a merger-like builder can combine with.
MERGE_OPS = ("+", "*", "min", "max")


class Type:
    """Base class of every IR type."""

    __slots__ = ()
    _id: int  # every concrete type has one (``_identify``)

    @property
    def is_builder(self) -> bool:
        return False


#: One number per distinct type (equal types share it), first instance of each kept here.
_IDS: dict[Type, int] = {}
_NEXT_ID = itertools.count(1)


def _identify(t: Type, key: tuple) -> None:
    """Set ``t``'s hash (of ``key``, its fields) and its number. A type's number stands for it in
    the interning keys of IR nodes: hashing it there costs no call into Python, as a type's own
    ``__hash__`` does, and comparing it no dataclass ``__eq__``."""
    object.__setattr__(t, "_hash", hash(key))
    object.__setattr__(t, "_id", _IDS.setdefault(t, next(_NEXT_ID)))


def _hash_once(cls: type) -> type:
    """Types are hashed constantly: compute each type's hash and number when it is made, keep
    them in the ``_hash`` and ``_id`` slots, and recompute them after unpickling (string hashes
    differ between processes)."""
    names = tuple(f.name for f in fields(cls) if f.name not in ("_hash", "_id"))
    tag = cls.__name__

    made = cls.__init__  # the dataclass's __init__: it was written before this decorator ran, so
    # it would not call a __post_init__ added here; the hash is set after it instead

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        _identify(self, (tag, *(getattr(self, a) for a in names)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self):
        return (cls, tuple(getattr(self, a) for a in names))

    cls.__init__ = __init__
    cls.__hash__ = __hash__
    cls.__reduce__ = __reduce__
    return cls


@_hash_once
@dataclass(frozen=True, slots=True)
class Scalar(Type):
    name: str
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    _id: int = field(default=0, init=False, repr=False, compare=False)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.name

    @property
    def is_float(self) -> bool:
        return self.name in ("f32", "f64")

    @property
    def is_int(self) -> bool:
        return self.name not in ("f32", "f64", "bool")

    @property
    def is_signed(self) -> bool:
        return self.name[0] in "if"

    @property
    def is_bool(self) -> bool:
        return self.name == "bool"

    @property
    def bits(self) -> int:
        return 1 if self.name == "bool" else int(self.name[1:])

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(_NUMPY_NAMES[self.name])


_NUMPY_NAMES = {
    "bool": "bool",
    "i8": "int8",
    "u8": "uint8",
    "i16": "int16",
    "u16": "uint16",
    "i32": "int32",
    "u32": "uint32",
    "i64": "int64",
    "u64": "uint64",
    "f32": "float32",
    "f64": "float64",
}

BOOL = Scalar("bool")
I8, U8, I16, U16 = Scalar("i8"), Scalar("u8"), Scalar("i16"), Scalar("u16")
I32, U32, I64, U64 = Scalar("i32"), Scalar("u32"), Scalar("i64"), Scalar("u64")
F32, F64 = Scalar("f32"), Scalar("f64")
SCALARS: dict[str, Scalar] = {s.name: s for s in (BOOL, I8, U8, I16, U16, I32, U32, I64, U64, F32, F64)}
INTS = tuple(s for s in SCALARS.values() if s.is_int)
FLOATS = (F32, F64)


def scalar_of_dtype(dtype: np.dtype | type | str) -> Scalar:
    """The IR scalar type of a NumPy dtype; ``TypeError`` if there is none."""
    try:
        return _BY_DTYPE[dtype]
    except (KeyError, TypeError):
        pass
    dt = np.dtype(dtype)
    found = _BY_DTYPE.get(dt)
    if found is None or dt.byteorder not in "=|":
        raise TypeError(f"NumPy dtype {dt} has no lazyir scalar type")
    return found


_BY_DTYPE: dict = {np.dtype(npname): SCALARS[name] for name, npname in _NUMPY_NAMES.items()}


@_hash_once
@dataclass(frozen=True, slots=True)
class Vec(Type):
    elem: Type
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    _id: int = field(default=0, init=False, repr=False, compare=False)

    def __str__(self) -> str:
        return f"vec[{self.elem}]"

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class Struct(Type):
    fields: tuple[Type, ...]
    # Structs of many fields are hashed often (interning keys); hash once.
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    _id: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _identify(self, ("struct", self.fields))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self):
        return (Struct, (self.fields,))  # re-hash in the loading process (string hashes differ)

    def __str__(self) -> str:
        return "{" + ", ".join(map(str, self.fields)) + "}"

    __repr__ = __str__

    @property
    def is_builder(self) -> bool:
        return bool(self.fields) and all(f.is_builder for f in self.fields)


_STRUCTS: dict[tuple[int, ...], Struct] = {}


def struct_of(fields: tuple[Type, ...]) -> Struct:
    """``Struct(fields)``, made once per distinct field list (making a type hashes it, which costs
    more than finding it made; passes build struct types at every step)."""
    key = tuple([f._id for f in fields])
    found = _STRUCTS.get(key)
    if found is None:
        found = _STRUCTS[key] = Struct(fields)
    return found


@_hash_once
@dataclass(frozen=True, slots=True)
class Dict(Type):
    key: Type
    value: Type
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    _id: int = field(default=0, init=False, repr=False, compare=False)

    def __str__(self) -> str:
        return f"dict[{self.key},{self.value}]"

    __repr__ = __str__


class Builder(Type):
    """Base of the builder types: write-only values that ``result`` turns into a value."""

    __slots__ = ()

    @property
    def is_builder(self) -> bool:
        return True

    @property
    def merge_type(self) -> Type:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def result_type(self) -> Type:  # pragma: no cover - overridden
        raise NotImplementedError


@_hash_once
@dataclass(frozen=True, slots=True)
class Appender(Builder):
    elem: Type
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    _id: int = field(default=0, init=False, repr=False, compare=False)

    def __str__(self) -> str:
        return f"appender[{self.elem}]"

    __repr__ = __str__

    @property
    def merge_type(self) -> Type:
        return self.elem

    @property
    def result_type(self) -> Type:
        return Vec(self.elem)


@dataclass(frozen=True, slots=True, repr=False)
class _OpBuilder(Builder):
    """A builder of one element type that combines with an operator: ``word[elem,op]``."""

    elem: Type
    op: str
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    _id: int = field(default=0, init=False, repr=False, compare=False)
    word = ""

    def __str__(self) -> str:
        return f"{self.word}[{self.elem},{self.op}]"

    __repr__ = __str__


@_hash_once
@dataclass(frozen=True, slots=True, repr=False)
class Merger(_OpBuilder):
    word = "merger"

    @property
    def merge_type(self) -> Type:
        return self.elem

    @property
    def result_type(self) -> Type:
        return self.elem


@_hash_once
@dataclass(frozen=True, slots=True, repr=False)
class Scanner(_OpBuilder):
    """``scanner[T,op]``: merged values in order, each replaced by the running ``op`` of the values
    merged so far (an inclusive scan: ``+`` gives cumulative sums)."""

    word = "scanner"

    @property
    def merge_type(self) -> Type:
        return self.elem

    @property
    def result_type(self) -> Type:
        return Vec(self.elem)


@_hash_once
@dataclass(frozen=True, slots=True, repr=False)
class VecMerger(_OpBuilder):
    word = "vecmerger"

    @property
    def merge_type(self) -> Type:
        return Struct((I64, self.elem))

    @property
    def result_type(self) -> Type:
        return Vec(self.elem)


@_hash_once
@dataclass(frozen=True, slots=True)
class DictMerger(Builder):
    key: Type
    value: Type
    op: str
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    _id: int = field(default=0, init=False, repr=False, compare=False)

    def __str__(self) -> str:
        return f"dictmerger[{self.key},{self.value},{self.op}]"

    __repr__ = __str__

    @property
    def merge_type(self) -> Type:
        return Struct((self.key, self.value))

    @property
    def result_type(self) -> Type:
        return Dict(self.key, self.value)


@_hash_once
@dataclass(frozen=True, slots=True)
class GroupMerger(Builder):
    key: Type
    value: Type
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    _id: int = field(default=0, init=False, repr=False, compare=False)

    def __str__(self) -> str:
        return f"groupmerger[{self.key},{self.value}]"

    __repr__ = __str__

    @property
    def merge_type(self) -> Type:
        return Struct((self.key, self.value))

    @property
    def result_type(self) -> Type:
        return Dict(self.key, Vec(self.value))


@dataclass(frozen=True, slots=True)
class Function(Type):
    """The type of a lambda: parameter types and the body's type."""

    params: tuple[Type, ...]
    ret: Type
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    _id: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _identify(self, ("function", self.params, self.ret))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self):
        return (Function, (self.params, self.ret))

    def __str__(self) -> str:
        return "|" + ", ".join(map(str, self.params)) + "| " + str(self.ret)

    __repr__ = __str__


def merge_type(t: Type) -> Type:
    """The type ``merge`` accepts for builder type ``t`` (structs of builders: a struct)."""
    if isinstance(t, Builder):
        return t.merge_type
    raise TypeError(f"{t} is not a builder")


def result_type(t: Type) -> Type:
    """The type ``result`` gives for builder type ``t`` (structs of builders: struct of results)."""
    if isinstance(t, Builder):
        return t.result_type
    if isinstance(t, Struct) and t.is_builder:
        return Struct(tuple(result_type(f) for f in t.fields))
    raise TypeError(f"{t} is not a builder")


def is_scalar_struct(t: Type) -> bool:
    """A scalar, or a struct (possibly nested) of scalars: what mergers combine elementwise."""
    if isinstance(t, Scalar):
        return True
    return isinstance(t, Struct) and all(is_scalar_struct(f) for f in t.fields)
