"""The IR loops the NumPy frontend emits: maps with broadcasting, gathers, reductions.

Arrays are C-ordered ``vec``s of their elements; a loop over an N-d result runs over its flat index
and finds each operand's element by shape arithmetic (``lookup`` at the broadcast index), or, when
every operand has the result's shape, zips the operands directly so the optimizer fuses the loops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...ir import nodes as n
from ...ir import types as T

E = n.Expr


def i64(v: int) -> E:
    return n.lit(int(v), T.I64)


def c_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """Element strides of a C-ordered array of ``shape``."""
    out = []
    acc = 1
    for d in reversed(shape):
        out.append(acc)
        acc *= d
    return tuple(reversed(out))


def size_of(shape: Sequence[int]) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


def strided_index(k: E, shape: Sequence[int], strides: Sequence[int], offset: int = 0) -> E:
    """``offset + sum(coord_a(k) * strides[a])`` where ``coord`` is the C-order multi-index of the
    flat position ``k`` in ``shape``: how a view or a broadcast operand finds its element."""
    inner = c_strides(shape)
    expr = i64(offset) if offset else None
    for axis, (dim, st) in enumerate(zip(shape, strides, strict=True)):
        if st == 0 or dim == 1:
            continue
        coord = k if inner[axis] == 1 else n.binop("/", k, i64(inner[axis]))
        if axis > 0:
            coord = n.binop("%", coord, i64(dim))
        term = coord if st == 1 else n.binop("*", coord, i64(st))
        expr = term if expr is None else n.binop("+", expr, term)
    return expr if expr is not None else i64(0)


def broadcast_strides(shape: Sequence[int], out_shape: Sequence[int]) -> tuple[int, ...]:
    """Strides (in elements) that read a C-ordered ``shape`` operand broadcast to ``out_shape``."""
    pad = len(out_shape) - len(shape)
    own = c_strides(shape)
    return tuple(0 if a < pad or shape[a - pad] == 1 else own[a - pad] for a in range(len(out_shape)))


def appender_loop(iters: list[E], elem_ty: T.Scalar, size: E | None, body: Callable[[E, E], E]) -> E:
    """``result(for(iters, appender[elem](size), |b, i, e| merge(b, body(i, e))))``."""
    b, i, e = n.ident("b"), n.ident("i"), n.ident("e")
    builder = n.new_builder(T.Appender(elem_ty), *([size] if size is not None else []))
    return n.result(n.for_(iters, builder, n.lam([("b", None), ("i", None), ("e", None)], n.merge(b, body(i, e)))))


def elementwise(
    out_shape: tuple[int, ...],
    operands: Sequence[tuple[E, tuple[int, ...]] | E],
    fn: Callable[[list[E]], E],
    out_ty: T.Scalar,
) -> E:
    """The result of ``fn`` applied elementwise. ``operands`` are ``(vec expr, shape)`` for arrays
    and plain expressions for scalars (literals, 0-d values)."""
    if out_shape == ():
        return fn([op if isinstance(op, E) else op[0] for op in operands])
    aligned: list[E] = []
    for op in operands:
        if not isinstance(op, E) and op[1] == out_shape and op[0] not in aligned:
            aligned.append(op[0])
    total = size_of(out_shape)

    def body(i: E, e: E) -> E:
        args = []
        for op in operands:
            if isinstance(op, E):
                args.append(op)
            elif op[1] == out_shape:
                j = aligned.index(op[0])
                args.append(e if len(aligned) == 1 else n.getfield(e, j))
            else:
                idx = strided_index(i, out_shape, broadcast_strides(op[1], out_shape))
                args.append(n.call(n.LOOKUP, op[0], idx))
        return fn(args)

    if aligned:
        return appender_loop(list(aligned), out_ty, None, body)  # the size pass sizes it
    return appender_loop([n.rangeiter(i64(0), i64(total), i64(1))], out_ty, i64(total), body)


def reduce_all(x: E, acc_ty: T.Scalar, op: str, conv: Callable[[E], E], init: E | None = None) -> E:
    """``result(for(x, merger[acc, op], |b, i, e| merge(b, conv(e))))``."""
    b, _i, e = n.ident("b"), n.ident("i"), n.ident("e")
    builder = n.new_builder(T.Merger(acc_ty, op), *([init] if init is not None else []))
    return n.result(n.for_([x], builder, n.lam([("b", None), ("i", None), ("e", None)], n.merge(b, conv(e)))))


def reduce_rows(x: E, rows: int, width: int, acc_ty: T.Scalar, op: str, conv: Callable[[E], E]) -> E:
    """Reduce each of ``rows`` consecutive blocks of ``width`` elements: one value per row."""
    r = n.ident("r")
    start = n.binop("*", r, i64(width))
    inner_b, _j, e = n.ident("c"), n.ident("j"), n.ident("x")
    inner = n.result(
        n.for_(
            [n.iter_(x, start, n.binop("+", start, i64(width)), i64(1))],
            n.new_builder(T.Merger(acc_ty, op)),
            n.lam([("c", None), ("j", None), ("x", None)], n.merge(inner_b, conv(e))),
        )
    )
    b, _i = n.ident("b"), n.ident("i")
    return n.result(
        n.for_(
            [n.rangeiter(i64(0), i64(rows), i64(1))],
            n.new_builder(T.Appender(acc_ty), i64(rows)),
            n.lam([("b", None), ("i", None), ("r", None)], n.merge(b, inner)),
        )
    )


def reduce_scatter(
    x: E,
    in_shape: tuple[int, ...],
    keep_strides: Sequence[int],
    out_size: int,
    acc_ty: T.Scalar,
    op: str,
    identity: E,
    conv: Callable[[E], E],
) -> E:
    """Reduce over any axes with a ``vecmerger``: element ``i`` merges into the output position
    ``strided_index(i, in_shape, keep_strides)`` (reduced axes have stride 0)."""
    init = appender_loop([n.rangeiter(i64(0), i64(out_size), i64(1))], acc_ty, i64(out_size), lambda i, k: identity)
    b, i, e = n.ident("b"), n.ident("i"), n.ident("e")
    idx = strided_index(i, in_shape, keep_strides)
    return n.result(
        n.for_(
            [x],
            n.new_builder(T.VecMerger(acc_ty, op), init),
            n.lam([("b", None), ("i", None), ("e", None)], n.merge(b, n.make_struct(idx, conv(e)))),
        )
    )
