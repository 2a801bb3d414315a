"""NumPy's scalar semantics written as IR: one builder per ufunc, and NumPy's casts.

Each entry of ``UFUNCS`` takes the operands as IR scalar expressions already cast to the ufunc's
loop dtype and returns the result in the output dtype, with NumPy's behaviour where the IR's
arithmetic differs from it: floor ``//`` and ``%`` (NumPy's ``divmod`` for floats, Python's
rounding for ints), ``sign`` of NaN and zeros, NaN-ignoring ``fmax``/``fmin``, ``hypot``. A ufunc
missing here (or a dtype the IR has no type for) runs eagerly on NumPy instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ...ir import nodes as n
from ...ir import types as T

E = n.Expr


def lit(value: float | int | bool, ty: T.Scalar) -> E:
    return n.lit(value, ty)


def _b(op: str) -> Callable[..., E]:
    return lambda ty, a, b: n.binop(op, a, b)


def _u(op: str) -> Callable[..., E]:
    return lambda ty, a: n.unop(op, a)


def _isnan(a: E) -> E:
    return n.binop("!=", a, a)


def _is_neg_signed(x: E, ty: T.Scalar) -> E:
    """``x`` has its sign bit set (floats: ``-0.0`` too, tested as ``1/x < 0``)."""
    zero = lit(0, ty)
    if not ty.is_float:
        return n.binop("<", x, zero)
    return n.binop(
        "||",
        n.binop("<", x, zero),
        n.binop("&&", n.binop("==", x, zero), n.binop("<", n.binop("/", lit(1.0, ty), x), zero)),
    )


def _signed_zero(neg: E, ty: T.Scalar) -> E:
    return n.select(neg, lit(-0.0, ty), lit(0.0, ty))


def _float_divmod(ty: T.Scalar, a: E, b: E) -> tuple[E, E]:
    """NumPy's ``npy_divmod`` for floats: ``(floor quotient, modulus)``."""
    zero = lit(0.0, ty)
    mod = n.binop("%", a, b)  # fmod
    b_zero = n.binop("==", b, zero)
    div = n.binop("/", n.binop("-", a, mod), b)
    adjust = n.binop("&&", n.binop("!=", mod, zero), n.binop("!=", n.binop("<", b, zero), n.binop("<", mod, zero)))
    mod2 = n.select(
        adjust, n.binop("+", mod, b), n.select(n.binop("==", mod, zero), _signed_zero(n.binop("<", b, zero), ty), mod)
    )
    div2 = n.select(adjust, n.binop("-", div, lit(1.0, ty)), div)
    fl = n.unop("floor", div2)
    fl2 = n.select(n.binop(">", n.binop("-", div2, fl), lit(0.5, ty)), n.binop("+", fl, lit(1.0, ty)), fl)
    q = n.binop("/", a, b)
    floordiv = n.select(n.binop("==", div2, zero), _signed_zero(_is_neg_signed(q, ty), ty), fl2)
    return n.select(b_zero, q, floordiv), n.select(b_zero, mod, mod2)


def floor_divide(ty: T.Scalar, a: E, b: E) -> E:
    if ty.is_float:
        return _float_divmod(ty, a, b)[0]
    if ty.is_bool:
        raise TypeError("floor_divide on bool")
    q = n.binop("/", a, b)
    if not ty.is_signed:
        return q
    r = n.binop("%", a, b)
    zero = lit(0, ty)
    adjust = n.binop("&&", n.binop("!=", r, zero), n.binop("!=", n.binop("<", r, zero), n.binop("<", b, zero)))
    return n.select(adjust, n.binop("-", q, lit(1, ty)), q)


def remainder(ty: T.Scalar, a: E, b: E) -> E:
    if ty.is_float:
        return _float_divmod(ty, a, b)[1]
    r = n.binop("%", a, b)
    if not ty.is_signed:
        return r
    zero = lit(0, ty)
    adjust = n.binop("&&", n.binop("!=", r, zero), n.binop("!=", n.binop("<", r, zero), n.binop("<", b, zero)))
    return n.select(adjust, n.binop("+", r, b), r)


def sign(ty: T.Scalar, a: E) -> E:
    zero, one = lit(0, ty), lit(1, ty)
    if not ty.is_signed:
        return n.select(n.binop(">", a, zero), one, zero)
    minus = lit(-1, ty)
    inner = n.select(n.binop("<", a, zero), minus, n.select(n.binop("==", a, zero), zero, a))
    return n.select(n.binop(">", a, zero), one, inner)


def _max(ty: T.Scalar, a: E, b: E) -> E:
    return n.binop("||", a, b) if ty.is_bool else n.binop("max", a, b)


def _min(ty: T.Scalar, a: E, b: E) -> E:
    return n.binop("&&", a, b) if ty.is_bool else n.binop("min", a, b)


def fmax(ty: T.Scalar, a: E, b: E) -> E:
    """NaN-ignoring; ties give the first operand (C's ``fmax``; ``np.maximum`` gives the second)."""
    if not ty.is_float:
        return _max(ty, a, b)
    return n.select(_isnan(b), a, n.select(n.binop(">=", a, b), a, b))


def fmin(ty: T.Scalar, a: E, b: E) -> E:
    if not ty.is_float:
        return _min(ty, a, b)
    return n.select(_isnan(b), a, n.select(n.binop("<=", a, b), a, b))


def hypot(ty: T.Scalar, a: E, b: E) -> E:
    """``m * sqrt(1 + (s/m)^2)`` with ``m = max(|a|, |b|)``: no overflow; inf wins over NaN."""
    x, y = n.unop("abs", a), n.unop("abs", b)
    m = n.binop("max", x, y)
    s = n.binop("min", x, y)
    zero, one, inf = lit(0.0, ty), lit(1.0, ty), lit(math.inf, ty)
    r = n.binop("/", s, m)
    val = n.binop("*", m, n.unop("sqrt", n.binop("+", one, n.binop("*", r, r))))
    val = n.select(n.binop("==", m, zero), zero, val)
    either_inf = n.binop("||", n.binop("==", x, inf), n.binop("==", y, inf))
    nan = n.binop("||", _isnan(x), _isnan(y))
    return n.select(either_inf, inf, n.select(nan, n.binop("+", x, y), val))


def _trunc(ty: T.Scalar, a: E) -> E:
    return n.select(n.binop("<", a, lit(0.0, ty)), n.unop("ceil", a), n.unop("floor", a))


def _logical(op: str) -> Callable[..., E]:
    return lambda ty, a, b: n.binop(op, n.cast(T.BOOL, a), n.cast(T.BOOL, b))


def _isinf(ty: T.Scalar, a: E) -> E:
    if not ty.is_float:
        return lit(False, T.BOOL)
    return n.binop("==", n.unop("abs", a), lit(math.inf, ty))


def _isfinite(ty: T.Scalar, a: E) -> E:
    if not ty.is_float:
        return lit(True, T.BOOL)
    return n.binop("<", n.unop("abs", a), lit(math.inf, ty))


def _isnan_u(ty: T.Scalar, a: E) -> E:
    return _isnan(a) if ty.is_float else lit(False, T.BOOL)


def _add(ty: T.Scalar, a: E, b: E) -> E:
    return n.binop("||", a, b) if ty.is_bool else n.binop("+", a, b)


def _mul(ty: T.Scalar, a: E, b: E) -> E:
    return n.binop("&&", a, b) if ty.is_bool else n.binop("*", a, b)


def _invert(ty: T.Scalar, a: E) -> E:
    return n.unop("!", a) if ty.is_bool else n.binop("^", a, lit(-1 if ty.is_signed else (1 << ty.bits) - 1, ty))


def _abs(ty: T.Scalar, a: E) -> E:
    return a if ty.is_bool or not ty.is_signed else n.unop("abs", a)


def _negative(ty: T.Scalar, a: E) -> E:
    if ty.is_signed:
        return n.unop("-", a)
    return n.binop("-", lit(0, ty), a)  # unsigned negation wraps


def _pow(ty: T.Scalar, a: E, b: E) -> E:
    if ty.is_bool:
        raise TypeError("power on bool")
    return n.binop("pow", a, b)


def _math(fn: str) -> Callable[..., E]:
    return lambda ty, a: n.unop(fn, a)


def _scale(num: float, den: float) -> Callable[..., E]:
    """``a * (num / den)`` with the factor computed in the operand's precision, as NumPy does
    (``180.0f / NPY_PIf`` for float32)."""

    def build(ty: T.Scalar, a: E) -> E:
        t = ty.numpy.type
        return n.binop("*", a, lit(float(t(num) / t(den)), ty))

    return build


def _square(ty: T.Scalar, a: E) -> E:
    return _mul(ty, a, a)


#: ufunc name -> (number of inputs, builder(loop scalar type, *operands)); floats-only entries are
#: only offered float loops by NumPy's type resolution.
UFUNCS: dict[str, tuple[int, Callable[..., E]]] = {
    "add": (2, _add),
    "subtract": (2, _b("-")),
    "multiply": (2, _mul),
    "true_divide": (2, _b("/")),
    "divide": (2, _b("/")),
    "floor_divide": (2, floor_divide),
    "remainder": (2, remainder),
    "mod": (2, remainder),
    "power": (2, _pow),
    "maximum": (2, _max),
    "minimum": (2, _min),
    "fmax": (2, fmax),
    "fmin": (2, fmin),
    "arctan2": (2, lambda ty, a, b: n.binop("atan2", a, b)),
    "hypot": (2, hypot),
    "equal": (2, _b("==")),
    "not_equal": (2, _b("!=")),
    "less": (2, _b("<")),
    "less_equal": (2, _b("<=")),
    "greater": (2, _b(">")),
    "greater_equal": (2, _b(">=")),
    "logical_and": (2, _logical("&&")),
    "logical_or": (2, _logical("||")),
    "logical_xor": (2, _logical("!=")),
    "bitwise_and": (2, _b("&")),
    "bitwise_or": (2, _b("|")),
    "bitwise_xor": (2, _b("^")),
    "left_shift": (2, _b("<<")),
    "right_shift": (2, _b(">>")),
    "negative": (1, _negative),
    "positive": (1, lambda ty, a: a),
    "absolute": (1, _abs),
    "fabs": (1, _abs),
    "sign": (1, sign),
    "invert": (1, _invert),
    "bitwise_not": (1, _invert),
    "logical_not": (1, lambda ty, a: n.unop("!", n.cast(T.BOOL, a))),
    "square": (1, _square),
    "sqrt": (1, _math("sqrt")),
    "exp": (1, _math("exp")),
    "expm1": (1, _math("expm1")),
    "log": (1, _math("log")),
    "log1p": (1, _math("log1p")),
    "sin": (1, _math("sin")),
    "cos": (1, _math("cos")),
    "tan": (1, _math("tan")),
    "arcsin": (1, _math("asin")),
    "arccos": (1, _math("acos")),
    "arctan": (1, _math("atan")),
    "sinh": (1, _math("sinh")),
    "cosh": (1, _math("cosh")),
    "tanh": (1, _math("tanh")),
    "erf": (1, _math("erf")),  # scipy.special.erf
    "floor": (1, lambda ty, a: n.unop("floor", a) if ty.is_float else a),
    "ceil": (1, lambda ty, a: n.unop("ceil", a) if ty.is_float else a),
    "trunc": (1, lambda ty, a: _trunc(ty, a) if ty.is_float else a),
    "isnan": (1, _isnan_u),
    "isinf": (1, _isinf),
    "isfinite": (1, _isfinite),
    "deg2rad": (1, _scale(math.pi, 180.0)),
    "radians": (1, _scale(math.pi, 180.0)),
    "rad2deg": (1, _scale(180.0, math.pi)),
    "degrees": (1, _scale(180.0, math.pi)),
    "conjugate": (1, lambda ty, a: a),
    "reciprocal": (1, lambda ty, a: n.binop("/", lit(1.0, ty), a)),
}

#: ufuncs written here for float operands only (the others run eagerly).
FLOAT_ONLY = frozenset({"reciprocal"})


COMPARISONS = {"equal": "==", "not_equal": "!=", "less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">="}


def mixed_compare(op: str, a: E, sa: T.Scalar, b: E, sb: T.Scalar) -> E:
    """``a op b`` for a signed and an unsigned integer (NumPy 2 compares their values): a
    negative signed operand decides the answer, otherwise both compare as the unsigned type."""
    if sa.is_signed:
        neg = n.binop("<", a, lit(0, sa))
        known = op in ("!=", "<", "<=")
        return n.select(neg, lit(known, T.BOOL), n.binop(op, n.cast(sb, a), b))
    neg = n.binop("<", b, lit(0, sb))
    known = op in ("!=", ">", ">=")
    return n.select(neg, lit(known, T.BOOL), n.binop(op, a, n.cast(sa, b)))


# --- casts ------------------------------------------------------------------------------------
def _int_range(ty: T.Scalar) -> tuple[int, int]:
    info = np.iinfo(ty.numpy)
    return int(info.min), int(info.max)


def _sat_cast(x: E, src: T.Scalar, dst: T.Scalar, sentinel: int) -> E:
    """``dst(x)`` for a float ``x`` when ``x`` truncates into ``dst``'s range, else ``sentinel``
    (x86's ``cvttsd2si`` answer for NaN and out-of-range values)."""
    lo, hi = _int_range(dst)
    ok = n.binop("&&", n.binop(">", x, lit(float(lo) - 1.0, src)), n.binop("<", x, lit(float(hi) + 1.0, src)))
    return n.select(ok, n.cast(dst, x), lit(sentinel, dst))


def cast(x: E, src: T.Scalar, dst: T.Scalar) -> E:
    """``x.astype(dst)`` with NumPy's result on this platform, for every source and target type.

    Float -> int conversions of NaN or of values outside the target's range are undefined in C;
    NumPy's loops on x86-64 give: int64/int32 the minimum (``cvttsd2si``); int8/int16/uint8/
    uint16 the low bits of the int32 conversion; uint32/uint64 the wrapped int64 conversion for
    values in (-2^(bits-1), 2^bits), 0 above and 2^(bits-1) below or for NaN.
    """
    if src == dst:
        return x
    if not (src.is_float and dst.is_int):
        return n.cast(dst, x)
    if dst.name == "i64":
        return _sat_cast(x, src, dst, -(1 << 63))
    if dst.name == "i32":
        return _sat_cast(x, src, dst, -(1 << 31))
    if dst.bits <= 16:
        return n.cast(dst, _sat_cast(x, src, T.I32, -(1 << 31)))
    # uint32 / uint64
    bits = dst.bits
    big = float(1 << bits)
    low = -float(1 << (bits - 1))
    half = lit(1 << (bits - 1), dst)
    in_signed = n.binop("&&", n.binop(">", x, lit(low - 1.0, src)), n.binop("<", x, lit(float(1 << 63), src)))
    wrapped = n.cast(dst, n.cast(T.I64, x))
    # values in [2^63, 2^64) fit uint64 directly
    direct = n.cast(dst, x)
    over = n.binop(">=", x, lit(big, src))
    value = n.select(
        in_signed,
        wrapped,
        n.select(n.binop("&&", n.binop("<", x, lit(big, src)), n.binop(">", x, lit(0.0, src))), direct, half),
    )
    return n.select(over, lit(0, dst), value)
