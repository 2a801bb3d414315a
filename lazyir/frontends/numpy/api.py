"""Module-level functions of ``lazyir.numpy`` that have lazy implementations, and the table that
routes real NumPy functions applied to lazy arrays (NEP 18) to them."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ...ir import nodes as n
from ...ir import types as T
from .. import fallback
from ..graph import Node, evaluate, ir_scalar, is_dask_array
from . import loops
from .array import (
    REDUCTIONS,
    _new,
    _reduce_node,
    apply_ufunc,
    as_node,
    count_nonzero,
    eager_call,
    make_gather,
    ndarray,
    reshape_node,
    supported,
    unwrap,
    where,
)


def asarray(a: Any, dtype: Any = None, order: Any = None, copy: Any = None) -> ndarray:
    if isinstance(a, ndarray):
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return a.copy() if copy else a
    if is_dask_array(a):
        return ndarray(Node.of_dask(a if dtype is None else a.astype(dtype)))
    return ndarray(Node.leaf(np.asarray(a, dtype=dtype, order=order, copy=copy)))


def array(a: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> ndarray:
    if isinstance(a, ndarray):
        out = a.astype(dtype) if dtype is not None else (a.copy() if copy else a)
        if out.ndim < ndmin:
            out = out.reshape((1,) * (ndmin - out.ndim) + out.shape)
        return out
    return ndarray(Node.leaf(np.array(a, dtype=dtype, copy=copy, ndmin=ndmin)))


sum, prod, amin, amax = REDUCTIONS["sum"], REDUCTIONS["prod"], REDUCTIONS["min"], REDUCTIONS["max"]  # noqa: A001
any, all = REDUCTIONS["any"], REDUCTIONS["all"]  # noqa: A001
np_mean, np_var, np_std = REDUCTIONS["mean"], REDUCTIONS["var"], REDUCTIONS["std"]
argmin, argmax = REDUCTIONS["argmin"], REDUCTIONS["argmax"]


_NO = object()


def clip(  # noqa: A002 - NumPy's keyword names
    a: Any,
    a_min: Any = _NO,
    a_max: Any = _NO,
    out: Any = None,
    *,
    min: Any = _NO,  # noqa: A002
    max: Any = _NO,  # noqa: A002
    **kw: Any,
) -> Any:
    """``np.clip``: NumPy 2's ``minimum(maximum(a, lo), hi)`` with its promotion rules."""
    given = {k: v for k, v in (("a_min", a_min), ("a_max", a_max), ("min", min), ("max", max)) if v is not _NO}
    probe = np.zeros(1, a.dtype if isinstance(a, (ndarray, np.ndarray)) else np.asarray(a).dtype)
    dummies = {k: (np.zeros(1, v.dtype) if isinstance(v, ndarray) else v) for k, v in given.items()}
    np.clip(probe, **dummies)  # NumPy's argument checks and errors
    lo = a_min if a_min is not _NO else min if min is not _NO else None
    hi = a_max if a_max is not _NO else max if max is not _NO else None
    if out is not None or kw or (lo is None and hi is None):
        return eager_call("clip", np.clip, (a,), dict(given, out=out, **kw), "arguments")
    x = a if isinstance(a, ndarray) else asarray(a)
    if x.dtype.kind in "iu":  # Python int bounds beyond the dtype's range clamp to it
        info = np.iinfo(x.dtype)
        if type(lo) is int:
            lo = builtins.min(builtins.max(lo, int(info.min)), int(info.max))
        if type(hi) is int:
            hi = builtins.min(builtins.max(hi, int(info.min)), int(info.max))
    if lo is not None:
        x = apply_ufunc(np.maximum, [x, lo], {})
    if hi is not None:
        x = apply_ufunc(np.minimum, [x, hi], {})
    return x


def reshape(a: Any, shape: Any = None, order: str = "C", **kw: Any) -> Any:
    if shape is None:
        shape = kw.pop("newshape")
    return asarray(a).reshape(shape, order=order)


def ravel(a: Any, order: str = "C") -> Any:
    return asarray(a).ravel(order)


def transpose(a: Any, axes: Any = None) -> Any:
    return asarray(a).transpose(axes)


def compress_mask(x: ndarray, mask: ndarray) -> ndarray:
    """``x[mask]`` for a boolean mask of ``x``'s shape: the mask is computed now (the result's
    length depends on it); the filter itself stays lazy and fuses with what uses it."""
    mask_value = np.asarray(evaluate([mask._node])[0])
    count = int(np.count_nonzero(mask_value))
    mnode = mask._node
    node = x._node
    elem = ir_scalar(node.dtype)

    def build(args: list[n.Expr]) -> n.Expr:
        xs, ms = args
        b, _i, e = n.ident("b"), n.ident("i"), n.ident("e")
        body = n.if_(n.getfield(e, 1), n.merge(b, n.getfield(e, 0)), b)
        return n.result(
            n.for_(
                [xs, ms],
                n.new_builder(T.Appender(elem), loops.i64(count)),
                n.lam([("b", None), ("i", None), ("e", None)], body),
            )
        )

    flat_x = node if len(node.shape) == 1 else reshape_node(node, (loops.size_of(node.shape),))
    flat_m = mnode if len(mnode.shape) == 1 else reshape_node(mnode, (loops.size_of(mnode.shape),))
    return _new(Node([flat_x, flat_m], build, lambda v, m: v[m], node.dtype, (count,), "mask"))


def concatenate(arrays: Any, axis: Any = 0, out: Any = None, dtype: Any = None, casting: str = "same_kind") -> Any:
    seq = list(arrays)
    if out is not None or dtype is not None or axis != 0 or not seq:
        return eager_call(
            "concatenate", np.concatenate, (seq,), dict(axis=axis, out=out, dtype=dtype, casting=casting), "arguments"
        )
    nodes = [as_node(a) for a in seq]
    # NumPy checks the shapes and the promotion
    dummies = [np.empty((0,) + m.shape[1:], m.dtype) if m.shape else np.empty((), m.dtype) for m in nodes]
    try:
        probe = np.concatenate(dummies, axis=0)
    except ValueError:
        return np.concatenate(*[[a if not isinstance(a, ndarray) else a.__array__() for a in seq]])
    out_dtype = probe.dtype
    if not supported(out_dtype) or not builtins.all(supported(m.dtype) for m in nodes):
        return eager_call("concatenate", np.concatenate, (seq,), dict(axis=axis), "dtype")
    nodes = [m if m.dtype == out_dtype else _cast(m, out_dtype) for m in nodes]
    shape = (builtins.sum(m.shape[0] for m in nodes),) + nodes[0].shape[1:]
    total = loops.size_of(shape)
    elem = ir_scalar(out_dtype)

    def build(args: list[n.Expr]) -> n.Expr:
        builder = n.new_builder(T.Appender(elem), loops.i64(total))
        for x in args:
            b, _i, e = n.ident("b"), n.ident("i"), n.ident("e")
            builder = n.for_([x], builder, n.lam([("b", None), ("i", None), ("e", None)], n.merge(b, e)))
        return n.result(builder)

    return _new(Node(nodes, build, lambda *vs: np.concatenate(vs, axis=0), out_dtype, shape, "concatenate"))


def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """``np.roll`` as a shifted read (a gather that fuses into its consumer), not a copy."""
    node = as_node(a)
    if not isinstance(shift, (int, np.integer)) or not (axis is None or isinstance(axis, (int, np.integer))):
        return eager_call("roll", np.roll, (a, shift), dict(axis=axis), "several shifts or axes")
    if not supported(node.dtype) or node.shape == ():
        return eager_call("roll", np.roll, (a, shift), dict(axis=axis), "dtype")
    shape = node.shape
    if axis is None:
        dim, inner = loops.size_of(shape), 1
    else:
        ax = np.lib.array_utils.normalize_axis_index(int(axis), len(shape))
        dim, inner = shape[ax], loops.size_of(shape[ax + 1 :])
    total = loops.size_of(shape)
    s = int(shift) % dim if dim else 0
    if s == 0 or total == 0:
        return ndarray(node).copy()  # np.roll always returns a new array

    def index(k: n.Expr) -> n.Expr:
        # position c along the axis reads (c - s) mod dim: k + ((c - s) mod dim - c) * inner
        c = k if inner == 1 else n.binop("/", k, loops.i64(inner))
        if dim != total // inner or axis is not None:
            c = n.binop("%", c, loops.i64(dim))
        back = n.binop("<", c, loops.i64(s))
        return n.binop("+", k, n.select(back, loops.i64((dim - s) * inner), loops.i64(-s * inner)))

    def eager(v: Any) -> Any:
        return np.roll(v, shift, axis=axis)

    return _new(make_gather(node, shape, index, eager, "roll"))


def _like(name: str, fill: Any):
    def like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, **kw: Any) -> Any:
        """``np.{name}`` from a lazy array's shape and dtype, without computing it."""
        if kw or not isinstance(a, ndarray) or order not in ("K", "C", "A"):
            return eager_call(name, getattr(np, name), (a,), dict(dtype=dtype, order=order, shape=shape, **kw))
        dt = a.dtype if dtype is None else np.dtype(dtype)
        shp = a.shape if shape is None else shape
        value = np.empty(shp, dt) if fill is None else np.full(shp, fill, dt)
        return ndarray(Node.leaf(value))

    like.__name__ = name
    return like


zeros_like, ones_like, empty_like = _like("zeros_like", 0), _like("ones_like", 1), _like("empty_like", None)


def full_like(
    a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None
) -> Any:
    if not isinstance(a, ndarray) or isinstance(fill_value, ndarray):
        return eager_call("full_like", np.full_like, (a, fill_value), dict(dtype=dtype, order=order, shape=shape))
    dt = a.dtype if dtype is None else np.dtype(dtype)
    return ndarray(Node.leaf(np.full(a.shape if shape is None else shape, fill_value, dt)))


def take_rows(x: ndarray, index: Any, trusted: bool = False) -> ndarray:
    """``x[index]`` for an integer index array (first axis): the indices are computed now and
    checked like NumPy (``IndexError`` at the call); the gather stays lazy. ``trusted``: the
    indices are int64 positions known to be in bounds (a frontend made them): no checks."""
    if trusted:
        return _new(_gather_rows(x._node, index))
    idx = np.asarray(unwrap(index))
    if idx.dtype.kind not in "iu":
        raise IndexError("arrays used as indices must be of integer (or boolean) type")
    if not supported(x.dtype):
        return eager_call("__getitem__", lambda a, i: a[i], (x, idx), {}, f"dtype {x.dtype}")
    if idx.ndim == 0:  # one index: basic indexing (its bounds checked by NumPy's rules)
        return x[int(idx)]
    node = x._node
    if node.shape == ():
        raise IndexError("too many indices for array: array is 0-dimensional, but 1 were indexed")
    dim = node.shape[0]
    flat = idx.astype(np.int64).reshape(-1)
    bad = (flat < -dim) | (flat >= dim)
    if bad.any():
        raise IndexError(f"index {int(flat[np.argmax(bad)])} is out of bounds for axis 0 with size {dim}")
    flat = np.where(flat < 0, flat + dim, flat)
    return _new(_gather_rows(node, flat, idx.shape))


def _gather_rows(node: Node, flat: np.ndarray, index_shape: tuple | None = None) -> Node:
    """The rows ``flat`` (in-bounds int64 positions) of ``node``, lazily."""
    flat = np.ascontiguousarray(flat, dtype=np.int64)  # once: a strided leaf is copied per program
    inner = loops.size_of(node.shape[1:])
    shape = (index_shape if index_shape is not None else flat.shape) + node.shape[1:]
    rows = Node.leaf(flat)

    def index(k: n.Expr, ids: n.Expr) -> n.Expr:
        if inner == 1:
            return n.call(n.LOOKUP, ids, k)
        row = n.call(n.LOOKUP, ids, n.binop("/", k, loops.i64(inner)))
        return n.binop("+", n.binop("*", row, loops.i64(inner)), n.binop("%", k, loops.i64(inner)))

    return make_gather(node, shape, index, lambda v, ids: np.asarray(v)[ids].reshape(shape), "take", [rows])


def take(a: Any, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
    if out is not None or mode != "raise" or axis not in (None, 0):
        return eager_call("take", np.take, (a, indices), dict(axis=axis, out=out, mode=mode), "arguments")
    idx = np.asarray(unwrap(indices))
    if idx.dtype.kind not in "iu":  # NumPy's take casts other index types itself
        return eager_call("take", np.take, (a, indices), dict(axis=axis), "index dtype")
    x = asarray(a)
    if axis is None:
        x = x.reshape(-1)
    return take_rows(x, idx)


def diff(a: Any, n_: int = 1, axis: int = -1, prepend: Any = None, append: Any = None, **kw: Any) -> Any:
    if prepend is not None or append is not None or kw or n_ < 0:
        return eager_call("diff", np.diff, (a, n_), dict(axis=axis, prepend=prepend, append=append, **kw), "arguments")
    x = asarray(a)
    if x.ndim == 0:
        return np.diff(unwrap(x), n_, axis=axis)  # NumPy's error
    ax = np.lib.array_utils.normalize_axis_index(axis, x.ndim)
    for _ in range(n_):
        hi = tuple(slice(1, None) if d == ax else slice(None) for d in range(x.ndim))
        lo = tuple(slice(None, -1) if d == ax else slice(None) for d in range(x.ndim))
        x = apply_ufunc(np.not_equal if x.dtype == np.bool_ else np.subtract, [x[hi], x[lo]], {})
    return x


def stack(arrays: Any, axis: int = 0, out: Any = None, **kw: Any) -> Any:
    seq = [asarray(a) for a in arrays]
    if out is not None or kw or axis != 0 or not seq:
        return eager_call("stack", np.stack, (list(arrays),), dict(axis=axis, out=out, **kw), "arguments")
    if len({a.shape for a in seq}) != 1:
        raise ValueError("all input arrays must have the same shape")
    return concatenate([a.reshape((1, *a.shape)) for a in seq], axis=0)


def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
    """``np.bincount`` as a ``vecmerger``: the length (max + 1) is computed first."""
    np.bincount(np.zeros(0, np.intp), minlength=minlength)  # NumPy's checks of minlength
    node = as_node(x)
    if weights is not None or node.dtype.kind not in "iub" or len(node.shape) != 1:
        return eager_call("bincount", np.bincount, (x,), dict(weights=weights, minlength=minlength), "arguments")
    values = np.asarray(evaluate([node])[0])
    if values.size and values.min() < 0:
        raise ValueError("'list' argument must have no negative elements")
    length = max(int(values.max()) + 1 if values.size else 0, int(minlength))
    src = ir_scalar(node.dtype)

    def build(args: list[n.Expr]) -> n.Expr:
        b, e = n.ident("b"), n.ident("e")
        init = loops.appender_loop(
            [n.rangeiter(loops.i64(0), loops.i64(length), loops.i64(1))],
            T.I64,
            loops.i64(length),
            lambda i, k: loops.i64(0),
        )
        body = n.merge(b, n.make_struct(n.cast(T.I64, e) if src != T.I64 else e, loops.i64(1)))
        return n.result(
            n.for_(
                [args[0]],
                n.new_builder(T.VecMerger(T.I64, "+"), init),
                n.lam([("b", None), ("i", None), ("e", None)], body),
            )
        )

    return _new(
        Node([node], build, lambda v: np.bincount(v, minlength=minlength), np.dtype(np.intp), (length,), "bincount")
    )


def sort(a: Any, axis: int = -1, kind: Any = None, order: Any = None, stable: Any = None) -> Any:
    """``np.sort`` of a 1-d array (or ``axis=None``) with the IR's ``sort`` (NaN last, like NumPy)."""
    x = asarray(a)
    if axis is not None and x.ndim:
        np.lib.array_utils.normalize_axis_index(axis, x.ndim)  # NumPy's AxisError
    if order is not None or x.ndim == 0 or (axis is not None and x.ndim != 1) or not supported(x.dtype):
        return eager_call(
            "sort", np.sort, (a,), dict(axis=axis, kind=kind, order=order, stable=stable), "axis or dtype"
        )
    flat = x.reshape(-1)
    node = flat._node

    def build(args: list[n.Expr]) -> n.Expr:
        return n.call(n.SORT, args[0], n.lam([("v", None)], n.ident("v")))

    return _new(Node([node], build, lambda v: np.sort(v, kind="stable"), node.dtype, node.shape, "sort"))


def unique(
    ar: Any,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: Any = None,
    *,
    equal_nan: bool = True,
    sorted: bool = True,  # noqa: A002 - NumPy's keyword name
) -> Any:
    """``np.unique`` of the flattened array: the IR's ``sort``, then a loop keeping each value that
    differs from the one before it (all NaNs are one value, as with NumPy's ``equal_nan``). The
    result's length depends on the data, so it is computed at the call (in one program with
    what feeds it), like a boolean mask's length."""
    x = asarray(ar)
    options = dict(
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
        equal_nan=equal_nan,
        sorted=sorted,
    )
    if return_index or return_inverse or return_counts or axis is not None or not equal_nan or not supported(x.dtype):
        return eager_call("unique", np.unique, (ar,), options, "options")
    flat = x.reshape(-1)._node
    is_float = flat.dtype.kind == "f"

    def same(p: n.Expr, v: n.Expr) -> n.Expr:
        eq = n.binop("==", p, v)
        if not is_float:
            return eq
        both_nan = n.binop("&&", n.binop("!=", p, p), n.binop("!=", v, v))
        return n.binop("||", eq, both_nan)

    def build(args: list[n.Expr]) -> n.Expr:
        s, b, i, v = n.ident("s"), n.ident("b"), n.ident("i"), n.ident("v")
        prev = n.call(n.LOOKUP, s, n.binop("-", i, loops.i64(1)))
        keep = n.if_(n.binop("==", i, loops.i64(0)), n.merge(b, v), n.if_(same(prev, v), b, n.merge(b, v)))
        body = n.result(
            n.for_(
                [s],
                n.new_builder(T.Appender(ir_scalar(flat.dtype))),
                n.lam([("b", None), ("i", None), ("v", None)], keep),
            )
        )
        return n.let("s", n.call(n.SORT, args[0], n.lam([("x", None)], n.ident("x"))), body)

    # (-1,): the length is known once computed, which happens now
    node = Node([flat], build, lambda v: np.unique(v), flat.dtype, (-1,), "unique")
    (value,) = evaluate([node])
    return ndarray(Node.leaf(value))


def argsort(a: Any, axis: int = -1, kind: Any = None, order: Any = None, stable: Any = None) -> Any:
    """``np.argsort`` of a 1-d array: a stable sort of (value, position) pairs by value, so ties
    keep their order (NumPy's default kind leaves the order of ties unspecified)."""
    x = asarray(a)
    if axis is not None and x.ndim:
        np.lib.array_utils.normalize_axis_index(axis, x.ndim)  # NumPy's AxisError
    if order is not None or x.ndim != 1 or axis is None or not supported(x.dtype):
        return eager_call(
            "argsort", np.argsort, (a,), dict(axis=axis, kind=kind, order=order, stable=stable), "axis or dtype"
        )
    node = x._node
    elem = ir_scalar(node.dtype)

    def build(args: list[n.Expr]) -> n.Expr:
        pairs = loops.appender_loop([args[0]], T.Struct((elem, T.I64)), None, lambda i, e: n.make_struct(e, i))
        ordered = n.call(n.SORT, pairs, n.lam([("p", None)], n.getfield(n.ident("p"), 0)))
        return loops.appender_loop([ordered], T.I64, None, lambda i, p: n.getfield(p, 1))

    return _new(Node([node], build, lambda v: np.argsort(v, kind="stable"), np.dtype(np.intp), node.shape, "argsort"))


def pad(array: Any, pad_width: Any, mode: str = "constant", **kw: Any) -> Any:
    """``np.pad`` with ``constant`` or ``edge`` mode as a gather with the bounds tested per element."""
    x = asarray(array)
    if (
        mode not in ("constant", "edge")
        or (kw and set(kw) != {"constant_values"})
        or not supported(x.dtype)
        or x.ndim == 0
    ):
        return eager_call("pad", np.pad, (array, pad_width), dict(mode=mode, **kw), "mode")
    np.pad(np.zeros((1,) * x.ndim, x.dtype), pad_width, mode=mode, **kw)  # NumPy's checks and errors
    cval = kw.get("constant_values", 0)
    if not isinstance(cval, (int, float, bool, np.generic)):
        return eager_call("pad", np.pad, (array, pad_width), dict(mode=mode, **kw), "per-axis values")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    if (widths < 0).any():
        raise ValueError("index can't contain negative values")
    shape = tuple(int(d + lo + hi) for d, (lo, hi) in zip(x.shape, widths, strict=True))
    if 0 in x.shape and mode == "edge":
        return eager_call("pad", np.pad, (array, pad_width), dict(mode=mode, **kw), "empty edge")
    src_strides = loops.c_strides(x.shape)
    out_inner = loops.c_strides(shape)
    elem = ir_scalar(x.dtype)
    fill = n.lit(np.asarray(cval).astype(x.dtype).item() if x.dtype.kind != "b" else bool(cval), elem)

    def coords(k: n.Expr) -> list[n.Expr]:
        out = []
        for axis, dim in enumerate(shape):
            c = k if out_inner[axis] == 1 else n.binop("/", k, loops.i64(out_inner[axis]))
            out.append(c if axis == 0 else n.binop("%", c, loops.i64(dim)))
        return out

    def src_index(cs: list[n.Expr], clamp: bool) -> n.Expr:
        total = None
        for axis, c in enumerate(cs):
            lo, d = int(widths[axis][0]), x.shape[axis]
            s = n.binop("-", c, loops.i64(lo))
            if clamp:
                s = n.binop("min", n.binop("max", s, loops.i64(0)), loops.i64(d - 1))
            term = n.binop("*", s, loops.i64(src_strides[axis]))
            total = term if total is None else n.binop("+", total, term)
        return total

    def inside(cs: list[n.Expr]) -> n.Expr:
        cond = None
        for axis, c in enumerate(cs):
            lo, d = int(widths[axis][0]), x.shape[axis]
            ok = n.binop("&&", n.binop(">=", c, loops.i64(lo)), n.binop("<", c, loops.i64(lo + d)))
            cond = ok if cond is None else n.binop("&&", cond, ok)
        return cond

    total = loops.size_of(shape)
    node = x._node

    def build(args: list[n.Expr]) -> n.Expr:
        v = args[0]

        def body(i: n.Expr, k: n.Expr) -> n.Expr:
            cs = coords(k)
            if mode == "edge":
                return n.call(n.LOOKUP, v, src_index(cs, True))
            return n.if_(inside(cs), n.call(n.LOOKUP, v, src_index(cs, False)), fill)

        return loops.appender_loop(
            [n.rangeiter(loops.i64(0), loops.i64(total), loops.i64(1))], elem, loops.i64(total), body
        )

    return _new(Node([node], build, lambda v: np.pad(v, pad_width, mode=mode, **kw), x.dtype, shape, "pad"))


#: NumPy ufunc -> the IR scan (``scanner``) operator of its ``accumulate``
SCAN_OPS = {np.add: "+", np.multiply: "*", np.maximum: "max", np.minimum: "min"}


def accumulate(ufunc: np.ufunc, a: Any, axis: Any, dtype: Any, name: str, flat: bool = False) -> Any:
    """``ufunc.accumulate`` (and ``cumsum``/``cumprod``, whose ``axis=None`` scans the flattened
    array: ``flat``) as one ``scanner`` loop: the map feeding it fuses in, values combine in order
    (NumPy's sequential results, exactly). Scans along an axis of an N-d array are NumPy's, as an
    opaque step of the program (inputs and users stay lazy)."""
    node = as_node(a)
    kwargs = dict(axis=axis, dtype=dtype)
    func = getattr(np, name) if flat else ufunc.accumulate
    if node.shape == () or (axis is not None and not isinstance(axis, (int, np.integer))):
        return eager_call(name, func, (a,), kwargs)
    if axis is not None:
        axis = np.lib.array_utils.normalize_axis_index(int(axis), len(node.shape))  # NumPy's AxisError
    out_dtype = np.asarray(func(np.ones(1, node.dtype), dtype=dtype)).dtype
    whole = (axis is None and flat) or len(node.shape) == 1
    if not whole:
        fallback.note(name, "scans along one axis of an N-d array run on NumPy", deferred=True)
        return _new(Node([node], None, lambda v: func(v, **kwargs), out_dtype, node.shape, name))
    if not supported(out_dtype) or out_dtype.kind == "b":
        return eager_call(name, func, (a,), kwargs, "dtype")
    from .array import cast_node

    src = cast_node(node, out_dtype)
    elem = ir_scalar(out_dtype)
    size = loops.size_of(node.shape)

    def build(args: list[n.Expr]) -> n.Expr:
        b, x = n.ident("b"), n.ident("x")
        scanner = n.new_builder(T.Scanner(elem, SCAN_OPS[ufunc]), loops.i64(size))
        return n.result(n.for_([args[0]], scanner, n.lam([("b", None), ("i", None), ("x", None)], n.merge(b, x))))

    return _new(Node([src], build, lambda v: func(v, **kwargs), out_dtype, (size,), name))


def _cumulative(name: str, ufunc: np.ufunc):
    def cumulative(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        if out is not None:
            return eager_call(name, getattr(np, name), (a,), dict(axis=axis, dtype=dtype, out=out), "out=")
        return accumulate(ufunc, a, axis, dtype, name, flat=True)

    cumulative.__name__ = name
    return cumulative


cumsum, cumprod = _cumulative("cumsum", np.add), _cumulative("cumprod", np.multiply)


def _cast(node: Node, dtype: np.dtype) -> Node:
    from .array import cast_node

    return cast_node(node, dtype)


def dot(a: Any, b: Any, out: Any = None) -> Any:
    if out is not None:
        return eager_call("dot", np.dot, (a, b), dict(out=out), "out=")
    return matmul(a, b, _name="dot")


def matmul(a: Any, b: Any, _name: str = "matmul", **kwargs: Any) -> Any:
    """Vector and matrix-vector products as fused multiply-and-sum loops; matrix-matrix products
    go to NumPy's BLAS as one opaque step (their inputs are evaluated first)."""
    if kwargs:
        return eager_call(_name, np.matmul, (a, b), kwargs, "arguments")
    x, y = as_node(a), as_node(b)
    func = np.dot if _name == "dot" else np.matmul
    if x.shape == () or y.shape == ():
        if _name == "dot":
            return apply_ufunc(np.multiply, [a, b], {})
        func(np.empty(x.shape, x.dtype), np.empty(y.shape, y.dtype))  # NumPy's error
    if len(x.shape) > 2 or len(y.shape) > 2:
        return eager_call(_name, func, (a, b), {}, "more than 2 dimensions")
    k_x = x.shape[-1]
    k_y = y.shape[0] if len(y.shape) == 1 else y.shape[-2]
    if k_x != k_y:  # NumPy's own error, from data-less operands
        func(np.broadcast_to(np.zeros((), x.dtype), x.shape), np.broadcast_to(np.zeros((), y.dtype), y.shape))
    out_dtype = np.asarray(func(np.ones((1,) * len(x.shape), x.dtype), np.ones((1,) * len(y.shape), y.dtype))).dtype
    if len(x.shape) == 2 and len(y.shape) == 2:
        # NumPy's BLAS, as an opaque step run when the program is evaluated
        return _new(Node([x, y], None, func, out_dtype, (x.shape[0], y.shape[1]), _name))
    if not supported(out_dtype) or out_dtype.kind == "b":
        return eager_call(_name, func, (a, b), {}, "dtype")
    xs = ndarray(x).astype(out_dtype, copy=False)
    ys = ndarray(y).astype(out_dtype, copy=False)
    if len(x.shape) == 2 and _f_ordered(x):  # (A.T) @ v with A C-ordered: v @ A reads A in order
        return _vector_matrix(ys, ndarray(Node.leaf(x.value.T)).astype(out_dtype, copy=False), out_dtype, _name)
    if len(y.shape) == 2:
        if _f_ordered(y):  # v @ (A.T) == A @ v
            return _matrix_vector(ndarray(Node.leaf(y.value.T)).astype(out_dtype, copy=False), xs, out_dtype, _name)
        return _vector_matrix(xs, ys, out_dtype, _name)
    return _matrix_vector(xs, ys, out_dtype, _name)


def _f_ordered(node: Node) -> bool:
    v = node.value
    return isinstance(v, np.ndarray) and v.ndim == 2 and v.flags.f_contiguous and not v.flags.c_contiguous


#: Up to this many columns, products keep one value per column in registers: ``m @ v`` binds the
#: elements of ``v`` once and ``v @ m`` keeps one accumulator per column (a struct of mergers).
NARROW = 32


def _columns(mat: n.Expr, rows: int, cols: int) -> list[n.Expr]:
    """One strided iterator per column of a C-ordered (rows, cols) matrix: element ``r`` of the
    ``j``-th is ``mat[r, j]``. The bounds are checked once per loop, not per element."""
    end = loops.i64(rows * cols)
    return [n.iter_(mat, loops.i64(j), end, loops.i64(cols)) for j in range(cols)]


def _matrix_vector(m: ndarray, v: ndarray, dtype: np.dtype, name: str) -> ndarray:
    """``m @ v`` (m is (r, k) or (k,)): per row, a dot product with ``v``."""
    if m.ndim == 1:
        prod_ = apply_ufunc(np.multiply, [m, v], {})
        return _new(_reduce_node(prod_._node, (0,), False, dtype, "+", name, lambda p: np.sum(p, dtype=dtype)))
    rows, k = m.shape
    elem = ir_scalar(dtype)

    def narrow(args: list[n.Expr]) -> n.Expr:
        mat, vec = args
        e = n.ident("e")
        weights = [n.ident(f"w{j}") for j in range(k)]
        cols = [e] if k == 1 else [n.getfield(e, j) for j in range(k)]  # one iterator: no zip
        dot_ = n.binop("*", cols[0], weights[0])
        for j in range(1, k):
            dot_ = n.binop("+", dot_, n.binop("*", cols[j], weights[j]))
        loop = loops.appender_loop(_columns(mat, rows, k), elem, loops.i64(rows), lambda i, x: dot_)
        for j in reversed(range(k)):  # ``v`` has k elements by construction: bound once, outside
            loop = n.let(f"w{j}", n.call(n.LOOKUP, vec, loops.i64(j)), loop)
        return loop

    def wide(args: list[n.Expr]) -> n.Expr:
        mat, vec = args
        r = n.ident("r")
        start = n.binop("*", r, loops.i64(k))
        c, e = n.ident("c"), n.ident("e")
        row = n.iter_(mat, start, n.binop("+", start, loops.i64(k)), loops.i64(1))
        dot_ = n.result(
            n.for_(
                [row, vec],
                n.new_builder(T.Merger(elem, "+")),
                n.lam(
                    [("c", None), ("j", None), ("e", None)],
                    n.merge(c, n.binop("*", n.getfield(e, 0), n.getfield(e, 1))),
                ),
            )
        )
        return loops.appender_loop(
            [n.rangeiter(loops.i64(0), loops.i64(rows), loops.i64(1))],
            elem,
            loops.i64(rows),
            lambda i, rr: n.let("r", rr, dot_),
        )

    build = narrow if 0 < k <= NARROW and rows > 0 else wide
    return _new(Node([m._node, v._node], build, lambda a, b: np.matmul(a, b), dtype, (rows,), name))


def _vector_matrix(v: ndarray, m: ndarray, dtype: np.dtype, name: str) -> ndarray:
    """``v @ m`` (m is (k, c)): rows of ``m`` scaled by ``v``, summed over the rows."""
    rows, cols = m.shape
    if 0 < cols <= NARROW and rows > 0 and m._node.known:
        elem = ir_scalar(dtype)

        def build(args: list[n.Expr]) -> n.Expr:
            mat, vec = args
            bs, e = n.ident("bs"), n.ident("e")
            scale = n.getfield(e, cols)
            merges = [n.merge(n.getfield(bs, j), n.binop("*", n.getfield(e, j), scale)) for j in range(cols)]
            builder = n.make_struct(*[n.new_builder(T.Merger(elem, "+")) for _ in range(cols)])
            # ``v`` as an iterator (not looked up by index): a lazy ``v`` fuses into this loop
            loop = n.result(
                n.for_(
                    [*_columns(mat, rows, cols), vec],
                    builder,
                    n.lam([("bs", None), ("i", None), ("e", None)], n.make_struct(*merges)),
                )
            )
            sums = n.ident("sums")
            return n.let("sums", loop, n.vector(*[n.getfield(sums, j) for j in range(cols)]))

        return _new(Node([m._node, v._node], build, lambda a, b: np.matmul(b, a), dtype, (cols,), name))
    prod_ = apply_ufunc(np.multiply, [v.reshape(-1, 1), m], {})
    return _new(_reduce_node(prod_._node, (0,), False, dtype, "+", name, lambda p: np.sum(p, axis=0, dtype=dtype)))


#: real NumPy function -> lazy implementation (``__array_function__``)
IMPLEMENTED: dict[Any, Any] = {
    np.sum: sum,
    np.prod: prod,
    np.min: amin,
    np.max: amax,
    np.amin: amin,
    np.amax: amax,
    np.any: any,
    np.all: all,
    np.mean: np_mean,
    np.var: np_var,
    np.std: np_std,
    np.argmin: argmin,
    np.argmax: argmax,
    np.count_nonzero: count_nonzero,
    np.where: lambda c, x=None, y=None: (
        where(c, x, y) if x is not None else eager_call("where", np.where, (c,), {}, "one argument")
    ),
    np.clip: clip,
    np.reshape: reshape,
    np.ravel: ravel,
    np.transpose: transpose,
    np.concatenate: concatenate,
    np.dot: dot,
    np.roll: roll,
    np.zeros_like: zeros_like,
    np.ones_like: ones_like,
    np.empty_like: empty_like,
    np.full_like: full_like,
    np.take: take,
    np.diff: lambda a, n=1, axis=-1, **kw: diff(a, n, axis, **kw),
    np.stack: stack,
    np.bincount: bincount,
    np.sort: sort,
    np.argsort: argsort,
    np.unique: unique,
    np.pad: pad,
    np.cumsum: cumsum,
    np.cumprod: cumprod,
    np.matmul: matmul,
    np.asarray: asarray,
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
}
