"""The lazy pandas ``DataFrame``: named columns over shared rows and one shared mask (see
``core``). Selecting, assigning and filtering columns is bookkeeping; the work happens in the
columns' lazy arrays, all of one frame computed by one program."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..numpy.array import ndarray, unwrap
from . import core, reorder
from .core import Column, Rows
from .series import Series, _scalar


class DataFrame(core.Masked):
    """A lazy ``pandas.DataFrame``: ``DataFrame(pandas_frame)`` wraps one without copying."""

    __slots__ = ("_cols", "_columns")

    def __init__(self, data: Any = None, index: Any = None, columns: Any = None, dtype: Any = None, copy: Any = None):
        if isinstance(data, DataFrame) and index is None and columns is None and dtype is None:
            self._set(data._rows, data._mask, list(data._cols), data._columns)
            return
        if isinstance(data, dict) and index is None and columns is None and dtype is None:
            data = {k: (v.to_pandas() if isinstance(v, Series) else v) for k, v in data.items()}
        if not isinstance(data, pd.DataFrame) or index is not None or columns is not None or dtype is not None:
            data = pd.DataFrame(core.to_pandas(data), index=index, columns=columns, dtype=dtype, copy=copy)
        cols = [core.column_of(data.iloc[:, k]) for k in range(data.shape[1])]
        self._set(Rows(data.index), None, cols, data.columns)

    def _set(self, rows: Rows, mask: ndarray | None, cols: list[Column], columns: pd.Index) -> None:
        self._rows, self._mask, self._cols, self._columns = rows, mask, cols, columns

    @classmethod
    def _of(cls, rows: Rows, mask: ndarray | None, cols: list[Column], columns: pd.Index) -> DataFrame:
        out = cls.__new__(cls)
        out._set(rows, mask, cols, columns)
        return out

    # -- evaluation ---------------------------------------------------------------------------
    def _columns_held(self) -> list[Column]:
        return self._cols

    def __lazyir_value__(self) -> pd.DataFrame:
        mask = self._known_mask()
        index = core.cut_index(self._rows, mask)
        series = [core.materialize(c, mask, index, None) for c in self._cols]
        out = pd.concat(series, axis=1, ignore_index=True) if series else pd.DataFrame(index=index)
        out.columns = self._columns
        return out

    # -- attributes ---------------------------------------------------------------------------
    @property
    def columns(self) -> pd.Index:
        return self._columns

    @columns.setter
    def columns(self, labels: Any) -> None:
        index = pd.Index(labels)
        if len(index) != len(self._cols):
            raise ValueError(
                f"Length mismatch: Expected axis has {len(self._cols)} elements, new values have {len(index)} elements"
            )
        self._columns = index

    def rename(self, mapper: Any = None, *, columns: Any = None, **kw: Any) -> DataFrame:
        if mapper is not None or kw or not isinstance(columns, dict):
            return core.eager_method(self, "rename", (mapper,) if mapper is not None else (), dict(kw, columns=columns))
        labels = [columns.get(c, c) for c in self._columns]
        return DataFrame._of(self._rows, self._mask, list(self._cols), pd.Index(labels))

    def drop(self, labels: Any = None, *, columns: Any = None, **kw: Any) -> DataFrame:
        names = columns if columns is not None else labels if kw.get("axis") in (1, "columns") else None
        rest = {k: v for k, v in kw.items() if k != "axis"}
        picks = (
            [self._position(c) for c in (names if isinstance(names, list) else [names])] if names is not None else None
        )
        if picks is None or None in picks or rest:
            return core.eager_method(self, "drop", (labels,) if labels is not None else (), dict(kw, columns=columns))
        keep = [k for k in range(len(self._cols)) if k not in set(picks)]
        return DataFrame._of(self._rows, self._mask, [self._cols[k] for k in keep], self._columns[keep])

    def reset_index(self, *, drop: bool = False, **kw: Any) -> DataFrame:
        if not drop or kw:
            return core.eager_method(self, "reset_index", (), dict(kw, drop=drop))
        if self._mask is None:
            return DataFrame._of(Rows(pd.RangeIndex(len(self._rows))), None, list(self._cols), self._columns)
        rows, cols = reorder.taken(self, reorder.positions(self))  # the mask is computed now
        return DataFrame._of(Rows(pd.RangeIndex(len(rows))), None, cols, self._columns)

    @property
    def dtypes(self) -> pd.Series:
        return pd.Series([c.dtype for c in self._cols], index=self._columns, dtype=object)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), len(self._cols))

    @property
    def empty(self) -> bool:
        return len(self) == 0 or not self._cols

    def __contains__(self, key: Any) -> bool:
        return key in self._columns

    def __iter__(self):
        return iter(self._columns)

    def keys(self) -> pd.Index:
        return self._columns

    # -- columns ------------------------------------------------------------------------------
    def _position(self, key: Any) -> int | None:
        """The position of a unique column label, else ``None``."""
        try:
            loc = self._columns.get_loc(key)
        except (KeyError, TypeError, pd.errors.InvalidIndexError):
            return None
        return loc if isinstance(loc, int) else None

    def _column(self, k: int) -> Series:
        return Series._of(self._rows, self._mask, self._cols[k], self._columns[k])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        k = self._position(name)
        if k is not None:
            return self._column(k)
        return core.eager_attribute(self, pd.DataFrame, name)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (Series, np.ndarray, ndarray)):
            rows = self._as_series()._row_mask(key)
            if rows is not None:
                return DataFrame._of(self._rows, rows, list(self._cols), self._columns)
        elif isinstance(key, list):
            picks = [self._position(k) for k in key]
            if all(p is not None for p in picks) and key:
                return DataFrame._of(self._rows, self._mask, [self._cols[p] for p in picks], self._columns[picks])
        else:
            k = self._position(key)
            if k is not None:
                return self._column(k)
        return core.eager_method(self, "__getitem__", (key,), reason="key")

    def _as_series(self) -> Series:
        """A Series over this frame's rows and mask (to test keys and values against them)."""
        return Series._of(self._rows, self._mask, self._cols[0] if self._cols else None, None)

    def __setitem__(self, key: Any, value: Any) -> None:
        col = self._column_value(value)
        if col is None or isinstance(key, (list, tuple, Series, np.ndarray, ndarray)):
            frame = self.to_pandas()
            frame[key] = core.to_pandas(value)
            core.fallback.note("DataFrame.__setitem__", "value")
            lazy = DataFrame(frame)
            self._set(lazy._rows, lazy._mask, lazy._cols, lazy._columns)
            return
        k = self._position(key)
        if k is not None:
            self._cols[k] = col
        else:
            self._cols.append(col)
            self._columns = self._columns.insert(len(self._columns), key)

    def _column_value(self, value: Any) -> Column | None:
        """``value`` as a column of this frame (same rows and mask), or ``None``."""
        if isinstance(value, Series):
            if value._rows.same(self._rows) and core.same_mask(value._mask, self._mask):
                return value._col
            return None
        if _scalar(value) or isinstance(value, str):
            if self._mask is not None:
                return None  # pandas would fill the filtered rows too: keep its own rules
            return core.column_of(pd.Series(value, index=self._rows.index))
        if isinstance(value, (np.ndarray, ndarray)) and value.ndim == 1 and self._mask is None:
            if len(value) == len(self._rows):
                return core.column_of(pd.Series(np.asarray(value))) if isinstance(value, np.ndarray) else value
        return None

    def assign(self, **kwargs: Any) -> DataFrame:
        out = DataFrame._of(self._rows, self._mask, list(self._cols), self._columns)
        for key, value in kwargs.items():
            out[key] = value(out) if callable(value) else value
        return out

    def copy(self, deep: bool = True) -> DataFrame:
        return DataFrame._of(self._rows, self._mask, list(self._cols), self._columns)

    def merge(self, right: Any, **kw: Any) -> Any:
        from .merge import merge

        return merge(self, right, **kw)

    def pivot_table(self, values: Any = None, index: Any = None, columns: Any = None, aggfunc: Any = "mean", **kw: Any):
        """The group-by of ``index`` and ``columns`` (compiled), then pandas' ``unstack`` of its
        small result."""
        names = [*_listed(index), *_listed(columns)]
        simple = isinstance(aggfunc, str) and aggfunc in ("sum", "mean", "count", "min", "max")
        if kw or values is None or not _listed(index) or not _listed(columns) or not simple:
            return core.eager_method(self, "pivot_table", (values, index, columns, aggfunc), kw)
        many = isinstance(values, list)
        table = getattr(self.groupby(names)[values if many else [values]], aggfunc)()
        if not isinstance(table, DataFrame):
            return table
        # what pandas' pivot_table does to the group-by's (small) result
        agged = table.to_pandas()
        if len(agged.columns):
            agged = agged.dropna(how="all")
        if len(agged) == 0:  # no group or only NaN: pandas' own answer (the shape of nothing is its call)
            return core.wrap(self.to_pandas().pivot_table(values, index=index, columns=columns, aggfunc=aggfunc))
        out = agged.unstack(list(range(len(_listed(index)), len(names)))).sort_index(axis=1)
        if not many and out.columns.nlevels > 1:
            out = out[values]
        return core.wrap(out.dropna(how="all", axis=1))

    def groupby(self, by: Any = None, **options: Any) -> Any:
        from .groupby import GroupBy

        if options.get("axis", 0) not in (0, "index") or by is None:
            return core.eager_method(self, "groupby", (by,), options)
        return GroupBy(self, list(by) if isinstance(by, list) else [by], options)

    @property
    def loc(self) -> _Loc:
        return _Loc(self)

    # -- per-column operations ----------------------------------------------------------------
    def _map(self, name: str, fn: Any, args: tuple = (), kw: dict | None = None) -> DataFrame:
        """``fn(column Series)`` for every column; pandas for all of it when a column is not lazy."""
        if not all(core.is_lazy(c) for c in self._cols):
            return core.eager_method(self, name, args, kw or {})
        cols = []
        for k in range(len(self._cols)):
            out = fn(self._column(k))
            if not isinstance(out, Series) or not out._lazy():
                return core.eager_method(self, name, args, kw or {})
            cols.append(out._col)
        return DataFrame._of(self._rows, self._mask, cols, self._columns)

    def isna(self) -> DataFrame:
        return self._map("isna", Series.isna)

    isnull = isna

    def notna(self) -> DataFrame:
        return self._map("notna", Series.notna)

    notnull = notna

    def fillna(self, value: Any = None, **kw: Any) -> DataFrame:
        if kw or not _scalar(value):
            return core.eager_method(self, "fillna", (value,), kw)
        return self._map("fillna", lambda s: s.fillna(value), (value,))

    def clip(self, lower: Any = None, upper: Any = None, **kw: Any) -> DataFrame:
        if kw:
            return core.eager_method(self, "clip", (lower, upper), kw)
        return self._map("clip", lambda s: s.clip(lower, upper), (lower, upper))

    def abs(self) -> DataFrame:
        return self._map("abs", Series.abs)

    def astype(self, dtype: Any, copy: Any = None, errors: str = "raise") -> DataFrame:
        if isinstance(dtype, dict):
            return core.eager_method(self, "astype", (dtype,), {"errors": errors})
        return self._map("astype", lambda s: s.astype(dtype), (dtype,), {"errors": errors})

    def dropna(self, **kw: Any) -> DataFrame:
        if kw or not all(core.is_lazy(c) for c in self._cols):
            return core.eager_method(self, "dropna", (), kw)
        mask = self._mask
        for k in range(len(self._cols)):
            notnan = self._column(k)._notnan()
            if notnan is not None:
                mask = notnan if mask is None else mask & notnan
        return DataFrame._of(self._rows, mask, list(self._cols), self._columns)

    # -- reordering -----------------------------------------------------------------------------
    def sort_values(self, by: Any, *args: Any, **kw: Any) -> DataFrame:
        names = by if isinstance(by, list) else [by]
        picks = [self._position(k) for k in names]
        if args or set(kw) - {"ascending", "kind", "na_position"} or None in picks or not names:
            return core.eager_method(self, "sort_values", (by, *args), kw)
        where = reorder.order_by(self, [self._cols[p] for p in picks], "sort_values", (list(range(len(names))),), kw)
        return self._reordered(where)

    def sort_index(self, *args: Any, **kw: Any) -> DataFrame:
        if args or set(kw) - {"ascending", "kind", "na_position"}:
            return core.eager_method(self, "sort_index", args, kw)
        return self._reordered(reorder.index_order(self, kw))

    def nlargest(self, n: int, columns: Any, keep: str = "first") -> DataFrame:
        return self._picked("nlargest", n, columns, keep)

    def nsmallest(self, n: int, columns: Any, keep: str = "first") -> DataFrame:
        return self._picked("nsmallest", n, columns, keep)

    def _picked(self, method: str, n: int, columns: Any, keep: str) -> DataFrame:
        names = columns if isinstance(columns, list) else [columns]
        picks = [self._position(k) for k in names]
        if keep != "first" or None in picks or not all(core.is_lazy(self._cols[p]) for p in picks):
            return core.eager_method(self, method, (n, columns), {"keep": keep})
        where = reorder.order_by(
            self, [self._cols[p] for p in picks], method, (n, list(range(len(names)))), {"keep": keep}
        )
        return self._reordered(where)

    def _reordered(self, where: np.ndarray) -> DataFrame:
        rows, cols = reorder.taken(self, where)
        return DataFrame._of(rows, None, cols, self._columns)

    def head(self, n: int = 5) -> DataFrame:
        if self._mask is None and n >= 0:
            cols = [c[:n] if core.is_lazy(c) else core.plain(c).iloc[:n] for c in self._cols]
            return DataFrame._of(Rows(self._rows.index[:n]), None, cols, self._columns)
        return core.eager_method(self, "head", (n,))

    # -- reductions: one lazy scalar per column, all computed by one program ------------------
    def _reduce(self, op: str, kw: dict) -> Any:
        if kw or not self._cols or not all(core.is_lazy(c) for c in self._cols):
            return core.eager_method(self, op, (), kw)
        scalars = [getattr(self._column(k), op)() for k in range(len(self._cols))]
        if any(isinstance(s, (Series, DataFrame)) for s in scalars):
            return core.eager_method(self, op, (), kw)
        values = unwrap(scalars)
        # pandas joins the columns' results under its common-dtype rules (bool and int: object);
        # the max of a one-row frame of them applies those rules and keeps each value
        row = pd.DataFrame({k: np.asarray(v).reshape(1) for k, v in enumerate(values)})
        out = row.max()
        out.index = self._columns
        return Series(out)

    def __hash__(self) -> int:  # unhashable, like pandas frames
        raise TypeError("unhashable type: 'DataFrame'")


def _reduction(op: str):
    def method(self: DataFrame, axis: Any = 0, skipna: bool = True, numeric_only: bool = False, **kw: Any) -> Any:
        if axis not in (0, "index") or not skipna or numeric_only:
            kw = dict(kw, axis=axis, skipna=skipna, numeric_only=numeric_only)
        return self._reduce(op, kw)

    method.__name__ = op
    return method


for _op in ("sum", "prod", "mean", "min", "max", "std", "var"):
    setattr(DataFrame, _op, _reduction(_op))


def _count(self: DataFrame, axis: Any = 0, numeric_only: bool = False) -> Any:
    kw = {} if axis in (0, "index") and not numeric_only else {"axis": axis, "numeric_only": numeric_only}
    return self._reduce("count", kw)


DataFrame.count = _count  # type: ignore[attr-defined]


def _listed(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, list) else [x]


class _Loc:
    """``df.loc[rows, columns]`` with a boolean row key and a column label or list; the rest on
    pandas."""

    def __init__(self, frame: DataFrame):
        self.frame = frame

    def __getitem__(self, key: Any) -> Any:
        rows, cols = key if isinstance(key, tuple) and len(key) == 2 else (key, slice(None))
        frame = self.frame
        if not (isinstance(rows, slice) and rows == slice(None)):
            picked = frame[rows] if isinstance(rows, (Series, np.ndarray, ndarray)) else None
            if not isinstance(picked, DataFrame):
                return core.eager("DataFrame.loc", lambda f, k: f.loc[k], (frame, key), {}, "key")
            frame = picked
        if isinstance(cols, slice) and cols == slice(None):
            return frame
        return frame[cols]
