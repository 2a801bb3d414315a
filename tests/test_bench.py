"""The benchmark suite runs (``--quick``: tiny sizes) so that it cannot rot; every implementation
is checked against eager NumPy inside the suite before it is timed."""

from __future__ import annotations

import pytest

from lazyir.bench.__main__ import main, peak_added, table
from lazyir.bench.workloads import workloads


def test_quick_suite_runs_and_writes_its_report(tmp_path, capsys):
    assert main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for w in workloads():
        assert f"| {w.name} |" in out
    assert (tmp_path / "bench.md").read_text().count("\n|") >= len(workloads()) + 1


def test_fused_workloads_are_single_loops():
    # Black-Scholes, Haversine and the streaming sum are one pass over memory once fused.
    from lazyir.bench.__main__ import run_workload

    by_name = {w.name: w for w in workloads()}
    for name in ("black_scholes_poly", "haversine", "fused_sum"):
        row = run_workload(by_name[name], 5000, 1)
        assert row["loops"].endswith(", 1 after"), (name, row["loops"])


def test_disagreement_is_caught():
    from lazyir.bench.__main__ import _agree

    with pytest.raises(AssertionError, match="disagrees"):
        _agree((1.0,), (2.0,), "x")


def test_peak_memory_measure_sees_an_allocation():
    import numpy as np

    _, added = peak_added(lambda: np.ones(20_000_000).sum())
    if added is not None:  # Linux only
        assert added >= 100 * 2**20
    assert "| a |" in table(
        [
            {
                "name": "a",
                "size": 1,
                "seconds": {"numpy": 1.0, "lazyir": 0.5},
                "speedup": {"numpy": 1.0, "lazyir": 2.0},
                "inputs_bytes": 8,
                "outputs_bytes": 8,
                "peak_added": {"numpy": 0, "lazyir": 0},
                "loops": "2 before, 1 after",
            }
        ]
    )


def test_quick_pandas_suite_checks_every_implementation(capsys):
    # every implementation's result is compared with pandas' inside the suite before timing
    from lazyir.bench import frames

    assert frames.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for w in frames.workloads():
        assert f"| {w.name} |" in out
