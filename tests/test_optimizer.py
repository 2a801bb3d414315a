"""The optimizer pipeline as users see it: lazyir.optimize, explain, config, deep programs."""

from __future__ import annotations

import numpy as np
import pytest

import lazyir
from lazyir.ir import nodes as n
from lazyir.ir import types as T
from lazyir.ir.analysis import count_loops

CHAIN = """|a: vec[f64]|
  let m1 = result(for(a, appender[f64], |b, i, x| merge(b, x * 2.0)));
  let m2 = result(for(m1, appender[f64], |b, i, x| merge(b, x + 1.0)));
  let f = result(for(m2, appender[f64], |b, i, x| if(x > 1.5, merge(b, x), b)));
  result(for(f, merger[f64,+], |b, i, x| merge(b, x)))"""


def test_map_map_filter_sum_is_one_loop():
    optimized = lazyir.optimize(CHAIN)
    assert count_loops(lazyir.parse(CHAIN)) == 4
    assert count_loops(optimized) == 1
    a = np.linspace(-3, 3, 101)
    assert lazyir.compile(CHAIN)(a) == pytest.approx(float(np.sum((a * 2 + 1)[(a * 2 + 1) > 1.5])))


def test_explain_shows_before_after_passes_and_loops():
    text = lazyir.explain(CHAIN)
    assert "== program ==" in text and "== optimized ==" in text
    assert "fuse_vertical" in text and "changed" in text and " ms" in text
    assert "loops: 4 before, 1 after" in text


def test_passes_by_name_and_config():
    assert count_loops(lazyir.optimize(CHAIN, passes=[])) == 4
    assert count_loops(lazyir.optimize(CHAIN, passes=["inline", "fuse_vertical"])) == 1
    with lazyir.config.set(passes=("inline",)):
        assert count_loops(lazyir.optimize(CHAIN)) == 4
    with pytest.raises(ValueError, match="unknown optimizer pass"):
        lazyir.optimize(CHAIN, passes=["no_such_pass"])


def test_compile_can_skip_the_optimizer():
    a = np.arange(10.0)
    assert lazyir.compile(CHAIN, optimize=False)(a) == lazyir.compile(CHAIN)(a)


def _chain(k: int) -> n.Expr:
    app, mer = T.Appender(T.F64), T.Merger(T.F64, "+")
    cur: n.Expr = n.ident("a", T.Vec(T.F64))
    binds = []
    for j in range(k):
        x = n.ident("x", T.F64)
        body = n.merge(n.ident("b", app), n.binop("+", x, n.lit(float(j % 5), T.F64)))
        binds.append(
            (
                f"v{j}",
                n.result(n.for_([cur], n.new_builder(app), n.lam([("b", app), ("i", T.I64), ("x", T.F64)], body))),
            )
        )
        cur = n.ident(f"v{j}", T.Vec(T.F64))
    total = n.result(
        n.for_(
            [cur],
            n.new_builder(mer),
            n.lam([("b", mer), ("i", T.I64), ("x", T.F64)], n.merge(n.ident("b", mer), n.ident("x", T.F64))),
        )
    )
    for name, value in reversed(binds):
        total = n.let(name, value, total)
    return lazyir.ir.typecheck(n.lam([("a", T.Vec(T.F64))], total))


def test_ten_thousand_op_chain_does_not_fall_over():
    program = _chain(10_000)
    with lazyir.config.set(debug=0):
        optimized = lazyir.optimize(program)
    assert count_loops(optimized) == 1
    a = np.arange(5.0)
    expected = a + sum(j % 5 for j in range(10_000))
    assert lazyir.interpret(optimized, a) == pytest.approx(float(np.sum(expected)))


def _zip_chain(k: int) -> str:
    """k loops, each zipping the previous result with ``b`` (what binary NumPy operators build)."""
    lines, prev = ["|a: vec[f64], b: vec[f64]|"], "a"
    for j in range(k):
        lines.append(
            f"let m{j} = result(for(zip({prev}, b), appender[f64], |q, i, x| merge(q, x.$0 * x.$1 + {j % 7}.0)));"
        )
        prev = f"m{j}"
    lines.append(f"result(for({prev}, merger[f64,+], |q, i, x| merge(q, x)))")
    return "\n".join(lines)


def test_zip_chain_fuses_to_one_loop():
    text = _zip_chain(40)
    optimized = lazyir.optimize(text)
    assert count_loops(optimized) == 1
    assert "{" not in str(optimized).split("|", 2)[2]  # the zipped elements' struct lets are gone
    a, b = np.linspace(-1.0, 1.0, 7), np.linspace(0.5, 1.0, 7)
    want = lazyir.interpret(lazyir.parse(text), a, b)
    assert lazyir.interpret(optimized, a, b) == pytest.approx(float(want), rel=1e-12)


def test_zip_chain_optimizes_in_linear_time():
    # Fusing zipped maps leaves one struct let per loop, each read by the next; folding them
    # bottom-up was quadratic (a 2,000-loop chain took about a minute).
    import time

    from lazyir.optimizer.pipeline import optimize  # not lazyir.optimize: that caches results

    programs = {k: lazyir.ir.typecheck(lazyir.parse(_zip_chain(k))) for k in (150, 600)}
    best = dict.fromkeys(programs, float("inf"))
    for _ in range(3):  # interleaved, so that load on a shared machine hits both sizes alike
        for k, program in programs.items():
            t = time.perf_counter()
            optimize(program, lazyir.config.passes)
            best[k] = min(best[k], time.perf_counter() - t)
    assert best[600] < 8 * best[150], best  # 4x the loops: about 4x the time, not 16x
