"""Hash tables (lazyir.backend.hashtable): small kernels JIT-compiled with MCJIT, checked against
Python dicts."""

from __future__ import annotations

import ctypes
import math
import struct
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llvmlite import binding as llvm
from llvmlite import ir

from lazyir.backend import lltypes, runtime
from lazyir.backend.hashtable import TABLE, GroupMergerCodegen, HashTableCodegen
from lazyir.ir import types as T

llvm.initialize_native_target()
llvm.initialize_native_asmprinter()

LIBC = ctypes.CDLL(None)
LIBC.free.argtypes = [ctypes.c_void_p]
LIBC.free.restype = None

PTR, I8, I64 = lltypes.PTR, lltypes.I8, lltypes.I64


def _target_machine() -> llvm.TargetMachine:
    return llvm.Target.from_default_triple().create_target_machine(opt=3)


DATA_LAYOUT = str(_target_machine().target_data)


class Header(ctypes.Structure):
    _fields_ = [
        ("entries", ctypes.c_void_p),
        ("count", ctypes.c_int64),
        ("cap", ctypes.c_int64),
        ("index", ctypes.c_void_p),
        ("mask", ctypes.c_int64),
    ]


# ---- compiling ---------------------------------------------------------------------------------

_ENGINES: list[llvm.ExecutionEngine] = []


def jit(module: ir.Module, name: str, argtypes: list) -> ctypes._CFuncPtr:
    mod = llvm.parse_assembly(str(module))
    mod.verify()
    tm = _target_machine()
    pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=3))
    pb.getModulePassManager().run(mod, pb)
    engine = llvm.create_mcjit_compiler(mod, tm)
    engine.finalize_object()
    _ENGINES.append(engine)  # keep the code alive
    return ctypes.CFUNCTYPE(None, *argtypes)(engine.get_function_address(name))


def new_module() -> ir.Module:
    m = ir.Module(name="hashtable_test")
    m.triple = llvm.get_default_triple()
    m.data_layout = DATA_LAYOUT
    runtime.emit_runtime(m, define=True)
    return m


def c64(v: int) -> ir.Constant:
    return ir.Constant(I64, v)


def emit_loop(b: ir.IRBuilder, n: ir.Value, body) -> None:
    pre = b.block
    head, loop, end = (b.append_basic_block(x) for x in ("head", "body", "end"))
    b.branch(head)
    b.position_at_end(head)
    i = b.phi(I64)
    i.add_incoming(c64(0), pre)
    b.cbranch(b.icmp_signed("<", i, n), loop, end)
    b.position_at_end(loop)
    body(i)
    i.add_incoming(b.add(i, c64(1)), b.block)
    b.branch(head)
    b.position_at_end(end)


def combine_for(op: str, t: T.Type):
    """A combine callback for merger op ``op`` on value type ``t`` (scalars or structs)."""

    def scalar(b: ir.IRBuilder, x: ir.Value, y: ir.Value, s: T.Scalar) -> ir.Value:
        if op == "+":
            return b.fadd(x, y) if s.is_float else b.add(x, y)
        assert op == "min"
        if s.is_float:  # x if (x <= y or isnan(x)) else y
            return b.select(b.or_(b.fcmp_ordered("<=", x, y), b.fcmp_unordered("uno", x, x)), x, y)
        cmp = b.icmp_signed if s.is_signed else b.icmp_unsigned
        return b.select(cmp("<=", x, y), x, y)

    def combine(b: ir.IRBuilder, x: ir.Value, y: ir.Value, t: T.Type = t) -> ir.Value:
        if isinstance(t, T.Scalar):
            return scalar(b, x, y, t)
        out = ir.Constant(lltypes.value_type(t), ir.Undefined)
        for i, f in enumerate(t.fields):
            out = b.insert_value(out, combine(b, b.extract_value(x, i), b.extract_value(y, i), f), i)
        return out

    return combine


DM_ARGS = [ctypes.c_void_p] * 3 + [ctypes.c_int64] + [ctypes.c_void_p] * 2 + [ctypes.c_int64] * 2
DM_ARGS += [ctypes.c_void_p, ctypes.c_int64] + [ctypes.c_void_p] * 3


@cache
def dictmerger_kernel(key: T.Type, value: T.Type, op: str):
    """``k(ctx, k1, v1, n1, k2, v2, n2, hint, qkeys, nq, out_found, out_vals, out_table)``.

    Builds table A from (k1, v1) with ``hint`` and B from (k2, v2), merges B into A with
    ``merge_tables``, frees B, looks the query keys up in A and stores A's pointer.
    """
    m = new_module()
    ht = HashTableCodegen(m, key, value)
    HashTableCodegen(m, key, value)  # a second instance reuses the functions
    combine = combine_for(op, value)
    sig = [PTR, PTR, PTR, I64, PTR, PTR, I64, I64, PTR, I64, PTR, PTR, PTR]
    fn = ir.Function(m, ir.FunctionType(ir.VoidType(), sig), "kernel")
    ctx, k1, v1, n1, k2, v2, n2, hint, qk, nq, out_found, out_vals, out_table = fn.args
    b = ir.IRBuilder(fn.append_basic_block())

    def build(keys, vals, n, size_hint):
        table = ht.new(b, ctx, size_hint)

        def body(i):
            k = lltypes.load(b, lltypes.elem_ptr(b, keys, i, key), key)
            v = lltypes.load(b, lltypes.elem_ptr(b, vals, i, value), value)
            ht.merge(b, ctx, table, k, v, combine)

        emit_loop(b, n, body)
        return table

    a = build(k1, v1, n1, hint)
    other = build(k2, v2, n2, None)
    ht.merge_tables(b, ctx, a, other, combine)
    ht.free(b, ctx, other)

    def query(i):
        found, slot = ht.find(b, a, lltypes.load(b, lltypes.elem_ptr(b, qk, i, key), key))
        b.store(b.zext(found, I8), b.gep(out_found, [i], source_etype=I8))
        with b.if_then(found):
            v = lltypes.load(b, slot, value)
            lltypes.store(b, v, lltypes.elem_ptr(b, out_vals, i, value), value)

    emit_loop(b, nq, query)
    b.store(a, out_table)
    b.ret_void()
    return jit(m, "kernel", DM_ARGS)


@cache
def groupmerger_kernel(key: T.Type, value: T.Type):
    """Like :func:`dictmerger_kernel` with group mergers (``out_vals`` receives vec values)."""
    m = new_module()
    gm = GroupMergerCodegen(m, key, value)
    ht = HashTableCodegen(m, key, T.Vec(value))
    sig = [PTR, PTR, PTR, I64, PTR, PTR, I64, I64, PTR, I64, PTR, PTR, PTR]
    fn = ir.Function(m, ir.FunctionType(ir.VoidType(), sig), "kernel")
    ctx, k1, v1, n1, k2, v2, n2, hint, qk, nq, out_found, out_vals, out_table = fn.args
    b = ir.IRBuilder(fn.append_basic_block())

    def build(keys, vals, n, size_hint):
        state = gm.new(b, ctx, size_hint)

        def body(i):
            k = lltypes.load(b, lltypes.elem_ptr(b, keys, i, key), key)
            v = lltypes.load(b, lltypes.elem_ptr(b, vals, i, value), value)
            gm.merge(b, ctx, state, k, v)

        emit_loop(b, n, body)
        return state

    a = build(k1, v1, n1, hint)
    other = build(k2, v2, n2, None)
    gm.merge_states(b, ctx, a, other)
    gm.free(b, ctx, other)
    table = gm.result(b, ctx, a)

    def query(i):
        found, slot = ht.find(b, table, lltypes.load(b, lltypes.elem_ptr(b, qk, i, key), key))
        b.store(b.zext(found, I8), b.gep(out_found, [i], source_etype=I8))
        with b.if_then(found):
            b.store(b.load(slot, typ=lltypes.VEC), b.gep(out_vals, [i], source_etype=lltypes.VEC))

    emit_loop(b, nq, query)
    b.store(table, out_table)
    b.ret_void()
    return jit(m, "kernel", DM_ARGS)


# ---- data in memory layout ----------------------------------------------------------------------


def np_dtype(t: T.Type) -> np.dtype:
    if isinstance(t, T.Scalar):
        return t.numpy
    if isinstance(t, T.Vec):
        return np.dtype([("ptr", np.uint64), ("len", np.int64)])
    assert isinstance(t, T.Struct)
    return np.dtype(
        {
            "names": [f"f{i}" for i in range(len(t.fields))],
            "formats": [np_dtype(f) for f in t.fields],
            "offsets": lltypes.field_offsets(t),
            "itemsize": lltypes.sizeof(t),
        }
    )


def float_bits(x: float, bits: int) -> int:
    if math.isnan(x):
        return 0x7FF8000000000000 if bits == 64 else 0x7FC00000
    if x == 0:
        return 0
    fmt = "<d" if bits == 64 else "<f"
    return int.from_bytes(struct.pack(fmt, x), "little")


def canon(x, t: T.Type):
    """The Python dict key of an element (floats: canonical bits)."""
    if isinstance(t, T.Scalar):
        if t.is_float:
            return float_bits(float(x), t.bits)
        return bool(x) if t.is_bool else int(x)
    if isinstance(t, T.Struct):
        return tuple(canon(x[i], f) for i, f in enumerate(t.fields))
    assert isinstance(t, T.Vec)
    ptr, n = int(x["ptr"]), int(x["len"])
    if n == 0:
        return ()
    arr = np.frombuffer((ctypes.c_char * (n * lltypes.sizeof(t.elem))).from_address(ptr), np_dtype(t.elem))
    if t.elem == T.U8:
        return bytes(arr)
    return tuple(canon(e, t.elem) for e in arr)


def stored_bits(x, t: T.Type):
    """Like :func:`canon` but floats give their exact stored bits (to check canonical storage)."""
    if isinstance(t, T.Scalar) and t.is_float:
        return int(np.array(x, t.numpy).view(np.uint64 if t.bits == 64 else np.uint32))
    if isinstance(t, T.Struct):
        return tuple(stored_bits(x[i], f) for i, f in enumerate(t.fields))
    return canon(x, t)


def pyval(x, t: T.Type):
    if isinstance(t, T.Struct):
        return tuple(pyval(x[i], f) for i, f in enumerate(t.fields))
    return x.item()


class Vecs:
    """An array of ``vec`` structs pointing into separately allocated element buffers."""

    def __init__(self, items: list[np.ndarray], elem: T.Type):
        self.buffers = [np.ascontiguousarray(np.asarray(x, dtype=np_dtype(elem))) for x in items]
        self.array = np.zeros(len(items), np_dtype(T.Vec(elem)))
        for i, buf in enumerate(self.buffers):
            self.array[i] = (buf.ctypes.data if len(buf) else 0, len(buf))


def ptr(a: np.ndarray) -> int:
    assert a.flags.c_contiguous
    return a.ctypes.data


def release(ctx: runtime.CContext) -> None:
    """Free every block the call allocated (the table is one of them) and the records array."""
    if ctx.records:
        recs = (ctypes.c_void_p * ctx.count).from_address(ctx.records)
        for p in recs:
            if p:
                LIBC.free(p)
        LIBC.free(ctx.records)
    ctx.records, ctx.count, ctx.cap = None, 0, 0


def read_entries(table: int, key: T.Type, value: T.Type):
    hdr = Header.from_address(table)
    assert 0 <= hdr.count <= hdr.cap
    slots = hdr.mask + 1
    assert slots & hdr.mask == 0 and slots >= 2 * hdr.count
    dt = np_dtype(T.Struct((key, value)))
    if hdr.count == 0:
        return np.zeros(0, dt)
    raw = (ctypes.c_char * (hdr.count * dt.itemsize)).from_address(hdr.entries)
    return np.frombuffer(raw, dt).copy()


def run_dictmerger(key, value, op, keys1, vals1, keys2=None, vals2=None, queries=None, hint=0, error=0):
    """Run the dictmerger kernel; returns ``(entries array, found flags, found values)``.

    ``error``: an error code recorded before the call (the kernel must then survive, not crash).
    """
    kdt, vdt = np_dtype(key), np_dtype(value)
    keys2 = np.zeros(0, kdt) if keys2 is None else keys2
    vals2 = np.zeros(0, vdt) if vals2 is None else vals2
    queries = np.zeros(0, kdt) if queries is None else queries
    found = np.zeros(len(queries), np.uint8)
    qvals = np.zeros(len(queries), vdt)
    out = ctypes.c_void_p()
    ctx = runtime.CContext()
    ctx.error = error
    dictmerger_kernel(key, value, op)(
        ctypes.byref(ctx),
        ptr(keys1),
        ptr(vals1),
        len(keys1),
        ptr(keys2),
        ptr(vals2),
        len(keys2),
        hint,
        ptr(queries),
        len(queries),
        ptr(found),
        ptr(qvals),
        ctypes.byref(out),
    )
    try:
        assert ctx.error == error
        return read_entries(out.value, key, value), found.astype(bool), qvals
    finally:
        release(ctx)


def reference(key, value, op, *chunks):
    """The Python model of a dictmerger: {canonical key: value}, in first-insertion order."""
    comb = {
        "+": lambda a, b: a + b,
        "min": lambda a, b: a if (a <= b or a != a) else b,
    }[op]

    def combine(a, b):
        if isinstance(a, tuple):
            return tuple(combine(x, y) for x, y in zip(a, b, strict=True))
        return comb(a, b)

    def merge(out: dict, items) -> dict:
        for ck, pv in items:
            out[ck] = combine(out[ck], pv) if ck in out else pv
        return out

    # each chunk is reduced on its own, then the partial dicts are merged in order (merge_tables)
    parts = [merge({}, ((canon(k, key), pyval(v, value)) for k, v in zip(*c, strict=True))) for c in chunks]
    out: dict = {}
    for p in parts:
        merge(out, p.items())
    return out


def wrap_i64(x):
    if isinstance(x, tuple):
        return tuple(map(wrap_i64, x))
    if isinstance(x, int):
        return (x + (1 << 63)) % (1 << 64) - (1 << 63)
    return x


def check_dictmerger(key, value, op, keys, vals, split=None, hint=0, queries=None):
    split = len(keys) if split is None else split
    k1, v1, k2, v2 = keys[:split], vals[:split], keys[split:], vals[split:]
    queries = keys if queries is None else queries
    entries, found, qvals = run_dictmerger(key, value, op, k1, v1, k2, v2, queries, hint)
    ref = reference(key, value, op, (k1, v1), (k2, v2))
    got_keys = [canon(e["f0"], key) for e in entries]
    assert got_keys == list(ref)  # first-insertion order
    got = [wrap_i64(pyval(e["f1"], value)) for e in entries]
    want = [wrap_i64(v) for v in ref.values()]
    np.testing.assert_equal(got, want)
    assert [stored_bits(e["f0"], key) for e in entries] == got_keys  # floats stored canonically
    for q, f, v in zip(queries, found, qvals, strict=True):
        ck = canon(q, key)
        assert f == (ck in ref)
        if f:
            np.testing.assert_equal(wrap_i64(pyval(v, value)), wrap_i64(ref[ck]))
    return entries


# ---- scalar keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 1000, 100_000])
@pytest.mark.parametrize("groups", [1, 7, 1000, None])
def test_i64_sum(n, groups):
    rng = np.random.default_rng(n * 31 + (groups or 0))
    if groups is None:
        keys = rng.integers(-(1 << 62), 1 << 62, n, dtype=np.int64)
    else:
        keys = rng.integers(0, groups, n, dtype=np.int64) * 0x100000000  # low bits all equal
    vals = rng.integers(-1000, 1000, n, dtype=np.int64)
    check_dictmerger(T.I64, T.I64, "+", keys, vals)


@pytest.mark.parametrize("hint", [0, 1, 50, 1 << 20, -5])
def test_size_hint(hint):
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 3000, 10_000, dtype=np.int64)
    vals = rng.integers(0, 10, 10_000, dtype=np.int64)
    check_dictmerger(T.I64, T.I64, "+", keys, vals, hint=hint)


def test_many_distinct_keys_and_missing_queries():
    rng = np.random.default_rng(2)
    keys = rng.permutation(np.arange(100_000, dtype=np.int64)) * 7
    vals = np.arange(100_000, dtype=np.int64)
    queries = np.concatenate([keys[:1000], keys[:1000] + 1, np.array([-7, 1 << 40], np.int64)])
    entries = check_dictmerger(T.I64, T.I64, "min", keys, vals, queries=queries)
    assert len(entries) == 100_000


@pytest.mark.parametrize("key", [T.I32, T.U8, T.I16, T.U64, T.BOOL, T.I8])
def test_small_int_keys(key):
    rng = np.random.default_rng(3)
    info = np.iinfo(key.numpy) if key != T.BOOL else None
    n = 5000
    if info is None:
        keys = rng.integers(0, 2, n).astype(bool)
    else:
        keys = rng.integers(max(info.min, -40), min(info.max, 40), n, endpoint=True).astype(key.numpy)
        keys[:3] = [info.min, info.max, 0]
    vals = rng.standard_normal(n)
    check_dictmerger(key, T.F64, "+", keys, vals, split=n // 3)


SPECIAL = [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1.5, -1.5, 5e-324, np.finfo(np.float64).max]


@pytest.mark.parametrize("key", [T.F64, T.F32])
def test_float_keys_canonical(key):
    rng = np.random.default_rng(4)
    dt = key.numpy
    payload_nans = np.array([0x7FF0000000000001, 0xFFF8000000000123, 0x7FF4000000000000], np.uint64)
    if key == T.F32:
        payload_nans = np.array([0x7F800001, 0xFFC00123, 0x7FA00000], np.uint32)
    specials = np.concatenate([np.array(SPECIAL[:-1], dt), payload_nans.view(dt)])
    keys = np.concatenate([specials[rng.integers(0, len(specials), 3000)], rng.integers(-5, 5, 2000).astype(dt)])
    rng.shuffle(keys)
    keys = np.concatenate([np.array([-0.0, np.nan], dt), keys])  # first insertions: -0.0, nan
    vals = rng.integers(0, 100, len(keys), dtype=np.int64)
    entries = check_dictmerger(key, T.I64, "+", keys, vals, split=2500)
    # -0.0, 0.0 and every NaN collapse: 3 special keys + inf, -inf, +-1.5, tiny + ints -5..4
    bits = entries["f0"].view(np.uint64 if key == T.F64 else np.uint32)
    assert bits[0] == 0 and bits[1] == (0x7FF8000000000000 if key == T.F64 else 0x7FC00000)
    queries = np.array([0.0, -0.0, np.nan, *payload_nans.view(dt), 7.0], dt)
    _, found, qvals = run_dictmerger(key, T.I64, "+", keys, vals, queries=queries)
    assert found.tolist() == [True] * (len(queries) - 1) + [False]
    assert qvals[0] == qvals[1] and qvals[2] == qvals[3] == qvals[4] == qvals[5]


def test_float_values_min_nan():
    keys = np.array([1, 2, 1, 2, 1, 3, 3], np.int64)
    vals = np.array([5.0, np.nan, 2.0, 1.0, np.nan, -0.0, 0.0])
    entries, _, _ = run_dictmerger(T.I64, T.F64, "min", keys, vals)
    assert entries["f0"].tolist() == [1, 2, 3]
    v = entries["f1"]
    assert np.isnan(v[0]) and np.isnan(v[1]) and v[2] == 0 and np.signbit(v[2])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-20, 20), st.integers(-(2**40), 2**40)), max_size=300),
    st.integers(0, 300),
)
def test_hypothesis_i64(pairs, split):
    keys = np.array([k * 0x1000000 for k, _ in pairs], np.int64)  # collisions in the low bits
    vals = np.array([v for _, v in pairs], np.int64)
    check_dictmerger(T.I64, T.I64, "+", keys, vals, split=min(split, len(pairs)))


# ---- struct keys and values --------------------------------------------------------------------


def struct_array(t: T.Struct, cols: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """A structured array of ``t`` with the padding bytes filled with garbage."""
    dt = np_dtype(t)
    n = len(cols[0])
    raw = rng.integers(0, 256, n * dt.itemsize, dtype=np.uint8)
    arr = raw.view(dt)
    for i, c in enumerate(cols):
        arr[f"f{i}"] = c
    return arr


def test_struct_key_with_padding():
    rng = np.random.default_rng(5)
    key = T.Struct((T.I64, T.I32))
    assert lltypes.sizeof(key) == 16  # 4 padding bytes
    n = 20_000
    keys = struct_array(key, [rng.integers(0, 30, n), rng.integers(-3, 3, n)], rng)
    vals = rng.integers(-50, 50, n, dtype=np.int64)
    entries = check_dictmerger(key, T.I64, "+", keys, vals, split=7000)
    assert len(entries) == 180


def test_struct_key_floats_bools_struct_value():
    rng = np.random.default_rng(6)
    key = T.Struct((T.BOOL, T.F32, T.Struct((T.I8, T.F64))))
    value = T.Struct((T.I64, T.F64))
    n = 10_000
    specials = np.array([0.0, -0.0, np.nan, 1.0, -np.inf])
    cols = [rng.integers(0, 2, n).astype(bool), specials[rng.integers(0, 5, n)].astype(np.float32)]
    keys = struct_array(key, cols + [np.zeros(n)], rng)
    inner = keys["f2"]
    inner["f0"] = rng.integers(-2, 2, n)
    inner["f1"] = specials[rng.integers(0, 5, n)]
    keys["f2"] = inner
    vals = struct_array(value, [rng.integers(0, 9, n), rng.integers(0, 9, n).astype(float)], rng)
    check_dictmerger(key, value, "min", keys, vals, split=n // 2)
    check_dictmerger(key, value, "+", keys, vals, split=0)


# ---- vector keys -----------------------------------------------------------------------------


def random_strings(rng: np.random.Generator, n: int, vocab: int) -> list[bytes]:
    words = [bytes(rng.integers(97, 100, rng.integers(0, 40))) for _ in range(vocab)]
    words += [b"", b"a", b"ab", b"abc", b"abcd", b"abcdefg", b"abcdefgh", b"abcdefghi"]
    return [words[i] for i in rng.integers(0, len(words), n)]


@pytest.mark.parametrize("n,vocab", [(0, 1), (1, 1), (5000, 50), (100_000, 20_000)])
def test_string_keys(n, vocab):
    rng = np.random.default_rng(n)
    strings = random_strings(rng, n, vocab)
    # every key has its own buffer: equal keys never share a pointer
    keys = Vecs([np.frombuffer(s, np.uint8).copy() for s in strings], T.U8)
    vals = rng.integers(0, 10, n, dtype=np.int64)
    entries = check_dictmerger(T.Vec(T.U8), T.I64, "+", keys.array, vals, split=n // 3)
    assert len(entries) == len(dict.fromkeys(strings))


def test_string_keys_differ_only_in_tail():
    base = b"x" * 21
    strings = [base[:k] + bytes([c]) for k in range(20) for c in (1, 2, 3)] * 2
    keys = Vecs([np.frombuffer(s, np.uint8).copy() for s in strings], T.U8)
    vals = np.arange(len(strings), dtype=np.int64)
    entries = check_dictmerger(T.Vec(T.U8), T.I64, "+", keys.array, vals)
    assert len(entries) == 60


@pytest.mark.parametrize(
    "elem",
    [T.I32, T.I64, T.F64, T.Struct((T.I64, T.I32)), T.Struct((T.I16, T.U8, T.BOOL)), T.Struct((T.F32, T.I32))],
)
def test_vec_keys(elem):
    rng = np.random.default_rng(7)
    n = 4000
    pool = []
    for _ in range(60):
        m = int(rng.integers(0, 6))
        if isinstance(elem, T.Struct):
            cols = [
                rng.choice(np.array([0.0, -0.0, np.nan, 1.0]), m) if f.is_float else rng.integers(0, 2, m)
                for f in elem.fields
            ]
            pool.append(struct_array(elem, cols, rng) if m else np.zeros(0, np_dtype(elem)))
        elif elem.is_float:
            pool.append(rng.choice(np.array([0.0, -0.0, np.nan, -np.nan, 2.5]), m))
        else:
            pool.append(rng.integers(-2, 2, m).astype(elem.numpy))
    items = [pool[i].copy() for i in rng.integers(0, len(pool), n)]
    keys = Vecs(items, elem)
    value = T.Struct((T.F64, T.I32))
    vals = struct_array(value, [rng.standard_normal(n), rng.integers(0, 100, n)], rng)
    check_dictmerger(T.Vec(elem), value, "+", keys.array, vals, split=n // 2)


def test_vec_values():
    """Values may be vectors (here: keep the first one per key with a 'first' combine)."""
    m = new_module()
    ht = HashTableCodegen(m, T.I64, T.Vec(T.F64))
    fn = ir.Function(m, ir.FunctionType(ir.VoidType(), [PTR, PTR, PTR, I64, PTR]), "kernel")
    ctx, keys, vals, n, out = fn.args
    b = ir.IRBuilder(fn.append_basic_block())
    table = ht.new(b, ctx, None)

    def body(i):
        k = lltypes.load(b, lltypes.elem_ptr(b, keys, i, T.I64), T.I64)
        v = lltypes.load(b, lltypes.elem_ptr(b, vals, i, T.Vec(T.F64)), T.Vec(T.F64))
        ht.merge(b, ctx, table, k, v, lambda b, old, new: old)

    emit_loop(b, n, body)
    entries, count = ht.entries(b, table)
    b.store(entries, out)
    b.store(count, b.gep(out, [c64(1)], source_etype=I64))
    b.ret_void()
    kernel = jit(m, "kernel", [ctypes.c_void_p] * 3 + [ctypes.c_int64, ctypes.c_void_p])
    vecs = Vecs([np.arange(float(i)) for i in range(10)], T.F64)
    keys = np.array([3, 1, 3, 2, 1, 0, 3, 7, 8, 9], np.int64)
    out = np.zeros(2, np.uint64)
    ctx = runtime.CContext()
    kernel(ctypes.byref(ctx), ptr(keys), ptr(vecs.array), len(keys), ptr(out))
    try:
        assert ctx.error == 0
        dt = np_dtype(T.Struct((T.I64, T.Vec(T.F64))))
        entries = np.frombuffer((ctypes.c_char * (int(out[1]) * dt.itemsize)).from_address(int(out[0])), dt)
        assert entries["f0"].tolist() == [3, 1, 2, 0, 7, 8, 9]
        assert entries["f1"]["len"].tolist() == [0, 1, 3, 5, 7, 8, 9]
        assert entries["f1"]["ptr"][1] == vecs.array["ptr"][1]
    finally:
        release(ctx)


# ---- group mergers ---------------------------------------------------------------------------


def run_groupmerger(key, value, keys1, vals1, keys2, vals2, queries, hint=0, error=0):
    kdt, vdt = np_dtype(key), np_dtype(value)
    found = np.zeros(len(queries), np.uint8)
    qvecs = np.zeros(len(queries), np_dtype(T.Vec(value)))
    out = ctypes.c_void_p()
    ctx = runtime.CContext()
    ctx.error = error
    groupmerger_kernel(key, value)(
        ctypes.byref(ctx),
        ptr(keys1),
        ptr(vals1),
        len(keys1),
        ptr(keys2),
        ptr(vals2),
        len(keys2),
        hint,
        ptr(queries if len(queries) else np.zeros(1, kdt)),
        len(queries),
        ptr(found),
        ptr(qvecs if len(qvecs) else np.zeros(1, vdt)),
        ctypes.byref(out),
    )
    try:
        assert ctx.error == error
        entries = read_entries(out.value, key, T.Vec(value))
        if error:  # the vectors are meaningless then
            return [canon(e["f0"], key) for e in entries], None, entries
        groups = [(canon(e["f0"], key), read_vec(e["f1"], value)) for e in entries]
        qs = [read_vec(v, value) if f else None for f, v in zip(found, qvecs, strict=True)]
        return groups, qs, entries
    finally:
        release(ctx)


def read_vec(v, t: T.Type) -> list:
    n = int(v["len"])
    if n == 0:
        return []
    dt = np_dtype(t)
    arr = np.frombuffer((ctypes.c_char * (n * dt.itemsize)).from_address(int(v["ptr"])), dt)
    return [pyval(x, t) for x in arr]


def check_groupmerger(key, value, keys, vals, split, hint=0):
    k1, v1, k2, v2 = keys[:split], vals[:split], keys[split:], vals[split:]
    ref: dict = {}
    for k, v in zip(keys, vals, strict=True):
        ref.setdefault(canon(k, key), []).append(pyval(v, value))
    queries = np.ascontiguousarray(keys[:: max(1, len(keys) // 300)])
    groups, qs, entries = run_groupmerger(key, value, k1, v1, k2, v2, queries, hint)
    assert [g for g, _ in groups] == list(ref)
    assert [got for _, got in groups] == list(ref.values())  # values in merge order (no NaNs here)
    for k, q in zip(queries, qs, strict=True):
        assert q == ref[canon(k, key)]
    # all values live in one flat block, groups back to back in key order
    if len(entries):
        size = lltypes.sizeof(value)
        starts = entries["f1"]["ptr"].astype(np.int64)
        lens = entries["f1"]["len"]
        np.testing.assert_array_equal(starts - starts[0], np.concatenate([[0], np.cumsum(lens)[:-1]]) * size)
    return groups


@pytest.mark.parametrize("n", [0, 1, 3, 1000, 100_000])
@pytest.mark.parametrize("split_frac", [0.0, 0.4, 1.0])
def test_groupmerger_i64(n, split_frac):
    rng = np.random.default_rng(n + 11)
    keys = rng.integers(0, max(1, n // 10), n, dtype=np.int64) << 20
    vals = rng.standard_normal(n)
    check_groupmerger(T.I64, T.F64, keys, vals, int(n * split_frac))


def test_groupmerger_strings_struct_values():
    rng = np.random.default_rng(12)
    n = 20_000
    strings = random_strings(rng, n, 300)
    keys = Vecs([np.frombuffer(s, np.uint8).copy() for s in strings], T.U8)
    value = T.Struct((T.I32, T.BOOL, T.F64))
    cols = [np.arange(n), rng.integers(0, 2, n).astype(bool), rng.standard_normal(n)]
    vals = struct_array(value, cols, rng)
    check_groupmerger(T.Vec(T.U8), value, keys.array, vals, split=n // 2, hint=100)


def test_groupmerger_float_keys():
    rng = np.random.default_rng(13)
    keys = np.array([0.0, -0.0, np.nan, -np.nan, 1.0, -1.0])[rng.integers(0, 6, 3000)]
    vals = np.arange(3000, dtype=np.int64)
    groups = check_groupmerger(T.F64, T.I64, keys, vals, split=1000)
    assert len(groups) == 4


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), st.integers(-5, 5)), max_size=200), st.integers(0, 200))
def test_hypothesis_groupmerger(pairs, split):
    key = T.Struct((T.I64, T.I32))
    keys = np.zeros(len(pairs), np_dtype(key))
    keys["f0"] = [p[0] for p in pairs]
    keys["f1"] = [p[1] % 3 for p in pairs]
    vals = np.array([p[1] for p in pairs], np.int16)
    check_groupmerger(key, T.I16, keys, vals, split=min(split, len(pairs)))


# ---- misc --------------------------------------------------------------------------------------


def test_functions_are_shared_and_internal():
    m = new_module()
    a = HashTableCodegen(m, T.I64, T.F64)
    HashTableCodegen(m, T.I64, T.F64)
    HashTableCodegen(m, T.I64, T.I64)
    GroupMergerCodegen(m, T.I64, T.F64)
    names = [f.name for f in m.functions if f.name.startswith(("lzht", "lzkey", "lzgm"))]
    assert len(names) == len(set(names))
    assert all(f.linkage == "internal" for f in m.functions if f.name in names)
    assert a._fn_upsert.name in names
    assert len([n for n in names if n.startswith("lzkey")]) == 2  # one hash + eq for i64 keys
    assert not [g for g in m.global_values if isinstance(g, ir.GlobalVariable)]
    assert len(TABLE.elements) == 5


@pytest.mark.parametrize(
    "key",
    [T.Vec(T.Vec(T.U8)), T.Struct((T.I64, T.Vec(T.U8))), T.Struct(()), T.Dict(T.I64, T.I64)],
)
def test_unsupported_keys(key):
    with pytest.raises(TypeError):
        HashTableCodegen(new_module(), key, T.I64)


def test_recorded_error_stops_growth_without_crashing():
    """Once an error is recorded, inserts may stop growing the tables (results are discarded)."""
    keys = np.arange(50_000, dtype=np.int64)
    vals = np.ones(50_000, np.int64)
    entries, _, _ = run_dictmerger(T.I64, T.I64, "+", keys, vals, keys, vals, keys, error=runtime.ERR_KEY)
    assert len(entries) == 8  # the initial capacity
    groups, _, _ = run_groupmerger(T.I64, T.I64, keys, vals, keys, vals, keys[:10], error=runtime.ERR_KEY)
    assert len(groups) <= 64
