"""Partitioned execution (``lazyir.dist``): top-level loops split into chunks on threads give the
results of one pass, for every builder kind and any chunking (empty and one-element chunks too).

Integers and order-keeping outputs (appenders, scanners of integers) are bit-identical; float sums
and products combine in another order and agree within rounding (``test_differential._compare``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import programs
from test_differential import _compare

import lazyir
from lazyir.errors import IRRuntimeError


def _chunking(draw_cuts):
    """``count -> bounds`` from a list of fractions (sorted cut points; repeats give empty chunks)."""

    def bounds(count: int) -> list[tuple[int, int]]:
        cuts = sorted(int(f * count) for f in draw_cuts)
        edges = [0, *cuts, count]
        return list(zip(edges[:-1], edges[1:], strict=True))

    return bounds


def _run(program, args, cuts, threads=2):
    fn = lazyir.compile(program, cache=False)
    return fn.run_partitioned(args, threads, 1, _chunking(cuts))


@settings(max_examples=150)
@given(programs(max_depth=3, max_loops=2, top_loop=True), st.lists(st.floats(0, 1), max_size=5))
def test_partitioned_equals_one_pass(case, cuts):
    program, args = case
    try:
        want = lazyir.compile(program, cache=False)(*args)
    except IRRuntimeError:
        with pytest.raises(IRRuntimeError):
            _run(program, args, cuts)
        return
    _compare(_run(program, args, cuts), want)


BUILDERS = {
    "appender": "result(for(a, appender[i64], |b, i, x| if(x % 3L == 0L, b, merge(b, x * i))))",
    "merger": "result(for(a, merger[i64,+](7L), |b, i, x| merge(b, x * i)))",
    "max": "result(for(a, merger[i64,max], |b, i, x| merge(b, x - i)))",
    "vecmerger": "result(for(a, vecmerger[i64,+](v), |b, i, x| merge(b, {(x & 1023L) % len(v), i})))",
    "scanner": "result(for(a, scanner[i64,+], |b, i, x| merge(b, x * 3L)))",
    "scanner max": "result(for(a, scanner[i64,max], |b, i, x| merge(b, x ^ i)))",
    "struct": "result(for(zip(a, rangeiter(5L, 5L + 2L * len(a), 2L)), {appender[i64], merger[i64,*], scanner[i64,min]}, "
    "|b, i, e| {merge(b.$0, e.$1), merge(b.$1, e.$0 | 1L), merge(b.$2, e.$0 - e.$1)}))",
}


DICTS = {
    "dictmerger": "result(for(a, dictmerger[i64,i64,+], |b, i, x| merge(b, {x % 17L, i * x})))",
    "dictmerger struct": "result(for(a, dictmerger[{i64,i64},{i64,i32},min], |b, i, x| "
    "merge(b, {{x % 5L, x % 3L}, {i, i32(x)}})))",
    "groupmerger": "result(for(a, groupmerger[i64,i64], |b, i, x| merge(b, {x % 11L, i})))",
    "float keys": "result(for(a, dictmerger[f64,i64,max], |b, i, x| merge(b, {f64(x % 4L) * 0.0 / f64(x % 3L), i})))",
}


@pytest.mark.parametrize("name", sorted(DICTS))
@pytest.mark.parametrize("cuts", [[0.5], [0.0, 0.0, 1.0], [0.1, 0.1, 0.3, 0.9999]])
def test_dictionaries_merge_by_key_in_first_insertion_order(name, cuts):
    # Weld's multi-threaded dictmerger gave wrong results; here every chunking gives one pass's
    # keys, order and values (NaN and -0.0 keys included: canonical, one key each)
    text = f"|a: vec[i64]| {DICTS[name]}"
    a = np.random.default_rng(4).integers(-1000, 1000, 2001)
    fn = lazyir.compile(text)
    assert fn.plan().loops == 1
    want = fn(a)
    got = fn.run_partitioned((a,), 2, 1, _chunking(cuts))
    np.testing.assert_array_equal(got.keys, want.keys)
    if isinstance(want.values, list):
        assert len(got.values) == len(want.values)
        for g, w in zip(got.values, want.values, strict=True):
            np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_array_equal(got.values, want.values)


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("cuts", [[], [0.5], [0.0, 0.0, 1.0], [0.1, 0.1, 0.3, 0.9999], [0.25, 0.5, 0.75]])
def test_each_builder_kind_is_bit_identical(name, cuts):
    text = f"|a: vec[i64], v: vec[i64]| {BUILDERS[name]}"
    a = np.random.default_rng(1).integers(-1000, 1000, 1001)
    v = np.arange(13, dtype=np.int64)
    want = lazyir.compile(text)(a, v)
    fn = lazyir.compile(text)
    assert fn.plan() is not None and fn.plan().loops == 1
    got = fn.run_partitioned((a, v), 2, 1, _chunking(cuts))
    if isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_array_equal(got, want)


def test_several_statements_and_a_builder_read_through_result():
    # the Black-Scholes shape: a loop into a struct of appenders bound by let, read via result
    text = (
        "|a: vec[f64], b: vec[f64]| let r = for(zip(a, b), {appender[f64], appender[f64]}, |s, i, e| "
        "{merge(s.$0, e.$0 * e.$1), merge(s.$1, e.$0 - e.$1)}); "
        "let t = result(for(result(r.$0), merger[f64,max], |m, i, x| merge(m, x))); {result(r.$1), t}"
    )
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(500), rng.standard_normal(500)
    fn = lazyir.compile(text)
    assert fn.plan().loops == 2
    want = fn(a, b)
    got = fn.run_partitioned((a, b), 2, 1, _chunking([0.3, 0.6]))
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1] == want[1]


def test_errors_are_the_loops_own():
    fn = lazyir.compile("|a: vec[i64], b: vec[i64]| result(for(zip(a, b), merger[i64,+], |s, i, e| merge(s, e.$0)))")
    with pytest.raises(IRRuntimeError, match="unequal"):
        fn.run_partitioned((np.arange(10), np.arange(11)), 2, 1)
    fn = lazyir.compile("|a: vec[i64]| result(for(a, merger[i64,+], |s, i, x| merge(s, lookup(a, x))))")
    with pytest.raises(IRRuntimeError, match="lookup"):
        fn.run_partitioned((np.arange(10) * 3,), 2, 1, _chunking([0.5]))


def test_big_inputs_use_the_threads_and_agree():
    # through the ordinary call: several threads, inputs of more than two chunks
    text = "|a: vec[i64]| {result(for(a, merger[i64,+], |s, i, x| merge(s, x * x))), result(for(a, scanner[i64,+], |s, i, x| merge(s, x)))}"
    a = np.random.default_rng(3).integers(-(10**6), 10**6, 5000)
    fn = lazyir.compile(text)
    with lazyir.config.set(num_threads=1):
        want = fn(a)
    with lazyir.config.set(num_threads=2, min_chunk=1000):
        got = fn(a)
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])


def test_independent_loops_run_at_the_same_time():
    # two loops that read only the inputs: each waits at a barrier for the other, which only
    # works when the dependency scheduler runs them concurrently; the third reads both
    import threading

    from lazyir.dist import partition, threads

    text = (
        "|a: vec[i64]| let s = result(for(a, merger[i64,+], |m, i, x| merge(m, x))); "
        "let t = result(for(a, merger[i64,max], |m, i, x| merge(m, x))); "
        "result(for(a, merger[i64,+], |m, i, x| merge(m, x * s + t)))"
    )
    fn = lazyir.compile(text)
    plan = partition.plan(lazyir.engine._optimize(fn._program)[0])
    # the optimizer may fuse the two independent loops horizontally; use the plan as written then
    if plan.loops < 3:
        plan = partition.plan(fn._program)
    assert plan.loops == 3
    barrier = threading.Barrier(2, timeout=20)
    seen = []

    def runner(loop, env):
        if len(seen) < 2:
            seen.append(loop)
            barrier.wait()
        return threads._run_loop(loop, env, lazyir.engine._compile_stage, 1, 1, None)

    a = np.arange(100, dtype=np.int64)
    got = threads.run_statements(plan, [a], lazyir.engine._compile_stage, runner, concurrent=2)
    with lazyir.config.set(scheduler="sync"):
        assert got == fn(a)


def test_a_long_evaluation_shows_progress(monkeypatch, capsys):
    from lazyir.dist import threads

    monkeypatch.setattr(threads, "PROGRESS_DELAY", 0.0)
    fn = lazyir.compile("|a: vec[i64]| result(for(a, merger[i64,+], |m, i, x| merge(m, x)))")
    a = np.arange(4000, dtype=np.int64)
    with lazyir.config.set(num_threads=2, min_chunk=1000, progress=True):
        assert fn(a) == a.sum()
    assert "chunk" in capsys.readouterr().err
    with lazyir.config.set(num_threads=2, min_chunk=1000, progress=False):
        assert fn(a) == a.sum()
    assert "chunk" not in capsys.readouterr().err


def test_the_compile_cache_is_thread_safe():
    # many threads compile (the same and different programs) and run at once: one compiled
    # program per structure, every result right
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"|a: vec[i64]| result(for(a, merger[i64,+], |s, i, x| merge(s, x * {k}L + i)))" for k in range(6)]
    a = np.arange(3000, dtype=np.int64)

    def work(j: int) -> tuple:
        text = texts[j % len(texts)]
        fn = lazyir.compile(lazyir.parse(text), cache=False)
        with lazyir.config.set(num_threads=2, min_chunk=100):
            return j % len(texts), fn, fn(a)

    with ThreadPoolExecutor(8) as ex:
        out = list(ex.map(work, range(48)))
    for k, fn, got in out:
        assert got == int((a * k + a).sum())
        assert fn is lazyir.compile(lazyir.parse(texts[k]), cache=False)


def test_iterator_bounds_computed_from_lengths_split_right():
    # ``len(a) - 1L`` and friends are worked out without the interpreter (which would first
    # convert the whole vector); wrapping as the IR does
    text = (
        "|a: vec[i64]| {result(for(rangeiter(0L, len(a) - 1L, 1L), merger[i64,+], |s, i, x| "
        "merge(s, lookup(a, i + 1L) - lookup(a, i) * i))), "
        "result(for(rangeiter(min(len(a), 7L) * 2L, max(len(a), 3L) + 0L, 1L), appender[i64], |s, i, x| merge(s, i)))}"
    )
    fn = lazyir.compile(text)
    a = np.random.default_rng(4).integers(-100, 100, 5001)
    with lazyir.config.set(scheduler="sync"):
        want = fn(a)
    got = fn.run_partitioned((a,), 2, 1, chunking=lambda count: [(0, count // 3), (count // 3, count)])
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])
