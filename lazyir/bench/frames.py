"""The pandas workloads: ``python -m lazyir.bench.frames [--quick] [--only NAME ...] [--threads N]``.

Each workload is written once against a ``pd``/``np`` pair of modules and runs eager (pandas and
NumPy) and fused (``lazyir.pandas``/``lazyir.numpy``: the same code), on one thread and on
``--threads``; Polars and DuckDB run the same computation (written in their own APIs) on the same
number of threads when they are installed. Every result is checked against pandas' before
anything is timed; times are medians of interleaved repeats. The data is synthetic and seeded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import lazyir
import lazyir.numpy as lnp
import lazyir.pandas as lpd


@dataclass
class FrameWorkload:
    name: str
    make: Callable[[int, np.random.Generator], dict[str, pd.DataFrame]]
    run: Callable[..., Any]  # (pd module, np module, **frames) -> result
    size: int
    quick: int
    polars: Callable[..., Any] | None = None  # (**polars frames) -> result
    duckdb: str | None = None  # SQL over the frames by name
    sql_partial: bool = False  # the SQL computes only part of the result: not compared


# -- data cleaning (Weld: truncate zip codes, drop invalid ones, count distinct) -----------------
def _zips(n: int, rng: np.random.Generator) -> dict:
    five = rng.integers(10000, 99999, n).astype(str).astype(object)
    kind = rng.integers(0, 10, n)
    values = np.where(kind == 0, "00000", five)
    values = np.where(kind == 1, np.char.add(five.astype(str), "-1234"), values)
    values = np.where(kind == 2, "0", values)
    values = np.where(kind == 3, "N/A", values).astype(object)
    values[kind == 4] = None
    return {"requests": pd.DataFrame({"zip": pd.Series(values, dtype="str")})}


def data_cleaning(pd_: Any, np_: Any, requests: Any) -> Any:
    z = requests["zip"].str.slice(0, 5)
    z = z.mask(z.isin(["00000", "0", "N/A"]))
    return z.nunique()


def _cleaning_polars(requests: Any) -> Any:
    import polars as pl

    z = requests.select(pl.col("zip").str.slice(0, 5).alias("z"))
    return z.filter(~pl.col("z").is_in(["00000", "0", "N/A"]))["z"].drop_nulls().n_unique()


# -- crime index (Weld: filter big cities, weighted ratio, clamp, sum) ----------------------------
def _cities(n: int, rng: np.random.Generator) -> dict:
    return {
        "cities": pd.DataFrame(
            {
                "population": rng.integers(1_000, 2_000_000, n),
                "adults": rng.integers(0, 30, n),
                "robberies": rng.integers(0, 20, n),
            }
        )
    }


def crime_index(pd_: Any, np_: Any, cities: Any) -> Any:
    big = cities[cities["population"] > 500_000]
    index = (big["adults"] * 2 + big["robberies"]) / 2000.0
    index = index.mask(index >= 0.02, 0.032)
    index = index.mask(index < 0.01, 0.005)
    return index.sum()


def _crime_polars(cities: Any) -> Any:
    import polars as pl

    ci = (pl.col("adults") * 2 + pl.col("robberies")) / 2000.0
    ci = pl.when(ci >= 0.02).then(0.032).when(ci < 0.01).then(0.005).otherwise(ci)
    return cities.filter(pl.col("population") > 500_000).select(ci.sum()).item()


_CRIME_SQL = """
SELECT SUM(CASE WHEN ci >= 0.02 THEN 0.032 WHEN ci < 0.01 THEN 0.005 ELSE ci END) FROM
(SELECT (adults * 2 + robberies) / 2000.0 AS ci FROM cities WHERE population > 500000)
"""


# -- birth analysis (Weld: births by year and sex, top names, normalised) -------------------------
def _births(n: int, rng: np.random.Generator) -> dict:
    names = np.array([f"name{k:04d}" for k in range(2000)], dtype=object)
    return {
        "births": pd.DataFrame(
            {
                "year": rng.integers(1880, 2011, n),
                "sex": pd.Series(rng.choice(np.array(["F", "M"], dtype=object), n), dtype="str"),
                "name": pd.Series(names[rng.zipf(1.3, n) % 2000], dtype="str"),
                "births": rng.integers(5, 5000, n),
            }
        )
    }


def birth_analysis(pd_: Any, np_: Any, births: Any) -> Any:
    totals = births.pivot_table("births", index="year", columns="sex", aggfunc="sum")
    share = totals["F"] / (totals["F"] + totals["M"])
    top = births.groupby("name")["births"].sum().nlargest(10)
    return share, top


def _births_polars(births: Any) -> Any:
    import polars as pl

    by = births.group_by(["year", "sex"]).agg(pl.col("births").sum())
    wide = by.pivot(on="sex", index="year", values="births").sort("year")
    share = wide.select("year", pl.col("F") / (pl.col("F") + pl.col("M")))
    top = births.group_by("name").agg(pl.col("births").sum()).sort("births", descending=True).head(10)
    return share, top


_BIRTHS_SQL = """
SELECT year, SUM(CASE WHEN sex = 'F' THEN births END) / SUM(births) AS share FROM births GROUP BY year ORDER BY year
"""


# -- MovieLens: three-table join, mean rating by title and gender ---------------------------------
def _movielens(n: int, rng: np.random.Generator) -> dict:
    users, movies = 6040, 3900
    return {
        "ratings": pd.DataFrame(
            {"user": rng.integers(0, users, n), "movie": rng.zipf(1.2, n) % movies, "rating": rng.integers(1, 6, n)}
        ),
        "users": pd.DataFrame(
            {
                "user": np.arange(users),
                "gender": pd.Series(rng.choice(np.array(["F", "M"], dtype=object), users), dtype="str"),
            }
        ),
        "movies": pd.DataFrame(
            {"movie": np.arange(movies), "title": pd.Series([f"movie {k}" for k in range(movies)], dtype="str")}
        ),
    }


def movielens(pd_: Any, np_: Any, ratings: Any, users: Any, movies: Any) -> Any:
    data = pd_.merge(pd_.merge(ratings, users, on="user"), movies, on="movie")
    by = data.groupby(["title", "gender"])["rating"].agg(["mean", "count"])
    return by[by["count"] >= 100].sort_values("mean", ascending=False)


def _movielens_polars(ratings: Any, users: Any, movies: Any) -> Any:
    import polars as pl

    data = ratings.join(users, on="user").join(movies, on="movie")
    by = data.group_by(["title", "gender"]).agg(pl.col("rating").mean().alias("mean"), pl.len().alias("count"))
    return by.filter(pl.col("count") >= 100).sort("mean", descending=True)


_MOVIELENS_SQL = """
SELECT title, gender, AVG(rating) AS mean, COUNT(*) AS count
FROM ratings JOIN users USING (user) JOIN movies USING (movie)
GROUP BY title, gender HAVING COUNT(*) >= 100 ORDER BY mean DESC
"""


# -- a 10M-row group-by over 1,000 keys ------------------------------------------------------------
def _keyed(n: int, rng: np.random.Generator) -> dict:
    return {"table": pd.DataFrame({"k": rng.integers(0, 1000, n), "x": rng.standard_normal(n)})}


def groupby_sum_mean(pd_: Any, np_: Any, table: Any) -> Any:
    return table.groupby("k").agg({"x": ["sum", "mean"]})


def _groupby_polars(table: Any) -> Any:
    import polars as pl

    return table.group_by("k").agg(pl.col("x").sum().alias("sum"), pl.col("x").mean().alias("mean")).sort("k")


_GROUPBY_SQL = 'SELECT k, SUM(x), AVG(x) FROM "table" GROUP BY k ORDER BY k'


# -- TPC-H Q1 and Q6 over a synthetic lineitem ------------------------------------------------------
def _lineitem(n: int, rng: np.random.Generator) -> dict:
    flags = np.array(["A", "N", "R"], dtype=object)
    status = np.array(["F", "O"], dtype=object)
    return {
        "lineitem": pd.DataFrame(
            {
                "returnflag": pd.Series(flags[rng.integers(0, 3, n)], dtype="str"),
                "linestatus": pd.Series(status[rng.integers(0, 2, n)], dtype="str"),
                "quantity": rng.integers(1, 51, n).astype(np.float64),
                "price": rng.uniform(900, 100_000, n),
                "discount": rng.integers(0, 11, n) / 100.0,
                "tax": rng.integers(0, 9, n) / 100.0,
                "shipdate": rng.integers(8000, 10_600, n).astype(np.int32),
            }
        )
    }


def tpch_q1(pd_: Any, np_: Any, lineitem: Any) -> Any:
    li = lineitem[lineitem["shipdate"] <= 10_400]
    li = li.assign(
        disc_price=li["price"] * (1 - li["discount"]), charge=li["price"] * (1 - li["discount"]) * (1 + li["tax"])
    )
    spec = {"quantity": ["sum", "mean"], "price": ["sum", "mean"], "disc_price": "sum", "charge": "sum"}
    return li.groupby(["returnflag", "linestatus"]).agg(dict(spec, discount=["mean", "count"]))


def _q1_polars(lineitem: Any) -> Any:
    import polars as pl

    disc = pl.col("price") * (1 - pl.col("discount"))
    return (
        lineitem.filter(pl.col("shipdate") <= 10_400)
        .group_by(["returnflag", "linestatus"])
        .agg(
            pl.col("quantity").sum(),
            pl.col("quantity").mean().alias("q_mean"),
            pl.col("price").sum(),
            pl.col("price").mean().alias("p_mean"),
            disc.sum().alias("disc_price"),
            (disc * (1 + pl.col("tax"))).sum().alias("charge"),
            pl.col("discount").mean(),
            pl.len(),
        )
        .sort(["returnflag", "linestatus"])
    )


_Q1_SQL = """
SELECT returnflag, linestatus, SUM(quantity), AVG(quantity), SUM(price), AVG(price),
  SUM(price * (1 - discount)), SUM(price * (1 - discount) * (1 + tax)), AVG(discount), COUNT(*)
FROM lineitem WHERE shipdate <= 10400 GROUP BY returnflag, linestatus ORDER BY returnflag, linestatus
"""


def tpch_q6(pd_: Any, np_: Any, lineitem: Any) -> Any:
    li = lineitem
    keep = (li["shipdate"] >= 8766) & (li["shipdate"] < 9131) & li["discount"].between(0.05, 0.07)
    sel = li[keep & (li["quantity"] < 24)]
    return (sel["price"] * sel["discount"]).sum()


def _q6_polars(lineitem: Any) -> Any:
    import polars as pl

    c = pl.col
    keep = (
        (c("shipdate") >= 8766) & (c("shipdate") < 9131) & c("discount").is_between(0.05, 0.07) & (c("quantity") < 24)
    )
    return lineitem.filter(keep).select((c("price") * c("discount")).sum()).item()


_Q6_SQL = """
SELECT SUM(price * discount) FROM lineitem
WHERE shipdate >= 8766 AND shipdate < 9131 AND discount BETWEEN 0.05 AND 0.07 AND quantity < 24
"""


def workloads() -> list[FrameWorkload]:
    cleaning_sql = (
        "SELECT COUNT(DISTINCT z) FROM (SELECT substr(zip, 1, 5) AS z FROM requests) "
        "WHERE z NOT IN ('00000', '0', 'N/A')"
    )
    return [
        FrameWorkload("data_cleaning", _zips, data_cleaning, 4_000_000, 3_000, _cleaning_polars, cleaning_sql),
        FrameWorkload("crime_index", _cities, crime_index, 20_000_000, 3_000, _crime_polars, _CRIME_SQL),
        FrameWorkload(
            "birth_analysis",
            _births,
            birth_analysis,
            4_000_000,
            3_000,
            _births_polars,
            _BIRTHS_SQL,
            sql_partial=True,  # the SQL gives the shares only
        ),
        FrameWorkload("movielens", _movielens, movielens, 4_000_000, 3_000, _movielens_polars, _MOVIELENS_SQL),
        FrameWorkload("groupby_10m", _keyed, groupby_sum_mean, 10_000_000, 3_000, _groupby_polars, _GROUPBY_SQL),
        FrameWorkload("tpch_q1", _lineitem, tpch_q1, 6_000_000, 3_000, _q1_polars, _Q1_SQL),
        FrameWorkload("tpch_q6", _lineitem, tpch_q6, 6_000_000, 3_000, _q6_polars, _Q6_SQL),
    ]


# -- running ----------------------------------------------------------------------------------------
def _numbers(x: Any) -> np.ndarray:
    """A result's numbers, sorted: what every implementation must agree on."""
    if isinstance(x, tuple):
        return np.concatenate([_numbers(v) for v in x])
    if hasattr(x, "to_pandas") and not isinstance(x, (pd.Series, pd.DataFrame)):
        x = x.to_pandas()
    if isinstance(x, list):  # DuckDB rows
        x = [v for row in x for v in row if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if isinstance(x, pd.Series):
        x = x.to_frame("value" if x.name is None else x.name)
    if isinstance(x, pd.DataFrame):  # numeric index levels count too (peers return keys as columns)
        keys = not isinstance(x.index, pd.RangeIndex) and any(
            getattr(d, "kind", "O") in "iuf" for d in _index_dtypes(x.index)
        )
        x = x.reset_index(drop=not keys)
        x = x.select_dtypes("number").to_numpy(dtype=np.float64)
    return np.sort(np.asarray(x, dtype=np.float64).ravel())


def _index_dtypes(index: pd.Index) -> list:
    return [lvl.dtype for lvl in index.levels] if isinstance(index, pd.MultiIndex) else [index.dtype]


def _agree(got: Any, want: Any, name: str, exact: bool) -> None:
    g, w = _numbers(got), _numbers(want)
    if exact:
        if isinstance(want, (pd.Series, pd.DataFrame)):
            check = pd.testing.assert_frame_equal if isinstance(want, pd.DataFrame) else pd.testing.assert_series_equal
            check(got, want, check_exact=False, rtol=1e-9)
            return
        if isinstance(want, tuple):
            for a, b in zip(got, want, strict=True):
                _agree(a, b, name, exact)
            return
    assert g.shape == w.shape, f"{name}: {g.shape} numbers vs {w.shape}"
    assert np.allclose(g, w, rtol=1e-6, equal_nan=True), f"{name} disagrees with pandas"


def implementations(w: FrameWorkload, threads: int, pl_frames: Any, con: Any) -> dict[str, Callable[[], Any]]:
    def fused(frames: dict, **options: Any) -> Any:
        with lazyir.config.set(**options):
            lazy = {k: lpd.DataFrame(v) for k, v in frames.items()}
            out = w.run(lpd, lnp, **lazy)
            return lazyir.evaluate(*out) if isinstance(out, tuple) else lazyir.evaluate(out)

    impls: dict[str, Callable[..., Any]] = {
        "pandas": lambda frames: w.run(pd, np, **frames),
        "lazyir": lambda frames: fused(frames, num_threads=1),
    }
    if threads > 1:
        impls[f"lazyir {threads}t"] = lambda frames: fused(frames, num_threads=threads)
    if pl_frames is not None and w.polars is not None:
        impls[f"polars {threads}t"] = lambda frames: w.polars(**pl_frames)
    if con is not None and w.duckdb is not None:
        impls[f"duckdb {threads}t"] = lambda frames: con.sql(w.duckdb).fetchall()
    return impls


def _frames_for_peers(frames: dict, threads: int) -> tuple[Any, Any]:
    pl_frames = con = None
    try:
        import polars as pl

        pl_frames = {k: pl.from_pandas(v) for k, v in frames.items()}
    except ImportError:
        pass
    try:
        import duckdb

        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        for name, frame in frames.items():
            con.register(name, frame)
    except ImportError:
        pass
    return pl_frames, con


def run_workload(w: FrameWorkload, size: int, repeats: int, threads: int = 2, seed: int = 0) -> dict:
    frames = w.make(size, np.random.default_rng(seed))
    pl_frames, con = _frames_for_peers(frames, threads)
    impls = implementations(w, threads, pl_frames, con)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = {name: fn(frames) for name, fn in impls.items()}  # also compiles
        want = results["pandas"]
        for name, got in results.items():
            if name.startswith("lazyir"):
                _agree(got, want, f"{w.name}/{name}", exact=True)
            elif name.startswith("polars") or not w.sql_partial:
                _agree(got, want, f"{w.name}/{name}", exact=False)
        times: dict[str, list[float]] = {name: [] for name in impls}
        for _ in range(repeats):
            for name, fn in impls.items():
                t = time.perf_counter()
                fn(frames)
                times[name].append(time.perf_counter() - t)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    return {"name": w.name, "size": size, "seconds": med, "speedup": {k: med["pandas"] / v for k, v in med.items()}}


def table(rows: list[dict]) -> str:
    impls = [k for k in rows[0]["seconds"] if k != "pandas"] if rows else []
    head = ["workload", "rows", "pandas s"] + [f"{k} s (x pandas)" for k in impls]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        s, x = r["seconds"], r["speedup"]
        cells = [r["name"], f"{r['size']:,}", f"{s['pandas']:.4f}"]
        cells += [f"{s[k]:.4f} ({x[k]:.2f}x)" if k in s else "-" for k in impls]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lazyir.bench.frames", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (a smoke test)")
    ap.add_argument("--only", nargs="*", help="workload names")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--threads", type=int, default=2, help="threads for lazyir's second column and the peers")
    args = ap.parse_args(argv)
    os.environ.setdefault("POLARS_MAX_THREADS", str(args.threads))  # read when Polars is imported
    repeats = args.repeats or (1 if args.quick else 3)
    rows = []
    with lazyir.config.set(eager_threshold=0, progress=False):
        for w in workloads():
            if args.only and w.name not in args.only:
                continue
            size = w.quick if args.quick else w.size
            print(f"running {w.name} ({size:,} rows) ...", file=sys.stderr, flush=True)
            rows.append(run_workload(w, size, repeats, args.threads))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
