"""Vertical fusion: golden IR text, loop counts, and equality with the unfused program."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_pass, assert_same, run_pass

import lazyir
from lazyir.ir.analysis import count_loops

MAP_MAP_FILTER_SUM = """|a: vec[f64]|
  result(for(result(for(result(for(result(for(a, appender[f64], |b, i, x| merge(b, x * 2.0))),
    appender[f64], |b, i, x| merge(b, x + 1.0))),
    appender[f64], |b, i, x| if(x > 1.5, merge(b, x), b))),
    merger[f64,+], |b, i, x| merge(b, x)))"""

MAP_MAP_FILTER_SUM_FUSED = """|a: vec[f64]|
  result(for(a, merger[f64,+], |b, i, x|
    let x = x * 2.0;
    let x = x + 1.0;
    if(x > 1.5, merge(b, x), b)))"""


def test_golden_chain_into_one_loop():
    assert_pass("fuse_vertical", MAP_MAP_FILTER_SUM, MAP_MAP_FILTER_SUM_FUSED)


def test_golden_zip_of_maps():
    assert_pass(
        "fuse_vertical",
        """|a: vec[f64], c: vec[f64]|
        result(for(zip(result(for(a, appender[f64], |b, i, x| merge(b, x * 2.0))), c), merger[f64,+],
          |b, i, e| merge(b, e.$0 * e.$1)))""",
        """|a: vec[f64], c: vec[f64]|
        result(for(zip(a, c), merger[f64,+], |b__1, i__2, e__3|
          let v__4 = e__3.$0 * 2.0;
          let e = {v__4, e__3.$1};
          let b = b__1;
          merge(b, e.$0 * e.$1)))""",
    )


def test_golden_len_and_lookup_of_a_map():
    assert_pass(
        "fuse_vertical",
        "|a: vec[f64]| let m = result(for(a, appender[f64], |b, i, x| merge(b, x * 3.0))); "
        "{len(result(for(a, appender[f64], |b, i, x| merge(b, x * 3.0)))), lookup(m, 2L)}",
        "|a: vec[f64]| let m = result(for(a, appender[f64], |b, i, x| merge(b, x * 3.0))); {len(a), lookup(m, 2L)}",
    )
    assert_pass(
        "fuse_vertical",
        "|a: vec[f64], k: i64| lookup(result(for(a, appender[f64], |b, i, x| merge(b, x * f64(i)))), k)",
        "|a: vec[f64], k: i64| let k__1 = k; let x__2 = lookup(a, k__1); x__2 * f64(k__1)",
    )


def test_filter_then_indexed_consumer_is_not_fused():
    # After a filter the consumer's index is not the producer's: no fusion.
    text = """|a: vec[f64]| result(for(result(for(a, appender[f64], |b, i, x| if(x > 0.0, merge(b, x), b))),
      appender[i64], |b, j, y| merge(b, j)))"""
    assert run_pass("fuse_vertical", text) is lazyir.parse(text)


def test_zip_consumer_dropping_its_builder_is_not_fused():
    # A consumer that returns a new builder is not a shape the pass threads (it used to raise).
    text = """|a: vec[f64], c: vec[f64]| result(for(zip(result(for(a, appender[f64], |b, i, x| merge(b, x * 2.0))), c),
      merger[f64,+], |b, i, e| merger[f64,+]))"""
    assert run_pass("fuse_vertical", text) is lazyir.parse(text)


def test_barriers_keep_their_loops():
    sort_barrier = """|a: vec[f64]| result(for(sort(result(for(a, appender[f64], |b, i, x| merge(b, -(x)))), |x| x),
      merger[f64,+], |b, i, x| merge(b, x * f64(i))))"""
    assert count_loops(run_pass("fuse_vertical", sort_barrier)) == 2
    dict_barrier = """|k: vec[i64], v: vec[f64]|
      let d = result(for(zip(k, v), dictmerger[i64,f64,+], |b, i, e| merge(b, e)));
      result(for(k, merger[f64,+], |b, i, x| merge(b, lookup(d, x))))"""
    assert count_loops(run_pass("fuse_vertical", dict_barrier)) == 2


def test_map_feeding_two_reductions_counts():
    text = """|a: vec[f64]|
      {result(for(result(for(a, appender[f64], |b, i, x| merge(b, x * x))), merger[f64,+], |b, i, x| merge(b, x))),
       result(for(result(for(a, appender[f64], |b, i, x| merge(b, x * x))), merger[f64,max], |b, i, x| merge(b, x)))}"""
    assert count_loops(lazyir.parse(text)) == 3  # the shared map is one node, evaluated twice
    assert count_loops(run_pass("fuse_vertical", text)) == 2


PROGRAMS = [
    MAP_MAP_FILTER_SUM,
    """|a: vec[f64]| result(for(result(for(a, appender[f64], |b, i, x| if(x > 0.0, merge(merge(b, x), -(x)), b))),
        appender[i64], |b, j, y| merge(b, i64(y))))""",
    """|n: i64| result(for(result(for(rangeiter(0L, n, 1L), appender[i64], |b, i, x| merge(b, x * x))),
        merger[i64,+], |b, i, y| merge(b, y + i)))""",
    """|a: vec[f64], c: vec[f64]| result(for(zip(result(for(a, appender[f64], |b, i, x| merge(b, x * 2.0))), c,
        result(for(zip(a, c), appender[f64], |b, i, x| merge(b, x.$0 - x.$1)))), merger[f64,+],
        |b, i, e| merge(b, e.$0 * e.$1 + e.$2 + f64(i))))""",
    """|a: vec[f64]| result(for(result(for(a, appender[f64], |b, i, x|
        for(rangeiter(0L, i % 3L, 1L), b, |b2, j, y| merge(b2, x + f64(y))))), merger[f64,+], |b, i, x| merge(b, x)))""",
    """|a: vec[f64]| let x = 5.0; result(for(result(for(a, appender[f64], |b, i, y| let x = y * 2.0; merge(b, x))),
        appender[f64], |b, i, e| merge(b, e + x)))""",
]


@pytest.mark.parametrize("text", PROGRAMS)
@pytest.mark.parametrize("n", [0, 1, 17])
def test_fused_equals_unfused(text, n):
    program = lazyir.parse(text)
    fused = run_pass("fuse_vertical", text)
    assert count_loops(fused) < count_loops(program)
    rng = np.random.default_rng(n)
    args = [rng.standard_normal(n) if str(ty) == "vec[f64]" else np.int64(n) for _, ty in program.params]
    want = lazyir.interpret(program, *args)
    assert_same(lazyir.interpret(fused, *args), want, 0.0)
    assert_same(lazyir.compile(fused, cache=False, optimize=False)(*args), want, 1e-12)


# -- generated chains: maps, filters, zips, reductions over 1-3 input vectors --------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_MAPS = ["x * 2.0", "x + 1.5", "-(x)", "x * x", "sqrt(abs(x))", "min(x, 0.5)", "x / 3.0", "x + f64(i)"]
_FILTERS = ["x > 0.0", "x < 1.0", "x == x"]
_FINAL = [
    "merger[f64,+]|merge(b, x)",
    "merger[f64,max]|merge(b, x)",
    "appender[f64]|merge(b, x)",
    "merger[i64,+]|merge(b, 1L)",
]


@st.composite
def chains(draw):
    nvec = draw(st.integers(1, 3))
    names = [f"v{k}" for k in range(nvec)]
    current = names[0]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["map", "map", "filter", "zip"]))
        if kind == "map":
            body = draw(st.sampled_from(_MAPS))
            current = f"result(for({current}, appender[f64], |b, i, x| merge(b, {body})))"
        elif kind == "filter":
            cond = draw(st.sampled_from(_FILTERS))
            current = f"result(for({current}, appender[f64], |b, i, x| if({cond}, merge(b, x), b)))"
        elif "if(" not in current:  # zip needs equal lengths: only before any filter
            other = draw(st.sampled_from(names))
            current = f"result(for(zip({current}, {other}), appender[f64], |b, i, e| merge(b, e.$0 * 0.5 + e.$1)))"
    builder, merge = draw(st.sampled_from(_FINAL)).split("|")
    params = ", ".join(f"{n}: vec[f64]" for n in names)
    return f"|{params}| result(for({current}, {builder}, |b, i, x| {merge}))", nvec


@given(chains(), st.integers(0, 12), st.integers(0, 2**31))
def test_generated_chains_fuse_to_one_loop(case, n, seed):
    text, nvec = case
    program = lazyir.parse(text)
    fused = run_pass("fuse_vertical", text)
    assert count_loops(fused) == 1, str(fused)
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal(n) for _ in range(nvec)]
    want = lazyir.interpret(program, *args)
    assert_same(lazyir.interpret(fused, *args), want, 0.0)
    assert_same(lazyir.compile(fused, cache=False, optimize=False)(*args), want, 1e-9)


# ---------------------------------------------------------------------------------------------
# Values used more than once (frontends name every call): maps are recomputed per consuming loop,
# the loops then fuse horizontally and ``cse`` computes the shared body once.


def test_golden_inline_of_a_map_used_by_two_loops():
    assert_pass(
        "inline",
        """|a: vec[f64]| let m = result(for(a, appender[f64], |b, i, x| merge(b, x * 2.0)));
        {result(for(m, merger[f64,+], |b, i, x| merge(b, x))), result(for(m, merger[f64,max], |b, i, x| merge(b, x))), len(m)}""",
        """|a: vec[f64]|
        {result(for(result(for(a, appender[f64], |b, i, x| merge(b, x * 2.0))), merger[f64,+], |b, i, x| merge(b, x))),
         result(for(result(for(a, appender[f64], |b, i, x| merge(b, x * 2.0))), merger[f64,max], |b, i, x| merge(b, x))),
         len(result(for(a, appender[f64], |b, i, x| merge(b, x * 2.0))))}""",
    )


@pytest.mark.parametrize(
    "use",
    [
        "{m, result(for(m, merger[f64,+], |b, i, x| merge(b, x)))}",  # the vector itself is a result
        "{lookup(m, 0L), result(for(m, merger[f64,+], |b, i, x| merge(b, x)))}",  # read by lookup
        "result(for(a, appender[f64], |b, i, x| merge(b, x + result(for(m, merger[f64,+], |c, j, y| merge(c, y))))))",
    ],
)
def test_a_map_used_otherwise_stays_materialized(use):
    text = f"|a: vec[f64]| let m = result(for(a, appender[f64], |b, i, x| merge(b, x * 2.0))); {use}"
    assert run_pass("inline", text) is lazyir.parse(text)


def test_golden_zip_is_deduplicated_and_ordered():
    # The zipped map reads its element's fields straight from the fused loop's element.
    assert_pass(
        "fuse_vertical",
        """|p: vec[f64], q: vec[f64]|
        result(for(zip(q, result(for(zip(p, q), appender[f64], |b, i, x| merge(b, x.$0 * x.$1)))), merger[f64,+],
          |b, i, e| merge(b, e.$0 + e.$1)))""",
        """|p: vec[f64], q: vec[f64]|
        result(for(zip(p, q), merger[f64,+], |b__1, i__2, e__3|
          let v__4 = e__3.$0 * e__3.$1;
          let e = {e__3.$1, v__4};
          let b = b__1;
          merge(b, e.$0 + e.$1)))""",
    )


def test_golden_struct_let_read_by_field():
    assert_pass(
        "fold",
        "|v: vec[{f64, f64}]| result(for(v, merger[f64,+], |b, i, x| let e = {x.$1, x.$0 * 2.0}; merge(b, e.$0 * e.$1 + e.$1)))",
        "|v: vec[{f64, f64}]| result(for(v, merger[f64,+], |b, i, x| merge(b, x.$1 * (x.$0 * 2.0) + x.$0 * 2.0)))",
    )
    whole = "|x: {f64, f64}| let e = {x.$1, x.$0}; {e, e.$0}"
    assert run_pass("fold", whole) is lazyir.parse(whole)


def test_black_scholes_shape_is_one_loop():
    # Every intermediate named once and used twice, as a frontend writes it.
    text = """|p: vec[f64], k: vec[f64], t: vec[f64]|
      let s = result(for(t, appender[f64], |b, i, x| merge(b, sqrt(x))));
      let d1 = result(for(zip(p, k, s), appender[f64], |b, i, e| merge(b, log(e.$0 / e.$1) / e.$2)));
      let d2 = result(for(zip(d1, s), appender[f64], |b, i, e| merge(b, e.$0 - e.$1)));
      let call = result(for(zip(p, d1, d2), appender[f64], |b, i, e| merge(b, e.$0 * erf(e.$1) - erf(e.$2))));
      let put = result(for(zip(d1, d2, k), appender[f64], |b, i, e| merge(b, e.$2 * erf(e.$1) - erf(e.$0))));
      {call, put}"""
    prog = lazyir.parse(text)
    assert count_loops(prog) == 5
    opt = lazyir.optimize(prog)
    assert count_loops(opt) == 1
    assert str(opt).count("erf(") == 2  # each erf computed once in the fused body
    rng = np.random.default_rng(3)
    args = [rng.uniform(1.0, 2.0, 33) for _ in range(3)]
    assert_same(lazyir.compile(prog)(*args), lazyir.interpret(prog, *args), rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# Review findings: capture, lost errors, and growth


def _same_everywhere(text, *args):
    """Optimized == original, interpreted and compiled, errors included."""
    prog = lazyir.parse(text)

    def outcome(fn):
        try:
            return ("ok", fn())
        except lazyir.IRRuntimeError:
            return ("error", None)

    want = outcome(lambda: lazyir.interpret(prog, *args))
    for got in (
        outcome(lambda: lazyir.interpret(lazyir.optimize(prog), *args)),
        outcome(lambda: lazyir.compile(prog)(*args)),
    ):
        assert got[0] == want[0], (text, got, want)
        if want[0] == "ok":
            assert_same(got[1], want[1], rtol=1e-12)


@pytest.mark.parametrize(
    "inner",
    ["let i = i * 10L; merge(b, x + f64(i + i))", "let i = x * 2.0; merge(b, i + i)"],
)
def test_producer_binders_do_not_capture_the_consumer_index(inner):
    text = f"""|a: vec[f64]| let m = result(for(a, appender[f64], |b, i, x| {inner}));
      result(for(m, appender[f64], |q, j, y| merge(q, y + f64(j))))"""
    _same_everywhere(text, np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize(
    "use",
    [
        "result(for(m, merger[f64,+], |s, i, x| merge(s, 1.0)))",  # the element is ignored
        "f64(len(m) + len(m))",
        "lookup(m, 0L)",
    ],
)
def test_a_failing_map_keeps_its_error_when_fused(use):
    text = f"""|a: vec[f64], b: vec[f64]|
      let m = result(for(a, appender[f64], |q, i, x| merge(q, lookup(b, i)))); {use}"""
    _same_everywhere(text, np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0]))
    _same_everywhere(text, np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize(
    "text",
    [
        "|a: vec[f64], c: bool| let x = {lookup(a, 5L), 1.0}; if(c, x.$0, x.$1)",
        "|a: vec[f64], c: bool| let x = {lookup(a, 5L), 1.0}; result(for(a, merger[f64,+], |q, i, y| merge(q, x.$0 + y)))",
    ],
)
def test_struct_fields_that_can_fail_are_not_moved(text):
    _same_everywhere(text, np.array([1.0, 2.0, 3.0]), np.bool_(False))
    _same_everywhere(text, np.array([], dtype=np.float64), np.bool_(False))


def test_a_loop_field_is_not_moved_into_a_loop_body():
    text = """|a: vec[f64]| let x = {result(for(a, merger[f64,+], |q, i, y| merge(q, y))), 1.0};
      result(for(a, appender[f64], |b, i, y| merge(b, y / x.$0 + x.$1)))"""
    opt = str(lazyir.optimize(lazyir.parse(text)))
    assert opt.index("merger[f64,+]") < opt.index("appender"), opt  # the sum stays outside


def test_chains_of_shared_maps_stay_small():
    lines, prev = ["|a: vec[f64], b: vec[f64]|"], "a"
    for k in range(60):
        lines.append(
            f"let m{k} = result(for(zip({prev}, b), appender[f64], |q, i, x| merge(q, x.$0 * x.$1 + f64(i))));"
        )
        lines.append(f"let s{k} = result(for(m{k}, merger[f64,+], |q, i, x| merge(q, x)));")
        prev = f"m{k}"
    lines.append("{" + ", ".join(f"s{k}" for k in range(60)) + "}")
    prog = lazyir.parse("\n".join(lines))
    opt = lazyir.optimize(prog)
    assert len(str(opt)) < 40 * len(str(prog))
    args = (np.linspace(0, 1, 5), np.linspace(1, 0.5, 5))
    assert_same(lazyir.compile(prog)(*args), lazyir.interpret(prog, *args), rtol=1e-9)
