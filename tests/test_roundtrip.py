"""Property tests on generated programs: typing, printing, parsing, pickling and interning.

Programs come from ``strategies.programs()`` (random well-typed IR with matching arguments).
"""

from __future__ import annotations

import copy
import importlib.util
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    expr_of_type,
    programs,
    random_program,
    scalar_exprs,
    scalar_types,
    special_values,
    subexpressions,
    values_of,
)

import lazyir
from lazyir.ir import nodes as n
from lazyir.ir import to_text, typecheck
from lazyir.ir.nodes import Expr
from lazyir.ir.types import BOOL, F64, I32, I64, Dict, Scalar, Struct, Vec

HAVE_PARSER = importlib.util.find_spec("lazyir.ir.parser") is not None
HAVE_INTERPRETER = importlib.util.find_spec("lazyir.ir.interpret") is not None


def _strip(e: Expr, root: bool = True) -> Expr:
    """``e`` as a front end would build it: no inferred types (literals keep theirs), inner lambdas
    without parameter types."""
    src = tuple(_strip(s, root=False) for s in e.src)
    arg = e.arg
    if e.op == n.LAMBDA and not root:
        arg = tuple((name, None) for name, _ in arg)
    return Expr(e.op, src, arg, e.ty if e.op == n.LIT else None)


def _rebuild(e: Expr) -> Expr:
    """A structurally equal copy of ``e`` built bottom-up from scratch."""
    return Expr(e.op, tuple(_rebuild(s) for s in e.src), e.arg, e.ty)


@given(programs())
def test_generated_programs_are_well_typed(case):
    program, args = case
    assert program.op == n.LAMBDA
    assert all(x.ty is not None for x in subexpressions(program))
    # Type checking is idempotent and recovers every inferred type from the bare tree.
    assert typecheck(program) is program
    assert typecheck(_strip(program)) is program
    # The arguments match the parameters: exact NumPy types, one shared vector length.
    assert len(args) == len(program.params)
    lengths = set()
    for (name, ty), arg in zip(program.params, args, strict=True):
        if isinstance(ty, Vec):
            assert isinstance(arg, np.ndarray) and arg.ndim == 1, name
            assert isinstance(ty.elem, Scalar) and arg.dtype == ty.elem.numpy, name
            lengths.add(len(arg))
        else:
            assert isinstance(ty, Scalar) and isinstance(arg, np.generic), name
            assert arg.dtype == ty.numpy, name
    assert len(lengths) <= 1


@pytest.mark.skipif(not HAVE_PARSER, reason="lazyir.ir.parser is not written yet")
@given(programs())
def test_print_parse_round_trip(case):
    program, _ = case
    text = str(program)
    parsed = lazyir.ir.parse(text)
    assert parsed is program, f"parse(str(p)) != p for:\n{text}\nparsed back as:\n{parsed}"
    assert str(parsed) == text


@given(programs())
def test_pickle_round_trip_and_interning(case):
    program, _ = case
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(program, protocol=protocol))
        assert back is program
        assert hash(back) == hash(program)
    assert copy.copy(program) is program
    assert copy.deepcopy(program) is program
    rebuilt = _rebuild(program)
    assert rebuilt is program and rebuilt == program and hash(rebuilt) == hash(program)
    stripped = _strip(program)
    assert (stripped == program) == (stripped is program)
    assert {program: 1}[rebuilt] == 1


@given(programs())
def test_printing_is_deterministic(case):
    program, _ = case
    text = str(program)
    assert to_text(program) == text
    assert str(_rebuild(program)) == text
    assert repr(program) == f"Expr<{text}>"
    # The text does not depend on inferred types: a bare tree prints the same.
    assert str(_strip(program)) == text


def test_pickles_and_text_survive_a_fresh_process():
    """Unpickling in another interpreter (another hash seed, nothing interned yet) rebuilds nodes
    that print the same text and intern consistently."""
    rng = random.Random(20240611)
    cases = [random_program(rng)[0] for _ in range(30)]
    texts = [str(p) for p in cases]
    script = (
        "import pickle, sys\n"
        "programs = pickle.loads(sys.stdin.buffer.read())\n"
        "again = pickle.loads(pickle.dumps(programs))\n"
        "assert all(a is b for a, b in zip(programs, again))\n"
        "sys.stdout.buffer.write(pickle.dumps([str(p) for p in programs]))\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": root}
    out = subprocess.run(
        [sys.executable, "-c", script], input=pickle.dumps(cases), capture_output=True, env=env, check=True
    )
    assert pickle.loads(out.stdout) == texts


@pytest.mark.skipif(not HAVE_INTERPRETER, reason="lazyir.ir.interpret is not written yet")
@given(programs())
def test_interpreter_runs_generated_programs(case):
    """Generated programs stay inside the defined semantics, so the reference interpreter must run
    them without any error (``IRRuntimeError`` included: indices and keys are guarded)."""
    program, args = case
    try:
        lazyir.interpret(program, *args)
    except lazyir.IRRuntimeError as err:  # a generator or interpreter bug: report either way
        raise AssertionError(f"IRRuntimeError {err} in a guarded program:\n{program}\nargs={args!r}") from err
    except Exception as err:
        raise AssertionError(f"interpret raised {err!r}\nprogram:\n{program}\nargs={args!r}") from err


# Building blocks ------------------------------------------------------------------------------

_FREE = {"x": F64, "k": I64, "flag": BOOL, "v": Vec(I32), "s": Struct((I32, F64))}


@given(st.data())
def test_scalar_exprs_are_typed_over_free_names(data):
    ty = data.draw(scalar_types)
    e = data.draw(scalar_exprs(ty, _FREE, depth=3))
    assert e.ty == ty
    assert typecheck(e, env=_FREE) is e
    free = {x.arg for x in subexpressions(e) if x.op == n.IDENT}
    bound = {x.arg for x in subexpressions(e) if x.op == n.LET}
    bound |= {name for x in subexpressions(e) if x.op == n.LAMBDA for name, _ in x.params}
    assert free <= set(_FREE) | bound


@given(st.data())
def test_expr_of_type_makes_the_requested_type(data):
    ty = data.draw(
        st.sampled_from([Vec(F64), Struct((I32, Vec(I64))), Dict(I64, F64), Dict(Struct((I32, F64)), Vec(I32))])
    )
    e = data.draw(expr_of_type(ty, _FREE, depth=3, shared=["v"]))
    assert e.ty == ty
    assert typecheck(e, env=_FREE) is e


@given(st.data())
def test_values_of_scalars_and_vectors(data):
    ty = data.draw(scalar_types)
    x = data.draw(values_of(ty))
    assert isinstance(x, np.generic) and x.dtype == ty.numpy
    v = data.draw(values_of(Vec(ty), length=3))
    assert isinstance(v, np.ndarray) and v.dtype == ty.numpy and v.shape == (3,)
    assert len(special_values(ty)) >= 2


def test_types_hash_apart_and_keep_their_hash_through_pickling():
    # the hash is computed once, when a type is made: it must tell types apart (all types once
    # hashed to 0, which made every dictionary keyed by types a single collision chain)
    import pickle

    from lazyir.ir import types as T

    scalars = list(T.SCALARS.values())
    made = scalars + [T.Vec(s) for s in scalars] + [T.Struct((s, T.I64)) for s in scalars]
    made += [B(T.F64, op) for B in (T.Merger, T.VecMerger, T.Scanner) for op in T.MERGE_OPS]
    made += [T.Appender(T.F64), T.Dict(T.I64, T.F64), T.DictMerger(T.I64, T.F64, "+"), T.GroupMerger(T.I64, T.F64)]
    assert len({hash(t) for t in made}) == len(made)
    for t in made:
        back = pickle.loads(pickle.dumps(t))
        assert back == t and hash(back) == hash(t)
