"""Compiled code equals the reference interpreter, construct by construct and type by type."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_same

import lazyir
from lazyir.backend.mathlib import LIBM_UNARY
from lazyir.ir import types as T

INTS = ["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64"]
FLOATS = ["f32", "f64"]
NUMERIC = INTS + FLOATS
TRANSCENDENTAL = list(LIBM_UNARY)


def special(ty: str, n: int = 64, seed: int = 0) -> np.ndarray:
    """Random values of ``ty`` with the type's extremes, zeros, ones and (floats) NaN, inf, -0.0."""
    rng = np.random.default_rng(seed)
    dt = T.SCALARS[ty].numpy
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(bool)
    if dt.kind == "f":
        base = rng.standard_normal(n) * rng.choice([1e-3, 1.0, 1e3, 1e30], n)
        extra = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, np.finfo(dt).max, np.finfo(dt).tiny, 0.5]
    else:
        info = np.iinfo(dt)
        base = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
        extra = [0, 1, info.max, info.min, 2, 3, 7]
        if info.min < 0:
            extra += [-1, -2, -7]
    out = np.concatenate([np.array(extra, dtype=dt), base.astype(dt)])
    return rng.permutation(out)


def check(text: str, *args, rtol: float = 0.0):
    program = lazyir.parse(text)
    want = lazyir.interpret(program, *args)
    got = lazyir.compile(program, cache=False)(*args)
    assert_same(got, want, rtol)
    return got


def map2(ty: str, out: str, expr: str) -> str:
    return (
        f"|a: vec[{ty}], b: vec[{ty}]| result(for(zip(a, b), appender[{out}], "
        f"|r, i, e| let x = e.$0; let y = e.$1; merge(r, {expr})))"
    )


ARITH = ["x + y", "x - y", "x * y", "x / y", "x % y", "min(x, y)", "max(x, y)"]


@pytest.mark.parametrize("ty", NUMERIC)
@pytest.mark.parametrize("expr", ARITH)
def test_arithmetic(ty, expr):
    a, b = special(ty), special(ty, seed=1)
    check(map2(ty, ty, expr), a, b)
    check(map2(ty, ty, expr), a, a)  # x op x: equal operands, zero divisors


@pytest.mark.parametrize("ty", NUMERIC + ["bool"])
@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_compare(ty, op):
    check(map2(ty, "bool", f"x {op} y"), special(ty), special(ty, seed=2))


@pytest.mark.parametrize("ty", INTS + ["bool"])
@pytest.mark.parametrize("op", ["&", "|", "^"])
def test_bitwise(ty, op):
    check(map2(ty, ty, f"x {op} y"), special(ty), special(ty, seed=3))


@pytest.mark.parametrize("ty", INTS)
@pytest.mark.parametrize("op", ["<<", ">>"])
def test_shifts(ty, op):
    a = special(ty)
    bits = T.SCALARS[ty].bits
    rng = np.random.default_rng(4)
    counts = rng.integers(0, bits + 3, len(a)).astype(a.dtype)
    check(map2(ty, ty, f"x {op} y"), a, counts)
    check(map2(ty, ty, f"x {op} y"), a, special(ty, seed=5))


@pytest.mark.parametrize("ty", INTS)
def test_integer_pow(ty):
    rng = np.random.default_rng(6)
    a = special(ty)
    e = rng.integers(-3, 70, len(a)).astype(np.int64).clip(np.iinfo(a.dtype).min, np.iinfo(a.dtype).max)
    check(map2(ty, ty, "pow(x, y)"), a, e.astype(a.dtype))


def test_logic():
    check(map2("bool", "bool", "x && y || !x"), special("bool"), special("bool", seed=7))


@pytest.mark.parametrize("ty", FLOATS)
@pytest.mark.parametrize("fn", TRANSCENDENTAL)
def test_math_functions(ty, fn):
    # libm and libmvec are not correctly rounded: a few ulps apart from the interpreter's libm.
    a = special(ty, n=200)
    check(
        f"|a: vec[{ty}]| result(for(a, appender[{ty}], |r, i, x| merge(r, {fn}(x))))",
        a,
        rtol=1e-6 if ty == "f32" else 1e-13,
    )


@pytest.mark.parametrize("ty", FLOATS)
@pytest.mark.parametrize("fn", ["sqrt", "floor", "ceil", "abs"])
def test_exact_math_functions(ty, fn):
    check(f"|a: vec[{ty}]| result(for(a, appender[{ty}], |r, i, x| merge(r, {fn}(x))))", special(ty))


@pytest.mark.parametrize("ty", FLOATS)
@pytest.mark.parametrize("fn", ["pow", "atan2"])
def test_binary_math(ty, fn):
    check(map2(ty, ty, f"{fn}(x, y)"), special(ty), special(ty, seed=8), rtol=1e-6 if ty == "f32" else 1e-13)


@pytest.mark.parametrize("ty", NUMERIC)
def test_unary(ty):
    a = special(ty)
    check(f"|a: vec[{ty}]| result(for(a, appender[{ty}], |r, i, x| merge(r, -(x))))", a)
    check(f"|a: vec[{ty}]| result(for(a, appender[{ty}], |r, i, x| merge(r, abs(x))))", a)


@pytest.mark.parametrize("src", NUMERIC + ["bool"])
@pytest.mark.parametrize("dst", NUMERIC + ["bool"])
def test_casts(src, dst):
    check(f"|a: vec[{src}]| result(for(a, appender[{dst}], |r, i, x| merge(r, {dst}(x))))", special(src))


@pytest.mark.parametrize("ty", NUMERIC)
@pytest.mark.parametrize("op", ["+", "*", "min", "max"])
def test_mergers(ty, op):
    a = special(ty)
    rtol = 1e-9 if ty == "f64" else 1e-4 if ty == "f32" else 0.0
    check(f"|a: vec[{ty}]| result(for(a, merger[{ty},{op}], |r, i, x| merge(r, x)))", a, rtol=rtol)
    check(f"|a: vec[{ty}]| result(for(a, merger[{ty},{op}], |r, i, x| merge(r, x)))", a[:0])
    check(f"|a: vec[{ty}]| result(for(a, merger[{ty},{op}], |r, i, x| merge(r, x)))", a[:1])


def test_merger_initial_value_and_struct():
    a = special("f64")
    a = a[np.isfinite(a)]
    check("|a: vec[f64]| result(for(a, merger[f64,+](100.0), |r, i, x| merge(r, x)))", a, rtol=1e-12)
    check("|a: vec[i64]| result(for(a, merger[{i64, i64},+], |r, i, x| merge(r, {x, 1L})))", special("i64"))


def test_filter_appender_and_struct_builder():
    a = special("f64", n=1000)
    check(
        "|a: vec[f64]| let r = for(a, {appender[f64], merger[i64,+], appender[i64]}, |b, i, x| "
        "if(x > 0.0, {merge(b.$0, x), merge(b.$1, 1L), merge(b.$2, i)}, {b.$0, b.$1, b.$2})); "
        "{result(r.$0), result(r.$1), result(r.$2)}",
        a,
    )


def test_appender_many_merges_and_hint():
    a = np.arange(5000, dtype=np.int32)
    check("|a: vec[i32]| result(for(a, appender[i32](3L), |b, i, x| merge(merge(b, x), x * 2)))", a)
    # nested loop: unbounded merges per iteration take the checked path
    check(
        "|a: vec[i32]| result(for(a, appender[i32], |b, i, x| for(rangeiter(0L, i64(x % 4), 1L), b, "
        "|b2, j, y| merge(b2, x + i32(y)))))",
        a,
    )


def test_appenders_with_room_reserved_for_a_loop():
    """Each way a loop fills an appender it reserved room for: one merge per iteration (written
    at the iteration's position), merges under an ``if`` (a running length), two per iteration,
    scanners; sized by the program (``len`` of the iterated vector: no grow check) or not."""
    a, b = special("f64", n=1001), special("f64", n=1001, seed=1)
    check(
        "|a: vec[f64], b: vec[f64]| result(for(zip(a, b), appender[f64](len(a)), |r, i, e| merge(r, e.$0 - e.$1)))",
        a,
        b,
    )
    check(
        "|a: vec[f64]| let r = for(a, {appender[f64](len(a)), appender[f64], appender[i64], scanner[f64,+]}, "
        "|r, i, x| {merge(r.$0, x * 2.0), if(x > 0.0, merge(r.$1, x), r.$1), merge(merge(r.$2, i), -i), merge(r.$3, 1.0)}); "
        "{result(r.$0), result(r.$1), result(r.$2), result(r.$3)}",
        a,
    )
    check("|a: vec[f64]| result(for(iter(a, 3L, 900L, 7L), appender[f64](len(a)), |r, i, x| merge(r, x + f64(i))))", a)
    # sized for another vector, or already holding elements: the room is checked
    check("|a: vec[f64], b: vec[f64]| result(for(a, appender[f64](len(b)), |r, i, x| merge(r, x)))", a, a[:10])
    check(
        "|a: vec[f64]| let r0 = merge(appender[f64](len(a)), 1.0); result(for(a, r0, |r, i, x| merge(r, x)))",
        a,
    )
    # nested loops: each inner loop reserves its own room
    check(
        "|a: vec[i64]| result(for(a, appender[i64], |r, i, x| for(rangeiter(0L, x % 5L, 1L), r, "
        "|r2, j, y| merge(r2, x + y))))",
        np.arange(300, dtype=np.int64),
    )
    program = lazyir.parse(
        "|a: vec[f64], b: vec[f64]| result(for(zip(a, b), appender[f64](len(a)), |r, i, e| merge(r, e.$0)))"
    )
    with pytest.raises(lazyir.IRRuntimeError, match="zip"):
        lazyir.compile(program, cache=False)(a, b[:7])


def test_merge_bounds_and_presized():
    from lazyir.backend.codegen import merge_bounds, presized
    from lazyir.ir import nodes as n

    loop = lazyir.parse(
        "|a: vec[f64]| for(a, {appender[f64](len(a)), appender[f64], appender[f64](len(a))}, |r, i, x| "
        "{merge(r.$0, x), if(x > 0.0, merge(r.$1, x), r.$1), merge(merge(r.$2, x), x)})"
    ).body
    iters, bexpr, func = n.for_parts(loop)
    counts, varying = merge_bounds(func.body, func.params[0][0])
    assert counts == {(0,): 1, (1,): 1, (2,): 2} and varying == {(1,)}
    assert presized(iters, bexpr) == {(0,), (2,)}


def test_loops_inlined_and_new_vectors_never_overlap():
    """Loop functions are inlined into the entry before optimization, and LLVM knows that two
    vectors the program allocates do not overlap (no runtime overlap check before the loop)."""
    text = (
        "|a: vec[f64], b: vec[f64]| let r = for(zip(a, b), {appender[f64](len(a)), appender[f64](len(a))}, "
        "|r, i, e| {merge(r.$0, e.$0 * e.$1), merge(r.$1, e.$0 + e.$1)}); {result(r.$0), result(r.$1)}"
    )
    fn = lazyir.compile(text, cache=False, keep_ir=True)
    assert "@lz_loop" not in fn.llvm_ir and "memcheck" not in fn.llvm_ir
    a, b = special("f64", n=37), special("f64", n=37, seed=1)
    assert_same(fn(a, b), lazyir.interpret(lazyir.parse(text), a, b), 0.0)


def test_iter_and_rangeiter():
    a = np.arange(100, dtype=np.float64)
    check("|a: vec[f64]| result(for(iter(a, 3L, 90L, 7L), appender[f64], |b, i, x| merge(b, x + f64(i))))", a)
    check("|n: i64| result(for(rangeiter(2L, n, 3L), merger[i64,+], |b, i, x| merge(b, x * i)))", np.int64(100))
    check("|n: i64| result(for(rangeiter(5L, n, 1L), merger[i64,+], |b, i, x| merge(b, x)))", np.int64(2))
    # trip counts near the ends of i64 do not overflow (huge strides, spans wider than i64)
    count = "|s: i64| result(for(rangeiter({}, {}, s), merger[i64,+], |b, i, x| merge(b, 1L)))"
    for stride in (1, 3, 10, 11, 2**62, 2**63 - 1):
        check(count.format("0L", "10L"), np.int64(stride))
    wide = count.format("-9223372036854775807L", "9223372036854775807L")
    for stride in (2**62, 2**63 - 1):
        check(wide, np.int64(stride))


def test_zip_and_nested_loop():
    a, b = np.arange(10, dtype=np.int64), np.arange(10, dtype=np.int64) * 3
    check(
        "|a: vec[i64], b: vec[i64]| result(for(zip(a, b), merger[i64,+], |s, i, e| "
        "for(b, s, |s2, j, y| merge(s2, e.$0 * y + e.$1))))",
        a,
        b,
    )


def test_lookup_slice_len_vector_literal():
    a = np.arange(20, dtype=np.int16)
    check(
        "|a: vec[i16]| {lookup(a, 3L), len(a), slice(a, 15L, 10L), slice(a, 2L, 3L), [a, slice(a, 1L, 2L)]}",
        a,
    )
    check("|a: vec[i16]| result(for(a, appender[i16], |b, i, x| merge(b, lookup(a, len(a) - 1L - i))))", a)


def test_vecmerger():
    a = special("i64", n=300)
    check(
        "|a: vec[i64], init: vec[i64]| result(for(a, vecmerger[i64,+](init), |b, i, x| "
        "merge(b, {(x % 7L + 7L) % 7L, x})))",
        a,
        np.arange(7, dtype=np.int64),
    )
    f = special("f64", n=300)
    check(
        "|a: vec[f64], init: vec[f64]| result(for(a, vecmerger[f64,max](init), |b, i, x| merge(b, {i % 5L, x})))",
        f,
        np.zeros(5),
    )


@pytest.mark.parametrize("op", ["+", "*", "min", "max"])
@pytest.mark.parametrize("kty", ["i64", "i32", "f64", "u8"])
def test_dictmerger(op, kty):
    with np.errstate(invalid="ignore"):
        k = special(kty, n=500) if kty != "f64" else np.round(special("f64", n=500)) % 13
    v = special("f64", n=len(k))
    v = v[: len(k)]
    text = (
        f"|k: vec[{kty}], v: vec[f64]| let d = result(for(zip(k, v), dictmerger[{kty},f64,{op}], "
        "|b, i, e| merge(b, e))); "
        f"{{tovec(d), keyexists(d, lookup(k, 0L)), optlookup(d, lookup(k, 1L)), lookup(d, lookup(k, 2L))}}"
    )
    check(text, k, v, rtol=1e-12)


def test_groupmerger_and_struct_keys():
    rng = np.random.default_rng(9)
    k1 = rng.integers(0, 5, 400).astype(np.int64)
    k2 = rng.integers(0, 3, 400).astype(np.int32)
    v = rng.standard_normal(400)
    check(
        "|a: vec[i64], b: vec[i32], v: vec[f64]| result(for(zip(a, b, v), groupmerger[{i64, i32}, f64], "
        "|g, i, e| merge(g, {{e.$0, e.$1}, e.$2})))",
        k1,
        k2,
        v,
    )
    check(
        "|a: vec[i64], b: vec[i32], v: vec[f64]| result(for(zip(a, b, v), dictmerger[{i64, i32}, {f64, i64}, +], "
        "|g, i, e| merge(g, {{e.$0, e.$1}, {e.$2, 1L}})))",
        k1,
        k2,
        v,
        rtol=1e-12,
    )


@pytest.mark.parametrize("ty", NUMERIC + ["bool"])
def test_sort(ty):
    a = special(ty, n=300)
    check(f"|a: vec[{ty}]| sort(a, |x| x)", a)
    if ty != "bool":
        check(f"|a: vec[{ty}]| sort(a, |x| {{x > x, x}})", a)


def test_select_if_let_struct_getfield():
    a = special("f64")
    check(
        "|a: vec[f64]| result(for(a, appender[{f64, bool}], |b, i, x| "
        "let s = {x, x > 0.0}; merge(b, {select(s.$1, x, -(x)), if(x == x, true, false)})))",
        a,
    )


def test_scalar_programs():
    check("|x: i32, y: f64| {x + 1, y * 2.0, f32(y), x / 0, x % 0}", np.int32(7), np.float64(1.5))
    check("|x: i64| let y = x * 2L; let z = y + x; {y, z}", np.int64(-5))


@pytest.mark.parametrize(
    "text, args, message",
    [
        ("|a: vec[i64]| lookup(a, 10L)", (np.arange(3),), "lookup"),
        ("|a: vec[i64]| slice(a, 5L, 1L)", (np.arange(3),), "slice"),
        (
            "|a: vec[i64], b: vec[i64]| result(for(zip(a, b), merger[i64,+], |s, i, e| merge(s, e.$0)))",
            (np.arange(3), np.arange(4)),
            "zip",
        ),
        (
            "|a: vec[i64]| result(for(iter(a, 0L, 9L, 1L), merger[i64,+], |s, i, e| merge(s, e)))",
            (np.arange(3),),
            "iter",
        ),
        (
            "|a: vec[i64]| let d = result(for(a, dictmerger[i64,i64,+], |b, i, x| merge(b, {x, x}))); lookup(d, -1L)",
            (np.arange(3),),
            "key",
        ),
        (
            "|a: vec[i64]| result(for(a, vecmerger[i64,+](a), |b, i, x| merge(b, {x + 5L, x})))",
            (np.arange(3),),
            "vecmerger",
        ),
    ],
)
def test_runtime_errors(text, args, message):
    program = lazyir.parse(text)
    with pytest.raises(lazyir.IRRuntimeError) as interpreted:
        lazyir.interpret(program, *args)
    with pytest.raises(lazyir.IRRuntimeError) as compiled:
        lazyir.compile(program, cache=False)(*args)
    assert message in str(interpreted.value).lower() and message in str(compiled.value).lower()


def test_argument_errors():
    fn = lazyir.compile("|a: vec[f64], n: i64| len(a) + n", cache=False)
    with pytest.raises(TypeError, match="2"):
        fn(np.zeros(3))
    with pytest.raises(TypeError, match="a"):
        fn(np.zeros(3, dtype=np.int32), 1)
    assert fn(np.zeros(3), 4) == 7


def test_zero_copy_inputs_and_outputs():
    a = np.arange(10.0)
    out = lazyir.compile("|a: vec[f64]| slice(a, 2L, 3L)", cache=False)(a)
    assert np.shares_memory(out, a)
    res = lazyir.compile("|a: vec[f64]| result(for(a, appender[f64], |b, i, x| merge(b, x)))", cache=False)(a)
    assert not np.shares_memory(res, a) and res.flags.owndata is False  # owned by lazyir's block
