"""Operations that reorder or pick rows: ``sort_values``, ``sort_index``, ``nlargest``,
``nsmallest``, and the key counts behind ``value_counts`` and ``unique``.

Reordering is split in two: pandas computes the order from the key columns only (computed first,
with the frame's filter applied), so ties, NaN placement and the sort algorithm are pandas' own;
lazyir then gathers every other column in that order, lazily (``take``), so the gather fuses with
what reads the result. The result is a frame over new rows (the index taken in the same order).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..numpy import api as lnp
from ..numpy.array import ndarray, unwrap
from . import core
from .core import Rows


def positions(obj: Any) -> np.ndarray:
    """The rows the object holds, as positions into its ``Rows``."""
    mask = obj._known_mask() if obj._mask is None or obj._mask._node.known else np.asarray(obj._mask)
    return np.arange(len(obj._rows)) if mask is None else np.flatnonzero(mask)


def taken(obj: Any, where: np.ndarray) -> tuple[Rows, list]:
    """New rows and columns: the object's rows at positions ``where`` (into its ``Rows``)."""
    rows = Rows(obj._rows.index.take(where))
    cols = [
        lnp.take_rows(c, where, trusted=True)
        if core.is_lazy(c)
        else core.CodedColumn.gathered(core.plain_text(c), where)
        for c in obj._columns_held()
    ]
    return rows, cols


def index_order(obj: Any, kw: dict) -> np.ndarray:
    """Positions (into ``Rows``) in the order of pandas' ``sort_index(**kw)``."""
    where = positions(obj)
    order = pd.Series(np.arange(len(where)), index=obj._rows.index.take(where)).sort_index(**kw)
    return where[order.to_numpy()]


def order_by(obj: Any, keys: list[Any], method: str, args: tuple, kw: dict) -> np.ndarray:
    """Positions (into ``Rows``) in the order pandas' ``method`` gives a frame of the keys."""
    where = positions(obj)
    values = unwrap([core.plain(c) for c in keys])
    frame = pd.DataFrame(
        {k: (v[where] if isinstance(v, np.ndarray) else v.iloc[where].to_numpy()) for k, v in enumerate(values)}
    )
    result = getattr(frame, method)(*args, **kw)
    return where[result.index.to_numpy()]


def key_counts(col: ndarray, mask: ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``col`` (NaN left out) in order of first appearance, with counts."""
    from .groupby import Agg, _group_node

    node = _group_node([col], [], mask, [Agg(-1, "size")], [])
    table = unwrap(ndarray(node))[0]
    return table.keys, table.values["f0"]
