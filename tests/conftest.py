"""Test configuration: Hypothesis settings profiles.

``HYPOTHESIS_PROFILE=ci`` (the default) is repeatable: derandomized (the same examples on every
run of the same code), no example database, no deadline. ``HYPOTHESIS_PROFILE=dev`` explores more
examples with fresh randomness each run (failures are saved in ``.hypothesis/`` and replayed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# Tests verify the IR after every optimizer pass (types checked; a pass that breaks them fails).
os.environ.setdefault("LAZYIR_DEBUG", "1")

# Plain `pytest` (unlike `python -m pytest`) does not put the repository root on sys.path.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=50,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
