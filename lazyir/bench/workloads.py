"""The benchmark workloads (../shared/WORKLOADS.md), each written once as a function of an ``np``
module: run with ``numpy`` it is the eager baseline, with ``lazyir.numpy`` the fused program.
Peers (numexpr, numba) implement the same computation where they can.

Inputs are seeded random data generated here. Every workload returns a tuple of arrays/scalars.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

try:  # NumPy has no erf
    from scipy.special import erf as _scipy_erf
except ImportError:  # pragma: no cover - scipy is in the bench extra
    _scipy_erf = None


def erf(x: Any) -> Any:
    """``scipy.special.erf`` (a ufunc: lazy arrays stay lazy), else a vectorized ``math.erf``."""
    if _scipy_erf is not None:
        return _scipy_erf(x)
    return np.vectorize(math.erf, otypes=[np.float64])(x)


@dataclass
class Workload:
    name: str
    make: Callable[[int, np.random.Generator], tuple]  # (size, rng) -> inputs
    run: Callable[..., tuple]  # (np module, *inputs) -> outputs
    size: int  # full run: about a second eager here
    quick: int  # --quick: tiny
    peers: dict[str, Callable[..., tuple]] = field(default_factory=dict)
    note: str = ""


# --- Black-Scholes --------------------------------------------------------------------------
def black_scholes_inputs(n: int, rng: np.random.Generator) -> tuple:
    return (
        rng.uniform(10.0, 100.0, n),
        rng.uniform(10.0, 100.0, n),
        rng.uniform(0.1, 2.0, n),
        rng.uniform(0.0, 0.1, n),
        rng.uniform(0.1, 0.5, n),
    )


def black_scholes(np_: Any, price, strike, t, rate, vol) -> tuple:
    rsig = rate + vol * vol * 0.5
    vst = vol * np_.sqrt(t)
    d1 = (np_.log(price / strike) + rsig * t) / vst
    d2 = d1 - vst
    cnd1 = 0.5 + 0.5 * erf(d1 * 0.7071067811865476)
    cnd2 = 0.5 + 0.5 * erf(d2 * 0.7071067811865476)
    ert = np_.exp(-rate * t)
    call = price * cnd1 - strike * ert * cnd2
    put = strike * ert * (1.0 - cnd2) - price * (1.0 - cnd1)
    return call, put


def _cnd_poly(np_: Any, x):
    """Abramowitz-Stegun 26.2.17 for the normal CDF (numexpr has no erf)."""
    k = 1.0 / (1.0 + 0.2316419 * np_.abs(x))
    poly = k * (0.319381530 + k * (-0.356563782 + k * (1.781477937 + k * (-1.821255978 + k * 1.330274429))))
    w = 1.0 - 0.3989422804014327 * np_.exp(-0.5 * x * x) * poly
    return np_.where(x < 0, 1.0 - w, w)


def black_scholes_poly(np_: Any, price, strike, t, rate, vol) -> tuple:
    rsig = rate + vol * vol * 0.5
    vst = vol * np_.sqrt(t)
    d1 = (np_.log(price / strike) + rsig * t) / vst
    d2 = d1 - vst
    cnd1, cnd2 = _cnd_poly(np_, d1), _cnd_poly(np_, d2)
    ert = np_.exp(-rate * t)
    return price * cnd1 - strike * ert * cnd2, strike * ert * (1.0 - cnd2) - price * (1.0 - cnd1)


def _bs_poly_numexpr(price, strike, t, rate, vol) -> tuple:
    import numexpr as ne

    def cnd(x: str) -> str:
        k = f"(1.0 / (1.0 + 0.2316419 * abs({x})))"
        poly = (
            f"{k} * (0.319381530 + {k} * (-0.356563782 + {k} * (1.781477937 + {k} * (-1.821255978 + "
            f"{k} * 1.330274429))))"
        )
        w = f"(1.0 - 0.3989422804014327 * exp(-0.5 * {x} * {x}) * {poly})"
        return f"where({x} < 0, 1.0 - {w}, {w})"

    env = {"price": price, "strike": strike, "t": t, "rate": rate, "vol": vol}
    env["d1"] = ne.evaluate("(log(price / strike) + (rate + vol * vol * 0.5) * t) / (vol * sqrt(t))", local_dict=env)
    env["d2"] = ne.evaluate("d1 - vol * sqrt(t)", local_dict=env)
    env["c1"], env["c2"] = ne.evaluate(cnd("d1"), local_dict=env), ne.evaluate(cnd("d2"), local_dict=env)
    call = ne.evaluate("price * c1 - strike * exp(-rate * t) * c2", local_dict=env)
    put = ne.evaluate("strike * exp(-rate * t) * (1.0 - c2) - price * (1.0 - c1)", local_dict=env)
    return call, put


def _bs_numba() -> Callable[..., tuple]:
    import numba

    @numba.njit(cache=False, fastmath=False)
    def kernel(price, strike, t, rate, vol, call, put):
        for i in range(price.shape[0]):
            vst = vol[i] * math.sqrt(t[i])
            d1 = (math.log(price[i] / strike[i]) + (rate[i] + vol[i] * vol[i] * 0.5) * t[i]) / vst
            d2 = d1 - vst
            c1 = 0.5 + 0.5 * math.erf(d1 * 0.7071067811865476)
            c2 = 0.5 + 0.5 * math.erf(d2 * 0.7071067811865476)
            ert = math.exp(-rate[i] * t[i])
            call[i] = price[i] * c1 - strike[i] * ert * c2
            put[i] = strike[i] * ert * (1.0 - c2) - price[i] * (1.0 - c1)

    def run(price, strike, t, rate, vol):
        call, put = np.empty_like(price), np.empty_like(price)
        kernel(price, strike, t, rate, vol, call, put)
        return call, put

    return run


# --- Haversine ------------------------------------------------------------------------------
LAT0, LON0 = 0.70984286, 1.23892197


def _hav_inputs(n: int, rng: np.random.Generator) -> tuple:
    return rng.uniform(-1.5, 1.5, n), rng.uniform(-3.1, 3.1, n)


def haversine(np_: Any, lat, lon) -> tuple:
    dlat = lat - LAT0
    dlon = lon - LON0
    a = np_.sin(dlat / 2.0) ** 2 + math.cos(LAT0) * np_.cos(lat) * np_.sin(dlon / 2.0) ** 2
    return (3959.0 * 2.0 * np_.arcsin(np_.sqrt(a)),)


def _hav_numexpr(lat, lon) -> tuple:
    import numexpr as ne

    c0 = math.cos(LAT0)
    return (
        ne.evaluate(
            "3959.0 * 2.0 * arcsin(sqrt(sin((lat - LAT0) / 2.0) ** 2 + c0 * cos(lat) * sin((lon - LON0) / 2.0) ** 2))",
            local_dict={"lat": lat, "lon": lon, "LAT0": LAT0, "LON0": LON0, "c0": c0},
        ),
    )


def _hav_numba() -> Callable[..., tuple]:
    import numba

    c0 = math.cos(LAT0)

    @numba.njit
    def kernel(lat, lon, out):
        for i in range(lat.shape[0]):
            s1 = math.sin((lat[i] - LAT0) / 2.0)
            s2 = math.sin((lon[i] - LON0) / 2.0)
            out[i] = 3959.0 * 2.0 * math.asin(math.sqrt(s1 * s1 + c0 * math.cos(lat[i]) * s2 * s2))

    def run(lat, lon):
        out = np.empty_like(lat)
        kernel(lat, lon, out)
        return (out,)

    return run


# --- n-body ---------------------------------------------------------------------------------
def _nbody_inputs(n: int, rng: np.random.Generator) -> tuple:
    return (
        rng.uniform(-1, 1, n),
        rng.uniform(-1, 1, n),
        rng.uniform(-1, 1, n),
        rng.uniform(0.5, 1.5, n),
    )


def nbody(np_: Any, x, y, z, m, steps: int = 2, dt: float = 0.01, g: float = 1.0) -> tuple:
    vx = vy = vz = 0.0
    for _ in range(steps):
        dx = x[None, :] - x[:, None]
        dy = y[None, :] - y[:, None]
        dz = z[None, :] - z[:, None]
        r2 = dx * dx + dy * dy + dz * dz
        inv = np_.where(r2 > 0.0, 1.0 / (r2 * np_.sqrt(r2) + (r2 == 0.0)), 0.0)
        w = m[None, :] * inv
        vx = vx + g * (w * dx).sum(axis=1) * dt
        vy = vy + g * (w * dy).sum(axis=1) * dt
        vz = vz + g * (w * dz).sum(axis=1) * dt
        x, y, z = x + vx * dt, y + vy * dt, z + vz * dt
    return x, y, z


# --- shallow water --------------------------------------------------------------------------
def _sw_inputs(n: int, rng: np.random.Generator) -> tuple:
    xs = np.linspace(0, 1, n)
    eta = 0.1 * np.exp(-((xs[None, :] - 0.5) ** 2 + (xs[:, None] - 0.5) ** 2) / 0.01) + 0.01 * rng.standard_normal(
        (n, n)
    )
    return np.zeros((n, n)), np.zeros((n, n)), eta


def shallow_water(np_: Any, u, v, eta, steps: int = 3) -> tuple:
    g, b, h, depth, dt = 9.81, 0.01, 1.0 / u.shape[0], 100.0, 1e-5

    def d_dx(a):
        return (np_.roll(a, -1, 1) - np_.roll(a, 1, 1)) / (2.0 * h)

    def d_dy(a):
        return (np_.roll(a, -1, 0) - np_.roll(a, 1, 0)) / (2.0 * h)

    for _ in range(steps):
        du = -g * d_dx(eta) - b * u
        dv = -g * d_dy(eta) - b * v
        deta = -d_dx(u * (depth + eta)) - d_dy(v * (depth + eta))
        u, v, eta = u + du * dt, v + dv * dt, eta + deta * dt
    return u, v, eta


# --- logistic regression --------------------------------------------------------------------
def _lr_inputs(n: int, rng: np.random.Generator) -> tuple:
    d = 16
    x = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = (x @ w_true + 0.5 * rng.standard_normal(n) > 0).astype(np.float64)
    return x, y


def logistic_regression(np_: Any, x, y, iters: int = 5, lr: float = 0.5) -> tuple:
    n, d = x.shape
    w = np_.zeros(d)
    for _ in range(iters):
        p = 1.0 / (1.0 + np_.exp(-(x @ w)))
        w = w - lr * (x.T @ (p - y)) / n
    return (w,)


# --- streaming reduction --------------------------------------------------------------------
def _sum_inputs(n: int, rng: np.random.Generator) -> tuple:
    return rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n)


def fused_sum(np_: Any, a, b, c) -> tuple:
    return (np_.sum(np_.sqrt(a * a + b * b) * c),)


def _sum_numexpr(a, b, c) -> tuple:
    import numexpr as ne

    return (ne.evaluate("sum(sqrt(a * a + b * b) * c)"),)


def _sum_numba() -> Callable[..., tuple]:
    import numba

    @numba.njit(fastmath={"reassoc", "nsz", "arcp", "contract"})
    def kernel(a, b, c):
        s = 0.0
        for i in range(a.shape[0]):
            s += math.sqrt(a[i] * a[i] + b[i] * b[i]) * c[i]
        return s

    return lambda a, b, c: (kernel(a, b, c),)


def workloads() -> list[Workload]:
    out = []
    if _scipy_erf is not None:
        out.append(
            Workload("black_scholes", black_scholes_inputs, black_scholes, 10_000_000, 2_000, {"numba": _bs_numba})
        )
    out += [
        Workload(
            "black_scholes_poly",
            black_scholes_inputs,
            black_scholes_poly,
            10_000_000,
            2_000,
            {"numexpr": lambda: _bs_poly_numexpr},
        ),
        Workload(
            "haversine",
            _hav_inputs,
            haversine,
            20_000_000,
            2_000,
            {"numexpr": lambda: _hav_numexpr, "numba": _hav_numba},
        ),
        Workload("nbody", _nbody_inputs, nbody, 3_000, 40, note="all pairs by broadcasting, 2 steps"),
        Workload("shallow_water", _sw_inputs, shallow_water, 2_000, 40, note="n x n grid, 3 steps, roll"),
        Workload("logistic_regression", _lr_inputs, logistic_regression, 2_000_000, 500, note="16 features, 5 steps"),
        Workload(
            "fused_sum",
            _sum_inputs,
            fused_sum,
            30_000_000,
            2_000,
            {"numexpr": lambda: _sum_numexpr, "numba": _sum_numba},
        ),
    ]
    return out
