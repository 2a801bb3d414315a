"""Stable argsort (lazyir.backend.sort): JIT-compiled kernels checked against NumPy's stable sorts.

Each key type gets an exported wrapper ``ptr test_<j>(ptr ctx, ptr keys, i64 n, ptr out)`` that calls
the argsort, copies the indices to ``out`` and returns the block it got. Kernels are compiled in
several *modes* that patch the module's tuning constants, so that every code path (merge sort,
radix sort with u32 and i64 indices, narrow digits, odd run lengths) runs at every size.
"""

from __future__ import annotations

import ctypes
import math
import struct
from functools import cache

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from llvmlite import binding as llvm
from llvmlite import ir

from lazyir.backend import lltypes, runtime, sort
from lazyir.ir import types as T

llvm.initialize_native_target()
llvm.initialize_native_asmprinter()

LIBC = ctypes.CDLL(None)
LIBC.free.argtypes = [ctypes.c_void_p]
LIBC.free.restype = None

PTR, I64 = lltypes.PTR, lltypes.I64

SCALARS = list(T.SCALARS.values())
STRUCTS = [
    T.Struct((T.I64, T.F64)),
    T.Struct((T.BOOL, T.I32, T.F32)),
    T.Struct((T.U16, T.Struct((T.F64, T.I8)), T.BOOL)),  # nested, 89 ordered bits
]
KEYS = SCALARS + STRUCTS
SIZES = [0, 1, 2, 17, 100, 10_000]

#: Tuning constants patched while a mode's kernels are emitted.
MODES = {
    "default": {},
    "merge": {"RADIX_MIN_N_PER_PASS": 1 << 40},
    "merge_run3": {"RADIX_MIN_N_PER_PASS": 1 << 40, "RUN": 3},
    "radix": {"RADIX_MIN_N_PER_PASS": 0},
    "radix_wide_digits5": {"RADIX_MIN_N_PER_PASS": 0, "WIDE_INDEX_MIN_N": 0, "MAX_DIGIT_BITS": 5},
}

_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p)
_ENGINES: list[llvm.ExecutionEngine] = []


# ---- compiling -----------------------------------------------------------------------------------


@cache
def _target_machine() -> llvm.TargetMachine:
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3, jit=True
    )


def _emit_wrapper(module: ir.Module, name: str, argsort: ir.Function) -> None:
    fn = ir.Function(module, ir.FunctionType(PTR, [PTR, PTR, I64, PTR]), name)
    b = ir.IRBuilder(fn.append_basic_block())
    ctx, keys, n, out = fn.args
    p = b.call(argsort, [ctx, keys, n])
    with b.if_then(b.icmp_unsigned("!=", p, ir.Constant(PTR, None))):
        b.call(runtime.libc(module, "memcpy"), [out, p, b.mul(n, ir.Constant(I64, 8))])
    b.ret(p)


@cache
def kernels(mode: str) -> dict[T.Type, ctypes._CFuncPtr]:
    """The wrapper of every key type, compiled with ``MODES[mode]`` in effect."""
    tm = _target_machine()
    module = ir.Module(name=f"sort_test_{mode}")
    module.triple = llvm.get_process_triple()
    module.data_layout = str(tm.target_data)
    runtime.emit_runtime(module, define=True)
    with pytest.MonkeyPatch.context() as mp:
        for attr, value in MODES[mode].items():
            mp.setattr(sort, attr, value)
        for j, key in enumerate(KEYS):
            _emit_wrapper(module, f"test_{j}", sort.emit_argsort(module, key))
    mod = llvm.parse_assembly(str(module))
    mod.verify()
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pto.loop_vectorization = True
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)
    engine = llvm.create_mcjit_compiler(mod, tm)
    engine.finalize_object()
    _ENGINES.append(engine)  # keep the code alive
    return {key: _FN(engine.get_function_address(f"test_{j}")) for j, key in enumerate(KEYS)}


def run_argsort(mode: str, key: T.Type, keys: np.ndarray) -> np.ndarray:
    """Call the compiled argsort of ``key`` on ``keys``; check the context and free its blocks."""
    assert keys.flags.c_contiguous and keys.itemsize == lltypes.sizeof(key)
    n = len(keys)
    out = np.full(n, -1, dtype=np.int64)
    ctx = runtime.CContext()
    block = kernels(mode)[key](ctypes.addressof(ctx), keys.ctypes.data, n, out.ctypes.data)
    live = []
    if ctx.records:
        table = (ctypes.c_void_p * ctx.count).from_address(ctx.records)
        live = [p for p in table if p]
        for p in live:
            LIBC.free(p)
        LIBC.free(ctx.records)
    assert ctx.error == 0
    assert block is not None
    # Only the result is left: every temporary was released with lz_free.
    assert live == [block - runtime.HEADER]
    return out


# ---- inputs --------------------------------------------------------------------------------------


def _f64_bits(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


_SPECIAL_FLOATS = [
    math.nan,
    -math.nan,
    _f64_bits(0x7FF0000000000001),  # signalling NaN
    _f64_bits(0xFFF8000000000123),  # negative NaN with a payload
    math.inf,
    -math.inf,
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    1.0,
    -1.0,
    1.5,
    -2.5,
]


def _specials(dtype: np.dtype) -> np.ndarray:
    if dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            vals = np.array(_SPECIAL_FLOATS, dtype=dtype)
        info = np.finfo(dtype)
        return np.concatenate([vals, np.array([info.max, -info.max, info.tiny, -info.tiny], dtype=dtype)])
    if dtype.kind == "b":
        return np.array([False, True])
    info = np.iinfo(dtype)
    return np.array([info.min, info.max, 0, 1, info.min + 1, info.max - 1], dtype=dtype)


def _raw(dtype: np.dtype, n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniformly random bit patterns (floats: including NaNs with any sign and payload)."""
    if dtype.kind == "b":
        return rng.integers(0, 2, n).astype(bool)
    return rng.integers(0, 256, n * dtype.itemsize, dtype=np.uint8).view(dtype)


KINDS = ("pool", "bits", "mixed", "ascending", "descending")


def _column(dtype: np.dtype, n: int, rng: np.random.Generator, pool: list, kind: str) -> np.ndarray:
    pool_arr = np.array(pool, dtype=dtype)
    if kind == "pool":  # few distinct values: many duplicates
        return rng.choice(pool_arr, n)
    if kind == "bits":
        return _raw(dtype, n, rng)
    choices = np.concatenate([pool_arr, _specials(dtype)])
    col = np.where(rng.random(n) < 0.5, rng.choice(choices, n), _raw(dtype, n, rng))
    if kind == "ascending":
        col = np.sort(col, kind="stable")
    elif kind == "descending":
        col = np.sort(col, kind="stable")[::-1]
    return np.ascontiguousarray(col, dtype=dtype)


@st.composite
def scalar_keys(draw: st.DrawFn, dtype: np.dtype) -> np.ndarray:
    n = draw(st.sampled_from(SIZES))
    kind = draw(st.sampled_from(KINDS))
    pool = draw(st.lists(hnp.from_dtype(dtype), min_size=1, max_size=6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return _column(dtype, n, rng, pool, kind)


def _leaf_layout(t: T.Type, base: int = 0) -> list[tuple[int, T.Scalar]]:
    """``(byte offset, scalar type)`` of every scalar inside the memory form of ``t``."""
    if isinstance(t, T.Scalar):
        return [(base, t)]
    out = []
    for off, f in zip(lltypes.field_offsets(t), t.fields, strict=True):  # type: ignore[arg-type]
        out.extend(_leaf_layout(f, base + off))
    return out


def struct_dtype(key: T.Struct) -> np.dtype:
    """A flat NumPy dtype with the memory layout of ``key`` (fields ``f0, f1, ...`` are its leaves)."""
    leaves = _leaf_layout(key)
    return np.dtype(
        {
            "names": [f"f{i}" for i in range(len(leaves))],
            "formats": [s.numpy for _, s in leaves],
            "offsets": [off for off, _ in leaves],
            "itemsize": lltypes.sizeof(key),
        }
    )


@st.composite
def struct_keys(draw: st.DrawFn, key: T.Struct) -> np.ndarray:
    n = draw(st.sampled_from(SIZES))
    dt = struct_dtype(key)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arr = np.zeros(n, dtype=dt)
    for name in dt.names:
        fdt = dt.fields[name][0]
        kind = draw(st.sampled_from(KINDS))
        pool = draw(st.lists(hnp.from_dtype(fdt), min_size=1, max_size=4))
        arr[name] = _column(fdt, n, rng, pool, kind)
    return arr


def _python_order(columns: list[np.ndarray]) -> list[int]:
    """A reference stable order: NaN above everything and equal to NaN; -0.0 == 0.0."""

    def canon(v):
        if isinstance(v, float) and math.isnan(v):
            return (1, 0.0)
        return (0, v)

    n = len(columns[0]) if columns else 0
    rows = [tuple(canon(c[i].item()) for c in columns) for i in range(n)]
    return sorted(range(n), key=rows.__getitem__)


# ---- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("key", SCALARS, ids=str)
@given(data=st.data())
def test_scalar_keys_match_numpy_stable_argsort(mode: str, key: T.Scalar, data: st.DataObject) -> None:
    keys = data.draw(scalar_keys(key.numpy), label="keys")
    got = run_argsort(mode, key, keys)
    np.testing.assert_array_equal(got, np.argsort(keys, kind="stable"))


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("key", STRUCTS, ids=str)
@given(data=st.data())
def test_struct_keys_match_lexsort(mode: str, key: T.Struct, data: st.DataObject) -> None:
    keys = data.draw(struct_keys(key), label="keys")
    columns = [keys[name] for name in keys.dtype.names]
    got = run_argsort(mode, key, keys)
    want = np.lexsort(columns[::-1]) if len(keys) else np.zeros(0, np.int64)
    np.testing.assert_array_equal(got, want)
    if len(keys) <= 100:
        assert got.tolist() == _python_order(columns)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("n", SIZES)
def test_float_corner_cases(mode: str, n: int) -> None:
    """NaNs (any sign or payload) are equal and last; -0.0 == 0.0; ties keep their order."""
    rng = np.random.default_rng(n)
    for dtype, key in ((np.float64, T.F64), (np.float32, T.F32)):
        with np.errstate(invalid="ignore"):
            pool = np.array(_SPECIAL_FLOATS, dtype=dtype)
        keys = rng.choice(pool, n)
        got = run_argsort(mode, key, keys)
        np.testing.assert_array_equal(got, np.argsort(keys, kind="stable"))
        assert got.tolist() == _python_order([keys])


@pytest.mark.parametrize("mode", list(MODES))
def test_bool_bytes_other_than_one_are_true(mode: str) -> None:
    raw = np.random.default_rng(7).integers(0, 256, 10_000).astype(np.uint8)
    raw[::3] = 0
    for n in SIZES:
        got = run_argsort(mode, T.BOOL, raw[:n].view(np.bool_))
        np.testing.assert_array_equal(got, np.argsort(raw[:n] != 0, kind="stable"))


@pytest.mark.parametrize("mode", ["default", "merge", "radix"])
@pytest.mark.parametrize("key", [T.F64, T.I32, T.U8, STRUCTS[0]], ids=str)
def test_presorted_reversed_and_constant(mode: str, key: T.Type) -> None:
    n = 10_000
    if isinstance(key, T.Scalar):
        keys = (np.arange(n) % 200 if key == T.U8 else np.arange(n)).astype(key.numpy)
    else:
        keys = np.zeros(n, dtype=struct_dtype(key))
        keys["f0"], keys["f1"] = np.arange(n) // 7, np.arange(n) % 7
    for arr in (keys, np.ascontiguousarray(keys[::-1]), np.repeat(keys[n // 2 : n // 2 + 1], n)):
        columns = [arr[name] for name in arr.dtype.names] if arr.dtype.names else [arr]
        got = run_argsort(mode, key, arr)
        np.testing.assert_array_equal(got, np.lexsort(columns[::-1]))


def test_emitted_once_per_module_and_key() -> None:
    module = ir.Module(name="sort_names")
    runtime.emit_runtime(module, define=True)
    f = sort.emit_argsort(module, T.F64)
    count = len(module.functions)
    assert sort.emit_argsort(module, T.F64) is f
    assert len(module.functions) == count
    g = sort.emit_argsort(module, T.Struct((T.I64, T.F64)))
    assert g is not f and g.name != f.name
    assert f.name == sort.argsort_name(T.F64) == sort.argsort_name(T.Scalar("f64"))
    assert f.name.startswith("lz_argsort_") and len(f.name) == len("lz_argsort_") + 10
    assert f.linkage == "internal"
    assert str(f.function_type) == "ptr (ptr, ptr, i64)"
    assert all(fn.linkage == "internal" for fn in module.functions if fn.name.startswith("lz_argsort_"))


def test_non_scalar_keys_are_rejected() -> None:
    module = ir.Module(name="sort_bad")
    with pytest.raises(TypeError):
        sort.emit_argsort(module, T.Vec(T.F64))
    with pytest.raises(TypeError):
        sort.emit_argsort(module, T.Struct((T.I64, T.Vec(T.I64))))
