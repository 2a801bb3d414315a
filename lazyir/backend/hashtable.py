"""Hash tables behind ``dictmerger[K,V,op]``, ``groupmerger[K,V]`` and ``dict[K,V]`` values.

Everything is generated as LLVM functions (internal linkage, no global state) in the module being
compiled; the classes here emit calls of them at an ``ir.IRBuilder``.

Table layout (a heap block from ``runtime.alloc``)::

    TABLE = { ptr entries, i64 count, i64 entry_cap, ptr index, i64 index_mask }

- ``entries`` is a dense array of ``entry_cap`` memory-typed ``{K, V}`` structs
  (``lltypes.memory_type(Struct((K, V)))``: exactly an IR ``vec[{K,V}]``'s data), of which the first
  ``count`` are used, in first-insertion order. ``tovec(d)`` is therefore ``{entries, count}``
  (zero copy). Keys are stored canonicalized (floats: ``-0.0`` -> ``0.0``, every NaN -> the
  quiet NaN ``0x7ff8000000000000`` / ``0x7fc00000``). Vector keys are stored as given (the entry
  holds the caller's ``{ptr, len}``; their data is not copied) and canonicalized when hashed or
  compared.
- ``index`` is a power-of-two array (``index_mask + 1`` slots) of i64 for linear probing. A slot is 0
  when empty, otherwise ``(hash & ~(2**40 - 1)) | (entry index + 1)``: the low 40 bits hold the entry
  index plus one, the high 24 bits a tag (high bits of the key's hash) that rejects most non-matching
  probes without reading the entry. Probing starts at ``hash & index_mask``. The index is kept at
  most 1/4 full while it has at most ``SMALL_INDEX`` slots and at most 1/2 full beyond (doubled and
  rebuilt from ``entries``, rehashing the stored keys, when an insert would exceed that), and
  ``entries`` doubles with ``runtime.realloc``.

Hashes: integer/bool/float leaves (floats canonicalized, then their bits) are packed into 64-bit
words; one word is finished with a MurmurHash3-style 64-bit avalanche (``fmix``), several are
absorbed one at a time (multiply-rotate-multiply) and then finished. Vector keys whose elements are
integers without padding are hashed as bytes, 8 at a time; other vectors element by element. Struct
keys are compared field by field (never padding bytes).

Group mergers (``GROUP_STATE = { ptr table, ptr gids, ptr vals, i64 n, i64 cap }``): ``table`` maps
K to the number of values merged for it (its entry index is the group id); ``gids``/``vals`` are
parallel arrays of the group id and the (memory-typed) value of each merge, in merge order.
``result`` counting-sorts the values into one flat block and turns the state's table into a
``dict[K, vec[V]]`` table in place: same header and index, new entries
``{K, {ptr into the flat block, i64 count}}``.

Sizes are computed by LLVM from the module's data layout: set ``module.data_layout`` (and triple)
from the target machine so that they agree with ``lltypes.sizeof``/``field_offsets``.

Errors: allocation failures are reported with ``runtime.error(ERR_NOMEM)``; once any error is recorded
the kernel's results are discarded, so inserts may then write into an existing entry instead of
growing (never out of bounds). Failure of the initial minimum-size allocations is not survived.
Tables are limited to ``2**40 - 1`` entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from llvmlite import ir

from lazyir.ir import types as T

# The banned-api rule (TID251) is meant for frontends/ir; the backend may import itself.
from . import runtime
from .cgutils import counted_loop, stack_var
from .lltypes import I1, I8, I32, I64, PTR, VEC, memory_type, sizeof, to_memory
from .lltypes import load as ir_load
from .lltypes import store as ir_store

#: The table header.
TABLE = ir.LiteralStructType([PTR, I64, I64, PTR, I64])
T_ENTRIES, T_COUNT, T_CAP, T_INDEX, T_MASK = range(5)
#: The group merger state.
GROUP_STATE = ir.LiteralStructType([PTR, PTR, PTR, I64, I64])
G_TABLE, G_GIDS, G_VALS, G_N, G_CAP = range(5)

IDX_BITS = 40
IDX_MASK = (1 << IDX_BITS) - 1
MAX_ENTRIES = IDX_MASK
MIN_ENTRIES = 8
MIN_INDEX = 16
#: Indexes up to this many slots (512 KiB) are kept at most 1/4 full, larger ones at most 1/2:
#: fewer probes (branch mispredictions) while the index is cache resident, less memory beyond.
SMALL_INDEX = 1 << 16
#: Size hints are clamped to this many entries (they only preallocate).
MAX_HINT = 1 << 20
MIN_GROUP_VALUES = 64

_SEED = 0x2545F4914F6CDD1D
_FMIX1, _FMIX2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53
_ABS1, _ABS2 = 0x87C37B91114253D5, 0x4CF5AD432745937F
_ABS_ADD = 0x52DCE729
_CANON_NAN = {32: 0x7FC00000, 64: 0x7FF8000000000000}

Combine = Callable[[ir.IRBuilder, ir.Value, ir.Value], ir.Value]


# ------------------------------------------------------------------------------------------------
# small emission helpers


def _c(v: int, ty: ir.IntType = I64) -> ir.Constant:
    """An integer constant (values >= 2**(w-1) are given as their signed equivalent)."""
    v &= (1 << ty.width) - 1
    if v >= 1 << (ty.width - 1):
        v -= 1 << ty.width
    return ir.Constant(ty, v)


NULL = ir.Constant(PTR, None)


def _mangle(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:10]


def _sizeof(b: ir.IRBuilder, ty: ir.Type) -> ir.Value:
    """``sizeof(ty)`` in the module's data layout (folded to a constant by LLVM)."""
    return b.ptrtoint(b.gep(NULL, [_c(1)], source_etype=ty), I64)


def _fptr(b: ir.IRBuilder, p: ir.Value, sty: ir.Type, i: int) -> ir.Value:
    return b.gep(p, [_c(0, I32), _c(i, I32)], inbounds=True, source_etype=sty)


def _get(b: ir.IRBuilder, p: ir.Value, sty: ir.LiteralStructType, i: int) -> ir.Value:
    return b.load(_fptr(b, p, sty, i), typ=sty.elements[i])


def _set(b: ir.IRBuilder, p: ir.Value, sty: ir.Type, i: int, v: ir.Value) -> None:
    b.store(v, _fptr(b, p, sty, i))


def _rotl(b: ir.IRBuilder, x: ir.Value, r: int) -> ir.Value:
    return b.or_(b.shl(x, _c(r)), b.lshr(x, _c(64 - r)))


def _fmix(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    x = b.xor(x, b.lshr(x, _c(33)))
    x = b.mul(x, _c(_FMIX1))
    x = b.xor(x, b.lshr(x, _c(33)))
    x = b.mul(x, _c(_FMIX2))
    return b.xor(x, b.lshr(x, _c(33)))


def _absorb(b: ir.IRBuilder, acc: ir.Value, w: ir.Value) -> ir.Value:
    w = b.mul(_rotl(b, b.mul(w, _c(_ABS1)), 31), _c(_ABS2))
    acc = _rotl(b, b.xor(acc, w), 27)
    return b.add(b.mul(acc, _c(5)), _c(_ABS_ADD))


def _new_function(module: ir.Module, name: str, ret: ir.Type, args: list[ir.Type], *attrs: str):
    fn = ir.Function(module, ir.FunctionType(ret, args), name)
    fn.linkage = "internal"
    for a in attrs:
        fn.attributes.add(a)
    return fn, ir.IRBuilder(fn.append_basic_block("entry"))


def _ctx_error(b: ir.IRBuilder, ctx: ir.Value) -> ir.Value:
    return _get(b, ctx, runtime.CTX, 3)


def _libc_memset(b: ir.IRBuilder, p: ir.Value, n: ir.Value) -> None:
    b.call(runtime.libc(b.module, "memset"), [p, _c(0, I32), n])


def _libc_memcpy(b: ir.IRBuilder, dst: ir.Value, src: ir.Value, n: ir.Value) -> None:
    b.call(runtime.libc(b.module, "memcpy"), [dst, src, n])


# ------------------------------------------------------------------------------------------------
# keys: canonicalization, hashing, equality


def _leaves(t: T.Type, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], T.Scalar]]:
    if isinstance(t, T.Scalar):
        yield path, t
    elif isinstance(t, T.Struct):
        for i, f in enumerate(t.fields):
            yield from _leaves(f, path + (i,))
    else:
        raise TypeError(f"{t} is not a scalar or struct of scalars")


def _extract(b: ir.IRBuilder, v: ir.Value, path: tuple[int, ...]) -> ir.Value:
    return b.extract_value(v, list(path)) if path else v


def _leaf_bits(t: T.Scalar) -> int:
    return 8 if t.is_bool else t.bits


def _canon_bits(b: ir.IRBuilder, v: ir.Value, t: T.Scalar) -> ir.Value:
    """The integer bits of memory-form scalar ``v``, floats canonicalized."""
    if not t.is_float:
        return v
    ity = ir.IntType(t.bits)
    bits = b.bitcast(v, ity)
    bits = b.select(b.fcmp_ordered("==", v, ir.Constant(v.type, 0.0)), _c(0, ity), bits)
    return b.select(b.fcmp_unordered("uno", v, v), _c(_CANON_NAN[t.bits], ity), bits)


def _canon(b: ir.IRBuilder, v: ir.Value, t: T.Type) -> ir.Value:
    """Canonicalize a memory-form scalar or struct key (vectors are returned unchanged)."""
    if isinstance(t, T.Vec):
        return v
    for path, leaf in _leaves(t):
        if leaf.is_float:
            x = _extract(b, v, path)
            x = b.bitcast(_canon_bits(b, x, leaf), x.type)
            v = b.insert_value(v, x, list(path)) if path else x
    return v


def _leaf_int(b: ir.IRBuilder, v: ir.Value, t: T.Scalar, canonicalize: bool) -> ir.Value:
    """The integer bits of memory-form scalar ``v`` (canonicalized first if asked)."""
    if canonicalize:
        return _canon_bits(b, v, t)
    return b.bitcast(v, ir.IntType(t.bits)) if t.is_float else v


def _words(b: ir.IRBuilder, v: ir.Value, t: T.Type, canonicalize: bool) -> list[ir.Value]:
    """The (canonical) leaf bits of memory-form ``v`` packed into i64 words (injective)."""
    words: list[ir.Value] = []
    cur: ir.Value | None = None
    used = 0
    for path, leaf in _leaves(t):
        w = _leaf_bits(leaf)
        x = _leaf_int(b, _extract(b, v, path), leaf, canonicalize)
        x = x if w == 64 else b.zext(x, I64)
        if cur is not None and used + w > 64:
            words.append(cur)
            cur, used = None, 0
        cur = x if cur is None else b.or_(cur, b.shl(x, _c(used)))
        used += w
    if cur is not None:
        words.append(cur)
    return words


def _raw_elem_size(t: T.Type) -> int | None:
    """Byte size of ``t`` if its elements can be hashed/compared as raw bytes (ints, no padding)."""
    leaves = [leaf for _, leaf in _leaves(t)]
    if any(leaf.is_float for leaf in leaves):
        return None
    size = sizeof(t)
    return size if size == sum(_leaf_bits(leaf) // 8 for leaf in leaves) else None


def _check_key(t: T.Type) -> None:
    inner = t.elem if isinstance(t, T.Vec) else t
    if not T.is_scalar_struct(inner) or (isinstance(inner, T.Struct) and not list(_leaves(inner))):
        raise TypeError(f"unsupported hash table key type {t}")


def _tail_word(b: ir.IRBuilder, p: ir.Value, n: ir.Value) -> ir.Value:
    """The last ``n % 8`` bytes of the ``n``-byte buffer ``p`` packed into an i64 (``n % 8 != 0``).

    Injective for a fixed ``n``: with ``n >= 8``, an overlapping load of the last 8 bytes shifted
    right; otherwise two overlapping 4-byte loads, or bytes 0, r/2 and r-1 for r < 4.
    """
    r = b.and_(n, _c(7))
    out = stack_var(b, I64, _c(0))
    with b.if_else(b.icmp_unsigned(">=", n, _c(8))) as (long, short):
        with long:
            w = b.load(b.gep(p, [b.sub(n, _c(8))], source_etype=I8), typ=I64, align=1)
            b.store(b.lshr(w, b.sub(_c(64), b.shl(r, _c(3)))), out)
        with short:
            with b.if_else(b.icmp_unsigned(">=", r, _c(4))) as (four, small):
                with four:
                    lo = b.zext(b.load(p, typ=I32, align=1), I64)
                    hip = b.gep(p, [b.sub(r, _c(4))], source_etype=I8)
                    hi = b.zext(b.load(hip, typ=I32, align=1), I64)
                    b.store(b.or_(lo, b.shl(hi, _c(32))), out)
                with small:
                    b0 = b.zext(b.load(p, typ=I8), I64)
                    b1 = b.zext(b.load(b.gep(p, [b.lshr(r, _c(1))], source_etype=I8), typ=I8), I64)
                    b2 = b.zext(b.load(b.gep(p, [b.sub(r, _c(1))], source_etype=I8), typ=I8), I64)
                    b.store(b.or_(b0, b.or_(b.shl(b1, _c(8)), b.shl(b2, _c(16)))), out)
    return b.load(out, typ=I64)


def _bytes_hash_fn(module: ir.Module) -> ir.Function:
    name = "lzht.bytes_hash"
    if name in module.globals:
        return module.globals[name]
    fn, b = _new_function(module, name, I64, [PTR, I64])
    p, n = fn.args
    acc = stack_var(b, I64, _c(_SEED))
    with counted_loop(b, _c(0), b.lshr(n, _c(3))) as i:
        w = b.load(b.gep(p, [i], source_etype=I64), typ=I64, align=1)
        b.store(_absorb(b, b.load(acc, typ=I64), w), acc)
    with b.if_then(b.icmp_unsigned("!=", b.and_(n, _c(7)), _c(0))):
        b.store(_absorb(b, b.load(acc, typ=I64), _tail_word(b, p, n)), acc)
    b.ret(_fmix(b, b.xor(b.load(acc, typ=I64), n)))
    return fn


def _bytes_eq_fn(module: ir.Module) -> ir.Function:
    name = "lzht.bytes_eq"
    if name in module.globals:
        return module.globals[name]
    fn, b = _new_function(module, name, I1, [PTR, PTR, I64])
    p, q, n = fn.args
    with b.if_then(b.icmp_unsigned("==", p, q)):
        b.ret(ir.Constant(I1, 1))
    with counted_loop(b, _c(0), b.lshr(n, _c(3))) as i:
        x = b.load(b.gep(p, [i], source_etype=I64), typ=I64, align=1)
        y = b.load(b.gep(q, [i], source_etype=I64), typ=I64, align=1)
        with b.if_then(b.icmp_unsigned("!=", x, y)):
            b.ret(ir.Constant(I1, 0))
    with b.if_then(b.icmp_unsigned("!=", b.and_(n, _c(7)), _c(0))):
        b.ret(b.icmp_unsigned("==", _tail_word(b, p, n), _tail_word(b, q, n)))
    b.ret(ir.Constant(I1, 1))
    return fn


class _KeyCodegen:
    """Hash and equality functions of one key type (shared by all tables with that key)."""

    def __init__(self, module: ir.Module, key: T.Type):
        _check_key(key)
        self.module, self.key = module, key
        self.mem = memory_type(key)
        tag = _mangle("key", key)
        hash_fn, eq_fn = module.globals.get(f"lzkey.{tag}.hash"), module.globals.get(f"lzkey.{tag}.eq")
        self.hash_fn = hash_fn if hash_fn is not None else self._emit_hash(f"lzkey.{tag}.hash")
        self.eq_fn = eq_fn if eq_fn is not None else self._emit_eq(f"lzkey.{tag}.eq")

    def canon(self, b: ir.IRBuilder, v: ir.Value) -> ir.Value:
        return _canon(b, v, self.key)

    def hash(self, b: ir.IRBuilder, canon_key: ir.Value) -> ir.Value:
        return b.call(self.hash_fn, [canon_key])

    def eq(self, b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
        return b.call(self.eq_fn, [x, y])

    def _emit_hash(self, name: str) -> ir.Function:
        key = self.key
        if not isinstance(key, T.Vec):
            # scalar and struct keys arrive canonicalized (see canon)
            fn, b = _new_function(self.module, name, I64, [self.mem], "alwaysinline")
            words = _words(b, fn.args[0], key, canonicalize=False)
            if len(words) == 1:
                b.ret(_fmix(b, words[0]))
            else:
                acc = _c(_SEED)
                for w in words:
                    acc = _absorb(b, acc, w)
                b.ret(_fmix(b, acc))
            return fn
        fn, b = _new_function(self.module, name, I64, [self.mem])
        data, n = b.extract_value(fn.args[0], 0), b.extract_value(fn.args[0], 1)
        raw = _raw_elem_size(key.elem)
        if raw is not None:
            b.ret(b.call(_bytes_hash_fn(self.module), [data, b.mul(n, _c(raw))]))
            return fn
        emem = memory_type(key.elem)
        acc = stack_var(b, I64, _c(_SEED))
        with counted_loop(b, _c(0), n) as i:
            e = b.load(b.gep(data, [i], source_etype=emem), typ=emem)
            a = b.load(acc, typ=I64)
            for w in _words(b, e, key.elem, canonicalize=True):
                a = _absorb(b, a, w)
            b.store(a, acc)
        b.ret(_fmix(b, b.xor(b.load(acc, typ=I64), n)))
        return fn

    def _emit_eq(self, name: str) -> ir.Function:
        key = self.key
        if not isinstance(key, T.Vec):
            fn, b = _new_function(self.module, name, I1, [self.mem, self.mem], "alwaysinline")
            x, y = fn.args
            res = ir.Constant(I1, 1)
            for path, leaf in _leaves(key):  # both canonical: compare bits
                xb = _leaf_int(b, _extract(b, x, path), leaf, canonicalize=False)
                yb = _leaf_int(b, _extract(b, y, path), leaf, canonicalize=False)
                res = b.and_(res, b.icmp_unsigned("==", xb, yb))
            b.ret(res)
            return fn
        fn, b = _new_function(self.module, name, I1, [self.mem, self.mem])
        x, y = fn.args
        n = b.extract_value(x, 1)
        with b.if_then(b.icmp_unsigned("!=", n, b.extract_value(y, 1))):
            b.ret(ir.Constant(I1, 0))
        px, py = b.extract_value(x, 0), b.extract_value(y, 0)
        raw = _raw_elem_size(key.elem)
        if raw is not None:
            b.ret(b.call(_bytes_eq_fn(self.module), [px, py, b.mul(n, _c(raw))]))
            return fn
        emem = memory_type(key.elem)
        with counted_loop(b, _c(0), n) as i:
            ex = b.load(b.gep(px, [i], source_etype=emem), typ=emem)
            ey = b.load(b.gep(py, [i], source_etype=emem), typ=emem)
            same = ir.Constant(I1, 1)
            for path, leaf in _leaves(key.elem):
                xb = _canon_bits(b, _extract(b, ex, path), leaf)
                yb = _canon_bits(b, _extract(b, ey, path), leaf)
                same = b.and_(same, b.icmp_unsigned("==", xb, yb))
            with b.if_then(b.not_(same)):
                b.ret(ir.Constant(I1, 0))
        b.ret(ir.Constant(I1, 1))
        return fn


# ------------------------------------------------------------------------------------------------
# hash tables


class HashTableCodegen:
    """Emits (once per module and ``(K, V)``) and calls the functions of a ``K -> V`` hash table.

    ``key`` is a scalar, a struct of scalars or a ``vec`` of those; ``value`` any type with a memory
    type. Methods take and return LLVM values; keys and values are in value form
    (``lltypes.value_type``) unless the name says ``_mem``.

    Slot pointers returned by :meth:`upsert`/:meth:`find` point into ``entries`` and are
    invalidated by any later insert into the same table (the entries array may move).
    """

    def __init__(self, module: ir.Module, key: T.Type, value: T.Type):
        runtime.emit_runtime(module)
        self.module, self.key, self.value = module, key, value
        self.keys = _KeyCodegen(module, key)
        self.key_mem = memory_type(key)
        self.value_mem = memory_type(value)
        #: The memory type of one entry: ``{K_mem, V_mem}`` (an IR ``vec[{K,V}]`` element).
        self.entry = memory_type(T.Struct((key, value)))
        self.tag = _mangle("table", key, value)
        self._fn_new = self._define("new", self._emit_new)
        self._fn_rehash = self._define("rehash", self._emit_rehash)
        self._fn_insert = self._define("insert", self._emit_insert)
        self._fn_upsert = self._define("upsert", self._emit_upsert)
        self._fn_find = self._define("find", self._emit_find)
        self._fn_free = self._define("free", self._emit_free)

    # ---- public API ----------------------------------------------------------------------------

    def new(self, b: ir.IRBuilder, ctx: ir.Value, size_hint: ir.Value | None = None) -> ir.Value:
        """A new empty table (pointer); ``size_hint``: expected number of keys (i64), optional."""
        hint = _c(0) if size_hint is None else _as_i64(b, size_hint)
        return b.call(self._fn_new, [ctx, hint])

    def upsert(self, b: ir.IRBuilder, ctx: ir.Value, table: ir.Value, key_value: ir.Value):
        """Find or insert ``key_value``: ``(slot_ptr, inserted_i1)``.

        ``slot_ptr`` points at the entry's ``V_mem``; when ``inserted`` it is uninitialized and the
        caller must store the initial value. Invalidated by later inserts into ``table``.
        """
        idx, inserted = self.upsert_index(b, ctx, table, to_memory(b, key_value, self.key))
        return self.value_ptr(b, table, idx), inserted

    def upsert_index(self, b: ir.IRBuilder, ctx: ir.Value, table: ir.Value, key_mem: ir.Value):
        """Like :meth:`upsert` with a memory-form key: ``(entry index i64, inserted i1)``."""
        r = b.call(self._fn_upsert, [ctx, table, key_mem])
        return b.extract_value(r, 0), b.extract_value(r, 1)

    def find(self, b: ir.IRBuilder, table: ir.Value, key_value: ir.Value):
        """``(found_i1, slot_ptr)``: ``slot_ptr`` points at the value's ``V_mem`` (null if absent)."""
        idx = self.find_index(b, table, to_memory(b, key_value, self.key))
        found = b.icmp_signed(">=", idx, _c(0))
        return found, b.select(found, self.value_ptr(b, table, idx), NULL)

    def find_index(self, b: ir.IRBuilder, table: ir.Value, key_mem: ir.Value) -> ir.Value:
        """The entry index of memory-form ``key_mem`` (i64), or -1 if absent."""
        return b.call(self._fn_find, [table, key_mem])

    def entries(self, b: ir.IRBuilder, table: ir.Value):
        """``(entries_ptr, count_i64)``: the entries in first-insertion order (a ``vec[{K,V}]``)."""
        return _get(b, table, TABLE, T_ENTRIES), _get(b, table, TABLE, T_COUNT)

    def count(self, b: ir.IRBuilder, table: ir.Value) -> ir.Value:
        return _get(b, table, TABLE, T_COUNT)

    def entry_ptr(self, b: ir.IRBuilder, entries: ir.Value, idx: ir.Value) -> ir.Value:
        return b.gep(entries, [idx], inbounds=True, source_etype=self.entry)

    def key_ptr(self, b: ir.IRBuilder, entries: ir.Value, idx: ir.Value) -> ir.Value:
        return b.gep(entries, [idx, _c(0, I32)], inbounds=True, source_etype=self.entry)

    def value_ptr(self, b: ir.IRBuilder, table: ir.Value, idx: ir.Value) -> ir.Value:
        """Address of entry ``idx``'s value (loads the current entries pointer of ``table``)."""
        entries = _get(b, table, TABLE, T_ENTRIES)
        return b.gep(entries, [idx, _c(1, I32)], inbounds=True, source_etype=self.entry)

    def merge(
        self,
        b: ir.IRBuilder,
        ctx: ir.Value,
        table: ir.Value,
        key_value: ir.Value,
        value_value: ir.Value,
        combine: Combine,
    ) -> None:
        """``dictmerger`` merge: insert ``value`` or replace the value by ``combine(b, old, value)``."""
        self._merge_mem(b, ctx, table, to_memory(b, key_value, self.key), value_value, combine)

    def merge_tables(self, b: ir.IRBuilder, ctx: ir.Value, dst: ir.Value, src: ir.Value, combine: Combine) -> None:
        """Merge every entry of ``src`` into ``dst`` in ``src``'s order (``src`` is unchanged)."""
        src_entries, n = self.entries(b, src)
        with counted_loop(b, _c(0), n) as i:
            key_mem = b.load(self.key_ptr(b, src_entries, i), typ=self.key_mem)
            vptr = b.gep(src_entries, [i, _c(1, I32)], inbounds=True, source_etype=self.entry)
            self._merge_mem(b, ctx, dst, key_mem, ir_load(b, vptr, self.value), combine)

    def free(self, b: ir.IRBuilder, ctx: ir.Value, table: ir.Value) -> None:
        """Free the table's own blocks (header, entries, index); not what keys/values point to."""
        b.call(self._fn_free, [ctx, table])

    # ---- emission ------------------------------------------------------------------------------

    def _define(self, what: str, emit: Callable[[str], ir.Function]) -> ir.Function:
        name = f"lzht.{self.tag}.{what}"
        existing = self.module.globals.get(name)
        return existing if existing is not None else emit(name)

    def _merge_mem(self, b, ctx, table, key_mem, value_value, combine: Combine) -> None:
        idx, inserted = self.upsert_index(b, ctx, table, key_mem)
        slot = self.value_ptr(b, table, idx)
        with b.if_else(inserted) as (then, otherwise):
            with then:
                ir_store(b, value_value, slot, self.value)
            with otherwise:
                old = ir_load(b, slot, self.value)
                ir_store(b, combine(b, old, value_value), slot, self.value)

    def _emit_new(self, name: str) -> ir.Function:
        fn, b = _new_function(self.module, name, PTR, [PTR, I64])
        ctx, hint = fn.args
        hint = b.select(b.icmp_signed("<", hint, _c(0)), _c(0), hint)
        hint = b.select(b.icmp_signed(">", hint, _c(MAX_HINT)), _c(MAX_HINT), hint)
        ecap = b.select(b.icmp_signed("<", hint, _c(MIN_ENTRIES)), _c(MIN_ENTRIES), hint)
        # index capacity: the smallest power of two >= 4 * ecap (small) or >= 2 * ecap
        need = b.shl(ecap, _c(2))
        need = b.select(b.icmp_signed("<=", need, _c(SMALL_INDEX)), need, b.shl(ecap, _c(1)))
        lz = b.ctlz(b.sub(need, _c(1)), ir.Constant(I1, 0))
        icap = b.shl(_c(1), b.sub(_c(64), lz))
        table = runtime.alloc(b, ctx, _sizeof(b, TABLE))
        esize = _sizeof(b, self.entry)
        entries, ecap = _alloc_or_min(b, ctx, ecap, _c(MIN_ENTRIES), esize)
        index, icap = _alloc_or_min(b, ctx, icap, _c(MIN_INDEX), _c(8))
        _libc_memset(b, index, b.mul(icap, _c(8)))
        for i, v in ((T_ENTRIES, entries), (T_COUNT, _c(0)), (T_CAP, ecap), (T_INDEX, index)):
            _set(b, table, TABLE, i, v)
        _set(b, table, TABLE, T_MASK, b.sub(icap, _c(1)))
        b.ret(table)
        return fn

    def _emit_upsert(self, name: str) -> ir.Function:
        ret = ir.LiteralStructType([I64, I1])
        fn, b = _new_function(self.module, name, ret, [PTR, PTR, self.key_mem], "alwaysinline")
        ctx, table, key = fn.args
        key = self.keys.canon(b, key)
        h = self.keys.hash(b, key)
        pos, slot, found, empty = self._probe(b, table, key, h)
        with b.goto_block(found):
            idx = b.sub(b.and_(slot, _c(IDX_MASK)), _c(1))
            b.ret(_pair(b, ret, idx, ir.Constant(I1, 0)))
        with b.goto_block(empty):
            idx = b.call(self._fn_insert, [ctx, table, key, h, pos])
            b.ret(_pair(b, ret, idx, ir.Constant(I1, 1)))
        return fn

    def _emit_find(self, name: str) -> ir.Function:
        fn, b = _new_function(self.module, name, I64, [PTR, self.key_mem], "alwaysinline")
        table, key = fn.args
        key = self.keys.canon(b, key)
        h = self.keys.hash(b, key)
        _, slot, found, empty = self._probe(b, table, key, h)
        with b.goto_block(found):
            b.ret(b.sub(b.and_(slot, _c(IDX_MASK)), _c(1)))
        with b.goto_block(empty):
            b.ret(_c(-1))
        return fn

    def _probe(self, b: ir.IRBuilder, table: ir.Value, key: ir.Value, h: ir.Value):
        """Emit the probe loop; returns ``(pos, slot, found_block, empty_block)`` (unterminated)."""
        index = _get(b, table, TABLE, T_INDEX)
        mask = _get(b, table, TABLE, T_MASK)
        entries = _get(b, table, TABLE, T_ENTRIES)
        start = b.and_(h, mask)
        pre = b.block
        loop = b.append_basic_block("probe")
        check = b.append_basic_block("probe.tag")
        compare = b.append_basic_block("probe.cmp")
        nxt = b.append_basic_block("probe.next")
        found = b.append_basic_block("probe.found")
        empty = b.append_basic_block("probe.empty")
        b.branch(loop)
        b.position_at_end(loop)
        pos = b.phi(I64, "pos")
        pos.add_incoming(start, pre)
        slot = b.load(b.gep(index, [pos], inbounds=True, source_etype=I64), typ=I64)
        b.cbranch(b.icmp_unsigned("==", slot, _c(0)), empty, check)
        b.position_at_end(check)
        tag_ok = b.icmp_unsigned("==", b.lshr(b.xor(slot, h), _c(IDX_BITS)), _c(0))
        b.cbranch(tag_ok, compare, nxt)
        b.position_at_end(compare)
        idx = b.sub(b.and_(slot, _c(IDX_MASK)), _c(1))
        stored = b.load(self.key_ptr(b, entries, idx), typ=self.key_mem)
        b.cbranch(self.keys.eq(b, stored, key), found, nxt)
        b.position_at_end(nxt)
        pos.add_incoming(b.and_(b.add(pos, _c(1)), mask), nxt)
        b.branch(loop)
        return pos, slot, found, empty

    def _emit_insert(self, name: str) -> ir.Function:
        """insert(ctx, table, canonical key, hash, free index position) -> entry index (noinline)."""
        fn, b = _new_function(self.module, name, I64, [PTR, PTR, self.key_mem, I64, I64], "noinline")
        ctx, table, key, h, pos0 = fn.args
        count = _get(b, table, TABLE, T_COUNT)
        fail = b.sub(count, _c(1))  # an existing entry: only used once an error is recorded
        with b.if_then(b.icmp_signed(">=", count, _get(b, table, TABLE, T_CAP)), likely=False):
            with b.if_then(b.icmp_signed(">=", count, _c(MAX_ENTRIES)), likely=False):
                runtime.error(b, ctx, runtime.ERR_NOMEM, count)
                b.ret(fail)
            cap = _get(b, table, TABLE, T_CAP)
            newcap = b.select(b.icmp_signed("<", cap, _c(MIN_ENTRIES)), _c(MIN_ENTRIES), b.shl(cap, _c(1)))
            old = _get(b, table, TABLE, T_ENTRIES)
            grown = runtime.realloc(b, ctx, old, b.mul(newcap, _sizeof(b, self.entry)))
            _set(b, table, TABLE, T_ENTRIES, grown)
            with b.if_then(b.icmp_signed("!=", _ctx_error(b, ctx), _c(0)), likely=False):
                b.ret(fail)
            _set(b, table, TABLE, T_CAP, newcap)
        pos = stack_var(b, I64, pos0)
        slots = b.add(_get(b, table, TABLE, T_MASK), _c(1))
        limit = b.select(b.icmp_signed("<=", slots, _c(SMALL_INDEX)), b.lshr(slots, _c(2)), b.lshr(slots, _c(1)))
        with b.if_then(b.icmp_signed(">", b.add(count, _c(1)), limit), likely=False):
            ok = b.call(self._fn_rehash, [ctx, table, b.shl(slots, _c(1))])
            with b.if_else(ok) as (then, otherwise):
                with then:
                    mask = _get(b, table, TABLE, T_MASK)
                    b.store(_find_empty(b, _get(b, table, TABLE, T_INDEX), mask, h), pos)
                with otherwise:  # keep the old index while it has a free slot left
                    with b.if_then(b.icmp_signed(">=", b.add(count, _c(1)), b.sub(slots, _c(1)))):
                        b.ret(fail)
        index = _get(b, table, TABLE, T_INDEX)
        tagged = b.or_(b.and_(h, _c(~IDX_MASK)), b.add(count, _c(1)))
        b.store(tagged, b.gep(index, [b.load(pos, typ=I64)], inbounds=True, source_etype=I64))
        b.store(key, self.key_ptr(b, _get(b, table, TABLE, T_ENTRIES), count))
        _set(b, table, TABLE, T_COUNT, b.add(count, _c(1)))
        b.ret(count)
        return fn

    def _emit_rehash(self, name: str) -> ir.Function:
        """rehash(ctx, table, new slot count) -> ok: rebuild the index from the entries."""
        fn, b = _new_function(self.module, name, I1, [PTR, PTR, I64], "noinline")
        ctx, table, slots = fn.args
        nbytes = b.mul(slots, _c(8))
        index = runtime.alloc(b, ctx, nbytes)
        with b.if_then(b.icmp_unsigned("==", index, NULL), likely=False):
            b.ret(ir.Constant(I1, 0))
        _libc_memset(b, index, nbytes)
        mask = b.sub(slots, _c(1))
        entries, count = self.entries(b, table)
        with counted_loop(b, _c(0), count) as i:
            h = self.keys.hash(b, b.load(self.key_ptr(b, entries, i), typ=self.key_mem))
            pos = _find_empty(b, index, mask, h)
            tagged = b.or_(b.and_(h, _c(~IDX_MASK)), b.add(i, _c(1)))
            b.store(tagged, b.gep(index, [pos], inbounds=True, source_etype=I64))
        runtime.free(b, ctx, _get(b, table, TABLE, T_INDEX))
        _set(b, table, TABLE, T_INDEX, index)
        _set(b, table, TABLE, T_MASK, mask)
        b.ret(ir.Constant(I1, 1))
        return fn

    def _emit_free(self, name: str) -> ir.Function:
        fn, b = _new_function(self.module, name, ir.VoidType(), [PTR, PTR])
        ctx, table = fn.args
        with b.if_then(b.icmp_unsigned("!=", table, NULL)):
            runtime.free(b, ctx, _get(b, table, TABLE, T_ENTRIES))
            runtime.free(b, ctx, _get(b, table, TABLE, T_INDEX))
            runtime.free(b, ctx, table)
        b.ret_void()
        return fn


def _pair(b: ir.IRBuilder, ty: ir.LiteralStructType, x: ir.Value, y: ir.Value) -> ir.Value:
    return b.insert_value(b.insert_value(ir.Constant(ty, ir.Undefined), x, 0), y, 1)


def _as_i64(b: ir.IRBuilder, v: ir.Value) -> ir.Value:
    if v.type == I64:
        return v
    if isinstance(v.type, ir.IntType) and v.type.width < 64:
        return b.sext(v, I64)
    raise TypeError(f"size hint must be an integer, not {v.type}")


def _find_empty(b: ir.IRBuilder, index: ir.Value, mask: ir.Value, h: ir.Value) -> ir.Value:
    """The first empty slot probing from ``h & mask`` (the index must have one)."""
    pre = b.block
    loop = b.append_basic_block("empty.probe")
    done = b.append_basic_block("empty.done")
    start = b.and_(h, mask)
    b.branch(loop)
    b.position_at_end(loop)
    pos = b.phi(I64)
    pos.add_incoming(start, pre)
    slot = b.load(b.gep(index, [pos], inbounds=True, source_etype=I64), typ=I64)
    nxt = b.and_(b.add(pos, _c(1)), mask)
    pos.add_incoming(nxt, loop)
    b.cbranch(b.icmp_unsigned("==", slot, _c(0)), done, loop)
    b.position_at_end(done)
    return pos


def _alloc_or_min(b: ir.IRBuilder, ctx: ir.Value, n: ir.Value, minimum: ir.Value, size: ir.Value):
    """Allocate ``n * size`` bytes, falling back to ``minimum * size``: ``(ptr, n allocated)``."""
    p = stack_var(b, PTR, runtime.alloc(b, ctx, b.mul(n, size)))
    cnt = stack_var(b, I64, n)
    with b.if_then(b.icmp_unsigned("==", b.load(p, typ=PTR), NULL), likely=False):
        b.store(runtime.alloc(b, ctx, b.mul(minimum, size)), p)
        b.store(minimum, cnt)
    return b.load(p, typ=PTR), b.load(cnt, typ=I64)


# ------------------------------------------------------------------------------------------------
# group mergers


class GroupMergerCodegen:
    """``groupmerger[K,V]``: a builder state (pointer to ``GROUP_STATE``) and its ``result``.

    ``result`` gives a ``dict[K, vec[V]]`` table (usable with ``HashTableCodegen(module, K,
    vec[V])``): keys in first-insertion order, each key's values in merge order, all values in one
    flat block that the entries' vectors point into. A state is consumed by ``result``.
    """

    def __init__(self, module: ir.Module, key: T.Type, value: T.Type):
        self.module, self.key, self.value = module, key, value
        #: K -> number of values merged for the key (the entry index is the group id).
        self.counts = HashTableCodegen(module, key, T.I64)
        #: The result: K -> vec[V].
        self.table = HashTableCodegen(module, key, T.Vec(value))
        self.value_mem = memory_type(value)
        self.tag = _mangle("group", key, value)
        self._fn_new = self._define("new", self._emit_new)
        self._fn_grow = self._define("grow", self._emit_grow)
        self._fn_merge = self._define("merge", self._emit_merge)
        self._fn_result = self._define("result", self._emit_result)
        self._fn_merge_states = self._define("merge_states", self._emit_merge_states)
        self._fn_free = self._define("free", self._emit_free)

    # ---- public API ----------------------------------------------------------------------------

    def new(self, b: ir.IRBuilder, ctx: ir.Value, size_hint: ir.Value | None = None) -> ir.Value:
        """A new state (pointer); ``size_hint`` (i64, optional): expected number of keys."""
        hint = _c(0) if size_hint is None else _as_i64(b, size_hint)
        return b.call(self._fn_new, [ctx, hint])

    def merge(
        self, b: ir.IRBuilder, ctx: ir.Value, state: ir.Value, key_value: ir.Value, value_value: ir.Value
    ) -> None:
        key_mem = to_memory(b, key_value, self.key)
        b.call(self._fn_merge, [ctx, state, key_mem, to_memory(b, value_value, self.value)])

    def result(self, b: ir.IRBuilder, ctx: ir.Value, state: ir.Value) -> ir.Value:
        """The ``dict[K, vec[V]]`` table; consumes (frees) the state's temporaries."""
        return b.call(self._fn_result, [ctx, state])

    def merge_states(self, b: ir.IRBuilder, ctx: ir.Value, dst: ir.Value, src: ir.Value) -> None:
        """Append ``src``'s merges to ``dst`` (``dst``'s values first; ``src`` is unchanged)."""
        b.call(self._fn_merge_states, [ctx, dst, src])

    def free(self, b: ir.IRBuilder, ctx: ir.Value, state: ir.Value) -> None:
        """Free a state that will not be turned into a result."""
        b.call(self._fn_free, [ctx, state])

    # ---- emission ------------------------------------------------------------------------------

    def _define(self, what: str, emit: Callable[[str], ir.Function]) -> ir.Function:
        name = f"lzgm.{self.tag}.{what}"
        existing = self.module.globals.get(name)
        return existing if existing is not None else emit(name)

    def _emit_new(self, name: str) -> ir.Function:
        fn, b = _new_function(self.module, name, PTR, [PTR, I64])
        ctx, hint = fn.args
        state = runtime.alloc(b, ctx, _sizeof(b, GROUP_STATE))
        _set(b, state, GROUP_STATE, G_TABLE, self.counts.new(b, ctx, hint))
        hint = b.select(b.icmp_signed(">", hint, _c(MAX_HINT)), _c(MAX_HINT), hint)
        cap = b.select(b.icmp_signed("<", hint, _c(MIN_GROUP_VALUES)), _c(MIN_GROUP_VALUES), hint)
        gids, cap = _alloc_or_min(b, ctx, cap, _c(MIN_GROUP_VALUES), _c(8))
        vals, vcap = _alloc_or_min(b, ctx, cap, _c(MIN_GROUP_VALUES), _sizeof(b, self.value_mem))
        cap = b.select(b.icmp_signed("<", vcap, cap), vcap, cap)
        _set(b, state, GROUP_STATE, G_GIDS, gids)
        _set(b, state, GROUP_STATE, G_VALS, vals)
        _set(b, state, GROUP_STATE, G_N, _c(0))
        _set(b, state, GROUP_STATE, G_CAP, cap)
        b.ret(state)
        return fn

    def _emit_grow(self, name: str) -> ir.Function:
        """grow(ctx, state, needed) -> ok: make room for ``needed`` values (amortized doubling)."""
        fn, b = _new_function(self.module, name, I1, [PTR, PTR, I64], "noinline")
        ctx, state, needed = fn.args
        cap = _get(b, state, GROUP_STATE, G_CAP)
        with b.if_then(b.icmp_signed(">=", cap, needed)):
            b.ret(ir.Constant(I1, 1))
        newcap = b.shl(cap, _c(1))
        newcap = b.select(b.icmp_signed("<", newcap, needed), needed, newcap)
        newcap = b.select(b.icmp_signed("<", newcap, _c(MIN_GROUP_VALUES)), _c(MIN_GROUP_VALUES), newcap)
        gids = runtime.realloc(b, ctx, _get(b, state, GROUP_STATE, G_GIDS), b.mul(newcap, _c(8)))
        _set(b, state, GROUP_STATE, G_GIDS, gids)
        vsize = _sizeof(b, self.value_mem)
        vals = runtime.realloc(b, ctx, _get(b, state, GROUP_STATE, G_VALS), b.mul(newcap, vsize))
        _set(b, state, GROUP_STATE, G_VALS, vals)
        with b.if_then(b.icmp_signed("!=", _ctx_error(b, ctx), _c(0)), likely=False):
            b.ret(ir.Constant(I1, 0))
        _set(b, state, GROUP_STATE, G_CAP, newcap)
        b.ret(ir.Constant(I1, 1))
        return fn

    def _emit_merge(self, name: str) -> ir.Function:
        args = [PTR, PTR, self.counts.key_mem, self.value_mem]
        fn, b = _new_function(self.module, name, ir.VoidType(), args, "alwaysinline")
        ctx, state, key, val = fn.args
        # make room first: a group's count is only raised together with an appended value
        n = _get(b, state, GROUP_STATE, G_N)
        room = b.icmp_signed("<", n, _get(b, state, GROUP_STATE, G_CAP))
        with b.if_then(b.not_(room), likely=False):
            with b.if_then(b.not_(b.call(self._fn_grow, [ctx, state, b.add(n, _c(1))]))):
                b.ret_void()
        table = _get(b, state, GROUP_STATE, G_TABLE)
        gid, inserted = self.counts.upsert_index(b, ctx, table, key)
        slot = self.counts.value_ptr(b, table, gid)
        old = b.select(inserted, _c(0), b.load(slot, typ=I64))
        b.store(b.add(old, _c(1)), slot)
        gids = _get(b, state, GROUP_STATE, G_GIDS)
        b.store(gid, b.gep(gids, [n], inbounds=True, source_etype=I64))
        vals = _get(b, state, GROUP_STATE, G_VALS)
        b.store(val, b.gep(vals, [n], inbounds=True, source_etype=self.value_mem))
        _set(b, state, GROUP_STATE, G_N, b.add(n, _c(1)))
        b.ret_void()
        return fn

    def _emit_result(self, name: str) -> ir.Function:
        fn, b = _new_function(self.module, name, PTR, [PTR, PTR])
        ctx, state = fn.args
        vmem, counts, out = self.value_mem, self.counts, self.table
        table = _get(b, state, GROUP_STATE, G_TABLE)
        old, groups = counts.entries(b, table)
        n = _get(b, state, GROUP_STATE, G_N)
        gids = _get(b, state, GROUP_STATE, G_GIDS)
        vals = _get(b, state, GROUP_STATE, G_VALS)
        cap = b.select(b.icmp_signed("<", groups, _c(1)), _c(1), groups)
        entries = runtime.alloc(b, ctx, b.mul(cap, _sizeof(b, out.entry)))
        flat = runtime.alloc(b, ctx, b.mul(n, _sizeof(b, vmem)))
        ok = b.and_(b.icmp_unsigned("!=", entries, NULL), b.icmp_unsigned("!=", flat, NULL))
        with b.if_then(b.not_(ok), likely=False):  # out of memory (recorded): an empty dict
            runtime.free(b, ctx, entries)
            runtime.free(b, ctx, flat)
            _set(b, table, TABLE, T_COUNT, _c(0))
            slots = b.add(_get(b, table, TABLE, T_MASK), _c(1))
            _libc_memset(b, _get(b, table, TABLE, T_INDEX), b.mul(slots, _c(8)))
            b.ret(table)
        # keys and group starts; the old count slots become write cursors
        offset = stack_var(b, I64, _c(0))
        with counted_loop(b, _c(0), groups) as g:
            start = b.load(offset, typ=I64)
            cnt_p = b.gep(old, [g, _c(1, I32)], inbounds=True, source_etype=counts.entry)
            cnt = b.load(cnt_p, typ=I64)
            b.store(start, cnt_p)
            b.store(b.load(counts.key_ptr(b, old, g), typ=counts.key_mem), out.key_ptr(b, entries, g))
            vec = _pair(b, VEC, b.gep(flat, [start], source_etype=vmem), cnt)
            b.store(vec, b.gep(entries, [g, _c(1, I32)], inbounds=True, source_etype=out.entry))
            b.store(b.add(start, cnt), offset)
        # stable counting-sort scatter of the values
        with counted_loop(b, _c(0), n) as j:
            g = b.load(b.gep(gids, [j], inbounds=True, source_etype=I64), typ=I64)
            cur_p = b.gep(old, [g, _c(1, I32)], inbounds=True, source_etype=counts.entry)
            cur = b.load(cur_p, typ=I64)
            b.store(b.add(cur, _c(1)), cur_p)
            # counts match the values unless an error was recorded; never write out of bounds
            with b.if_then(b.icmp_unsigned("<", cur, n), likely=True):
                v = b.load(b.gep(vals, [j], inbounds=True, source_etype=vmem), typ=vmem)
                b.store(v, b.gep(flat, [cur], inbounds=True, source_etype=vmem))
        for p in (old, gids, vals, state):
            runtime.free(b, ctx, p)
        _set(b, table, TABLE, T_ENTRIES, entries)
        _set(b, table, TABLE, T_CAP, cap)
        b.ret(table)
        return fn

    def _emit_merge_states(self, name: str) -> ir.Function:
        fn, b = _new_function(self.module, name, ir.VoidType(), [PTR, PTR, PTR])
        ctx, dst, src = fn.args
        counts, vmem = self.counts, self.value_mem
        n, m = _get(b, dst, GROUP_STATE, G_N), _get(b, src, GROUP_STATE, G_N)
        with b.if_then(b.not_(b.call(self._fn_grow, [ctx, dst, b.add(n, m)])), likely=False):
            b.ret_void()
        dtable = _get(b, dst, GROUP_STATE, G_TABLE)
        src_entries, groups = counts.entries(b, _get(b, src, GROUP_STATE, G_TABLE))
        # src group id -> dst group id, inserting src's keys in src's order
        remap = runtime.alloc(b, ctx, b.mul(groups, _c(8)))
        with b.if_then(b.icmp_unsigned("==", remap, NULL), likely=False):
            b.ret_void()
        with counted_loop(b, _c(0), groups) as g:
            key = b.load(counts.key_ptr(b, src_entries, g), typ=counts.key_mem)
            cnt = b.load(b.gep(src_entries, [g, _c(1, I32)], source_etype=counts.entry), typ=I64)
            gid, inserted = counts.upsert_index(b, ctx, dtable, key)
            slot = counts.value_ptr(b, dtable, gid)
            old = b.select(inserted, _c(0), b.load(slot, typ=I64))
            b.store(b.add(old, cnt), slot)
            b.store(gid, b.gep(remap, [g], inbounds=True, source_etype=I64))
        dgids, sgids = _get(b, dst, GROUP_STATE, G_GIDS), _get(b, src, GROUP_STATE, G_GIDS)
        with counted_loop(b, _c(0), m) as j:
            g = b.load(b.gep(sgids, [j], inbounds=True, source_etype=I64), typ=I64)
            gid = b.load(b.gep(remap, [g], inbounds=True, source_etype=I64), typ=I64)
            b.store(gid, b.gep(dgids, [b.add(n, j)], inbounds=True, source_etype=I64))
        dvals = b.gep(_get(b, dst, GROUP_STATE, G_VALS), [n], source_etype=vmem)
        svals = _get(b, src, GROUP_STATE, G_VALS)
        _libc_memcpy(b, dvals, svals, b.mul(m, _sizeof(b, vmem)))
        _set(b, dst, GROUP_STATE, G_N, b.add(n, m))
        runtime.free(b, ctx, remap)
        b.ret_void()
        return fn

    def _emit_free(self, name: str) -> ir.Function:
        fn, b = _new_function(self.module, name, ir.VoidType(), [PTR, PTR])
        ctx, state = fn.args
        with b.if_then(b.icmp_unsigned("!=", state, NULL)):
            self.counts.free(b, ctx, _get(b, state, GROUP_STATE, G_TABLE))
            runtime.free(b, ctx, _get(b, state, GROUP_STATE, G_GIDS))
            runtime.free(b, ctx, _get(b, state, GROUP_STATE, G_VALS))
            runtime.free(b, ctx, state)
        b.ret_void()
        return fn
