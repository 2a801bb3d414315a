"""Eager fallback bookkeeping: one ``EagerFallbackWarning`` per function, and a report."""

from __future__ import annotations

import threading
import warnings
from collections import Counter

from ..errors import EagerFallbackWarning

_counts: Counter[str] = Counter()
_lock = threading.Lock()


def note(name: str, reason: str = "", deferred: bool = False) -> None:
    """Record that ``name`` runs on the real library (now, or ``deferred`` as an opaque step of
    the program when it is evaluated); warn the first time."""
    with _lock:
        first = name not in _counts
        _counts[name] += 1
    if first:
        why = f" ({reason})" if reason else ""
        how = (
            "as an opaque step when the program is evaluated"
            if deferred
            else "eagerly; its inputs were evaluated first"
        )
        warnings.warn(f"lazyir runs {name} on the real library{why}, {how}", EagerFallbackWarning, stacklevel=4)


def report() -> dict[str, int]:
    """How often each function fell back to eager execution, most frequent first."""
    with _lock:
        return dict(_counts.most_common())


def reset() -> None:
    with _lock:
        _counts.clear()
