"""Deeply nested programs: recursive tree walks retried in a thread with a large stack.

Frontends build long chains (a 10,000-op elementwise chain nests 10,000 deep). The tree walks
stay recursive, which keeps them readable; ``run_deep`` first calls them normally, and only on
``RecursionError`` runs them again in a worker thread with a 1 GiB stack (reserved, not committed)
and a raised recursion limit, so deep programs neither fail nor crash the process.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")

STACK_BYTES = 1 << 30
RECURSION_LIMIT = 1_000_000

_local = threading.local()
_lock = threading.Lock()
_active = 0
_saved_limit = 0


def run_deep(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """``fn(*args, **kwargs)``, retried with room for deep recursion if it runs out of stack.

    ``fn`` must be safe to call twice (a pure tree walk)."""
    if getattr(_local, "deep", False):
        return fn(*args, **kwargs)
    try:
        return fn(*args, **kwargs)
    except RecursionError:
        pass
    _local.retries = retries() + 1
    return _in_big_thread(fn, args, kwargs)


def retries() -> int:
    """How many ``run_deep`` calls of this thread have run out of stack and been retried (a caller
    with more walks to do over the same program can move them to a deep thread once it grows)."""
    return getattr(_local, "retries", 0)


def in_deep_thread(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """``fn(*args, **kwargs)`` in a thread with room for deep recursion, without trying the
    caller's stack first (for work that would often run out of it and must not run twice)."""
    if getattr(_local, "deep", False):
        return fn(*args, **kwargs)
    return _in_big_thread(fn, args, kwargs)


def _in_big_thread(fn: Callable[..., R], args: tuple, kwargs: dict) -> R:
    global _active, _saved_limit
    box: dict[str, Any] = {}

    def target() -> None:
        _local.deep = True
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    with _lock:
        if _active == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, RECURSION_LIMIT))
        _active += 1
        old_size = threading.stack_size()
        threading.stack_size(STACK_BYTES)
        try:
            worker = threading.Thread(target=target, name="lazyir-deep")
            worker.start()
        finally:
            threading.stack_size(old_size)
    try:
        worker.join()
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                sys.setrecursionlimit(_saved_limit)
    if "error" in box:
        raise box["error"]
    return box["value"]
