"""Pass float_lets: golden IR text, the fusion it enables, and equality with the original program."""

from __future__ import annotations

import numpy as np
from helpers import assert_pass, assert_same

import lazyir
from lazyir.ir.analysis import count_loops

MAP = "result(for(a, appender[f64], |b, i, x| merge(b, x * w)))"


def test_a_let_around_an_iterator_operand_moves_in_front_of_the_loop():
    assert_pass(
        "float_lets",
        f"|a: vec[f64], c: vec[f64]| result(for(zip(c, let w = lookup(c, 0L); {MAP}), merger[f64,+], "
        "|s, i, e| merge(s, e.$0 * e.$1)))",
        f"|a: vec[f64], c: vec[f64]| result(let w = lookup(c, 0L); for(zip(c, {MAP}), merger[f64,+], "
        "|s, i, e| merge(s, e.$0 * e.$1)))",
    )


def test_lets_under_result_move_too():
    # result(let x = v; b) is let x = v; result(b)
    inner = "for(a, appender[f64], |b, i, x| merge(b, x * w))"
    assert_pass(
        "float_lets",
        f"|a: vec[f64]| result(for(result(let w = 2.0; {inner}), merger[f64,+], |s, i, x| merge(s, x)))",
        f"|a: vec[f64]| result(let w = 2.0; for(result({inner}), merger[f64,+], |s, i, x| merge(s, x)))",
    )


def test_a_floated_name_the_loop_uses_is_renamed():
    # the loop body reads its own ``w``: the floated one must not shadow it
    assert_pass(
        "float_lets",
        f"|a: vec[f64], w: f64| result(for(let w = 3.0; {MAP}, merger[f64,+], |s, i, x| merge(s, x + w)))",
        "|a: vec[f64], w: f64| result(let w__1 = 3.0; for("
        "result(for(a, appender[f64], |b, i, x| merge(b, x * w__1))), merger[f64,+], |s, i, x| merge(s, x + w)))",
    )


def test_floating_lets_a_bound_producer_fuse_and_results_do_not_change():
    text = (
        f"|a: vec[f64], c: vec[f64], w: f64| result(for(zip(c, let w = lookup(c, 0L) + w; {MAP}), "
        "merger[f64,+], |s, i, e| merge(s, e.$0 * e.$1 + w)))"
    )
    program = lazyir.parse(text)
    optimized = lazyir.optimize(program)
    assert count_loops(program) == 2 and count_loops(optimized) == 1, optimized
    rng = np.random.default_rng(0)
    a, c = rng.standard_normal(50), rng.standard_normal(50)
    want = lazyir.interpret(program, a, c, np.float64(0.5))
    assert_same(lazyir.interpret(optimized, a, c, np.float64(0.5)), want, 1e-12)
    assert_same(lazyir.compile(program)(a, c, np.float64(0.5)), want, 1e-12)
