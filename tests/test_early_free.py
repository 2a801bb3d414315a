"""Temporary vectors are freed after the last statement that reads them (backend ``early_frees``),
and never while something can still refer to their memory."""

from __future__ import annotations

import numpy as np
from helpers import assert_same

import lazyir
from lazyir.backend.codegen import early_frees
from lazyir.ir.typecheck import typecheck

MAP = "result(for({v}, appender[f64], |b, i, x| merge(b, x * 2.0)))"


def _plan(text: str) -> dict[int, list[str]]:
    e = typecheck(lazyir.parse(text)).body
    chain = []
    while e.op == "let":
        chain.append((e.arg, e.src[0]))
        e = e.src[1]
    return {k: sorted(v) for k, v in early_frees(chain, e).items()}


def _same_everywhere(text: str, *args) -> None:
    want = lazyir.interpret(text, *args)
    assert_same(lazyir.compile(text, optimize=False)(*args), want)


def test_a_chain_frees_each_temporary_after_its_last_reader():
    text = (
        f"|a: vec[f64]| let t1 = {MAP.format(v='a')}; let t2 = {MAP.format(v='t1')}; "
        f"let t3 = result(for(t2, merger[f64,+], |s, i, x| merge(s, x + lookup(t1, i)))); "
        "{t3, len(a)}"
    )
    assert _plan(text) == {2: ["t1", "t2"]}
    _same_everywhere(text, np.arange(5.0))


def test_outputs_and_aliases_are_kept():
    t1 = MAP.format(v="a")
    # returned directly, through an alias, inside a struct, sliced: nothing is freed
    assert _plan(f"|a: vec[f64]| let t1 = {t1}; let n = len(t1); t1") == {}
    assert _plan(f"|a: vec[f64]| let t1 = {t1}; let t2 = t1; {MAP.format(v='t2')}") == {}
    assert _plan(f"|a: vec[f64]| let t1 = {t1}; let s = {{t1, 1L}}; {MAP.format(v='a')}") == {}
    assert _plan(f"|a: vec[f64]| let t1 = {t1}; let s = slice(t1, 0L, 2L); {MAP.format(v='s')}") == {}
    # a rebound name is left alone
    assert _plan(f"|a: vec[f64]| let t1 = {t1}; let x = len(t1); let t1 = {t1}; {{x, t1}}") == {}


def test_several_outputs_free_between_fields():
    text = (
        f"|a: vec[f64]| let t1 = {MAP.format(v='a')}; let t2 = {MAP.format(v='a')}; "
        "{result(for(t1, merger[f64,+], |s, i, x| merge(s, x))), "
        "result(for(t2, merger[f64,max], |s, i, x| merge(s, x + lookup(t1, 0L)))), t2}"
    )
    assert _plan(text) == {3: ["t1"]}  # t2 is an output
    _same_everywhere(text, np.arange(1.0, 6.0))
