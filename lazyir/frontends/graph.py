"""The lazy value graph shared by the frontends, and its evaluation as one IR program.

A ``Node`` is one captured library call: its inputs (other nodes), its result's NumPy dtype and
shape, how to write it in IR (``build``: IR expressions of the inputs -> IR expression of the
result) and how to compute it eagerly with the real library (``eager``: input values -> value).
A node whose value is known (an input array, or a node evaluated before) is a leaf: it becomes a
parameter of the program.

``evaluate(nodes)`` assembles every node the requested ones need into one program: leaves are the
parameters (in order of first use), every other node a ``let`` (in dependency order), the result a
struct of the requested nodes. Names are positional, so the same computation over other arrays of
the same kinds is the same program, and compiles once. The optimizer then inlines the ``let``s and
fuses the loops. Small inputs run eagerly instead (``config.eager_threshold``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import engine
from ..config import config
from ..ir import nodes as n
from ..ir import types as T

Build = Callable[[list[n.Expr]], n.Expr]


class Node:
    """One lazy value: a library call on other lazy values, or a known value (a leaf)."""

    __slots__ = ("inputs", "build", "eager", "dtype", "shape", "value", "label", "elem", "remote", "__weakref__")

    def __init__(
        self,
        inputs: Sequence[Node],
        build: Build | None,
        eager: Callable[..., Any],
        dtype: np.dtype,
        shape: tuple,
        label: str = "",
    ):
        self.inputs = tuple(inputs)
        self.build = build
        self.eager = eager
        self.dtype = np.dtype(dtype)
        self.shape = shape
        self.value: Any = None
        self.label = label
        #: For elementwise nodes and gathers: ``elem(getters, k)``, the element at flat index ``k``
        #: given ``getters[j](index)``, the element of input ``j`` (a reader may compose it into
        #: its own loop instead of reading the node from memory).
        self.elem: Callable[[list[Callable[[n.Expr], n.Expr]], n.Expr], n.Expr] | None = None
        #: A Dask array this opaque node stands for: passed as it is to a Dask client scheduler
        #: (its blocks stay where they lie), computed with Dask for any other evaluation.
        self.remote: Any = None

    @classmethod
    def leaf(cls, value: np.ndarray | np.generic) -> Node:
        node = cls((), None, _no_eager, value.dtype, tuple(np.shape(value)), "input")
        node.value = value
        return node

    @classmethod
    def of_dask(cls, array: Any) -> Node:
        """An opaque node for a Dask array (see ``remote``)."""
        node = cls((), None, lambda: np.asarray(array), array.dtype, tuple(array.shape), "dask array")
        node.remote = array
        return node

    @property
    def known(self) -> bool:
        return self.value is not None

    def set_value(self, value: Any) -> None:
        """Make this node a leaf holding ``value``; its inputs can be freed."""
        self.value = value
        self.inputs = ()
        self.build = None
        self.eager = _no_eager
        self.elem = None
        self.remote = None

    def __repr__(self) -> str:
        state = "known" if self.known else "lazy"
        return f"<Node {self.label} {self.dtype} {self.shape} {state}>"


def is_dask_array(x: Any) -> bool:
    """A Dask array of known shape (without importing Dask)."""
    if not (hasattr(x, "__dask_graph__") and hasattr(x, "chunks") and hasattr(x, "dtype")):
        return False
    shape = getattr(x, "shape", ())
    return len(shape) > 0 and not any(math.isnan(d) for d in shape)


def _on_cluster() -> bool:
    """Whether evaluations go to a Dask client (which reads Dask arrays where they lie)."""
    return config.options.scheduler not in ("threads", "sync")


def _no_eager(*_: Any) -> Any:  # pragma: no cover - leaves are never recomputed
    raise AssertionError("a leaf has no computation")


def ir_scalar(dtype: np.dtype) -> T.Scalar:
    return T.scalar_of_dtype(dtype)


def ir_type(node: Node) -> T.Type:
    """A 0-d value is an IR scalar; any other shape is the C-ordered ``vec`` of its elements."""
    s = ir_scalar(node.dtype)
    return s if node.shape == () else T.Vec(s)


def order(roots: Sequence[Node]) -> tuple[list[Node], list[Node]]:
    """``(leaves, computed)``: the known (or opaque) nodes the roots need, in order of first use,
    and the others in dependency order (inputs first). Iterative: graphs can be deep."""
    leaves: list[Node] = []
    computed: list[Node] = []
    seen: set[int] = set()
    for root in roots:
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                computed.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.known or node.build is None:  # opaque nodes are parameters of the program
                leaves.append(node)
                continue
            stack.append((node, True))
            for inp in reversed(node.inputs):
                if id(inp) not in seen:
                    stack.append((inp, False))
    return leaves, computed


def program(roots: Sequence[Node]) -> tuple[n.Expr, list[Node]]:
    """The IR program computing ``roots`` and its leaves (the arguments, in parameter order)."""
    leaves, computed = order(roots)
    names: dict[int, n.Expr] = {}
    params = []
    unique: list[Node] = []
    same: dict[tuple, n.Expr] = {}
    for leaf in leaves:
        key = _memory_key(leaf)
        if key is not None and key in same:  # the same elements as an earlier leaf: one parameter
            names[id(leaf)] = same[key]
            continue
        ty = ir_type(leaf)
        name = f"a{len(unique)}"
        names[id(leaf)] = n.ident(name, ty)
        params.append((name, ty))
        unique.append(leaf)
        if key is not None:
            same[key] = names[id(leaf)]
    leaves = unique
    lets = []
    for j, node in enumerate(computed):
        assert node.build is not None, node
        value = node.build([names[id(i)] for i in node.inputs])
        lets.append((f"t{j}", value))
        names[id(node)] = n.ident(f"t{j}")
    outs = [names[id(r)] for r in roots]
    body = outs[0] if len(outs) == 1 else n.make_struct(*outs)
    for name, value in reversed(lets):
        body = n.let(name, value, body)
    return n.lam(params, body), leaves


def _memory_key(leaf: Node) -> tuple | None:
    """Leaves with equal keys pass the same vector: C-ordered arrays over the same memory (such as
    ``x`` and the transpose of ``x.T``), which programs may then read in one pass."""
    v = leaf.value
    if leaf.shape == () or not isinstance(v, np.ndarray) or not v.flags.c_contiguous:
        return None
    return (v.__array_interface__["data"][0], v.size, v.dtype.str)


def arguments(leaves: Sequence[Node]) -> list[Any]:
    """The arrays passed for the leaves: C-ordered, flattened (0-d values as scalars)."""
    out = []
    for leaf in leaves:
        v = leaf.value
        if v is None and leaf.remote is not None:
            out.append(leaf.remote)  # the Dask client's business
        elif leaf.shape == ():
            out.append(np.asarray(v)[()])
        else:
            out.append(np.ascontiguousarray(v).reshape(-1))
    return out


def _small(leaves: Sequence[Node], computed: Sequence[Node]) -> bool:
    limit = config.options.eager_threshold
    if limit <= 0:
        return False
    for group in (leaves, computed):
        for x in group:
            if math.prod(x.shape) >= limit:
                return False
    return True


def _eager(computed: Sequence[Node]) -> None:
    """Compute the nodes with NumPy. Floating-point warnings are off, as in compiled code."""
    with np.errstate(all="ignore"):
        for node in computed:
            node.set_value(node.eager(*[i.value for i in node.inputs]))


def evaluate(roots: Sequence[Node]) -> list[Any]:
    """Compute the roots (each once, in one program) and make them leaves; their values.

    Opaque nodes (no IR: a step the real library runs, such as a BLAS matrix product) split the
    work: what they read is computed first (one program), then they run, then the rest."""
    todo = [r for r in dict.fromkeys(roots) if not r.known]
    if todo:
        leaves, computed = order(todo)
        cluster = _on_cluster()
        opaque = [m for m in leaves if not m.known and not (cluster and m.remote is not None)]
        if opaque:
            evaluate([i for m in opaque for i in m.inputs])
            with np.errstate(all="ignore"):
                for m in opaque:
                    if not m.known:
                        m.set_value(m.eager(*[i.value for i in m.inputs]))
            return evaluate(roots)
        if _small(leaves, computed):
            for m in leaves:
                if not m.known:  # a Dask array: small enough to fetch
                    m.set_value(m.eager())
            _eager(computed)
        else:
            prog, leaves = program(todo)
            fn = engine.compile(prog)
            out = fn(*arguments(leaves))
            values = [out] if len(todo) == 1 else list(out)
            seen = [leaf.value for leaf in leaves if isinstance(leaf.value, np.ndarray)]
            for node, value in zip(todo, values, strict=True):
                value = _shaped(value, node)
                if isinstance(value, np.ndarray) and any(np.may_share_memory(value, v) for v in seen):
                    value = value.copy()  # each lazy array owns its memory (writes must not leak)
                seen.append(value)
                node.set_value(value)
    return [r.value for r in roots]


def _shaped(value: Any, node: Node) -> Any:
    if node.dtype == object:  # a frontend's own kind of result (the hash tables of a group-by)
        return value
    if node.shape == ():
        return node.dtype.type(value)
    arr = np.asarray(value)
    assert arr.dtype == node.dtype, (arr.dtype, node.dtype, node)
    return arr.reshape(node.shape)
