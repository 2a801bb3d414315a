"""The compile cache: memory hits, disk hits across processes, corrupt files, private directory."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import lazyir
import lazyir.backend.mathlib
from lazyir.backend import compiler

PROGRAM = "|a: vec[f64], k: f64| result(for(a, merger[f64,+], |s, i, x| merge(s, x * k + {salt})))"


def _program(salt: float) -> str:
    # A distinct program per test, so earlier tests' cache entries don't interfere.
    return PROGRAM.format(salt=repr(float(salt)))


@pytest.fixture()
def cache_dir(tmp_path):
    path = tmp_path / "cache"
    with lazyir.config.set(cache_dir=str(path)):
        yield path


def test_memory_hit_returns_same_object(cache_dir):
    p = lazyir.parse(_program(1.5))
    first = lazyir.compile(p)
    assert first.stats.source == "cold"
    assert lazyir.compile(p) is first
    assert lazyir.compile(str(p)) is first  # text parses to the same interned program


def test_disk_hit_in_a_fresh_process(cache_dir):
    text = _program(2.5)
    fn = lazyir.compile(text)
    assert fn.stats.source == "cold"
    files = list(cache_dir.glob("*.o"))
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    code = (
        "import json, sys, numpy as np, lazyir\n"
        "fn = lazyir.compile(sys.argv[1])\n"
        "print(json.dumps([fn.stats.source, float(fn(np.arange(4.0), 2.0))]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, text],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, LAZYIR_CACHE_DIR=str(cache_dir)),
    )
    source, value = json.loads(out.stdout)
    assert source == "disk"
    assert value == float(fn(np.arange(4.0), 2.0))


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_corrupt_cache_file_is_recompiled(cache_dir, damage):
    text = _program({"truncate": 3.5, "flip": 4.5, "empty": 5.5, "garbage": 6.5}[damage])
    lazyir.compile(text)
    (path,) = cache_dir.glob("*.o")
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        mid = len(data) - 100
        path.write_bytes(data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(os.urandom(len(data)))
    code = (
        "import json, sys, numpy as np, lazyir\n"
        "fn = lazyir.compile(sys.argv[1])\n"
        "print(json.dumps([fn.stats.source, float(fn(np.arange(4.0), 2.0))]))\n"
    )
    env = dict(os.environ, LAZYIR_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, check=True, env=env)
    source, value = json.loads(out.stdout)
    assert source == "cold"
    assert value == pytest.approx(lazyir.interpret(lazyir.parse(text), np.arange(4.0), 2.0))
    # The rewritten file is good again.
    out = subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, check=True, env=env)
    assert json.loads(out.stdout)[0] == "disk"


def test_cache_key_covers_host_and_llvmlite(cache_dir):
    from lazyir.backend.jit import target

    key = target().cache_key
    import llvmlite

    assert llvmlite.__version__ in key and target().cpu in key and target().features in key


def test_unwritable_cache_dir_still_compiles(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with lazyir.config.set(cache_dir=str(blocker / "sub")):
        fn = lazyir.compile(_program(7.5))
    assert fn(np.ones(3), 1.0) == pytest.approx(3 + 3 * 7.5)


def test_memory_stays_flat_over_many_calls(cache_dir):
    """10,000 calls whose results are dropped leave the process's memory flat."""
    fn = lazyir.compile(
        "|a: vec[f64]| let r = for(a, {appender[f64], dictmerger[i64,f64,+]}, |b, i, x| "
        "{merge(b.$0, x * 2.0), merge(b.$1, {i % 10L, x})}); {result(r.$0), tovec(result(r.$1))}"
    )
    a = np.random.default_rng(0).random(2000)

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    for _ in range(500):  # warm up allocator arenas
        fn(a)
    before = rss()
    for _ in range(10_000):
        out = fn(a)
    after = rss()
    assert out[0][3] == a[3] * 2.0
    # 10,000 calls allocate ~170 MB in total; flat means well under one percent of that is kept.
    assert after - before < 4 * 1024 * 1024, (before, after)


def test_compiler_clears_memory_cache():
    p = lazyir.parse(_program(8.5))
    first = lazyir.compile(p, cache=False)
    compiler.clear_memory_cache()
    assert lazyir.compile(p, cache=False) is not first


def test_scalar_math_path_gives_the_same_results(cache_dir):
    """Without libmvec (or with vector math off) loops call scalar libm: same results."""
    text = "|a: vec[f64]| result(for(a, appender[f64], |b, i, x| merge(b, exp(x) + erf(x) * log1p(abs(x)))))"
    a = np.random.default_rng(1).standard_normal(1003)
    vector = lazyir.compile(text, keep_ir=True)
    with lazyir.config.set(vector_math=False):
        scalar = lazyir.compile(text, keep_ir=True)
    assert scalar is not vector
    assert "_ZGV" in vector.llvm_ir or not lazyir.backend.mathlib.vector_variants("exp", 64)
    assert "_ZGV" not in scalar.llvm_ir
    np.testing.assert_allclose(scalar(a), vector(a), rtol=1e-13, atol=1e-14)  # libmvec: within 4 ulp of libm
    np.testing.assert_allclose(scalar(a), lazyir.interpret(lazyir.parse(text), a), rtol=1e-14)


def test_config_set_is_scoped_and_validated():
    before = lazyir.config.vector_math
    with lazyir.config.set(vector_math=not before):
        assert lazyir.config.vector_math is (not before)
    assert lazyir.config.vector_math is before
    with pytest.raises(TypeError, match="unknown lazyir option"):
        lazyir.config.set(no_such_option=1)
