"""Pass ``fold``: constant folding and exact algebraic simplification.

Every rewrite here gives exactly what evaluation gives, bit for bit (NaN, ``-0.0``, integer
wrapping, the documented division, shift and cast rules), and the same run-time errors:

- an operation on literals is evaluated with the reference interpreter's own scalar functions
  (``lazyir.ir.interpret.binop/unop/cast``). Only exact operations are folded: transcendental
  functions and float ``pow``/``atan2`` are left for run time, because compiled code calls
  libm/libmvec, which may differ from the interpreter in the last ulp;
- identities (``x + 0``, ``x * 1.0``, ``x && true``...) are tables below, each entry exact for its
  type: ``x + 0.0`` is not an identity on floats (``-0.0 + 0.0`` is ``+0.0``) but ``x + -0.0`` is;
- a ``let`` of a struct literal whose name is only read field by field (``let e = {x.$0, x.$0 * 2};
  ... e.$1 ...``, what fusing zipped loops leaves) reads the fields directly, so ``cse`` sees
  equal expressions as equal;
- a rewrite that drops an operand (``x * 0``, ``select(true, a, b)``, ``{a, b}.$0``) applies only
  when evaluating the dropped part can be skipped (``analysis.removable``): it cannot raise
  ``IRRuntimeError`` and merges into no builder from outside.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...ir import nodes as n
from ...ir.analysis import Fresh, free_vars, has_loop, removable
from ...ir.interpret import binop as eval_binop
from ...ir.interpret import cast as eval_cast
from ...ir.interpret import unop as eval_unop
from ...ir.types import I64, Scalar
from ..pipeline import register
from ..rewrite import RuleSet

rules = RuleSet("fold")

#: Unary operations folded on a literal: the exact ones (correctly rounded at the operand width).
FOLD_UNOPS = frozenset({"-", "!", "abs", "sqrt", "floor", "ceil"})
#: Binary operations never folded on float literals: libm functions.
LIBM_BINOPS = frozenset({"pow", "atan2"})

# Identities: ``x op c == x`` (RIGHT) and ``c op x == x`` (LEFT), per kind of operand type. Float
# zeros carry their sign: ``x - 0.0 == x`` and ``x + -0.0 == x`` hold for every x, ``x + 0.0``
# does not (x = -0.0). ``pow(x, 1.0) == x`` holds for libm's pow (the exact result is
# representable) and for integer pow. ``None`` in the bit-pattern tables stands for all ones.
_INT_LEFT: dict[str, int | None] = {"+": 0, "*": 1, "|": 0, "^": 0, "&": None}
_INT_RIGHT: dict[str, int | None] = {**_INT_LEFT, "-": 0, "/": 1, "<<": 0, ">>": 0, "pow": 1}
_BOOL_BOTH: dict[str, bool] = {"&&": True, "&": True, "||": False, "|": False, "^": False}
_FLOAT_LEFT: dict[str, float] = {"+": -0.0, "*": 1.0}
_FLOAT_RIGHT: dict[str, float] = {**_FLOAT_LEFT, "-": 0.0, "/": 1.0, "pow": 1.0}

# Absorbing elements of integer and bool types: ``x op c == c`` and ``c op x == c`` (x removable).
_INT_ZERO: dict[str, int | None] = {"*": 0, "&": 0, "|": None}
_BOOL_ZERO: dict[str, bool] = {"&&": False, "&": False, "||": True, "|": True}


def value_of(e: n.Expr) -> Any:
    """The interpreter's value of literal ``e`` (a NumPy scalar of its type)."""
    return e.ty.numpy.type(e.arg)  # type: ignore[union-attr]


def literal(value: Any, ty: Scalar) -> n.Expr:
    """A typed literal of the NumPy scalar ``value``, which has type ``ty``."""
    return n.lit(value.item(), ty)


def _is(c: n.Expr, want: Any) -> bool:
    """Whether literal ``c`` is exactly ``want`` (``None``: all bits set; float zeros by sign)."""
    ty = c.ty
    assert isinstance(ty, Scalar)
    if want is None:
        want = -1 if ty.is_signed else (1 << ty.bits) - 1
    if ty.is_float:
        return c.arg == want and math.copysign(1.0, c.arg) == math.copysign(1.0, want)
    return c.arg == want


def _tables(ty: Scalar) -> tuple[dict, dict, dict]:
    """(left identities, right identities, absorbing elements) for operands of type ``ty``."""
    if ty.is_float:
        return _FLOAT_LEFT, _FLOAT_RIGHT, {}
    if ty.is_bool:
        return _BOOL_BOTH, _BOOL_BOTH, _BOOL_ZERO
    return _INT_LEFT, _INT_RIGHT, _INT_ZERO


@rules.rule(n.BINOP)
def fold_binop(e: n.Expr) -> n.Expr | None:
    """``a op b`` on literals: evaluate it (exact operations only)."""
    a, b = e.src
    ty = a.ty
    assert isinstance(ty, Scalar) and isinstance(e.ty, Scalar)
    if a.op != n.LIT or b.op != n.LIT or (ty.is_float and e.arg in LIBM_BINOPS):
        return None
    with np.errstate(all="ignore"):
        return literal(eval_binop(e.arg, value_of(a), value_of(b), ty), e.ty)


@rules.rule(n.BINOP)
def identity(e: n.Expr) -> n.Expr | None:
    """``x + 0 -> x``, ``1.0 * x -> x``, ``x && true -> x``... and ``x * 0 -> 0`` (the tables above)."""
    a, b = e.src
    ty = a.ty
    assert isinstance(ty, Scalar)
    left, right, zero = _tables(ty)
    if b.op == n.LIT and e.arg in right and _is(b, right[e.arg]):
        return a
    if a.op == n.LIT and e.arg in left and _is(a, left[e.arg]):
        return b
    if e.arg in zero:
        if b.op == n.LIT and _is(b, zero[e.arg]) and removable(a):
            return b
        if a.op == n.LIT and _is(a, zero[e.arg]) and removable(b):
            return a
    return None


@rules.rule(n.BINOP)
def float_power_of_two(e: n.Expr) -> n.Expr | None:
    """``x / c -> x * (1/c)`` for a power of two ``c`` whose reciprocal is finite and normal: both
    round the same real number once. ``pow(x, 2.0) -> x * x`` on ``f32`` only: the interpreter
    computes f32 ``pow`` in double precision, where the square is exact, and rounds once. (Not on
    ``f64``: glibc's ``pow(x, 2.0)`` is off by one ulp from ``x * x`` for about 1 in 1,300 inputs.)"""
    x, c = e.src
    ty = x.ty
    assert isinstance(ty, Scalar)
    if not ty.is_float or c.op != n.LIT:
        return None
    if e.arg == "/" and math.isfinite(c.arg) and c.arg != 0 and abs(math.frexp(c.arg)[0]) == 0.5:
        inv = 1.0 / c.arg  # a power of two: exact
        info = np.finfo(ty.numpy)
        if float(info.tiny) <= abs(inv) <= float(info.max):
            return n.binop("*", x, n.lit(inv, ty))
    if e.arg == "pow" and c.arg == 2.0 and ty.name == "f32":
        return _square(x)
    return None


def _square(x: n.Expr) -> n.Expr:
    """``x * x``, binding ``x`` to a name first unless it is a name or literal (evaluated once)."""
    if x.op in (n.IDENT, n.LIT):
        return n.binop("*", x, x)
    name = Fresh(x)("sq")
    t = n.ident(name, x.ty)
    return n.let(name, x, n.binop("*", t, t))


@rules.rule(n.UNOP)
def fold_unop(e: n.Expr) -> n.Expr | None:
    """``op c`` on a literal: evaluate it (``- ! abs sqrt floor ceil``); ``--x -> x``, ``!!x -> x``."""
    (a,) = e.src
    if a.op == n.LIT and e.arg in FOLD_UNOPS:
        assert isinstance(a.ty, Scalar)
        with np.errstate(all="ignore"):
            return literal(eval_unop(e.arg, value_of(a), a.ty), a.ty)
    if e.arg in ("-", "!") and a.op == n.UNOP and a.arg == e.arg:
        return a.src[0]
    return None


@rules.rule(n.CAST)
def fold_cast(e: n.Expr) -> n.Expr | None:
    """``T(c)`` on a literal: evaluate it; a cast to the value's own type is the value."""
    (a,) = e.src
    if a.ty == e.arg:
        return a
    if a.op == n.LIT:
        assert isinstance(a.ty, Scalar)
        with np.errstate(all="ignore"):
            return literal(eval_cast(value_of(a), a.ty, e.arg), e.arg)
    return None


@rules.rule(n.SELECT, n.IF)
def known_condition(e: n.Expr) -> n.Expr | None:
    """``if(true, a, b) -> a``; ``select`` evaluates both sides, so only when the other is removable."""
    c, t, f = e.src
    if c.op != n.LIT:
        return None
    chosen, dropped = (t, f) if c.arg else (f, t)
    if e.op == n.SELECT and not removable(dropped):
        return None
    return chosen


@rules.rule(n.GETFIELD)
def field_of_struct(e: n.Expr) -> n.Expr | None:
    """``{a, b}.$0 -> a`` when the other fields are removable (cannot fail, merge nothing outside)."""
    s = e.src[0]
    if s.op != n.STRUCT or not all(removable(f) for k, f in enumerate(s.src) if k != e.arg):
        return None
    return s.src[e.arg]


@rules.rule(n.LET, top_down=True)
def struct_let_fields(e: n.Expr) -> n.Expr | None:
    """``let x = {f0, f1}; body`` -> ``body[x.$k := fk]`` when ``body`` reads ``x`` only by field
    and every field is cheap and cannot fail (no loop, nothing removable only by evaluation): a
    field moved into a branch or a loop body then loses no error and costs no repeated loop. A
    field read several times is one shared node afterwards, which ``cse`` computes once. The walk
    visits only the parts of ``body`` that read ``x``, and gives up at a binder that would shadow
    ``x`` or capture a field's free name."""
    value, body = e.src
    if value.op != n.STRUCT or not all(removable(f) and not has_loop(f) for f in value.src):
        return None
    name = e.arg
    field_names = frozenset().union(*(free_vars(f) for f in value.src)) | {name}
    memo: dict[n.Expr, n.Expr] = {}

    def go(x: n.Expr) -> n.Expr:
        if name not in free_vars(x):
            return x
        done = memo.get(x)
        if done is not None:
            return done
        if x.op == n.GETFIELD and x.src[0].op == n.IDENT and x.src[0].arg == name:
            out = value.src[x.arg]
        elif x.op == n.IDENT:
            raise _WholeUse
        elif x.op == n.LET and x.arg in field_names:
            raise _WholeUse  # a binder that would shadow x or capture a field's name
        elif x.op == n.LAMBDA and any(p in field_names for p, _ in x.params):
            raise _WholeUse
        else:
            out = n.Expr(x.op, tuple([go(c) for c in x.src]), x.arg, x.ty)
        memo[x] = out
        return out

    try:
        return go(body)
    except _WholeUse:
        return None


class _WholeUse(Exception):
    """The struct is used as a whole somewhere."""


@rules.rule(n.LEN)
def len_of_vector(e: n.Expr) -> n.Expr | None:
    """``len([a, b, c]) -> 3L`` when the elements are removable."""
    v = e.src[0]
    if v.op != n.VECTOR or not all(removable(x) for x in v.src):
        return None
    return n.lit(len(v.src), I64)


@register("fold")
def run(program: n.Expr) -> n.Expr:
    """Fold operations on literals and apply exact algebraic identities (bit-exact, same errors)."""
    return rules.rewrite(program)
