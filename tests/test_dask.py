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
