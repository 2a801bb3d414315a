"""Loops split into Dask tasks on a ``LocalCluster`` of two worker processes (loopback): the
results of one pass, compile once per worker process, and a killed worker costs time only."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

import lazyir
import lazyir.numpy as lnp

distributed = pytest.importorskip("distributed")

HASH = "|n: i64| result(for(rangeiter(0L, n, 1L), merger[i64,+], |s, i, x| merge(s, {})))"


def _mix(rounds: int) -> str:
    body = "x"
    for k in range(rounds):
        body = f"(let y{k} = ({body}) * 2654435761L; y{k} ^ (y{k} >> 13L))"
    return f"{body} & 1023L"


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_a_numpy_workload_through_the_cluster(client):
    from lazyir.bench.workloads import black_scholes_inputs, black_scholes_poly

    ins = black_scholes_inputs(50_000, np.random.default_rng(0))
    lazy = black_scholes_poly(lnp, *[lnp.asarray(x) for x in ins])
    got = lazyir.evaluate(lazy, scheduler=client)
    for g, w in zip(got, black_scholes_poly(np, *ins), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)  # libm vs NumPy: a few ulps


def test_every_splittable_builder_matches_one_pass(client):
    text = (
        "|a: vec[i64], v: vec[i64]| {result(for(a, merger[i64,+](5L), |s, i, x| merge(s, x * lookup(v, i % len(v))))), "
        "result(for(a, scanner[i64,max], |s, i, x| merge(s, x ^ i))), "
        "result(for(a, vecmerger[i64,+](v), |s, i, x| merge(s, {(x & 1023L) % len(v), i}))), "
        "result(for(zip(a, a), appender[i64], |s, i, e| if(e.$0 % 3L == 0L, s, merge(s, e.$1 + i)))), "
        "result(for(a, dictmerger[i64,i64,+], |s, i, x| merge(s, {x % 17L, i}))), "
        "result(for(a, groupmerger[i64,i64], |s, i, x| merge(s, {x % 5L, i})))}"
    )
    a = np.random.default_rng(1).integers(-1000, 1000, 30_001)
    v = np.arange(7, dtype=np.int64)
    fn = lazyir.compile(text)
    with lazyir.config.set(scheduler="sync"):
        want = fn(a, v)
    with lazyir.config.set(scheduler=client):
        got = fn(a, v)
    assert got[0] == want[0]
    for g, w in zip(got[1:4], want[1:4], strict=True):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(got[4].keys, want[4].keys)
    np.testing.assert_array_equal(got[4].values, want[4].values)
    np.testing.assert_array_equal(got[5].keys, want[5].keys)
    for g, w in zip(got[5].values, want[5].values, strict=True):
        np.testing.assert_array_equal(g, w)


def test_workers_compile_a_kernel_once_per_process(client):
    fn = lazyir.compile(HASH.format(_mix(2)))
    with lazyir.config.set(scheduler=client):
        first = fn(np.int64(100_000))
        before = client.run(lambda: len(__import__("lazyir.backend.compiler").backend.compiler._memory))
        assert fn(np.int64(100_000)) == first
        after = client.run(lambda: len(__import__("lazyir.backend.compiler").backend.compiler._memory))
    assert before == after


def test_a_killed_worker_costs_time_not_correctness(client):
    fn = lazyir.compile(HASH.format(_mix(8)))
    n = np.int64(60_000_000)
    with lazyir.config.set(scheduler="sync"):
        want = fn(n)
    out: dict = {}

    def evaluate() -> None:
        try:
            with lazyir.config.set(scheduler=client):
                out["value"] = fn(n)
        except BaseException as e:  # pragma: no cover - reported below
            out["error"] = e

    th = threading.Thread(target=evaluate)
    th.start()
    victim = None
    deadline = time.monotonic() + 30
    while victim is None and time.monotonic() < deadline:
        busy = [w for w, tasks in client.processing().items() if tasks]
        victim = busy[0] if busy else None
        time.sleep(0.01)
    assert victim is not None, "no task started"
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)  # the worker process dies mid-task (its nanny starts another)
    th.join(120)
    assert not th.is_alive()
    assert "error" not in out, out.get("error")
    assert out["value"] == want
    assert victim not in client.scheduler_info()["workers"]  # it did die, holding a task
    client.wait_for_workers(2, timeout=60)  # the nanny's new worker, for later tests


# -- data already on the cluster, object code --------------------------------------------------
da = pytest.importorskip("dask.array")


def _sent(client) -> int:
    """Bytes the workers have sent each other (or to the client) so far."""
    return sum(client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total).values())


def test_a_dask_array_is_read_where_its_blocks_lie(client):
    dx = da.random.default_rng(2).random(2_000_000, chunks=500_000).persist()  # made on the workers
    distributed.wait(dx)
    lazy = lnp.asarray(dx)
    expr = lnp.sum(lnp.sqrt(lazy) * 2.0 + lazy)
    before = _sent(client)
    got = lazyir.evaluate(expr, scheduler=client)
    moved = _sent(client) - before
    x = dx.compute()
    np.testing.assert_allclose(got, np.sum(np.sqrt(x) * 2.0 + x), rtol=1e-12)
    assert moved < x.nbytes // 20, moved  # partials and kernels moved, not the 16 MB of blocks
    again = lnp.sum(lnp.sqrt(lnp.asarray(dx)) * 2.0 + lnp.asarray(dx))
    np.testing.assert_allclose(lazyir.evaluate(again, scheduler="threads"), got, rtol=1e-12)  # fetched


def test_dask_arrays_and_futures_as_program_arguments(client):
    rng = np.random.default_rng(3)
    a = rng.integers(-50, 50, 100_003)
    b = rng.integers(-50, 50, 100_003)
    fn = lazyir.compile(
        "|a: vec[i64], b: vec[i64]| {result(for(zip(a, b), merger[i64,+], |s, i, e| merge(s, e.$0 * e.$1))), "
        "result(for(a, appender[i64], |s, i, x| if(x > 0L, merge(s, x + lookup(b, i)), s))), "
        "result(for(a, vecmerger[i64,+](b), |s, i, x| merge(s, {i % len(b), x})))}"
    )
    with lazyir.config.set(scheduler="sync"):
        want = fn(a, b)
    uneven = da.from_array(a, chunks=(10_000, 40_000, 50_003)).persist()
    for left, right in [(uneven, client.scatter(b)), (client.scatter(a), da.from_array(b, chunks=30_000))]:
        with lazyir.config.set(scheduler=client):
            got = fn(left, right)
        assert got[0] == want[0]
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[2], want[2])


def test_remote_arguments_are_checked(client):
    fn = lazyir.compile("|a: vec[f64]| result(for(a, merger[f64,+], |s, i, x| merge(s, x)))")
    with lazyir.config.set(scheduler=client), pytest.raises(TypeError, match="argument a: expected vec.f64."):
        fn(da.from_array(np.arange(10, dtype=np.int32)))
    with lazyir.config.set(scheduler=client), pytest.raises(TypeError, match="argument a"):
        fn(client.scatter(np.arange(10)))


def test_workers_load_the_clients_object_code(client):
    fn = lazyir.compile(HASH.format(_mix(3)))
    with lazyir.config.set(scheduler=client):
        fn(np.int64(50_000))
    sources = client.run(
        lambda: {k: v.stats.source for k, v in __import__("lazyir.dist.dask").dist.dask._kernels.items()}
    )
    assert sources and all(src == "object" for per in sources.values() for src in per.values())


def test_a_kernel_for_another_target_is_compiled_from_its_text():
    from lazyir.dist import dask as D

    text = "|a: vec[i64]| result(for(a, merger[i64,+], |s, i, x| merge(s, x * 3L)))"
    kernel = D.Kernel(text, "another cpu", b"not object code", "nowhere")
    fn = D.load_kernel(kernel)
    assert fn(np.arange(10)) == 135
    assert D.load_kernel(kernel) is fn  # once per process


def test_remote_pieces_cover_any_range():
    from hypothesis import given
    from hypothesis import strategies as st

    from lazyir.dist import dask as D

    @given(st.lists(st.integers(1, 7), min_size=1, max_size=6), st.data())
    def check(sizes, data):
        whole = np.arange(sum(sizes))
        blocks = np.split(whole, np.cumsum(sizes)[:-1])
        remote = D.Remote(None, blocks, sizes, whole.dtype)
        lo = data.draw(st.integers(0, len(whole)))
        hi = data.draw(st.integers(lo, len(whole)))
        part = remote[lo:hi]
        np.testing.assert_array_equal(D._assemble(*remote.piece(part.lo, part.hi)), whole[lo:hi])

    check()


def test_pandas_group_by_join_and_strings_through_the_cluster(client):
    import pandas as pd

    import lazyir.pandas as lpd

    rng = np.random.default_rng(12)
    n = 40_000
    facts = pd.DataFrame(
        {
            "k": rng.integers(0, 50, n),
            "x": rng.standard_normal(n),
            "s": pd.Series(rng.choice(["ab", "c", None], n), dtype="str"),
        }
    )
    dims = pd.DataFrame({"k": np.arange(50), "w": rng.random(50)})
    lf, ld = lpd.DataFrame(facts), lpd.DataFrame(dims)
    with lazyir.config.set(scheduler=client, eager_threshold=0):
        by = lf[lf.x > 0].groupby("k").agg({"x": ["sum", "count", "max"]}).to_pandas()
        joined = lpd.merge(lf, ld, on="k").assign(t=lambda d: d.x * d.w).groupby("k").t.sum().to_pandas()
        hits = lazyir.evaluate(lf.s.str.startswith("a").sum())
    pd.testing.assert_frame_equal(by, facts[facts.x > 0].groupby("k").agg({"x": ["sum", "count", "max"]}))
    want = pd.merge(facts, dims, on="k").assign(t=lambda d: d.x * d.w).groupby("k").t.sum()
    pd.testing.assert_series_equal(joined, want, check_exact=False, rtol=1e-12)
    assert hits == facts.s.str.startswith("a").sum()
