"""Horizontal fusion: golden IR text, loop counts, and equality with the unfused program
(interpreted exactly, and compiled)."""

from __future__ import annotations

import numpy as np
from helpers import assert_pass, assert_same
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import programs

import lazyir
from lazyir.ir import nodes as n
from lazyir.ir.analysis import count_loops
from lazyir.ir.typecheck import typecheck
from lazyir.ir.types import F64, I32, I64, Appender, DictMerger, Merger, Scalar, Struct, Vec, VecMerger
from lazyir.optimizer.pipeline import optimize

PASS = "fuse_horizontal"


def fuse(program: n.Expr) -> n.Expr:
    return optimize(program, passes=[PASS], verify=True)[0]


def unchanged(text: str) -> None:
    assert_pass(PASS, text, text)


# ---------------------------------------------------------------------------------------------
# Golden tests


def test_sum_and_max_of_one_vector_become_one_loop():
    assert_pass(
        PASS,
        """|v: vec[f64]|
        let s = result(for(v, merger[f64,+], |b, i, e| merge(b, e)));
        let m = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
        {s, m}""",
        """|v: vec[f64]|
        let h = result(for(v, {merger[f64,+], merger[f64,max]}, |bs, i, e| {merge(bs.$0, e), merge(bs.$1, e)}));
        let s = h.$0;
        let m = h.$1;
        {s, m}""",
    )


def test_loops_in_the_result_expression():
    assert_pass(
        PASS,
        """|v: vec[f64]|
        {result(for(v, merger[f64,+], |b, i, x| merge(b, x))) / f64(len(v)),
         result(for(v, merger[f64,min], |b, i, x| merge(b, x)))}""",
        """|v: vec[f64]|
        let h = result(for(v, {merger[f64,+], merger[f64,min]}, |bs, i, e| {merge(bs.$0, e), merge(bs.$1, e)}));
        {h.$0 / f64(len(v)), h.$1}""",
    )


BLACK_SCHOLES = """|s: vec[f64], k: vec[f64], t: vec[f64], r: f64, vol: f64|
  let call = result(for(zip(s, k, t), appender[f64](len(s)), |b, i, e|
    let d1 = (log(e.$0 / e.$1) + (r + vol * vol / 2.0) * e.$2) / (vol * sqrt(e.$2));
    let d2 = d1 - vol * sqrt(e.$2);
    merge(b, e.$0 * (0.5 + 0.5 * erf(d1 / sqrt(2.0))) - e.$1 * exp(-(r) * e.$2) * (0.5 + 0.5 * erf(d2 / sqrt(2.0))))));
  let put = result(for(zip(s, k, t), appender[f64](len(s)), |b, i, e|
    let d1 = (log(e.$0 / e.$1) + (r + vol * vol / 2.0) * e.$2) / (vol * sqrt(e.$2));
    let d2 = d1 - vol * sqrt(e.$2);
    merge(b, e.$1 * exp(-(r) * e.$2) * (0.5 - 0.5 * erf(d2 / sqrt(2.0))) - e.$0 * (0.5 - 0.5 * erf(d1 / sqrt(2.0))))));
  {call, put}"""

BLACK_SCHOLES_FUSED = """|s: vec[f64], k: vec[f64], t: vec[f64], r: f64, vol: f64|
  let h = result(for(zip(s, k, t), {appender[f64](len(s)), appender[f64](len(s))}, |bs, i, e|
    {let d1 = (log(e.$0 / e.$1) + (r + vol * vol / 2.0) * e.$2) / (vol * sqrt(e.$2));
     let d2 = d1 - vol * sqrt(e.$2);
     merge(bs.$0, e.$0 * (0.5 + 0.5 * erf(d1 / sqrt(2.0))) - e.$1 * exp(-(r) * e.$2) * (0.5 + 0.5 * erf(d2 / sqrt(2.0)))),
     let d1 = (log(e.$0 / e.$1) + (r + vol * vol / 2.0) * e.$2) / (vol * sqrt(e.$2));
     let d2 = d1 - vol * sqrt(e.$2);
     merge(bs.$1, e.$1 * exp(-(r) * e.$2) * (0.5 - 0.5 * erf(d2 / sqrt(2.0))) - e.$0 * (0.5 - 0.5 * erf(d1 / sqrt(2.0))))}));
  let call = h.$0;
  let put = h.$1;
  {call, put}"""


def test_black_scholes_call_and_put_become_one_loop():
    assert_pass(PASS, BLACK_SCHOLES, BLACK_SCHOLES_FUSED)
    program = lazyir.parse(BLACK_SCHOLES)
    assert count_loops(program) == 2 and count_loops(fuse(program)) == 1
    rng = np.random.default_rng(0)
    s, k = rng.uniform(50, 150, 100), rng.uniform(50, 150, 100)
    t = rng.uniform(0.1, 2.0, 100)
    args = (s, k, t, np.float64(0.03), np.float64(0.2))
    want = lazyir.interpret(program, *args)
    assert_same(lazyir.interpret(fuse(program), *args), want)
    # Compiled, against the compiled original: libm's erf/exp/log differ from NumPy's in the last
    # bits, which the cancellations in d1 and d2 magnify.
    unfused = lazyir.compile(program, cache=False, optimize=False)(*args)
    assert_same(lazyir.compile(fuse(program), cache=False, optimize=False)(*args), unfused, 1e-9)


def test_a_map_and_a_reduction_over_the_same_inputs():
    assert_pass(
        PASS,
        """|a: vec[f64], c: vec[f64]|
        let d = result(for(zip(a, c), appender[f64], |b, i, e| merge(b, e.$0 - e.$1)));
        let n2 = result(for(zip(a, c), merger[f64,+], |b, i, e| merge(b, (e.$0 - e.$1) * (e.$0 - e.$1))));
        {d, sqrt(n2)}""",
        """|a: vec[f64], c: vec[f64]|
        let h = result(for(zip(a, c), {appender[f64], merger[f64,+]}, |bs, i, e|
          {merge(bs.$0, e.$0 - e.$1), merge(bs.$1, (e.$0 - e.$1) * (e.$0 - e.$1))}));
        let d = h.$0;
        let n2 = h.$1;
        {d, sqrt(n2)}""",
    )


def test_a_loop_depending_on_another_stays_out():
    # The third loop uses the mean the first one computes: the first two fuse, the third stays.
    assert_pass(
        PASS,
        """|v: vec[f64]|
        let s = result(for(v, merger[f64,+], |b, i, e| merge(b, e)));
        let m = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
        let mean = s / f64(len(v));
        let var = result(for(v, merger[f64,+], |b, i, e| merge(b, (e - mean) * (e - mean))));
        {s, m, var}""",
        """|v: vec[f64]|
        let h = result(for(v, {merger[f64,+], merger[f64,max]}, |bs, i, e| {merge(bs.$0, e), merge(bs.$1, e)}));
        let s = h.$0;
        let m = h.$1;
        let mean = s / f64(len(v));
        let var = result(for(v, merger[f64,+], |b, i, e| merge(b, (e - mean) * (e - mean))));
        {s, m, var}""",
    )


def test_a_loop_over_a_loop_result_stays_out():
    # The second loop reads the map's result directly (nested, not through a let).
    unchanged(
        """|v: vec[f64]|
        result(for(v, vecmerger[f64,+](result(for(v, appender[f64], |b, i, e| merge(b, e * 2.0)))),
          |b, i, e| merge(b, {i, e})))"""
    )


def test_an_independent_later_loop_joins_after_a_dependent_one():
    # x2 depends on x0 and starts a second group; x3 is independent and joins the latest group.
    assert_pass(
        PASS,
        """|v: vec[i64]|
        let x0 = result(for(v, merger[i64,+], |b, i, e| merge(b, e)));
        let x1 = result(for(v, merger[i64,*], |b, i, e| merge(b, e)));
        let x2 = result(for(v, merger[i64,max], |b, i, e| merge(b, e + x0)));
        let x3 = result(for(v, merger[i64,min], |b, i, e| merge(b, e)));
        {x0, x1, x2, x3}""",
        """|v: vec[i64]|
        let h = result(for(v, {merger[i64,+], merger[i64,*]}, |bs, i, e| {merge(bs.$0, e), merge(bs.$1, e)}));
        let x0 = h.$0;
        let x1 = h.$1;
        let h__1 = result(for(v, {merger[i64,max], merger[i64,min]}, |bs, i, e| {merge(bs.$0, e + x0), merge(bs.$1, e)}));
        let x2 = h__1.$0;
        let x3 = h__1.$1;
        {x0, x1, x2, x3}""",
    )


def test_loops_over_different_vectors_stay_separate():
    unchanged(
        """|a: vec[f64], c: vec[f64]|
        let x = result(for(a, merger[f64,+], |b, i, e| merge(b, e)));
        let y = result(for(c, merger[f64,+], |b, i, e| merge(b, e)));
        let z = result(for(zip(a, c), merger[f64,+], |b, i, e| merge(b, e.$0)));
        let w = result(for(zip(c, a), merger[f64,+], |b, i, e| merge(b, e.$1)));
        let u = result(for(iter(a, 0L, len(a), 2L), merger[f64,+], |b, i, e| merge(b, e)));
        {x, y, z, w, u}"""
    )


def test_loops_inside_a_lambda_are_not_touched():
    unchanged(
        """|v: vec[f64], w: vec[f64]|
        result(for(w, appender[f64], |b, i, x|
          merge(b, x * result(for(v, merger[f64,+], |b2, j, e| merge(b2, e)))
                     + result(for(v, merger[f64,max], |b2, j, e| merge(b2, e))))))"""
    )
    unchanged(
        """|v: vec[f64]|
        sort(v, |x| result(for(v, merger[f64,+], |b, i, e| merge(b, e * x)))
                  + result(for(v, merger[f64,min], |b, i, e| merge(b, e * x))))"""
    )


def test_a_loop_whose_builder_is_not_fresh_is_not_touched():
    unchanged(
        """|v: vec[f64]|
        let bld = merger[f64,+];
        let x = result(for(v, bld, |b, i, e| merge(b, e)));
        let y = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
        {x, y}"""
    )
    unchanged(
        """|v: vec[f64]|
        let x = result(for(v, merge(merger[f64,+], 1.0), |b, i, e| merge(b, e)));
        let y = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
        {x, y}"""
    )


def test_a_loop_merging_into_an_outer_builder_is_not_touched():
    unchanged(
        """|v: vec[f64]|
        let o = appender[f64];
        let x = result(for(v, merger[f64,+], |b, i, e| let u = merge(o, e); merge(b, e)));
        let y = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
        {x, y, result(o)}"""
    )


def test_a_loop_whose_builder_flows_elsewhere_is_not_touched():
    # The inner loop is the builder of the outer one: it has no result() of its own.
    unchanged(
        """|v: vec[f64]|
        let x = result(for(v, for(v, merger[f64,+], |b, i, e| merge(b, e)), |b, i, e| merge(b, e * 2.0)));
        let y = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
        {x, y}"""
    )


def test_a_loop_in_an_if_branch_is_not_moved_out():
    assert_pass(
        PASS,
        """|v: vec[f64], c: bool|
        let x = if(result(for(v, merger[f64,min], |b, i, e| merge(b, e))) > 0.0,
                   result(for(v, merger[f64,+], |b, i, e| merge(b, e))), 0.0);
        let y = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
        {x, y}""",
        """|v: vec[f64], c: bool|
        let h = result(for(v, {merger[f64,min], merger[f64,max]}, |bs, i, e| {merge(bs.$0, e), merge(bs.$1, e)}));
        let x = if(h.$0 > 0.0, result(for(v, merger[f64,+], |b, i, e| merge(b, e))), 0.0);
        let y = h.$1;
        {x, y}""",
    )


def test_a_loop_using_a_nested_let_is_not_moved_out():
    unchanged(
        """|v: vec[f64]|
        let x = (let k = 2.0; result(for(v, merger[f64,+], |b, i, e| merge(b, e * k))));
        let y = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
        {x, y}"""
    )


def test_a_shadowed_vector_is_another_iteration_space():
    unchanged(
        """|v: vec[f64], w: vec[f64]|
        let x = result(for(v, merger[f64,+], |b, i, e| merge(b, e)));
        let v = w;
        let y = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
        {x, y}"""
    )


def test_loop_parameters_are_substituted_without_capture():
    # The bodies use outer names bs and i, and name their own parameters differently.
    assert_pass(
        PASS,
        """|v: vec[i64], bs: i64, i: i64|
        {result(for(v, merger[i64,+], |acc, k, x| merge(acc, x + bs + i))),
         result(for(v, appender[i64], |e, x, i| let bs = i * 2L; merge(e, bs + x)))}""",
        """|v: vec[i64], bs: i64, i: i64|
        let h = result(for(v, {merger[i64,+], appender[i64]}, |bs__1, i__2, e|
          {merge(bs__1.$0, e + bs + i), let bs = e * 2L; merge(bs__1.$1, bs + i__2)}));
        {h.$0, h.$1}""",
    )


def test_struct_builders_and_repeated_loops():
    # A loop with a struct of builders nests in the fused struct; a loop written twice is one member.
    loop = "result(for(v, merger[f64,+], |b, i, e| merge(b, e)))"
    assert_pass(
        PASS,
        f"""|v: vec[f64]|
        let a = result(for(v, {{merger[f64,min], appender[f64]}}, |b, i, e| {{merge(b.$0, e), merge(b.$1, e * e)}}));
        {{a, {loop}, {loop} * 2.0}}""",
        """|v: vec[f64]|
        let h = result(for(v, {{merger[f64,min], appender[f64]}, merger[f64,+]}, |bs, i, e|
          {{merge(bs.$0.$0, e), merge(bs.$0.$1, e * e)}, merge(bs.$1, e)}));
        let a = h.$0;
        {a, h.$1, h.$1 * 2.0}""",
    )


def test_loops_over_a_fused_result_come_after_it():
    # The map is fused with the min; the two reductions over the map's result fuse in a second
    # loop placed after the first.
    mapped = "result(for(v, appender[f64], |b, i, e| merge(b, e * 2.0)))"
    assert_pass(
        PASS,
        f"""|v: vec[f64]|
        let a = result(for({mapped}, merger[f64,+], |b, i, e| merge(b, e)));
        let c = result(for({mapped}, merger[f64,max], |b, i, e| merge(b, e)));
        let d = result(for(v, merger[f64,min], |b, i, e| merge(b, e)));
        {{a, c, d}}""",
        """|v: vec[f64]|
        let h = result(for(v, {appender[f64], merger[f64,min]}, |bs, i, e| {merge(bs.$0, e * 2.0), merge(bs.$1, e)}));
        let h__1 = result(for(h.$0, {merger[f64,+], merger[f64,max]}, |bs, i, e| {merge(bs.$0, e), merge(bs.$1, e)}));
        let a = h__1.$0;
        let c = h__1.$1;
        let d = h.$1;
        {a, c, d}""",
    )


def test_a_loop_in_a_builder_argument_is_fused_but_its_consumer_is_not():
    assert_pass(
        PASS,
        """|v: vec[f64]|
        let a = result(for(v, vecmerger[f64,+](result(for(v, appender[f64], |b, i, e| merge(b, e)))),
          |b, i, e| merge(b, {i, e})));
        let c = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
        {a, c}""",
        """|v: vec[f64]|
        let h = result(for(v, {appender[f64], merger[f64,max]}, |bs, i, e| {merge(bs.$0, e), merge(bs.$1, e)}));
        let a = result(for(v, vecmerger[f64,+](h.$0), |b, i, e| merge(b, {i, e})));
        let c = h.$1;
        {a, c}""",
    )


def test_rangeiter_and_zip_with_iter_spaces_fuse():
    assert_pass(
        PASS,
        """|v: vec[f64], w: vec[f64]|
        {result(for(rangeiter(0L, 10L, 2L), merger[i64,+], |b, i, e| merge(b, e))),
         result(for(rangeiter(0L, 10L, 2L), appender[i64], |b, i, e| merge(b, e * i))),
         result(for(zip(iter(v, 1L, len(v), 1L), w), merger[f64,+], |b, i, e| merge(b, e.$0))),
         result(for(zip(iter(v, 1L, len(v), 1L), w), merger[f64,+], |b, i, e| merge(b, e.$1)))}""",
        """|v: vec[f64], w: vec[f64]|
        let h = result(for(rangeiter(0L, 10L, 2L), {merger[i64,+], appender[i64]}, |bs, i, e|
          {merge(bs.$0, e), merge(bs.$1, e * i)}));
        let h__1 = result(for(zip(iter(v, 1L, len(v), 1L), w), {merger[f64,+], merger[f64,+]}, |bs, i, e|
          {merge(bs.$0, e.$0), merge(bs.$1, e.$1)}));
        {h.$0, h.$1, h__1.$0, h__1.$1}""",
    )


def test_a_single_loop_is_left_alone():
    program = lazyir.parse("|v: vec[f64]| result(for(v, merger[f64,+], |b, i, e| merge(b, e)))")
    assert fuse(program) is program


# ---------------------------------------------------------------------------------------------
# Loop counts


def test_loop_counts():
    k_loops = "\n".join(
        f"let x{k} = result(for(zip(a, c), merger[f64,{op}], |b, i, e| merge(b, e.$0 * {k}.0 + e.$1)));"
        for k, op in enumerate(("+", "min", "max", "+", "*"))
    )
    program = lazyir.parse(f"|a: vec[f64], c: vec[f64]| {k_loops} {{x0, x1, x2, x3, x4}}")
    assert count_loops(program) == 5
    assert count_loops(fuse(program)) == 1
    chained = lazyir.parse(
        "|v: vec[f64]| let s = result(for(v, merger[f64,+], |b, i, e| merge(b, e)));"
        "let d = result(for(v, appender[f64], |b, i, e| merge(b, e - s)));"
        "let q = result(for(v, merger[f64,+], |b, i, e| merge(b, (e - s) * (e - s))));"
        "let mx = result(for(d, merger[f64,max], |b, i, e| merge(b, e)));"
        "let mn = result(for(d, merger[f64,min], |b, i, e| merge(b, e)));"
        "{q, mx, mn}"
    )
    # s; then d and q (both use s); then mx and mn over d.
    assert count_loops(chained) == 5
    assert count_loops(fuse(chained)) == 3


def test_long_let_chains_and_deep_expressions():
    # Programs frontends make: a thousand lets, expressions a thousand deep (past Python's stack).
    lines = ["|v: vec[f64]|"]
    for k in range(1500):
        uses = f" + x{k - 1}" if k % 3 == 2 else ""
        lines.append(f"let x{k} = result(for(v, merger[f64,+], |b, i, e| merge(b, e * {k}.0{uses})));")
    lines.append("x1499")
    chain = lazyir.parse("\n".join(lines))
    fused = fuse(chain)
    # Every third loop uses the previous one and starts a group; x1499 is left on its own.
    assert count_loops(chain) == 1500 and count_loops(fused) == 501
    deep = "result(for(v, merger[f64,+], |b, i, e| merge(b, e)))"
    for k in range(1000):
        deep = f"({deep} + result(for(v, merger[f64,max], |b, i, e| merge(b, e * {k}.0))))"
    deep_program = lazyir.parse("|v: vec[f64]| " + deep)
    fused_deep = optimize(deep_program, passes=[PASS])[0]
    assert count_loops(fused_deep) == 1
    v = np.array([1.0, -2.0, 3.0])
    assert_same(lazyir.interpret(fused, v), lazyir.interpret(chain, v))
    assert_same(lazyir.interpret(fused_deep, v), lazyir.interpret(deep_program, v))


# ---------------------------------------------------------------------------------------------
# Random programs: the fused program computes exactly what the original does


def _run(program: n.Expr, args: tuple):
    try:
        return lazyir.interpret(program, *args), None
    except lazyir.IRRuntimeError as exc:
        return None, exc


@given(programs(max_depth=4, max_loops=2))
def test_generated_programs_fused_equal_original(case):
    program, args = case
    fused = fuse(program)
    want, want_error = _run(program, args)
    got, got_error = _run(fused, args)
    assert (got_error is None) == (want_error is None), (got_error, want_error)
    if want_error is None:
        assert_same(got, want, 0.0)


# Programs with several top-level loops over a few iteration spaces, some using the results of
# others. Their values stay small integers (or NaN and infinities from the inputs): float sums
# are then exact in any order, so compiled and interpreted results agree to rounding.

_ELEM_TYPES: tuple[Scalar, ...] = (F64, I64, I32)
_LOOP_NAMES = (("b", "i", "e"), ("acc", "k", "x"), ("bs", "e", "i"))
_BIG = 20  # every leaf of a merged value is within [-_BIG, _BIG] (or NaN/inf)


def _clamp(x: n.Expr, ty: Scalar) -> n.Expr:
    return n.binop("min", n.binop("max", x, n.lit(-_BIG, ty)), n.lit(_BIG, ty))


def _array(ty: Scalar, length: int) -> st.SearchStrategy[np.ndarray]:
    small = st.integers(-_BIG, _BIG)
    elems = st.one_of(small, st.sampled_from((np.nan, np.inf, -np.inf, -0.0))) if ty == F64 else small
    return st.lists(elems, min_size=length, max_size=length).map(lambda xs: np.array(xs, dtype=ty.numpy))


#: Expressions a generated value may use, with their types.
Leaves = list[tuple[n.Expr, Scalar]]


class _FusableGen:
    """Choices drawn by Hypothesis for :func:`fusable_programs`."""

    def __init__(self, draw):
        self.draw = draw

    def pick(self, seq):
        return seq[self.draw(st.integers(0, len(seq) - 1))] if len(seq) > 1 else seq[0]

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) < percent

    def leaf(self, ty: Scalar, leaves: Leaves) -> n.Expr:
        same = [x for x, t in leaves if t == ty]
        other = [x for x, t in leaves if t != ty]
        form = self.pick(("var", "var", "cast", "lit"))
        if form == "var" and same:
            return self.pick(same)
        if form == "cast" and other:
            return n.cast(ty, self.pick(other))
        return n.lit(self.draw(st.integers(-5, 5)), ty)

    def expr(self, ty: Scalar, leaves: Leaves, depth: int = 2) -> n.Expr:
        """At most ``2**depth`` leaves: values within ``_BIG**4`` stay exact integers in f64."""
        form = "leaf" if depth == 0 else self.pick(("leaf", "binop", "binop", "select"))
        if form == "leaf":
            return self.leaf(ty, leaves)
        if form == "binop":
            op = self.pick(("+", "-", "*", "min", "max"))
            return n.binop(op, self.expr(ty, leaves, depth - 1), self.expr(ty, leaves, depth - 1))
        cty = self.pick(_ELEM_TYPES)
        cond = n.binop(self.pick(("<", "==", ">=")), self.leaf(cty, leaves), self.leaf(cty, leaves))
        return n.select(cond, self.expr(ty, leaves, depth - 1), self.expr(ty, leaves, depth - 1))

    def loop(self, space, kind: str, outer: Leaves, vectors: Leaves, initial: bool | None = None):
        """``(result(for(...)), result type)`` of a loop over ``space`` filling a ``kind`` builder
        (``initial``: whether a merger gets an initial value; random if None)."""
        iters, elem = space
        bname, iname, ename = self.pick(_LOOP_NAMES)
        b, e = n.ident(bname), n.ident(ename)
        leaves = [*outer, (n.ident(iname), I64)]
        if isinstance(elem, Struct):
            leaves += [(n.getfield(e, k), t) for k, t in enumerate(elem.fields)]
        else:
            leaves.append((e, elem))
        ty = self.pick(_ELEM_TYPES)
        if kind == "vecmerger" and not any(t == ty for _, t in vectors):
            kind = "merger"
        if kind == "merger":
            op = self.pick(("+", "min", "max", "*") if ty.is_int else ("+", "min", "max"))
            if initial is None:
                initial = self.chance(25)
            args = (n.lit(self.draw(st.integers(-3, 3)), ty),) if initial else ()
            builder, rty = n.new_builder(Merger(ty, op), *args), ty
            body = self.merge(b, self.expr(ty, leaves), leaves)
        elif kind == "appender":
            args = (n.lit(self.draw(st.integers(0, 4)), I64),) if self.chance(25) else ()
            builder, rty = n.new_builder(Appender(ty), *args), Vec(ty)
            body = self.merge(b, self.expr(ty, leaves), leaves)
        elif kind == "dict":
            builder, rty = n.new_builder(DictMerger(I64, ty, "+")), None
            key = n.binop("%", n.ident(iname), n.lit(3, I64))
            body = self.merge(b, n.make_struct(key, self.expr(ty, leaves)), leaves)
        elif kind == "vecmerger":  # indices i < the space's length <= the vectors' length
            v = self.pick([x for x, t in vectors if t == ty])
            if self.chance(50):  # the initial vector is itself a (fusable) loop's result
                v = n.result(
                    n.for_(
                        [v],
                        n.new_builder(Appender(ty)),
                        n.lam([("b", None), ("i", None), ("e", None)], n.merge(n.ident("b"), n.ident("e"))),
                    )
                )
            builder, rty = n.new_builder(VecMerger(ty, "+"), v), Vec(ty)
            body = self.merge(b, n.make_struct(n.ident(iname), self.expr(ty, leaves)), leaves)
        else:  # a struct of builders
            builder = n.make_struct(n.new_builder(Merger(ty, "+")), n.new_builder(Appender(ty)))
            rty = Struct((ty, Vec(ty)))
            body = n.make_struct(
                n.merge(n.getfield(b, 0), self.expr(ty, leaves)), n.merge(n.getfield(b, 1), self.expr(ty, leaves))
            )
            if self.chance(30):
                body = n.if_(self.condition(leaves), body, b)
        func = n.lam([(bname, None), (iname, None), (ename, None)], body)
        return n.result(n.for_(iters, builder, func)), rty

    def condition(self, leaves: Leaves) -> n.Expr:
        ty = self.pick(_ELEM_TYPES)
        return n.binop(">", self.expr(ty, leaves, 1), self.expr(ty, leaves, 1))

    def merge(self, b: n.Expr, value: n.Expr, leaves: Leaves) -> n.Expr:
        if self.chance(30):  # a body let whose name the fused loop might capture
            name = self.pick([x for x in ("t", "bs", "e", "i", "h") if x != b.arg])
            merged = n.let(name, value, n.merge(b, n.ident(name)))
        else:
            merged = n.merge(b, value)
        return n.if_(self.condition(leaves), merged, b) if self.chance(30) else merged


@st.composite
def fusable_programs(draw):
    """``(program, args)``: top-level loops over one to three iteration spaces, the first two of
    them independent loops over the same space (so fusion always applies)."""
    g = _FusableGen(draw)
    types = [g.pick(_ELEM_TYPES) for _ in range(draw(st.integers(1, 3)))]
    params = [(f"v{k}", Vec(t)) for k, t in enumerate(types)]
    vectors = [(n.ident(name), ty.elem) for name, ty in params]
    length = draw(st.integers(0, 12))
    args = tuple(draw(_array(t, length)) for t in types)
    v0 = vectors[0][0]
    candidates = [([v], t) for v, t in vectors]
    candidates += [([a, c], Struct((ta, tc))) for a, ta in vectors for c, tc in vectors]
    candidates.append(([n.rangeiter(n.lit(0, I64), n.call(n.LEN, v0), n.lit(1, I64))], I64))
    candidates.append(([n.iter_(v0, n.lit(0, I64), n.call(n.LEN, v0), n.lit(2, I64))], vectors[0][1]))
    spaces = [g.pick(candidates) for _ in range(draw(st.integers(1, 2)))]
    lets: list[tuple[str, n.Expr]] = []
    scalars: Leaves = []  # clamped top-level scalars later loops may use
    for k in range(draw(st.integers(2, 6))):
        name = f"x{k}"
        if k < 2:  # independent and different: a merger and an appender over the first space
            kind = ("merger", "appender")[k]
            value, rty = g.loop(spaces[0], kind, [], vectors, initial=False)
        elif g.chance(15) and scalars:
            kind, ty = "scalar", g.pick(_ELEM_TYPES)
            value, rty = n.binop("+", g.expr(ty, scalars, 1), n.lit(1, ty)), ty
        else:
            kind = g.pick(("merger", "merger", "appender", "dict", "vecmerger", "struct"))
            used = [s for s in scalars if g.chance(50)]
            value, rty = g.loop(g.pick(spaces), kind, used, vectors)
        lets.append((name, value))
        if isinstance(rty, Scalar):
            scalars.append((_clamp(n.ident(name), rty), rty))
        elif isinstance(rty, Vec) and kind == "appender" and g.chance(50):
            spaces.append(([n.ident(name)], rty.elem))  # loops over a map's result
    fields = [n.ident(name) for name, _ in lets]
    if g.chance(50):
        fields.append(g.loop(spaces[0], "merger", scalars, vectors)[0])
    if g.chance(30):  # evaluated only sometimes: stays where it is (an initial value keeps it
        # different from the first loop, which must fuse)
        inner, ty = g.loop(spaces[0], "merger", [], vectors, initial=True)
        fields.append(n.if_(n.binop(">", n.call(n.LEN, v0), n.lit(2, I64)), inner, n.lit(0, ty)))
    body: n.Expr = n.make_struct(*fields)
    for name, value in reversed(lets):
        body = n.let(name, value, body)
    return typecheck(n.lam(params, body)), args


def _fused_case(case):
    program, args = case
    fused = fuse(program)
    assert count_loops(fused) < count_loops(program), f"nothing fused in\n{program}"
    return program, fused, args


@given(fusable_programs())
def test_fusable_programs_interpreted(case):
    program, fused, args = _fused_case(case)
    assert_same(lazyir.interpret(fused, *args), lazyir.interpret(program, *args), 0.0)


@settings(max_examples=25)
@given(fusable_programs())
def test_fusable_programs_compiled(case):
    program, fused, args = _fused_case(case)
    want = lazyir.interpret(program, *args)
    assert_same(lazyir.compile(fused, cache=False, optimize=False)(*args), want, 1e-9)
