"""The benchmark scripts run (tiny sizes) so they cannot rot; no timing is asserted here."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _script(name: str):
    """Import a benchmark script from ``benchmarks/``."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


def test_foundation_benchmark_quick(capsys):
    foundation = _script("foundation")
    result = foundation.main(["--quick"])
    out = capsys.readouterr().out
    assert "Black-Scholes" in out and "cold" in out
    for name in ("one_loop", "black_scholes"):
        c = result["compile"][name]
        assert c["cold_ms"] > 0 and c["disk_ms"] > 0 and c["memory_us"] > 0
    assert result["run"]["sum"]["speedup"] > 0


def test_optimizer_benchmark_quick(capsys):
    optimizer = _script("optimizer")
    result = optimizer.main(["--quick"])
    assert result["fusion"]["loops_before"] == 11 and result["fusion"]["loops_after"] == 1
    assert [row["loops_after"] for row in result["scaling"]] == [1, 1]
    assert "optimizer time" in capsys.readouterr().out
