"""Partitioned loops on a Dask distributed cluster (``lazyir.evaluate(..., scheduler=client)``).

Each partitionable loop (``partition.plan``) becomes one Dask task per partition. The client
compiles the chunk kernel once; a task carries its object code (with the IR text, which a worker
whose CPU, LLVM or lazyir differs compiles instead) and the partition's arguments. A worker loads
or compiles a kernel once per process (``_kernels``, keyed by the kernel's hash). Vectors the loop
only iterates are cut to the partition's part before they are sent; vectors it looks up in are
scattered once (broadcast) and shared by its tasks.

Data already on the cluster stays there: a Dask array argument is persisted (a no-op when it
already is) and each task reads its blocks where they lie; when such an array is iterated from
start to end, the partitions are its blocks, so a task's input never moves. A ``Future`` of a
NumPy array is used the same way, as an array of one block. Partial results are combined pairwise
on the workers (a tree of ``combine_partials`` tasks) and the client applies the builders'
initial values. Partial results that grow with their partition (appenders, scanners,
groupmergers) go straight to the client instead, so each travels once.

Tasks are pure, so a worker lost while running one costs time, not correctness: Dask reruns the
task elsewhere. Statements that are not partitionable loops run on the client (remote inputs
are gathered for them).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import compiler
from ..config import config
from ..ir import nodes as n
from ..ir import types as T
from ..ir.values import describe, normalize_arg
from . import partition as P
from .threads import Compile, Progress, run_statements


# -- kernels: object code, loaded once per worker process -----------------------------------------
@dataclass(frozen=True)
class Kernel:
    """What a task needs to get a chunk kernel: its IR text always, its object code for workers
    whose ``target`` equals the client's."""

    text: str
    target: str
    obj: bytes
    symbol: str

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.target}\n{self.text}".encode()).hexdigest()


def _target_key() -> str:
    from ..engine import code_fingerprint

    return f"{compiler.target_key()}|{code_fingerprint()}"


def kernel_of(compiled: Any, program: n.Expr) -> Kernel:
    return Kernel(str(program), _target_key(), compiled.object, compiled.symbol)


_kernels: dict[str, Any] = {}
_kernels_lock = threading.Lock()


def load_kernel(kernel: Kernel) -> Any:
    """In a worker: the callable kernel, loaded from its object code when this process's target
    is the client's, compiled from its text otherwise; once per process."""
    fn = _kernels.get(kernel.key)
    if fn is None:
        with _kernels_lock:
            fn = _kernels.get(kernel.key)
            if fn is None:
                from ..engine import as_program
                from ..engine import compile as compile_program

                if kernel.target == _target_key():
                    fn = compiler.load_object(as_program(kernel.text), kernel.obj, kernel.symbol)
                else:
                    fn = compile_program(kernel.text, optimize=False)
                _kernels[kernel.key] = fn
    return fn


def _run_chunk(kernel: Kernel, args: list[Any], pieces: dict[int, tuple[list[Any], int, int]]) -> Any:
    """On a worker: one partition's kernel; ``pieces`` are the remote vectors' parts (blocks,
    offset into the first, length), put together here."""
    for k, (blocks, offset, length) in pieces.items():
        args[k] = _assemble(blocks, offset, length)
    return load_kernel(kernel)(*args)


def _assemble(blocks: list[np.ndarray], offset: int, length: int) -> np.ndarray:
    whole = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    return whole.reshape(-1)[offset : offset + length]


def _combine(leaves: list[P.Leaf], builder_ty: Any, *parts: Any) -> Any:
    return P.combine_partials(leaves, builder_ty, list(parts))


# -- data on the cluster --------------------------------------------------------------------------
@dataclass
class _Part:
    """Elements ``[lo, hi)`` of a remote vector (what ``chunk_args`` cuts for a partition)."""

    remote: Remote
    lo: int
    hi: int


class Remote:
    """A vector that lies on the cluster as consecutive blocks (futures of NumPy arrays)."""

    def __init__(self, client: Any, blocks: list[Any], sizes: Sequence[int], dtype: np.dtype):
        self.client = client
        self.blocks = list(blocks)
        self.starts = [0, *itertools.accumulate(sizes)]
        self.dtype = dtype
        self._whole: Any = None

    def __len__(self) -> int:
        return self.starts[-1]

    def piece(self, lo: int, hi: int) -> tuple[list[Any], int, int]:
        """Elements ``[lo, hi)`` as (the blocks holding them, offset into the first, length)."""
        if hi <= lo:
            return [self.blocks[0]] if self.blocks else [], 0, 0
        first = bisect.bisect_right(self.starts, lo) - 1
        last = bisect.bisect_left(self.starts, hi) - 1
        return self.blocks[first : last + 1], lo - self.starts[first], hi - lo

    def whole(self) -> Any:
        """One future of the whole vector (put together on a worker)."""
        if self._whole is None:
            if len(self.blocks) == 1:
                self._whole = self.blocks[0]
            else:
                self._whole = self.client.submit(_assemble, self.blocks, 0, len(self), pure=False)
        return self._whole

    def __getitem__(self, key: slice) -> _Part:
        return _Part(self, key.start, key.stop)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Gathered to the client (for statements that run there)."""
        value = np.asarray(self.whole().result())
        return value if dtype is None else value.astype(dtype, copy=False)


def _is_future(x: Any) -> bool:
    return type(x).__name__ == "Future" and hasattr(x, "key") and hasattr(x, "result")


def _is_dask_array(x: Any) -> bool:
    return hasattr(x, "__dask_graph__") and hasattr(x, "chunks") and hasattr(x, "dtype")


def _meta(x: Any) -> tuple[str, tuple]:
    arr = np.asarray(x)
    return arr.dtype.str, arr.shape


def arguments(program: n.Expr, args: Sequence[Any], client: Any) -> list[Any]:
    """The program's arguments checked as ``check_args`` does; Dask arrays and futures of
    vector arguments become ``Remote`` vectors (persisted, not gathered)."""
    params = program.params if program.op == n.LAMBDA else ()
    if len(args) != len(params):
        from ..ir.values import check_args

        return check_args(program, args)  # its error
    out = []
    for (name, ty), a in zip(params, args, strict=True):
        if not (_is_dask_array(a) or _is_future(a)):
            out.append(normalize_arg(a, ty, f"argument {name}"))
            continue
        want = getattr(ty, "elem", None)
        if _is_dask_array(a):
            arr = a.reshape(-1) if a.ndim != 1 else a
            if any(np.isnan(c) for c in arr.chunks[0]):
                arr = arr.compute_chunk_sizes()
            dtype = np.dtype(arr.dtype)
        else:
            dtype_str, shape = client.submit(_meta, a, pure=False).result()
            dtype = np.dtype(dtype_str)
        if not (isinstance(ty, T.Vec) and isinstance(want, T.Scalar) and dtype == want.numpy):
            raise TypeError(f"argument {name}: expected {ty}, got {describe(a)} of {dtype}")
        if _is_dask_array(a):
            arr = client.persist(arr)
            by_key = {f.key: f for f in _futures_of(arr)}
            blocks = [by_key[k] for k in arr.__dask_keys__()]
            out.append(Remote(client, blocks, arr.chunks[0], dtype))
        else:
            size = int(np.prod(shape))
            block = a if len(shape) == 1 else client.submit(np.ravel, a, pure=False)
            out.append(Remote(client, [block], [size], dtype))
    return out


def _futures_of(collection: Any) -> list[Any]:
    from distributed import futures_of

    return futures_of(collection)


def local(values: Sequence[Any]) -> list[Any]:
    """Remote vectors gathered (for code that runs on the client)."""
    return [np.asarray(v) if isinstance(v, Remote) else v for v in values]


# -- running a plan -------------------------------------------------------------------------------
def run(plan: P.Plan, args: Sequence[Any], compile_fn: Compile, client: Any, partitions: int) -> Any:
    """The program's result, its partitionable loops split into ``partitions`` Dask tasks (or
    along the blocks of a Dask array they iterate)."""

    progress = Progress(config.options.progress)

    def loop_runner(loop: P.Loop, env: dict[str, Any]) -> Any:
        return _run_loop(loop, env, compile_fn, client, partitions, progress)

    def whole(program: n.Expr) -> Any:
        fn = compile_fn(program)
        return lambda *a: fn(*local(a))

    try:
        return run_statements(plan, args, whole, loop_runner)
    finally:
        progress.close()


def _bounds(loop: P.Loop, env: dict[str, Any], count: int, shapes: list, partitions: int) -> list[tuple[int, int]]:
    """A Dask array iterated whole (from 0, stride 1) sets the partitions: its blocks."""
    for nm, js in loop.sliceable.items():
        v = env[nm]
        if isinstance(v, Remote) and len(v.blocks) > 1 and all(shapes[j][:2] == (0, 1) for j in js):
            cuts = [c for c in v.starts if c < count] + [count]
            return [(a, b) for a, b in itertools.pairwise(cuts) if b > a] or [(0, 0)]
    return P.chunks(count, partitions, 1)


def _run_loop(
    loop: P.Loop, env: dict[str, Any], compile_fn: Compile, client: Any, partitions: int, progress: Progress
) -> Any:
    count, shapes = P.iteration_count(loop, env)
    bounds = _bounds(loop, env, count, shapes, partitions)
    kernel = kernel_of(compile_fn(loop.kernel), loop.kernel)
    shared = {}
    for nm in loop.free:
        v = env[nm]
        if nm not in loop.sliceable and isinstance(v, Remote):
            shared[nm] = v.whole()
        elif nm not in loop.sliceable and getattr(v, "size", 0) > 1:
            shared[nm] = client.scatter(v, broadcast=True, hash=False)
    futures = []
    for lo, hi in bounds:
        args = P.chunk_args(loop, env, shapes, lo, hi, slice_vectors=True)
        pieces = {}
        for k, nm in enumerate(loop.free):
            if nm in shared:  # the looked-up vectors: the shared copies
                args[k] = shared[nm]
            elif isinstance(args[k], _Part):  # a remote vector's part: read where it lies
                pieces[k] = args[k].remote.piece(args[k].lo, args[k].hi)
                args[k] = None
            elif getattr(args[k], "size", 0) > 1:  # the partition's part: sent as data, not in the graph
                args[k] = client.scatter(args[k], hash=False)
        futures.append(client.submit(_run_chunk, kernel, args, pieces, pure=False))
    progress.add(len(futures))
    for f in futures:
        f.add_done_callback(progress.done)
    if any(isinstance(leaf.ty, _GROWING) for leaf in loop.leaves):
        # partials as big as their inputs: each travels once, to the client
        return P.merge(loop, client.gather(futures), env)
    while len(futures) > 1:  # combine neighbours, a tree
        pairs = [futures[k : k + 2] for k in range(0, len(futures), 2)]
        futures = [
            client.submit(_combine, loop.leaves, loop.builder_ty, *pair, pure=False) if len(pair) == 2 else pair[0]
            for pair in pairs
        ]
    return P.finish(loop, futures[0].result(), env)


#: Builders whose partial results grow with the partition (combined on the client, not in a tree).
_GROWING = (T.Appender, T.Scanner, T.GroupMerger)


def is_client(scheduler: Any) -> bool:
    return type(scheduler).__name__ == "Client" and hasattr(scheduler, "submit")


def workers(client: Any) -> int:
    """Partitions for a client: two per worker thread, so a slow or lost worker delays less."""
    info = client.scheduler_info()
    threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
    return max(1, 2 * threads)
