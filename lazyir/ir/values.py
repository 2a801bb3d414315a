"""Python-side values of IR types that NumPy has no object for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(eq=False)
class Dictionary:
    """A ``dict[K,V]`` result: keys and values in first-insertion order.

    ``keys`` is a NumPy array (structured for struct keys); ``values`` is a NumPy array, or for a
    ``groupmerger`` result a list of arrays, one per key.
    """

    keys: Any
    values: Any

    def __len__(self) -> int:
        return len(self.keys)

    def to_dict(self) -> dict:
        """A plain Python dict (struct keys become tuples)."""
        return {_plain(k): v for k, v in zip(self.keys, self.values, strict=True)}

    def __repr__(self) -> str:
        return f"Dictionary({self.to_dict()!r})"


def _plain(k: Any) -> Any:
    if isinstance(k, np.void):
        return tuple(_plain(x) for x in k.tolist()) if isinstance(k.tolist(), tuple) else k.tolist()
    if isinstance(k, np.generic):
        return k.item()
    return k
