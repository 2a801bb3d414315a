"""Hypothesis strategies for random, well-typed lazyir programs and matching inputs.

The main entry point is :func:`programs`, which yields ``(program, args)``: ``program`` is a typed
root lambda ``|p0: T0, p1: T1, ...| body`` and ``args`` holds one NumPy value per parameter
(NumPy scalars for scalar parameters, 1-d arrays of the exact dtype for vector parameters; all
vector parameters of one program share one length, so they can be zipped).

Generation is recursive over types, never by filtering: ``_Gen.expr(ty, env, depth)`` builds an
expression of the requested type from the variables in ``env`` and stops at ``depth`` 0 with a
leaf (a literal or a variable). Everything that can fail at run time is guarded so that generated
programs only run in the defined part of the semantics of docs/ir.md:

- vector lookups are ``if(len(v) > 0L, lookup(v, (k % len(v) + len(v)) % len(v)), default)``;
- slices start in ``[0, len]`` and have a size in ``[0, 20]`` (or ``len``);
- ``iter(v, s, e, st)`` has ``0 <= s <= e <= len(v)`` and ``st`` in 1..3;
- zipped iterators have equal lengths (the program's vector parameters, which share a length,
  ``rangeiter`` over the same bounds, or one vector zipped with itself);
- ``vecmerger`` indices are reduced modulo the length of the initial vector (merging only when it
  is non-empty);
- dictionary ``lookup`` is guarded by ``keyexists``; keys come from small domains (``x % 7``,
  small literals) so that they collide, and float keys include ``-0.0``, ``0.0`` and NaN;
- mergers never combine ``bool`` values; ``rangeiter`` runs at most a few dozen times.

Building blocks exported for other tests: :data:`scalar_types`, :func:`values_of`,
:func:`lengths`, :func:`scalar_exprs`, :func:`expr_of_type` and :func:`subexpressions`.
:func:`random_program` makes the same programs from a seeded ``random.Random`` (no Hypothesis),
for seeded independent samples (coverage tallies, fuzzing scripts).

Sizes: ``max_depth`` 4 (the default) gives programs of about 50 nodes on average and a few hundred
at most; much deeper settings make Hypothesis examples large and slow.
"""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from lazyir.ir import nodes as n
from lazyir.ir.nodes import (
    Expr,
    binop,
    call,
    cast,
    for_,
    getfield,
    ident,
    if_,
    iter_,
    iter_vec,
    lam,
    let,
    lit,
    make_struct,
    merge,
    new_builder,
    rangeiter,
    result,
    select,
    unop,
    vector,
)
from lazyir.ir.typecheck import typecheck
from lazyir.ir.types import (
    BOOL,
    FLOATS,
    I32,
    I64,
    MERGE_OPS,
    SCALARS,
    Appender,
    Builder,
    Dict,
    DictMerger,
    GroupMerger,
    Merger,
    Scalar,
    Scanner,
    Struct,
    Type,
    Vec,
    VecMerger,
    is_scalar_struct,
)

__all__ = [
    "MAX_LEN",
    "NUMERIC_TYPES",
    "SCALAR_TYPES",
    "expr_of_type",
    "lengths",
    "programs",
    "random_program",
    "scalar_exprs",
    "scalar_types",
    "special_values",
    "subexpressions",
    "values_of",
]

#: Every scalar type, in a fixed order.
SCALAR_TYPES: tuple[Scalar, ...] = tuple(SCALARS.values())
#: The scalar types mergers can combine (everything but ``bool``).
NUMERIC_TYPES: tuple[Scalar, ...] = tuple(t for t in SCALAR_TYPES if not t.is_bool)
#: The longest vector argument :func:`programs` makes by default.
MAX_LEN = 20

#: A strategy for a scalar type.
scalar_types: st.SearchStrategy[Scalar] = st.sampled_from(SCALAR_TYPES)


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def _int_bounds(ty: Scalar) -> tuple[int, int]:
    if ty.is_signed:
        return -(1 << (ty.bits - 1)), (1 << (ty.bits - 1)) - 1
    return 0, (1 << ty.bits) - 1


def special_values(ty: Scalar) -> tuple[bool | int | float, ...]:
    """Python values of ``ty`` worth trying every time: 0, 1, -1, extremes, NaN, infinities..."""
    if ty.is_bool:
        return (False, True)
    if ty.is_int:
        lo, hi = _int_bounds(ty)
        vals: list[int] = [0, 1, hi, lo, 2, 7, hi - 1]
        if ty.is_signed:
            vals += [-1, lo + 1, -7]
        return tuple(dict.fromkeys(vals))
    info = np.finfo(ty.numpy)
    big, tiny, sub = float(info.max), float(info.tiny), float(info.smallest_subnormal)
    return (0.0, 1.0, -0.0, -1.0, math.nan, math.inf, -math.inf, 0.5, -2.5, big, -big, tiny, sub, 100.0)


_PY_VALUES: dict[Scalar, st.SearchStrategy[Any]] = {}


def _python_values(ty: Scalar) -> st.SearchStrategy[Any]:
    """Python ``bool``/``int``/``float`` values of ``ty`` (exactly representable in it)."""
    strat = _PY_VALUES.get(ty)
    if strat is None:
        if ty.is_bool:
            rand: st.SearchStrategy[Any] = st.booleans()
        elif ty.is_int:
            rand = st.integers(*_int_bounds(ty))
        else:
            rand = st.floats(width=ty.bits)  # type: ignore[arg-type]
        strat = _PY_VALUES[ty] = st.one_of(st.sampled_from(special_values(ty)), rand)
    return strat


def lengths(max_len: int = MAX_LEN) -> st.SearchStrategy[int]:
    """Vector lengths: 0 and 1 often, otherwise anything up to ``max_len``."""
    return st.one_of(st.sampled_from((0, 1)), st.integers(0, max_len))


def _np_struct_dtype(ty: Struct) -> np.dtype:
    return np.dtype([(f"f{k}", _np_dtype(f)) for k, f in enumerate(ty.fields)])


def _np_dtype(ty: Type) -> np.dtype:
    if isinstance(ty, Scalar):
        return ty.numpy
    if isinstance(ty, Struct) and is_scalar_struct(ty):
        return _np_struct_dtype(ty)
    raise NotImplementedError(f"no NumPy dtype for {ty}")


def _tuple_values(ty: Type) -> st.SearchStrategy[Any]:
    if isinstance(ty, Scalar):
        return _python_values(ty)
    assert isinstance(ty, Struct)
    return st.tuples(*(_tuple_values(f) for f in ty.fields))


def values_of(ty: Type, length: int | None = None, max_len: int = MAX_LEN) -> st.SearchStrategy[Any]:
    """Python-side values of IR type ``ty``, as the interpreter and compiled code take them.

    Scalars are NumPy scalars of the exact type; ``vec[T]`` (T a scalar or a struct of scalars) is
    a 1-d NumPy array (structured, fields ``f0, f1, ...``, for structs) of ``length`` elements, or
    of a length from :func:`lengths` when ``length`` is None; structs are tuples.
    """
    if isinstance(ty, Scalar):
        return _python_values(ty).map(ty.numpy.type)
    if isinstance(ty, Vec):
        dtype = _np_dtype(ty.elem)
        sizes = st.just(length) if length is not None else lengths(max_len)
        elems = _tuple_values(ty.elem)
        return sizes.flatmap(
            lambda size: st.lists(elems, min_size=size, max_size=size).map(lambda xs: np.array(xs, dtype=dtype))
        )
    if isinstance(ty, Struct):
        return st.tuples(*(values_of(f, max_len=max_len) for f in ty.fields))
    raise NotImplementedError(f"no value strategy for {ty}")


# --------------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------------


def _numeric_struct(t: Type) -> bool:
    """A non-bool scalar or a struct of them: what merger-like builders combine."""
    if isinstance(t, Scalar):
        return not t.is_bool
    return isinstance(t, Struct) and bool(t.fields) and all(_numeric_struct(f) for f in t.fields)


def _is_key(t: Type) -> bool:
    return is_scalar_struct(t) and not (isinstance(t, Struct) and not t.fields)


def _dict_value_ok(t: Type) -> bool:
    """Values a dictmerger (numeric scalars/structs) or a groupmerger (``vec[V]``) produces."""
    if isinstance(t, Vec):
        return not t.elem.is_builder and not isinstance(t.elem, Vec)
    return _numeric_struct(t)


def _buildable(t: Type) -> bool:
    """Whether some builder (or struct of builders) has result type ``t``."""
    if isinstance(t, Scalar):
        return not t.is_bool
    if isinstance(t, Vec):
        return not t.elem.is_builder
    if isinstance(t, Dict):
        return _is_key(t.key) and _dict_value_ok(t.value)
    if isinstance(t, Struct):
        return bool(t.fields) and all(_buildable(f) for f in t.fields)
    return False


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Var:
    """A name in scope while generating."""

    ty: Type
    shared: bool = False  # a vector parameter: all of them have one length
    pinned: bool = False  # referred to from nested scopes (guards, the loop's builder): never shadowed


Env = dict[str, _Var]


@dataclass(frozen=True)
class _BSpec:
    """A builder being filled in a loop."""

    ty: Type  # a Builder, or a Struct of builders
    length: Expr | None = None  # vecmerger: i64 expression for the length of its vector
    fields: tuple[_BSpec, ...] = ()  # struct of builders: one spec per field


Lets = list[tuple[str, Expr]]

_INDEX_STRATEGIES: dict[int, st.SearchStrategy[int]] = {}

#: Scalar types drawn for sub-expressions: all of them, floats (the common case) more often.
_WEIGHTED_SCALARS = SCALAR_TYPES + FLOATS * 2

#: The unary operators of float operands: all but ``!``.
_FLOAT_OPERAND_UNOPS = tuple(op for op in n.UNOPS if op != "!")

_ZERO = lit(0, I64)
_ONE = lit(1, I64)


def _wrap(lets: Lets, body: Expr) -> Expr:
    for name, value in reversed(lets):
        body = let(name, value, body)
    return body


def _nonneg_mod(k: Expr, m: Expr) -> Expr:
    """``(k % m + m) % m``: in ``[0, m)`` for ``m > 0`` (no overflow for small ``m``)."""
    return binop("%", binop("+", binop("%", k, m), m), m)


class _HypothesisSource:
    """Choices drawn by Hypothesis (shrinkable, replayable)."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]):
        self.draw = draw

    def index(self, size: int) -> int:
        strat = _INDEX_STRATEGIES.get(size)
        if strat is None:
            strat = _INDEX_STRATEGIES[size] = st.integers(0, size - 1)
        return self.draw(strat)

    def value(self, ty: Scalar) -> Any:
        return self.draw(_python_values(ty))

    def length(self, max_len: int) -> int:
        return self.draw(lengths(max_len))

    def arg(self, ty: Type, length: int) -> Any:
        return self.draw(values_of(ty, length=length))


class _RandomSource:
    """Choices from a seeded ``random.Random``: independent samples without Hypothesis' engine."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def index(self, size: int) -> int:
        return self.rng.randrange(size)

    def value(self, ty: Scalar) -> Any:
        rng = self.rng
        if ty.is_bool:
            return rng.random() < 0.5
        if rng.random() < 0.3:
            return rng.choice(special_values(ty))
        if ty.is_int:
            lo, hi = _int_bounds(ty)
            if rng.random() < 0.5:
                return min(max(rng.randint(-100, 100), lo), hi)
            return rng.randint(lo, hi)
        if rng.random() < 0.5:
            x = rng.uniform(-100.0, 100.0)
            return float(np.float32(x)) if ty.bits == 32 else x
        # any bit pattern: huge, tiny, subnormal, inf, NaN
        fmt = "<f" if ty.bits == 32 else "<d"
        x = struct.unpack(fmt, rng.getrandbits(ty.bits).to_bytes(ty.bits // 8, "little"))[0]
        return math.nan if math.isnan(x) else x

    def length(self, max_len: int) -> int:
        return self.rng.choice((0, 1)) if self.rng.random() < 0.3 else self.rng.randint(0, max_len)

    def arg(self, ty: Type, length: int) -> Any:
        if isinstance(ty, Scalar):
            return ty.numpy.type(self.value(ty))
        assert isinstance(ty, Vec) and isinstance(ty.elem, Scalar), ty
        return np.array([self.value(ty.elem) for _ in range(length)], dtype=ty.elem.numpy)


class _Gen:
    """One program's worth of generation state; ``source`` makes the random choices."""

    def __init__(self, source: _HypothesisSource | _RandomSource, max_loops: int = 2):
        self.source = source
        self.max_loops = max_loops
        self.loops = 0  # loops enclosing the point being generated
        self.unary_budget = 30  # unary operators and casts that may still be free of depth
        self.counter = 0

    # ---- choices ----------------------------------------------------------------------------
    def index(self, size: int) -> int:
        return self.source.index(size) if size > 1 else 0

    def one(self, seq: Sequence[Any]) -> Any:
        return seq[self.index(len(seq))]

    def chance(self, percent: int) -> bool:
        """True with about ``percent`` % probability (and when shrunk)."""
        return self.index(100) < percent

    def pick(self, *options: tuple[int, str]) -> str:
        """One of the names, by weight; shrinks towards the first option."""
        live = [(w, name) for w, name in options if w > 0]
        k = self.index(sum(w for w, _ in live))
        for w, name in live:
            if k < w:
                return name
            k -= w
        raise AssertionError("unreachable")

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # ---- types ------------------------------------------------------------------------------
    def scalar_type(self) -> Scalar:
        return self.one(_WEIGHTED_SCALARS)

    def numeric_type(self) -> Scalar:
        return self.one(NUMERIC_TYPES)

    def elem_type(self) -> Type:
        if self.pick((6, "scalar"), (1, "struct")) == "scalar":
            return self.scalar_type()
        return Struct((self.scalar_type(), self.scalar_type()))

    def key_type(self) -> Type:
        if self.pick((8, "scalar"), (1, "struct")) == "scalar":
            return self.scalar_type()
        return Struct((self.scalar_type(), self.scalar_type()))

    def dict_value_type(self) -> Type:
        form = self.pick((6, "scalar"), (2, "group"), (1, "struct"))
        if form == "scalar":
            return self.numeric_type()
        if form == "group":
            return Vec(self.scalar_type())
        return Struct((self.numeric_type(), self.numeric_type()))

    def value_type(self) -> Type:
        """Types of let-bound values."""
        form = self.pick((6, "scalar"), (3, "vec"), (1, "struct"), (1, "dict"))
        if form == "scalar":
            return self.scalar_type()
        if form == "vec":
            return Vec(self.elem_type())
        if form == "struct":
            return Struct(tuple(self.scalar_type() for _ in range(1 + self.index(3))))
        return Dict(self.key_type(), self.dict_value_type())

    def result_type(self) -> Type:
        """Types of program bodies."""
        form = self.pick((4, "scalar"), (4, "vec"), (1, "struct"), (2, "dict"), (1, "group"), (1, "mixed"), (1, "pair"))
        if form == "scalar":
            return self.scalar_type()
        if form == "vec":
            return Vec(self.elem_type())
        if form == "struct":
            return Struct(tuple(self.scalar_type() for _ in range(1 + self.index(3))))
        if form == "dict":
            return Dict(self.key_type(), self.numeric_type())
        if form == "group":
            return Dict(self.key_type(), Vec(self.scalar_type()))
        if form == "mixed":
            return Struct((Vec(self.scalar_type()), self.numeric_type()))
        return Struct((Dict(self.key_type(), self.numeric_type()), Vec(self.scalar_type())))

    # ---- scopes -----------------------------------------------------------------------------
    @staticmethod
    def vars_of(env: Env, ty: Type) -> list[str]:
        return [name for name, v in env.items() if v.ty == ty]

    def let_name(self, env: Env) -> str:
        """A fresh name, or (sometimes) one that shadows a variable in scope."""
        shadowable = [name for name, v in env.items() if not v.pinned]
        if shadowable and self.chance(30):
            return self.one(shadowable)
        return self.fresh("x")

    def bind(self, ty: Type, env: Env, depth: int) -> tuple[Lets, Expr, Env]:
        """A variable of type ``ty`` usable several times: one in scope, or a new pinned let."""
        names = self.vars_of(env, ty)
        if names and self.chance(50):
            return [], ident(self.one(names)), env
        name = self.fresh("w")
        value = self.expr(ty, env, depth)
        return [(name, value)], ident(name), {**env, name: _Var(ty, pinned=True)}

    def loop_names(self) -> tuple[str, str, str]:
        if self.pick((2, "usual"), (1, "fresh")) == "usual":
            return "b", "i", "e"
        k = self.fresh("")
        return f"b{k}", f"i{k}", f"e{k}"

    # ---- expressions of any type --------------------------------------------------------------
    def expr(self, ty: Type, env: Env, depth: int) -> Expr:
        if isinstance(ty, Scalar):
            return self.scalar(ty, env, depth)
        if isinstance(ty, Vec):
            return self.vec(ty, env, depth)
        if isinstance(ty, Struct):
            return self.struct(ty, env, depth)
        if isinstance(ty, Dict):
            return self.dict(ty, env, depth)
        raise TypeError(f"cannot generate expressions of type {ty}")

    def literal(self, ty: Scalar) -> Expr:
        return lit(self.source.value(ty), ty)

    def leaf(self, ty: Type, env: Env) -> Expr:
        names = self.vars_of(env, ty)
        if names and self.chance(60):
            return ident(self.one(names))
        if isinstance(ty, Scalar):
            others = [name for name, v in env.items() if isinstance(v.ty, Scalar)]
            if others and self.chance(40):  # data flows from the variables, not only literals
                return cast(ty, ident(self.one(others)))
            return self.literal(ty)
        if isinstance(ty, Struct):
            return make_struct(*(self.leaf(f, env) for f in ty.fields))
        if isinstance(ty, Vec):
            if self.chance(15):
                return result(new_builder(Appender(ty.elem)))  # an empty vector
            return vector(*(self.leaf(ty.elem, env) for _ in range(1 + self.index(3))))
        if isinstance(ty, Dict):
            bt = self.dict_builder_type(ty)
            b = new_builder(bt)
            if self.chance(50):
                return result(b)  # an empty dictionary
            value = self.leaf(bt.value, env)  # type: ignore[attr-defined]
            return result(merge(b, make_struct(self.key(ty.key, env, 0), value)))
        raise TypeError(f"cannot generate expressions of type {ty}")

    def choice(self, kind: str, ty: Type, env: Env, depth: int) -> Expr:
        """``select``/``if``/``let`` around sub-expressions of type ``ty``."""
        if kind == "let":
            vty = self.value_type()
            name = self.let_name(env)
            value = self.expr(vty, env, depth)
            return let(name, value, self.expr(ty, {**env, name: _Var(vty)}, depth))
        cond = self.scalar(BOOL, env, depth)
        a, b = self.expr(ty, env, depth), self.expr(ty, env, depth)
        return select(cond, a, b) if kind == "select" else if_(cond, a, b)

    # ---- scalars ------------------------------------------------------------------------------
    def scalar(self, ty: Scalar, env: Env, depth: int) -> Expr:
        if depth <= 0:
            return self.leaf(ty, env)
        d = depth - 1
        numeric = not ty.is_bool
        kind = self.pick(
            (3, "leaf"),
            (8, "binop"),
            (8 if ty.is_float else 3, "unop"),
            (4, "cast"),
            (1, "select"),
            (1, "if"),
            (2, "let"),
            (1, "getfield"),
            (1, "lookup"),
            (1 if ty == I64 else 0, "len"),
            (2 if numeric else 0, "loop"),
            (1, "dict"),
        )
        if kind == "leaf":
            return self.leaf(ty, env)
        if kind == "binop":
            return self.binop(ty, env, d)
        if kind in ("unop", "cast"):
            return self.unary(kind, ty, env, depth)
        if kind in ("select", "if", "let"):
            return self.choice(kind, ty, env, d)
        if kind == "getfield":
            return self.field_of(ty, env, d)
        if kind == "lookup":
            return self.vec_lookup(ty, env, d)
        if kind == "len":
            return call(n.LEN, self.vec(Vec(self.elem_type()), env, d))
        if kind == "loop":
            if self.chance(75):
                return self.result_loop(ty, env, d)
            other = self.one((self.numeric_type(), Vec(self.scalar_type()), Dict(self.scalar_type(), ty)))
            k = self.index(2)
            fields = (ty, other) if k == 0 else (other, ty)
            return getfield(self.result_loop(Struct(fields), env, d), k)
        return self.dict_query(ty, env, d)

    def unary(self, kind: str, ty: Scalar, env: Env, depth: int) -> Expr:
        """A unary operator or a cast. Chains of them cost no depth (up to a per-program budget):
        they do not make trees bushier, and math functions and casts are most of the IR's
        operators."""
        d = depth - 1
        if self.unary_budget > 0:
            self.unary_budget -= 1
            d = depth
        if kind == "cast":
            x = self.scalar(self.one(SCALAR_TYPES), env, d)
            if self.chance(50):  # through a random type: every pair of types gets its share
                x = cast(self.one(SCALAR_TYPES), x)
            return cast(ty, x)
        if ty.is_bool:
            return unop("!", self.scalar(ty, env, d))
        if ty.is_float:
            return unop(self.one(_FLOAT_OPERAND_UNOPS), self.scalar(ty, env, d))
        if self.chance(50):  # a math function of a float, cast back
            return cast(ty, unop(self.one(n.FLOAT_UNOPS), self.scalar(self.one(FLOATS), env, d)))
        return unop(self.one(("-", "abs")), self.scalar(ty, env, d))

    def binop(self, ty: Scalar, env: Env, d: int) -> Expr:
        if ty.is_bool:
            family = self.pick((4, "compare"), (1, "logic"), (1, "bitwise"))
            if family == "compare":
                op, operand = self.one(n.COMPARE_BINOPS), self.scalar_type()
            else:
                op, operand = self.one(n.LOGIC_BINOPS if family == "logic" else n.BITWISE_BINOPS), BOOL
        elif ty.is_int:
            op = self.one(n.ARITH_BINOPS + n.BITWISE_BINOPS + n.SHIFT_BINOPS)
            operand = ty
        else:
            op = self.one(n.ARITH_BINOPS + n.FLOAT_BINOPS)
            operand = ty
        return binop(op, self.scalar(operand, env, d), self.scalar(operand, env, d))

    def field_of(self, ty: Type, env: Env, d: int) -> Expr:
        """``s.$k`` of type ``ty``, from a struct variable or a struct expression."""
        holders = [
            (name, k)
            for name, v in env.items()
            if isinstance(v.ty, Struct) and not v.ty.is_builder
            for k, f in enumerate(v.ty.fields)
            if f == ty
        ]
        if holders and self.chance(50):
            name, k = self.one(holders)
            return getfield(ident(name), k)
        others = [self.scalar_type() for _ in range(self.index(3))]
        k = self.index(len(others) + 1)
        return getfield(self.struct(Struct((*others[:k], ty, *others[k:])), env, d), k)

    def index_into(self, length: Expr, env: Env, d: int) -> Expr:
        """An i64 index in ``[0, length)``, assuming ``length > 0``."""
        form = self.pick((4, "mod"), (1, "zero"), (1, "last"))
        if form == "zero":
            return _ZERO
        if form == "last":
            return binop("-", length, _ONE)
        return _nonneg_mod(self.scalar(I64, env, min(d, 1)), length)

    def vec_lookup(self, elem: Type, env: Env, d: int) -> Expr:
        """``lookup`` of a vector element, guarded against empty vectors."""
        lets, v, env2 = self.bind(Vec(elem), env, d)
        length = call(n.LEN, v)
        idx = self.index_into(length, env2, d)
        default = self.expr(elem, env2, d)
        return _wrap(lets, if_(binop(">", length, _ZERO), call(n.LOOKUP, v, idx), default))

    def dict_query(self, ty: Type, env: Env, d: int) -> Expr:
        """``keyexists``/``optlookup``/``lookup``/``len(tovec(..))`` of type ``ty``."""
        key_ty = self.key_type()
        if ty == BOOL:
            dty = Dict(key_ty, self.dict_value_type())
            dexpr, key = self.dict(dty, env, d), self.key(key_ty, env, d)
            if self.chance(50):
                return call(n.KEYEXISTS, dexpr, key)
            return getfield(call(n.OPTLOOKUP, dexpr, key), 0)
        form = self.pick((2, "lookup"), (2, "optlookup"), (1 if ty == I64 else 0, "len"))
        if form == "len":
            dty = Dict(key_ty, self.dict_value_type())
            return call(n.LEN, call(n.TOVEC, self.dict(dty, env, d)))
        assert _dict_value_ok(ty), ty
        dty = Dict(key_ty, ty)
        if form == "optlookup":
            return getfield(call(n.OPTLOOKUP, self.dict(dty, env, d), self.key(key_ty, env, d)), 1)
        return self.dict_lookup(dty, env, d)

    def dict_lookup(self, dty: Dict, env: Env, d: int) -> Expr:
        """``lookup`` of a dictionary, guarded by ``keyexists``."""
        lets, dexpr, env2 = self.bind(dty, env, d)
        kname = self.fresh("w")
        lets.append((kname, self.key(dty.key, env2, d)))
        env2 = {**env2, kname: _Var(dty.key, pinned=True)}
        key = ident(kname)
        default = self.expr(dty.value, env2, d)
        return _wrap(lets, if_(call(n.KEYEXISTS, dexpr, key), call(n.LOOKUP, dexpr, key), default))

    def key(self, ty: Type, env: Env, d: int) -> Expr:
        """A dictionary key, from a small domain so that keys collide."""
        if isinstance(ty, Struct):
            return make_struct(*(self.key(f, env, d) for f in ty.fields))
        assert isinstance(ty, Scalar)
        if ty.is_bool:
            return self.scalar(ty, env, d)
        form = self.pick((3, "mod"), (2, "small"), (1, "any"))
        if form == "small":
            return lit(self.index(7), ty)
        if ty.is_int:
            if form == "mod":
                return binop("%", self.scalar(ty, env, d), lit(7, ty))
            return self.scalar(ty, env, d)
        if form == "mod":
            return cast(ty, binop("%", self.scalar(I32, env, d), lit(7, I32)))
        if self.chance(30):  # -0.0 and 0.0, NaNs: canonicalized to one key each
            return lit(self.one((-0.0, 0.0, math.nan)), ty)
        return self.scalar(ty, env, d)

    # ---- structs ------------------------------------------------------------------------------
    def struct(self, ty: Struct, env: Env, depth: int) -> Expr:
        if depth <= 0:
            return self.leaf(ty, env)
        d = depth - 1
        fields = ty.fields
        optional = len(fields) == 2 and fields[0] == BOOL and _dict_value_ok(fields[1])
        kind = self.pick(
            (2, "leaf"),
            (5, "make"),
            (1, "select"),
            (1, "if"),
            (1, "let"),
            (1 if is_scalar_struct(ty) else 0, "lookup"),
            (2 if _buildable(ty) else 0, "loop"),
            (3 if optional else 0, "optlookup"),
        )
        if kind == "leaf":
            return self.leaf(ty, env)
        if kind == "make":
            return make_struct(*(self.expr(f, env, d) for f in fields))
        if kind in ("select", "if", "let"):
            return self.choice(kind, ty, env, d)
        if kind == "lookup":
            return self.vec_lookup(ty, env, d)
        if kind == "loop":
            return self.result_loop(ty, env, d)
        key_ty = self.key_type()
        return call(n.OPTLOOKUP, self.dict(Dict(key_ty, fields[1]), env, d), self.key(key_ty, env, d))

    # ---- vectors ------------------------------------------------------------------------------
    def vec(self, ty: Vec, env: Env, depth: int) -> Expr:
        if depth <= 0:
            return self.leaf(ty, env)
        d = depth - 1
        elem = ty.elem
        tovec = (
            isinstance(elem, Struct)
            and len(elem.fields) == 2
            and _is_key(elem.fields[0])
            and _dict_value_ok(elem.fields[1])
        )
        kind = self.pick(
            (2, "leaf"),
            (2, "literal"),
            (6, "loop"),
            (1, "slice"),
            (2, "sort"),
            (4 if tovec else 0, "tovec"),
            (1 if not isinstance(elem, Vec) else 0, "group"),
            (1, "select"),
            (1, "if"),
            (1, "let"),
        )
        if kind == "leaf":
            return self.leaf(ty, env)
        if kind == "literal":
            return vector(*(self.expr(elem, env, d) for _ in range(1 + self.index(3))))
        if kind == "loop":
            return self.result_loop(ty, env, d)
        if kind == "slice":
            return self.slice(ty, env, d)
        if kind == "sort":
            return self.sort(ty, env, d)
        if kind == "tovec":
            assert isinstance(elem, Struct)
            return call(n.TOVEC, self.dict(Dict(*elem.fields), env, d))
        if kind == "group":
            return self.dict_lookup(Dict(self.key_type(), ty), env, d)
        return self.choice(kind, ty, env, d)

    def slice(self, ty: Vec, env: Env, d: int) -> Expr:
        lets, v, env2 = self.bind(ty, env, d)
        length = call(n.LEN, v)
        bound = binop("+", length, _ONE)
        start = _ZERO if self.chance(20) else _nonneg_mod(self.scalar(I64, env2, min(d, 1)), bound)
        form = self.pick((2, "small"), (1, "len"), (2, "mod"))
        if form == "small":
            size = lit(self.index(6), I64)
        elif form == "len":
            size = length  # runs past the end unless start is 0: clamped
        else:
            size = _nonneg_mod(self.scalar(I64, env2, min(d, 1)), lit(21, I64))
        return _wrap(lets, call(n.SLICE, v, start, size))

    def sort(self, ty: Vec, env: Env, d: int) -> Expr:
        v = self.vec(ty, env, d)
        x = self.pick((2, "x"), (1, "fresh"))
        x = "x" if x == "x" else self.fresh("x")
        inner = {**env, x: _Var(ty.elem)}
        elem = ty.elem
        form = self.pick(
            (2 if isinstance(elem, Scalar) else 0, "self"),
            (2 if isinstance(elem, Scalar) else 0, "cast"),
            (2 if isinstance(elem, Struct) and is_scalar_struct(elem) else 0, "field"),
            (2, "expr"),
        )
        if form == "self":
            key = ident(x)
        elif form == "cast":
            key = cast(self.scalar_type(), ident(x))
        elif form == "field":
            assert isinstance(elem, Struct)
            key = getfield(ident(x), self.index(len(elem.fields)))
        else:
            kty: Type = self.scalar_type()
            if self.chance(25):
                kty = Struct((kty, self.scalar_type()))
            key = self.expr(kty, inner, d)
        return call(n.SORT, v, lam([(x, None)], key))

    # ---- dictionaries -------------------------------------------------------------------------
    def dict_builder_type(self, ty: Dict) -> Builder:
        if isinstance(ty.value, Vec):
            return GroupMerger(ty.key, ty.value.elem)
        return DictMerger(ty.key, ty.value, self.one(MERGE_OPS))

    def dict(self, ty: Dict, env: Env, depth: int) -> Expr:
        if depth <= 0:
            return self.leaf(ty, env)
        d = depth - 1
        kind = self.pick((1, "leaf"), (7, "loop"), (1, "select"), (1, "if"), (1, "let"))
        if kind == "leaf":
            return self.leaf(ty, env)
        if kind == "loop":
            return self.result_loop(ty, env, d)
        return self.choice(kind, ty, env, d)

    # ---- loops and builders -------------------------------------------------------------------
    def builder(self, ty: Type, env: Env, d: int) -> tuple[Lets, _BSpec, Expr, Env]:
        """A new builder whose result has type ``ty``: ``(lets, spec, constructor, env)``."""
        if isinstance(ty, Scalar) or (isinstance(ty, Struct) and _numeric_struct(ty) and self.chance(30)):
            bt: Builder = Merger(ty, self.one(MERGE_OPS))
            if self.chance(30):
                return [], _BSpec(bt), new_builder(bt, self.expr(ty, env, d)), env
            return [], _BSpec(bt), new_builder(bt), env
        if isinstance(ty, Struct):
            lets: Lets = []
            specs, inits = [], []
            for f in ty.fields:
                flets, spec, init, env = self.builder(f, env, d)
                lets += flets
                specs.append(spec)
                inits.append(init)
            spec = _BSpec(Struct(tuple(s.ty for s in specs)), fields=tuple(specs))
            return lets, spec, make_struct(*inits), env
        if isinstance(ty, Vec):
            if _numeric_struct(ty.elem) and self.chance(40):
                bt = VecMerger(ty.elem, self.one(MERGE_OPS))
                name = self.fresh("w")
                value = self.vec(ty, env, d)
                env = {**env, name: _Var(ty, pinned=True)}
                spec = _BSpec(bt, length=call(n.LEN, ident(name)))
                return [(name, value)], spec, new_builder(bt, ident(name)), env
            bt = Appender(ty.elem)
            if isinstance(ty.elem, Scalar) and not ty.elem.is_bool and self.chance(20):
                bt = Scanner(ty.elem, self.one(MERGE_OPS))
        else:
            assert isinstance(ty, Dict)
            bt = self.dict_builder_type(ty)
        if self.chance(25):
            return [], _BSpec(bt), new_builder(bt, lit(self.index(21), I64)), env
        return [], _BSpec(bt), new_builder(bt), env

    def result_loop(self, ty: Type, env: Env, d: int) -> Expr:
        """``result(...)`` of type ``ty``: usually of a ``for`` loop, sometimes of a lone merge."""
        lets, spec, init, env = self.builder(ty, env, d)
        if self.loops >= self.max_loops or self.chance(10):
            if self.chance(30):
                return _wrap(lets, result(init))
            return _wrap(lets, result(self.merge_into(spec, init, env, d)))
        return _wrap(lets, result(self.loop(spec, init, env, d)))

    def loop(self, spec: _BSpec, builder: Expr, env: Env, d: int) -> Expr:
        """``for(iters, builder, |b, i, e| body)`` filling ``spec``."""
        lets, iters, elem, env = self.iterators(env, d)
        b, i, e = self.loop_names()
        inner = {**env, b: _Var(spec.ty, pinned=True), i: _Var(I64), e: _Var(elem)}
        self.loops += 1
        try:
            body = self.body(spec, ident(b), inner, d)
        finally:
            self.loops -= 1
        return _wrap(lets, for_(iters, builder, lam([(b, None), (i, None), (e, None)], body)))

    def body(self, spec: _BSpec, b: Expr, env: Env, depth: int) -> Expr:
        """A loop body: returns builder expression ``b`` with values merged into it."""
        if depth <= 0:
            return self.merge_into(spec, b, env, 0)
        d = depth - 1
        kind = self.pick(
            (6, "merge"),
            (3, "filter"),
            (1, "ifelse"),
            (1 if not spec.fields and spec.length is None else 0, "chain"),
            (1, "let"),
            (2 if self.loops < self.max_loops else 0, "nested"),
            (1, "noop"),
        )
        if kind == "merge":  # merging costs no depth: merged values are the loop's computation
            if spec.fields:
                return make_struct(*(self.body(f, getfield(b, k), env, d) for k, f in enumerate(spec.fields)))
            return self.merge_into(spec, b, env, depth)
        if kind == "filter":
            return if_(self.scalar(BOOL, env, d), self.body(spec, b, env, d), b)
        if kind == "ifelse":
            return if_(self.scalar(BOOL, env, d), self.body(spec, b, env, d), self.body(spec, b, env, d))
        if kind == "chain":
            return self.merge_into(spec, self.body(spec, b, env, d), env, d)
        if kind == "let":
            vty = self.value_type()
            name = self.let_name(env)
            value = self.expr(vty, env, d)
            return let(name, value, self.body(spec, b, {**env, name: _Var(vty)}, d))
        if kind == "nested":
            return self.loop(spec, b, env, d)
        return b

    def merge_into(self, spec: _BSpec, b: Expr, env: Env, d: int) -> Expr:
        """``merge(b, value)`` for builder expression ``b`` (field-wise for structs of builders)."""
        if spec.fields:
            fields = enumerate(spec.fields)
            return make_struct(*(self.merge_into(f, getfield(b, k), env, d) for k, f in fields))
        bt = spec.ty
        if isinstance(bt, (Appender, Merger, Scanner)):
            return merge(b, self.expr(bt.elem, env, d))
        if isinstance(bt, VecMerger):
            assert spec.length is not None
            value = make_struct(self.index_into(spec.length, env, d), self.expr(bt.elem, env, d))
            return if_(binop(">", spec.length, _ZERO), merge(b, value), b)
        assert isinstance(bt, (DictMerger, GroupMerger))
        return merge(b, make_struct(self.key(bt.key, env, d), self.expr(bt.value, env, d)))

    # ---- iterators ----------------------------------------------------------------------------
    def iter_bounds(self, v: Expr) -> tuple[Expr, Expr, Expr]:
        """``start, end, stride`` with ``0 <= start <= end <= len(v)`` and stride 1..3."""
        length = call(n.LEN, v)
        start = binop("min", lit(self.index(4), I64), length)
        end = binop("max", binop("-", length, lit(self.index(4), I64)), start)
        return start, end, lit(1 + self.index(3), I64)

    def range_iter(self, env: Env) -> Expr:
        start = self.index(7) - 3
        vecs = [name for name, v in env.items() if isinstance(v.ty, Vec)]
        if vecs and self.chance(30):
            end = call(n.LEN, ident(self.one(vecs)))
        else:
            end = lit(start + self.index(18) - 2, I64)  # sometimes below start: no iterations
        return rangeiter(lit(start, I64), end, lit(1 + self.index(3), I64))

    def iterators(self, env: Env, d: int) -> tuple[Lets, list[Expr], Type, Env]:
        """What a ``for`` loops over: ``(lets, iterators, element type, env)``."""
        vecs = [name for name, v in env.items() if isinstance(v.ty, Vec)]
        form = self.pick((4 if vecs else 0, "var"), (2, "expr"), (2, "iter"), (1, "range"), (3, "zip"), (1, "entries"))
        if form == "entries":  # the entries of a dictionary
            dty = Dict(self.key_type(), self.dict_value_type())
            return [], [call(n.TOVEC, self.dict(dty, env, d))], Struct((dty.key, dty.value)), env
        if form == "var":
            name = self.one(vecs)
            return [], [ident(name)], env[name].ty.elem, env  # type: ignore[attr-defined]
        if form == "range":
            return [], [self.range_iter(env)], I64, env
        if form == "zip":
            return self.zip(env, d)
        vty = env[self.one(vecs)].ty if vecs and self.chance(50) else Vec(self.elem_type())
        assert isinstance(vty, Vec)
        if form == "expr":
            return [], [iter_vec(self.vec(vty, env, d))], vty.elem, env
        lets, v, env = self.bind(vty, env, d)
        return lets, [iter_(v, *self.iter_bounds(v))], vty.elem, env

    def zip(self, env: Env, d: int) -> tuple[Lets, list[Expr], Type, Env]:
        """``zip`` of iterators of one length: shared-length parameters, one vector, rangeiter."""
        shared = [name for name, v in env.items() if v.shared]
        lets: Lets = []
        if shared and self.chance(80):
            base = ident(self.one(shared))
            parts = [*shared, "range"]
        else:
            vty = Vec(self.elem_type())
            lets, base, env = self.bind(vty, env, d)
            parts = [base.arg, "range"]
        whole = self.chance(50)
        if whole:
            bounds = (_ZERO, call(n.LEN, base), _ONE)
        else:
            bounds = self.iter_bounds(base)
        iters, elems = [], []
        for _ in range(2 + self.index(2)):
            part = self.one(parts)
            if part == "range":
                iters.append(rangeiter(*bounds))
                elems.append(I64)
            else:
                v = ident(part)
                iters.append(iter_vec(v) if whole else iter_(v, *bounds))
                elems.append(env[part].ty.elem)  # type: ignore[attr-defined]
        return lets, iters, Struct(tuple(elems)), env


# --------------------------------------------------------------------------------------------
# Public strategies
# --------------------------------------------------------------------------------------------


def _env_of(env: Mapping[str, Type] | None, shared: Sequence[str] = ()) -> Env:
    return {name: _Var(ty, shared=name in shared) for name, ty in (env or {}).items()}


def expr_of_type(
    ty: Type,
    env: Mapping[str, Type] | None = None,
    depth: int = 3,
    *,
    max_loops: int = 1,
    shared: Sequence[str] = (),
) -> st.SearchStrategy[Expr]:
    """Typed expressions of type ``ty`` over the free variables ``env`` (name -> type).

    ``ty`` is a scalar, a struct, a ``vec`` or a ``dict`` type (not a builder). ``shared`` names
    vector variables known to have one common length (they may be zipped). The expressions are
    typed with ``typecheck(e, env=env)``.
    """
    types = dict(env or {})

    @st.composite
    def build(draw: Callable[[st.SearchStrategy[Any]], Any]) -> Expr:
        e = _Gen(_HypothesisSource(draw), max_loops).expr(ty, _env_of(types, shared), depth)
        return typecheck(e, env=types)

    return build()


def scalar_exprs(
    ty: Scalar, env: Mapping[str, Type] | None = None, depth: int = 3, *, max_loops: int = 1
) -> st.SearchStrategy[Expr]:
    """Typed scalar expressions of type ``ty`` over the free variables ``env`` (name -> type)."""
    assert isinstance(ty, Scalar), ty
    return expr_of_type(ty, env, depth, max_loops=max_loops)


def _program(
    source: _HypothesisSource | _RandomSource,
    max_depth: int,
    max_params: int,
    max_len: int,
    max_loops: int,
    return_type: Type | None,
    top_loop: bool = False,
) -> tuple[Expr, tuple[Any, ...]]:
    g = _Gen(source, max_loops)
    count = 1 + g.index(max_params)
    types: list[Type] = []
    for _ in range(count):
        t = g.scalar_type()
        types.append(Vec(t) if g.pick((3, "vec"), (2, "scalar")) == "vec" else t)
    names = [f"p{k}" for k in range(count)]
    env = {name: _Var(t, shared=isinstance(t, Vec)) for name, t in zip(names, types, strict=True)}
    ret = return_type if return_type is not None else g.result_type()
    loopable = isinstance(ret, Vec | Dict) or _numeric_struct(ret)  # mergers take no bools
    body = g.result_loop(ret, env, max_depth) if top_loop and loopable else g.expr(ret, env, max_depth)
    program = typecheck(lam(list(zip(names, types, strict=True)), body))
    length = source.length(max_len)
    return program, tuple(source.arg(t, length) for t in types)


@st.composite
def programs(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    max_depth: int = 4,
    max_params: int = 4,
    max_len: int = MAX_LEN,
    max_loops: int = 2,
    return_type: Type | None = None,
    top_loop: bool = False,
) -> tuple[Expr, tuple[Any, ...]]:
    """``(program, args)``: a typed root lambda and a matching argument tuple.

    ``max_depth`` bounds the nesting of expressions, ``max_loops`` the nesting of ``for`` loops,
    ``max_params`` the number of parameters and ``max_len`` the (shared) length of the vector
    arguments. ``return_type`` fixes the type of the body (default: random); ``top_loop`` makes
    the body a loop's result (mostly), as partitioned execution splits top-level loops.
    """
    return _program(_HypothesisSource(draw), max_depth, max_params, max_len, max_loops, return_type, top_loop)


def random_program(
    rng: random.Random,
    max_depth: int = 4,
    max_params: int = 4,
    max_len: int = MAX_LEN,
    max_loops: int = 2,
    return_type: Type | None = None,
) -> tuple[Expr, tuple[Any, ...]]:
    """Like one example of :func:`programs`, with every choice made by ``rng`` instead of Hypothesis.

    For seeded, independent samples outside a Hypothesis test (coverage tallies, fuzzing scripts,
    benchmarks). Hypothesis' examples are correlated by design (it mutates earlier examples), so a
    fixed-size Hypothesis sample is a poor measure of what the generator can produce.
    """
    return _program(_RandomSource(rng), max_depth, max_params, max_len, max_loops, return_type)


def subexpressions(e: Expr) -> Iterator[Expr]:
    """Every node of ``e`` (pre-order, shared sub-trees once per occurrence), iteratively."""
    stack = [e]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(x.src))
