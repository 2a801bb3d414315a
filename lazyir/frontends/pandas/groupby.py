"""``DataFrame.groupby``: one loop over the rows merges every aggregation into hash tables.

The loop is one graph node: its inputs are the key columns, the aggregated columns and the
frame's mask, so the filter and arithmetic that produce them fuse into it. Its builders are a
struct: one ``dictmerger[key, {sums and counts...}, +]`` for the sums, counts, sizes and means of
every column, a ``dictmerger[key, T, min|max]`` per minimum or maximum, a ``dictmerger[key, i64,
min|max]`` of row numbers per ``first``/``last``, and a ``groupmerger`` of the values per ``std`` or
``var`` (computed per group with NumPy's two-pass formula afterwards). Rows whose key is missing
are left out (pandas' ``dropna=True``), values that are NaN are skipped as pandas skips them.

The group-by is computed when it is called: its result has one row per group, and which groups
there are is known only then (the result is a lazy frame over those rows). String and other keys
the IR has no type for are factorized by pandas first (sorted codes). The result's shape (columns,
index names, dtypes) is the one pandas gives for the same call on a small probe frame with the same
dtypes; the values are ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...ir import nodes as n
from ...ir import types as T
from ..graph import Node, ir_scalar
from ..numpy.array import ndarray, unwrap
from ..numpy.array import wrap as wrap_array
from . import core

#: pandas' answers for probe frames, by call and column dtypes (results are only read).
_probes: dict[str, Any] = {}

FUNCS = ("sum", "mean", "count", "size", "min", "max", "first", "last", "std", "var")


@dataclass(frozen=True)
class Agg:
    column: int  # position in the frame (-1 for size)
    func: str


class GroupBy:
    """``frame.groupby(keys)``, with an optional column selection."""

    def __init__(self, frame: Any, keys: list, options: dict, selection: Any = None, series: bool = False):
        self._frame, self._keys, self._options = frame, keys, options
        self._selection, self._series = selection, series

    # -- pandas' GroupBy on the computed frame: the fallback --------------------------------------
    def _pandas(self) -> Any:
        grouped = core.to_pandas(self._frame).groupby(self._keys, **self._options)
        return grouped if self._selection is None else grouped[self._selection]

    def _eager(self, method: str, args: tuple = (), kw: dict | None = None, reason: str = "") -> Any:
        result = getattr(self._pandas(), method)(*args, **(kw or {}))
        core.fallback.note(f"GroupBy.{method}", reason)
        return core.wrap(result)

    def __getitem__(self, key: Any) -> GroupBy:
        return GroupBy(self._frame, self._keys, self._options, key, series=not isinstance(key, list))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._selection is None and name in self._frame.columns and name not in self._keys:
            return self[name]
        return lambda *args, **kw: self._eager(name, args, kw)

    # -- aggregations ---------------------------------------------------------------------------
    def agg(self, func: Any = None, *args: Any, **kw: Any) -> Any:
        if args or (kw and func is not None):
            return self._eager("agg", (func, *args), kw)
        return self._aggregate("agg", func if func is not None else kw, (func,) if func is not None else (), kw)

    aggregate = agg

    def size(self) -> Any:
        return self._aggregate("size", None, (), {})

    def _aggregate(self, method: str, spec: Any, args: tuple, kw: dict) -> Any:
        plan = self._plan(method, spec)
        if plan is None:
            return self._eager(method, args, kw)
        as_index = self._options.get("as_index", True)
        probe = self._probe(method, args, kw, dict(self._options, as_index=True))
        if probe is None or (probe.ndim == 2 and probe.shape[1] != len(plan)):
            return self._eager(method, args, kw, "result shape")
        index, columns = self._compute(plan)
        if len(index) == 0:
            probe = self._probe(method, args, kw, dict(self._options, as_index=True), rows=0)
        if probe.ndim == 1:
            out = pd.Series(_cast(columns[0], probe.dtype), index=index, name=probe.name)
        else:
            data = {k: _cast(c, dt) for k, (c, dt) in enumerate(zip(columns, probe.dtypes, strict=True))}
            out = pd.DataFrame(data, index=index)
            out.columns = probe.columns
        if not as_index:
            out = out.reset_index()
            flat = self._probe(method, args, kw, self._options, rows=2 if len(index) else 0)
            if flat is None or not isinstance(flat, pd.DataFrame) or not flat.columns.equals(out.columns):
                return self._eager(method, args, kw, "result shape")
        return core.wrap(out)

    def _plan(self, method: str, spec: Any) -> list[Agg] | None:
        """The aggregations, in the order of pandas' result columns; ``None``: not ours."""
        frame = self._frame
        opts = self._options
        if set(opts) - {"sort", "dropna", "as_index"} or not opts.get("dropna", True):
            return None
        if not all(isinstance(k, str | int) and frame._position(k) is not None for k in self._keys):
            return None
        if method == "size":
            return [Agg(-1, "size")]
        sel = self._selection
        if sel is None:
            cols = [c for c in frame.columns if c not in self._keys]
        else:
            cols = [sel] if self._series else list(sel)
        positions = [frame._position(c) for c in cols]
        if any(p is None for p in positions):
            return None
        if isinstance(spec, str):
            plan = [Agg(p, spec) for p in positions]
        elif isinstance(spec, list) and all(isinstance(f, str) for f in spec):
            plan = [Agg(p, f) for p in positions for f in spec]
        elif isinstance(spec, dict) and not self._series:
            plan = []
            for c, fs in spec.items():
                p = frame._position(c)
                if p is None:
                    return None
                for f in [fs] if isinstance(fs, str) else fs if isinstance(fs, list) else [None]:
                    if f is None:
                        return None
                    plan.append(Agg(p, f))
        else:
            return None
        for a in plan:
            col = frame._cols[a.column]
            if a.func not in FUNCS or not core.is_lazy(col):
                return None
            if a.func == "mean" and col.dtype == np.float32:
                return None  # pandas' dtype for it depends on the order of the rows
        return plan

    def _probe(self, method: str, args: tuple, kw: dict, options: dict, rows: int = 2) -> Any:
        """pandas' result for the same call on a frame of ``rows`` rows (one group) of the same
        dtypes: the shape and dtypes of the real result (which for no rows at all differ)."""
        frame = self._frame
        key = repr((method, args, kw, options, rows, self._keys, self._selection, list(frame.columns)))
        key += repr([str(c.dtype) for c in frame._cols])
        if key in _probes:  # the same call on the same kind of frame: pandas already answered
            return _probes[key]
        if len(_probes) > 512:
            _probes.clear()
        _probes[key] = out = self._ask_pandas(method, args, kw, options, rows)
        return out

    def _ask_pandas(self, method: str, args: tuple, kw: dict, options: dict, rows: int) -> Any:
        frame = self._frame
        data = {k: core.probe_column(c, rows) for k, c in enumerate(frame._cols)}
        probe = pd.DataFrame(data)
        probe.columns = frame.columns
        try:
            grouped = probe.groupby(self._keys, **options)
            if self._selection is not None:
                grouped = grouped[self._selection]
            return getattr(grouped, method)(*args, **kw)
        except Exception:  # pandas refuses it: so will the real call, with its own message
            return None

    # -- the loop -------------------------------------------------------------------------------
    def _compute(self, plan: list[Agg]) -> tuple[pd.Index, list[np.ndarray]]:
        frame = self._frame
        keys = [frame._position(k) for k in self._keys]
        key_cols, labels = [], []
        mask = frame._mask
        for p in keys:
            col = frame._cols[p]
            if core.is_lazy(col):
                key_cols.append(col)
                labels.append(None)
            elif isinstance(col, core.CodedColumn):  # codes into sorted categories: the keys
                key_cols.append(col.codes)
                labels.append(pd.Index(col.categories))
                present = col.codes >= 0
                mask = present if mask is None else mask & present
            else:
                codes, uniques = pd.factorize(core.plain(col), sort=True)
                key_cols.append(wrap_array(codes.astype(np.int64)))
                labels.append(uniques)
                if (codes < 0).any():  # missing keys: their rows are left out (dropna)
                    present = wrap_array(codes >= 0)
                    mask = present if mask is None else mask & present
        values = sorted({a.column for a in plan if a.column >= 0})
        node = _group_node(key_cols, [frame._cols[v] for v in values], mask, plan, values)
        tables = unwrap(ndarray(node))
        first_cols = {a.column for a in plan if a.func in ("first", "last")}
        known = dict(zip(sorted(first_cols), unwrap([frame._cols[c] for c in sorted(first_cols)]), strict=True))
        return _assemble(tables, plan, values, key_cols, labels, self._keys, known, self._options.get("sort", True))


def _method(func: str):
    def aggregate(self: GroupBy, *args: Any, **kw: Any) -> Any:
        if args or kw:
            return self._eager(func, args, kw)
        return self._aggregate(func, func, (), {})

    aggregate.__name__ = func
    return aggregate


for _func in FUNCS:
    if _func != "size":
        setattr(GroupBy, _func, _method(_func))


def _cast(values: np.ndarray, dtype: Any) -> Any:
    """Our column in pandas' dtype (as the probe says; data can widen it, as in pandas)."""
    if isinstance(dtype, np.dtype) and dtype.kind in "iub" and values.dtype.kind == "f":
        return values  # a missing group made it float: pandas too
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and values.dtype.kind in "iu" and len(values):
        info = np.iinfo(dtype)  # pandas narrows sums back to the column's dtype only if they fit
        if values.min() < info.min or values.max() > info.max:
            return values
    return values.astype(dtype) if isinstance(dtype, np.dtype) else pd.array(values, dtype=dtype)


def _acc_type(dtype: np.dtype, func: str) -> T.Scalar:
    """The type a sum (or a mean's sum) accumulates in."""
    if func == "mean" or dtype.kind == "f":
        return T.F64
    return T.U64 if dtype.kind == "u" else T.I64


@dataclass
class _Layout:
    """Where each aggregation's partial results are: field of the sums table, or builder."""

    sum_fields: list[tuple[int, str]]  # (value index, "sum" | "msum" | "count" | "size")
    builders: list[tuple[str, int]]  # (func, value index) for min/max/first/last/std/var


def _layout(plan: list[Agg], values: list[int]) -> _Layout:
    sums: dict[tuple[int, str], None] = {}
    builders: dict[tuple[str, int], None] = {}
    for a in plan:
        j = values.index(a.column) if a.column >= 0 else -1
        if a.func == "size":
            sums[(-1, "size")] = None
        elif a.func in ("sum", "mean"):
            sums[(j, "sum" if a.func == "sum" else "msum")] = None
            if a.func == "mean":
                sums[(j, "count")] = None
        elif a.func == "count":
            sums[(j, "count")] = None
        else:
            builders[(a.func, j)] = None
    sums[(-1, "size")] = None  # every group has a size: the table of sums lists every group
    return _Layout(list(sums), list(builders))


def _group_node(keys: list[ndarray], cols: list[ndarray], mask: ndarray | None, plan: list[Agg], values: list[int]):
    layout = _layout(plan, values)
    inputs = [k._node for k in keys] + [c._node for c in cols] + ([mask._node] if mask is not None else [])
    key_tys = [ir_scalar(k.dtype) for k in keys]
    val_dtypes = [c.dtype for c in cols]

    def build(args: list[n.Expr]) -> n.Expr:
        b, i, e = n.ident("b"), n.ident("i"), n.ident("e")

        def elem(j: int) -> n.Expr:
            return e if len(args) == 1 else n.getfield(e, j)

        nk = len(keys)
        kexprs = [elem(j) for j in range(nk)]
        key = kexprs[0] if nk == 1 else n.make_struct(*kexprs)
        vals = [elem(nk + j) for j in range(len(cols))]
        keep = None
        if mask is not None:
            keep = elem(nk + len(cols))
        for kx, ty in zip(kexprs, key_tys, strict=True):
            if ty.is_float:
                present = n.binop("==", kx, kx)
                keep = present if keep is None else n.binop("&&", keep, present)

        def valid(j: int) -> n.Expr | None:
            return n.binop("==", vals[j], vals[j]) if val_dtypes[j].kind == "f" else None

        fields, field_tys = [], []
        for j, kind in layout.sum_fields:
            if kind == "size":
                fields.append(n.lit(1, T.I64))
                field_tys.append(T.I64)
            elif kind == "count":
                ok = valid(j)
                fields.append(n.lit(1, T.I64) if ok is None else n.cast(T.I64, ok))
                field_tys.append(T.I64)
            else:
                acc = _acc_type(val_dtypes[j], "mean" if kind == "msum" else "sum")
                x = n.cast(acc, vals[j])
                ok = valid(j)
                fields.append(x if ok is None else n.select(ok, x, n.lit(0, acc)))
                field_tys.append(acc)
        builder_tys = [T.DictMerger(_key_ty(key_tys), T.Struct(tuple(field_tys)), "+")]
        merges = [n.merge(n.getfield(b, 0), n.make_struct(key, n.make_struct(*fields)))]
        for k, (func, j) in enumerate(layout.builders, start=1):
            ok = valid(j)
            if func in ("min", "max"):
                vty = ir_scalar(val_dtypes[j])
                if vty == T.BOOL:
                    vty = T.I64
                ty = T.DictMerger(_key_ty(key_tys), vty, func)
                item = n.cast(vty, vals[j])
            elif func in ("first", "last"):
                ty = T.DictMerger(_key_ty(key_tys), T.I64, "min" if func == "first" else "max")
                item = i
            else:
                ty = T.GroupMerger(_key_ty(key_tys), T.F64)
                item = n.cast(T.F64, vals[j])
            builder_tys.append(ty)
            m = n.merge(n.getfield(b, k), n.make_struct(key, item))
            merges.append(m if ok is None else n.if_(ok, m, n.getfield(b, k)))
        body = n.make_struct(*merges)
        if keep is not None:
            body = n.if_(keep, body, b)
        news = n.make_struct(*[n.new_builder(t) for t in builder_tys])
        loop = n.for_(list(args), news, n.lam([("b", None), ("i", None), ("e", None)], body))
        return n.result(loop)

    return Node(inputs, build, core.compiled(build), np.dtype(object), (0,), "groupby")


def _key_ty(tys: list[T.Scalar]) -> T.Type:
    return tys[0] if len(tys) == 1 else T.Struct(tuple(tys))


def _assemble(
    tables: tuple,
    plan: list[Agg],
    values: list[int],
    key_cols: list[ndarray],
    labels: list[Any],
    names: list[Any],
    known: dict[int, np.ndarray],
    sort: bool,
) -> tuple[pd.Index, list[np.ndarray]]:
    """The result's index (sorted keys, pandas' order) and each aggregation's column."""
    layout = _layout(plan, values)
    sums = tables[0]
    nk = len(key_cols)
    key_arrays = [sums.keys] if nk == 1 else [sums.keys[f"f{j}"] for j in range(nk)]
    order = np.lexsort(key_arrays[::-1]) if sort and len(sums) else np.arange(len(sums))
    key_arrays = [k[order] for k in key_arrays]
    groups = pd.MultiIndex.from_arrays(key_arrays) if nk > 1 else pd.Index(key_arrays[0])

    def field(j: int, kind: str) -> np.ndarray:
        pos = layout.sum_fields.index((j, kind))
        return sums.values[f"f{pos}"][order]

    def per_group(k: int, table: Any) -> tuple[np.ndarray, np.ndarray]:
        """A builder's values lined up with the groups (and where a group has one)."""
        tkeys = table.keys if nk == 1 else pd.MultiIndex.from_arrays([table.keys[f"f{j}"] for j in range(nk)])
        where = pd.Index(tkeys).get_indexer(groups) if len(table) else np.full(len(groups), -1)
        return where, table.values

    columns = []
    for a in plan:
        j = values.index(a.column) if a.column >= 0 else -1
        if a.func == "size":
            columns.append(field(-1, "size"))
        elif a.func == "count":
            columns.append(field(j, "count"))
        elif a.func == "sum":
            columns.append(field(j, "sum"))
        elif a.func == "mean":
            with np.errstate(all="ignore"):
                columns.append(field(j, "msum") / field(j, "count"))
        else:
            k = layout.builders.index((a.func, j)) + 1
            where, vals = per_group(k, tables[k])
            if a.func in ("std", "var"):
                with np.errstate(all="ignore"):
                    stats = np.array([np.var(v, ddof=1) if len(v) > 1 else np.nan for v in vals])
                    if a.func == "std":
                        stats = np.sqrt(stats)
                got = stats[where] if len(stats) else np.zeros(len(where))
            elif a.func in ("first", "last"):
                got = known[a.column][vals[where]] if len(vals) else np.zeros(len(where), known[a.column].dtype)
            else:
                got = vals[where] if len(vals) else np.zeros(len(where), vals.dtype)
            missing = where < 0
            if missing.any():
                got = np.where(missing, np.nan, got.astype(np.float64))
            columns.append(got)
    index_arrays = []
    for arr, lab in zip(key_arrays, labels, strict=True):
        index_arrays.append(arr if lab is None else lab.take(arr))
    if nk == 1:
        index = pd.Index(index_arrays[0], name=names[0])
        if labels[0] is None:
            index = index.astype(key_cols[0].dtype)
    else:
        index = pd.MultiIndex.from_arrays(index_arrays, names=names)
    return index, columns
