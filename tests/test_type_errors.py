"""Golden type-error messages: what users read when a program does not type-check."""

from __future__ import annotations

import pytest

import lazyir

GOLDEN = [
    (
        "|a: vec[f64]| a + 1.0",
        "line 1, column 17: in `a + 1.0`: left operand of + must be a scalar, got vec[f64]\n  |a: vec[f64]| a + 1.0\n                  ^",
    ),
    (
        "|a: vec[f64], n: i64|\n  result(for(a, merger[f64,+], |s, i, x| merge(s, x * n)))",
        "line 2, column 53: in `x * n`: operands of * have different types f64 and i64 (insert a cast)\n    result(for(a, merger[f64,+], |s, i, x| merge(s, x * n)))\n                                                      ^",
    ),
    (
        "|x: i32| x + 1L",
        "line 1, column 12: in `x + 1L`: operands of + have different types i32 and i64 (insert a cast)\n  |x: i32| x + 1L\n             ^",
    ),
    (
        "|a: vec[f64]| lookup(a, 1)",
        "line 1, column 15: in `lookup(a, 1)`: index must be i64, got i32\n  |a: vec[f64]| lookup(a, 1)\n                ^",
    ),
    (
        "|a: vec[f64]| result(for(a, appender[f64], |b, i, x| x))",
        "line 1, column 22: in `for(a, appender[f64], |b, i, x| x)`: the loop body must return the builder appender[f64], got f64\n  |a: vec[f64]| result(for(a, appender[f64], |b, i, x| x))\n                       ^",
    ),
    (
        "|x: f64| if(x, 1.0, 2.0)",
        "line 1, column 10: in `if(x, 1.0, 2.0)`: condition of if must be bool, got f64\n  |x: f64| if(x, 1.0, 2.0)\n           ^",
    ),
    ("|x: i64| y + x", "line 1, column 10: in `y`: undefined name y\n  |x: i64| y + x\n           ^"),
    (
        "|x: f64| {x, x}.$2",
        "line 1, column 16: in `{x, x}.$2`: field $2 does not exist in {f64, f64}\n  |x: f64| {x, x}.$2\n                 ^",
    ),
    (
        "|x: i64| exp(x)",
        "line 1, column 10: in `exp(x)`: exp needs a float operand, got i64 (cast it first)\n  |x: i64| exp(x)\n           ^",
    ),
    (
        "|x: i64| merge(x, 1L)",
        "line 1, column 10: in `merge(x, 1L)`: merge needs a builder, got i64\n  |x: i64| merge(x, 1L)\n           ^",
    ),
    ("|x: i8| 300c", "line 1, column 9: in `300c`: literal 300 is out of the range of i8\n  |x: i8| 300c\n          ^"),
]


@pytest.mark.parametrize(("text", "message"), GOLDEN)
def test_type_error_message(text, message):
    with pytest.raises(lazyir.IRTypeError) as info:
        lazyir.parse(text)
    assert str(info.value) == message
    assert isinstance(info.value, TypeError)  # catchable as a plain TypeError too


def test_positions_come_from_the_text_being_parsed():
    # The same sub-expression parsed earlier from other text must not move the caret.
    lazyir.parse("|pos_x: i32|\n    pos_x + 1")
    with pytest.raises(lazyir.IRTypeError) as info:
        lazyir.parse("|pos_x: f64| pos_x + 1")
    assert (info.value.line, info.value.col) == (1, 20)


@pytest.mark.parametrize("text", ["|a: vec[f64]| iter(a, 0L, 1L, 1L)", "|n: i64| rangeiter(0L, n, 1L)"])
def test_iterators_outside_a_loop_are_type_errors(text):
    with pytest.raises(lazyir.IRTypeError, match="can only be an iterator of a for loop"):
        lazyir.parse(text)


def test_every_op_has_a_rule_in_every_table():
    # Adding an op costs one row per table: the type checker, the interpreter and the backend.
    from lazyir.backend.codegen import _GEN
    from lazyir.ir import nodes as n
    from lazyir.ir.interpret import _RULES as INTERPRET
    from lazyir.ir.typecheck import _RULES as TYPECHECK

    loop_parts = {n.ITER, n.LAMBDA}  # handled by the for/sort rules, never on their own
    for table in (TYPECHECK, INTERPRET, _GEN):
        assert set(n.ALL_OPS) - loop_parts <= set(table), set(n.ALL_OPS) - loop_parts - set(table)
