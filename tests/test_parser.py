"""Tests of the IR parser: round trips with the printer, precedence, literals, positions, errors."""

from __future__ import annotations

import math
import random
import sys

import pytest

import lazyir
from lazyir.errors import IRSyntaxError, IRTypeError
from lazyir.ir import nodes as n
from lazyir.ir import parse, typecheck
from lazyir.ir.parser import MAX_DEPTH, MAX_TYPE_DEPTH, RESERVED, is_name, parse_with_positions
from lazyir.ir.parser import parse as parse_raw
from lazyir.ir.types import (
    BOOL,
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    SCALARS,
    U8,
    U16,
    U32,
    U64,
    Appender,
    Dict,
    DictMerger,
    GroupMerger,
    Merger,
    Struct,
    Vec,
    VecMerger,
)

# -- helpers ------------------------------------------------------------------------------------


def roundtrip(p: n.Expr) -> n.Expr:
    """Type-check ``p``, print it, parse it back: the very same node, and stable text."""
    typed = typecheck(p)
    text = str(typed)
    back = parse(text)
    assert back is typed, f"{text!r} parsed back as {str(back)!r}"
    assert str(back) == text
    return typed


def stable(text: str) -> n.Expr:
    """Parse, print, parse: the same node, and printing is a fixed point."""
    p = parse(text)
    printed = str(p)
    again = parse(printed)
    assert again is p, f"{printed!r} parsed back as {str(again)!r}"
    assert str(again) == printed
    return p


def I(name: str) -> n.Expr:  # noqa: E743 - a short name for identifiers in expected trees
    return n.ident(name)


def L(value, ty=I32) -> n.Expr:
    return n.lit(value, ty)


def lam3(body_fn, b="b", i="i", x="x"):
    return n.lam([(b, None), (i, None), (x, None)], body_fn(I(b), I(i), I(x)))


# -- hand-written programs (Weld documentation style) --------------------------------------------

PROGRAMS = {
    "appender": "|v: vec[i32]| result(for(v, appender[i32], |b, i, x| merge(b, x * 2)))",
    "merger_sum": "|v: vec[f64]| result(for(v, merger[f64,+], |b, i, x| merge(b, x)))",
    "merger_init": "|v: vec[f64]| result(for(v, merger[f64,*](2.0), |b, i, x| merge(b, x)))",
    "merger_min_max": (
        "|v: vec[i64]| {result(for(v, merger[i64,min], |b, i, x| merge(b, x))),"
        " result(for(v, merger[i64,max], |b, i, x| merge(b, x)))}"
    ),
    "zip_norm": (
        "|a: vec[f64], b: vec[f64]|\n"
        "  result(for(zip(a, b), merger[f64,+], |s, i, e| merge(s, sqrt(e.$0 * e.$0 + e.$1 * e.$1))))"
    ),
    "zip3": (
        "|a: vec[f64], b: vec[i64]|\n"
        "  result(for(zip(a, iter(b, 0L, len(b), 1L), rangeiter(0L, len(a), 1L)),\n"
        "    appender[{f64, i64, i64}],\n"
        "    |o, i, e| merge(o, {e.$0, e.$1, e.$2 + i})))"
    ),
    "iter": "|v: vec[i64]| result(for(iter(v, 1L, len(v), 2L), appender[i64], |b, i, x| merge(b, x)))",
    "rangeiter": "|n: i64| result(for(rangeiter(0L, n, 1L), merger[i64,+], |b, i, x| merge(b, x * x)))",
    "appender_hint": "|v: vec[f64]| result(for(v, appender[f64](len(v)), |b, i, x| merge(b, -(x))))",
    "composite": (
        "|v: vec[f64]|\n"
        "  let r = result(for(v, {merger[f64,+], merger[f64,max], appender[f64]},\n"
        "    |b, i, x| {merge(b.$0, x), merge(b.$1, x), merge(b.$2, x * x)}));\n"
        "  {r.$0, r.$1, len(r.$2)}"
    ),
    "nested_loops": (
        "|a: vec[f64], b: vec[f64]|\n"
        "  result(for(a, appender[f64], |o, i, x|\n"
        "    merge(o, result(for(b, merger[f64,+], |s, j, y| merge(s, x * y))))))"
    ),
    "dictmerger_lookup": (
        "|k: vec[i64], v: vec[f64]|\n"
        "  let d = result(for(zip(k, v), dictmerger[i64,f64,+], |b, i, e| merge(b, e)));\n"
        "  {lookup(d, 1L), keyexists(d, 2L), optlookup(d, 3L), len(tovec(d))}"
    ),
    "dictmerger_hint": (
        "|k: vec[i64], v: vec[f64]|\n  result(for(zip(k, v), dictmerger[i64,f64,min](16L), |b, i, e| merge(b, e)))"
    ),
    "dict_struct_key": (
        "|k: vec[{i32, bool}], v: vec[{f64, i64}]|\n"
        "  result(for(zip(k, v), dictmerger[{i32, bool},{f64, i64},*], |b, i, e| merge(b, e)))"
    ),
    "groupmerger": (
        "|k: vec[i64], v: vec[f64]|\n"
        "  tovec(result(for(zip(k, v), groupmerger[i64,f64](len(k)), |b, i, e| merge(b, e))))"
    ),
    "groupmerger_plain": (
        "|k: vec[i64], v: vec[f64]| result(for(zip(k, v), groupmerger[i64,f64], |b, i, e| merge(b, e)))"
    ),
    "sort_key": "|v: vec[{i64, f64}]| sort(v, |x| {-(x.$1), x.$0})",
    "sort_scalar": "|v: vec[f64]| slice(sort(v, |x| abs(x)), 1L, 3L)",
    "vecmerger": ("|v: vec[f64], idx: vec[i64]| result(for(idx, vecmerger[f64,+](v), |b, i, j| merge(b, {j, 1.0})))"),
    "vecmerger_max": (
        "|v: vec[i32], idx: vec[i64]| result(for(zip(idx, v), vecmerger[i32,max](v), |b, i, e| merge(b, e)))"
    ),
    "typed_loop_params": (
        "|v: vec[f64]| result(for(v, appender[f64], |b: appender[f64], i: i64, x: f64| merge(b, x + 1.0)))"
    ),
    "if_select": "|a: f64, c: bool| if(c, select(a > 0.0, a, -(a)), 0.0)",
    "if_builders": ("|v: vec[f64], c: bool| result(for(v, merger[f64,+], |b, i, x| if(c, merge(b, x), b)))"),
    "vector_literal": "|a: i64| lookup([a, 2L, -3L], 1L) + len([1.5, 2.5])",
    "casts": ("|a: f64| {i8(a), u8(a), i16(a), u16(a), i32(a), u32(a), i64(a), u64(a), f32(a), f64(a), bool(a)}"),
    "math": (
        "|x: f64| {exp(x), log(x), sqrt(x), sin(x), cos(x), tan(x), asin(x), acos(x), atan(x), sinh(x),"
        " cosh(x), tanh(x), erf(x), log1p(x), expm1(x), floor(x), ceil(x), abs(x), -(x),"
        " min(x, 1.0), max(x, 2.0), pow(x, 3.0), atan2(x, 4.0)}"
    ),
    "let_chain": "|x: i64|\n  let y = x + 1L;\n  let z = y * y;\n  let w = -5L;\n  z - w",
    "let_in_value": "|x: i64| let y = let z = x * 2L; z + 1L; y - x",
    "empty_struct": "|x: i64| {{}, x}",
    "struct_param": "|a: {i64, {f32, bool}}| select(a.$1.$1, a.$1.$0, -1.5f)",
    "dict_param": "|d: dict[i64,vec[f64]], k: i64| if(keyexists(d, k), len(lookup(d, k)), 0L)",
    "vec_of_vec": "|v: vec[vec[u8]]| result(for(v, appender[i64], |b, i, x| merge(b, len(x))))",
    "no_params": "|| 1.0 + 2.0",
    "comments": (
        "# a program with comments\n"
        "|x: i64|  # the parameter\n"
        "  let y = x * 3L;  # triple it\n"
        "  y + 1L  # and add one\n"
        "# trailing comment"
    ),
    "contextual_names": "|len: i64, f64: i64, merger: i64, zip: i64| len + f64 * merger - zip",
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_round_trip(name):
    p = stable(PROGRAMS[name])
    assert p.ty is not None
    assert lazyir.parse(PROGRAMS[name]) is p


def test_program_matches_constructors():
    text = PROGRAMS["zip_norm"]
    a, b = I("a"), I("b")
    e = n.lam(
        [("a", Vec(F64)), ("b", Vec(F64))],
        n.result(
            n.for_(
                [a, b],
                n.new_builder(Merger(F64, "+")),
                n.lam(
                    [("s", None), ("i", None), ("e", None)],
                    n.merge(
                        I("s"),
                        n.unop(
                            "sqrt",
                            n.binop(
                                "+",
                                n.binop("*", n.getfield(I("e"), 0), n.getfield(I("e"), 0)),
                                n.binop("*", n.getfield(I("e"), 1), n.getfield(I("e"), 1)),
                            ),
                        ),
                    ),
                ),
            )
        ),
    )
    assert parse_raw(text) is e
    assert parse(text) is typecheck(e)


def test_composite_matches_constructors():
    text = PROGRAMS["composite"]
    v, r, b, x = I("v"), I("r"), I("b"), I("x")
    builder = n.make_struct(
        n.new_builder(Merger(F64, "+")), n.new_builder(Merger(F64, "max")), n.new_builder(Appender(F64))
    )
    body = n.make_struct(
        n.merge(n.getfield(b, 0), x),
        n.merge(n.getfield(b, 1), x),
        n.merge(n.getfield(b, 2), n.binop("*", x, x)),
    )
    loop = n.result(n.for_([v], builder, n.lam([("b", None), ("i", None), ("x", None)], body)))
    e = n.lam(
        [("v", Vec(F64))],
        n.let("r", loop, n.make_struct(n.getfield(r, 0), n.getfield(r, 1), n.call("len", n.getfield(r, 2)))),
    )
    assert parse_raw(text) is e


# -- constructor-built programs ----------------------------------------------------------------


def _constructed_programs():
    v, w, k = I("v"), I("w"), I("k")
    zero, one = L(0, I64), L(1, I64)
    yield (
        "sum",
        n.lam(
            [("v", Vec(F64))],
            n.result(n.for_([v], n.new_builder(Merger(F64, "+")), lam3(lambda b, i, x: n.merge(b, x)))),
        ),
    )
    yield (
        "map",
        n.lam(
            [("v", Vec(I32))],
            n.result(
                n.for_(
                    [v],
                    n.new_builder(Appender(F64)),
                    lam3(lambda b, i, x: n.merge(b, n.binop("/", n.cast(F64, x), L(-2.5, F64)))),
                )
            ),
        ),
    )
    yield (
        "filter",
        n.lam(
            [("v", Vec(F64))],
            n.result(
                n.for_(
                    [v],
                    n.new_builder(Appender(F64)),
                    lam3(lambda b, i, x: n.if_(n.binop(">", x, L(0.0, F64)), n.merge(b, x), b)),
                )
            ),
        ),
    )
    yield (
        "zip_iter_range",
        n.lam(
            [("v", Vec(F64)), ("w", Vec(F64))],
            n.result(
                n.for_(
                    [n.iter_(v, zero, n.call("len", v), one), w, n.rangeiter(zero, n.call("len", w), one)],
                    n.new_builder(Merger(F64, "+")),
                    lam3(
                        lambda b, i, e: n.merge(
                            b,
                            n.binop(
                                "*",
                                n.binop("-", n.getfield(e, 0), n.getfield(e, 1)),
                                n.cast(F64, n.getfield(e, 2)),
                            ),
                        )
                    ),
                )
            ),
        ),
    )
    yield (
        "groupby",
        n.lam(
            [("k", Vec(I64)), ("v", Vec(F64))],
            n.call(
                "tovec",
                n.result(
                    n.for_(
                        [k, v],
                        n.new_builder(DictMerger(I64, F64, "+"), L(8, I64)),
                        lam3(lambda b, i, e: n.merge(b, n.make_struct(n.getfield(e, 0), n.getfield(e, 1)))),
                    )
                ),
            ),
        ),
    )
    yield (
        "group",
        n.lam(
            [("k", Vec(I64)), ("v", Vec(F64))],
            n.result(
                n.for_([k, v], n.new_builder(GroupMerger(I64, F64)), lam3(lambda b, i, e: n.merge(b, e))),
            ),
        ),
    )
    yield (
        "vecmerger",
        n.lam(
            [("v", Vec(F32)), ("k", Vec(I64))],
            n.result(
                n.for_(
                    [k],
                    n.new_builder(VecMerger(F32, "*"), v),
                    lam3(lambda b, i, x: n.merge(b, n.make_struct(x, L(0.5, F32)))),
                )
            ),
        ),
    )
    yield (
        "sort",
        n.lam(
            [("v", Vec(Struct((I64, F64))))],
            n.call(
                "sort",
                v,
                n.lam([("x", None)], n.make_struct(n.unop("-", n.getfield(I("x"), 1)), n.getfield(I("x"), 0))),
            ),
        ),
    )
    yield (
        "lets",
        n.lam(
            [("v", Vec(F64))],
            n.let(
                "s",
                n.call("slice", v, one, L(2, I64)),
                n.let(
                    "t",
                    n.call("lookup", I("s"), zero),
                    n.let("u", n.unop("-", I("t")), n.binop("+", I("u"), I("t"))),
                ),
            ),
        ),
    )
    yield (
        "nested_let_value",
        n.lam(
            [("x", I64)],
            n.let("y", n.let("z", n.binop("*", I("x"), L(-3, I64)), I("z")), n.binop("-", I("y"), I("x"))),
        ),
    )
    yield (
        "dict_lookups",
        n.lam(
            [("d", Dict(I64, F64)), ("k", I64)],
            n.make_struct(
                n.call("lookup", I("d"), k),
                n.call("keyexists", I("d"), k),
                n.call("optlookup", I("d"), L(-7, I64)),
                n.call("tovec", I("d")),
            ),
        ),
    )
    yield "vector", n.lam([("x", F64)], n.vector(I("x"), L(-0.0, F64), L(math.inf, F64), L(math.nan, F64)))
    yield (
        "builder_struct_param",
        n.lam(
            [("b", Struct((Appender(I64), Merger(F64, "min"))))],
            n.make_struct(n.merge(n.getfield(I("b"), 0), L(3, I64)), n.merge(n.getfield(I("b"), 1), L(1e-300, F64))),
        ),
    )
    yield (
        "getfield_chain",
        n.lam(
            [("s", Struct((Struct((I8, Struct((U16, BOOL)))), F32)))],
            n.unop("!", n.getfield(n.getfield(n.getfield(I("s"), 0), 1), 1)),
        ),
    )
    yield (
        "select_unary",
        n.lam(
            [("a", I16), ("c", BOOL)],
            n.select(n.unop("!", n.unop("!", I("c"))), n.unop("-", n.unop("-", I("a"))), n.unop("abs", L(-5, I16))),
        ),
    )
    yield "not_a_lambda", n.binop("+", L(1, I64), L(-2, I64))


@pytest.mark.parametrize(("name", "program"), list(_constructed_programs()))
def test_constructed_round_trip(name, program):
    roundtrip(program)


# -- literals ----------------------------------------------------------------------------------

LITERALS = [
    ("true", True, BOOL),
    ("false", False, BOOL),
    ("5c", 5, I8),
    ("5C", 5, I8),
    ("-128c", -128, I8),
    ("5uc", 5, U8),
    ("255UC", 255, U8),
    ("5si", 5, I16),
    ("5SI", 5, I16),
    ("5us", 5, U16),
    ("5Us", 5, U16),
    ("5", 5, I32),
    ("-2147483648", -(2**31), I32),
    ("5u", 5, U32),
    ("5U", 5, U32),
    ("5L", 5, I64),
    ("5l", 5, I64),
    ("-9223372036854775808L", -(2**63), I64),
    ("5uL", 5, U64),
    ("18446744073709551615UL", 2**64 - 1, U64),
    ("007", 7, I32),
    ("1.0", 1.0, F64),
    ("1e-3", 1e-3, F64),
    ("1E3", 1000.0, F64),
    ("1.5e+10", 1.5e10, F64),
    ("-1.5", -1.5, F64),
    ("-0.0", -0.0, F64),
    ("1e400", math.inf, F64),
    ("inf", math.inf, F64),
    ("-inf", -math.inf, F64),
    ("nan", math.nan, F64),
    ("-nan", math.nan, F64),
    ("1.0f", 1.0, F32),
    ("1.5F", 1.5, F32),
    ("1e3f", 1000.0, F32),
    ("0.1f", n.lit(0.1, F32).arg, F32),
    ("-0.1f", -n.lit(0.1, F32).arg, F32),
    ("3.4028235e+38f", n.lit(3.4028235e38, F32).arg, F32),
    ("1e39f", math.inf, F32),
    ("5f", 5.0, F32),
    ("inff", math.inf, F32),
    ("infF", math.inf, F32),
    ("-inff", -math.inf, F32),
    ("nanf", math.nan, F32),
]


@pytest.mark.parametrize(("text", "value", "ty"), LITERALS)
def test_literal(text, value, ty):
    e = parse_raw(text)
    assert e.op == n.LIT and e.ty == ty and e.src == ()
    assert type(e.arg) is type(value)
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(e.arg)
    else:
        assert e.arg == value
        if isinstance(value, float):
            assert math.copysign(1.0, e.arg) == math.copysign(1.0, value)
    assert e is n.Expr(n.LIT, (), value, ty) or (ty == F32 and e is n.lit(value, ty))


def _literal_values():
    for ty in SCALARS.values():
        if ty.is_bool:
            yield from ((True, ty), (False, ty))
        elif ty.is_int:
            lo, hi = (-(1 << (ty.bits - 1)), (1 << (ty.bits - 1)) - 1) if ty.is_signed else (0, (1 << ty.bits) - 1)
            yield from ((v, ty) for v in (lo, hi, 0, 1, lo + 1, hi - 1))
        else:
            values = [0.0, -0.0, 1.0, -1.0, 0.1, -2.5, 1e-5, 123456.789, math.inf, -math.inf, math.nan]
            if ty == F64:
                values += [1e300, -1e-300, 5e-324, 1.7976931348623157e308, 2.0**60, 1 / 3]
            else:
                values += [
                    3.4028234663852886e38,
                    1.401298464324817e-45,
                    1.1754943508222875e-38,
                    1 / 3,
                    16777217.0,
                ]
            yield from ((v, ty) for v in values)


@pytest.mark.parametrize(("value", "ty"), list(_literal_values()))
def test_literal_round_trip(value, ty):
    x = n.lit(value, ty)
    roundtrip(n.lam([("p", ty)], n.make_struct(x, n.binop("==", I("p"), x))))
    # A literal as the operand of every position the printer treats specially.
    e = n.lam([("p", ty)], x)
    assert parse(str(typecheck(e))) is typecheck(e)
    for untyped in (
        n.getfield(x, 0),
        n.unop("-", x),
        n.unop("!", x),
        n.binop("-", x, x),
        n.binop("*", I("q"), x),
    ):
        assert parse_raw(str(untyped)) is untyped, str(untyped)


def test_f32_literal_text_is_short():
    p = roundtrip(n.lam([("p", F32)], n.binop("+", I("p"), n.lit(0.1, F32))))
    assert str(p) == "|p: f32| p + 0.1f"


def test_literal_bad_suffixes():
    for text in ("5x", "5lu", "1.5L", "1.5c", "5e", "1e+", "2.5ff", "5L_"):
        with pytest.raises(IRSyntaxError, match="invalid suffix"):
            parse_raw(text)


def test_integer_range_left_to_typechecker():
    e = parse_raw("300c")
    assert e.arg == 300 and e.ty == I8
    with pytest.raises(IRTypeError, match="out of the range"):
        parse("|x: i8| 300c")
    with pytest.raises(IRSyntaxError, match="out of range"):
        parse_raw("1" * 5000)


# -- negative literals and negation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-5", L(-5)),
        ("-(5)", n.unop("-", L(5))),
        ("- 5", n.unop("-", L(5))),
        ("-(-5)", n.unop("-", L(-5))),
        ("--5", n.unop("-", L(-5))),
        ("a-5", n.binop("-", I("a"), L(5))),
        ("a -5", n.binop("-", I("a"), L(5))),
        ("a - -5", n.binop("-", I("a"), L(-5))),
        ("a--5", n.binop("-", I("a"), L(-5))),
        ("a - - 5", n.binop("-", I("a"), n.unop("-", L(5)))),
        ("a * -2.5", n.binop("*", I("a"), L(-2.5, F64))),
        ("-2.5 * a", n.binop("*", L(-2.5, F64), I("a"))),
        ("-a", n.unop("-", I("a"))),
        ("-a.$0", n.unop("-", n.getfield(I("a"), 0))),
        ("-5.$0", n.getfield(L(-5), 0)),
        ("(-5).$0", n.getfield(L(-5), 0)),
        ("5.$0", n.getfield(L(5), 0)),
        ("1.5.$1", n.getfield(L(1.5, F64), 1)),
        ("1e-05.$0", n.getfield(L(1e-5, F64), 0)),
        ("5L.$2", n.getfield(L(5, I64), 2)),
        ("inf.$0", n.getfield(L(math.inf, F64), 0)),
        ("-inff", L(-math.inf, F32)),
        ("- inff", n.unop("-", L(math.inf, F32))),
        ("-true", n.unop("-", L(True, BOOL))),
        ("!-5", n.unop("!", L(-5))),
        ("{-1, -2L}", n.make_struct(L(-1), L(-2, I64))),
        ("f(x) - 1", None),
    ],
)
def test_negative_literals_and_negation(text, expected):
    if expected is None:
        with pytest.raises(IRSyntaxError):
            parse_raw(text)
    else:
        assert parse_raw(text) is expected


def test_negation_round_trip():
    for a in (L(5), L(-5), L(-1.5, F64), L(-math.inf, F32), I("x")):
        e = n.unop("-", a)
        assert parse_raw(str(e)) is e
        e = n.binop("-", a, a)
        assert parse_raw(str(e)) is e
        e = n.binop("-", a, n.unop("-", a))
        assert parse_raw(str(e)) is e


# -- operators and precedence ------------------------------------------------------------------

INFIX = [op for level in n.INFIX_LEVELS for op in level]


@pytest.mark.parametrize("op", INFIX)
def test_every_infix_operator(op):
    if op in n.LOGIC_BINOPS:
        ty = BOOL
    elif op in n.SHIFT_BINOPS or op in n.BITWISE_BINOPS:
        ty = I64
    else:
        ty = F64
    p = roundtrip(n.lam([("a", ty), ("b", ty)], n.binop(op, I("a"), I("b"))))
    assert parse_raw(f"a {op} b") is n.binop(op, I("a"), I("b"))
    assert parse_raw(f"a{op}b") is n.binop(op, I("a"), I("b"))
    assert p.body.ty == (BOOL if op in n.COMPARE_BINOPS else ty)


@pytest.mark.parametrize("op1", INFIX)
def test_precedence(op1):
    a, b, c = I("a"), I("b"), I("c")
    for op2 in INFIX:
        text = f"a {op1} b {op2} c"
        if n.INFIX_PREC[op2] > n.INFIX_PREC[op1]:
            expected = n.binop(op1, a, n.binop(op2, b, c))
        else:  # equal precedence: left-associative
            expected = n.binop(op2, n.binop(op1, a, b), c)
        assert parse_raw(text) is expected, text
        # Both nestings print and parse back.
        for e in (n.binop(op1, n.binop(op2, a, b), c), n.binop(op1, a, n.binop(op2, b, c))):
            assert parse_raw(str(e)) is e, str(e)


def test_prefix_and_postfix_binding():
    a, b = I("a"), I("b")
    assert parse_raw("!a == b") is n.binop("==", n.unop("!", a), b)
    assert parse_raw("!(a == b)") is n.unop("!", n.binop("==", a, b))
    assert parse_raw("-a * b") is n.binop("*", n.unop("-", a), b)
    assert parse_raw("!a.$0.$1") is n.unop("!", n.getfield(n.getfield(a, 0), 1))
    assert parse_raw("(!a).$0") is n.getfield(n.unop("!", a), 0)
    assert parse_raw("!!a") is n.unop("!", n.unop("!", a))
    assert parse_raw("(a + b).$1") is n.getfield(n.binop("+", a, b), 1)
    assert parse_raw("a && b || !a && !b") is n.binop(
        "||", n.binop("&&", a, b), n.binop("&&", n.unop("!", a), n.unop("!", b))
    )
    assert parse_raw("a - b - a") is n.binop("-", n.binop("-", a, b), a)
    assert parse_raw("a - (b - a)") is n.binop("-", a, n.binop("-", b, a))
    assert parse_raw("a << 2 + b") is n.binop("<<", a, n.binop("+", L(2), b))
    assert parse_raw("a & b == b") is n.binop("&", a, n.binop("==", b, b))
    assert parse_raw("a | b ^ a & b") is n.binop("|", a, n.binop("^", b, n.binop("&", a, b)))


def test_calls():
    a, b, c = I("a"), I("b"), I("c")
    for op in n.CALL_BINOPS:
        assert parse_raw(f"{op}(a, b)") is n.binop(op, a, b)
    for op in n.UNOPS[2:]:
        assert parse_raw(f"{op}(a)") is n.unop(op, a)
    for name, ty in SCALARS.items():
        e = parse_raw(f"{name}(a)")
        assert e is n.cast(ty, a) and e.arg is not None
    assert parse_raw("select(a, b, c)") is n.select(a, b, c)
    assert parse_raw("if(a, b, c)") is n.if_(a, b, c)
    for op, k in (("len", 1), ("lookup", 2), ("slice", 3), ("tovec", 1), ("keyexists", 2), ("optlookup", 2)):
        args = ", ".join("abc"[:k])
        assert parse_raw(f"{op}({args})") is n.call(op, *(a, b, c)[:k])
    assert parse_raw("merge(a, b)") is n.merge(a, b)
    assert parse_raw("result(a)") is n.result(a)
    assert parse_raw("sort(a, |x| x)") is n.call("sort", a, n.lam([("x", None)], I("x")))
    assert parse_raw("iter(a, b, c, a)") is n.iter_(a, b, c, a)
    assert parse_raw("rangeiter(a, b, c)") is n.rangeiter(a, b, c)
    assert parse_raw("[a, b]") is n.vector(a, b)
    assert parse_raw("{a, {}, (b)}") is n.make_struct(a, n.make_struct(), b)


def test_builder_constructors():
    a = I("a")
    cases = {
        "appender[f64]": n.new_builder(Appender(F64)),
        "appender[f64](a)": n.new_builder(Appender(F64), a),
        "appender[{i64, vec[u8]}]": n.new_builder(Appender(Struct((I64, Vec(U8))))),
        "merger[f64,+]": n.new_builder(Merger(F64, "+")),
        "merger[ f64 , * ]": n.new_builder(Merger(F64, "*")),
        "merger[f64,+](0.0)": n.new_builder(Merger(F64, "+"), L(0.0, F64)),
        "merger[{i32, f32},min]": n.new_builder(Merger(Struct((I32, F32)), "min")),
        "vecmerger[f64,+](a)": n.new_builder(VecMerger(F64, "+"), a),
        "vecmerger[i8,max](a)": n.new_builder(VecMerger(I8, "max"), a),
        "dictmerger[i64,f64,+]": n.new_builder(DictMerger(I64, F64, "+")),
        "dictmerger[vec[i64],u16,max](a)": n.new_builder(DictMerger(Vec(I64), U16, "max"), a),
        "groupmerger[i64,f64]": n.new_builder(GroupMerger(I64, F64)),
        "groupmerger[i64,f64](a)": n.new_builder(GroupMerger(I64, F64), a),
    }
    for text, expected in cases.items():
        e = parse_raw(text)
        assert e is expected, text
        assert parse_raw(str(e)) is e


def test_for_shapes():
    a, b, bld = I("a"), I("b"), n.new_builder(Appender(I64))
    f = n.lam([("s", None), ("i", None), ("x", None)], I("s"))
    assert parse_raw("for(a, appender[i64], |s, i, x| s)") is n.for_([a], bld, f)
    e = parse_raw("for(a, appender[i64], |s, i, x| s)")
    assert e.src[0] is n.iter_vec(a)
    e = parse_raw("for(zip(a, b), appender[i64], |s, i, x| s)")
    assert e is n.for_([a, b], bld, f) and len(e.src) == 4
    e = parse_raw("for(zip(iter(a, 0L, 1L, 1L), rangeiter(0L, 2L, 1L), [1L]), appender[i64], |s, i, x| s)")
    assert [it.arg for it in e.src[:-2]] == ["iter", "range", "vec"]
    e = parse_raw("for(zip(a), appender[i64], |s, i, x| s)")
    assert e is n.for_([a], bld, f)
    typed = n.lam([("s", Appender(I64)), ("i", I64), ("x", I64)], I("s"))
    assert parse_raw("for(a, appender[i64], |s: appender[i64], i: i64, x: i64| s)") is n.for_([a], bld, typed)
    # A loop variable named like a function is a name.
    assert parse_raw("for(zip, iter, |s, i, x| s)") is n.for_([I("zip")], I("iter"), f)


def test_lambdas_and_lets():
    assert parse_raw("|a: i64, b| a") is n.lam([("a", I64), ("b", None)], I("a"))
    assert parse_raw("|| 1") is n.lam([], L(1))
    assert parse_raw("| | 1") is n.lam([], L(1))
    assert parse_raw("|a| |b| a") is n.lam([("a", None)], n.lam([("b", None)], I("a")))
    assert parse_raw("|a|| b| a") is n.lam([("a", None)], n.lam([("b", None)], I("a")))
    assert parse_raw("|a| a || a") is n.lam([("a", None)], n.binop("||", I("a"), I("a")))
    assert parse_raw("|a| a | a") is n.lam([("a", None)], n.binop("|", I("a"), I("a")))
    assert parse_raw("let x = 1; |y| let z = y; x") is n.let(
        "x", L(1), n.lam([("y", None)], n.let("z", I("y"), I("x")))
    )
    assert parse_raw("let f = |y| y; f") is n.let("f", n.lam([("y", None)], I("y")), I("f"))
    assert parse_raw("let x = let y = 1; y; x") is n.let("x", n.let("y", L(1), I("y")), I("x"))
    assert parse_raw("if(c, let x = 1; x, 2)") is n.if_(I("c"), n.let("x", L(1), I("x")), L(2))
    assert parse_raw("a + (let x = 1; x)") is n.binop("+", I("a"), n.let("x", L(1), I("x")))
    assert parse_raw("(|x| x).$0") is n.getfield(n.lam([("x", None)], I("x")), 0)


def test_contextual_names_round_trip():
    names = [
        "len",
        "f64",
        "merger",
        "zip",
        "iter",
        "for",
        "if",
        "vec",
        "appender",
        "sqrt",
        "result",
        "_",
        "x_1",
    ]
    for name in names:
        assert is_name(name)
        e = n.lam([(name, I64)], n.let(name + "2", I(name), n.binop("+", I(name), I(name + "2"))))
        roundtrip(e)
    for word in RESERVED:
        assert not is_name(word)
    assert not is_name("1a") and not is_name("a-b") and not is_name("")


def test_whitespace_and_comments():
    e = parse_raw("\t|a: vec[f64]|#c\r\n\n  a #x\n\x0c")
    assert e is n.lam([("a", Vec(F64))], I("a"))
    assert parse_raw("a.$0 # .$1") is n.getfield(I("a"), 0)
    assert parse_raw("merger [ f64 , + ] ( 0.0 )") is n.new_builder(Merger(F64, "+"), L(0.0, F64))


# -- untyped trees and positions ------------------------------------------------------------------


def test_untyped_tree():
    e, positions = parse_with_positions(
        "|v: vec[f64]| let k = 2L; result(for(v, merger[f64,+], |b, i, x| merge(b, f32(x) * 1.5f)))"
    )
    todo = [e]
    while todo:
        x = todo.pop()
        todo.extend(x.src)
        if x.op == n.LIT:
            assert x.ty in (I64, F32)
        else:
            assert x.ty is None
        if x.op == n.NEWBUILDER:
            assert x.arg == Merger(F64, "+")
        if x.op == n.CAST:
            assert x.arg == F32
        assert x in positions
    assert e.params == (("v", Vec(F64)),)


def test_positions():
    text = "|pos_a: i64|\n  let pos_b = pos_a * 40961L;\n  {pos_b.$0, -(pos_b), sqrt(pos_b) + -76543L}"
    e, positions = parse_with_positions(text)
    lines = text.splitlines()

    def at(line, snippet, k=0):
        col = lines[line - 1].index(snippet)
        for _ in range(k):
            col = lines[line - 1].index(snippet, col + 1)
        return (line, col + 1)

    assert positions[e] == (1, 1)
    let = e.body
    assert let.op == n.LET and positions[let] == at(2, "let")
    value, body = let.src
    assert positions[value] == at(2, "*")
    assert positions[value.src[0]] == at(2, "pos_a")
    assert positions[value.src[1]] == at(2, "40961L")
    assert body.op == n.STRUCT and positions[body] == at(3, "{")
    field, neg, add = body.src
    assert positions[field] == at(3, ".$0") and positions[field.src[0]] == at(3, "pos_b")
    assert positions[neg] == at(3, "-(")
    assert positions[add] == at(3, "+") and positions[add.src[0]] == at(3, "sqrt")
    assert positions[add.src[1]] == at(3, "-76543L")


def test_position_of_constructed_nodes_comes_from_the_text():
    node = n.binop("+", I("pos_fill_x"), L(987654, I64))
    e, positions = parse_with_positions("\n  pos_fill_x + 987654L")
    assert e is node and positions[node] == (2, 14)
    _, again = parse_with_positions("pos_fill_x + 987654L")
    assert again[node] == (1, 12)


# -- errors ------------------------------------------------------------------------------------

SYNTAX_ERRORS = [
    ("(a + b", 1, 7, "unexpected end of input: expected ')'"),
    ("(a, b)", 1, 3, "expected ')' but found ','"),
    ("", 1, 1, "unexpected end of input"),
    ("  # nothing\n", 1, 1, "unexpected end of input"),
    ("|a: f65| a", 1, 5, "unknown type 'f65'"),
    ("|a: vec[f64| a", 1, 12, "expected ']' but found '|'"),
    ("|a: {i64,}| a", 1, 10, "expected a type but found '}'"),
    ("|a: merger[f64,-]| a", 1, 16, "unknown merge operator '-'"),
    ("|a: merger[f64]| a", 1, 15, "expected ',' but found ']'"),
    ("|a: dict[i64]| a", 1, 13, "expected ',' but found ']'"),
    ("|a b| a", 1, 4, "expected ',' or '|' after a parameter but found 'b'"),
    ("|5| a", 1, 2, "expected a parameter name but found '5'"),
    ("|a: i64|\n  a @ 1", 2, 5, "unexpected character '@'"),
    ("|a: i64|\n  a +\n", 2, 6, "unexpected end of input: expected an expression"),
    ("|a: i64|\n  a +\n  )", 3, 3, "expected an expression but found ')'"),
    ("a b", 1, 3, "expected end of input but found 'b'"),
    ("a)", 1, 2, "expected end of input but found ')'"),
    ("5x", 1, 1, "invalid suffix 'x' on the integer literal '5x'"),
    ("1.5L", 1, 1, "invalid suffix 'L' on the float literal '1.5L'"),
    ("a.", 1, 2, "'.' must be followed by '$'"),
    ("a.$x", 1, 2, "'.' must be followed by '$'"),
    ("1.", 1, 2, "'.' must be followed by '$'"),
    ("let 5 = 1; 2", 1, 5, "expected a name after 'let' but found '5'"),
    ("let true = 1; 2", 1, 5, "'true' is a reserved word"),
    ("|inf| 2", 1, 2, "'inf' is a reserved word"),
    ("let x = 1 x", 1, 11, "expected ';' but found 'x'"),
    ("let x == 1; x", 1, 7, "expected '=' but found '=='"),
    ("a + let x = 1; x", 1, 5, "let expression must be in parentheses"),
    ("a * |x| x", 1, 5, "lambda must be in parentheses"),
    ("foo(1)", 1, 1, "unknown function 'foo'"),
    ("appender(5L)", 1, 9, "expected '[' after 'appender'"),
    ("vec[f64]", 1, 1, "the type vec[...] is not an expression"),
    ("zip(a, b)", 1, 1, "zip(...) can only be the first argument of for"),
    ("for(zip(), a, b)", 1, 9, "zip needs at least one iterator"),
    ("for(a, b)", 1, 9, "expected ',' but found ')'"),
    ("for(a, b, c, d)", 1, 12, "expected ')' but found ','"),
    ("len(a, b)", 1, 1, "len takes 1 argument, got 2"),
    ("min(a)", 1, 1, "min takes 2 arguments, got 1"),
    ("  select(a, b)", 1, 3, "select takes 3 arguments, got 2"),
    ("f64()", 1, 1, "f64 takes 1 argument, got 0"),
    ("iter(a, b, c)", 1, 1, "iter takes 4 arguments, got 3"),
    ("[1, 2", 1, 6, "unexpected end of input: expected ',' or ']'"),
    ("{1 2}", 1, 4, "expected ',' or '}' but found '2'"),
    ("merger[f64,+](", 1, 15, "unexpected end of input: expected an expression"),
    ("exp(1.0,)", 1, 9, "expected an expression but found ')'"),
    ("-", 1, 2, "unexpected end of input"),
    ("!", 1, 2, "unexpected end of input"),
    ("a $ b", 1, 3, "unexpected character '$'"),
    ("x\r\n  + ;", 2, 5, "expected an expression but found ';'"),
    ("|a: i64|\ta\t+\t?", 1, 14, "unexpected character '?'"),
]


@pytest.mark.parametrize(("text", "line", "col", "message"), SYNTAX_ERRORS)
def test_syntax_error(text, line, col, message):
    for parser in (parse_raw, parse, lazyir.parse):
        with pytest.raises(IRSyntaxError) as info:
            parser(text)
        err = info.value
        assert (err.line, err.col) == (line, col), str(err)
        assert message in err.message
        assert f"line {line}, column {col}: " in str(err)
        source_lines = text.splitlines()
        if source_lines:
            caret = f"\n  {source_lines[line - 1]}\n  {' ' * (col - 1)}^"
            assert str(err).endswith(caret), str(err)
        assert isinstance(err, ValueError)


def test_long_tokens_are_clipped_in_messages():
    with pytest.raises(IRSyntaxError) as info:
        parse_raw("a " + "b" * 1000)
    assert len(info.value.message) < 100
    with pytest.raises(IRSyntaxError) as info:
        parse_raw("5" + "x" * 1000)
    assert len(info.value.message) < 100


TYPE_ERRORS = [
    ("|a: vec[f64]| a + 1", "+", "left operand of + must be a scalar"),
    ("|te_a: i64|\n  let te_b = te_a * 2L;\n  te_b + 1.0", "+", "different types i64 and f64"),
    ("|te_c: f32| -(te_c) + 1.5", "+", "different types f32 and f64"),
    ("|te_d: i64| te_d + te_undefined", "te_undefined", "undefined name te_undefined"),
    ("|te_e: i8|\n  te_e * 300c", "300c", "out of the range of i8"),
    ("|te_f: {i64, f64}| te_f.$2", ".$2", "field $2 does not exist"),
    ("|te_g: i64| if(te_g, 1, 2)", "if", "condition of if must be bool"),
    (
        "|te_h: vec[f64]|\n  result(for(te_h, appender[f64],\n    |b, i, x| merge(b, x > 1.0)))",
        "merge",
        "value merged",
    ),
    ("|te_i: vec[f64]| result(for(te_i, appender[f64], |b, i: i32, x| merge(b, x)))", "|b", "declared i32"),
    ("|te_j: vec[f64]| for(te_j, 5, |b, i, x| b)", "for", "must be a builder"),
    ("|te_k: vec[i64]| sort(te_k, |x| te_k)", "sort", "sort key must be"),
    ("|te_l: f64| exp(i32(te_l))", "exp", "needs a float operand"),
    ("|te_m: vec[i64]| lookup(te_m, 1)", "lookup", "index must be i64"),
    ("|te_n: i64| [te_n, 1]", "[", "vector elements have different types"),
    ("|te_o: i64| vecmerger[f64,+]", "vecmerger", "one argument"),
    ("|te_p: i64| te_p && true", "&&", "different types"),
    ("|te_q, te_r: i64| te_r", "|", "needs a type"),
]


@pytest.mark.parametrize(("text", "snippet", "message"), TYPE_ERRORS)
def test_type_error_position(text, snippet, message):
    with pytest.raises(IRTypeError) as info:
        parse(text)
    err = info.value
    offset = text.index(snippet) if snippet != "+" else text.rindex("+")
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    assert (err.line, err.col) == (line, col), str(err)
    assert message in err.message
    assert str(err).endswith(f"\n  {text.splitlines()[line - 1]}\n  {' ' * (col - 1)}^")


def test_not_text():
    with pytest.raises(TypeError):
        parse_raw(b"1")  # type: ignore[arg-type]


def test_mutated_programs_raise_only_ir_errors():
    """Damaged program text gives IRSyntaxError or IRTypeError, never another exception."""
    rng = random.Random(20240611)
    pieces = list("()[]{},;:|&^!=<>+-*/%.$#\n 0123456789eEfLlucsi_axyz") + [
        "let ",
        "for(",
        "zip(",
        "merger[",
        "appender[",
        "|x| ",
        ".$0",
        "inf",
        "nan",
        "iter(",
        "if(",
        "vec[",
        "{",
    ]
    texts = list(PROGRAMS.values())
    for _ in range(3000):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(text) + 1)
            kind = rng.randrange(3)
            if kind == 0:
                text = text[:i] + text[i + 1 :]
            elif kind == 1:
                text = text[:i] + rng.choice(pieces) + text[i:]
            else:
                text = text[:i] + rng.choice(pieces) + text[i + 1 :]
        try:
            parse(text)
        except IRSyntaxError as err:
            assert err.line >= 1 and err.col >= 1
        except IRTypeError:
            pass


# -- deep nesting ------------------------------------------------------------------------------

DEEP = 3000


def _spine(e: n.Expr, index: int) -> int:
    depth = 0
    while e.src:
        e = e.src[index]
        depth += 1
    return depth


def test_deep_left_chain():
    text = " + ".join(f"x{i}" for i in range(DEEP))
    e = parse_raw(text)
    assert _spine(e, 0) == DEEP - 1
    assert e.src[1] is I(f"x{DEEP - 1}")
    mixed = " - ".join(f"{i}L * y" for i in range(DEEP))
    e = parse_raw(mixed)
    assert e.arg == "-" and _spine(e, 0) == DEEP


def test_deep_let_chain():
    text = "|x0: i64|\n" + "".join(f"  let x{i + 1} = x{i} + 1L;\n" for i in range(DEEP)) + f"  x{DEEP}"
    e = parse_raw(text)
    assert _spine(e.body, 1) == DEEP


def test_deep_right_nesting_and_prefixes():
    text = "(a + " * DEEP + "a" + ")" * DEEP
    assert _spine(parse_raw(text), 1) == DEEP
    text = "exp(" * DEEP + "1.0" + ")" * DEEP
    assert _spine(parse_raw(text), 0) == DEEP
    text = "-(" * DEEP + "x" + ")" * DEEP
    assert _spine(parse_raw(text), 0) == DEEP
    assert _spine(parse_raw("!" * DEEP + "x"), 0) == DEEP
    assert _spine(parse_raw("x" + ".$0" * DEEP), 0) == DEEP
    assert _spine(parse_raw("|x| " * DEEP + "x"), 0) == DEEP
    assert _spine(parse_raw("let a = " * DEEP + "1" + "; a" * DEEP), 0) == DEEP
    assert _spine(parse_raw("{" * DEEP + "}" * DEEP), 0) == DEEP - 1


def test_too_deep_is_a_syntax_error():
    limit = sys.getrecursionlimit()
    with pytest.raises(IRSyntaxError, match="nested more than"):
        parse_raw("(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5))
    with pytest.raises(IRSyntaxError, match="nested more than"):
        parse_raw("|a: " + "vec[" * (MAX_TYPE_DEPTH + 1) + "f64" + "]" * (MAX_TYPE_DEPTH + 1) + "| a")
    assert sys.getrecursionlimit() == limit
    deep_type = "vec[" * (MAX_TYPE_DEPTH - 1) + "f64" + "]" * (MAX_TYPE_DEPTH - 1)
    assert parse_raw(f"|a: {deep_type}| a").params[0][0] == "a"
