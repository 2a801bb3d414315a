"""Module-level functions of ``lazyir.numpy`` that have lazy implementations, and the table that
routes real NumPy functions applied to lazy arrays (NEP 18) to them."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ...ir import nodes as n
from ...ir import types as T
from ..graph import Node, evaluate, ir_scalar
from . import loops
from .array import (
    _bool_reduce,
    _new,
    _reduce_node,
    apply_ufunc,
    arg_reduce,
    as_node,
    count_nonzero,
    eager_call,
    gather_node,
    mean,
    ndarray,
    reduce,
    reshape_node,
    supported,
    var,
    where,
    wrap,
)


def asarray(a: Any, dtype: Any = None, order: Any = None, copy: Any = None) -> ndarray:
    if isinstance(a, ndarray):
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return a.copy() if copy else a
    return ndarray(Node.leaf(np.asarray(a, dtype=dtype, order=order, copy=copy)))


def array(a: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> ndarray:
    if isinstance(a, ndarray):
        out = a.astype(dtype) if dtype is not None else (a.copy() if copy else a)
        return out
    return ndarray(Node.leaf(np.array(a, dtype=dtype, copy=copy, ndmin=ndmin)))


def sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:  # noqa: A001
    if out is not None or kw:
        return eager_call(
            "sum", np.sum, (a,), dict(axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw), "arguments"
        )
    return reduce(a, "sum", axis, keepdims, dtype)


def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:
    if out is not None or kw:
        return eager_call(
            "prod", np.prod, (a,), dict(axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw), "arguments"
        )
    return reduce(a, "prod", axis, keepdims, dtype)


def amin(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:
    if out is not None or kw:
        return eager_call("min", np.min, (a,), dict(axis=axis, out=out, keepdims=keepdims, **kw), "arguments")
    return reduce(a, "min", axis, keepdims)


def amax(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:
    if out is not None or kw:
        return eager_call("max", np.max, (a,), dict(axis=axis, out=out, keepdims=keepdims, **kw), "arguments")
    return reduce(a, "max", axis, keepdims)


def any(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:  # noqa: A001
    if out is not None or kw:
        return eager_call("any", np.any, (a,), dict(axis=axis, out=out, keepdims=keepdims, **kw), "arguments")
    return _bool_reduce(a, "any", axis, keepdims)


def all(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:  # noqa: A001
    if out is not None or kw:
        return eager_call("all", np.all, (a,), dict(axis=axis, out=out, keepdims=keepdims, **kw), "arguments")
    return _bool_reduce(a, "all", axis, keepdims)


def np_mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:
    if out is not None or kw:
        return eager_call(
            "mean", np.mean, (a,), dict(axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw), "arguments"
        )
    return mean(a, axis, dtype, keepdims)


def np_var(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: bool = False, **kw: Any
) -> Any:
    if out is not None or kw:
        return eager_call(
            "var", np.var, (a,), dict(axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw), "arguments"
        )
    return var(a, axis, dtype, ddof, keepdims)


def np_std(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: bool = False, **kw: Any
) -> Any:
    if out is not None or kw:
        return eager_call(
            "std", np.std, (a,), dict(axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw), "arguments"
        )
    return var(a, axis, dtype, ddof, keepdims, std=True)


def argmin(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    if out is not None:
        return eager_call("argmin", np.argmin, (a,), dict(axis=axis, out=out, keepdims=keepdims), "out=")
    return arg_reduce(a, "argmin", axis, keepdims)


def argmax(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    if out is not None:
        return eager_call("argmax", np.argmax, (a,), dict(axis=axis, out=out, keepdims=keepdims), "out=")
    return arg_reduce(a, "argmax", axis, keepdims)


def clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kw: Any) -> Any:
    if out is not None or kw:
        return eager_call("clip", np.clip, (a, a_min, a_max), dict(out=out, **kw), "arguments")
    if a_min is None and a_max is None:
        return eager_call("clip", np.clip, (a, a_min, a_max), {}, "no bounds")
    # NumPy 2: clip(a, lo, hi) == minimum(maximum(a, lo), hi), with its promotion rules
    x = a if isinstance(a, ndarray) else asarray(a)
    if x.dtype.kind in "iu":  # Python int bounds beyond the dtype's range clamp to it
        info = np.iinfo(x.dtype)
        if type(a_min) is int:
            a_min = min(max(a_min, int(info.min)), int(info.max))
        if type(a_max) is int:
            a_max = min(max(a_max, int(info.min)), int(info.max))
    if a_min is not None:
        x = apply_ufunc(np.maximum, [x, a_min], {})
    if a_max is not None:
        x = apply_ufunc(np.minimum, [x, a_max], {})
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
    elem = ir_scalar(node.dtype)
    s = int(shift) % dim if dim else 0
    if s == 0 or total == 0:
        return ndarray(node)

    def index(k: n.Expr) -> n.Expr:
        # position c along the axis reads (c - s) mod dim: k + ((c - s) mod dim - c) * inner
        c = k if inner == 1 else n.binop("/", k, loops.i64(inner))
        if dim != total // inner or axis is not None:
            c = n.binop("%", c, loops.i64(dim))
        back = n.binop("<", c, loops.i64(s))
        return n.binop("+", k, n.select(back, loops.i64((dim - s) * inner), loops.i64(-s * inner)))

    def eager(v: Any) -> Any:
        return np.roll(v, shift, axis=axis)

    composed = gather_node(node, shape, index, eager, "roll")
    if composed is not None:
        return _new(composed)

    def build(args: list[n.Expr]) -> n.Expr:
        x = args[0]
        return loops.appender_loop(
            [n.rangeiter(loops.i64(0), loops.i64(total), loops.i64(1))],
            elem,
            loops.i64(total),
            lambda i, k: n.call(n.LOOKUP, x, index(k)),
        )

    out = Node([node], build, eager, node.dtype, shape, "roll")
    out.elem = lambda getters, k: getters[0](index(k))
    return _new(out)


def _cast(node: Node, dtype: np.dtype) -> Node:
    from .array import cast_node

    return cast_node(node, dtype)


def dot(a: Any, b: Any, out: Any = None) -> Any:
    if out is not None:
        return eager_call("dot", np.dot, (a, b), dict(out=out), "out=")
    return matmul(a, b, _name="dot")


def matmul(a: Any, b: Any, _name: str = "matmul") -> Any:
    """Vector and matrix-vector products as fused multiply-and-sum loops; matrix-matrix products
    go to NumPy's BLAS as one opaque step (their inputs are evaluated first)."""
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
        return wrap(func(*[v.__array__() if isinstance(v, ndarray) else v for v in (a, b)]))
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


def _matrix_vector(m: ndarray, v: ndarray, dtype: np.dtype, name: str) -> ndarray:
    """``m @ v`` (m is (r, k) or (k,)): per row, one loop over the row zipped with ``v``."""
    if m.ndim == 1:
        prod_ = apply_ufunc(np.multiply, [m, v], {})
        return _new(_reduce_node(prod_._node, (0,), False, dtype, "+", name, lambda p: np.sum(p, dtype=dtype)))
    rows, k = m.shape
    elem = ir_scalar(dtype)

    def build(args: list[n.Expr]) -> n.Expr:
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

    return _new(Node([m._node, v._node], build, lambda a, b: np.matmul(a, b), dtype, (rows,), name))


def _vector_matrix(v: ndarray, m: ndarray, dtype: np.dtype, name: str) -> ndarray:
    """``v @ m`` (m is (k, c)): rows of ``m`` scaled by ``v``, summed over the rows."""
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
    np.matmul: matmul,
    np.asarray: asarray,
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
}
