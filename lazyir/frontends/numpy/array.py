"""The lazy ``ndarray`` and the calls it captures: ufuncs, reductions, views, indexing.

Every operation checks its arguments at the call, as NumPy does (dtypes by NumPy's own type
resolution, NEP 50 for Python scalars; shapes by broadcasting), and returns a lazy array whose
node knows both its IR and its eager NumPy computation. Operations without an IR form evaluate
their inputs, run on NumPy, warn once (``EagerFallbackWarning``) and wrap the result.
"""

from __future__ import annotations

import builtins
import inspect
import operator
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...ir import nodes as n
from ...ir import types as T
from .. import fallback
from ..graph import Node, evaluate, ir_scalar, is_dask_array
from . import loops
from . import scalar as S

_IR_DTYPES = frozenset(
    np.dtype(t)
    for t in ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64")
)

#: Unevaluated nodes, so that a write into an array first computes what still reads it.
_pending: weakref.WeakSet[Node] = weakref.WeakSet()


def supported(dtype: np.dtype) -> bool:
    return np.dtype(dtype) in _IR_DTYPES


def _new(node: Node) -> ndarray:
    if not node.known:
        _pending.add(node)
    return ndarray(node)


def wrap(value: Any) -> Any:
    """NumPy results back into the lazy world: arrays become lazy leaves, the rest stays."""
    if isinstance(value, np.ndarray):
        return ndarray(Node.leaf(value))
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def unwrap(value: Any) -> Any:
    """Lazy arrays inside ``value`` (nested lists, tuples, dicts) replaced by their NumPy values,
    all computed by one program. Other lazy values take part through two methods:
    ``__lazyir_nodes__()``, the graph nodes they need, and ``__lazyir_value__()``, their value once
    those nodes are known (the pandas frontend's Series and DataFrames)."""
    found = lazy_nodes(value)
    if found:
        evaluate(found)

    def rebuild(v: Any) -> Any:
        if isinstance(v, ndarray):
            return v._node.value
        if hasattr(v, "__lazyir_nodes__"):
            return v.__lazyir_value__()  # its nodes are known now
        if isinstance(v, tuple) and not hasattr(v, "_fields"):
            return tuple(rebuild(x) for x in v)
        if isinstance(v, list):
            return [rebuild(x) for x in v]
        if isinstance(v, dict):
            return {k: rebuild(x) for k, x in v.items()}
        return v

    return rebuild(value)


def lazy_nodes(value: Any) -> list[Node]:
    """The graph nodes of the lazy values inside ``value`` (nested lists, tuples, dicts), in
    order: lazy arrays, and other frontends' values (``__lazyir_nodes__``: a pandas Series...)."""
    found: list[Node] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, ndarray):
            found.append(v._node)
        elif hasattr(v, "__lazyir_nodes__"):
            found.extend(v.__lazyir_nodes__())
        elif isinstance(v, (list, tuple)):
            stack.extend(reversed(v))
        elif isinstance(v, dict):
            stack.extend(reversed(list(v.values())))
    return found


def eager_call(name: str, func: Callable[..., Any], args: tuple, kwargs: dict, reason: str = "") -> Any:
    """Run ``func`` on NumPy with every lazy argument evaluated; warn once; wrap the result.
    Lazy arrays it writes into (``out=``, ``np.copyto``'s destination...) get NumPy's write
    semantics: what still reads their memory is computed first, and their views see the write."""
    targets = _written(name, args, kwargs)
    if targets:
        written = {id(t): begin_write(t) for t in targets}
        args = tuple(written.get(id(a), a) for a in args)
        if "out" in kwargs:
            out = kwargs["out"]
            kwargs = dict(
                kwargs,
                out=tuple(written.get(id(o), o) for o in out) if isinstance(out, tuple) else written.get(id(out), out),
            )
    result = func(*unwrap(args), **unwrap(kwargs))
    for t in targets:
        end_write(t)
    fallback.note(name, reason)
    if targets and any(result is t._node.value for t in targets):
        return next(t for t in targets if result is t._node.value)
    return wrap(result)


def _written(name: str, args: tuple, kwargs: dict) -> list:
    found = []
    out = kwargs.get("out")
    for o in out if isinstance(out, tuple) else (out,):
        if isinstance(o, ndarray):
            found.append(o)
    if name.rsplit(".", 1)[-1] in MUTATING_FUNCTIONS and args and isinstance(args[0], ndarray):
        found.append(args[0])
    return found


def as_node(x: Any) -> Node:
    if isinstance(x, ndarray):
        return x._node
    if is_dask_array(x):
        return Node.of_dask(x)
    return Node.leaf(np.asarray(x))


# --- operands -------------------------------------------------------------------------------
class _Operand:
    """A ufunc operand: a node (lazy or known array), or a Python scalar (weakly typed)."""

    __slots__ = ("node", "py")

    def __init__(self, node: Node | None, py: Any = None):
        self.node, self.py = node, py

    @property
    def dtype_for_resolution(self) -> Any:
        if self.node is not None:
            return self.node.dtype
        if isinstance(self.py, bool):
            return np.dtype(bool)
        return type(self.py)

    @property
    def shape(self) -> tuple:
        return self.node.shape if self.node is not None else ()


def _operand(x: Any) -> _Operand | None:
    if isinstance(x, ndarray):
        return _Operand(x._node)
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        return _Operand(None, x)
    if isinstance(x, (np.ndarray, np.generic)):
        return _Operand(Node.leaf(np.asarray(x) if isinstance(x, np.ndarray) else x))
    if isinstance(x, (list, tuple)):
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError):
            return None
        if arr.dtype == object:
            return None
        return _Operand(Node.leaf(arr))
    return None


def _literal(value: Any, dtype: np.dtype) -> n.Expr:
    """A Python scalar as a literal of ``dtype``. An int out of the dtype's range wraps, as
    ``np.where`` does; ufunc calls have rejected those already (``apply_ufunc``)."""
    if isinstance(value, int) and not isinstance(value, bool) and dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            value = int(np.array(value).astype(dtype))
    with np.errstate(all="ignore"):
        v = dtype.type(value)
    return n.lit(v.item() if dtype.kind != "b" else bool(v), ir_scalar(dtype))


# --- ufuncs ---------------------------------------------------------------------------------
def apply_ufunc(ufunc: np.ufunc, inputs: Sequence[Any], kwargs: dict) -> Any:
    """``ufunc(*inputs, **kwargs)``, lazily when lazyir can write it in IR."""
    name = ufunc.__name__
    ops = [_operand(x) for x in inputs]
    if kwargs:
        return eager_call(name, ufunc, tuple(inputs), kwargs, f"arguments {sorted(kwargs)}")
    if any(op is None for op in ops):
        return eager_call(name, ufunc, tuple(inputs), kwargs, "argument types")
    key = (ufunc, tuple([op.dtype_for_resolution for op in ops]))
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = _plan(ufunc, key[1])
    if isinstance(plan, str):  # how NumPy runs it instead: a reason, or NumPy's own error
        if not plan:
            return ufunc(*unwrap(tuple(inputs)))
        return eager_call(name, ufunc, tuple(inputs), kwargs, plan)
    in_dtypes, out_dtype, builder = plan
    for op, dt in zip(ops, in_dtypes, strict=True):
        if op.node is None and isinstance(op.py, int) and dt.kind in "iu":
            info = np.iinfo(dt)
            if not info.min <= op.py <= info.max:
                if name in S.COMPARISONS:  # NumPy 2 compares out-of-range Python ints by value
                    return eager_call(name, ufunc, tuple(inputs), kwargs, "Python int out of range")
                raise OverflowError(f"Python integer {op.py} out of bounds for {dt}")
    if name == "power" and out_dtype.kind in "iu":
        # NumPy raises for negative integer exponents; lazyir checks known exponents now.
        exp = ops[1]
        if exp.node is not None and not exp.node.known:
            return eager_call(name, ufunc, tuple(inputs), kwargs, "integer power of a lazy exponent")
        values = np.asarray(exp.py if exp.node is None else exp.node.value)
        if values.size and np.any(values < 0):
            raise ValueError("Integers to negative integer powers are not allowed.")
    return _new(_elementwise_node(name, ufunc, builder, ops, in_dtypes, out_dtype, _broadcast(ops)))


#: (ufunc, operand dtypes) -> ``(in_dtypes, out_dtype, builder)``, or why NumPy runs it (``""``:
#: NumPy has no loop and raises its own error). Everything here depends on dtypes only.
_plans: dict[tuple, tuple | str] = {}


def _plan(ufunc: np.ufunc, dts: tuple) -> tuple | str:
    name = ufunc.__name__
    entry = S.UFUNCS.get(name)
    nodes = [d for d in dts if isinstance(d, np.dtype)]
    if entry is None:
        return "no IR form yet"
    if ufunc.nout != 1:
        return "argument types"
    if not all(supported(d) for d in nodes):
        return "dtype"
    if name in S.FLOAT_ONLY and not all(d.kind == "f" for d in nodes):
        return "integer inputs"
    dtypes = _resolve(ufunc, dts)
    if dtypes is None:
        return ""
    if not all(supported(d) for d in dtypes):
        return f"dtype {dtypes[-1]}"
    in_dtypes, out_dtype = dtypes[:-1], dtypes[-1]
    builder = entry[1]
    if len(set(in_dtypes)) > 1 and name in S.COMPARISONS:
        # NumPy 2 compares a signed and an unsigned integer by value
        op = S.COMPARISONS[name]
        ta, tb = ir_scalar(in_dtypes[0]), ir_scalar(in_dtypes[1])

        def builder(_ty: T.Scalar, a: n.Expr, b: n.Expr) -> n.Expr:
            return S.mixed_compare(op, a, ta, b, tb)

    elif len(set(in_dtypes)) > 1:
        return f"loop {dtypes}"
    return in_dtypes, out_dtype, builder


_resolved: dict[tuple, tuple | None] = {}


def _resolve(ufunc: np.ufunc, dts: tuple) -> tuple | None:
    """NumPy's loop dtypes for ``ufunc`` on operand dtypes (Python types for weak scalars);
    ``None`` when NumPy has no loop. Cached: type resolution costs microseconds per call."""
    key = (ufunc, dts)
    try:
        return _resolved[key]
    except KeyError:
        pass
    try:
        out = tuple(ufunc.resolve_dtypes(dts + (None,) * ufunc.nout))
    except (TypeError, np.exceptions.DTypePromotionError):
        out = None
    if len(_resolved) > 4096:
        _resolved.clear()
    _resolved[key] = out
    return out


def _broadcast(ops: Sequence[_Operand]) -> tuple:
    shapes = {op.shape for op in ops}
    if len(shapes) == 1:
        return shapes.pop()
    shapes.discard(())
    if len(shapes) == 1:
        return shapes.pop()
    return np.broadcast_shapes(*(op.shape for op in ops))


def _elementwise_node(
    name: str,
    ufunc: Callable[..., Any],
    builder: Callable[..., n.Expr],
    ops: Sequence[_Operand],
    in_dtypes: Sequence[np.dtype],
    out_dtype: np.dtype,
    shape: tuple,
) -> Node:
    nodes: list[Node] = []
    positions: list[int | None] = []
    for op in ops:
        if op.node is None:
            positions.append(None)
            continue
        j = next((t for t, m in enumerate(nodes) if m is op.node), None)
        if j is None:
            j = len(nodes)
            nodes.append(op.node)
        positions.append(j)
    # literals now: an out-of-range Python int raises at the call, like NumPy
    literals = [None if op.node is not None else _literal(op.py, dt) for op, dt in zip(ops, in_dtypes, strict=True)]
    shapes = [op.shape for op in ops]
    ir: dict[str, Any] = {}  # the IR-side facts, worked out only when IR is built

    def facts() -> dict[str, Any]:
        if not ir:
            ir["loop"] = ir_scalar(in_dtypes[0])
            ir["out"] = ir_scalar(out_dtype)
            ir["src"] = [None if op.node is None else ir_scalar(op.node.dtype) for op in ops]
            ir["dst"] = [ir_scalar(d) for d in in_dtypes]
            ir["strides"] = [None if shp == () else loops.broadcast_strides(shp, shape) for shp in shapes]
        return ir

    def compute(vals: list[n.Expr]) -> n.Expr:
        f = facts()
        conv = [e if src is None else S.cast(e, src, dst) for e, src, dst in zip(vals, f["src"], f["dst"], strict=True)]
        return builder(f["loop"], *conv)

    def build(args: list[n.Expr]) -> n.Expr:
        operands: list[Any] = []
        for pos, lit, shp in zip(positions, literals, shapes, strict=True):
            if pos is None:
                operands.append(lit)
            elif shp == ():
                operands.append(args[pos])
            else:
                operands.append((args[pos], shp))
        return loops.elementwise(shape, operands, compute, facts()["out"])

    def elem(getters: list[Callable[[n.Expr], n.Expr]], k: n.Expr) -> n.Expr:
        vals = []
        for pos, lit, shp, st in zip(positions, literals, shapes, facts()["strides"], strict=True):
            if pos is None:
                vals.append(lit)
            elif st is None:
                vals.append(getters[pos](None))
            else:
                vals.append(getters[pos](k if shp == shape else loops.strided_index(k, shape, st)))
        return compute(vals)

    py = [op.py for op in ops]

    def eager(*values: Any) -> Any:
        args = [p if pos is None else values[pos] for pos, p in zip(positions, py, strict=True)]
        return np.asarray(ufunc(*args))[()] if shape == () else ufunc(*args)

    node = Node(nodes, build, eager, out_dtype, shape, name)
    node.elem = elem
    return node


def copy_node(node: Node) -> Node:
    """A copy of a lazy value: its own memory when computed."""
    shape = node.shape

    def build(args: list[n.Expr]) -> n.Expr:
        if shape == ():
            return args[0]
        return loops.elementwise(shape, [(args[0], shape)], lambda e: e[0], ir_scalar(node.dtype))

    out = Node([node], build, lambda v: np.array(v, copy=True), node.dtype, shape, "copy")
    out.elem = lambda getters, k: getters[0](k)
    return out


def cast_node(node: Node, dtype: np.dtype) -> Node:
    if node.dtype == dtype:
        return node
    src, dst = ir_scalar(node.dtype), ir_scalar(dtype)
    shape = node.shape

    def build(args: list[n.Expr]) -> n.Expr:
        x = args[0]
        if shape == ():
            return S.cast(x, src, dst)
        return loops.elementwise(shape, [(x, shape)], lambda e: S.cast(e[0], src, dst), dst)

    def eager(v: Any) -> Any:
        return np.asarray(v).astype(dtype)[()] if shape == () else np.asarray(v).astype(dtype)

    out = Node([node], build, eager, dtype, shape, "astype")
    out.elem = lambda getters, k: S.cast(getters[0](k), src, dst)
    return out


def where(cond: Any, x: Any, y: Any) -> Any:
    ops = [_operand(v) for v in (cond, x, y)]
    if any(op is None for op in ops):
        return eager_call("where", np.where, (cond, x, y), {})
    try:
        out = np.result_type(*(op.node.dtype if op.node is not None else op.py for op in ops[1:]))
    except TypeError:
        return np.where(*unwrap((cond, x, y)))
    dts = [ops[0].dtype_for_resolution if ops[0].node is not None else np.dtype(bool), out, out]
    if isinstance(dts[0], type):
        dts[0] = np.dtype(bool)
    if not all(supported(d) for d in [np.dtype(d) for d in dts]):
        return eager_call("where", np.where, (cond, x, y), {}, "dtype")
    shape = np.broadcast_shapes(*(op.shape for op in ops))
    # the condition is tested as a bool; the branches are cast to the common type
    cond_dt = ops[0].node.dtype if ops[0].node is not None else np.dtype(bool)
    node = _elementwise_node(
        "where",
        np.where,
        lambda ty, c, a, b: n.select(n.cast(T.BOOL, c), a, b),
        ops,
        [cond_dt, out, out],
        out,
        shape,
    )
    return _new(node)


# --- reductions -----------------------------------------------------------------------------
def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    from numpy.lib.array_utils import normalize_axis_tuple

    return normalize_axis_tuple(axis, ndim)


_REDUCE_OPS = {"sum": "+", "prod": "*", "min": "min", "max": "max"}


def _identity(op: str, dtype: np.dtype) -> Any:
    if op == "+":
        return 0
    if op == "*":
        return 1
    if dtype.kind == "f":
        return np.inf if op == "min" else -np.inf
    info = np.iinfo(dtype)
    return info.max if op == "min" else info.min


def reduce(
    x: Any, kind: str, axis: Any = None, keepdims: bool = False, dtype: Any = None, eager: Callable | None = None
) -> Any:
    """``sum prod min max`` (and ``any all`` through them) over ``axis``."""
    node = as_node(x)
    if (
        not supported(node.dtype)
        or (dtype is not None and not supported(np.dtype(dtype)))
        or (node.shape == () and axis is not None)
    ):
        kw = dict(axis=axis, keepdims=keepdims) if dtype is None else dict(axis=axis, keepdims=keepdims, dtype=dtype)
        return eager_call(kind, getattr(np, kind), (x,), kw, "dtype")
    axes = _axes(axis, len(node.shape))
    func = getattr(np, kind)
    kw = {} if dtype is None else {"dtype": dtype}
    acc = np.asarray(func(np.ones(1, node.dtype), **kw)).dtype
    if kind in ("min", "max") and any(node.shape[a] == 0 for a in axes):
        func(np.empty(node.shape, node.dtype), axis=axis)  # NumPy's own error
    op = _REDUCE_OPS[kind]
    return _new(
        _reduce_node(node, axes, keepdims, acc, op, kind, lambda v: func(v, axis=axis, keepdims=keepdims, **kw))
    )


def _reduce_node(
    node: Node,
    axes: tuple[int, ...],
    keepdims: bool,
    acc: np.dtype,
    op: str,
    label: str,
    eager: Callable[[Any], Any],
    conv: Callable[[n.Expr], n.Expr] | None = None,
) -> Node:
    """Reduce ``node`` over ``axes`` with merge operator ``op`` in dtype ``acc``; ``conv`` maps an
    element (default: cast to ``acc``)."""
    shape = node.shape
    out_shape = (
        tuple(1 if a in axes else d for a, d in enumerate(shape))
        if keepdims
        else tuple(d for a, d in enumerate(shape) if a not in axes)
    )
    src, acc_ty = ir_scalar(node.dtype), ir_scalar(acc)
    # the builder's type: bools merge as u8; float32 sums and products run in float64 and are
    # rounded once at the end (NumPy sums pairwise; a float32 running sum would drift far more)
    merge_ty = T.U8 if acc_ty.is_bool else T.F64 if (acc_ty == T.F32 and op in ("+", "*")) else acc_ty
    final_ty = T.BOOL if acc_ty.is_bool else acc_ty
    convert = conv or (lambda e: S.cast(e, src, merge_ty))
    kept = [a for a in range(len(shape)) if a not in axes]
    rows = loops.size_of([shape[a] for a in kept])
    width = loops.size_of([shape[a] for a in axes])

    def finish(value: n.Expr, vector: bool) -> n.Expr:
        if merge_ty == final_ty:
            return value
        if not vector:
            return n.cast(final_ty, value)
        return loops.elementwise(out_shape, [(value, out_shape)], lambda e: n.cast(final_ty, e[0]), final_ty)

    def build(args: list[n.Expr]) -> n.Expr:
        x = args[0]
        if shape == ():
            return finish(convert(x), False)
        if not kept:
            value = finish(loops.reduce_all(x, merge_ty, op, convert), False)
            return value if out_shape == () else n.vector(value)  # keepdims: a one-element array
        if axes and axes == tuple(range(len(shape) - len(axes), len(shape))) and node.known:
            # rows of an array in memory: one vectorized inner loop per row
            value = loops.reduce_rows(x, rows, width, merge_ty, op, convert)
        elif not axes:
            value = loops.elementwise(shape, [(x, shape)], lambda e: convert(e[0]), merge_ty)
        else:
            own = loops.c_strides([shape[a] for a in kept])
            keep_strides = []
            it = iter(own)
            for a in range(len(shape)):
                keep_strides.append(0 if a in axes else next(it))
            ident = n.lit(_identity(op, merge_ty.numpy), merge_ty)
            value = loops.reduce_scatter(x, shape, keep_strides, rows, merge_ty, op, ident, convert)
        return finish(value, True)

    def run(v: Any) -> Any:
        out = eager(v)
        return np.asarray(out)[()] if out_shape == () else np.asarray(out)

    return Node([node], build, run, acc, out_shape, label)


def _bool_reduce(x: Any, kind: str, axis: Any, keepdims: bool) -> Any:
    node = as_node(x)
    if not supported(node.dtype) or (node.shape == () and axis is not None):
        return eager_call(kind, getattr(np, kind), (x,), dict(axis=axis, keepdims=keepdims), "dtype")
    axes = _axes(axis, len(node.shape))
    src = ir_scalar(node.dtype)
    op = "max" if kind == "any" else "min"
    func = getattr(np, kind)
    out = _reduce_node(
        node,
        axes,
        keepdims,
        np.dtype(bool),
        op,
        kind,
        lambda v: func(v, axis=axis, keepdims=keepdims),
        conv=lambda e: n.cast(T.U8, n.cast(T.BOOL, e) if not src.is_bool else e),
    )
    return _new(out)


def count_nonzero(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    node = as_node(x)
    if not supported(node.dtype) or (node.shape == () and axis is not None):
        return eager_call("count_nonzero", np.count_nonzero, (x,), dict(axis=axis, keepdims=keepdims), "dtype")
    axes = _axes(axis, len(node.shape))
    out = _reduce_node(
        node,
        axes,
        keepdims,
        np.dtype(np.intp),
        "+",
        "count_nonzero",
        lambda v: np.count_nonzero(v, axis=axis, keepdims=keepdims),
        conv=lambda e: n.cast(T.I64, n.cast(T.BOOL, e)),
    )
    result = _new(out)
    if axis is None and not keepdims:
        return np.intp(result.__array__()[()])  # NumPy returns a number, not an array
    return result


def mean(x: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:
    node = as_node(x)
    if not supported(node.dtype):
        return eager_call("mean", np.mean, (x,), dict(axis=axis, dtype=dtype, keepdims=keepdims), "dtype")
    kw = {} if dtype is None else {"dtype": dtype}
    acc = np.asarray(np.mean(np.ones(1, node.dtype), **kw)).dtype
    if not supported(acc):
        return eager_call("mean", np.mean, (x,), dict(axis=axis, dtype=dtype, keepdims=keepdims), "dtype")
    axes = _axes(axis, len(node.shape))
    count = loops.size_of([node.shape[a] for a in axes])
    total = _new(
        _reduce_node(
            node, axes, keepdims, acc, "+", "sum", lambda v: np.sum(v, axis=axis, dtype=acc, keepdims=keepdims)
        )
    )
    if acc.kind == "f":
        return apply_ufunc(np.true_divide, [total, acc.type(count)], {})
    # an integer dtype: NumPy divides in floating point and casts back (truncating)
    return apply_ufunc(np.true_divide, [total, count], {}).astype(acc)


def var(x: Any, axis: Any = None, dtype: Any = None, ddof: Any = 0, keepdims: bool = False, std: bool = False) -> Any:
    node = as_node(x)
    name = "std" if std else "var"
    if not supported(node.dtype) or node.dtype.kind not in "biuf":
        return eager_call(name, getattr(np, name), (x,), dict(axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims))
    kw = {} if dtype is None else {"dtype": dtype}
    acc = np.asarray(np.var(np.ones(2, node.dtype), **kw)).dtype
    if not supported(acc) or acc.kind != "f":
        return eager_call(name, getattr(np, name), (x,), dict(axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims))
    axes = _axes(axis, len(node.shape))
    count = loops.size_of([node.shape[a] for a in axes])
    m = mean(ndarray(node), axis=axis, dtype=acc, keepdims=True)
    centered = apply_ufunc(np.subtract, [ndarray(node), m], {})
    if centered.dtype != acc:
        centered = centered.astype(acc)
    sq = apply_ufunc(np.multiply, [centered, centered], {})
    total = reduce(sq, "sum", axis=axis, keepdims=keepdims, dtype=acc)
    out = apply_ufunc(np.true_divide, [total, acc.type(max(count - ddof, 0))], {})
    return apply_ufunc(np.sqrt, [out], {}) if std else out


def arg_reduce(x: Any, kind: str, axis: Any = None, keepdims: bool = False) -> Any:
    """``argmin``/``argmax``: the extreme value, then the first position holding it (NaN first)."""
    node = as_node(x)
    func = getattr(np, kind)
    if not supported(node.dtype) or (keepdims and axis is None) or not isinstance(axis, (type(None), int, np.integer)):
        return eager_call(kind, func, (x,), dict(axis=axis, keepdims=keepdims), "axis" if axis is not None else "dtype")
    if axis is not None and node.shape != ():
        return _arg_reduce_axis(x, node, kind, int(axis), keepdims)
    if axis is not None:  # 0-d: NumPy's answer or error
        return _new(Node.leaf(np.asarray(func(np.zeros((), node.dtype), axis=axis, keepdims=keepdims))))
    if node.shape != () and loops.size_of(node.shape) == 0:
        func(np.empty(node.shape, node.dtype))  # NumPy's own error
    flat = node if len(node.shape) == 1 else reshape_node(node, (loops.size_of(node.shape),))
    src = ir_scalar(node.dtype)
    work = T.U8 if src.is_bool else src
    ext = _reduce_node(
        flat,
        (0,),
        False,
        np.dtype(np.uint8) if src.is_bool else node.dtype,
        "min" if kind == "argmin" else "max",
        kind[3:],
        lambda v: getattr(np, kind[3:])(v),
    )
    total = loops.size_of(flat.shape)

    def build(args: list[n.Expr]) -> n.Expr:
        xs, m = args
        b, i, e = n.ident("b"), n.ident("i"), n.ident("e")
        ev = n.cast(work, e) if src.is_bool else e
        hit = n.binop("==", ev, m)
        if src.is_float:
            hit = n.binop("||", hit, n.binop("&&", n.binop("!=", m, m), n.binop("!=", ev, ev)))
        body = n.merge(b, n.select(hit, i, loops.i64(total)))
        return n.result(
            n.for_([xs], n.new_builder(T.Merger(T.I64, "min")), n.lam([("b", None), ("i", None), ("e", None)], body))
        )

    def run(v: Any, _m: Any) -> Any:
        return np.intp(func(v))

    return _new(Node([flat, ext], build, run, np.dtype(np.intp), (), kind))


def _arg_reduce_axis(x: Any, node: Node, kind: str, axis: int, keepdims: bool) -> Any:
    """``argmin``/``argmax`` along an axis from lazy operations: the extremes along the axis, then
    the smallest position along the axis holding one (a NaN first, as NumPy)."""
    func = getattr(np, kind)
    axis = np.lib.array_utils.normalize_axis_index(axis, len(node.shape))  # NumPy's AxisError
    length = node.shape[axis]
    if length == 0:
        func(np.empty(node.shape, node.dtype), axis=axis)  # NumPy's own error
    arr = ndarray(node)
    ext = reduce(arr, kind[3:], axis, True)
    hit = apply_ufunc(np.equal, [arr, ext], {})
    if node.dtype.kind == "f":
        nan = apply_ufunc(np.logical_and, [apply_ufunc(np.isnan, [ext], {}), apply_ufunc(np.isnan, [arr], {})], {})
        hit = apply_ufunc(np.logical_or, [hit, nan], {})
    shape = [1] * len(node.shape)
    shape[axis] = length
    positions = ndarray(Node.leaf(np.arange(length, dtype=np.intp).reshape(shape)))
    first = where(hit, positions, np.intp(length))
    return reduce(first, "min", axis, keepdims)


# --- shapes and views -----------------------------------------------------------------------
def reshape_node(node: Node, shape: tuple[int, ...]) -> Node:
    def build(args: list[n.Expr]) -> n.Expr:
        x = args[0]
        if node.shape == () and shape != ():
            return n.vector(x)
        if shape == () and node.shape != ():
            return n.call(n.LOOKUP, x, loops.i64(0))
        return x

    return Node([node], build, lambda v: np.reshape(v, shape), node.dtype, shape, "reshape")


def view_node(node: Node, shape: tuple[int, ...], strides: tuple[int, ...], offset: int, eager: Callable) -> Node:
    """A strided view of a C-ordered ``node`` (element strides, may be negative or 0), made
    contiguous: a ``slice`` when it is one block, else a gather."""
    elem_ty = ir_scalar(node.dtype)
    if shape == () or node.shape == ():

        def build(args: list[n.Expr]) -> n.Expr:
            x = args[0]
            if shape == ():
                return n.call(n.LOOKUP, x, loops.i64(offset)) if node.shape != () else x
            return loops.elementwise(shape, [x], lambda e: e[0], elem_ty)

        return Node([node], build, eager, node.dtype, shape, "view")
    contiguous = tuple(s for s, d in zip(strides, shape, strict=True) if d != 1) == tuple(
        s for s, d in zip(loops.c_strides(shape), shape, strict=True) if d != 1
    )
    if contiguous and (node.known or node.elem is None):
        total = loops.size_of(shape)
        out = Node(
            [node],
            lambda args: n.call(n.SLICE, args[0], loops.i64(offset), loops.i64(total)),
            lambda v: np.ascontiguousarray(eager(v)),
            node.dtype,
            shape,
            "view",
        )
        out.elem = lambda getters, k: getters[0](k if not offset else n.binop("+", k, loops.i64(offset)))
        return out
    return make_gather(
        node,
        shape,
        lambda k: loops.strided_index(k, shape, strides, offset),
        lambda v: np.ascontiguousarray(eager(v)),
        "view",
    )


#: How many elementwise nodes a gather may recompute per element instead of reading them from
#: memory. Regions stop at other gathers: a stencil of a stencil would recompute each element
#: once per neighbour, and over a few steps its whole history.
COMPOSE_BUDGET = 32
GATHERS = frozenset({"view", "roll"})


def _region(node: Node, budget: list[int]) -> tuple[list[Node], Callable]:
    """The nodes a gather of ``node`` reads when it computes ``node``'s elements itself, and
    ``element(getters, index)`` in terms of readers of them; just ``node`` when it is known, not
    elementwise, or the budget is spent."""
    if node.known or node.elem is None or node.label in GATHERS or budget[0] <= 0:
        return [node], lambda getters, idx: getters[0](idx)
    budget[0] -= 1
    parts = [_region(i, budget) for i in node.inputs]
    leaves: list[Node] = []
    slots: list[list[int]] = []
    for sub_leaves, _ in parts:
        pos = []
        for leaf in sub_leaves:
            j = next((t for t, m in enumerate(leaves) if m is leaf), None)
            if j is None:
                j = len(leaves)
                leaves.append(leaf)
            pos.append(j)
        slots.append(pos)
    elem = node.elem

    def element(getters: list[Callable], idx: n.Expr) -> n.Expr:
        inner = [
            (lambda i, f=f, pos=pos: f([getters[p] for p in pos], i)) for (_, f), pos in zip(parts, slots, strict=True)
        ]
        return elem(inner, idx)

    return leaves, element


def _reader(node: Node, arg: n.Expr) -> Callable[[n.Expr | None], n.Expr]:
    if node.shape == ():
        return lambda idx: arg
    return lambda idx: n.call(n.LOOKUP, arg, idx)


def make_gather(
    node: Node,
    shape: tuple[int, ...],
    index: Callable[..., n.Expr],
    eager: Callable[..., Any],
    label: str,
    extra: Sequence[Node] = (),
) -> Node:
    """``out[k] = node[index(k, *extra)]`` over the flat positions ``k`` of ``shape`` (``extra``:
    nodes the index reads, e.g. an index array). When ``node`` is a lazy elementwise value over
    arrays in memory, the gather computes the elements it reads in its own loop instead of
    reading ``node`` from memory; ``eager(value, *extra_values)`` is the NumPy computation."""
    elem_ty = ir_scalar(node.dtype)
    total = loops.size_of(shape)
    leaves, element = [node], (lambda getters, idx: getters[0](idx))
    if not node.known and node.elem is not None:
        region, composed = _region(node, [COMPOSE_BUDGET])
        # a region over other lazy values would recompute them per read (a stencil's history)
        if all(m.known for m in region):
            leaves, element = region, composed
    count = len(leaves)

    def build(args: list[n.Expr]) -> n.Expr:
        getters = [_reader(m, a) for m, a in zip(leaves, args[:count], strict=True)]
        extras = args[count:]
        return loops.appender_loop(
            [n.rangeiter(loops.i64(0), loops.i64(total), loops.i64(1))],
            elem_ty,
            loops.i64(total),
            lambda i, k: element(getters, index(k, *extras)),
        )

    def run(*values: Any) -> Any:
        value = values[0] if leaves == [node] else _eager_region(node, leaves, values[:count])
        return eager(value, *values[count:])

    out = Node([*leaves, *extra], build, run, node.dtype, shape, label)
    if not extra:
        out.elem = lambda getters, k: element(getters, index(k))
    return out


def _eager_region(node: Node, leaves: list[Node], values: tuple) -> Any:
    """``node``'s value computed with NumPy from the region leaves' values."""
    known = {id(m): v for m, v in zip(leaves, values, strict=True)}

    def value(m: Node) -> Any:
        if id(m) in known:
            return known[id(m)]
        v = m.eager(*[value(i) for i in m.inputs])
        known[id(m)] = v
        return v

    return value(node)


def _basic_view(shape: tuple[int, ...], key: tuple) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """Shape, element strides and offset of ``x[key]`` for basic indices, from NumPy itself: the
    same indexing applied to a strided dummy (no data) gives NumPy's own errors and results."""
    itemsize = 8
    dummy = (
        np.lib.stride_tricks.as_strided(
            np.zeros(1, np.int64),
            shape=shape,
            strides=tuple(s * itemsize for s in loops.c_strides(shape)),
            writeable=False,
        )
        if all(shape)
        else np.empty(shape, np.int64)
    )
    # a trailing Ellipsis keeps a 0-d result an array view (not a scalar), so its address is known
    view = dummy[key if builtins.any(k is Ellipsis for k in key) else key + (Ellipsis,)]
    if all(shape):
        base = dummy.__array_interface__["data"][0]
        offset = (view.__array_interface__["data"][0] - base) // itemsize
    else:
        offset = 0
    return view.shape, tuple(s // itemsize for s in view.strides), offset


def _is_int_index(key: Any) -> bool:
    """An integer index array (or list) for the first axis."""
    if isinstance(key, (ndarray, np.ndarray)):
        return key.dtype.kind in "iu"
    if isinstance(key, list):
        try:
            return np.asarray(key).dtype.kind in "iu"
        except ValueError:
            return False
    return False


def _is_basic(key: tuple) -> bool:
    return all(
        k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer)) and not isinstance(k, bool) for k in key
    )


# --- reductions by NumPy's signatures -----------------------------------------------------
def _reduction(name: str, lazy: Callable[..., Any], params: tuple[str, ...]) -> Callable[..., Any]:
    """``np.<name>`` taking NumPy's arguments (positional or keyword): lazy through ``lazy`` when
    only ``params`` are given, else eager on NumPy (``out=``, ``where=``, ``initial=``...)."""
    func = getattr(np, name)
    signature = inspect.signature(func)

    def reduction(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs).arguments
        a = bound.pop(next(iter(signature.parameters)))
        others = [k for k, v in bound.items() if k not in params and v is not None]
        if others:
            return eager_call(name, func, args, kwargs, f"arguments {others}")
        return lazy(a, **bound)

    reduction.__name__ = reduction.__qualname__ = name
    reduction.__doc__ = f"``np.{name}``, lazily."
    return reduction


REDUCTIONS: dict[str, Callable[..., Any]] = {
    "sum": _reduction(
        "sum",
        lambda a, axis=None, dtype=None, keepdims=False: reduce(a, "sum", axis, keepdims, dtype),
        ("axis", "dtype", "keepdims"),
    ),
    "prod": _reduction(
        "prod",
        lambda a, axis=None, dtype=None, keepdims=False: reduce(a, "prod", axis, keepdims, dtype),
        ("axis", "dtype", "keepdims"),
    ),
    "min": _reduction(
        "min", lambda a, axis=None, keepdims=False: reduce(a, "min", axis, keepdims), ("axis", "keepdims")
    ),
    "max": _reduction(
        "max", lambda a, axis=None, keepdims=False: reduce(a, "max", axis, keepdims), ("axis", "keepdims")
    ),
    "any": _reduction(
        "any", lambda a, axis=None, keepdims=False: _bool_reduce(a, "any", axis, keepdims), ("axis", "keepdims")
    ),
    "all": _reduction(
        "all", lambda a, axis=None, keepdims=False: _bool_reduce(a, "all", axis, keepdims), ("axis", "keepdims")
    ),
    "mean": _reduction("mean", mean, ("axis", "dtype", "keepdims")),
    "var": _reduction("var", var, ("axis", "dtype", "ddof", "keepdims")),
    "std": _reduction("std", lambda a, **kw: var(a, std=True, **kw), ("axis", "dtype", "ddof", "keepdims")),
    "argmin": _reduction(
        "argmin", lambda a, axis=None, keepdims=False: arg_reduce(a, "argmin", axis, keepdims), ("axis", "keepdims")
    ),
    "argmax": _reduction(
        "argmax", lambda a, axis=None, keepdims=False: arg_reduce(a, "argmax", axis, keepdims), ("axis", "keepdims")
    ),
}


# --- the array ------------------------------------------------------------------------------
def _binary(ufunc: np.ufunc, reflected: bool = False) -> Callable[[ndarray, Any], Any]:
    def method(self: ndarray, other: Any) -> Any:
        if type(other) is not ndarray and (
            getattr(other, "__array_ufunc__", False) is None or getattr(other, "__array_priority__", 0) > 1000
        ):
            return NotImplemented  # the other type handles it (or refuses NumPy), as with NumPy arrays
        args = [other, self] if reflected else [self, other]
        return apply_ufunc(ufunc, args, {})

    return method


def _unary(ufunc: np.ufunc) -> Callable[[ndarray], Any]:
    return lambda self: apply_ufunc(ufunc, [self], {})


class ndarray:  # noqa: N801 - NumPy's name
    """A lazy NumPy array: operations build a program; reading values runs it."""

    __slots__ = ("_node", "_view", "_views", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, node: Node, view: tuple[ndarray, Callable[[np.ndarray], np.ndarray]] | None = None):
        self._node = node
        #: ``(base, f)`` when this array is a view of ``base`` (``f`` makes the NumPy view of the
        #: base's memory: a basic index, a reshape, a transpose); writes then go into the base
        self._view = view
        self._views: list[weakref.ref[ndarray]] | None = None  # arrays are unhashable: no WeakSet
        if view is not None:
            base = view[0]
            if base._views is None:
                base._views = []
            base._views = [r for r in base._views if r() is not None]
            base._views.append(weakref.ref(self))

    # attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self._node.shape

    @property
    def dtype(self) -> np.dtype:
        return self._node.dtype

    @property
    def ndim(self) -> int:
        return len(self._node.shape)

    @property
    def size(self) -> int:
        return loops.size_of(self._node.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def T(self) -> ndarray:  # noqa: N802
        return self.transpose()

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    # evaluation
    def _value(self) -> Any:
        return evaluate([self._node])[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        v = np.asarray(self._value())
        if dtype is not None:
            v = v.astype(dtype, copy=False)
        return v.copy() if copy else v

    def __repr__(self) -> str:
        return repr(np.asarray(self._value())).replace("array(", "lazyir.ndarray(", 1)

    def __str__(self) -> str:
        return str(np.asarray(self._value()))

    def __float__(self) -> float:
        return float(np.asarray(self._value()))

    def __int__(self) -> int:
        return int(np.asarray(self._value()))

    def __index__(self) -> int:
        return operator.index(np.asarray(self._value())[()])

    def __bool__(self) -> bool:
        return bool(np.asarray(self._value()))

    def __complex__(self) -> complex:
        return complex(np.asarray(self._value()))

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return iter(wrap(list(np.asarray(self._value()))))

    def tolist(self) -> Any:
        return np.asarray(self._value()).tolist()

    def item(self, *args: Any) -> Any:
        return np.asarray(self._value()).item(*args)

    def __hash__(self) -> int:  # unhashable, like NumPy arrays
        raise TypeError("unhashable type: 'lazyir.numpy.ndarray'")

    # NumPy protocols
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__":
            if ufunc is np.matmul and not kwargs:
                from . import api

                return api.matmul(*inputs)
            return apply_ufunc(ufunc, inputs, kwargs)
        if method == "reduce" and len(inputs) == 1 and set(kwargs) <= {"axis", "keepdims", "dtype"}:
            kind = {"add": "sum", "multiply": "prod", "minimum": "min", "maximum": "max"}.get(ufunc.__name__)
            axis = kwargs.get("axis", 0)
            if kind is not None:
                return reduce(inputs[0], kind, axis, kwargs.get("keepdims", False), kwargs.get("dtype"))
            if ufunc.__name__ in ("logical_and", "logical_or"):
                return _bool_reduce(
                    inputs[0], "all" if ufunc.__name__ == "logical_and" else "any", axis, kwargs.get("keepdims", False)
                )
        if method == "accumulate" and len(inputs) == 1 and set(kwargs) <= {"axis", "dtype"}:
            from . import api

            if ufunc in api.SCAN_OPS:
                name = f"{ufunc.__name__}.accumulate"
                return api.accumulate(ufunc, inputs[0], kwargs.get("axis", 0), kwargs.get("dtype"), name)
        return eager_call(f"{ufunc.__name__}.{method}", getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func: Callable, types: Any, args: tuple, kwargs: dict) -> Any:
        from . import api

        impl = api.IMPLEMENTED.get(func)
        if impl is not None:
            return impl(*args, **kwargs)
        return eager_call(getattr(func, "__name__", str(func)), func, args, kwargs)

    # operators
    __add__, __radd__ = _binary(np.add), _binary(np.add, True)
    __sub__, __rsub__ = _binary(np.subtract), _binary(np.subtract, True)
    __mul__, __rmul__ = _binary(np.multiply), _binary(np.multiply, True)
    __truediv__, __rtruediv__ = _binary(np.true_divide), _binary(np.true_divide, True)
    __floordiv__, __rfloordiv__ = _binary(np.floor_divide), _binary(np.floor_divide, True)
    __mod__, __rmod__ = _binary(np.remainder), _binary(np.remainder, True)
    __rpow__ = _binary(np.power, True)
    __and__, __rand__ = _binary(np.bitwise_and), _binary(np.bitwise_and, True)
    __or__, __ror__ = _binary(np.bitwise_or), _binary(np.bitwise_or, True)
    __xor__, __rxor__ = _binary(np.bitwise_xor), _binary(np.bitwise_xor, True)
    __lshift__, __rlshift__ = _binary(np.left_shift), _binary(np.left_shift, True)
    __rshift__, __rrshift__ = _binary(np.right_shift), _binary(np.right_shift, True)
    __eq__ = _binary(np.equal)  # type: ignore[assignment]
    __ne__ = _binary(np.not_equal)  # type: ignore[assignment]
    __lt__, __le__ = _binary(np.less), _binary(np.less_equal)
    __gt__, __ge__ = _binary(np.greater), _binary(np.greater_equal)
    __neg__, __pos__ = _unary(np.negative), _unary(np.positive)
    __abs__, __invert__ = _unary(np.absolute), _unary(np.invert)

    def _inplace(self, ufunc: np.ufunc, other: Any) -> ndarray:
        """``a op= b``: NumPy's ``ufunc(a, b, out=a)`` (same-kind casting), written into ``a``'s
        memory so that views of it see the result."""
        op = _operand(other)
        if op is not None and op.node is None:
            probe: Any = other  # a Python scalar: weakly typed, as NumPy sees it
        else:
            probe = np.empty(0, op.node.dtype if op is not None else np.asarray(unwrap(other)).dtype)
        with np.errstate(all="ignore"):  # NumPy's own casting check and error, on empty operands
            ufunc(np.empty(0, self.dtype), probe, out=np.empty(0, self.dtype))
        result = apply_ufunc(ufunc, [self, other], {})
        self[...] = result
        return self

    def __iadd__(self, other: Any) -> ndarray:
        return self._inplace(np.add, other)

    def __isub__(self, other: Any) -> ndarray:
        return self._inplace(np.subtract, other)

    def __imul__(self, other: Any) -> ndarray:
        return self._inplace(np.multiply, other)

    def __itruediv__(self, other: Any) -> ndarray:
        return self._inplace(np.true_divide, other)

    def __ifloordiv__(self, other: Any) -> ndarray:
        return self._inplace(np.floor_divide, other)

    def __imod__(self, other: Any) -> ndarray:
        return self._inplace(np.remainder, other)

    def __ipow__(self, other: Any) -> ndarray:
        return self._inplace(np.power, other)

    def __iand__(self, other: Any) -> ndarray:
        return self._inplace(np.bitwise_and, other)

    def __ior__(self, other: Any) -> ndarray:
        return self._inplace(np.bitwise_or, other)

    def __ixor__(self, other: Any) -> ndarray:
        return self._inplace(np.bitwise_xor, other)

    def __ilshift__(self, other: Any) -> ndarray:
        return self._inplace(np.left_shift, other)

    def __irshift__(self, other: Any) -> ndarray:
        return self._inplace(np.right_shift, other)

    def __divmod__(self, other: Any) -> Any:
        return apply_ufunc(np.floor_divide, [self, other], {}), apply_ufunc(np.remainder, [self, other], {})

    def __rdivmod__(self, other: Any) -> Any:
        return apply_ufunc(np.floor_divide, [other, self], {}), apply_ufunc(np.remainder, [other, self], {})

    def __contains__(self, item: Any) -> bool:
        return item in np.asarray(self._value())

    def __pow__(self, other: Any) -> Any:
        # ndarray.__pow__'s fast paths for scalar exponents (2 -> square, 0.5 -> sqrt, ...)
        # ndarray.__pow__'s fast paths (NumPy's fast_scalar_power): float arrays with a scalar
        # exponent of -1, 0.5, 1 or 2; any other array with the Python int 2 (np.square)
        if type(other) in (int, float) and supported(self.dtype):
            if self.dtype.kind == "f" and other in (2, 0.5, 1, -1):
                fast = {2: np.square, 0.5: np.sqrt, 1: np.positive, -1: np.reciprocal}[other]
                return apply_ufunc(fast, [self], {})
            if self.dtype.kind in "biu" and type(other) is int and other == 2:
                return apply_ufunc(np.square, [self], {})
        return apply_ufunc(np.power, [self, other], {})

    def __matmul__(self, other: Any) -> Any:
        from . import api

        return api.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        from . import api

        return api.matmul(other, self)

    # methods
    def astype(
        self, dtype: Any, order: str = "K", casting: str = "unsafe", subok: bool = True, copy: bool = True
    ) -> ndarray:
        dt = np.dtype(dtype)
        np.empty(0, self.dtype).astype(dt, casting=casting)  # NumPy's casting check and error
        if not (supported(dt) and supported(self.dtype)) or order not in ("K", "C", "A"):
            return eager_call("astype", lambda a: a.astype(dt, order=order), (self,), {}, f"dtype {dt}")
        if dt == self.dtype:
            return ndarray(self._node) if not copy else self.copy()
        return _new(cast_node(self._node, dt))

    def copy(self, order: str = "C") -> ndarray:
        node = self._node
        if node.known:
            return ndarray(Node.leaf(np.array(node.value, copy=True, order=order)))
        if order not in ("C", "K", "A"):
            return eager_call("copy", lambda a: a.copy(order=order), (self,), {}, "order")
        return _new(copy_node(node))

    def reshape(self, *shape: Any, order: str = "C") -> ndarray:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if order != "C":
            return eager_call("reshape", lambda a: a.reshape(shape, order=order), (self,), {}, "order")
        new = np.empty(self.shape, dtype=np.int8).reshape(shape).shape  # NumPy validates -1 and sizes
        node = self._node
        if not node.known and not supported(node.dtype):
            return eager_call("reshape", lambda a: a.reshape(new), (self,), {}, f"dtype {node.dtype}")
        view = (self, lambda a, s=new: a.reshape(s))
        if node.known:
            value = np.reshape(node.value, new)
            shares = np.may_share_memory(value, node.value)
            return ndarray(Node.leaf(value), view=view if shares else None)
        return ndarray(_register(reshape_node(node, new)), view=view)

    def ravel(self, order: str = "C") -> ndarray:
        return self.reshape(-1, order=order)

    def flatten(self, order: str = "C") -> ndarray:
        return self.reshape(-1, order=order).copy()

    def transpose(self, *axes: Any) -> ndarray:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        node = self._node
        ndim = len(node.shape)
        perm = tuple(range(ndim))[::-1] if not axes else tuple(np.lib.array_utils.normalize_axis_tuple(axes, ndim))
        if len(perm) != ndim:
            raise ValueError("axes don't match array")
        view = (self, lambda a, p=perm: a.transpose(p))
        if not node.known and not supported(node.dtype):
            return eager_call("transpose", lambda a: a.transpose(perm), (self,), {}, f"dtype {node.dtype}")
        if node.known:
            return ndarray(Node.leaf(np.transpose(node.value, perm)), view=view)
        own = loops.c_strides(node.shape)
        shape = tuple(node.shape[a] for a in perm)
        strides = tuple(own[a] for a in perm)
        if perm == tuple(range(ndim)):
            return ndarray(_register(reshape_node(node, node.shape)), view=view)
        return ndarray(_register(view_node(node, shape, strides, 0, lambda v: np.transpose(v, perm))), view=view)

    def __getitem__(self, key: Any) -> Any:
        node = self._node
        tkey = key if isinstance(key, tuple) else (key,)
        if not supported(node.dtype) and not (node.known and _is_basic(tkey)):
            return eager_call("__getitem__", lambda a, k: a[k], (self, key), {}, f"dtype {node.dtype}")
        if node.known and _is_basic(tkey):
            return ndarray(Node.leaf(node.value[key]), view=(self, lambda a, k=tkey: a[k]))
        if _is_basic(tkey):
            shape, strides, offset = _basic_view(node.shape, tkey)
            out = view_node(node, shape, strides, offset, lambda v: v[key])
            return ndarray(_register(out), view=(self, lambda a, k=tkey: a[k]))
        if isinstance(key, (ndarray, np.ndarray)) and key.dtype == np.bool_ and key.shape == self.shape:
            from . import api

            return api.compress_mask(self, key if isinstance(key, ndarray) else ndarray(Node.leaf(key)))
        if _is_int_index(key):
            from . import api

            return api.take_rows(self, key)
        return eager_call("__getitem__", lambda a, k: a[k], (self, key), {}, "advanced indexing")

    def __setitem__(self, key: Any, value: Any) -> None:
        # NumPy semantics: writes go into this array's memory (its base's, for a view); lazy values
        # that still read that memory are computed first, from the old contents; views see it.
        value = unwrap(value)
        arr = begin_write(self)
        arr[unwrap(key)] = value
        end_write(self)

    # reductions (sum prod min max mean var std any all argmin argmax) are set below from REDUCTIONS

    def clip(self, min: Any = None, max: Any = None, out: Any = None, **kwargs: Any) -> Any:  # noqa: A002
        from . import api

        bounds = {k: v for k, v in (("min", min), ("max", max)) if v is not None}
        return api.clip(self, out=out, **bounds, **kwargs)

    def dot(self, other: Any) -> Any:
        from . import api

        return api.dot(self, other)

    def __getattr__(self, name: str) -> Any:
        # Anything else an ndarray has runs eagerly on the computed array.
        if name.startswith("_"):
            raise AttributeError(name)
        attr = getattr(np.ndarray, name, None)
        if attr is None:
            raise AttributeError(f"'lazyir.numpy.ndarray' object has no attribute {name!r}")
        if name in MUTATING_METHODS:

            def mutate(*args: Any, **kwargs: Any) -> Any:
                arr = begin_write(self)
                out = getattr(arr, name)(*unwrap(args), **unwrap(kwargs))
                end_write(self)
                return wrap(out)

            return mutate
        value = getattr(np.asarray(self._value()), name)
        if callable(value):

            def call(*args: Any, **kwargs: Any) -> Any:
                return eager_call(f"ndarray.{name}", value, args, kwargs)

            return call
        return wrap(value)


#: ndarray methods that write into the array
MUTATING_METHODS = frozenset({"fill", "sort", "put", "partition", "itemset", "setfield", "resize"})
#: NumPy functions that write into their first argument
MUTATING_FUNCTIONS = frozenset({"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis"})


def _reduction_method(name: str) -> Callable[..., Any]:
    def method(self: ndarray, *args: Any, **kwargs: Any) -> Any:
        return REDUCTIONS[name](self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


for _name in REDUCTIONS:  # ndarray.sum(axis, ...) is np.sum(self, axis, ...)
    setattr(ndarray, _name, _reduction_method(_name))


def _register(node: Node) -> Node:
    if not node.known:
        _pending.add(node)
    return node


def _reads(node: Node, arr: np.ndarray) -> bool:
    """``node`` is lazy and reads (through its inputs) memory that ``arr`` overlaps."""
    stack = [node]
    seen: set[int] = set()
    while stack:
        m = stack.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        if m.known:
            if isinstance(m.value, np.ndarray) and np.may_share_memory(m.value, arr):
                return True
            continue
        stack.extend(m.inputs)
    return False


def begin_write(x: ndarray) -> np.ndarray:
    """The NumPy array a write into ``x`` goes to: ``x``'s memory, or for a view the view of its
    base's memory (the base is computed first). Every pending lazy value that reads that memory
    is computed now, so it keeps seeing the old contents."""
    chain = []
    root = x
    while root._view is not None:
        chain.append(root._view[1])
        root = root._view[0]
    memory = np.asarray(root._value())
    if not memory.flags.writeable:
        memory = memory.copy()
    root._node = Node.leaf(memory)
    _flush_readers(memory)
    arr = memory
    for f in reversed(chain):
        arr = f(arr)
    return arr


def end_write(x: ndarray) -> None:
    """After a write: ``x`` and every view of its base read the written memory."""
    root = x
    while root._view is not None:
        root = root._view[0]
    _repoint(root, root._node.value)


def _repoint(base: ndarray, memory: np.ndarray) -> None:
    base._node = Node.leaf(memory)
    for ref in list(base._views or ()):
        v = ref()
        if v is not None and v._view is not None and v._view[0] is base:
            _repoint(v, v._view[1](memory))


def _flush_readers(arr: np.ndarray) -> None:
    """Compute every pending lazy value that reads ``arr``'s memory, before it is written."""
    readers = [m for m in list(_pending) if not m.known and _reads(m, arr)]
    if readers:
        evaluate(readers)
