"""Comparison helpers shared by the differential tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from lazyir.ir.values import Dictionary


def assert_same(got: Any, want: Any, rtol: float = 0.0, path: str = "result") -> None:
    """``got`` equals ``want`` in type, dtype, shape and value (NaN equals NaN, -0.0 is not 0.0
    unless ``rtol`` > 0, in which case floats may differ by that relative tolerance)."""
    if isinstance(want, Dictionary):
        assert isinstance(got, Dictionary), f"{path}: expected Dictionary, got {type(got).__name__}"
        assert_same(got.keys, want.keys, 0.0, path + ".keys")
        assert_same(got.values, want.values, rtol, path + ".values")
        return
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), f"{path}: {got!r} vs {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, rtol, f"{path}[{i}]")
        return
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: {got!r} vs {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, rtol, f"{path}[{i}]")
        return
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{path}: expected ndarray, got {type(got).__name__}"
        assert got.dtype == want.dtype, f"{path}: dtype {got.dtype} vs {want.dtype}"
        assert got.shape == want.shape, f"{path}: shape {got.shape} vs {want.shape}"
        if want.dtype.names:
            for name in want.dtype.names:
                assert_same(np.ascontiguousarray(got[name]), np.ascontiguousarray(want[name]), rtol, f"{path}.{name}")
            return
        _values_equal(got, want, rtol, path)
        return
    assert isinstance(want, np.generic), f"{path}: unexpected expected value {want!r}"
    assert isinstance(got, np.generic) and got.dtype == want.dtype, f"{path}: {got!r} vs {want!r}"
    _values_equal(np.asarray(got), np.asarray(want), rtol, path)


def _values_equal(got: np.ndarray, want: np.ndarray, rtol: float, path: str) -> None:
    if want.dtype.kind == "f":
        same_nan = np.isnan(got) == np.isnan(want)
        assert same_nan.all(), f"{path}: NaN positions differ: {got} vs {want}"
        ok = np.isnan(want)
        if rtol:
            with np.errstate(all="ignore"):
                close = np.isclose(got, want, rtol=rtol, atol=0, equal_nan=True)
                # Overflow to inf vs a huge finite value, and tiny values: compare in ulps too.
                ulps = np.abs(got.astype(np.float64) - want.astype(np.float64)) / np.spacing(
                    np.maximum(np.abs(want), np.finfo(want.dtype).tiny).astype(want.dtype)
                ).astype(np.float64)
            ok = ok | close | (ulps <= 8) | (got == want)
        else:
            ok = ok | ((got == want) & (np.signbit(got) == np.signbit(want)))
        assert ok.all(), f"{path}: {got[~ok][:5]} vs {want[~ok][:5]} (first mismatches)"
    else:
        assert np.array_equal(got, want), f"{path}: {got} vs {want}"


def run_pass(name: str, text: str):
    """Parse ``text`` and run optimizer pass ``name`` on it (verifying the result's types)."""
    import lazyir
    from lazyir.optimizer.pipeline import optimize

    out, _ = optimize(lazyir.parse(text), passes=[name], verify=True)
    return out


def assert_pass(name: str, before: str, after: str) -> None:
    """Golden test: pass ``name`` turns program text ``before`` into program text ``after``
    (compared structurally: both are parsed and type-checked, so layout does not matter)."""
    import lazyir

    got = run_pass(name, before)
    want = lazyir.parse(after)
    assert got is want, f"pass {name} gave\n{got}\nexpected\n{want}"
