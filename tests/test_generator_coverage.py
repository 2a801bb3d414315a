"""The program generator must keep covering the whole IR: every op, operator, type and builder.

Generated programs are tallied by feature, and the tests fail when a change to the generator makes
a feature disappear (or become rare). The main tally uses ``random_program`` with a fixed seed:
independent samples, so rare features show up reliably. Hypothesis' own examples are correlated
(it mutates earlier examples), so the derandomized Hypothesis sample checks only coarse features.
"""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from strategies import SCALAR_TYPES, programs, random_program, special_values, subexpressions

from lazyir.ir import nodes as n
from lazyir.ir.types import MERGE_OPS, Scalar, Struct

#: How many independent seeded programs the coverage test tallies ...
SAMPLE = 1000
#: ... and how many of them must show each feature (each cast pair: two).
MIN_COUNT = 10
#: How many Hypothesis-generated cases the coarse check tallies.
HYPOTHESIS_SAMPLE = 200


def _float_features(x: float) -> set[tuple]:
    if math.isnan(x):
        return {("float", "nan")}
    if math.isinf(x):
        return {("float", "inf" if x > 0 else "-inf")}
    if x == 0.0 and math.copysign(1.0, x) < 0:
        return {("float", "-0.0")}
    return set()


def _scope_features(e: n.Expr, scope: frozenset[str], found: set[tuple]) -> None:
    """Record lets and lambda parameters that shadow a name already in scope."""
    if e.op == n.LET:
        _scope_features(e.src[0], scope, found)
        if e.arg in scope:
            found.add(("shadowing", "let"))
        _scope_features(e.src[1], scope | {e.arg}, found)
        return
    if e.op == n.LAMBDA:
        names = {name for name, _ in e.params}
        if names & scope:
            found.add(("shadowing", "lambda"))
        _scope_features(e.body, scope | names, found)
        return
    for s in e.src:
        _scope_features(s, scope, found)


def _features(program: n.Expr, args: tuple) -> set[tuple]:
    """The features of one generated case, as hashable tuples."""
    found: set[tuple] = set()
    for e in subexpressions(program):
        found.add(("op", e.op))
        if isinstance(e.ty, Scalar):
            found.add(("type", e.ty.name))
        if e.op == n.BINOP:
            found.add(("binop", e.arg))
        elif e.op == n.UNOP:
            found.add(("unop", e.arg))
        elif e.op == n.ITER:
            found.add(("iter", e.arg))
        elif e.op == n.CAST:
            found.add(("cast", e.src[0].ty.name, e.arg.name))  # type: ignore[union-attr]
        elif e.op == n.NEWBUILDER:
            found.add(("builder", type(e.arg).__name__, getattr(e.arg, "op", None)))
        elif e.op == n.LIT and e.ty.is_float:  # type: ignore[union-attr]
            found |= _float_features(e.arg)
        elif e.op == n.LIT and e.ty.is_int and e.arg in special_values(e.ty)[2:4]:  # type: ignore[union-attr]
            found.add(("literal", "extreme int"))
        elif e.op == n.FOR:
            iters, builder, func = n.for_parts(e)
            if len(iters) > 1:
                found.add(("loop", "zip"))
            if isinstance(builder.ty, Struct):
                found.add(("loop", "struct of builders"))
            inner = list(subexpressions(func.body))
            if any(x.op == n.FOR for x in inner):
                found.add(("loop", "nested"))
            if any(x.op == n.IF and x.ty.is_builder for x in inner):  # type: ignore[union-attr]
                found.add(("loop", "filter"))
    _scope_features(program, frozenset(), found)
    for a in args:
        if isinstance(a, np.ndarray):
            found.add(("vec length", min(len(a), 2)))
            if a.dtype.kind == "f":
                for x in a.tolist():
                    found |= _float_features(x)
        elif isinstance(a, np.floating):
            found |= _float_features(float(a))
    return found


def _expected() -> set[tuple]:
    want: set[tuple] = set()
    want |= {("op", op) for op in n.ALL_OPS}
    want |= {("type", t.name) for t in SCALAR_TYPES}
    want |= {("binop", op) for op in n.BINOPS}
    want |= {("unop", op) for op in n.UNOPS}
    want |= {("iter", kind) for kind in n.ITER_KINDS}
    want |= {("cast", a.name, b.name) for a in SCALAR_TYPES for b in SCALAR_TYPES}
    for kind in ("Merger", "VecMerger", "Scanner", "DictMerger"):
        want |= {("builder", kind, op) for op in MERGE_OPS}
    want |= {("builder", "Appender", None), ("builder", "GroupMerger", None)}
    want |= {("loop", kind) for kind in ("zip", "struct of builders", "nested", "filter")}
    want |= {("shadowing", "let"), ("shadowing", "lambda")}
    want |= {("vec length", k) for k in (0, 1, 2)}
    want |= {("float", v) for v in ("nan", "inf", "-inf", "-0.0")}
    want |= {("literal", "extreme int")}
    return want


def tally_random(sample: int = SAMPLE, seed: int = 2024) -> tuple[Counter[tuple], int]:
    """Feature counts over ``sample`` independent programs drawn with a seeded ``random.Random``,
    and the number of distinct programs among them."""
    rng = random.Random(seed)
    counts: Counter[tuple] = Counter()
    distinct: set[n.Expr] = set()
    for _ in range(sample):
        program, args = random_program(rng)
        distinct.add(program)
        counts.update(_features(program, args))
    return counts, len(distinct)


def test_generator_covers_the_ir():
    """Independent seeded samples: every feature of the IR, with a margin (rare ones are real
    regressions, not bad luck)."""
    counts, distinct = tally_random()
    assert distinct >= SAMPLE * 9 // 10, f"only {distinct} distinct programs in {SAMPLE}"
    # Each of the 121 cast pairs is individually rare.
    rare = sorted((f for f in _expected() if counts[f] < (2 if f[0] == "cast" else MIN_COUNT)), key=repr)
    assert not rare, f"the generator (almost) no longer produces: {[(f, counts[f]) for f in rare]}"


def test_hypothesis_draws_cover_the_constructs():
    """The same generator driven by Hypothesis (as the property tests use it) reaches every op,
    scalar type and builder kind. Hypothesis' examples are correlated (it mutates earlier ones),
    so this checks only the coarse features, on a derandomized sample."""
    counts: Counter[tuple] = Counter()

    @settings(
        max_examples=HYPOTHESIS_SAMPLE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(programs())
    def collect(case):
        program, args = case
        counts.update(_features(program, args))

    collect()
    coarse = {f for f in _expected() if f[0] in ("op", "type", "iter")}
    coarse |= {("loop", "zip"), ("loop", "nested"), ("vec length", 0), ("vec length", 1)}
    kinds = {f[1] for f in counts if f[0] == "builder"}
    missing = sorted(coarse - set(counts), key=repr)
    assert not missing, f"Hypothesis-driven generation no longer produces: {missing}"
    assert kinds == {"Appender", "Merger", "VecMerger", "Scanner", "DictMerger", "GroupMerger"}, kinds


if __name__ == "__main__":  # calibration: python tests/test_generator_coverage.py [sample]
    import sys

    counts, distinct = tally_random(int(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE)
    print("distinct programs:", distinct)
    for feature in sorted(_expected(), key=lambda f: (counts[f], repr(f))):
        print(f"{counts[feature]:5d}  {feature}")
