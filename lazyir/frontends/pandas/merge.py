"""``merge`` (inner and left joins on key columns) as a hash join written in IR.

One program builds a ``groupmerger`` from the right frame's keys (key -> its rows, in order) and
probes it with every row of the left frame, appending ``{left row, right row}`` pairs (``-1``: no
match, in a left join): pandas' row order (left rows in order, each with its matches in right
order). The key columns may be lazy expressions over filtered frames: they fuse into the build
and probe loops. With the pairs known, every column of the result is gathered lazily (``take``),
so the gather fuses with whatever reads the joined frame.

String and other keys the IR has no type for are factorized together by pandas first. pandas
decides the result's column labels (suffixes) on empty probe frames; a right column missing for
some rows of a left join gets pandas' fill (NaN, which widens integers to float64).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...ir import nodes as n
from ...ir import types as T
from ..graph import Node, ir_scalar
from ..numpy import api as lnp
from ..numpy.array import ndarray, unwrap, where
from ..numpy.array import wrap as wrap_array
from . import core, reorder
from .core import Rows

_OPTIONS = {"how", "on", "left_on", "right_on", "suffixes", "sort"}


def merge(left: Any, right: Any, **kw: Any) -> Any:
    from .frame import DataFrame

    how = kw.get("how", "inner")
    if (
        not isinstance(left, DataFrame)
        or not isinstance(right, DataFrame)
        or set(kw) - _OPTIONS
        or how not in ("inner", "left")
        or kw.get("sort", False)
    ):
        return core.eager("merge", pd.merge, (left, right), kw, "options")
    on = kw.get("on")
    left_on = _names(kw.get("left_on", on))
    right_on = _names(kw.get("right_on", on))
    if on is None and kw.get("left_on") is None:  # pandas: the columns both frames have
        common = [c for c in left.columns if c in set(right.columns)]
        left_on = right_on = common
    lpos = [left._position(c) for c in left_on]
    rpos = [right._position(c) for c in right_on]
    if not left_on or len(left_on) != len(right_on) or None in lpos or None in rpos:
        return core.eager("merge", pd.merge, (left, right), kw, "keys")
    probe = _probe(left, right, kw)
    if probe is None:
        return core.eager("merge", pd.merge, (left, right), kw, "keys")
    keys = _keys([left._cols[p] for p in lpos], [right._cols[p] for p in rpos])
    if keys is None:
        return core.eager("merge", pd.merge, (left, right), kw, "key dtypes")
    pairs = _dense_pairs(keys[0], left._mask, keys[1], right._mask, how == "left")
    if pairs is None:
        pairs = _pairs(keys[0], left._mask, keys[1], right._mask, how == "left")
    li, ri = np.ascontiguousarray(pairs["f0"]), np.ascontiguousarray(pairs["f1"])
    dropped = set(rpos) if left_on == right_on else set()
    _, lcols = reorder.taken(left, li)
    cols = lcols + [_gather(right._cols[k], ri) for k in range(len(right._cols)) if k not in dropped]
    if len(cols) != len(probe.columns):
        return core.eager("merge", pd.merge, (left, right), kw, "result shape")
    return DataFrame._of(Rows(pd.RangeIndex(len(li))), None, cols, probe.columns)


def _names(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, list | tuple) else [x]


def _probe(left: Any, right: Any, kw: dict) -> pd.DataFrame | None:
    """pandas' merge of empty frames of the same columns and dtypes: the result's labels."""
    try:
        return pd.merge(_empty(left), _empty(right), **kw)
    except Exception:  # the real call raises it too, with pandas' message
        return None


def _empty(frame: Any) -> pd.DataFrame:
    cols = {k: core.probe_column(c, 0) for k, c in enumerate(frame._cols)}
    out = pd.DataFrame(cols)
    out.columns = frame.columns
    return out


def _keys(left: list, right: list) -> tuple[list[ndarray], list[ndarray]] | None:
    """Key columns both sides can hash alike: same IR dtype, or codes of one factorization."""
    lk, rk = [], []
    for a, b in zip(left, right, strict=True):
        a, b = core.plain(a), core.plain(b)
        if core.is_lazy(a) and core.is_lazy(b) and a.dtype == b.dtype:
            lk.append(a)
            rk.append(b)
        elif core.is_lazy(a) and core.is_lazy(b) and a.dtype.kind in "iu" and b.dtype.kind in "iu":
            common = np.result_type(a.dtype, b.dtype)  # integers of two widths match by value
            if common.kind not in "iu":
                return None
            lk.append(a.astype(common))
            rk.append(b.astype(common))
        elif not core.is_lazy(a) and not core.is_lazy(b):  # (pandas refused incompatible ones in the probe)
            codes, _ = pd.factorize(pd.concat([a, b], ignore_index=True), use_na_sentinel=False)
            lk.append(wrap_array(codes[: len(a)].astype(np.int64)))
            rk.append(wrap_array(codes[len(a) :].astype(np.int64)))
        else:
            return None
    return lk, rk


def _pairs(lkeys: list[ndarray], lmask: ndarray | None, rkeys: list[ndarray], rmask: ndarray | None, outer: bool):
    inputs = [k._node for k in lkeys] + ([lmask._node] if lmask is not None else [])
    inputs += [k._node for k in rkeys] + ([rmask._node] if rmask is not None else [])
    nl = len(lkeys) + (lmask is not None)
    key_tys = [ir_scalar(k.dtype) for k in lkeys]
    pair = T.Struct((T.I64, T.I64))

    def side(args: list[n.Expr], count: int, masked: bool, elem: n.Expr) -> tuple[n.Expr, n.Expr | None]:
        fields = [elem if len(args) == 1 else n.getfield(elem, j) for j in range(len(args))]
        key = fields[0] if count == 1 else n.make_struct(*fields[:count])
        return key, (fields[count] if masked else None)

    def build(args: list[n.Expr]) -> n.Expr:
        largs, rargs = args[:nl], args[nl:]
        b, i, e = n.ident("b"), n.ident("i"), n.ident("e")
        key_ty = key_tys[0] if len(key_tys) == 1 else T.Struct(tuple(key_tys))
        rkey, rkeep = side(rargs, len(rkeys), rmask is not None, e)
        put = n.merge(b, n.make_struct(rkey, i))
        if rkeep is not None:
            put = n.if_(rkeep, put, b)
        table = n.result(n.for_(rargs, n.new_builder(T.GroupMerger(key_ty, T.I64)), _func(put)))
        d = n.ident("lz_table")
        lkey, lkeep = side(largs, len(lkeys), lmask is not None, e)
        matches = n.merge(n.ident("c"), n.make_struct(i, n.ident("j")))
        each = n.for_([n.call("lookup", d, lkey)], b, n.lam([("c", None), ("q", None), ("j", None)], matches))
        miss = n.merge(b, n.make_struct(i, n.lit(-1, T.I64))) if outer else b
        probe = n.if_(n.call("keyexists", d, lkey), each, miss)
        if lkeep is not None:
            probe = n.if_(lkeep, probe, b)
        loop = n.for_(largs, n.new_builder(T.Appender(pair)), _func(probe))
        return n.let("lz_table", table, n.result(loop))

    node = Node(inputs, build, core.compiled(build), np.dtype(object), (0,), "merge")
    return np.asarray(unwrap(ndarray(node)))


def _func(body: n.Expr) -> n.Expr:
    return n.lam([("b", None), ("i", None), ("e", None)], body)


#: A dense table may have this many slots per right row (ids with gaps).
_DENSITY = 4


def _dense_pairs(
    lkeys: list[ndarray], lmask: ndarray | None, rkeys: list[ndarray], rmask: ndarray | None, outer: bool
) -> np.ndarray | None:
    """The pairs through a direct-address table when the key is one integer column whose right
    values span a small range (ids): the right rows grouped by key (a stable sort, so each key's
    rows stay in order) and, per key, where its group starts. The probe is then a plain loop of
    lookups over the left rows, which the runtime splits across threads. ``None``: not such keys."""
    if len(rkeys) != 1 or rkeys[0].dtype.kind not in "iu":
        return None
    rk = np.asarray(unwrap(rkeys[0]))
    rows = np.arange(len(rk)) if rmask is None else np.flatnonzero(np.asarray(unwrap(rmask)))
    keys = rk[rows].astype(np.int64)
    if len(keys) == 0 or keys.max() - keys.min() > _DENSITY * len(keys) + 1024:
        return None
    low = int(keys.min())
    order = np.argsort(keys - low, kind="stable")
    start = np.zeros(int(keys.max()) - low + 2, dtype=np.int64)
    np.cumsum(np.bincount(keys - low, minlength=len(start) - 1), out=start[1:])
    sorted_rows = rows[order].astype(np.int64)
    table = [wrap_array(start), wrap_array(sorted_rows)]
    left = lkeys[0].astype(np.int64) if lkeys[0].dtype != np.int64 else lkeys[0]
    inputs = [left._node] + ([lmask._node] if lmask is not None else []) + [t._node for t in table]
    span = len(start) - 1

    def build(args: list[n.Expr]) -> n.Expr:
        starts, picks = args[-2:]
        i, e = n.ident("i"), n.ident("e")
        key = e if lmask is None else n.getfield(e, 0)
        slot = n.binop("-", key, n.lit(low, T.I64))
        inside = n.binop("&&", n.binop(">=", slot, n.lit(0, T.I64)), n.binop("<", slot, n.lit(span, T.I64)))
        first = n.call("lookup", starts, slot)
        stop = n.call("lookup", starts, n.binop("+", slot, n.lit(1, T.I64)))
        matches = n.merge(n.ident("c"), n.make_struct(i, n.ident("j")))
        each = n.for_(
            [n.iter_(picks, first, stop, n.lit(1, T.I64))],
            n.ident("b"),
            n.lam([("c", None), ("q", None), ("j", None)], matches),
        )
        b = n.ident("b")
        miss = n.merge(b, n.make_struct(i, n.lit(-1, T.I64))) if outer else b
        if outer:  # a key in range without rows is a miss too
            each = n.if_(n.binop("<", first, stop), each, miss)
        body = n.if_(inside, each, miss)
        if lmask is not None:
            body = n.if_(n.getfield(e, 1), body, b)
        pair = T.Struct((T.I64, T.I64))
        loop = n.for_(args[:-2], n.new_builder(T.Appender(pair)), n.lam([("b", None), ("i", None), ("e", None)], body))
        return n.result(loop)

    node = Node(inputs, build, core.compiled(build), np.dtype(object), (0,), "merge")
    return np.asarray(unwrap(ndarray(node)))


def _gather(col: Any, rows: np.ndarray) -> Any:
    """A right column at ``rows`` (``-1``: missing, pandas' fill)."""
    missing = rows < 0
    if not core.is_lazy(col):
        values = core.plain_text(col)
        if isinstance(values, core.CodedColumn) or not missing.any() or not isinstance(values.dtype, np.dtype):
            return core.CodedColumn.gathered(values, rows)
    if not missing.any():
        return lnp.take_rows(col, rows, trusted=True)
    if core.is_lazy(col) and col.dtype.kind in "iuf":
        fill = np.float64 if col.dtype.kind in "iu" else col.dtype
        if len(col) == 0:  # nothing to pick from: every row is missing
            return wrap_array(np.full(len(rows), np.nan, dtype=fill))
        picked = lnp.take_rows(col, np.where(missing, 0, rows), trusted=True).astype(fill)
        return where(wrap_array(~missing), picked, np.nan)
    values = np.asarray(unwrap(col)) if core.is_lazy(col) else col.array
    return pd.Series(pd.api.extensions.take(values, rows, allow_fill=True))
