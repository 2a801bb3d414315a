"""Passes cse, licm, predicate and size: golden IR text, and equality with the original program
(interpreted, and compiled)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_pass, assert_same, run_pass
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import NUMERIC_TYPES, programs, scalar_exprs, subexpressions, values_of
from test_differential import _compare as compare_compiled

import lazyir
from lazyir.ir import nodes as n
from lazyir.ir.analysis import free_vars
from lazyir.ir.typecheck import typecheck
from lazyir.ir.types import BOOL, F64, I64, MERGE_OPS, Merger, Vec
from lazyir.optimizer.passes.size import iteration_count
from lazyir.optimizer.pipeline import optimize

PASSES = ["cse", "licm", "predicate", "size"]

# ---------------------------------------------------------------------------------------------
# cse


def test_cse_binds_a_repeated_expression_once():
    assert_pass(
        "cse",
        "|a: i64, b: i64| (a * b + 1L) * (a * b + 1L)",
        "|a: i64, b: i64| let cse__1 = a * b + 1L; cse__1 * cse__1",
    )


def test_cse_binds_a_repeated_loop():
    loop = "result(for(a, merger[f64,+], |s, i, x| merge(s, x * x)))"
    assert_pass(
        "cse",
        f"|a: vec[f64]| {{{loop}, {loop} * 2.0}}",
        f"|a: vec[f64]| let cse__1 = {loop}; {{cse__1, cse__1 * 2.0}}",
    )


def test_cse_places_the_let_at_the_innermost_common_position():
    assert_pass(
        "cse",
        "|v: vec[f64], k: f64| result(for(v, appender[f64], |b, i, x| merge(b, x * exp(k) + exp(k))))",
        "|v: vec[f64], k: f64| result(for(v, appender[f64], |b, i, x| merge(b, let cse__1 = exp(k); x * cse__1 + cse__1)))",
    )


def test_cse_repeated_outer_expression_in_and_out_of_a_loop():
    # Evaluated at the top anyway: the loop body uses the name.
    assert_pass(
        "cse",
        "|v: vec[f64], k: f64| {sqrt(k), result(for(v, merger[f64,+], |b, i, x| merge(b, x * sqrt(k))))}",
        "|v: vec[f64], k: f64| let cse__1 = sqrt(k); {cse__1, result(for(v, merger[f64,+], |b, i, x| merge(b, x * cse__1)))}",
    )


def test_cse_failing_expression_is_not_moved_out_of_if_branches():
    text = "|v: vec[i64], c: bool, d: bool| if(c, lookup(v, 0L), 1L) + if(d, lookup(v, 0L), 2L)"
    assert_pass("cse", text, text)


def test_cse_expensive_expression_is_not_moved_out_of_if_branches():
    loop = "result(for(v, merger[i64,+], |s, i, x| merge(s, x)))"
    text = f"|v: vec[i64], c: bool, d: bool| if(c, {loop}, 1L) + if(d, {loop}, 2L)"
    assert_pass("cse", text, text)


def test_cse_cheap_expression_that_cannot_fail_is_shared_across_branches():
    assert_pass(
        "cse",
        "|a: i64, b: i64, c: bool, d: bool| if(c, a * b, 1L) + if(d, a * b, 2L)",
        "|a: i64, b: i64, c: bool, d: bool| let cse__1 = a * b; if(c, cse__1, 1L) + if(d, cse__1, 2L)",
    )


def test_cse_failing_expression_is_bound_inside_its_branch():
    assert_pass(
        "cse",
        "|v: vec[i64], c: bool| if(c, lookup(v, 0L) + lookup(v, 0L), 1L)",
        "|v: vec[i64], c: bool| if(c, let cse__1 = lookup(v, 0L); cse__1 + cse__1, 1L)",
    )


def test_cse_failing_expression_evaluated_anyway_is_bound_above_the_if():
    assert_pass(
        "cse",
        "|v: vec[i64], c: bool| lookup(v, 0L) + if(c, lookup(v, 0L), 2L)",
        "|v: vec[i64], c: bool| let cse__1 = lookup(v, 0L); cse__1 + if(c, cse__1, 2L)",
    )
    assert_pass(  # in both branches
        "cse",
        "|v: vec[i64], c: bool| if(c, lookup(v, 0L) * 2L, lookup(v, 0L) + 1L)",
        "|v: vec[i64], c: bool| let cse__1 = lookup(v, 0L); if(c, cse__1 * 2L, cse__1 + 1L)",
    )


def test_cse_builders_are_never_shared():
    # Two constructors are two builders, even inside one struct of builders.
    text = """|v: vec[f64]| result(for(v, {merger[f64,+], merger[f64,+]},
        |b, i, x| {merge(b.$0, x), merge(b.$1, x * 2.0)}))"""
    assert_pass("cse", text, text)
    text = """|v: vec[f64]| {result(for(v, appender[f64], |b, i, x| merge(b, x))),
        result(for(v, appender[f64], |b, i, x| merge(b, x + 1.0)))}"""
    assert_pass("cse", text, text)
    # select evaluates both merges: they must both happen.
    text = "|v: vec[f64]| result(for(v, appender[f64], |b, i, x| select(x > 0.0, merge(b, x), merge(b, x))))"
    assert_pass("cse", text, text)


def test_cse_respects_binders():
    # Same text, different binders: not one value.
    text = "|a: i64| {let x = a + 1L; x * x, let x = a + 2L; x * x}"
    assert_pass("cse", text, text)
    text = """|v: vec[f64]| {result(for(v, appender[f64], |b, i, x| merge(b, x * x + 1.0))),
        result(for(v, merger[f64,+], |b, i, x| merge(b, x * x + 1.0)))}"""
    assert_pass("cse", text, text)


def test_cse_inside_a_loop_stays_inside():
    assert_pass(
        "cse",
        "|v: vec[f64]| result(for(v, appender[f64], |b, i, x| merge(b, sqrt(x) * sqrt(x))))",
        "|v: vec[f64]| result(for(v, appender[f64], |b, i, x| merge(b, let cse__1 = sqrt(x); cse__1 * cse__1)))",
    )


def test_cse_iterator_operands_bind_around_the_loop():
    assert_pass(
        "cse",
        "|v: vec[f64], w: vec[f64]| result(for(iter(v, 0L, len(w) / 2L, len(w) / 2L), appender[f64], |b, i, x| merge(b, x)))",
        "|v: vec[f64], w: vec[f64]| result(let cse__1 = len(w) / 2L; for(iter(v, 0L, cse__1, cse__1), appender[f64], |b, i, x| merge(b, x)))",
    )


def test_cse_nested_repeats_bind_outermost_first():
    inner = "lookup(v, 1L) * 3L"
    assert_pass(
        "cse",
        f"|v: vec[i64]| {{({inner}) + 1L, ({inner}) + 1L, {inner}}}",
        "|v: vec[i64]| let cse__2 = lookup(v, 1L) * 3L; let cse__1 = cse__2 + 1L; {cse__1, cse__1, cse__2}",
    )


# ---------------------------------------------------------------------------------------------
# licm


def test_licm_hoists_an_invariant_out_of_the_loop():
    assert_pass(
        "licm",
        "|v: vec[f64], k: f64| result(for(v, appender[f64], |b, i, x| merge(b, x * exp(k) + exp(k))))",
        "|v: vec[f64], k: f64| let inv__1 = exp(k); result(for(v, appender[f64], |b, i, x| merge(b, x * inv__1 + inv__1)))",
    )


def test_licm_nested_loops_hoist_as_far_as_names_allow():
    assert_pass(
        "licm",
        """|v: vec[f64], w: vec[f64], k: f64| result(for(v, appender[f64], |b, i, x|
            merge(b, result(for(w, merger[f64,+], |s, j, y| merge(s, y * exp(k) + sqrt(x) * exp(k + 1.0)))))))""",
        """|v: vec[f64], w: vec[f64], k: f64| let inv__1 = exp(k); let inv__2 = exp(k + 1.0);
          result(for(v, appender[f64], |b, i, x| merge(b, let inv__3 = sqrt(x) * inv__2;
            result(for(w, merger[f64,+], |s, j, y| merge(s, y * inv__1 + inv__3))))))""",
    )


def test_licm_does_not_hoist_what_can_fail():
    # The lookup would fail for an empty w even when v is empty too; len(w) * 2L moves.
    assert_pass(
        "licm",
        "|v: vec[i64], w: vec[i64]| result(for(v, appender[i64], |b, i, x| if(x > 0L, merge(b, lookup(w, 0L) + len(w) * 2L), b)))",
        "|v: vec[i64], w: vec[i64]| let inv__1 = len(w) * 2L; result(for(v, appender[i64], |b, i, x| if(x > 0L, merge(b, lookup(w, 0L) + inv__1), b)))",
    )


def test_licm_leaves_builders_merges_and_loops():
    text = """|v: vec[f64], w: vec[f64]| result(for(v, appender[f64], |b, i, x|
        merge(b, x + result(for(w, merger[f64,+], |s, j, y| merge(s, y))))))"""
    assert_pass("licm", text, text)
    text = "|v: vec[f64], m: f64| result(for(v, appender[f64], |b, i, x| merge(b, result(merge(merger[f64,+], m)))))"
    assert_pass("licm", text, text)


def test_licm_leaves_what_depends_on_the_body():
    text = """|v: vec[f64], k: f64| result(for(v, appender[f64], |b, i, x|
        let y = k * 2.0; merge(b, f64(i) * y + exp(x))))"""
    want = """|v: vec[f64], k: f64| let inv__1 = k * 2.0; result(for(v, appender[f64], |b, i, x|
        let y = inv__1; merge(b, f64(i) * y + exp(x))))"""
    assert_pass("licm", text, want)
    text = "|v: vec[f64], k: f64| let s = sqrt(k); result(for(v, merger[f64,+], |b, i, x| merge(b, x * s)))"
    assert_pass("licm", text, text)


def test_licm_sort_keys_are_loops_too():
    assert_pass(
        "licm",
        "|v: vec[f64], k: f64| sort(v, |x| x * exp(k))",
        "|v: vec[f64], k: f64| let inv__1 = exp(k); sort(v, |x| x * inv__1)",
    )


# ---------------------------------------------------------------------------------------------
# predicate


def test_predicate_float_sum_merges_minus_zero():
    assert_pass(
        "predicate",
        "|v: vec[f64]| result(for(v, merger[f64,+], |b, i, x| if(x > 0.0, merge(b, x * 2.0), b)))",
        "|v: vec[f64]| result(for(v, merger[f64,+], |b, i, x| merge(b, select(x > 0.0, x * 2.0, -0.0))))",
    )


@pytest.mark.parametrize(
    ("builder", "unit"),
    [
        ("merger[i32,+]", "0"),
        ("merger[i32,*]", "1"),
        ("merger[i32,min]", "2147483647"),
        ("merger[i32,max]", "-2147483648"),
        ("merger[u8,min]", "255uc"),
        ("merger[u8,max]", "0uc"),
    ],
)
def test_predicate_integer_identities(builder, unit):
    ty = builder[7:-1].split(",")[0]
    assert_pass(
        "predicate",
        f"|v: vec[{ty}], t: {ty}| result(for(v, {builder}, |b, i, x| if(x > t, merge(b, x), b)))",
        f"|v: vec[{ty}], t: {ty}| result(for(v, {builder}, |b, i, x| merge(b, select(x > t, x, {unit}))))",
    )


def test_predicate_mirrored_chain_and_struct_field():
    assert_pass(
        "predicate",
        "|v: vec[f32]| result(for(v, merger[f32,min], |b, i, x| if(x > 0.0f, b, merge(merge(b, x), x + 1.0f))))",
        """|v: vec[f32]| result(for(v, merger[f32,min], |b, i, x| let c__1 = x > 0.0f;
            merge(merge(b, select(c__1, inff, x)), select(c__1, inff, x + 1.0f))))""",
    )
    assert_pass(
        "predicate",
        """|v: vec[f64]| result(for(v, {merger[{f64, i64},max], appender[f64]}, |b, i, x|
            {if(x > 0.0, merge(b.$0, {x, i}), b.$0), if(x > 0.0, merge(b.$1, x), b.$1)}))""",
        """|v: vec[f64]| result(for(v, {merger[{f64, i64},max], appender[f64]}, |b, i, x|
            {merge(b.$0, select(x > 0.0, {x, i}, {-inf, -9223372036854775808L})), if(x > 0.0, merge(b.$1, x), b.$1)}))""",
    )


def test_predicate_splits_an_if_over_a_struct_of_builders():
    assert_pass(
        "predicate",
        """|v: vec[f64]| result(for(v, {merger[f64,+], appender[f64], merger[i64,+]}, |b, i, x|
            if(x > 0.0, {merge(b.$0, x), merge(b.$1, x), b.$2}, b)))""",
        """|v: vec[f64]| result(for(v, {merger[f64,+], appender[f64], merger[i64,+]}, |b, i, x|
            let c__1 = x > 0.0;
            {merge(b.$0, select(c__1, x, -0.0)), if(c__1, merge(b.$1, x), b.$1), b.$2}))""",
    )
    text = """|v: vec[f64]| result(for(v, {appender[f64], merger[i64,+]}, |b, i, x|
        if(x > 0.0, {merge(b.$0, x), b.$1}, b)))"""
    assert_pass("predicate", text, text)


@pytest.mark.parametrize(
    "text",
    [
        # appenders, vecmergers and dictmergers keep their branch
        "|v: vec[f64]| result(for(v, appender[f64], |b, i, x| if(x > 0.0, merge(b, x), b)))",
        "|v: vec[f64]| result(for(v, vecmerger[f64,+](v), |b, i, x| if(x > 0.0, merge(b, {i, x}), b)))",
        "|v: vec[i64]| result(for(v, dictmerger[i64,i64,+], |b, i, x| if(x > 0L, merge(b, {x, i}), b)))",
        # a value that can fail, or is expensive, is not evaluated unconditionally
        "|v: vec[f64], w: vec[f64]| result(for(v, merger[f64,*], |b, i, x| if(i < len(w), merge(b, lookup(w, i)), b)))",
        """|v: vec[f64], w: vec[f64]| result(for(v, merger[f64,+], |b, i, x|
            if(x > 0.0, merge(b, result(for(w, merger[f64,+], |s, j, y| merge(s, y * x)))), b)))""",
    ],
)
def test_predicate_keeps_branches_it_must(text):
    assert_pass("predicate", text, text)


# ---------------------------------------------------------------------------------------------
# size


def test_size_map_gets_the_vector_length():
    assert_pass(
        "size",
        "|v: vec[f64]| result(for(v, appender[f64], |b, i, x| let y = x * 2.0; merge(b, y)))",
        "|v: vec[f64]| result(for(v, appender[f64](len(v)), |b, i, x| let y = x * 2.0; merge(b, y)))",
    )


def test_size_conditional_merge_gets_no_size():
    text = "|v: vec[f64]| result(for(v, appender[f64], |b, i, x| if(x > 0.0, merge(b, x), b)))"
    assert_pass("size", text, text)
    # a nested loop merges any number of times; a hint already there stays
    text = """|v: vec[f64], w: vec[f64]| result(for(v, appender[f64], |b, i, x|
        for(w, b, |c, j, y| merge(c, x * y))))"""
    assert_pass("size", text, text)
    text = "|v: vec[f64]| result(for(v, appender[f64](3L), |b, i, x| merge(b, x)))"
    assert_pass("size", text, text)


def test_size_both_branches_and_merge_chains_count():
    assert_pass(
        "size",
        "|v: vec[f64]| result(for(v, appender[f64], |b, i, x| if(x > 0.0, merge(merge(b, x), x), merge(merge(b, 0.0), x))))",
        "|v: vec[f64]| result(for(v, appender[f64](len(v) * 2L), |b, i, x| if(x > 0.0, merge(merge(b, x), x), merge(merge(b, 0.0), x))))",
    )
    # select evaluates both branches: two merges, not one
    text = "|v: vec[f64]| result(for(v, appender[f64], |b, i, x| select(x > 0.0, merge(b, x), merge(b, 0.0))))"
    assert run_pass("size", text) is lazyir.parse(
        "|v: vec[f64]| result(for(v, appender[f64](len(v) * 2L), |b, i, x| select(x > 0.0, merge(b, x), merge(b, 0.0))))"
    )


def test_size_iter_range_and_zip():
    assert_pass(
        "size",
        "|v: vec[f64], s: i64| result(for(iter(v, s, len(v) - 1L, 2L), appender[f64], |b, i, x| merge(b, x)))",
        """|v: vec[f64], s: i64| let n__1 = len(v) - 1L;
          result(for(iter(v, s, n__1, 2L), appender[f64](max(min((n__1 - s + 1L) / 2L, len(v)), 0L)), |b, i, x| merge(b, x)))""",
    )
    assert_pass(
        "size",
        "|n: i64, st: i64| result(for(rangeiter(1L, n, st), appender[i64], |b, i, x| merge(b, x)))",
        """|n: i64, st: i64| result(for(rangeiter(1L, n, st),
          appender[i64](select(st > 0L, max((n - 1L + (st - 1L)) / st, 0L), 0L)), |b, i, x| merge(b, x)))""",
    )
    assert_pass(
        "size",
        "|n: i64| result(for(rangeiter(0L, n, 1L), appender[i64], |b, i, x| merge(b, x)))",
        "|n: i64| result(for(rangeiter(0L, n, 1L), appender[i64](max(n, 0L)), |b, i, x| merge(b, x)))",
    )
    assert_pass(
        "size",
        "|v: vec[f64]| result(for(rangeiter(-2L, 10L, 3L), appender[i64], |b, i, x| merge(b, x)))",
        "|v: vec[f64]| result(for(rangeiter(-2L, 10L, 3L), appender[i64](4L), |b, i, x| merge(b, x)))",
    )
    assert_pass(
        "size",
        "|v: vec[f64], w: vec[i64]| result(for(zip(rangeiter(0L, len(v), 1L), v, w), appender[f64], |b, i, e| merge(b, e.$1)))",
        "|v: vec[f64], w: vec[i64]| result(for(zip(rangeiter(0L, len(v), 1L), v, w), appender[f64](len(v)), |b, i, e| merge(b, e.$1)))",
    )


def test_size_struct_of_builders_and_aliases():
    assert_pass(
        "size",
        """|v: vec[f64]| result(for(v, {appender[f64], merger[f64,+], appender[i64]}, |b, i, x|
            let c = b.$0; {merge(c, x), merge(b.$1, x), if(x > 0.0, merge(b.$2, i), b.$2)}))""",
        """|v: vec[f64]| result(for(v, {appender[f64](len(v)), merger[f64,+], appender[i64]}, |b, i, x|
            let c = b.$0; {merge(c, x), merge(b.$1, x), if(x > 0.0, merge(b.$2, i), b.$2)}))""",
    )


def test_size_binds_iterator_operands_it_repeats():
    assert_pass(
        "size",
        "|v: vec[f64]| result(for(result(for(v, appender[f64], |b, i, x| if(x > 0.0, merge(b, x), b))), appender[f64], |b, i, x| merge(b, x)))",
        """|v: vec[f64]| let v__1 = result(for(v, appender[f64], |b, i, x| if(x > 0.0, merge(b, x), b)));
          result(for(v__1, appender[f64](len(v__1)), |b, i, x| merge(b, x)))""",
    )


def _typed_iterator(it, params):
    """Iterators are typed only inside a loop: type one and take its iterator back."""
    mer = Merger(I64, "+")
    loop = n.for_([it], n.new_builder(mer), n.lam([("b", None), ("i", None), ("x", None)], n.ident("b")))
    return n.for_parts(typecheck(loop, env=dict(params)))[0][0]


@given(st.integers(-40, 40), st.integers(-40, 40), st.integers(1, 7), st.integers(0, 30))
def test_size_count_equals_the_interpreters(start, end, stride, length):
    s, e, k = (n.ident(x, I64) for x in ("s", "e", "k"))
    v = n.ident("v", Vec(F64))
    params = [("v", Vec(F64)), ("s", I64), ("e", I64), ("k", I64)]
    rng = lazyir.interpret(
        typecheck(n.lam(params, iteration_count(_typed_iterator(n.rangeiter(s, e, k), params)))),
        np.zeros(length),
        np.int64(start),
        np.int64(end),
        np.int64(stride),
    )
    assert rng == len(range(start, end, stride))
    count = lazyir.interpret(
        typecheck(n.lam(params, iteration_count(_typed_iterator(n.iter_(v, s, e, k), params)))),
        np.zeros(length),
        np.int64(start),
        np.int64(end),
        np.int64(stride),
    )
    if 0 <= start <= end <= length:
        assert count == len(range(length)[start:end:stride])
    else:  # an invalid iterator (the loop fails): the hint is still a sane capacity
        assert 0 <= count <= length


# ---------------------------------------------------------------------------------------------
# equality with the original program


def _run(program, args):
    try:
        return ("ok", lazyir.interpret(program, *args))
    except lazyir.IRRuntimeError:
        return ("error", None)


def _same_run(got, want) -> None:
    assert got[0] == want[0], f"optimized: {got[0]}, original: {want[0]}"
    if want[0] == "ok":
        assert_same(got[1], want[1], 0.0)


@st.composite
def shared_programs(draw):
    """Generated programs, sometimes with a sub-expression of the body repeated next to it (so
    cse has work, including expressions that may fail and were guarded by an ``if``)."""
    program, args = draw(programs(max_depth=3, max_loops=2))
    params = {name for name, _ in program.params}
    body = program.body
    parts = [
        x
        for x in subexpressions(body)
        if x.op not in (n.LAMBDA, n.ITER, n.IDENT, n.LIT) and not x.ty.is_builder and free_vars(x) <= params
    ]
    if parts and draw(st.booleans()):
        extra = draw(st.sampled_from(parts))
        shape = draw(st.sampled_from(["after", "before", "guarded"]))
        if shape == "after":
            body = n.make_struct(body, extra)
        elif shape == "before":
            body = n.make_struct(extra, body)
        else:  # the repeat under a condition: not evaluated when it is false
            cond = n.binop(">", n.Expr(n.LEN, (n.vector(n.lit(1, I64)),)), n.lit(draw(st.integers(0, 1)), I64))
            body = n.make_struct(body, n.if_(cond, n.make_struct(extra), n.make_struct(extra)))
        program = typecheck(n.lam(program.params, body))
    return program, args


@pytest.mark.parametrize("name", PASSES)
@settings(max_examples=60)
@given(case=shared_programs())
def test_pass_preserves_meaning(name, case):
    program, args = case
    out, _ = optimize(program, [name], verify=True)
    _same_run(_run(out, args), _run(program, args))


@settings(max_examples=60)
@given(case=shared_programs())
def test_passes_together_preserve_meaning(case):
    program, args = case
    out, _ = optimize(program, PASSES, verify=True)
    _same_run(_run(out, args), _run(program, args))


FAILING = [
    # the lookup fails for an empty vector; guarded or not, original and optimized agree
    "|v: vec[i64], c: bool| lookup(v, 0L) + if(c, lookup(v, 0L), 2L)",
    "|v: vec[i64], c: bool| if(c, lookup(v, 0L), 1L) + if(c, lookup(v, 0L), 2L)",
    "|v: vec[i64], c: bool| result(for(v, merger[i64,+], |b, i, x| if(c, merge(b, lookup(v, 1L) * x), b)))",
    "|v: vec[i64], c: bool| result(for(v, appender[bool], |b, i, x| merge(b, if(c, len(slice(v, 1L, 1L)) == x, false))))",
    "|v: vec[i64], c: bool| result(for(iter(v, 1L, len(v), 1L), appender[i64], |b, i, x| merge(b, x * 2L)))",
]


@pytest.mark.parametrize("text", FAILING)
@pytest.mark.parametrize("values", [[], [5], [1, 2, 3]])
@pytest.mark.parametrize("flag", [False, True])
def test_runtime_errors_are_kept(text, values, flag):
    program = lazyir.parse(text)
    args = (np.array(values, dtype=np.int64), np.bool_(flag))
    want = _run(program, args)
    for name in [*PASSES, None]:
        out, _ = optimize(program, [name] if name else PASSES, verify=True)
        _same_run(_run(out, args), want)


@st.composite
def filtered_reductions(draw):
    """``result(for(v, merger[T,op], |b, i, x| if(cond, merge(b, value), b)))`` (or mirrored) with
    random scalar ``cond`` and ``value``: what predicate rewrites, when ``value`` is cheap."""
    ty = draw(st.sampled_from(NUMERIC_TYPES))
    env = {"x": ty, "i": I64, "k": ty}
    cond = draw(scalar_exprs(BOOL, env, depth=2, max_loops=0))
    value = draw(scalar_exprs(ty, env, depth=2, max_loops=0))
    b = n.ident("b")
    branches = (n.merge(b, value), b) if draw(st.booleans()) else (b, n.merge(b, value))
    loop = n.for_(
        [n.ident("v")],
        n.new_builder(Merger(ty, draw(st.sampled_from(MERGE_OPS)))),
        n.lam([("b", None), ("i", None), ("x", None)], n.if_(cond, *branches)),
    )
    program = typecheck(n.lam([("v", Vec(ty)), ("k", ty)], n.result(loop)))
    return program, (draw(values_of(Vec(ty))), draw(values_of(ty)))


@settings(max_examples=80)
@given(case=filtered_reductions())
def test_predicated_reductions_are_exact(case):
    program, args = case
    out, _ = optimize(program, ["predicate"], verify=True)
    _same_run(_run(out, args), _run(program, args))
    if out is not program:
        assert not any(x.op == n.IF and x.ty.is_builder for x in subexpressions(out))


@settings(max_examples=30)
@given(case=st.one_of(shared_programs(), filtered_reductions()))
def test_compiled_optimized_equals_interpreted(case):
    program, args = case
    out, _ = optimize(program, PASSES, verify=True)
    want = _run(program, args)
    try:
        got = ("ok", lazyir.compile(out, cache=False, optimize=False)(*args))
    except lazyir.IRRuntimeError:
        got = ("error", None)
    assert got[0] == want[0]
    if want[0] == "ok":
        compare_compiled(got[1], want[1])
