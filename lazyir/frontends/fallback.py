"""Eager fallback bookkeeping: one ``EagerFallbackWarning`` per function, and a report."""

from __future__ import annotations

import threading
import warnings
from collections import Counter

from ..errors import EagerFallbackWarning

_counts: Counter[str] = Counter()
_lock = threading.Lock()


def note(name: str, reason: str = "") -> None:
    """Record that ``name`` ran eagerly on the real library; warn the first time."""
    with _lock:
        first = name not in _counts
        _counts[name] += 1
    if first:
        why = f" ({reason})" if reason else ""
        warnings.warn(
            f"lazyir runs {name} eagerly on the real library{why}; its inputs were evaluated first",
            EagerFallbackWarning,
            stacklevel=4,
        )


def report() -> dict[str, int]:
    """How often each function fell back to eager execution, most frequent first."""
    with _lock:
        return dict(_counts.most_common())


def reset() -> None:
    with _lock:
        _counts.clear()
