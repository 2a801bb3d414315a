"""Random NumPy programs, run with ``lazyir.numpy`` and with NumPy: the same results.

Each program is a random sequence of operations on a few arrays of one shape (elementwise math,
broadcasting, views, rolls, reductions, masks, gathers, casts); every intermediate value may be
read later again, so the optimizer's fusion, inlining of shared values and the gathers' own
element computation are exercised together. All values are evaluated in one program."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyir
import lazyir.numpy as lnp


@pytest.fixture(autouse=True)
def compiled_always():
    with lazyir.config.set(eager_threshold=0):
        yield


def _ops(shape: tuple[int, ...]):
    nd = len(shape)
    unary = [
        ("sqrt_abs", lambda np_, x: np_.sqrt(np_.abs(x))),
        ("scale", lambda np_, x: x * 1.5 - 0.25),
        ("exp_neg", lambda np_, x: np_.exp(-np_.abs(x))),
        ("where", lambda np_, x: np_.where(x > 0.1, x, -x * 0.5)),
        ("clip", lambda np_, x: np_.clip(x, -1.0, 2.0)),
        ("reverse", lambda np_, x: x[::-1]),
        ("roll", lambda np_, x: np_.roll(x, 1, axis=0)),
        ("roll_back", lambda np_, x: np_.roll(x, -2, axis=nd - 1)),
        ("minus_mean", lambda np_, x: x - x.mean()),
        ("minus_row_max", lambda np_, x: x - x.max(axis=nd - 1, keepdims=True)),
        ("div_col_sum", lambda np_, x: x / (np_.abs(x).sum(axis=0, keepdims=True) + 1.0)),
        ("floor", lambda np_, x: np_.floor(x * 3.0)),
        ("via_int", lambda np_, x: (x * 10.0).astype(np.int32).astype(np.float64) / 10.0),
    ]
    if nd >= 2:
        unary += [
            ("transpose_back", lambda np_, x: (x.T * 2.0).T),
            (
                "every_other_col",
                lambda np_, x: np_.concatenate([x[:, ::2], x[:, 1::2]], axis=1) if x.shape[1] % 2 == 0 else x,
            ),
        ]
    binary = [
        ("add", lambda np_, x, y: x + y),
        ("mul", lambda np_, x, y: x * y),
        ("hypot_like", lambda np_, x, y: np_.sqrt(x * x + y * y)),
        ("max", lambda np_, x, y: np_.maximum(x, y)),
        ("select", lambda np_, x, y: np_.where(x > y, x - y, y - x)),
        ("bcast_row", lambda np_, x, y: x + y[(0,) * (nd - 1)] if nd > 1 else x + y[0]),
    ]
    return unary, binary


@st.composite
def programs(draw):
    shape = draw(st.sampled_from([(7,), (1,), (4, 5), (3, 1), (2, 3, 4)]))
    unary, binary = _ops(shape)
    steps = []
    for _ in range(draw(st.integers(1, 9))):
        if draw(st.booleans()):
            steps.append(("u", draw(st.integers(0, len(unary) - 1)), draw(st.integers(0, 99))))
        else:
            steps.append(
                ("b", draw(st.integers(0, len(binary) - 1)), draw(st.integers(0, 99)), draw(st.integers(0, 99)))
            )
    seed = draw(st.integers(0, 2**16))
    outputs = draw(st.lists(st.integers(0, 99), min_size=1, max_size=3))
    reduce_last = draw(st.booleans())
    return shape, steps, seed, outputs, reduce_last


def run(np_, shape, steps, seed, outputs, reduce_last, inputs):
    unary, binary = _ops(shape)
    values = list(inputs)
    for step in steps:
        if step[0] == "u":
            _, k, a = step
            values.append(unary[k][1](np_, values[a % len(values)]))
        else:
            _, k, a, b = step
            values.append(binary[k][1](np_, values[a % len(values)], values[b % len(values)]))
    outs = [values[o % len(values)] for o in outputs]
    if reduce_last:
        outs.append(values[-1].sum())
    return outs


@settings(max_examples=60)
@given(programs())
def test_random_programs_match_numpy(case):
    shape, steps, seed, outputs, reduce_last = case
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal(shape), rng.uniform(-2, 2, shape)]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = run(np, shape, steps, seed, outputs, reduce_last, inputs)
        lazy = run(lnp, shape, steps, seed, outputs, reduce_last, [lnp.asarray(x) for x in inputs])
        got = lazyir.evaluate(lazy)
    for g, w in zip(got, want, strict=True):
        _close(g, w)


def _close(got, want) -> None:
    """Same type, dtype and shape; values equal up to rounding relative to the values' scale
    (sums and means are reassociated in compiled code; cancellation makes small values noisy)."""
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray)
    else:
        assert isinstance(got, np.generic) and got.dtype == np.asarray(want).dtype, (got, want)
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
    assert (np.isnan(g) == np.isnan(w)).all(), (g, w)
    finite = np.isfinite(w)
    assert (g[~finite & ~np.isnan(w)] == w[~finite & ~np.isnan(w)]).all(), (g, w)
    scale = 1.0 + (float(np.max(np.abs(w[finite]))) if finite.any() else 0.0)
    assert np.all(np.abs(g[finite] - w[finite]) <= 1e-9 * scale * max(1, w.size)), (g, w)


INT_UNARY = [
    lambda np_, x: x * 3 - 7,
    lambda np_, x: x // 3,
    lambda np_, x: x % 5,
    lambda np_, x: x >> 1,
    lambda np_, x: x & 0x5A,
    lambda np_, x: np_.where(x > 2, x, -x),
    lambda np_, x: x[::-1],
    lambda np_, x: np_.roll(x, 2, axis=0),
    lambda np_, x: x - x.min(axis=0, keepdims=True),
    lambda np_, x: (x.astype(np.float64) / 3.0).astype(x.dtype),
    lambda np_, x: np_.abs(x),
    lambda np_, x: x.sum(axis=-1, keepdims=True).astype(x.dtype) + x,
]
INT_BINARY = [
    lambda np_, x, y: x + y,
    lambda np_, x, y: x * y,
    lambda np_, x, y: np_.maximum(x, y),
    lambda np_, x, y: x ^ y,
    lambda np_, x, y: np_.where(x < y, x, y),
    lambda np_, x, y: x // (np_.abs(y) + 1),
]


@settings(max_examples=40)
@given(
    st.sampled_from([np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64, np.uint64]),
    st.sampled_from([(6,), (3, 4)]),
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 11), st.integers(0, 99), st.integers(0, 99)), min_size=1, max_size=8
    ),
    st.integers(0, 2**16),
)
def test_random_integer_programs_match_numpy_exactly(dtype, shape, steps, seed):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    inputs = [rng.integers(info.min, int(info.max) + 1, shape, dtype=dtype) for _ in range(2)]

    def program(np_, xs):
        values = list(xs)
        for unary, k, a, b in steps:
            if unary:
                values.append(INT_UNARY[k % len(INT_UNARY)](np_, values[a % len(values)]))
            else:
                values.append(INT_BINARY[k % len(INT_BINARY)](np_, values[a % len(values)], values[b % len(values)]))
        return [values[-1], values[len(values) // 2], values[-1].sum()]

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = program(np, inputs)
        got = lazyir.evaluate(program(lnp, [lnp.asarray(x) for x in inputs]))
    for g, w in zip(got, want, strict=True):
        assert type(g) is type(w) and np.asarray(g).dtype == np.asarray(w).dtype
        assert np.array_equal(g, w), (g, w)
