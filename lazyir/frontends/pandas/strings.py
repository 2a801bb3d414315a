"""String columns as Arrow-style buffers, and the ``.str`` methods as IR loops over them.

A column of pandas' ``str`` dtype is read as Arrow's large-string layout: ``offsets`` (``n + 1``
int64), ``data`` (the UTF-8 bytes) and a validity mask; for Arrow-backed columns these are the
column's own buffers (no copy). Methods that give one value per row (``len``, ``contains``,
``startswith``, ``endswith``, ``==``, ``isin``) are loops over the rows that read the bytes
between two offsets: lazy arrays that fuse with the filters and arithmetic around them. Methods
that make strings (``slice``, ``strip``, ``lower``, ``upper``) compute new bounds per row, new
offsets (a running sum) and the new bytes (a gather), for ASCII data (where a character is a
byte); they give a ``StrColumn``, which becomes an Arrow-backed pandas column when read.
Patterns are literal strings; regular expressions and non-ASCII case mapping run on pandas.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

import numpy as np
import pandas as pd

from ...ir import nodes as n
from ...ir import types as T
from ..graph import Node
from ..numpy import api as lnp
from ..numpy.array import ndarray, unwrap, where
from ..numpy.array import wrap as wrap_array

#: Bytes Python's ``str.strip()`` removes from ASCII text.
_SPACE = (9, 10, 11, 12, 13, 28, 29, 30, 31, 32)
_MAX_PATTERN = 64


class StrColumn:
    """A lazy string column: offsets and bytes (lazy arrays), validity (known, or ``None``)."""

    __slots__ = ("offsets", "data", "valid", "is_ascii", "dtype")

    def __init__(self, offsets: ndarray, data: ndarray, valid: np.ndarray | None, is_ascii: bool, dtype: Any):
        self.offsets, self.data, self.valid, self.is_ascii, self.dtype = offsets, data, valid, is_ascii, dtype

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def nodes(self) -> list[Node]:
        return [self.offsets._node, self.data._node]

    def series(self) -> pd.Series:
        """The pandas column (offsets and bytes known)."""
        return pd.Series(pd.array(self.arrow(), dtype=self.dtype))

    def arrow(self) -> Any:
        """The Arrow large-string array over the buffers (offsets and bytes known)."""
        import pyarrow as pa

        count = len(self)
        offsets = np.ascontiguousarray(self.offsets._node.value, dtype=np.int64)
        data = np.ascontiguousarray(self.data._node.value, dtype=np.uint8)
        bitmap = None if self.valid is None else pa.py_buffer(np.packbits(self.valid, bitorder="little"))
        return pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data), bitmap)


def supported(series: Any) -> bool:
    dtype = getattr(series, "dtype", None)
    return isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan


def from_series(series: pd.Series) -> StrColumn:
    """A ``str`` column's buffers (Arrow-backed: the column's own), read once per column: every
    ``.str`` call on it reuses them (and their ASCII check, a pass over the bytes)."""
    hit = _read.get(id(series))
    if hit is None:
        hit = _read[id(series)] = _buffers(series)
        weakref.finalize(series, _read.pop, id(series), None)  # before the id can be reused
    return hit


#: Columns read so far, by the identity of the pandas Series (pandas 3 never writes into one).
_read: dict[int, StrColumn] = {}


def _buffers(series: pd.Series) -> StrColumn:
    import pyarrow as pa

    arr = pa.array(series.array) if series.dtype.storage == "pyarrow" else pa.array(series.to_numpy(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    count = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + count + 1]
    buf = arr.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, np.uint8)
    if len(offsets) == 0:
        offsets = np.zeros(1, np.int64)
    used = data[offsets[0] : offsets[-1]]
    is_ascii = not used.size or int(used.max()) < 128
    valid = arr.is_valid().to_numpy(zero_copy_only=False) if arr.null_count else None
    return StrColumn(wrap_array(offsets), wrap_array(data), valid, is_ascii, series.dtype)


# -- one value per row ----------------------------------------------------------------------------
def _per_row(col: StrColumn, dtype: np.dtype, value: Any, label: str) -> ndarray:
    """``value(data, start, end)`` (IR) for every row, as a lazy array."""
    out_ty = T.scalar_of_dtype(np.dtype(dtype))

    def build(args: list[n.Expr]) -> n.Expr:
        off, data = args
        count = n.binop("-", n.call("len", off), n.lit(1, T.I64))
        i = n.ident("i")
        body = n.merge(n.ident("b"), value(data, n.ident("lz_s"), n.ident("lz_e")))
        end = n.call("lookup", off, n.binop("+", i, n.lit(1, T.I64)))
        body = n.let("lz_s", n.call("lookup", off, i), n.let("lz_e", end, body))
        rows = n.rangeiter(n.lit(0, T.I64), count, n.lit(1, T.I64))
        return n.result(n.for_([rows], n.new_builder(T.Appender(out_ty), count), _func(body)))

    return ndarray(Node(col.nodes(), build, _compiled(build, dtype), np.dtype(dtype), (len(col),), label))


def _func(body: n.Expr, names: tuple[str, str, str] = ("b", "i", "x")) -> n.Expr:
    return n.lam([(nm, None) for nm in names], body)


def _compiled(build: Any, dtype: Any) -> Any:
    from .core import compiled

    run = compiled(build)
    return lambda *arrays: np.asarray(run(*arrays), dtype=dtype)


def _byte(data: n.Expr, k: n.Expr) -> n.Expr:
    return n.call("lookup", data, k)


def _matches_at(data: n.Expr, k: n.Expr, pat: bytes) -> n.Expr:
    test: n.Expr = n.lit(True, T.BOOL)
    for j, c in enumerate(pat):
        at = k if j == 0 else n.binop("+", k, n.lit(j, T.I64))
        eq = n.binop("==", _byte(data, at), n.lit(c, T.U8))
        test = eq if j == 0 else n.binop("&&", test, eq)
    return test


def _length(s: n.Expr, e: n.Expr) -> n.Expr:
    return n.binop("-", e, s)


def _fits(s: n.Expr, e: n.Expr, m: int, exact: bool = False) -> n.Expr:
    return n.binop("==" if exact else ">=", _length(s, e), n.lit(m, T.I64))


def starts_with(data: n.Expr, s: n.Expr, e: n.Expr, pat: bytes) -> n.Expr:
    return n.if_(_fits(s, e, len(pat)), _matches_at(data, s, pat), n.lit(False, T.BOOL))


def ends_with(data: n.Expr, s: n.Expr, e: n.Expr, pat: bytes) -> n.Expr:
    at = n.binop("-", e, n.lit(len(pat), T.I64))
    return n.if_(_fits(s, e, len(pat)), _matches_at(data, at, pat), n.lit(False, T.BOOL))


def equals(data: n.Expr, s: n.Expr, e: n.Expr, pat: bytes) -> n.Expr:
    return n.if_(_fits(s, e, len(pat), exact=True), _matches_at(data, s, pat), n.lit(False, T.BOOL))


def contains(data: n.Expr, s: n.Expr, e: n.Expr, pat: bytes) -> n.Expr:
    if not pat:
        return n.lit(True, T.BOOL)
    last = n.binop("+", n.binop("-", e, n.lit(len(pat), T.I64)), n.lit(1, T.I64))
    hit = n.select(_matches_at(data, n.ident("k"), pat), n.lit(1, T.I64), n.lit(0, T.I64))
    scan = n.for_(
        [n.rangeiter(s, last, n.lit(1, T.I64))],
        n.new_builder(T.Merger(T.I64, "max")),
        _func(n.merge(n.ident("m"), hit), ("m", "q", "k")),
    )
    found = n.binop(">", n.result(scan), n.lit(0, T.I64))
    return n.if_(_fits(s, e, len(pat)), found, n.lit(False, T.BOOL))


def char_count(data: n.Expr, s: n.Expr, e: n.Expr) -> n.Expr:
    """UTF-8 characters between two offsets: the bytes that do not continue a character."""
    lead = n.binop("!=", n.binop("&", n.ident("c"), n.lit(192, T.U8)), n.lit(128, T.U8))
    one = n.merge(n.ident("m"), n.select(lead, n.lit(1, T.I64), n.lit(0, T.I64)))
    loop = n.for_(
        [n.iter_(data, s, e, n.lit(1, T.I64))], n.new_builder(T.Merger(T.I64, "+")), _func(one, ("m", "q", "c"))
    )
    return n.result(loop)


def predicate(col: StrColumn, test: Any, pat: bytes, label: str) -> ndarray:
    """A bool per row (missing rows: False, as pandas' ``str`` dtype gives)."""
    out = _per_row(col, np.dtype(bool), lambda d, s, e: test(d, s, e, pat), label)
    return out if col.valid is None else out & wrap_array(col.valid)


def lengths(col: StrColumn, mask: ndarray | None) -> ndarray:
    """Characters per row: int64, or float64 with NaN when a row (of those in ``mask``) is
    missing, as pandas gives (which of the two is known once the mask is)."""
    if col.is_ascii:
        out = col.offsets[1:] - col.offsets[:-1]
    else:
        out = _per_row(col, np.dtype(np.int64), char_count, "str.len")
    if col.valid is None:
        return out
    valid = wrap_array(col.valid)
    if mask is not None and not bool(lnp.any(mask & ~valid)):
        return out
    return where(valid, out, np.nan)


# -- new strings (ASCII) --------------------------------------------------------------------------
def case_mapped(col: StrColumn, upper: bool) -> StrColumn:
    lo, hi = (97, 122) if upper else (65, 90)
    shift = np.uint8(32)
    d = col.data
    inside = (d >= np.uint8(lo)) & (d <= np.uint8(hi))
    mapped = where(inside, d - shift if upper else d + shift, d)
    return StrColumn(col.offsets, mapped, col.valid, col.is_ascii, col.dtype)


def _bounded(col: StrColumn, start: ndarray, length: ndarray) -> StrColumn:
    """Each row's ``length`` bytes from byte ``start``: new offsets (running sum) and bytes.
    The lengths are computed now: the new bytes' length is the shape of a lazy array."""
    known = np.asarray(unwrap(length), dtype=np.int64)
    offsets = wrap_array(np.concatenate([np.zeros(1, np.int64), np.cumsum(known)]))
    length = wrap_array(known)
    total = int(known.sum())

    def build(args: list[n.Expr]) -> n.Expr:
        data, starts, lens = args
        i = n.ident("i")
        a = n.call("lookup", starts, i)
        z = n.binop("+", a, n.call("lookup", lens, i))
        copy = n.merge(n.ident("b2"), n.ident("c"))
        inner = n.for_([n.iter_(data, a, z, n.lit(1, T.I64))], n.ident("b"), _func(copy, ("b2", "q", "c")))
        rows = n.rangeiter(n.lit(0, T.I64), n.call("len", starts), n.lit(1, T.I64))
        return n.result(n.for_([rows], n.new_builder(T.Appender(T.U8), n.lit(total, T.I64)), _func(inner)))

    inputs = [col.data._node, start._node, length._node]
    node = Node(inputs, build, _compiled(build, np.uint8), np.dtype(np.uint8), (total,), "str.gather")
    return StrColumn(offsets, ndarray(node), col.valid, col.is_ascii, col.dtype)


def sliced(col: StrColumn, start: int | None, stop: int | None) -> StrColumn:
    """Python's ``s[start:stop]`` per row (ASCII: characters are bytes)."""
    s0 = col.offsets[:-1]
    size = col.offsets[1:] - s0

    def bound(pos: int | None, default: ndarray) -> ndarray:
        if pos is None:
            return default
        return lnp.clip(size + pos, 0, size) if pos < 0 else np.minimum(size, pos)

    a = bound(start, size * 0)
    length = np.maximum(bound(stop, size) - a, 0)
    return _bounded(col, s0 + a, length)


def stripped(col: StrColumn, left: bool, right: bool) -> StrColumn:
    """``strip``/``lstrip``/``rstrip`` of ASCII whitespace."""
    s0 = col.offsets[:-1]
    size = col.offsets[1:] - s0

    def edge(first: bool) -> ndarray:
        """The first (last) byte that is not whitespace, from the row's start (none: max, -1)."""
        op = "min" if first else "max"

        def value(data: n.Expr, s: n.Expr, e: n.Expr) -> n.Expr:
            c = n.ident("c")
            space: n.Expr | None = None
            for byte in _SPACE:
                eq = n.binop("==", c, n.lit(byte, T.U8))
                space = eq if space is None else n.binop("||", space, eq)
            pick = n.if_(n.unop("!", space), n.merge(n.ident("m"), n.ident("q")), n.ident("m"))
            init = n.lit(int(np.iinfo(np.int64).max) if first else -1, T.I64)
            builder = n.new_builder(T.Merger(T.I64, op), init)
            return n.result(n.for_([n.iter_(data, s, e, n.lit(1, T.I64))], builder, _func(pick, ("m", "q", "c"))))

        return _per_row(col, np.dtype(np.int64), value, f"str.strip.{op}")

    first = np.minimum(edge(True), size) if left else size * 0
    stop = edge(False) + 1 if right else size
    length = np.maximum(stop - first, 0)
    return _bounded(col, s0 + np.minimum(first, stop), length)


def _bordered(pat: bytes) -> bool:
    """Whether two occurrences of ``pat`` can overlap (a proper prefix is also a suffix)."""
    return any(pat[:k] == pat[-k:] for k in range(1, len(pat)))


def _found(data: n.Expr, at: n.Expr, s: n.Expr, e: n.Expr, pat: bytes) -> n.Expr:
    """``pat`` occurs at byte ``at`` within the row ``[s, e)``."""
    fits = n.binop("&&", n.binop(">=", at, s), n.binop("<=", n.binop("+", at, n.lit(len(pat), T.I64)), e))
    return n.if_(fits, _matches_at(data, at, pat), n.lit(False, T.BOOL))


def replaced(col: StrColumn, pat: bytes, repl: bytes) -> StrColumn | None:
    """Every occurrence of ``pat`` replaced by ``repl`` (Python's ``str.replace``), for patterns
    whose occurrences cannot overlap: then every position where ``pat`` matches is one, and a byte
    is copied unless a match covers it. ``None``: an empty or self-overlapping pattern."""
    if not pat or _bordered(pat) or len(pat) > 8:
        return None
    m = len(pat)

    def count(data: n.Expr, s: n.Expr, e: n.Expr) -> n.Expr:
        last = n.binop("+", n.binop("-", e, n.lit(m, T.I64)), n.lit(1, T.I64))
        hit = n.select(_matches_at(data, n.ident("k"), pat), n.lit(1, T.I64), n.lit(0, T.I64))
        step = _func(n.merge(n.ident("m"), hit), ("m", "q", "k"))
        scan = n.for_([n.rangeiter(s, last, n.lit(1, T.I64))], n.new_builder(T.Merger(T.I64, "+")), step)
        return n.if_(_fits(s, e, m), n.result(scan), n.lit(0, T.I64))

    hits = _per_row(col, np.dtype(np.int64), count, "str.replace.count")
    size = col.offsets[1:] - col.offsets[:-1]
    known = np.asarray(unwrap(size + hits * (len(repl) - m)), dtype=np.int64)
    offsets = wrap_array(np.concatenate([np.zeros(1, np.int64), np.cumsum(known)]))
    total = int(known.sum())

    def build(args: list[n.Expr]) -> n.Expr:
        off, data = args
        i, k, b2 = n.ident("i"), n.ident("k"), n.ident("b2")
        s, e = n.call("lookup", off, i), n.call("lookup", off, n.binop("+", i, n.lit(1, T.I64)))
        put = b2
        for c in repl:
            put = n.merge(put, n.lit(c, T.U8))
        covered: n.Expr = n.lit(False, T.BOOL)
        for j in range(1, m):
            covered = n.binop(
                "||", covered, _found(data, n.binop("-", k, n.lit(j, T.I64)), n.ident("lz_s"), n.ident("lz_e"), pat)
            )
        keep = n.if_(covered, b2, n.merge(b2, n.call("lookup", data, k)))
        step = n.if_(_found(data, k, n.ident("lz_s"), n.ident("lz_e"), pat), put, keep)
        inner = n.for_(
            [n.rangeiter(n.ident("lz_s"), n.ident("lz_e"), n.lit(1, T.I64))],
            n.ident("b"),
            _func(step, ("b2", "q", "k")),
        )
        inner = n.let("lz_s", s, n.let("lz_e", e, inner))
        rows = n.rangeiter(n.lit(0, T.I64), n.binop("-", n.call("len", off), n.lit(1, T.I64)), n.lit(1, T.I64))
        return n.result(n.for_([rows], n.new_builder(T.Appender(T.U8), n.lit(total, T.I64)), _func(inner)))

    node = Node(col.nodes(), build, _compiled(build, np.uint8), np.dtype(np.uint8), (total,), "str.replace")
    ascii_out = col.is_ascii and all(c < 128 for c in repl)
    return StrColumn(offsets, ndarray(node), col.valid, ascii_out, col.dtype)


def pattern(pat: Any, regex: bool) -> bytes | None:
    """A literal pattern's bytes, or ``None`` (a regular expression, or not a string)."""
    if not isinstance(pat, str) or len(pat.encode()) > _MAX_PATTERN:
        return None
    if regex and re.escape(pat) != pat:
        return None
    return pat.encode()


# -- the ``.str`` accessor ------------------------------------------------------------------------
class StringMethods:
    """``series.str``: the methods above lazily, any other on pandas (computed first)."""

    def __init__(self, series: Any):
        self._series = series

    def _column(self) -> StrColumn | None:
        return column_of(self._series)

    def _eager(self, name: str, args: tuple, kw: dict, reason: str = "") -> Any:
        from . import core

        def call(s: pd.Series, *a: Any, **k: Any) -> Any:
            return getattr(s.str, name)(*a, **k)

        return core.eager(f"Series.str.{name}", call, (self._series, *args), kw, reason)

    def _result(self, values: Any) -> Any:
        return self._series._like(values)

    def len(self) -> Any:
        col = self._column()
        return self._eager("len", (), {}) if col is None else self._result(lengths(col, self._series._mask))

    def contains(self, pat: Any, case: bool = True, flags: int = 0, na: Any = None, regex: bool = True) -> Any:
        col, lit = self._column(), pattern(pat, regex)
        if col is None or lit is None or not case or flags or na is not None:
            return self._eager("contains", (pat,), dict(case=case, flags=flags, regex=regex, **_na(na)))
        return self._result(predicate(col, contains, lit, "str.contains"))

    def startswith(self, pat: Any, na: Any = None) -> Any:
        return self._test("startswith", starts_with, pat, na)

    def endswith(self, pat: Any, na: Any = None) -> Any:
        return self._test("endswith", ends_with, pat, na)

    def _test(self, name: str, test: Any, pat: Any, na: Any) -> Any:
        col, lit = self._column(), pattern(pat, False)
        if col is None or lit is None or na is not None:
            return self._eager(name, (pat,), _na(na))
        return self._result(predicate(col, test, lit, f"str.{name}"))

    def upper(self) -> Any:
        return self._case("upper", True)

    def lower(self) -> Any:
        return self._case("lower", False)

    def _case(self, name: str, upper: bool) -> Any:
        col = self._column()
        if col is None or not col.is_ascii:
            return self._eager(name, (), {}, "non-ASCII text" if col is not None else "")
        return self._result(case_mapped(col, upper))

    def slice(self, start: int | None = None, stop: int | None = None, step: int | None = None) -> Any:
        col = self._column()
        ints = all(v is None or isinstance(v, int) for v in (start, stop))
        if col is None or not col.is_ascii or step not in (None, 1) or not ints:
            return self._eager("slice", (start, stop, step), {})
        return self._result(sliced(col, start, stop))

    def replace(self, pat: Any, repl: Any, n: int = -1, case: Any = None, flags: int = 0, regex: bool = False) -> Any:
        col, lit = self._column(), pattern(pat, regex)
        out = None
        if (
            col is not None
            and lit is not None
            and isinstance(repl, str)
            and n == -1
            and case in (None, True)
            and not flags
        ):
            out = replaced(col, lit, repl.encode())
        if out is None:
            return self._eager("replace", (pat, repl), dict(n=n, case=case, flags=flags, regex=regex))
        return self._result(out)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return self.slice(key.start, key.stop, key.step)
        return self._eager("__getitem__", (key,), {})

    def strip(self, to_strip: Any = None) -> Any:
        return self._strip("strip", to_strip, True, True)

    def lstrip(self, to_strip: Any = None) -> Any:
        return self._strip("lstrip", to_strip, True, False)

    def rstrip(self, to_strip: Any = None) -> Any:
        return self._strip("rstrip", to_strip, False, True)

    def _strip(self, name: str, to_strip: Any, left: bool, right: bool) -> Any:
        col = self._column()
        if col is None or not col.is_ascii or to_strip is not None:
            return self._eager(name, (to_strip,), {})
        return self._result(stripped(col, left, right))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kw: self._eager(name, args, kw)


def column_of(series: Any) -> StrColumn | None:
    """The string column of a lazy Series, or ``None`` (not a ``str`` column)."""
    col = series._col
    if isinstance(col, StrColumn):
        return col
    return from_series(col) if supported(col) else None


def distinct_count(col: StrColumn, mask: ndarray | None) -> int:
    """Distinct strings among the rows of ``mask`` (missing ones not counted): the bytes are
    computed by lazyir, counted by Arrow's hash kernel."""
    import pyarrow.compute as pc

    keep = None if mask is None else np.asarray(mask)
    unwrap([col.offsets, col.data])
    arr = col.arrow()
    if keep is not None:
        arr = arr.filter(keep)
    return int(pc.count_distinct(arr, mode="only_valid").as_py())


def without(col: StrColumn, drop: ndarray) -> StrColumn:
    """The column with the rows of ``drop`` made missing (computed now: validity is known)."""
    gone = np.asarray(drop, dtype=bool)
    valid = ~gone if col.valid is None else col.valid & ~gone
    return StrColumn(col.offsets, col.data, valid, col.is_ascii, col.dtype)


def _na(na: Any) -> dict:
    return {} if na is None else {"na": na}


def compare(series: Any, other: Any, negate: bool) -> Any:
    """``series == other`` (``!=``) for a string column and a string, or ``None``."""
    col, lit = column_of(series), pattern(other, False)
    if col is None or lit is None:
        return None
    eq = predicate(col, equals, lit, "str.eq")
    return ~eq if negate else eq


def member(series: Any, values: list) -> Any:
    """``series.isin(values)`` for a string column and strings, or ``None``."""
    col, lits = column_of(series), [pattern(v, False) for v in values]
    if col is None or any(x is None for x in lits) or len(lits) > 64:
        return None
    out = None
    for lit in dict.fromkeys(lits):
        hit = predicate(col, equals, lit, "str.eq")
        out = hit if out is None else out | hit
    return out
