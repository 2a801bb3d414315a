"""Partitioned execution: a program's top-level loops split into ``[start, stop)`` chunks.

A program is a chain of top-level statements (``let`` values, then the body; a body that is a
struct of values gives one statement per field). ``plan`` reads that chain once per program:

- a statement that is one loop, ``result(for(iters, builder, f))`` (or the builder itself, read
  later only through ``result``), whose builder is new (appenders, mergers, vecmergers, scanners,
  and structs of them) and whose iterator operands are names, literals or lengths of names, is
  *partitionable*: a chunk kernel ``|free names..., bounds...| result(for(chunk iters, new
  builders, f))`` computes the partial result of iterations ``[lo, hi)`` with builders of its own;
- any other statement runs whole, as its own small program.

``merge`` combines the partial results in chunk order: appenders concatenate, mergers and
vecmergers combine with their operator (after the initial value), and a scanner's later chunks
are offset by the running value of the chunks before them. Integers and order-keeping outputs are
bit-identical to one pass; float sums and products (mergers, vecmergers, scanners) are combined
in a different order, so they agree within rounding (as the compiled single-thread loops, which
reassociate float reductions to vectorize them, already do). Dictionary builders (dictmerger,
groupmerger) merge by key: a key keeps its first position across chunks, so first-insertion order
is kept; their results cannot pass between statements (programs take no dictionaries), so a
program that reads a dictionary in a later statement runs whole.

This module knows only the IR; running the chunks (threads, Dask) is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import IRRuntimeError
from ..ir import nodes as n
from ..ir import types as T
from ..ir.analysis import Fresh, free_vars, walk
from ..ir.deep import run_deep
from ..ir.interpret import combine, identity, interpret
from ..ir.typecheck import typecheck
from ..ir.values import Dictionary, hash_key

SPLITTABLE = (T.Appender, T.Merger, T.VecMerger, T.Scanner, T.DictMerger, T.GroupMerger)
_UFUNC = {"+": np.add, "*": np.multiply, "min": np.minimum, "max": np.maximum}


@dataclass
class Leaf:
    """One builder of a loop's (struct of) builders."""

    path: tuple[int, ...]
    ty: T.Builder
    init: n.Expr | None  # a merger's initial value, a vecmerger's initial vector


@dataclass
class Loop:
    """A partitionable loop and its chunk kernel."""

    iters: tuple[n.Expr, ...]
    leaves: list[Leaf]
    builder_ty: T.Type
    kernel: n.Expr  # |free..., lz_base, lz_n, (lz_lo_j, lz_hi_j)..., lz_init_k...| result(for(...))
    free: list[str]
    vinit: list[int]  # indexes into ``leaves`` of the vecmergers (each chunk gets an identity vector)
    operands: dict[n.Expr, n.Expr]  # iterator operands that are expressions -> |free names| operand
    sliceable: dict[str, list[int]]  # names read only as iterated vectors -> their iterators


@dataclass
class Statement:
    name: str | None  # the let name (None: a field of the body, or the body)
    expr: n.Expr
    free: list[str]
    loop: Loop | None = None
    program: n.Expr | None = None  # |free...| expr, for statements that run whole


@dataclass
class Plan:
    params: list[str]
    types: dict[str, T.Type]
    statements: list[Statement]
    fields: bool  # the body is a struct of statements (True) or one statement (False)

    @property
    def loops(self) -> int:
        """How many statements are split loops."""
        return sum(st.loop is not None for st in self.statements)


def plan(program: n.Expr) -> Plan | None:
    """The statements of a typed, optimized program, or ``None`` when it cannot be staged (a
    builder value would have to pass between statements)."""
    return run_deep(_plan, program)  # the walks recurse: deep programs get a big stack


def _plan(program: n.Expr) -> Plan | None:
    types: dict[str, T.Type] = {p: ty for p, ty in program.params}
    chain: list[tuple[str | None, n.Expr]] = []
    e = _lets_out(program.body)
    while e.op == n.LET:
        lets = _lets_out(e.src[0])
        while lets.op == n.LET:  # a let's value that is itself a let chain: its lets come first
            chain.append((lets.arg, lets.src[0]))
            lets = _lets_out(lets.src[1])
        chain.append((e.arg, lets))
        e = _lets_out(e.src[1])
    as_fields = e.op == n.STRUCT and not e.ty.is_builder and len(e.src) > 0
    chain += [(None, f) for f in e.src] if as_fields else [(None, e)]
    names = [nm for nm, _ in chain if nm is not None]
    if len(set(names)) != len(names) or set(names) & set(types):
        return None  # shadowing: keep it simple, run whole
    statements: list[Statement] = []
    builders: dict[str, n.Expr] = {}  # builder-valued names -> their new (result-typed) names
    for name, value in chain:
        if builders:
            value = _results_of(value, builders)
            if value is None:
                return None
        free = sorted(free_vars(value))
        if not all(_passable(types[f]) for f in free):
            return None  # a dictionary would have to pass between statements
        loop = _loop(value, free, types)
        if value.ty.is_builder:
            if name is None or loop is None:
                return None
            value = n.Expr(n.RESULT, (value,), None, T.result_type(value.ty))
            builders[name] = n.ident(name, value.ty)
        st = Statement(name, value, free, loop)
        if loop is None:
            params = [(f, types[f]) for f in free]
            st.program = typecheck(n.lam(params, value))
        statements.append(st)
        if name is not None:
            types[name] = value.ty
    return Plan([p for p, _ in program.params], types, statements, as_fields)


def _passable(ty: T.Type) -> bool:
    """Whether compiled programs take (and give) values of type ``ty`` as NumPy values."""
    if isinstance(ty, T.Scalar):
        return True
    if isinstance(ty, T.Vec):
        return _passable(ty.elem)
    if isinstance(ty, T.Struct):
        return not ty.is_builder and all(_passable(f) for f in ty.fields)
    return False


def _lets_out(e: n.Expr) -> n.Expr:
    """``result(let x = v; b)`` as ``let x = v; result(b)`` (lets moved out of ``result``)."""
    if e.op == n.RESULT and e.src[0].op == n.LET:
        inner = e.src[0]
        body = _lets_out(n.Expr(n.RESULT, (inner.src[1],), None, e.ty))
        return n.Expr(n.LET, (inner.src[0], body), inner.arg, e.ty)
    return e


def _results_of(e: n.Expr, builders: dict[str, n.Expr]) -> n.Expr | None:
    """``e`` with ``result(b)``/``result(b.$k...)`` of a builder-valued name ``b`` replaced by
    the matching fields of ``b``'s result; ``None`` if ``b`` is used any other way."""
    memo: dict[n.Expr, n.Expr | None] = {}

    def go(x: n.Expr) -> n.Expr | None:
        if x in memo:
            return memo[x]
        out: n.Expr | None
        if x.op == n.RESULT:
            path, base = [], x.src[0]
            while base.op == n.GETFIELD:
                path.append(base.arg)
                base = base.src[0]
            if base.op == n.IDENT and base.arg in builders:
                out = builders[base.arg]
                for k in reversed(path):
                    out = n.Expr(n.GETFIELD, (out,), k, out.ty.fields[k])
                memo[x] = out
                return out
        if x.op == n.IDENT and x.arg in builders:
            out = None
        else:
            src = []
            out = x
            for s in x.src:
                y = go(s)
                if y is None:
                    out = None
                    break
                src.append(y)
            if out is not None and tuple(src) != x.src:
                out = x.replace(src=tuple(src))
        memo[x] = out
        return out

    return go(e)


def _operand_ok(x: n.Expr, position: int) -> bool:
    """Iterator operands the caller can pass or work out: the vector is a name; starts, ends and
    strides are scalar expressions without loops (evaluated once, before the chunks run)."""
    if position == 0 and isinstance(x.ty, T.Vec):
        return _named(x)
    return isinstance(x.ty, T.Scalar) and not uses_loops(x)


def _named(x: n.Expr) -> bool:
    """A name, or fields of one."""
    while x.op == n.GETFIELD:
        x = x.src[0]
    return x.op == n.IDENT


def _leaves(b: n.Expr, path: tuple[int, ...] = ()) -> list[Leaf] | None:
    if b.op == n.STRUCT:
        out: list[Leaf] = []
        for k, f in enumerate(b.src):
            sub = _leaves(f, (*path, k))
            if sub is None:
                return None
            out += sub
        return out
    if b.op != n.NEWBUILDER or not isinstance(b.arg, SPLITTABLE):
        return None
    ty = b.arg
    init = None
    if isinstance(ty, (T.Merger, T.VecMerger)) and b.src:
        init = b.src[0]
        if init.op not in (n.IDENT, n.LIT):
            return None
    if isinstance(ty, T.VecMerger) and not isinstance(ty.elem, T.Scalar):
        return None
    return [Leaf(path, ty, init)]


def _loop(value: n.Expr, free: list[str], types: dict[str, T.Type]) -> Loop | None:
    f = value.src[0] if value.op == n.RESULT else value
    if f.op != n.FOR:
        return None
    iters, builder, func = n.for_parts(f)
    leaves = _leaves(builder)
    if not leaves or not all(_operand_ok(s, j) for it in iters for j, s in enumerate(it.src)):
        return None
    fresh = Fresh(value)
    base, count = fresh("lz_base"), fresh("lz_n")
    bounds = [(fresh("lz_lo"), fresh("lz_hi")) for _ in iters]
    vinit = [k for k, leaf in enumerate(leaves) if isinstance(leaf.ty, T.VecMerger)]
    vnames = {k: fresh("lz_init") for k in vinit}
    new_iters = []
    for it, (lo, hi) in zip(iters, bounds, strict=True):
        lo_e, hi_e = n.ident(lo, T.I64), n.ident(hi, T.I64)
        if it.arg == "range":
            new_iters.append(n.rangeiter(lo_e, hi_e, it.src[2]))
        else:
            stride = it.src[3] if it.arg == "iter" else n.lit(1, T.I64)
            new_iters.append(n.iter_(it.src[0], lo_e, hi_e, stride))

    def fresh_builder(b: n.Expr, path: tuple[int, ...]) -> n.Expr:
        if b.op == n.STRUCT:
            return n.make_struct(*[fresh_builder(x, (*path, k)) for k, x in enumerate(b.src)])
        k = next(j for j, leaf in enumerate(leaves) if leaf.path == path)
        ty = b.arg
        if isinstance(ty, T.VecMerger):
            return n.new_builder(ty, n.ident(vnames[k], T.Vec(ty.elem)))
        if isinstance(ty, (T.Merger, T.DictMerger, T.GroupMerger)):
            return n.new_builder(ty)
        return n.new_builder(ty, n.ident(count, T.I64))  # appender, scanner: room for the chunk

    (bname, bty), (iname, ity), (ename, ety) = func.params
    local_i = fresh("i")
    body = n.let(iname, n.binop("+", n.ident(local_i, T.I64), n.ident(base, T.I64)), func.body)
    new_func = n.lam([(bname, None), (local_i, T.I64), (ename, None)], body)
    loop = n.result(n.for_(new_iters, fresh_builder(builder, ()), new_func))
    params = [(nm, types[nm]) for nm in free]
    params += [(base, T.I64), (count, T.I64)]
    params += [(x, T.I64) for pair in bounds for x in pair]
    params += [(vnames[k], T.Vec(leaves[k].ty.elem)) for k in vinit]
    kernel = typecheck(n.lam(params, loop))
    operands = {
        x: typecheck(n.lam([(nm, types[nm]) for nm in sorted(free_vars(x))], x))
        for it in iters
        for x in it.src
        if x.op != n.LIT and not _named(x) and not (x.op == n.LEN and _named(x.src[0]))
    }
    read = set(free_vars(builder)) | set(free_vars(func))
    for it in iters:
        read |= {nm for x in (it.src if it.arg == "range" else it.src[1:]) for nm in free_vars(x)}
    sliceable: dict[str, list[int]] = {}
    for j, it in enumerate(iters):
        if it.arg != "range" and it.src[0].op == n.IDENT and it.src[0].arg not in read:
            sliceable.setdefault(it.src[0].arg, []).append(j)
    return Loop(tuple(iters), leaves, builder.ty, kernel, free, vinit, operands, sliceable)


# -- iteration counts and chunk bounds ------------------------------------------------------------
def _value(x: n.Expr, env: dict[str, Any], operands: dict[n.Expr, n.Expr] | None = None) -> Any:
    """An iterator operand's value (or an initial value of a builder)."""
    if x.op == n.LIT:
        return x.arg
    if _named(x):
        path = []
        while x.op == n.GETFIELD:
            path.append(x.arg)
            x = x.src[0]
        return _at(env[x.arg], tuple(reversed(path)))
    if x.op == n.LEN and _named(x.src[0]):
        return len(_value(x.src[0], env))
    if x.op == n.BINOP and x.arg in _INT_OPS and x.ty in _WRAP:
        # integer arithmetic on lengths and literals (``len(v) - 1L``): here, not in the
        # interpreter, which would convert every vector argument first
        a, b = (_value(y, env, operands) for y in x.src)
        bits = _WRAP[x.ty]
        return (_INT_OPS[x.arg](int(a), int(b)) + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))
    assert operands is not None
    program = operands[x]  # worked out in ``plan``: |free names| x
    return interpret(program, *[_here(env[nm]) for nm, _ in program.params])


#: Integer operators on iterator operands (wrapping, as the IR's arithmetic does).
_INT_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "min": min, "max": max}
_WRAP = {T.I64: 64, T.I32: 32}


def _here(value: Any) -> Any:
    """A value in this process's memory (a vector that lies elsewhere converts to NumPy)."""
    if isinstance(value, (np.ndarray, np.generic, list, tuple, int, float, bool, Dictionary)):
        return value
    return np.asarray(value) if hasattr(value, "__array__") else value


def iteration_count(loop: Loop, env: dict[str, Any]) -> tuple[int, list[tuple[int, int]]]:
    """The loop's iteration count and each iterator's ``(start, stride)``; the errors the loop
    itself would raise for invalid iterators or a zip of unequal lengths."""
    count: int | None = None
    shapes = []
    for it in loop.iters:
        vals = [_value(s, env, loop.operands) for s in it.src]
        if it.arg == "vec":
            c, start, end, stride = len(vals[0]), 0, len(vals[0]), 1
        elif it.arg == "iter":
            v, start, end, stride = vals[0], int(vals[1]), int(vals[2]), int(vals[3])
            if start < 0 or start > end or end > len(v) or stride <= 0:
                raise IRRuntimeError("iter bounds outside the vector or stride <= 0")
            c = -(-(end - start) // stride)
        else:
            start, end, stride = (int(x) for x in vals)
            if stride <= 0:
                raise IRRuntimeError("iter bounds outside the vector or stride <= 0")
            c = max(0, -(-(end - start) // stride))
            end = max(start, end)
        if count is not None and c != count:
            raise IRRuntimeError("zip of vectors of unequal lengths")
        count = c
        shapes.append((start, stride, end))
    return count or 0, shapes


def chunk_args(
    loop: Loop, env: dict[str, Any], shapes: list, lo: int, hi: int, slice_vectors: bool = False
) -> list[Any]:
    """The kernel's arguments for iterations ``[lo, hi)``. With ``slice_vectors``, vectors the
    loop only iterates are cut to the part the chunk reads (what a remote worker needs)."""
    bounds = []
    for start, stride, end in shapes:
        if hi > lo:  # elements start + k * stride for k in [lo, hi): all below end
            bounds.append([start + lo * stride, start + (hi - 1) * stride + 1])
        else:
            bounds.append([end, end])
    values = {nm: env[nm] for nm in loop.free}
    if slice_vectors:
        for nm, js in loop.sliceable.items():
            offset, stop = min(bounds[j][0] for j in js), max(bounds[j][1] for j in js)
            values[nm] = values[nm][offset:stop]
            for j in js:
                bounds[j] = [bounds[j][0] - offset, bounds[j][1] - offset]
    args = [values[nm] for nm in loop.free]
    args += [np.int64(lo), np.int64(hi - lo)]
    for first, stop in bounds:
        args += [np.int64(first), np.int64(stop)]
    for k in loop.vinit:  # a vecmerger always has its initial vector (the type checker says so)
        leaf = loop.leaves[k]
        length = len(_value(leaf.init, env))
        args.append(np.full(length, identity(leaf.ty.op, leaf.ty.elem), dtype=leaf.ty.elem.numpy))
    return args


def chunks(count: int, parts: int, min_chunk: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` bounds: at most ``parts`` chunks of at least ``min_chunk`` iterations."""
    k = max(1, min(parts, count // max(1, min_chunk)))
    return [(count * j // k, count * (j + 1) // k) for j in range(k)]


# -- merging partial results ----------------------------------------------------------------------
def merge(loop: Loop, partials: list[Any], env: dict[str, Any]) -> Any:
    """The loop's result from its chunks' results (in chunk order)."""
    return finish(loop, combine_partials(loop.leaves, loop.builder_ty, partials), env)


def _at(value: Any, path: tuple[int, ...]) -> Any:
    for k in path:
        value = value[k]
    return value


def _rebuild(ty: T.Type, leaves: dict[tuple[int, ...], Any], path: tuple[int, ...] = ()) -> Any:
    if isinstance(ty, T.Struct):
        return tuple(_rebuild(f, leaves, (*path, k)) for k, f in enumerate(ty.fields))
    return leaves[path]


def combine_partials(leaves: list[Leaf], builder_ty: T.Type, parts: list[Any]) -> Any:
    """Consecutive chunks' partial results as one partial result (associative: a tree of these
    gives what one left-to-right pass gives, so Dask may combine pairs wherever they are)."""
    if len(parts) == 1:
        return parts[0]
    merged = {leaf.path: _combine_leaf(leaf.ty, [_at(p, leaf.path) for p in parts]) for leaf in leaves}
    return _rebuild(builder_ty, merged)


def finish(loop: Loop, partial: Any, env: dict[str, Any]) -> Any:
    """The loop's result from the partial result of all its iterations: initial values apply."""
    merged = {}
    with np.errstate(all="ignore"):
        for leaf in loop.leaves:
            value = _at(partial, leaf.path)
            if leaf.init is not None and isinstance(leaf.ty, T.Merger):
                value = combine(leaf.ty.op, _value(leaf.init, env), value, leaf.ty.elem)
            elif leaf.init is not None and isinstance(leaf.ty, T.VecMerger):
                init = np.asarray(_value(leaf.init, env), dtype=leaf.ty.elem.numpy)
                value = _UFUNC[leaf.ty.op](init, value, dtype=leaf.ty.elem.numpy)
            merged[leaf.path] = value
    return _rebuild(loop.builder_ty, merged)


def _combine_dicts(ty: T.DictMerger | T.GroupMerger, parts: list[Dictionary]) -> Dictionary:
    """Dictionaries by key, in chunk order: a key keeps its first position; a dictmerger's values
    combine with its operator, a groupmerger's groups concatenate (merge order kept)."""
    index: dict[Any, int] = {}
    keys: list[Any] = []
    values: list[Any] = []
    group = isinstance(ty, T.GroupMerger)
    for d in parts:
        for k, v in zip(d.keys, d.values, strict=True):
            h = hash_key(k, ty.key)
            j = index.get(h)
            if j is None:
                index[h] = len(keys)
                keys.append(k)
                values.append(v)
            elif group:
                values[j] = np.concatenate([values[j], v]) if isinstance(v, np.ndarray) else values[j] + v
            else:
                values[j] = combine(ty.op, values[j], v, ty.value)
    first = parts[0]
    out_keys = np.array(keys, dtype=first.keys.dtype) if isinstance(first.keys, np.ndarray) else keys
    out_values = values if group else np.array(values, dtype=first.values.dtype)
    return Dictionary(out_keys, out_values)


def _combine_leaf(ty: T.Builder, parts: list[Any]) -> Any:
    if isinstance(ty, (T.DictMerger, T.GroupMerger)):
        return _combine_dicts(ty, parts)
    with np.errstate(all="ignore"):
        if isinstance(ty, T.Appender):
            if isinstance(parts[0], list):
                return [x for p in parts for x in p]
            return np.concatenate(parts)
        if isinstance(ty, T.Merger):
            acc = parts[0]
            for p in parts[1:]:
                acc = combine(ty.op, acc, p, ty.elem)
            return acc
        ufunc = _UFUNC[ty.op]
        if isinstance(ty, T.VecMerger):
            acc = parts[0]
            for p in parts[1:]:
                acc = ufunc(acc, p, dtype=ty.elem.numpy)
            return acc
        out, running = [], None  # scanner: later chunks continue from the running value
        for p in parts:
            if running is not None and len(p):
                p = ufunc(running, p, dtype=ty.elem.numpy)
            if len(p):
                running = p[-1]
            out.append(p)
        return np.concatenate(out)


def uses_loops(e: n.Expr) -> bool:
    return any(x.op in (n.FOR, n.SORT) for x in walk(e))
