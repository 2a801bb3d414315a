"""``import lazyir.pandas as pd``: pandas' namespace, lazily.

``DataFrame`` and ``Series`` are lazy (``lazyir.frontends.pandas``): wrapping a pandas object
copies nothing; column selection and assignment, arithmetic, filters, missing-value handling and
reductions build one program with the NumPy frontend's arrays, computed when a value is needed
(``lazyir.evaluate``, printing, ``to_pandas()``). Readers (``read_csv``, ``read_parquet``...) load
through pandas and return lazy frames. Any other pandas function runs on pandas with its lazy
arguments computed, warns once with ``EagerFallbackWarning`` and returns lazy objects; everything
that is not a function (dtypes, options, ``NA``) is pandas' own.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as _pd

from .frontends import fallback as _fallback
from .frontends.pandas import core as _core
from .frontends.pandas.frame import DataFrame
from .frontends.pandas.series import Series

__all__ = ["DataFrame", "Series"]

#: Functions that only load data: no fallback to report, the result is simply lazy.
_READERS = frozenset(name for name in dir(_pd) if name.startswith("read_"))


def merge(left: Any, right: Any, **kw: Any) -> Any:
    from .frontends.pandas.merge import merge as _merge

    return _merge(left, right, **kw)


def pivot_table(data: Any, *args: Any, **kw: Any) -> Any:
    if isinstance(data, DataFrame):
        return data.pivot_table(*args, **kw)
    return _core.eager("pivot_table", _pd.pivot_table, (data, *args), kw)


def isna(obj: Any) -> Any:
    if isinstance(obj, (Series, DataFrame)):
        return obj.isna()
    return _pd.isna(obj)


def notna(obj: Any) -> Any:
    if isinstance(obj, (Series, DataFrame)):
        return obj.notna()
    return _pd.notna(obj)


isnull, notnull = isna, notna


def _function(name: str, func: Any) -> Any:
    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        if name in _READERS:
            return _core.wrap(func(*args, **kwargs))
        return _core.eager(name, func, args, kwargs)

    return call


def __getattr__(name: str) -> Any:
    attr = getattr(_pd, name)
    if callable(attr) and not isinstance(attr, type) and not name.startswith("_"):
        return _function(name, attr)
    return attr


def fallback_report() -> dict:
    return _fallback.report()
