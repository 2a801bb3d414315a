"""Tests of the reference interpreter (lazyir.ir.interpret) and of lazyir.ir.values.

Expected values are computed here with NumPy (array arithmetic wraps like the IR), Python ints or
by hand, never with the interpreter's own helpers. Programs are built with the node constructors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import lazyir
from lazyir import IRRuntimeError, IRTypeError
from lazyir.ir import nodes as n
from lazyir.ir import types as T
from lazyir.ir.interpret import interpret
from lazyir.ir.typecheck import typecheck
from lazyir.ir.values import Dictionary, check_args, numpy_dtype

pytestmark = pytest.mark.filterwarnings("error")  # NumPy warnings must not leak out

INTS = [T.I8, T.U8, T.I16, T.U16, T.I32, T.U32, T.I64, T.U64]
FLOATS = [T.F32, T.F64]
NUMERIC = INTS + FLOATS
ALL_SCALARS = [T.BOOL] + NUMERIC
RNG = np.random.default_rng(20240611)

V = n.ident
L64 = lambda v: n.lit(v, T.I64)  # noqa: E731


def fn(*names: str, body: n.Expr) -> n.Expr:
    """An inner lambda ``|names| body`` (parameter types are inferred)."""
    return n.lam([(x, None) for x in names], body)


def prog(params: list[tuple[str, T.Type]], body: n.Expr) -> n.Expr:
    return n.lam(params, body)


def zipmap(in_tys: list[T.Scalar], out_ty: T.Type, f) -> n.Expr:
    """``|a0: vec[T0], ...| result(for(zip(a0, ...), appender[out], |r, i, e| merge(r, f(...))))``."""
    names = [f"a{k}" for k in range(len(in_tys))]
    e = V("e")
    xs = [e] if len(in_tys) == 1 else [n.getfield(e, k) for k in range(len(in_tys))]
    loop = n.for_(
        [V(x) for x in names],
        n.new_builder(T.Appender(out_ty)),
        fn("r", "i", "e", body=n.merge(V("r"), f(*xs))),
    )
    return prog([(x, T.Vec(t)) for x, t in zip(names, in_tys, strict=True)], n.result(loop))


def reduce_prog(elem: T.Type, builder: n.Expr, value=lambda x: x) -> n.Expr:
    """``|a: vec[elem]| result(for(a, builder, |b, i, x| merge(b, value(x))))``."""
    loop = n.for_([V("a")], builder, fn("b", "i", "x", body=n.merge(V("b"), value(V("x")))))
    return prog([("a", T.Vec(elem))], n.result(loop))


def assert_identical(got, exp) -> None:
    """Same dtype and shape, equal values (NaN equal to NaN), same sign of zeros."""
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == exp.dtype and got.shape == exp.shape, (got.dtype, exp.dtype, got.shape, exp.shape)
    np.testing.assert_array_equal(got, exp)
    if exp.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(got), np.signbit(exp))


def assert_scalar(got, exp) -> None:
    """``got`` is a NumPy scalar of exactly ``exp``'s type with the same value (and sign, NaN)."""
    assert type(got) is type(exp), (type(got), type(exp))
    if isinstance(exp, np.floating):
        if np.isnan(exp):
            assert np.isnan(got)
            return
        assert np.signbit(got) == np.signbit(exp), (got, exp)
    assert got == exp, (got, exp)


def int_values(ty: T.Scalar) -> np.ndarray:
    info = np.iinfo(ty.numpy)
    edge = [0, 1, 2, 3, 5, 7, 8, 15, 16, 31, 32, 63, 64, 65, 100, 127, 128, 255, -1, -2, -3, -7, -100, -128]
    edge += [info.max, info.max - 1, info.min, info.min + 1, info.max // 2, info.min // 2]
    edge = sorted({v for v in edge if info.min <= v <= info.max})
    rand = RNG.integers(info.min, info.max, size=12, dtype=ty.numpy, endpoint=True)
    return np.concatenate([np.array(edge, dtype=ty.numpy), rand])


def float_values(ty: T.Scalar) -> np.ndarray:
    fi = np.finfo(ty.numpy)
    edge = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -2.5, 3.0, 7.0, -7.0, 1e10, -1e-10]
    edge += [float(fi.max), -float(fi.max), float(fi.tiny), float(fi.smallest_subnormal)]
    edge += [-float(fi.smallest_subnormal), math.inf, -math.inf, math.nan]
    rand = RNG.standard_normal(8) * 10.0 ** RNG.integers(-3, 4, 8)
    return np.concatenate([np.array(edge, dtype=ty.numpy), rand.astype(ty.numpy)])


def values_of(ty: T.Scalar) -> np.ndarray:
    if ty.is_bool:
        return np.array([False, True])
    return int_values(ty) if ty.is_int else float_values(ty)


def all_pairs(vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.meshgrid(vals, vals, indexing="ij")
    return a.ravel(), b.ravel()


# =============================================================================================
# Integer arithmetic


def _trunc_divmod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """C division with NumPy's floor division: fix up the quotient when signs differ."""
    with np.errstate(all="ignore"):
        safe = np.where(b == 0, 1, b).astype(a.dtype)
        q, r = a // safe, a % safe
        fix = (r != 0) & ((a < 0) != (safe < 0))
        q = np.where(fix, q + 1, q).astype(a.dtype)
        r = np.where(fix, r - safe, r).astype(a.dtype)
        zero = np.zeros_like(a)
        return np.where(b == 0, zero, q), np.where(b == 0, zero, r)


def _int_pow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        pos = np.power(a, np.where(b < 0, 0, b).astype(b.dtype))
        neg = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0)).astype(a.dtype)
        return np.where(b < 0, neg, pos).astype(a.dtype)


def _shift(op: str, a: np.ndarray, b: np.ndarray, ty: T.Scalar) -> np.ndarray:
    count = b.view(np.dtype(f"u{a.dtype.itemsize}")).astype(np.uint64)  # count taken as unsigned
    small = count < ty.bits
    c = np.where(small, count, 0).astype(a.dtype)
    if op == "<<":
        return np.where(small, np.left_shift(a, c), np.zeros_like(a)).astype(a.dtype)
    fill = np.where(a < 0, -1, 0).astype(a.dtype) if ty.is_signed else np.zeros_like(a)
    return np.where(small, np.right_shift(a, c), fill).astype(a.dtype)


def expected_int(op: str, a: np.ndarray, b: np.ndarray, ty: T.Scalar) -> np.ndarray:
    with np.errstate(all="ignore"):
        simple = {
            "+": np.add,
            "-": np.subtract,
            "*": np.multiply,
            "&": np.bitwise_and,
            "|": np.bitwise_or,
            "^": np.bitwise_xor,
            "min": np.minimum,
            "max": np.maximum,
        }
        if op in simple:
            return simple[op](a, b)
        if op in ("/", "%"):
            return _trunc_divmod(a, b)[0 if op == "/" else 1]
        if op == "pow":
            return _int_pow(a, b)
        return _shift(op, a, b, ty)


INT_OPS = ["+", "-", "*", "/", "%", "min", "max", "pow", "&", "|", "^", "<<", ">>"]


@pytest.mark.parametrize("ty", INTS, ids=str)
@pytest.mark.parametrize("op", INT_OPS)
def test_int_binops_match_numpy(op, ty):
    a, b = all_pairs(int_values(ty))
    got = interpret(zipmap([ty, ty], ty, lambda x, y: n.binop(op, x, y)), a, b)
    assert_identical(got, expected_int(op, a, b, ty))


@pytest.mark.parametrize("ty", NUMERIC + [T.BOOL], ids=str)
@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons(op, ty):
    a, b = all_pairs(values_of(ty))
    ufunc = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal}
    ufunc |= {">": np.greater, ">=": np.greater_equal}
    got = interpret(zipmap([ty, ty], T.BOOL, lambda x, y: n.binop(op, x, y)), a, b)
    assert_identical(got, ufunc[op](a, b))


@pytest.mark.parametrize(
    "ty, a, b, quotient, remainder",
    [
        (T.I32, 7, 2, 3, 1),
        (T.I32, -7, 2, -3, -1),
        (T.I32, 7, -2, -3, 1),
        (T.I32, -7, -2, 3, -1),
        (T.I32, 5, 0, 0, 0),
        (T.I32, -(2**31), -1, -(2**31), 0),
        (T.I64, -(2**63), -1, -(2**63), 0),
        (T.I8, -128, -1, -128, 0),
        (T.U8, 200, 7, 28, 4),
        (T.U64, 2**64 - 1, 0, 0, 0),
    ],
)
def test_int_division_by_hand(ty, a, b, quotient, remainder):
    p = prog([("a", ty), ("b", ty)], n.make_struct(n.binop("/", V("a"), V("b")), n.binop("%", V("a"), V("b"))))
    q, r = interpret(p, a, b)
    assert_scalar(q, ty.numpy.type(quotient))
    assert_scalar(r, ty.numpy.type(remainder))


@pytest.mark.parametrize(
    "ty, a, b, expected",
    [
        (T.I32, 2, 10, 1024),
        (T.I32, 2, 31, -(2**31)),  # wraps
        (T.I32, 2, 32, 0),
        (T.I32, 3, 0, 1),
        (T.I32, 0, 0, 1),
        (T.I32, 1, -5, 1),
        (T.I32, -1, -5, -1),
        (T.I32, -1, -4, 1),
        (T.I32, 2, -1, 0),
        (T.I32, 0, -1, 0),
        (T.I8, 3, 5, 243 - 256),
        (T.U8, 3, 5, 243),
        (T.I64, 3, 2**62, pow(3, 2**62, 2**64)),  # huge exponents are fine (mod 2**64)
    ],
)
def test_int_pow_by_hand(ty, a, b, expected):
    p = prog([("a", ty), ("b", ty)], n.binop("pow", V("a"), V("b")))
    exp = np.array([expected % 2**ty.bits], dtype=np.uint64).astype(ty.numpy)[0]
    assert_scalar(interpret(p, a, b), exp)


@pytest.mark.parametrize(
    "ty, op, a, b, expected",
    [
        (T.I32, "<<", 1, 31, -(2**31)),
        (T.I32, "<<", 1, 32, 0),
        (T.I32, "<<", 1, -1, 0),  # count taken as unsigned: huge
        (T.I32, ">>", -8, 1, -4),  # arithmetic
        (T.I32, ">>", -8, 40, -1),
        (T.I32, ">>", 8, 40, 0),
        (T.I32, ">>", -1, -1, -1),
        (T.U32, ">>", 2**32 - 8, 1, 2**31 - 4),  # logical
        (T.U32, ">>", 2**32 - 1, 32, 0),
        (T.U8, "<<", 255, 4, 240),
        (T.I8, "<<", 1, 7, -128),
        (T.I64, ">>", -(2**63), 63, -1),
    ],
)
def test_shifts_by_hand(ty, op, a, b, expected):
    p = prog([("a", ty), ("b", ty)], n.binop(op, V("a"), V("b")))
    assert_scalar(interpret(p, a, b), ty.numpy.type(expected))


@pytest.mark.parametrize("ty", INTS, ids=str)
def test_int_unops(ty):
    a = int_values(ty)
    with np.errstate(all="ignore"):
        neg = (np.zeros_like(a) - a).astype(ty.numpy)
        absolute = np.where(a < 0, neg, a).astype(ty.numpy)  # abs(MIN) == MIN
    assert_identical(interpret(zipmap([ty], ty, lambda x: n.unop("-", x)), a), neg)
    assert_identical(interpret(zipmap([ty], ty, lambda x: n.unop("abs", x)), a), absolute)


def test_wrapping_by_hand():
    p = prog([("a", T.I32), ("b", T.I32)], n.binop("+", V("a"), V("b")))
    assert_scalar(interpret(p, 2**31 - 1, 1), np.int32(-(2**31)))
    p = prog([("a", T.U8)], n.binop("-", V("a"), n.lit(1, T.U8)))
    assert_scalar(interpret(p, 0), np.uint8(255))
    p = prog([("a", T.I64)], n.binop("*", V("a"), V("a")))
    assert_scalar(interpret(p, 2**32), np.int64(0))
    p = prog([("a", T.I8)], n.unop("abs", V("a")))
    assert_scalar(interpret(p, -128), np.int8(-128))


# =============================================================================================
# Bool


def test_bool_ops():
    a, b = all_pairs(np.array([False, True]))
    for op, exp in [("&", a & b), ("|", a | b), ("^", a ^ b), ("&&", a & b), ("||", a | b)]:
        got = interpret(zipmap([T.BOOL, T.BOOL], T.BOOL, lambda x, y, op=op: n.binop(op, x, y)), a, b)
        assert_identical(got, exp)
    assert_identical(interpret(zipmap([T.BOOL], T.BOOL, lambda x: n.unop("!", x)), a), ~a)


def test_logical_operators_evaluate_both_sides():
    bad = n.binop(">", n.call("lookup", V("v"), L64(5)), L64(0))
    for op, left in [("&&", n.lit(False, T.BOOL)), ("||", n.lit(True, T.BOOL))]:
        p = prog([("v", T.Vec(T.I64))], n.binop(op, left, bad))
        with pytest.raises(IRRuntimeError):
            interpret(p, np.arange(3))
    # `if` is the lazy way to guard a lookup
    guarded = n.if_(n.binop("<", L64(5), n.call("len", V("v"))), bad, n.lit(False, T.BOOL))
    assert_scalar(interpret(prog([("v", T.Vec(T.I64))], guarded), np.arange(3)), np.bool_(False))


# =============================================================================================
# Float arithmetic


@pytest.mark.parametrize("ty", FLOATS, ids=str)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "%", "min", "max"])
def test_float_binops_match_numpy(op, ty):
    a, b = all_pairs(float_values(ty))
    with np.errstate(all="ignore"):
        exp = {
            "+": np.add,
            "-": np.subtract,
            "*": np.multiply,
            "/": np.divide,
            "%": np.fmod,
            "min": np.minimum,  # NaN propagates; ties (-0.0, 0.0) give the second operand
            "max": np.maximum,
        }[op](a, b)
    got = interpret(zipmap([ty, ty], ty, lambda x, y: n.binop(op, x, y)), a, b)
    assert_identical(got, exp.astype(ty.numpy))


def assert_ulp(got: np.ndarray, exp: np.ndarray, maxulp: int = 1) -> None:
    """Equal NaN positions and infinities; finite values within ``maxulp`` units in the last place."""
    assert got.dtype == exp.dtype
    nan = np.isnan(exp)
    np.testing.assert_array_equal(np.isnan(got), nan)
    g, e = got[~nan], exp[~nan]
    inf = np.isinf(e)
    np.testing.assert_array_equal(g[inf], e[inf])
    np.testing.assert_array_max_ulp(g[~inf], e[~inf], maxulp=maxulp)


@pytest.mark.parametrize("ty", FLOATS, ids=str)
@pytest.mark.parametrize("op, ufunc", [("pow", np.power), ("atan2", np.arctan2)])
def test_float_pow_atan2(op, ufunc, ty):
    a, b = all_pairs(float_values(ty))
    with np.errstate(all="ignore"):
        exp = ufunc(a.astype(np.float64), b.astype(np.float64)).astype(ty.numpy)  # double, rounded once
    got = interpret(zipmap([ty, ty], ty, lambda x, y: n.binop(op, x, y)), a, b)
    assert_ulp(got, exp)


UFUNCS = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "log1p": np.log1p,
    "expm1": np.expm1,
}


@pytest.mark.parametrize("ty", FLOATS, ids=str)
@pytest.mark.parametrize("op", sorted(UFUNCS))
def test_float_functions(op, ty):
    a = np.concatenate([float_values(ty), np.linspace(-1.2, 1.2, 25, dtype=ty.numpy)])
    with np.errstate(all="ignore"):
        exp = UFUNCS[op](a.astype(np.float64)).astype(ty.numpy)
    got = interpret(zipmap([ty], ty, lambda x: n.unop(op, x)), a)
    assert_ulp(got, exp, maxulp=2)  # NumPy's own (SIMD) functions are not libm's


@pytest.mark.parametrize("ty", FLOATS, ids=str)
@pytest.mark.parametrize("op, ufunc", [("floor", np.floor), ("ceil", np.ceil), ("abs", np.abs), ("-", np.negative)])
def test_exact_float_unops(op, ufunc, ty):
    a = float_values(ty)
    got = interpret(zipmap([ty], ty, lambda x: n.unop(op, x)), a)
    assert_identical(got, ufunc(a))


@pytest.mark.parametrize("ty", FLOATS, ids=str)
def test_erf(ty):
    special = pytest.importorskip("scipy.special")
    a = np.concatenate([float_values(ty), np.linspace(-4, 4, 41, dtype=ty.numpy)])
    got = interpret(zipmap([ty], ty, lambda x: n.unop("erf", x)), a)
    assert_ulp(got, special.erf(a.astype(np.float64)).astype(ty.numpy), maxulp=2)
    p = prog([("x", ty)], n.unop("erf", V("x")))
    for x, y in [(0.0, 0.0), (-0.0, -0.0), (math.inf, 1.0), (-math.inf, -1.0)]:
        assert_scalar(interpret(p, x), ty.numpy.type(y))
    assert np.isnan(interpret(p, math.nan))


@pytest.mark.parametrize(
    "op, args, expected",
    [
        ("log", (0.0,), -math.inf),
        ("log", (-0.0,), -math.inf),
        ("log", (-1.0,), math.nan),
        ("log", (math.inf,), math.inf),
        ("sqrt", (-1.0,), math.nan),
        ("sqrt", (-0.0,), -0.0),
        ("exp", (1000.0,), math.inf),
        ("exp", (-1000.0,), 0.0),
        ("exp", (-math.inf,), 0.0),
        ("log1p", (-1.0,), -math.inf),
        ("log1p", (-2.0,), math.nan),
        ("asin", (2.0,), math.nan),
        ("sin", (math.inf,), math.nan),
        ("sinh", (1000.0,), math.inf),
        ("sinh", (-1000.0,), -math.inf),
        ("cosh", (-1000.0,), math.inf),
        ("expm1", (1000.0,), math.inf),
        ("tanh", (math.inf,), 1.0),
        ("pow", (0.0, -1.0), math.inf),
        ("pow", (-0.0, -1.0), -math.inf),
        ("pow", (-8.0, 1.0 / 3.0), math.nan),
        ("pow", (1.0, math.nan), 1.0),
        ("pow", (math.nan, 0.0), 1.0),
        ("pow", (10.0, 400.0), math.inf),
        ("pow", (-2.0, 3.0), -8.0),
        ("atan2", (0.0, -0.0), math.pi),
        ("atan2", (-0.0, -0.0), -math.pi),
        ("atan2", (-0.0, 1.0), -0.0),
    ],
)
@pytest.mark.parametrize("ty", FLOATS, ids=str)
def test_float_special_values(op, args, expected, ty):
    names = ["x", "y"][: len(args)]
    body = n.unop(op, V("x")) if len(args) == 1 else n.binop(op, V("x"), V("y"))
    got = interpret(prog([(x, ty) for x in names], body), *args)
    assert_scalar(got, ty.numpy.type(expected))


def test_f32_arithmetic_rounds_at_f32():
    # The f32 sum of these is not the f64 sum rounded to f32... and nothing is computed in f64.
    p = prog([("a", T.F32), ("b", T.F32)], n.binop("+", V("a"), V("b")))
    a, b = np.float32(16777216.0), np.float32(1.0)
    assert_scalar(interpret(p, a, b), np.float32(16777216.0))
    p = prog([("a", T.F32)], n.unop("exp", V("a")))
    assert_scalar(interpret(p, np.float32(100.0)), np.float32(math.inf))  # finite in f64


def test_float_division_by_zero():
    p = prog(
        [("a", T.F64), ("b", T.F64)],
        n.make_struct(n.binop("/", V("a"), V("b")), n.binop("%", V("a"), V("b"))),
    )
    q, r = interpret(p, 1.0, 0.0)
    assert_scalar(q, np.float64(math.inf))
    assert np.isnan(r)
    q, r = interpret(p, -1.0, 0.0)
    assert_scalar(q, np.float64(-math.inf))
    q, _ = interpret(p, 1.0, -0.0)
    assert_scalar(q, np.float64(-math.inf))
    q, _ = interpret(p, 0.0, 0.0)
    assert np.isnan(q)
    _, r = interpret(p, -5.5, 2.0)
    assert_scalar(r, np.float64(-1.5))  # fmod: sign of the dividend


@pytest.mark.parametrize(
    "op, a, b, expected",
    [
        ("min", math.nan, 1.0, math.nan),
        ("min", 1.0, math.nan, math.nan),
        ("max", math.nan, 1.0, math.nan),
        ("max", 1.0, math.nan, math.nan),
        ("min", -0.0, 0.0, 0.0),  # equal values: the second, like np.minimum / np.maximum
        ("min", 0.0, -0.0, -0.0),
        ("max", -0.0, 0.0, 0.0),
        ("max", 0.0, -0.0, -0.0),
        ("min", -math.inf, 3.0, -math.inf),
        ("max", -math.inf, 3.0, 3.0),
    ],
)
def test_float_min_max_by_hand(op, a, b, expected):
    p = prog([("a", T.F64), ("b", T.F64)], n.binop(op, V("a"), V("b")))
    assert_scalar(interpret(p, a, b), np.float64(expected))


# =============================================================================================
# Casts


def cast_source_values(src: T.Scalar, dst: T.Scalar) -> np.ndarray:
    base = values_of(src)
    if not src.is_float or not dst.is_int:
        return base
    lo, hi = int(np.iinfo(dst.numpy).min), int(np.iinfo(dst.numpy).max)
    extra = [lo, hi, lo - 0.9, hi + 0.5, lo - 1e3, hi + 1e3, hi + 1.0, 0.9, -0.9, 1.9999, -1.9999]
    extra += [2.0**63, -(2.0**63), 2.0**64, 2.0**31, 2.0**32, 1e30, -1e30, 127.5, -128.5, 255.5]
    with np.errstate(all="ignore"):
        return np.concatenate([base, np.array(extra, dtype=np.float64).astype(src.numpy)])


def expected_cast(a: np.ndarray, src: T.Scalar, dst: T.Scalar) -> np.ndarray:
    if dst.is_bool:
        return a != 0
    if src.is_float and dst.is_int:  # truncate toward zero, saturate, NaN -> 0 (by hand)
        lo, hi = int(np.iinfo(dst.numpy).min), int(np.iinfo(dst.numpy).max)
        out = []
        for x in a.tolist():
            if math.isnan(x):
                out.append(0)
            elif math.isinf(x):
                out.append(hi if x > 0 else lo)
            else:
                out.append(min(max(math.trunc(x), lo), hi))
        return np.array(out, dtype=dst.numpy)
    with np.errstate(all="ignore"):
        return a.astype(dst.numpy)  # int wrap, correctly rounded int -> float, f64 -> f32


@pytest.mark.parametrize("dst", ALL_SCALARS, ids=str)
@pytest.mark.parametrize("src", ALL_SCALARS, ids=str)
def test_casts(src, dst):
    a = cast_source_values(src, dst)
    got = interpret(zipmap([src], dst, lambda x: n.cast(dst, x)), a)
    assert_identical(got, expected_cast(a, src, dst))


@pytest.mark.parametrize(
    "src, dst, value, expected",
    [
        (T.F64, T.I32, math.nan, 0),
        (T.F64, T.I32, 1e20, 2**31 - 1),
        (T.F64, T.I32, -1e20, -(2**31)),
        (T.F64, T.U8, -1.5, 0),
        (T.F64, T.U8, 255.9, 255),
        (T.F64, T.I64, 2.0**63, 2**63 - 1),
        (T.F64, T.U64, 2.0**64, 2**64 - 1),
        (T.F32, T.I8, -128.9, -128),
        (T.F64, T.BOOL, math.nan, True),
        (T.F64, T.BOOL, -0.0, False),
        (T.I32, T.I8, 300, 44),
        (T.I32, T.U8, -1, 255),
        (T.U64, T.F32, 2**64 - 1, 2.0**64),
        (T.I64, T.F32, 2**24 + 1, 2.0**24),  # ties to even
        (T.I64, T.F32, 2**24 + 3, 2.0**24 + 4),
        (T.I64, T.F64, 2**53 + 1, 2.0**53),
        (T.BOOL, T.F64, True, 1.0),
        (T.F64, T.F32, 1e300, math.inf),
    ],
)
def test_casts_by_hand(src, dst, value, expected):
    p = prog([("x", src)], n.cast(dst, V("x")))
    assert_scalar(interpret(p, src.numpy.type(value)), dst.numpy.type(expected))


def test_int_to_f32_rounds_once():
    # 2**60 + 2**36 + 1 lies just above the f32 midpoint 2**60 + 2**36; rounding to f64 first would
    # land exactly on the midpoint and then round to even (down).
    x = 2**60 + 2**36 + 1
    p = prog([("x", T.I64)], n.cast(T.F32, V("x")))
    assert_scalar(interpret(p, x), np.float32(2.0**60 + 2.0**37))
    assert np.array([x], dtype=np.int64).astype(np.float32)[0] == np.float32(2.0**60 + 2.0**37)


# =============================================================================================
# Literals, let, select/if, structs, vectors


@pytest.mark.parametrize("ty", ALL_SCALARS, ids=str)
def test_literals(ty):
    value = True if ty.is_bool else (-5 if ty.is_signed and ty.is_int else 5) if ty.is_int else 1.25
    assert_scalar(interpret(prog([], n.lit(value, ty))), ty.numpy.type(value))


def test_nan_literal_and_f32_literal():
    assert np.isnan(interpret(prog([], n.lit(math.nan, T.F32))))
    assert_scalar(interpret(prog([], n.lit(0.1, T.F32))), np.float32(0.1))


def test_let_shadowing():
    body = n.let("x", L64(1), n.binop("+", n.let("x", L64(10), V("x")), V("x")))
    assert_scalar(interpret(prog([], body)), np.int64(11))


def test_select_evaluates_both_if_only_one():
    bad = n.call("lookup", V("v"), L64(10))
    p = prog([("v", T.Vec(T.I64))], n.select(n.lit(True, T.BOOL), L64(1), bad))
    with pytest.raises(IRRuntimeError):
        interpret(p, np.arange(3))
    p = prog([("v", T.Vec(T.I64)), ("c", T.BOOL)], n.if_(V("c"), L64(1), bad))
    assert_scalar(interpret(p, np.arange(3), True), np.int64(1))
    with pytest.raises(IRRuntimeError):
        interpret(p, np.arange(3), False)


def test_structs_and_vectors():
    s = n.make_struct(L64(1), n.lit(2.5, T.F32), n.make_struct(n.lit(True, T.BOOL)))
    got = interpret(prog([], s))
    assert got == (1, 2.5, (True,))
    assert type(got[0]) is np.int64 and type(got[1]) is np.float32 and type(got[2][0]) is np.bool_
    assert_scalar(interpret(prog([], n.getfield(s, 1))), np.float32(2.5))
    assert_identical(interpret(prog([], n.vector(L64(3), L64(4)))), np.array([3, 4], dtype=np.int64))
    vs = n.vector(n.make_struct(L64(1), n.lit(1.5, T.F64)), n.make_struct(L64(2), n.lit(2.5, T.F64)))
    got = interpret(prog([], vs))
    assert got.dtype == numpy_dtype(T.Struct((T.I64, T.F64)))
    assert got.tolist() == [(1, 1.5), (2, 2.5)]
    vv = n.vector(n.vector(L64(1)), n.vector(L64(2), L64(3)))
    got = interpret(prog([], vv))
    assert isinstance(got, list) and [x.tolist() for x in got] == [[1], [2, 3]]
    assert all(x.dtype == np.int64 for x in got)


def test_struct_with_vector_fields_and_vec_of_such():
    elem = n.make_struct(L64(1), n.vector(n.lit(1.0, T.F64)))
    got = interpret(prog([], n.vector(elem, elem)))
    assert isinstance(got, list) and len(got) == 2
    assert got[0][0] == 1 and got[0][1].dtype == np.float64


# =============================================================================================
# Vectors: len, lookup, slice, sort


def test_len_and_lookup():
    p = prog(
        [("v", T.Vec(T.F32)), ("i", T.I64)],
        n.make_struct(n.call("len", V("v")), n.call("lookup", V("v"), V("i"))),
    )
    length, x = interpret(p, np.array([1.5, 2.5], dtype=np.float32), 1)
    assert_scalar(length, np.int64(2))
    assert_scalar(x, np.float32(2.5))
    for bad in (-1, 2, 100):
        with pytest.raises(IRRuntimeError, match="out of range"):
            interpret(p, np.array([1.5, 2.5], dtype=np.float32), bad)


@pytest.mark.parametrize(
    "start, size, expected",
    [(0, 3, [0, 1, 2]), (2, 2, [2, 3]), (3, 10, [3, 4]), (5, 0, []), (5, 3, []), (0, 0, []), (4, 1, [4])],
)
def test_slice(start, size, expected):
    p = prog([("v", T.Vec(T.I32)), ("s", T.I64), ("k", T.I64)], n.call("slice", V("v"), V("s"), V("k")))
    assert_identical(interpret(p, np.arange(5, dtype=np.int32), start, size), np.array(expected, dtype=np.int32))


@pytest.mark.parametrize("start, size", [(-1, 2), (6, 0), (0, -1), (2, -5)])
def test_slice_errors(start, size):
    p = prog([("v", T.Vec(T.I32)), ("s", T.I64), ("k", T.I64)], n.call("slice", V("v"), V("s"), V("k")))
    with pytest.raises(IRRuntimeError):
        interpret(p, np.arange(5, dtype=np.int32), start, size)


def test_sort_scalar_keys_nan_last_and_stable():
    a = np.array([3.0, math.nan, -1.0, 2.0, math.nan, -0.0, 0.0, -math.inf, 2.0], dtype=np.float64)
    p = prog([("v", T.Vec(T.F64))], n.call("sort", V("v"), fn("x", body=V("x"))))
    got = interpret(p, a)
    exp = np.sort(a, kind="stable")  # NumPy also sorts NaN last; -0.0 and 0.0 tie (stable)
    assert_identical(got, exp)
    # by a key: the elements' original order is kept among equal keys
    ints = np.array([5, 3, 8, 1, 4, 7, 6, 2], dtype=np.int32)
    p = prog([("v", T.Vec(T.I32))], n.call("sort", V("v"), fn("x", body=n.binop("%", V("x"), n.lit(3, T.I32)))))
    assert_identical(interpret(p, ints), ints[np.argsort(ints % 3, kind="stable")])


def test_sort_struct_keys_lexicographic():
    rec = np.array(
        [(2, 1.0), (1, math.nan), (1, 2.0), (2, -1.0), (1, 2.0), (1, -5.0), (0, math.nan)],
        dtype=numpy_dtype(T.Struct((T.I64, T.F64))),
    )
    elem = T.Struct((T.I64, T.F64))
    key = fn("x", body=n.make_struct(n.getfield(V("x"), 0), n.getfield(V("x"), 1)))
    got = interpret(prog([("v", T.Vec(elem))], n.call("sort", V("v"), key)), rec)
    order = np.lexsort((rec["f1"], rec["f0"]))  # NaN last within a group; lexsort is stable
    assert_identical(got["f0"], rec["f0"][order])
    assert_identical(got["f1"], rec["f1"][order])
    # descending by a negated key
    p = prog([("v", T.Vec(T.I64))], n.call("sort", V("v"), fn("x", body=n.unop("-", V("x")))))
    assert_identical(interpret(p, np.array([1, 3, 2])), np.array([3, 2, 1]))


def test_sort_of_empty_vector():
    p = prog([("v", T.Vec(T.U16))], n.call("sort", V("v"), fn("x", body=V("x"))))
    assert_identical(interpret(p, np.array([], dtype=np.uint16)), np.array([], dtype=np.uint16))


# =============================================================================================
# Loops and iterators


def collect(iters: list[n.Expr], params: list[tuple[str, T.Type]], value=lambda i, e: e, elem=T.I64):
    loop = n.for_(
        iters, n.new_builder(T.Appender(elem)), fn("b", "i", "e", body=n.merge(V("b"), value(V("i"), V("e"))))
    )
    return prog(params, n.result(loop))


def test_iter_with_stride_and_iteration_numbers():
    v = np.arange(100, 120, dtype=np.int64)
    it = n.iter_(V("v"), L64(3), L64(17), L64(4))
    p = collect([it], [("v", T.Vec(T.I64))])
    assert_identical(interpret(p, v), v[3:17:4])
    # i counts iterations from 0, it is not the index into v
    p = collect([it], [("v", T.Vec(T.I64))], value=lambda i, e: i)
    assert_identical(interpret(p, v), np.arange(len(v[3:17:4]), dtype=np.int64))


@pytest.mark.parametrize("start, end, stride", [(-1, 5, 1), (0, 21, 1), (5, 4, 1), (0, 5, 0), (0, 5, -1)])
def test_iter_errors(start, end, stride):
    it = n.iter_(V("v"), L64(start), L64(end), L64(stride))
    with pytest.raises(IRRuntimeError):
        interpret(collect([it], [("v", T.Vec(T.I64))]), np.arange(20))


@pytest.mark.parametrize(
    "start, end, stride",
    [(0, 10, 1), (3, 20, 7), (-5, 5, 2), (5, 5, 1), (7, 2, 1), (-(2**62), -(2**62) + 3, 1)],
)
def test_rangeiter(start, end, stride):
    p = collect([n.rangeiter(L64(start), L64(end), L64(stride))], [])
    assert_identical(interpret(p), np.array(range(start, end, stride), dtype=np.int64))


def test_rangeiter_bad_stride():
    with pytest.raises(IRRuntimeError):
        interpret(collect([n.rangeiter(L64(0), L64(5), L64(0))], []))


def test_zip_and_unequal_lengths():
    params = [("a", T.Vec(T.I64)), ("b", T.Vec(T.F64))]
    p = collect(
        [V("a"), V("b")],
        params,
        value=lambda i, e: n.binop("+", n.getfield(e, 0), n.cast(T.I64, n.getfield(e, 1))),
    )
    assert_identical(interpret(p, np.arange(4), np.full(4, 10.5)), np.arange(4) + 10)
    with pytest.raises(IRRuntimeError, match="unequal"):
        interpret(p, np.arange(4), np.full(5, 1.0))
    # zip with an iter and a rangeiter
    its = [n.iter_(V("a"), L64(0), L64(4), L64(2)), n.rangeiter(L64(10), L64(12), L64(1))]
    p = collect(its, [("a", T.Vec(T.I64))], value=lambda i, e: n.binop("*", n.getfield(e, 0), n.getfield(e, 1)))
    assert_identical(interpret(p, np.arange(4) + 1), np.array([1 * 10, 3 * 11]))


def test_nested_loops_merge_into_outer_builder():
    inner = n.for_([V("w")], V("b"), fn("c", "j", "y", body=n.merge(V("c"), n.binop("*", V("x"), V("y")))))
    outer = n.for_([V("v")], n.new_builder(T.Appender(T.I64)), fn("b", "i", "x", body=inner))
    p = prog([("v", T.Vec(T.I64)), ("w", T.Vec(T.I64))], n.result(outer))
    v, w = np.array([1, 2, 3]), np.array([10, 20])
    assert_identical(interpret(p, v, w), np.outer(v, w).ravel())


def test_builder_argument_is_an_expression():
    # the builder of a loop can itself be a merge or the result of another loop
    start = n.merge(n.merge(n.new_builder(T.Merger(T.I64, "+")), L64(100)), L64(1000))
    p = reduce_prog(T.I64, start)
    assert_scalar(interpret(p, np.arange(5)), np.int64(1110))
    first = n.for_([V("a")], n.new_builder(T.Appender(T.I64)), fn("b", "i", "x", body=n.merge(V("b"), V("x"))))
    second = n.for_([V("a")], first, fn("b", "i", "x", body=n.merge(V("b"), n.unop("-", V("x")))))
    got = interpret(prog([("a", T.Vec(T.I64))], n.result(second)), np.arange(3))
    assert_identical(got, np.array([0, 1, 2, 0, -1, -2]))


def test_fresh_builders_in_a_loop_body():
    # a builder constructed inside the body is a new one on every iteration
    inner = n.result(
        n.for_([V("w")], n.new_builder(T.Merger(T.I64, "+")), fn("c", "j", "y", body=n.merge(V("c"), V("y"))))
    )
    outer = n.for_(
        [V("v")],
        n.new_builder(T.Appender(T.I64)),
        fn("b", "i", "x", body=n.merge(V("b"), n.binop("+", inner, V("x")))),
    )
    p = prog([("v", T.Vec(T.I64)), ("w", T.Vec(T.I64))], n.result(outer))
    assert_identical(interpret(p, np.array([1, 2, 3]), np.array([10, 20])), np.array([31, 32, 33]))


def test_loop_over_empty_vector():
    p = reduce_prog(T.F64, n.new_builder(T.Appender(T.F64)))
    assert_identical(interpret(p, np.array([], dtype=np.float64)), np.array([], dtype=np.float64))


def test_if_choosing_builders():
    body = n.if_(n.binop(">", V("x"), L64(2)), n.merge(V("b"), V("x")), V("b"))
    loop = n.for_([V("a")], n.new_builder(T.Appender(T.I64)), fn("b", "i", "x", body=body))
    got = interpret(prog([("a", T.Vec(T.I64))], n.result(loop)), np.array([5, 1, 3, 2, 9]))
    assert_identical(got, np.array([5, 3, 9]))


# =============================================================================================
# Mergers


def expected_merger(op: str, a: np.ndarray, ty: T.Scalar) -> np.generic:
    """Sequential fold from the identity, computed with NumPy's accumulate (strictly in order)."""
    dt = ty.numpy
    if ty.is_float:
        ident = {"+": 0.0, "*": 1.0, "min": math.inf, "max": -math.inf}[op]
    else:
        info = np.iinfo(dt)
        ident = {"+": 0, "*": 1, "min": int(info.max), "max": int(info.min)}[op]
    seq = np.concatenate([np.array([ident], dtype=dt), a])
    with np.errstate(all="ignore"):
        if op in ("+", "*"):
            return (np.add if op == "+" else np.multiply).accumulate(seq, dtype=dt)[-1]
        # no NaN in the data: min/max of the sequence, the identity included
        return (np.min if op == "min" else np.max)(seq)


def merger_data(ty: T.Scalar, size: int) -> np.ndarray:
    if ty.is_float:
        return (RNG.standard_normal(size) * 3).astype(ty.numpy)
    info = np.iinfo(ty.numpy)
    return RNG.integers(info.min, info.max, size=size, dtype=ty.numpy, endpoint=True)


@pytest.mark.parametrize("size", [0, 1, 37])
@pytest.mark.parametrize("ty", NUMERIC, ids=str)
@pytest.mark.parametrize("op", ["+", "*", "min", "max"])
def test_merger(op, ty, size):
    a = merger_data(ty, size)
    got = interpret(reduce_prog(ty, n.new_builder(T.Merger(ty, op))), a)
    assert_scalar(got, expected_merger(op, a, ty))


@pytest.mark.parametrize("ty", NUMERIC, ids=str)
@pytest.mark.parametrize("op", ["+", "*", "min", "max"])
def test_merger_identity_on_empty_input(op, ty):
    got = interpret(reduce_prog(ty, n.new_builder(T.Merger(ty, op))), np.array([], dtype=ty.numpy))
    if ty.is_float:
        exp = {"+": 0.0, "*": 1.0, "min": math.inf, "max": -math.inf}[op]
    else:
        info = np.iinfo(ty.numpy)
        exp = {"+": 0, "*": 1, "min": info.max, "max": info.min}[op]
    assert_scalar(got, ty.numpy.type(exp))


@pytest.mark.parametrize("op", ["+", "*", "min", "max"])
def test_merger_with_initial_value(op):
    a = np.array([3, -2, 7], dtype=np.int32)
    init = n.lit(5, T.I32)
    got = interpret(reduce_prog(T.I32, n.new_builder(T.Merger(T.I32, op), init)), a)
    exp = {"+": 5 + 3 - 2 + 7, "*": 5 * 3 * -2 * 7, "min": -2, "max": 7}[op]
    assert_scalar(got, np.int32(exp))
    got = interpret(reduce_prog(T.I32, n.new_builder(T.Merger(T.I32, op), init)), a[:0])
    assert_scalar(got, np.int32(5))


def test_merger_initial_value_is_kept_as_is():
    p = reduce_prog(T.F64, n.new_builder(T.Merger(T.F64, "+"), n.lit(-0.0, T.F64)))
    assert_scalar(interpret(p, np.array([], dtype=np.float64)), np.float64(-0.0))
    # without an initial value the sum starts at +0.0, like np.sum
    p = reduce_prog(T.F64, n.new_builder(T.Merger(T.F64, "+")))
    assert_scalar(interpret(p, np.array([-0.0])), np.float64(0.0))


def test_float_merger_sums_sequentially():
    a = np.array([1e16, 1.0, -1e16, 1.0], dtype=np.float64)
    got = interpret(reduce_prog(T.F64, n.new_builder(T.Merger(T.F64, "+"))), a)
    assert_scalar(got, np.float64(((1e16 + 1.0) - 1e16) + 1.0))


@pytest.mark.parametrize("op", ["min", "max"])
def test_float_merger_nan(op):
    a = np.array([1.0, math.nan, -3.0], dtype=np.float32)
    got = interpret(reduce_prog(T.F32, n.new_builder(T.Merger(T.F32, op))), a)
    assert isinstance(got, np.float32) and np.isnan(got)
    a = np.array([0.0, -0.0], dtype=np.float64)  # equal: the merged value (second) wins, as in NumPy
    got = interpret(reduce_prog(T.F64, n.new_builder(T.Merger(T.F64, op))), a)
    assert_scalar(got, getattr(np, op)(a))


def test_struct_merger():
    elem = T.Struct((T.I64, T.F64))
    a = np.array([(1, 0.5), (2, 1.5), (-7, 2.0)], dtype=numpy_dtype(elem))
    for op, exp in [("+", (-4, 4.0)), ("*", (-14, 1.5)), ("min", (-7, 0.5)), ("max", (2, 2.0))]:
        got = interpret(reduce_prog(elem, n.new_builder(T.Merger(elem, op))), a)
        assert got == exp and type(got[0]) is np.int64 and type(got[1]) is np.float64


def test_appender():
    a = np.array([1.5, -2.0, 3.25], dtype=np.float32)
    p = reduce_prog(T.F32, n.new_builder(T.Appender(T.F32), L64(100)), value=lambda x: n.binop("*", x, x))
    assert_identical(interpret(p, a), a * a)
    elem = T.Struct((T.BOOL, T.I16))
    p = reduce_prog(
        T.I16,
        n.new_builder(T.Appender(elem)),
        value=lambda x: n.make_struct(n.binop(">", x, n.lit(0, T.I16)), x),
    )
    got = interpret(p, np.array([3, -1], dtype=np.int16))
    assert got.dtype == numpy_dtype(elem) and got.dtype.isalignedstruct
    assert got.tolist() == [(True, 3), (False, -1)]


@pytest.mark.parametrize("ty", NUMERIC, ids=str)
@pytest.mark.parametrize("op", ["+", "*", "min", "max"])
def test_vecmerger(op, ty):
    init = merger_data(ty, 5)
    idx = RNG.integers(0, 5, size=30)
    vals = merger_data(ty, 30)
    merged = n.make_struct(n.getfield(V("x"), 0), n.getfield(V("x"), 1))
    loop = n.for_(
        [V("ix"), V("xs")],
        n.new_builder(T.VecMerger(ty, op), V("init")),
        fn("b", "i", "x", body=n.merge(V("b"), merged)),
    )
    p = prog([("init", T.Vec(ty)), ("ix", T.Vec(T.I64)), ("xs", T.Vec(ty))], n.result(loop))
    got = interpret(p, init, idx, vals)
    exp = init.copy()
    ufunc = {"+": np.add, "*": np.multiply, "min": np.minimum, "max": np.maximum}[op]
    with np.errstate(all="ignore"):
        ufunc.at(exp, idx, vals)  # unbuffered, in order
    assert_identical(got, exp)


def test_vecmerger_index_out_of_range_and_init_not_modified():
    loop = n.for_(
        [V("ix")],
        n.new_builder(T.VecMerger(T.I64, "+"), V("init")),
        fn("b", "i", "x", body=n.merge(V("b"), n.make_struct(V("x"), L64(1)))),
    )
    p = prog([("init", T.Vec(T.I64)), ("ix", T.Vec(T.I64))], n.make_struct(n.result(loop), V("init")))
    out, init = interpret(p, np.zeros(3, dtype=np.int64), np.array([0, 2, 2]))
    assert_identical(out, np.array([1, 0, 2]))
    assert_identical(init, np.zeros(3, dtype=np.int64))
    for bad in (3, -1):
        with pytest.raises(IRRuntimeError):
            interpret(p, np.zeros(3, dtype=np.int64), np.array([0, bad]))


def dict_prog(key_ty: T.Type, val_ty: T.Type, builder: T.Builder, tail=lambda d: d) -> n.Expr:
    loop = n.for_([V("k"), V("v")], n.new_builder(builder), fn("b", "i", "e", body=n.merge(V("b"), V("e"))))
    return prog([("k", T.Vec(key_ty)), ("v", T.Vec(val_ty))], tail(n.result(loop)))


def first_order_keys(keys: np.ndarray) -> np.ndarray:
    _, first = np.unique(keys, return_index=True)
    return keys[np.sort(first)]


@pytest.mark.parametrize("ty", NUMERIC, ids=str)
@pytest.mark.parametrize("op", ["+", "*", "min", "max"])
def test_dictmerger(op, ty):
    keys = RNG.integers(-3, 4, size=40).astype(np.int32)
    vals = merger_data(ty, 40)
    got = interpret(dict_prog(T.I32, ty, T.DictMerger(T.I32, ty, op)), keys, vals)
    assert isinstance(got, Dictionary)
    order = first_order_keys(keys)
    assert_identical(got.keys, order)
    ufunc = {"+": np.add, "*": np.multiply, "min": np.minimum, "max": np.maximum}[op]
    with np.errstate(all="ignore"):  # each entry: the first value, then combined in merge order
        exp = np.array([ufunc.accumulate(vals[keys == k], dtype=ty.numpy)[-1] for k in order], dtype=ty.numpy)
    assert_identical(got.values, exp)


def test_dictmerger_first_value_is_stored_as_is():
    got = interpret(dict_prog(T.I64, T.F64, T.DictMerger(T.I64, T.F64, "+")), np.array([1]), np.array([-0.0]))
    assert_identical(got.values, np.array([-0.0]))


def test_dictmerger_float_keys_canonical():
    keys = np.array([0.0, -0.0, math.nan, 1.5, -math.nan, 0.0, np.float64("nan")], dtype=np.float64)
    vals = np.arange(7, dtype=np.int64)
    got = interpret(dict_prog(T.F64, T.I64, T.DictMerger(T.F64, T.I64, "+")), keys, vals)
    assert got.keys.tolist()[0] == 0.0 and not np.signbit(got.keys[0])
    assert np.isnan(got.keys[1]) and not np.signbit(got.keys[1]) and got.keys[2] == 1.5
    assert len(got) == 3
    assert_identical(got.values, np.array([0 + 1 + 5, 2 + 4 + 6, 3]))
    # -0.0 first: stored as 0.0
    got = interpret(
        dict_prog(T.F32, T.I64, T.DictMerger(T.F32, T.I64, "max")),
        np.array([-0.0], dtype=np.float32),
        np.array([4]),
    )
    assert not np.signbit(got.keys[0]) and got.keys.dtype == np.float32


def test_dictmerger_struct_keys_and_values():
    key, val = T.Struct((T.I32, T.F64)), T.Struct((T.I64, T.F32))
    keys = np.array([(1, 0.5), (2, -0.0), (1, 0.5), (2, 0.0)], dtype=numpy_dtype(key))
    vals = np.array([(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)], dtype=numpy_dtype(val))
    got = interpret(dict_prog(key, val, T.DictMerger(key, val, "+")), keys, vals)
    assert got.keys.dtype == numpy_dtype(key) and got.values.dtype == numpy_dtype(val)
    assert got.keys.tolist() == [(1, 0.5), (2, 0.0)] and not np.signbit(got.keys["f1"][1])
    assert got.values.tolist() == [(4, 4.0), (6, 6.0)]
    assert got.to_dict() == {(1, 0.5): got.values[0], (2, 0.0): got.values[1]}


def test_dictmerger_empty():
    got = interpret(
        dict_prog(T.I64, T.F64, T.DictMerger(T.I64, T.F64, "+")), np.array([], dtype=np.int64), np.array([])
    )
    assert_identical(got.keys, np.array([], dtype=np.int64))
    assert_identical(got.values, np.array([], dtype=np.float64))


def test_groupmerger():
    keys = np.array([3, 1, 3, 2, 1, 3], dtype=np.int64)
    vals = np.array([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], dtype=np.float32)
    got = interpret(dict_prog(T.I64, T.F32, T.GroupMerger(T.I64, T.F32)), keys, vals)
    assert_identical(got.keys, np.array([3, 1, 2]))
    assert isinstance(got.values, list)
    for k, group in zip(got.keys, got.values, strict=True):
        assert_identical(group, vals[keys == k])


def test_groupmerger_vector_keys():
    pairs = n.make_struct(n.vector(V("x"), n.binop("%", V("x"), L64(2))), V("i"))
    loop = n.for_(
        [V("a")],
        n.new_builder(T.GroupMerger(T.Vec(T.I64), T.I64)),
        fn("b", "i", "x", body=n.merge(V("b"), pairs)),
    )
    got = interpret(prog([("a", T.Vec(T.I64))], n.result(loop)), np.array([4, 5, 4]))
    assert [k.tolist() for k in got.keys] == [[4, 0], [5, 1]]
    assert [g.tolist() for g in got.values] == [[0, 2], [1]]
    assert list(got.to_dict()) == [(4, 0), (5, 1)]


def test_dict_operations():
    def tail(d):
        k = V("q")
        return n.let(
            "d",
            d,
            n.make_struct(
                n.call("tovec", V("d")),
                n.call("keyexists", V("d"), k),
                n.call("optlookup", V("d"), k),
                n.call("lookup", V("d"), n.lit(7, T.I32)),
            ),
        )

    loop = n.for_(
        [V("k"), V("v")],
        n.new_builder(T.DictMerger(T.I32, T.F64, "+")),
        fn("b", "i", "e", body=n.merge(V("b"), V("e"))),
    )
    p = prog([("k", T.Vec(T.I32)), ("v", T.Vec(T.F64)), ("q", T.I32)], tail(n.result(loop)))
    keys, vals = np.array([7, 2, 7], dtype=np.int32), np.array([1.0, 2.0, 3.0])
    tovec, exists, (found, value), looked_up = interpret(p, keys, vals, 2)
    assert tovec.dtype == numpy_dtype(T.Struct((T.I32, T.F64))) and tovec.tolist() == [(7, 4.0), (2, 2.0)]
    assert_scalar(exists, np.bool_(True))
    assert_scalar(found, np.bool_(True))
    assert_scalar(value, np.float64(2.0))
    assert_scalar(looked_up, np.float64(4.0))
    _, exists, (found, value), _ = interpret(p, keys, vals, 5)
    assert_scalar(exists, np.bool_(False))
    assert_scalar(found, np.bool_(False))
    assert_scalar(value, np.float64(0.0))
    with pytest.raises(IRRuntimeError, match="not in the dictionary"):
        interpret(p, keys[1:2], vals[1:2], 2)  # lookup of 7


def test_optlookup_of_groupmerger_missing_key_is_empty():
    loop = n.for_(
        [V("k"), V("v")],
        n.new_builder(T.GroupMerger(T.I64, T.I64)),
        fn("b", "i", "e", body=n.merge(V("b"), V("e"))),
    )
    p = prog([("k", T.Vec(T.I64)), ("v", T.Vec(T.I64))], n.call("optlookup", n.result(loop), L64(9)))
    found, group = interpret(p, np.array([1]), np.array([2]))
    assert_scalar(found, np.bool_(False))
    assert_identical(group, np.array([], dtype=np.int64))


def test_dict_argument():
    d = Dictionary(keys=np.array([1.5, -0.0, math.nan]), values=np.array([10, 20, 30], dtype=np.int64))
    p = prog([("d", T.Dict(T.F64, T.I64)), ("q", T.F64)], n.call("lookup", V("d"), V("q")))
    assert_scalar(interpret(p, d, 0.0), np.int64(20))
    assert_scalar(interpret(p, d, -0.0), np.int64(20))
    assert_scalar(interpret(p, d, -math.nan), np.int64(30))
    with pytest.raises(IRRuntimeError):
        interpret(p, d, 2.0)
    # a dict passed through comes back canonical
    got = interpret(prog([("d", T.Dict(T.F64, T.I64))], V("d")), d)
    assert not np.signbit(got.keys[1]) and got.values.tolist() == [10, 20, 30]


def test_struct_of_builders():
    bt = T.Struct((T.Appender(T.I64), T.Merger(T.F64, "max"), T.DictMerger(T.I64, T.I64, "+")))
    body = n.make_struct(
        n.merge(n.getfield(V("b"), 0), n.binop("*", V("x"), L64(2))),
        n.merge(n.getfield(V("b"), 1), n.cast(T.F64, V("x"))),
        n.merge(n.getfield(V("b"), 2), n.make_struct(n.binop("%", V("x"), L64(2)), V("x"))),
    )
    builders = n.make_struct(n.new_builder(bt.fields[0]), n.new_builder(bt.fields[1]), n.new_builder(bt.fields[2]))
    loop = n.for_([V("a")], builders, fn("b", "i", "x", body=body))
    app, mx, d = interpret(prog([("a", T.Vec(T.I64))], n.result(loop)), np.array([3, 4, 5]))
    assert_identical(app, np.array([6, 8, 10]))
    assert_scalar(mx, np.float64(5.0))
    assert d.to_dict() == {1: 8, 0: 4}


def test_bool_mergers_are_type_errors():
    with pytest.raises(IRTypeError):
        typecheck(reduce_prog(T.BOOL, n.new_builder(T.Merger(T.BOOL, "max"))))


# =============================================================================================
# Programs as a whole


def test_deep_let_chain():
    body = V("v1999")
    for k in reversed(range(2000)):
        value = L64(1) if k == 0 else n.binop("+", V(f"v{k - 1}"), L64(k))
        body = n.let(f"v{k}", value, body)
    p = prog([("x", T.I64)], n.binop("+", body, V("x")))
    assert_scalar(interpret(p, 5), np.int64(1 + sum(range(1, 2000)) + 5))  # untyped
    assert_scalar(interpret(typecheck(p), 5), np.int64(1 + sum(range(1, 2000)) + 5))


def test_deeply_nested_expression():
    e = V("x")
    for _ in range(5000):
        e = n.binop("+", e, L64(1))
    assert_scalar(interpret(prog([("x", T.I64)], e), 1), np.int64(5001))


def test_program_without_lambda_and_top_level_interpret():
    assert_scalar(lazyir.interpret(n.binop("*", L64(6), L64(7))), np.int64(42))


def test_program_text():
    pytest.importorskip("lazyir.ir.parser")
    got = interpret(
        "|a: vec[i32]| result(for(a, merger[i32,+], |b, i, x| merge(b, x * x)))", np.arange(4, dtype=np.int32)
    )
    assert_scalar(got, np.int32(14))


def test_arguments_are_not_modified():
    a = np.array([3.0, 1.0, 2.0])
    p = prog([("a", T.Vec(T.F64))], n.call("sort", V("a"), fn("x", body=V("x"))))
    interpret(p, a)
    assert a.tolist() == [3.0, 1.0, 2.0]


# =============================================================================================
# check_args and numpy_dtype


def typed(params):
    return typecheck(prog(params, L64(0)))


def test_check_args_count():
    p = typed([("a", T.Vec(T.F64)), ("n", T.I64)])
    with pytest.raises(TypeError, match=r"^program takes 2 arguments \(a: vec\[f64\], n: i64\), got 3$"):
        check_args(p, (np.zeros(2), 1, 2))
    with pytest.raises(TypeError, match=r"program takes 1 argument \(a: i32\), got 0"):
        check_args(typed([("a", T.I32)]), ())
    with pytest.raises(TypeError, match="program takes 0 arguments"):
        interpret(n.binop("+", L64(1), L64(1)), 5)


@pytest.mark.parametrize(
    "ty, value, message",
    [
        (
            T.Vec(T.F64),
            np.zeros(3, dtype=np.int32),
            "argument a: expected vec[f64], got numpy array of int32",
        ),
        (T.Vec(T.F64), np.zeros((2, 2)), "argument a: expected vec[f64], got 2-d numpy array of float64"),
        (T.Vec(T.F64), 1.5, "argument a: expected vec[f64], got Python float 1.5"),
        (T.I64, 1.5, "argument a: expected i64, got Python float 1.5"),
        (T.I64, True, "argument a: expected i64, got Python bool True"),
        (T.BOOL, 1, "argument a: expected bool, got Python int 1"),
        (T.F64, np.float32(1.0), "argument a: expected f64, got numpy float32 scalar"),
        (T.I32, np.int64(1), "argument a: expected i32, got numpy int64 scalar"),
        (T.I32, np.array(1, dtype=np.int64), "argument a: expected i32, got numpy int64 scalar"),
        (T.I32, "1", "argument a: expected i32, got str"),
        (T.Vec(T.I32), [1, 2.5], "argument a[1]: expected i32, got Python float 2.5"),
        (T.Struct((T.I64, T.F64)), (1,), "argument a: expected {i64, f64}, got tuple of length 1"),
        (T.Struct((T.I64, T.F64)), (1, "x"), "argument a.$1: expected f64, got str"),
        (
            T.Vec(T.Vec(T.F64)),
            np.zeros((2, 2)),
            "argument a: expected vec[vec[f64]], got 2-d numpy array of float64",
        ),
        (T.Dict(T.I64, T.I64), {1: 2}, "argument a: expected dict[i64,i64], got dict"),
        (T.Merger(T.I64, "+"), 1, "argument a: a program cannot take a merger[i64,+] argument"),
    ],
)
def test_check_args_type_errors(ty, value, message):
    with pytest.raises(TypeError) as info:
        check_args(typed([("a", ty)]), (value,))
    assert str(info.value) == message


def test_check_args_structured_dtype_mismatch():
    elem = T.Struct((T.I64, T.F64))
    wrong = np.zeros(2, dtype=[("x", "i8"), ("y", "f4")])
    with pytest.raises(TypeError, match=r"argument a: expected vec\[\{i64, f64\}\], got numpy array of"):
        check_args(typed([("a", T.Vec(elem))]), (wrong,))


@pytest.mark.parametrize(
    "ty, value",
    [
        (T.U8, 256),
        (T.U8, -1),
        (T.I8, 128),
        (T.I64, 2**63),
        (T.U64, -1),
        (T.U64, 2**64),
        (T.Vec(T.I16), [1, 2**15]),
    ],
)
def test_check_args_overflow(ty, value):
    with pytest.raises(OverflowError, match="out of the range"):
        check_args(typed([("a", ty)]), (value,))


def test_check_args_scalar_conversions():
    p = typed([("a", T.F32), ("b", T.F64), ("c", T.U64), ("d", T.BOOL), ("e", T.I8), ("f", T.F64)])
    a, b, c, d, e, f = check_args(p, (0.1, 3, 2**64 - 1, np.True_, np.array(-5, dtype=np.int8), np.float64(2.5)))
    assert_scalar(a, np.float32(0.1))
    assert_scalar(b, np.float64(3.0))
    assert_scalar(c, np.uint64(2**64 - 1))
    assert_scalar(d, np.bool_(True))
    assert_scalar(e, np.int8(-5))
    assert_scalar(f, np.float64(2.5))
    (x,) = check_args(typed([("x", T.F32)]), (2**60 + 2**36 + 1,))  # int -> f32 rounds once
    assert_scalar(x, np.float32(2.0**60 + 2.0**37))


def test_check_args_vectors():
    p = typed([("a", T.Vec(T.F64))])
    a = np.arange(10.0)
    (out,) = check_args(p, (a,))
    assert out is a  # contiguous: no copy
    (out,) = check_args(p, (a[::3],))
    assert out.flags.c_contiguous and out.tolist() == [0.0, 3.0, 6.0, 9.0]
    (out,) = check_args(p, ([1, 2.5],))
    assert_identical(out, np.array([1.0, 2.5]))
    (out,) = check_args(typed([("a", T.Vec(T.U8))]), ((),))
    assert_identical(out, np.array([], dtype=np.uint8))


def test_check_args_struct_vectors():
    elem = T.Struct((T.I8, T.F64))
    p = typed([("a", T.Vec(elem))])
    packed = np.array([(1, 2.0), (3, 4.0)], dtype=[("x", "i1"), ("y", "f8")])  # not aligned
    (out,) = check_args(p, (packed,))
    assert out.dtype == numpy_dtype(elem) and out.tolist() == [(1, 2.0), (3, 4.0)]
    (out,) = check_args(p, ([(1, 2.0), (3, 4)],))
    assert out.dtype == numpy_dtype(elem) and out.tolist() == [(1, 2.0), (3, 4.0)]
    aligned = np.zeros(4, dtype=numpy_dtype(elem))
    (out,) = check_args(p, (aligned,))
    assert out is aligned
    # nested structs and vec of vecs
    nested = T.Struct((T.I32, T.Struct((T.BOOL, T.F32))))
    (out,) = check_args(typed([("a", T.Vec(nested))]), ([(1, (True, 0.5))],))
    assert out.dtype == numpy_dtype(nested) and out.tolist() == [(1, (True, 0.5))]
    (out,) = check_args(typed([("a", T.Vec(T.Vec(T.I32)))]), ([np.arange(3, dtype=np.int32), [4, 5]],))
    assert [x.tolist() for x in out] == [[0, 1, 2], [4, 5]] and out[1].dtype == np.int32
    with pytest.raises(TypeError, match=r"argument a\[1\]: expected vec\[i32\], got numpy array of int64"):
        check_args(typed([("a", T.Vec(T.Vec(T.I32)))]), ([np.arange(3, dtype=np.int32), np.arange(2)],))


def test_check_args_structs_and_dicts():
    p = typed([("s", T.Struct((T.I64, T.Vec(T.F64))))])
    (s,) = check_args(p, ((1, [1.0, 2.0]),))
    assert_scalar(s[0], np.int64(1))
    assert_identical(s[1], np.array([1.0, 2.0]))
    p = typed([("d", T.Dict(T.F32, T.I64))])
    (d,) = check_args(p, (Dictionary(keys=np.array([-0.0, 1.0], dtype=np.float32), values=[1, 2]),))
    assert not np.signbit(d.keys[0]) and d.values.dtype == np.int64
    with pytest.raises(ValueError, match="duplicate key"):
        check_args(p, (Dictionary(keys=np.array([-0.0, 0.0], dtype=np.float32), values=[1, 2]),))
    with pytest.raises(TypeError, match="2 keys but 1 values"):
        check_args(p, (Dictionary(keys=np.array([1.0, 0.0], dtype=np.float32), values=[1]),))


def test_numpy_dtype_is_aligned_c_layout():
    dt = numpy_dtype(T.Struct((T.I8, T.F64)))
    assert dt.names == ("f0", "f1") and dt.itemsize == 16 and dt.fields["f1"][1] == 8
    dt = numpy_dtype(T.Struct((T.I8, T.Struct((T.I16, T.BOOL)), T.I32)))
    # {i8, {i16, bool}, i32}: inner struct at 2 (size 4), i32 at 8, total 12
    assert [dt.fields[f][1] for f in dt.names] == [0, 2, 8] and dt.itemsize == 12
    assert numpy_dtype(T.BOOL).itemsize == 1 and numpy_dtype(T.U16) == np.uint16
    with pytest.raises(TypeError):
        numpy_dtype(T.Vec(T.I64))
