"""lazyir's one configuration object.

Environment variables (``LAZYIR_*``) are read once, when lazyir is imported; ``config.set(...)``
changes values globally, and ``with config.set(...):`` only inside the block (per thread).

| option | environment | default | meaning |
|---|---|---|---|
| ``cache_dir`` | ``LAZYIR_CACHE_DIR`` | ``~/.cache/lazyir`` | compiled object code on disk (0700) |
| ``disk_cache`` | ``LAZYIR_DISK_CACHE`` | ``True`` | use the on-disk cache at all |
| ``vector_math`` | ``LAZYIR_VECTOR_MATH`` | ``True`` | call libmvec's SIMD math in vectorized loops |
| ``optimize`` | ``LAZYIR_OPTIMIZE`` | ``True`` | run the optimizer before compiling |
| ``passes`` | ``LAZYIR_PASSES`` (comma-separated) | the default list | optimizer passes, in order |
| ``eager_threshold`` | ``LAZYIR_EAGER_THRESHOLD`` | ``4096`` | smaller arrays run eagerly (0: never) |
| ``debug`` | ``LAZYIR_DEBUG`` | ``0`` | 1: verify the IR after every pass; 2: also print it after each pass |
| ``num_threads`` | ``LAZYIR_NUM_THREADS`` | the machine's cores | threads a loop is split across |
| ``scheduler`` | ``LAZYIR_SCHEDULER`` | ``"threads"`` | or ``"sync"`` (one thread), or a ``distributed.Client`` |
| ``progress`` | ``LAZYIR_PROGRESS`` | ``True`` | a progress bar (tqdm) for split evaluations longer than 2 s |
| ``min_chunk`` | ``LAZYIR_MIN_CHUNK`` | ``65536`` | fewest iterations in a thread's chunk (smaller loops: one thread) |
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any


def _default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return str(Path(base) / "lazyir")


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in ("0", "false", "no", "off", "")


#: The optimizer's default pass order (data, not code: override by name).
DEFAULT_PASSES: tuple[str, ...] = (
    "inline",
    "fold",
    "float_lets",
    "fuse_vertical",
    "fuse_horizontal",
    "inline",
    "fold",
    "cse",
    "licm",
    "predicate",
    "size",
    "dce",
)


@dataclass(frozen=True)
class Options:
    cache_dir: str
    disk_cache: bool
    vector_math: bool
    optimize: bool
    passes: tuple[str, ...]
    eager_threshold: int
    debug: int
    num_threads: int
    min_chunk: int
    scheduler: Any = "threads"
    progress: bool = True

    @classmethod
    def from_environment(cls) -> Options:
        passes = os.environ.get("LAZYIR_PASSES")
        return cls(
            cache_dir=os.environ.get("LAZYIR_CACHE_DIR") or _default_cache_dir(),
            disk_cache=_flag("LAZYIR_DISK_CACHE", True),
            vector_math=_flag("LAZYIR_VECTOR_MATH", True),
            optimize=_flag("LAZYIR_OPTIMIZE", True),
            passes=tuple(p.strip() for p in passes.split(",") if p.strip()) if passes else DEFAULT_PASSES,
            eager_threshold=int(os.environ.get("LAZYIR_EAGER_THRESHOLD") or 4096),
            debug=int(os.environ.get("LAZYIR_DEBUG") or 0),
            num_threads=max(1, int(os.environ.get("LAZYIR_NUM_THREADS") or os.cpu_count() or 1)),
            min_chunk=max(1, int(os.environ.get("LAZYIR_MIN_CHUNK") or 65536)),
            scheduler=os.environ.get("LAZYIR_SCHEDULER") or "threads",
            progress=_flag("LAZYIR_PROGRESS", True),
        )


class Config:
    """Current options: ``config.vector_math``; change with ``config.set(name=value)``."""

    def __init__(self) -> None:
        self._global = Options.from_environment()
        self._local = threading.local()

    @property
    def options(self) -> Options:
        stack = getattr(self._local, "stack", None)
        return stack[-1] if stack else self._global

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.options, name)

    def set(self, **changes: Any) -> _Setting:
        """Change options now; used as a context manager, the change is undone after the block."""
        known = {f.name for f in fields(Options)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(
                f"unknown lazyir option(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
            )
        if "passes" in changes:
            changes["passes"] = tuple(changes["passes"])
        before = self._global
        self._global = replace(self._global, **changes)
        return _Setting(self, before, changes)

    def reload(self) -> None:
        """Read the ``LAZYIR_*`` environment variables again."""
        self._global = Options.from_environment()


class _Setting:
    def __init__(self, config: Config, before: Options, changes: dict):
        self.config, self.before, self.changes = config, before, changes

    def __enter__(self) -> Config:
        # Inside a with-block the change is scoped to this thread: undo the global change.
        cfg = self.config
        cfg._global = self.before
        stack = getattr(cfg._local, "stack", None) or []
        stack.append(replace(cfg.options, **self.changes))
        cfg._local.stack = stack
        return cfg

    def __exit__(self, *exc: object) -> None:
        self.config._local.stack.pop()


config = Config()
