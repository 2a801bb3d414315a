"""The lazy pandas ``Series``: one column over rows (see ``core``), its arithmetic, filters,
missing-value handling and reductions written with the lazy NumPy frontend, with pandas'
semantics (NaN skipped by reductions, pandas' result dtypes, names)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..numpy import api as lnp
from ..numpy.array import ndarray, supported, unwrap, where
from . import core, reorder, strings
from .core import Column, Rows

_NO_NAME = object()


class Series(core.Masked):
    """A lazy ``pandas.Series``: ``Series(pandas_series)`` wraps one without copying its data."""

    __slots__ = ("_col", "_name")
    __array_priority__ = 1001  # above lazy arrays: ``array + series`` is a Series, as in pandas

    def __init__(self, data: Any = None, index: Any = None, dtype: Any = None, name: Any = _NO_NAME, copy: Any = None):
        if isinstance(data, Series) and index is None and dtype is None:
            self._set(data._rows, data._mask, data._col, data._name if name is _NO_NAME else name)
            return
        if isinstance(data, ndarray) and data.ndim == 1 and index is None and dtype is None:
            self._set(Rows(pd.RangeIndex(len(data))), None, data, None if name is _NO_NAME else name)
            return
        if not isinstance(data, pd.Series) or index is not None or dtype is not None or name is not _NO_NAME:
            kw = {} if name is _NO_NAME else {"name": name}
            data = pd.Series(core.to_pandas(data), index=core.to_pandas(index), dtype=dtype, copy=copy, **kw)
        self._set(Rows(data.index), None, core.column_of(data), data.name)

    def _set(self, rows: Rows, mask: ndarray | None, col: Column, name: Any) -> None:
        self._rows, self._mask, self._col, self._name = rows, mask, col, name

    @classmethod
    def _of(cls, rows: Rows, mask: ndarray | None, col: Column, name: Any) -> Series:
        out = cls.__new__(cls)
        out._set(rows, mask, col, name)
        return out

    def _like(self, col: Column, name: Any = _NO_NAME) -> Series:
        return Series._of(self._rows, self._mask, col, self._name if name is _NO_NAME else name)

    # -- evaluation ---------------------------------------------------------------------------
    def _columns_held(self) -> list[Column]:
        return [self._col]

    def __lazyir_value__(self) -> pd.Series:
        mask = self._known_mask()
        return core.materialize(self._col, mask, core.cut_index(self._rows, mask), self._name)

    # -- attributes ---------------------------------------------------------------------------
    @property
    def name(self) -> Any:
        return self._name

    @name.setter
    def name(self, value: Any) -> None:
        self._name = value

    @property
    def dtype(self) -> Any:
        return self._col.dtype

    dtypes = dtype

    @property
    def size(self) -> int:
        return len(self)

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    @property
    def ndim(self) -> int:
        return 1

    @property
    def empty(self) -> bool:
        return len(self) == 0

    def to_numpy(self, dtype: Any = None, copy: bool = False, na_value: Any = None) -> Any:
        """A lazy array in the same program (the mask, if any, is computed now: the array's
        length depends on it)."""
        if not core.is_lazy(self._col) or na_value is not None:
            extra = {} if na_value is None else {"na_value": na_value}
            return self.to_pandas().to_numpy(dtype=dtype, copy=copy, **extra)
        out = self._col if self._mask is None else lnp.compress_mask(self._col, self._mask)
        return out if dtype is None else out.astype(dtype)

    @property
    def values(self) -> Any:
        return self.to_numpy()

    def __iter__(self):
        return iter(self.to_pandas())

    @property
    def str(self) -> strings.StringMethods:  # noqa: A003 - pandas' name
        return strings.StringMethods(self)

    # -- lazy operations ----------------------------------------------------------------------
    def _lazy(self) -> bool:
        return core.is_lazy(self._col)

    def _operand(self, other: Any) -> tuple[bool, Any]:
        """``other`` as an operand of this Series' values: (ok, value)."""
        if isinstance(other, Series):
            if other._lazy() and other._rows.same(self._rows) and core.same_mask(self._mask, other._mask):
                return True, other._col
            return False, None
        if isinstance(other, (bool, int, float, np.bool_, np.integer, np.floating)):
            return True, other
        if isinstance(other, (np.ndarray, ndarray)) and self._mask is None and np.ndim(other) == 1:
            if len(other) == len(self._rows) and supported(other.dtype):
                return True, other if isinstance(other, ndarray) else lnp.asarray(other)
        return False, None

    def _binary(self, op: Callable, other: Any, name: str, reflected: bool = False) -> Any:
        if name in ("eq", "ne") and isinstance(other, str):
            out = strings.compare(self, other, negate=name == "ne")
            if out is not None:
                return self._like(out)
        ok, value = self._operand(other) if self._lazy() else (False, None)
        if ok and name in ("floordiv", "mod", "divmod") and self.dtype.kind in "iub":
            ok = isinstance(value, (int, np.integer)) and value != 0  # pandas: x // 0 is inf or NaN
        if ok and name in ("floordiv", "mod") and np.dtype(np.float32) in (self.dtype, getattr(value, "dtype", None)):
            ok = False  # pandas widens float32 to float64 when a divisor is 0 or NaN: its own rules
        if not ok:
            method = f"__r{name}__" if reflected else f"__{name}__"
            return core.eager_method(self, method, (other,), reason="operand")
        a, b = (value, self._col) if reflected else (self._col, value)
        out = op(a, b)
        result_name = self._name
        if isinstance(other, Series) and other._name != self._name:
            result_name = None
        return self._like(out, result_name)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs and ufunc.nout == 1 and self._lazy():
            values, names = [], []
            for x in inputs:
                if x is self:
                    values.append(self._col)
                    names.append(self._name)
                    continue
                ok, v = self._operand(x)
                if not ok:
                    break
                values.append(v)
                if isinstance(x, Series):
                    names.append(x._name)
            else:
                name = names[0] if all(nm == names[0] for nm in names) else None
                return self._like(ufunc(*values), name)
        return core.eager(f"{ufunc.__name__}.{method}", getattr(ufunc, method), inputs, kwargs, "ufunc")

    def __getitem__(self, key: Any) -> Any:
        rows = self._row_mask(key)
        if rows is not None:
            return Series._of(self._rows, rows, self._col, self._name)
        return core.eager_method(self, "__getitem__", (key,), reason="index")

    def __setitem__(self, key: Any, value: Any) -> None:
        """``s[mask] = scalar`` lazily (pandas' dtype rules, as ``mask``); other keys on pandas.
        Copy-on-write: the frame this Series came from is not changed."""
        fits = self._lazy() and _scalar(value) and core.replaced_dtype(self.dtype, value) == self.dtype
        rows = self._row_mask(key) if fits else None  # pandas 3 refuses values the dtype cannot hold
        if rows is not None and self._mask is None:
            out = self.mask(Series._of(self._rows, None, rows, None), value)
            if out._lazy():
                self._set(out._rows, out._mask, out._col, self._name)
                return
        series = self.to_pandas()
        series[core.to_pandas(key)] = core.to_pandas(value)
        core.fallback.note("Series.__setitem__", "key")
        self._set(Rows(series.index), None, core.column_of(series), series.name)

    def _row_mask(self, key: Any) -> ndarray | None:
        """The mask a boolean key leaves (with this object's mask), or ``None``."""
        if isinstance(key, Series):
            ok, value = self._operand(key)
            if not ok or key.dtype != np.dtype(bool):
                return None
        elif isinstance(key, (np.ndarray, ndarray)) and key.dtype == np.dtype(bool) and key.ndim == 1:
            if self._mask is not None or len(key) != len(self._rows):
                return None
            value = key if isinstance(key, ndarray) else lnp.asarray(key)
        else:
            return None
        return value if self._mask is None else self._mask & value

    # -- missing values -----------------------------------------------------------------------
    def _notnan(self) -> ndarray | None:
        """Where the values are not NaN (``None``: everywhere)."""
        return ~np.isnan(self._col) if core.is_float(self.dtype) else None

    def _valid(self) -> ndarray | None:
        """The rows a reduction reads: in the mask and not NaN (``None``: all rows)."""
        notnan, mask = self._notnan(), self._mask
        if notnan is None or mask is None:
            return notnan if mask is None else mask
        return mask & notnan

    def isna(self) -> Series:
        if not self._lazy():
            return core.eager_method(self, "isna")
        return self._like(self._col != self._col)

    isnull = isna

    def notna(self) -> Series:
        if not self._lazy():
            return core.eager_method(self, "notna")
        return self._like(self._col == self._col)

    notnull = notna

    def fillna(self, value: Any = None, **kw: Any) -> Series:
        if not self._lazy() or kw or not _scalar(value):
            return core.eager_method(self, "fillna", (value,), kw)
        if not core.is_float(self.dtype):
            return self._like(self._col.copy())
        return self._like(where(np.isnan(self._col), value, self._col))

    def dropna(self, **kw: Any) -> Series:
        if not self._lazy() or kw:
            return core.eager_method(self, "dropna", (), kw)
        notnan = self._notnan()
        if notnan is None:
            return self._like(self._col)
        return Series._of(self._rows, self._valid(), self._col, self._name)

    def where(self, cond: Any, other: Any = np.nan, **kw: Any) -> Series:
        return self._select("where", cond, other, kw, keep_where_true=True)

    def mask(self, cond: Any, other: Any = np.nan, **kw: Any) -> Series:
        return self._select("mask", cond, other, kw, keep_where_true=False)

    def _select(self, name: str, cond: Any, other: Any, kw: dict, keep_where_true: bool) -> Series:
        text = strings.column_of(self)
        if text is not None and not kw and isinstance(other, float) and np.isnan(other):
            ok, c = self._operand(cond)  # strings made missing where the condition says
            if ok and getattr(c, "dtype", None) == np.dtype(bool):
                return self._like(strings.without(text, ~c if keep_where_true else c))
        ok, c = self._operand(cond) if self._lazy() and not kw else (False, None)
        ok_other, o = self._operand(other) if ok else (False, None)
        if not ok or not ok_other or getattr(c, "dtype", None) != np.dtype(bool) or not _scalar(other):
            return core.eager_method(self, name, (cond, other), kw)
        keep = c if keep_where_true else ~c
        dtype = core.replaced_dtype(self.dtype, other)
        if dtype != self.dtype:
            # pandas widens the dtype only if a value is replaced: that is known only now
            if not supported(dtype):
                return core.eager_method(self, name, (cond, other), kw, "dtype")
            if bool(lnp.all(keep if self._mask is None else keep | ~self._mask)):
                return self._like(self._col.copy())
        return self._like(where(keep, self._col, other).astype(dtype))

    def replace(self, to_replace: Any = None, value: Any = _NO_NAME, **kw: Any) -> Series:
        """Values equal to ``to_replace`` (a scalar, a list, or a dict of old -> new) become
        ``value``; pandas widens the dtype only if a value is replaced (known only now)."""
        if isinstance(to_replace, dict) and value is _NO_NAME:
            pairs = list(to_replace.items())
        elif isinstance(to_replace, list) and _scalar(value):
            pairs = [(a, value) for a in to_replace]
        else:
            pairs = [(to_replace, value)]
        args = (to_replace,) if value is _NO_NAME else (to_replace, value)
        numbers = all(_scalar(v) and not isinstance(v, (bool, np.bool_)) for pair in pairs for v in pair)
        if not self._lazy() or kw or not pairs or not numbers or self.dtype.kind not in "iuf":
            return core.eager_method(self, "replace", args, kw)
        x, dtype, hits = self._col, self.dtype, []
        for a, b in pairs:
            hits.append(x != x if isinstance(a, float) and np.isnan(a) else x == a)
            dtype = np.result_type(dtype, core.replaced_by(self.dtype, a, b))
        if not supported(dtype):
            return core.eager_method(self, "replace", args, kw, "dtype")
        if dtype != self.dtype:
            anyhit = hits[0]
            for h in hits[1:]:
                anyhit = anyhit | h
            if not bool(lnp.any(anyhit if self._mask is None else anyhit & self._mask)):
                return self._like(x.copy())
        out = x.astype(dtype)
        for hit, (_, b) in reversed(list(zip(hits, pairs, strict=True))):  # the first pair wins
            out = where(hit, np.asarray(b).astype(dtype)[()], out)
        return self._like(out)

    # -- elementwise methods ------------------------------------------------------------------
    def astype(self, dtype: Any, copy: Any = None, errors: str = "raise") -> Series:
        try:
            target = np.dtype(dtype)
        except TypeError:
            target = None
        if (
            not self._lazy()
            or target is None
            or not supported(target)
            or (self.dtype.kind == "f" and target.kind in "iub")  # pandas refuses NaN -> int
        ):
            return core.eager_method(self, "astype", (dtype,), {"errors": errors})
        return self._like(self._col.astype(target))

    def abs(self) -> Series:
        return self._unary(abs, "abs")

    def __neg__(self) -> Series:
        return self._unary(operator.neg, "__neg__")

    def __invert__(self) -> Series:
        return self._unary(operator.invert, "__invert__")

    def __pos__(self) -> Series:
        return self._unary(operator.pos, "__pos__")

    def __abs__(self) -> Series:
        return self.abs()

    def _unary(self, op: Callable, name: str) -> Series:
        if not self._lazy():
            return core.eager_method(self, name)
        return self._like(op(self._col))

    def clip(self, lower: Any = None, upper: Any = None, **kw: Any) -> Series:
        if not self._lazy() or kw or not (_scalar(lower, True) and _scalar(upper, True)):
            return core.eager_method(self, "clip", (lower, upper), kw)
        out = self._col
        for bound, keep in ((lower, np.greater_equal), (upper, np.less_equal)):
            if bound is not None and not (isinstance(bound, float) and np.isnan(bound)):
                if np.result_type(out.dtype, bound) != out.dtype:
                    return core.eager_method(self, "clip", (lower, upper), kw, "bound dtype")
                # NaN stays NaN (pandas): only values on the wrong side of the bound change
                out = where(~(out == out) | keep(out, bound), out, bound)
        return self._like(out)

    def between(self, left: Any, right: Any, inclusive: str = "both") -> Series:
        ops = {"both": (np.greater_equal, np.less_equal), "neither": (np.greater, np.less)}
        ops.update({"left": (np.greater_equal, np.less), "right": (np.greater, np.less_equal)})
        if inclusive not in ops:
            raise ValueError("Inclusive has to be either string of 'both','left', 'right', or 'neither'.")
        lo, hi = ops[inclusive]
        out = lo(self, left) & hi(self, right)
        out._name = self._name
        return out

    def isin(self, values: Any) -> Series:
        items = list(values) if isinstance(values, (list, tuple, set, frozenset)) else None
        if items is not None and not self._lazy():
            out = strings.member(self, items)
            if out is not None:
                return self._like(out)
        if not self._lazy() or items is None or len(items) > 64 or not all(_scalar(v) for v in items):
            return core.eager_method(self, "isin", (values,))
        out = None
        for v in dict.fromkeys(items):
            hit = (self._col != self._col) if isinstance(v, float) and np.isnan(v) else (self._col == v)
            out = hit if out is None else out | hit
        if out is None:
            out = self._col != self._col
            out = out & ~out
        return self._like(out)

    def copy(self, deep: bool = True) -> Series:
        return self._like(self._col)

    # -- reductions ---------------------------------------------------------------------------
    def count(self) -> Any:
        if not self._lazy():
            return core.eager_method(self, "count")
        valid = self._valid()
        return np.int64(len(self._rows)) if valid is None else lnp.count_nonzero(valid)

    def sum(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False, min_count: int = 0, **kw: Any):
        return self._fold("sum", 0, skipna, min_count, kw)

    def prod(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False, min_count: int = 0, **kw: Any):
        return self._fold("prod", 1, skipna, min_count, kw)

    product = prod

    def _fold(self, op: str, identity: int, skipna: bool, min_count: int, kw: dict) -> Any:
        if not self._reducible(skipna, kw) or min_count:
            return core.eager_method(self, op, (), dict(kw, skipna=skipna, min_count=min_count))
        x = self._col
        if x.dtype == np.dtype(bool):
            x = x.astype(np.int64)
        valid = self._valid()
        if valid is not None:
            x = where(valid, x, identity)
        out = lnp.sum(x) if op == "sum" else lnp.prod(x)
        return out.astype(core.reduction_dtype(op, self.dtype))

    def _reducible(self, skipna: bool, kw: dict) -> bool:
        kw = {k: v for k, v in kw.items() if not (k in ("axis", "dtype", "out", "keepdims") and v in (None, 0, False))}
        return self._lazy() and skipna and not kw

    def mean(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False, **kw: Any) -> Any:
        if not self._reducible(skipna, kw):
            return core.eager_method(self, "mean", (), dict(kw, skipna=skipna))
        total, count = self._sum_count()
        return (total / count).astype(core.reduction_dtype("mean", self.dtype))

    def _sum_count(self) -> tuple[Any, Any]:
        x = self._col.astype(np.float64) if self.dtype.kind in "iub" else self._col
        valid = self._valid()
        if valid is None:
            return lnp.sum(x), len(self._rows)
        return lnp.sum(where(valid, x, 0)), lnp.count_nonzero(valid)

    def var(self, axis: Any = None, skipna: bool = True, ddof: int = 1, numeric_only: bool = False, **kw: Any) -> Any:
        return self._spread("var", skipna, ddof, kw)

    def std(self, axis: Any = None, skipna: bool = True, ddof: int = 1, numeric_only: bool = False, **kw: Any) -> Any:
        return self._spread("std", skipna, ddof, kw)

    def _spread(self, op: str, skipna: bool, ddof: int, kw: dict) -> Any:
        if not self._reducible(skipna, kw):
            return core.eager_method(self, op, (), dict(kw, skipna=skipna, ddof=ddof))
        total, count = self._sum_count()
        m = total / count
        x = self._col.astype(np.float64) if self.dtype.kind in "iub" else self._col
        dev = (x - m) * (x - m)
        valid = self._valid()
        squares = lnp.sum(dev if valid is None else where(valid, dev, 0))
        v = where(count > ddof, squares / (count - ddof), np.nan)
        if op == "std":
            v = np.sqrt(v)
        return v.astype(core.reduction_dtype(op, self.dtype))

    def min(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False, **kw: Any) -> Any:
        return self._extreme("min", skipna, kw)

    def max(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False, **kw: Any) -> Any:
        return self._extreme("max", skipna, kw)

    def _extreme(self, op: str, skipna: bool, kw: dict) -> Any:
        if not self._reducible(skipna, kw) or len(self._rows) == 0:
            return core.eager_method(self, op, (), dict(kw, skipna=skipna))
        x, valid = self._col, self._valid()
        reduce = lnp.amin if op == "min" else lnp.amax
        if core.is_float(self.dtype):
            fill = np.inf if op == "min" else -np.inf
            value = reduce(x if valid is None else where(valid, x, fill))
            any_valid = lnp.any(valid) if valid is not None else True
            return where(any_valid, value, np.nan).astype(self.dtype)
        if valid is None:
            return reduce(x)
        # integers: pandas gives NaN when no row is left, so the count decides the kind of result
        info = np.iinfo(x.dtype) if x.dtype.kind in "iu" else None
        fill = (info.max if op == "min" else info.min) if info is not None else (op == "min")
        value, count = unwrap([reduce(where(valid, x, fill)), lnp.count_nonzero(valid)])
        return np.nan if count == 0 else value

    def nunique(self, dropna: bool = True) -> int:
        text = strings.column_of(self) if dropna else None
        if text is not None:
            return strings.distinct_count(text, self._mask)
        if not self._lazy() or not dropna:
            return core.eager_method(self, "nunique", (), {"dropna": dropna})
        return len(reorder.key_counts(self._col, self._mask)[0])

    def value_counts(
        self, normalize: bool = False, sort: bool = True, ascending: bool = False, bins: Any = None, dropna: bool = True
    ) -> Series:
        if not self._lazy() or bins is not None or not dropna:
            kw = dict(normalize=normalize, sort=sort, ascending=ascending, bins=bins, dropna=dropna)
            return core.eager_method(self, "value_counts", (), kw)
        keys, counts = reorder.key_counts(self._col, self._mask)
        # the table pandas makes (values in order of first appearance), then what pandas does to it
        out = pd.Series(counts, index=pd.Index(keys, name=self._name, dtype=self.dtype), name="count")
        if sort:
            out = out.sort_values(ascending=ascending, kind="stable")
        if normalize:
            with np.errstate(all="ignore"):
                out = (out / counts.sum()).rename("proportion")
        return Series(out)

    def unique(self) -> Any:
        if not self._lazy() or core.is_float(self.dtype):  # NaN's place among the values: pandas
            return core.eager_method(self, "unique")
        return np.asarray(reorder.key_counts(self._col, self._mask)[0], dtype=self.dtype)

    # -- reordering -------------------------------------------------------------------------------
    def sort_values(self, *args: Any, **kw: Any) -> Series:
        if args or set(kw) - {"ascending", "kind", "na_position"}:
            return core.eager_method(self, "sort_values", args, kw)
        return self._reordered(reorder.order_by(self, [self._col], "sort_values", ([0],), kw))

    def sort_index(self, *args: Any, **kw: Any) -> Series:
        if args or set(kw) - {"ascending", "kind", "na_position"}:
            return core.eager_method(self, "sort_index", args, kw)
        return self._reordered(reorder.index_order(self, kw))

    def nlargest(self, n: int = 5, keep: str = "first") -> Series:
        return self._picked("nlargest", n, keep)

    def nsmallest(self, n: int = 5, keep: str = "first") -> Series:
        return self._picked("nsmallest", n, keep)

    def _picked(self, method: str, n: int, keep: str) -> Series:
        if not self._lazy() or keep != "first":
            return core.eager_method(self, method, (n,), {"keep": keep})
        return self._reordered(reorder.order_by(self, [self._col], method, (n, 0), {"keep": keep}))

    def _reordered(self, where: np.ndarray) -> Series:
        rows, cols = reorder.taken(self, where)
        return Series._of(rows, None, cols[0], self._name)

    def any(self, **kw: Any) -> Any:
        return core.eager_method(self, "any", (), kw) if kw or not self._lazy() else lnp.any(self._masked_fill(False))

    def all(self, **kw: Any) -> Any:
        return core.eager_method(self, "all", (), kw) if kw or not self._lazy() else lnp.all(self._masked_fill(True))

    def _masked_fill(self, fill: bool) -> ndarray:
        x = self._col != 0 if self.dtype != np.dtype(bool) else self._col
        if core.is_float(self.dtype):  # pandas skips NaN
            x = where(self._col != self._col, fill, x)
        return x if self._mask is None else where(self._mask, x, fill)

    def head(self, n: int = 5) -> Series:
        if self._mask is None and n >= 0:
            rows = Rows(self._rows.index[:n])
            col = self._col[:n] if self._lazy() else core.plain(self._col).iloc[:n]
            return Series._of(rows, None, col, self._name)
        return core.eager_method(self, "head", (n,))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return core.eager_attribute(self, pd.Series, name)


def _scalar(value: Any, none_ok: bool = False) -> bool:
    if value is None:
        return none_ok
    return isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating))


def _install_operators() -> None:
    binary = {
        "add": operator.add,
        "sub": operator.sub,
        "mul": operator.mul,
        "truediv": operator.truediv,
        "floordiv": operator.floordiv,
        "mod": operator.mod,
        "pow": operator.pow,
        "and": operator.and_,
        "or": operator.or_,
        "xor": operator.xor,
    }
    for name, op in binary.items():

        def forward(self: Series, other: Any, op: Callable = op, name: str = name) -> Any:
            return self._binary(op, other, name)

        def reflected(self: Series, other: Any, op: Callable = op, name: str = name) -> Any:
            return self._binary(op, other, name, reflected=True)

        setattr(Series, f"__{name}__", forward)
        setattr(Series, f"__r{name}__", reflected)
        if name not in ("and", "or", "xor"):  # the methods: s.add(x), s.radd(x)
            setattr(Series, name, forward)
            setattr(Series, f"r{name}", reflected)
    comparisons = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt}
    comparisons.update({"le": operator.le, "gt": operator.gt, "ge": operator.ge})
    for name, op in comparisons.items():

        def compare(self: Series, other: Any, op: Callable = op, name: str = name) -> Any:
            return self._binary(op, other, name)

        setattr(Series, f"__{name}__", compare)
        setattr(Series, name, compare)
    Series.__hash__ = None  # type: ignore[assignment]
    Series.div = Series.truediv  # type: ignore[attr-defined]


_install_operators()
