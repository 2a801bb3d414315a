"""What the lazy Series and DataFrame share: the rows they stand over, their columns, eager
fallback onto real pandas, and the probes that ask pandas for its result dtypes.

A lazy pandas object is a set of columns over *rows*: a pandas index that is known (the index of
the frame it was made from) and, when the object was filtered, a lazy boolean *mask* over those
rows. Columns are lazy NumPy arrays over all the rows (``lazyir.numpy.ndarray``); a filter only
narrows the mask, so a filter, the arithmetic on its columns and a reduction of them are one
program, which the optimizer fuses into one loop. The filtered index and values are cut with the
mask only when a value is asked for.

Columns whose dtype the IR has no type for (strings, objects, categoricals, datetimes, nullable
extension types) stay pandas Series over the rows: they are filtered along, and any operation on
them runs on pandas (``EagerFallbackWarning``).
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from .. import fallback
from ..numpy.array import ndarray, supported, unwrap
from ..numpy.array import wrap as wrap_array

Column = ndarray | pd.Series


class Rows:
    """The rows of a lazy frame: a known pandas index. Objects over the same ``Rows`` (or over
    rows whose indexes are equal) combine position by position, as pandas does for equal indexes."""

    __slots__ = ("index", "__weakref__")

    def __init__(self, index: pd.Index):
        self.index = index

    def __len__(self) -> int:
        return len(self.index)

    def same(self, other: Rows) -> bool:
        if self is other:
            return True
        return len(self) == len(other) and self.index.equals(other.index)


class Masked(abc.ABC):
    """What Series and DataFrames share: their rows and their mask (``None``: every row)."""

    __slots__ = ("_rows", "_mask")
    _rows: Rows
    _mask: ndarray | None

    @property
    def index(self) -> pd.Index:
        if self._mask is None:
            return self._rows.index
        return self._rows.index[np.asarray(self._mask)]

    def __len__(self) -> int:
        if self._mask is None:
            return len(self._rows)
        return int(np.count_nonzero(np.asarray(self._mask)))

    # evaluation (``unwrap``'s protocol): the lazy columns and the mask, then the pandas value
    @abc.abstractmethod
    def _columns_held(self) -> list[Column]:
        """The columns (Series: its one column)."""

    def __lazyir_nodes__(self) -> list:
        nodes = [x for c in self._columns_held() for x in held_nodes(c)]
        return nodes + ([self._mask._node] if self._mask is not None else [])

    def _known_mask(self) -> np.ndarray | None:
        return None if self._mask is None else np.asarray(self._mask._node.value)

    def to_pandas(self) -> Any:
        return unwrap(self)

    def __repr__(self) -> str:
        return repr(self.to_pandas())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.to_pandas().to_numpy(), dtype=dtype)


def same_mask(a: ndarray | None, b: ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a._node is b._node)


def column_of(values: Any) -> Column:
    """A pandas Series' column: a lazy array over its values (no copy) when the IR has their
    dtype, else the Series itself."""
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, np.dtype) and supported(values.dtype):
            return wrap_array(values.to_numpy(copy=False))
        return values.reset_index(drop=True)
    raise TypeError(f"not a column: {type(values).__name__}")


def is_lazy(col: Column) -> bool:
    """A lazy numeric column (string columns are ``StrColumn`` or pandas Series)."""
    return isinstance(col, ndarray)


class CodedColumn:
    """A column of values the IR has no type for, gathered without moving them: lazy int64
    codes into sorted ``categories`` (-1: missing), as pandas' ``factorize`` gives them. Joins
    and reorders make these (they gather the codes, not the values); a group-by uses the codes as
    its keys."""

    __slots__ = ("codes", "categories", "dtype")

    def __init__(self, codes: ndarray, categories: Any, dtype: Any):
        self.codes, self.categories, self.dtype = codes, categories, dtype

    @classmethod
    def gathered(cls, col: Any, rows: np.ndarray) -> CodedColumn:
        """``col`` (a pandas Series, or coded) at positions ``rows`` (-1: missing)."""
        from ..numpy import api as lnp
        from ..numpy.array import where

        if isinstance(col, CodedColumn):
            codes, categories = col.codes, col.categories
        else:
            raw, categories = pd.factorize(col, sort=True)
            codes = wrap_array(raw.astype(np.int64))
        missing = rows < 0
        picked = lnp.take_rows(codes, np.where(missing, 0, rows) if missing.any() else rows, trusted=True)
        if missing.any():
            picked = where(wrap_array(~missing), picked, -1)
        return cls(picked, categories, col.dtype)

    def __len__(self) -> int:
        return len(self.codes)

    def nodes(self) -> list:
        return [self.codes._node]

    def series(self) -> pd.Series:
        codes = np.asarray(self.codes._node.value)
        values = pd.Index(self.categories).take(codes, allow_fill=True, fill_value=None)
        return pd.Series(values.astype(self.dtype) if values.dtype != self.dtype else values, copy=False)


def held_nodes(col: Column) -> list:
    from .strings import StrColumn

    if isinstance(col, ndarray):
        return [col._node]
    return col.nodes() if isinstance(col, (StrColumn, CodedColumn)) else []


def probe_column(col: Column, rows: int) -> Any:
    """``rows`` values of the column's dtype (for pandas to say what a call would give)."""
    from .strings import StrColumn

    if isinstance(col, ndarray):
        return np.ones(rows, dtype=col.dtype)
    if isinstance(col, (StrColumn, CodedColumn)):
        return pd.Series(["a"] * rows, dtype=col.dtype)
    if len(col):
        return col.iloc[[0] * rows].reset_index(drop=True)
    return col.iloc[:0].reindex(range(rows)).reset_index(drop=True)


def plain_text(col: Column) -> Column:
    """A lazy string column as a pandas Series; coded and pandas columns as they are."""
    from .strings import StrColumn

    return plain(col) if isinstance(col, StrColumn) else col


def plain(col: Column) -> Column:
    """A lazy string column as a pandas Series (computed now); other columns as they are."""
    from .strings import StrColumn

    if isinstance(col, StrColumn):
        unwrap([col.offsets, col.data])
        return col.series()
    if isinstance(col, CodedColumn):
        unwrap(col.codes)
        return col.series()
    return col


def materialize(col: Column, mask: np.ndarray | None, index: pd.Index, name: Any) -> pd.Series:
    """A column's pandas Series, its values known (``unwrap`` ran), cut by the known mask."""
    col = plain(col)  # its nodes are known: no new program
    if isinstance(col, ndarray):
        values = np.asarray(col._node.value)
        if mask is not None:
            values = values[mask]
        return pd.Series(values, index=index, name=name, copy=False)
    series = col if mask is None else col[mask].reset_index(drop=True)
    return pd.Series(series.array, index=index, name=name, copy=False)


def cut_index(rows: Rows, mask: np.ndarray | None) -> pd.Index:
    return rows.index if mask is None else rows.index[mask]


def compiled(build: Callable[[list], Any]) -> Callable[..., Any]:
    """The eager side of a node whose result NumPy has no function for (hash tables, join
    pairs): for small inputs the same loop, compiled on its own."""

    def run(*arrays: Any) -> Any:
        from ... import engine
        from ...ir import nodes as n
        from ...ir import types as T
        from ..graph import ir_scalar

        params = [(f"x{k}", T.Vec(ir_scalar(np.asarray(a).dtype))) for k, a in enumerate(arrays)]
        program = n.lam(params, build([n.ident(p, t) for p, t in params]))
        return engine.compile(program)(*[np.ascontiguousarray(a).reshape(-1) for a in arrays])

    return run


# -- eager fallback -------------------------------------------------------------------------------
def to_pandas(value: Any) -> Any:
    """Lazy values (Series, DataFrames, arrays, in lists/tuples/dicts) as pandas/NumPy values, all
    computed by one program."""
    return unwrap(value)


def wrap(value: Any) -> Any:
    """pandas results back into the lazy world."""
    from .frame import DataFrame
    from .series import Series

    if isinstance(value, pd.DataFrame):
        return DataFrame(value)
    if isinstance(value, pd.Series):
        return Series(value)
    return value


def eager(name: str, func: Callable[..., Any], args: tuple, kwargs: dict, reason: str = "") -> Any:
    """``func`` on real pandas with the lazy arguments computed; warns once; lazy result."""
    args, kwargs = to_pandas((args, kwargs))
    result = func(*args, **kwargs)
    fallback.note(name, reason)
    return wrap(result)


def eager_method(obj: Any, method: str, args: tuple = (), kwargs: dict | None = None, reason: str = "") -> Any:
    owner = "DataFrame" if hasattr(obj, "columns") else "Series"
    value, args, kwargs = to_pandas((obj, args, kwargs or {}))
    result = getattr(value, method)(*args, **kwargs)
    fallback.note(f"{owner}.{method}", reason)
    return wrap(result)


def eager_attribute(obj: Any, cls: type, name: str) -> Any:
    """Any other attribute of a lazy pandas object: its pandas methods run on pandas (computed
    first); properties and accessors (``.str``, ``.dt``) are read from the computed object."""
    attr = getattr(cls, name, None)
    if attr is None:
        raise AttributeError(f"'{cls.__name__}' object has no attribute {name!r}")
    if inspect.isfunction(attr):
        return lambda *args, **kw: eager_method(obj, name, args, kw)
    value = getattr(to_pandas(obj), name)
    fallback.note(f"{cls.__name__}.{name}")
    if callable(value) or hasattr(value, "_parent") or type(value).__name__.endswith(("Methods", "Properties")):
        return _Accessor(value, f"{cls.__name__}.{name}")
    return wrap(value)


class _Accessor:
    """A pandas accessor (``.str``...) of a computed object: its results come back lazy."""

    def __init__(self, target: Any, label: str):
        self._target, self._label = target, label

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return wrap(self._target(*to_pandas(args), **to_pandas(kwargs)))

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        return _Accessor(value, f"{self._label}.{name}") if callable(value) else wrap(value)

    def __getitem__(self, key: Any) -> Any:
        return wrap(self._target[key])


# -- pandas' result dtypes, asked of pandas itself ------------------------------------------------
@cache
def reduction_dtype(op: str, dtype: np.dtype) -> np.dtype:
    """The dtype of ``Series.<op>()`` for a column of ``dtype`` (on a small probe)."""
    probe = pd.Series(np.ones(3, dtype=dtype))
    return np.asarray(getattr(probe, op)()).dtype


@cache
def replaced_dtype(dtype: np.dtype, value: Any) -> np.dtype:
    """The dtype pandas gives a column of ``dtype`` once a value of it is replaced by ``value``
    (``where``, ``mask``)."""
    probe = pd.Series(np.ones(2, dtype=dtype))
    return probe.where(np.array([True, False]), value).dtype


@cache
def replaced_by(dtype: np.dtype, old: Any, new: Any) -> np.dtype:
    """The dtype pandas gives a column of ``dtype`` once ``old`` is replaced by ``new``."""
    if _nan(old):
        if dtype.kind != "f":
            return dtype  # nothing to replace
        return pd.Series([np.nan, 1.0], dtype=dtype).replace(old, new).dtype
    with np.errstate(all="ignore"):
        held = np.array(old).astype(dtype)
    if held != old:
        return dtype  # no value of the column equals it
    return pd.Series(np.array([held, held])).replace(old, new).dtype


def _nan(x: Any) -> bool:
    return isinstance(x, float) and np.isnan(x)


def is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f"
