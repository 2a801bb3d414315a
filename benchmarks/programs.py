"""IR programs shared by the benchmarks and their tests (the NumPy reference implementations are
the workloads of ``lazyir.bench.workloads``)."""

from __future__ import annotations

ONE_LOOP = """|a: vec[f64]|
  result(for(a, merger[f64,+], |s, i, x| merge(s, x * x)))"""

FUSED_SUM = """|a: vec[f64], b: vec[f64], c: vec[f64]|
  result(for(zip(a, b, c), merger[f64,+], |s, i, e|
    merge(s, sqrt(e.$0 * e.$0 + e.$1 * e.$1) * e.$2)))"""

BLACK_SCHOLES = """|price: vec[f64], strike: vec[f64], t: vec[f64], rate: vec[f64], vol: vec[f64]|
  let r = for(zip(price, strike, t, rate, vol), {appender[f64], appender[f64]}, |b, i, e|
    let p = e.$0; let k = e.$1; let tt = e.$2; let rr = e.$3; let v = e.$4;
    let rsig = rr + v * v * 0.5;
    let vst = v * sqrt(tt);
    let d1 = (log(p / k) + rsig * tt) / vst;
    let d2 = d1 - vst;
    let cnd1 = 0.5 + 0.5 * erf(d1 * 0.7071067811865476);
    let cnd2 = 0.5 + 0.5 * erf(d2 * 0.7071067811865476);
    let ert = exp(-(rr) * tt);
    let call = p * cnd1 - k * ert * cnd2;
    let put = k * ert * (1.0 - cnd2) - p * (1.0 - cnd1);
    {merge(b.$0, call), merge(b.$1, put)});
  {result(r.$0), result(r.$1)}"""
