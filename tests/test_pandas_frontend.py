"""The pandas frontend against real pandas: hypothesis-generated frames (NaN, empty frames,
unsorted and duplicate indexes, string columns), every lazy operation compared with
``pandas.testing``, through compiled code (``eager_threshold=0``); fusion asserted by counting
loops."""

from __future__ import annotations

import contextlib
import operator
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyir
import lazyir.numpy as lnp
import lazyir.pandas as lpd

NUMERIC = ["f64", "f32", "i64", "i32", "u8", "b"]
DTYPES = {"f64": np.float64, "f32": np.float32, "i64": np.int64, "i32": np.int32, "u8": np.uint8, "b": np.bool_}


@pytest.fixture(autouse=True)
def _compiled():
    with lazyir.config.set(eager_threshold=0), warnings.catch_warnings():
        warnings.simplefilter("ignore", lazyir.EagerFallbackWarning)
        yield


@st.composite
def frames(draw, min_rows: int = 0) -> pd.DataFrame:
    n = draw(st.integers(min_rows, 40))
    cols = {}
    for name in NUMERIC:
        dt = DTYPES[name]
        if dt is np.bool_:
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        elif np.dtype(dt).kind == "f":
            values = draw(
                st.lists(
                    st.one_of(st.floats(-100, 100, width=32), st.just(np.nan), st.just(0.0)), min_size=n, max_size=n
                )
            )
        else:
            info = np.iinfo(dt)
            values = draw(st.lists(st.integers(max(info.min, -1000), min(info.max, 1000)), min_size=n, max_size=n))
        cols[name] = np.array(values, dtype=dt)
    cols["s"] = np.array(draw(st.lists(st.sampled_from(["a", "bb", "c"]), min_size=n, max_size=n)), dtype=object)
    kind = draw(st.sampled_from(["range", "shuffled", "labels"]))
    if kind == "range":
        index = pd.RangeIndex(n)
    elif kind == "shuffled":
        index = pd.Index(draw(st.permutations(list(range(n)))), dtype=np.int64)
    else:
        index = pd.Index(draw(st.lists(st.sampled_from(["x", "y", "z", "w"]), min_size=n, max_size=n)))
    return pd.DataFrame(cols, index=index)


@contextlib.contextmanager
def _no_fallback():
    """Inside: anything that would run on pandas instead of compiling fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", lazyir.EagerFallbackWarning)
        yield


def _both(df: pd.DataFrame, filtered: bool, column: str) -> tuple[pd.DataFrame, lpd.DataFrame]:
    """The frame and its lazy twin, both filtered on ``column > 0`` when ``filtered``."""
    lz = lpd.DataFrame(df)
    return (df[df[column] > 0], lz[lz[column] > 0]) if filtered else (df, lz)


def _same(got, want, rtol=1e-6, atol=1e-8) -> None:
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got.to_pandas(), want, check_exact=False, rtol=rtol, atol=atol)
    elif isinstance(want, pd.Series):
        pd.testing.assert_series_equal(got.to_pandas(), want, check_exact=False, rtol=rtol, atol=atol)
    else:
        got = np.asarray(lazyir.evaluate(got)) if not np.isscalar(got) else got
        want_arr = np.asarray(want)
        assert np.asarray(got).dtype == want_arr.dtype, (np.asarray(got).dtype, want_arr.dtype)
        np.testing.assert_allclose(np.asarray(got, dtype=float), want_arr.astype(float), rtol=rtol, atol=1e-6)


# Constants come from small sets: each distinct program compiles once, and examples reuse them.
CUTS = st.sampled_from([-20.0, 0.0, 0.5, 30.0])


@settings(max_examples=25)
@given(frames(), CUTS)
def test_filter_assign_and_arithmetic(df, cut):
    lz = lpd.DataFrame(df)
    want = df[df["f64"] > cut].copy()
    got = lz[lz["f64"] > cut]
    want["t"] = want["f64"] * 2 + want["i32"] - want["u8"]
    got["t"] = got["f64"] * 2 + got["i32"] - got["u8"]
    want = want.assign(q=want["i64"] // 3, r=(want["f32"] / 2) ** 2)
    got = got.assign(q=lambda d: d["i64"] // 3, r=lambda d: (d["f32"] / 2) ** 2)
    _same(got, want)
    _same(got[got.b][["t", "s", "q"]], want[want.b][["t", "s", "q"]])
    _same(got.loc[got.i64 % 2 == 0, ["r", "b"]], want.loc[want.i64 % 2 == 0, ["r", "b"]])


@settings(max_examples=30)
@given(frames(), st.booleans(), st.sampled_from(NUMERIC))
def test_reductions_follow_pandas(df, filtered, col):
    df, lz = _both(df, filtered, "i32")
    for op in ("sum", "mean", "min", "max", "count", "std", "var", "prod"):
        if op == "prod" and col != "b":
            continue  # products of many values overflow: compared on booleans only
        want = getattr(df[col], op)()
        got = getattr(lz[col], op)()
        got = lazyir.evaluate(got)
        if isinstance(want, float) and np.isnan(want):
            assert np.isnan(got), (op, got)
            continue
        rtol = 1e-4 if col == "f32" else 1e-9
        _same(got, want, rtol)
    assert lz[col].nunique() == df[col].nunique()


@settings(max_examples=20)
@given(frames(), st.booleans())
def test_frame_reductions_are_one_program(df, filtered):
    lz = lpd.DataFrame(df)[NUMERIC]
    want = df[NUMERIC]
    if filtered:
        lz, want = lz[lz.f64 > 0], want[want.f64 > 0]
    for op in ("sum", "mean", "max", "count"):
        # float32 sums in another order: equal within float32 rounding of the summands (<= 100 x 40)
        _same(getattr(lz, op)(), getattr(want, op)(), 1e-5, atol=1e-3)


@settings(max_examples=20)
@given(frames(), CUTS, st.sampled_from([0.0, 10.0]))
def test_missing_values_and_elementwise_methods(df, lo, width):
    lz = lpd.DataFrame(df)
    hi = lo + width
    for col in NUMERIC:
        s, ls = df[col], lz[col]
        _same(ls.isna(), s.isna())
        _same(ls.notna(), s.notna())
        _same(ls.fillna(-1), s.fillna(-1))
        _same(ls.dropna(), s.dropna())
        if col != "b":
            _same(ls.clip(lo, hi), s.clip(lo, hi)) if col.startswith("f") else None
            _same(ls.between(lo, hi), s.between(lo, hi))
            _same(ls.between(lo, hi, inclusive="neither"), s.between(lo, hi, inclusive="neither"))
            _same(ls.isin([0, 1, 7]), s.isin([0, 1, 7]))
            _same(ls.abs(), s.abs())
            _same(-ls, -s)
        _same(ls.where(ls.notna() & (lz.i32 > 0)), s.where(s.notna() & (df.i32 > 0)))
        _same(ls.mask(lz.b, 0), s.mask(df.b, 0))
        _same(ls.astype(np.float64), s.astype(np.float64))
        for args in [(0, 7), (1, 2.5), ({0: 1, 1: 0},), ([0, 1], 3), (np.nan, -1)]:
            _same(ls.replace(*args), s.replace(*args))
    _same(lz.dropna(), df.dropna())
    _same(lz[NUMERIC].fillna(0.5), df[NUMERIC].fillna(0.5))
    _same(lz[NUMERIC].isna(), df[NUMERIC].isna())


OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod]
OPS += [operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge]


@settings(max_examples=40)
@given(frames(), st.sampled_from(OPS), st.sampled_from(NUMERIC), st.sampled_from(NUMERIC))
def test_series_operators_follow_pandas(df, op, a, b):
    lz = lpd.DataFrame(df)
    for x, y, lx, ly in [(df[a], df[b], lz[a], lz[b]), (df[a], 3, lz[a], 3), (2.5, df[b], 2.5, lz[b])]:
        try:
            with np.errstate(all="ignore"):
                want = op(x, y)
        except TypeError:  # pandas refuses it (bool - bool): so must lazyir, at the call
            with pytest.raises(TypeError):
                lazyir.evaluate(op(lx, ly))
            continue
        _same(op(lx, ly), want)


def test_numpy_functions_on_series_stay_lazy_and_fuse():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.random(1000) * 10, "y": rng.integers(0, 5, 1000)})
    lz = lpd.DataFrame(df)
    kept = lz[lz.y > 1]
    pipeline = np.log1p(np.sqrt(kept.x) * kept.y).sum()  # pandas filter -> NumPy ufuncs -> reduction
    assert lazyir.explain(pipeline).splitlines()[-1].endswith("1 after")
    want = np.log1p(np.sqrt(df[df.y > 1].x) * df[df.y > 1].y).sum()
    np.testing.assert_allclose(lazyir.evaluate(pipeline), want, rtol=1e-12)
    # the values as a lazy NumPy array, reduced by lazyir.numpy: one loop too
    arr = lnp.sum(np.exp(lz.x.to_numpy()) - lz.y.values)
    assert lazyir.explain(arr).splitlines()[-1].endswith("1 after")
    np.testing.assert_allclose(lazyir.evaluate(arr), np.sum(np.exp(df.x.to_numpy()) - df.y.to_numpy()))
    back = lpd.Series(np.sqrt(lz.x.to_numpy()))
    _same(back, pd.Series(np.sqrt(df.x.to_numpy())))


def test_several_reductions_share_one_loop():
    df = pd.DataFrame({"x": np.arange(1000.0), "y": np.arange(1000) % 7})
    lz = lpd.DataFrame(df)
    kept = lz[lz.y != 3]
    total, largest, n = kept.x.sum(), kept.x.max(), kept.y.count()
    assert lazyir.explain([total, largest, n]).splitlines()[-1].endswith("1 after")
    got = lazyir.evaluate(total, largest, n)
    sub = df[df.y != 3]
    assert got == (sub.x.sum(), sub.x.max(), sub.y.count())


def test_wrapping_copies_nothing():
    df = pd.DataFrame({"x": np.arange(10.0), "y": np.arange(10)})
    lz = lpd.DataFrame(df)
    assert np.shares_memory(lz.x.to_numpy()._node.value, df["x"].to_numpy())
    s = lpd.Series(df["y"])
    assert np.shares_memory(s.to_numpy()._node.value, df["y"].to_numpy())
    lz["z"] = lz.x + 1  # a new column of the lazy frame: the pandas frame is unchanged
    assert list(df.columns) == ["x", "y"]


def test_unsupported_operations_run_on_pandas_and_warn_once():
    from lazyir.frontends import fallback

    fallback.reset()
    df = pd.DataFrame({"x": [3.0, 1.0, 2.0], "s": ["b", "a", "c"]})
    lz = lpd.DataFrame(df)
    with _no_fallback():
        with pytest.raises(lazyir.EagerFallbackWarning, match="rank"):
            lz.rank()
    with warnings.catch_warnings():
        warnings.simplefilter("always", lazyir.EagerFallbackWarning)
        got = lz.rank()
        upper = lz.s.str.upper()
    assert isinstance(got, lpd.DataFrame)
    _same(got, df.rank())
    _same(upper, df.s.str.upper())
    _same(lz[lz.x > 1.5].s, df[df.x > 1.5].s)
    assert fallback.report()["DataFrame.rank"] >= 1


def test_module_namespace():
    df = lpd.DataFrame({"a": [1, 2, 3]})
    assert isinstance(df, lpd.DataFrame)
    assert isinstance(lpd.concat([df, df]), lpd.DataFrame)
    assert lpd.NA is pd.NA
    _same(lpd.isna(df), pd.isna(pd.DataFrame({"a": [1, 2, 3]})))
    with pytest.raises(KeyError):
        lpd.DataFrame({"a": [1]})["missing"]


# -- group-by -------------------------------------------------------------------------------------
@st.composite
def grouped_frames(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 60))
    small = st.integers(0, 3)
    return pd.DataFrame(
        {
            "k": np.array(draw(st.lists(small, min_size=n, max_size=n)), dtype=np.int64),
            "kb": np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))),
            "kf": np.array(draw(st.lists(st.sampled_from([0.5, -1.0, np.nan]), min_size=n, max_size=n))),
            "ks": np.array(draw(st.lists(st.sampled_from(["p", "q", "r"]), min_size=n, max_size=n)), dtype=object),
            "x": np.array(
                draw(st.lists(st.one_of(st.floats(-10, 10), st.just(np.nan)), min_size=n, max_size=n)), dtype=np.float64
            ),
            "f": np.array(draw(st.lists(st.floats(-10, 10, width=32), min_size=n, max_size=n)), dtype=np.float32),
            "y": np.array(draw(st.lists(st.integers(-100, 100), min_size=n, max_size=n)), dtype=np.int32),
            "u": np.array(draw(st.lists(st.integers(0, 255), min_size=n, max_size=n)), dtype=np.uint8),
            "b": np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))),
        }
    )


KEYS = st.sampled_from([["k"], ["kb"], ["kf"], ["ks"], ["k", "kb"], ["ks", "k"]])
FUNCS = ["sum", "mean", "count", "min", "max", "first", "last", "std", "var"]


@settings(max_examples=30)
@given(grouped_frames(), KEYS, st.sampled_from(FUNCS), st.booleans(), st.booleans())
def test_groupby_aggregations_follow_pandas(df, keys, func, filtered, sort):
    lz = lpd.DataFrame(df)
    if filtered:
        df, lz = df[df.y > -30], lz[lz.y > -30]
    cols = ["x", "f", "y", "u", "b"] if func != "mean" else ["x", "y", "u", "b"]  # float32 means: pandas
    with _no_fallback():  # all of it compiled
        got = getattr(lz.groupby(keys, sort=sort)[cols], func)()
        size = lz.groupby(keys, sort=sort).size()
        one = getattr(lz.groupby(keys, sort=sort).x, func)()
    _same(got, getattr(df.groupby(keys, sort=sort)[cols], func)(), 1e-4)
    _same(size, df.groupby(keys, sort=sort).size())
    _same(one, getattr(df.groupby(keys, sort=sort).x, func)(), 1e-6)


@settings(max_examples=15)
@given(grouped_frames(), KEYS)
def test_groupby_agg_lists_dicts_and_flat_results(df, keys):
    lz = lpd.DataFrame(df)
    specs = [["sum", "max"], {"x": "mean", "y": ["min", "count"]}, {"u": "sum", "f": "first"}, "var"]
    with _no_fallback():
        for spec in specs:
            want = df.groupby(keys)[["x", "y", "u", "f"]].agg(spec)
            _same(lz.groupby(keys)[["x", "y", "u", "f"]].agg(spec), want, 1e-4)  # float32 rounding
        _same(lz.groupby(keys).y.agg(["sum", "mean"]), df.groupby(keys).y.agg(["sum", "mean"]))
        _same(lz.groupby(keys, as_index=False).y.sum(), df.groupby(keys, as_index=False).y.sum())


def test_groupby_fuses_with_the_filter_and_arithmetic():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"k": rng.integers(0, 50, 5000), "x": rng.random(5000), "y": rng.random(5000)})
    lz = lpd.DataFrame(df)
    kept = lz[lz.x > 0.2]
    kept["z"] = kept.x * kept.y + 1
    from lazyir.frontends import graph
    from lazyir.frontends.pandas.groupby import Agg, _group_node  # the loop the group-by runs

    node = _group_node([kept.k._col], [kept.z._col], kept._mask, [Agg(3, "sum")], [3])
    prog, _ = graph.program([node])
    assert lazyir.explain(prog).splitlines()[-1].endswith("1 after")
    sub = df[df.x > 0.2].assign(z=lambda d: d.x * d.y + 1)
    _same(kept.groupby("k").z.sum(), sub.groupby("k").z.sum())


def test_groupby_falls_back_for_what_it_does_not_compute():
    df = pd.DataFrame({"k": [1, 1, 2], "s": ["a", "b", "c"], "x": [1.0, 2.0, 3.0]})
    lz = lpd.DataFrame(df)
    with pytest.warns(lazyir.EagerFallbackWarning):
        got = lz.groupby("k").sum()  # strings are concatenated by pandas
    _same(got, df.groupby("k").sum())
    _same(lz.groupby("k").x.median(), df.groupby("k").x.median())


# -- reordering and counting ----------------------------------------------------------------------
@settings(max_examples=25)
@given(frames(), st.booleans(), st.sampled_from([["f64"], ["i32", "f32"], ["b", "u8"], ["s", "i64"]]), st.booleans())
def test_sorting_and_picking_rows_follow_pandas(df, filtered, by, ascending):
    df, lz = _both(df, filtered, "i64")
    with _no_fallback():
        _same(lz.sort_values(by, ascending=ascending), df.sort_values(by, ascending=ascending))
        _same(
            lz.sort_values(by, kind="stable", na_position="first"),
            df.sort_values(by, kind="stable", na_position="first"),
        )
        _same(lz.sort_index(ascending=ascending), df.sort_index(ascending=ascending))
        _same((lz.f64 * 2).sort_values(), (df.f64 * 2).sort_values())
        _same(lz.f32.sort_index(), df.f32.sort_index())
        if "s" not in by:
            _same(lz.nlargest(3, by), df.nlargest(3, by))
            _same(lz.nsmallest(4, by), df.nsmallest(4, by))
        _same(lz.i32.nlargest(2), df.i32.nlargest(2))


@settings(max_examples=25)
@given(frames(), st.booleans(), st.sampled_from(NUMERIC), st.booleans())
def test_value_counts_unique_and_nunique_follow_pandas(df, filtered, col, normalize):
    df, lz = _both(df, filtered, "i64")
    with _no_fallback():
        _same(lz[col].value_counts(normalize=normalize), df[col].value_counts(normalize=normalize))
        _same(lz[col].value_counts(ascending=True), df[col].value_counts(ascending=True))
        assert lz[col].nunique() == df[col].nunique()
    got = lz[col].unique()
    np.testing.assert_array_equal(np.asarray(lazyir.evaluate(got)), df[col].unique())


# -- joins ----------------------------------------------------------------------------------------
@settings(max_examples=30)
@given(
    grouped_frames(),
    grouped_frames(),
    st.sampled_from([["k"], ["kf"], ["ks"], ["k", "kb"]]),
    st.sampled_from(["inner", "left"]),
    st.booleans(),
)
def test_merge_follows_pandas(left, right, on, how, filtered):
    right = right.rename(columns={"x": "x2", "y": "y2"})  # some shared names, some not
    ll, lr = lpd.DataFrame(left), lpd.DataFrame(right)
    if filtered:
        left, ll = left[left.y > -50], ll[ll.y > -50]
        right, lr = right[right.u > 20], lr[lr.u > 20]
    with _no_fallback():
        got = lpd.merge(ll, lr, on=on, how=how)
        crossed = ll.merge(lr, left_on="k", right_on="y2", how=how)
    _same(got, pd.merge(left, right, on=on, how=how))
    _same(crossed, left.merge(right, left_on="k", right_on="y2", how=how))


def test_merge_then_aggregate_reads_the_joined_columns_lazily():
    rng = np.random.default_rng(9)
    orders = pd.DataFrame({"cust": rng.integers(0, 100, 3000), "amount": rng.random(3000) * 100})
    custs = pd.DataFrame({"cust": np.arange(100), "region": rng.integers(0, 4, 100)})
    lo, lc = lpd.DataFrame(orders), lpd.DataFrame(custs)
    joined = lpd.merge(lo[lo.amount > 10], lc, on="cust")
    got = joined.assign(t=joined.amount * 1.2).groupby("region").t.sum()
    want = pd.merge(orders[orders.amount > 10], custs, on="cust")
    want = want.assign(t=want.amount * 1.2).groupby("region").t.sum()
    _same(got, want, 1e-9)


# -- strings --------------------------------------------------------------------------------------
TEXT = st.one_of(
    st.none(),
    st.text(alphabet=" abcAB-1\t", max_size=8),
    st.text(max_size=4),  # any Unicode: the non-ASCII paths
)
PATTERNS = st.sampled_from(["", "a", "ab", "-1", "B", " "])


@settings(max_examples=40)
@given(st.lists(TEXT, max_size=30), PATTERNS, st.sampled_from(["pyarrow", "python"]), st.booleans())
def test_string_methods_follow_pandas(values, pat, storage, filtered):
    s = pd.Series(values, dtype=pd.StringDtype(storage, na_value=np.nan), name="t")
    ls = lpd.Series(s)
    if filtered:
        keep = np.arange(len(values)) % 3 != 1
        s, ls = s[keep], ls[keep]
    checks = [
        lambda x: x.str.len(),
        lambda x: x.str.contains(pat, regex=False),
        lambda x: x.str.startswith(pat),
        lambda x: x.str.endswith(pat),
        lambda x: x == pat,
        lambda x: x != pat,
        lambda x: x.isin([pat, "ab"]),
        lambda x: x.str.upper(),
        lambda x: x.str.lower(),
        lambda x: x.str.slice(1, 4),
        lambda x: x.str[-2:],
        lambda x: x.str.strip(),
        lambda x: x.str.rstrip(),
        lambda x: x.str.lstrip().str.len() + 1,
        lambda x: x.str.slice(0, 3).str.upper() == pat.upper(),
        lambda x: x.str.replace(pat, "+"),
        lambda x: x.str.replace(pat, "").str.len(),
        lambda x: x.str.replace(pat, "é-é"),
    ]
    for check in checks:
        _same(check(ls), check(s))


def test_string_filters_fuse_with_numeric_work():
    rng = np.random.default_rng(3)
    codes = pd.Series(rng.choice(["94110", "9411", "10001-1234", "abcde", None], 2000), dtype="str")
    df = pd.DataFrame({"zip": codes, "pop": rng.integers(0, 1000, 2000)})
    lz = lpd.DataFrame(df)
    with _no_fallback():
        kept = lz[lz.zip.str.len() == 5]
        total = (kept["pop"] * 2).sum()
    assert lazyir.explain(total).splitlines()[-1].endswith("1 after")
    assert lazyir.evaluate(total) == (df[df.zip.str.len() == 5]["pop"] * 2).sum()
    cleaned = lz.zip.str.slice(0, 5)
    _same(lz.assign(z=cleaned).groupby("z")["pop"].sum(), df.assign(z=df.zip.str.slice(0, 5)).groupby("z")["pop"].sum())
    _same(lz.assign(z=cleaned).sort_values("z"), df.assign(z=df.zip.str.slice(0, 5)).sort_values("z"))


@settings(max_examples=25)
@given(st.lists(TEXT, max_size=30), PATTERNS, st.booleans())
def test_string_masks_and_distinct_counts_follow_pandas(values, pat, filtered):
    s = pd.Series(values, dtype="str", name="t")
    ls = lpd.Series(s)
    if filtered:
        keep = np.arange(len(values)) % 2 == 0
        s, ls = s[keep], ls[keep]
    with _no_fallback():
        _same(ls.mask(ls.str.startswith(pat)), s.mask(s.str.startswith(pat)))
        _same(ls.where(ls.str.len() > 1), s.where(s.str.len() > 1))
        assert ls.nunique() == s.nunique()
    assert ls.str.slice(0, 2).nunique() == s.str.slice(0, 2).nunique()  # non-ASCII: sliced by pandas


@settings(max_examples=15)
@given(grouped_frames(), st.sampled_from(["sum", "mean", "count", "min", "max"]), st.sampled_from(["x", ["y", "x"]]))
def test_pivot_table_follows_pandas(df, aggfunc, values):
    lz = lpd.DataFrame(df)
    for index, columns in [("k", "kb"), (["ks", "k"], "kb"), ("kb", ["ks"])]:
        with _no_fallback():
            got = lz.pivot_table(values, index=index, columns=columns, aggfunc=aggfunc)
        _same(got, df.pivot_table(values, index=index, columns=columns, aggfunc=aggfunc))


def test_readers_give_lazy_frames(tmp_path):
    df = pd.DataFrame({"a": np.arange(5.0), "s": pd.Series(list("abcde"), dtype="str")})
    df.to_parquet(tmp_path / "f.parquet")
    df.to_csv(tmp_path / "f.csv", index=False)
    for got, want in [
        (lpd.read_parquet(tmp_path / "f.parquet"), pd.read_parquet(tmp_path / "f.parquet")),
        (lpd.read_csv(tmp_path / "f.csv"), pd.read_csv(tmp_path / "f.csv")),
    ]:
        assert isinstance(got, lpd.DataFrame)
        _same(got[got.a > 1], want[want.a > 1])


def test_groupby_and_string_loops_split_across_threads():
    rng = np.random.default_rng(11)
    n = 20_000
    df = pd.DataFrame(
        {
            "k": rng.integers(0, 40, n),
            "x": rng.standard_normal(n),
            "s": pd.Series(rng.choice(["ab", "abc", "b", None], n), dtype="str"),
        }
    )
    lz = lpd.DataFrame(df)
    with lazyir.config.set(num_threads=2, min_chunk=1000):  # many chunks: partial tables merged
        got = lz[lz.x > -1].groupby("k").agg({"x": ["sum", "min", "count", "first", "var"]})
        lens = lz.s.str.len().sum()
        hits = (lz.s.str.contains("bc", regex=False) & (lz.k > 3)).sum()
    want = df[df.x > -1].groupby("k").agg({"x": ["sum", "min", "count", "first", "var"]})
    _same(got, want, 1e-9)
    assert lazyir.evaluate(lens) == df.s.str.len().sum()
    assert lazyir.evaluate(hits) == (df.s.str.contains("bc", regex=False) & (df.k > 3)).sum()


@settings(max_examples=15)
@given(frames(), st.booleans())
def test_renaming_dropping_and_resetting_follow_pandas(df, filtered):
    df, lz = _both(df, filtered, "i32")
    with _no_fallback():
        _same(lz.rename(columns={"f64": "x", "s": "t"}), df.rename(columns={"f64": "x", "s": "t"}))
        _same(lz.drop(columns=["u8", "s"]), df.drop(columns=["u8", "s"]))
        _same(lz.reset_index(drop=True), df.reset_index(drop=True))
        renamed, want = lz.copy(), df.copy()
        renamed.columns = want.columns = [f"c{k}" for k in range(df.shape[1])]
        _same(renamed, want)
    with pytest.raises(ValueError, match="Length mismatch"):
        lz.columns = ["only one"]


def test_series_setitem_follows_pandas_and_leaves_the_frame():
    df = pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6)})
    lz = lpd.DataFrame(df)
    s, t = lz["a"], df["a"].copy()
    s[s > 2] = -1.0
    t[t > 2] = -1.0
    _same(s, t)
    _same(lz, df)  # copy-on-write: the frame did not change
    b = lz["b"]
    with pytest.raises(TypeError):
        b[b > 2] = 0.5  # pandas 3: an int64 column does not take 0.5


def test_str_replace_compiles_patterns_that_cannot_overlap():
    s = pd.Series(["aaa", "abab-ab", None, "xaax", "", "aba"], dtype="str")
    ls = lpd.Series(s)
    with _no_fallback():
        _same(ls.str.replace("ab", "Z"), s.str.replace("ab", "Z"))
        _same(ls.str.replace("-", "--"), s.str.replace("-", "--"))
    for pat in ["aa", "aba", ""]:  # occurrences could overlap: Python's left-to-right rule, on pandas
        _same(ls.str.replace(pat, "_"), s.str.replace(pat, "_"))


def test_arrow_backed_strings_are_read_without_copying():
    import pyarrow as pa

    from lazyir.frontends.pandas import strings

    s = pd.Series(["ab", None, "cde"], dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    col = strings.from_series(s)
    arr = pa.array(s.array)
    arr = arr.chunk(0) if isinstance(arr, pa.ChunkedArray) else arr
    assert col.data._node.value.ctypes.data == arr.buffers()[2].address  # the column's own bytes
    assert strings.from_series(s) is col  # read once per column
