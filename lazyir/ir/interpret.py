"""The reference interpreter: the plain Python/NumPy meaning of every IR construct.

It is the oracle of the differential tests, so it is written for exactness and clarity, never for
speed. ``interpret(program, *args)`` type-checks ``program`` if needed, validates the arguments
with ``values.check_args`` and returns the Python result described in docs/ir.md.

Values while interpreting:

- scalars are NumPy scalars of exactly their IR type (``np.int8``, ..., ``np.float64``,
  ``np.bool_``); integer arithmetic is done on Python ints and wrapped back to the type;
- ``vec[T]`` is a Python list of element values (never mutated once built);
- structs are tuples; ``dict[K,V]`` is a ``DictValue``;
- builders are the small classes below, and structs of builders are tuples of them. Builders are
  linear, so ``merge`` updates a builder in place and returns the same object.

Choices made here (see also the semantics section of docs/ir.md):

- ``+ - * /``, ``%`` (``fmod``), ``floor``, ``ceil``, ``abs``, ``-`` and ``sqrt`` are exact (correctly
  rounded) at the operand width; compiled code must match them bit for bit;
- the other float functions (``exp`` ... ``expm1``, ``erf``, ``pow``, ``atan2``) are the C
  library's double-precision functions (Python's ``math``; NumPy's for the special values where
  ``math`` raises instead of returning inf or NaN), rounded once to the operand type. Compiled code
  calls libm's ``f32`` functions and libmvec, so it may differ by a few ulps (special values
  excepted);
- ``&&`` and ``||`` evaluate both operands, like ``select`` (``if`` is the only lazy choice);
- a ``merger`` starts at the identity, or at its initial value when it has one; a ``dictmerger``
  entry starts as the first value merged for its key (not combined with the identity).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from lazyir.errors import IRRuntimeError

from . import nodes as n
from .deep import run_deep
from .typecheck import typecheck
from .types import (
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
)
from .values import (
    Dictionary,
    canonical_key,
    check_args,
    hash_key,
    int_range,
    int_to_float,
    to_result,
    wrap_int,
)


def interpret(program: n.Expr | str, *args: Any) -> Any:
    """Run ``program`` (IR text, or an ``Expr``, typed or not) on ``args``; return its Python result.

    Raises ``TypeError``/``OverflowError``/``ValueError`` for bad arguments (``check_args``),
    ``IRTypeError`` for programs that do not type-check and ``IRRuntimeError`` for run-time errors.
    """
    if isinstance(program, str):
        from . import parse

        program = parse(program)
    elif program.ty is None:
        program = typecheck(program)
    normalized = check_args(program, args)
    if program.op == n.LAMBDA:
        params, body, ret = program.params, program.body, program.ty.ret  # type: ignore[union-attr]
    else:
        params, body, ret = (), program, program.ty

    def run() -> Any:  # safe to run twice: run_deep retries deep programs on a big stack
        machine = _Interpreter()
        for (name, ty), arg in zip(params, normalized, strict=True):
            machine.env[name] = from_argument(arg, ty)
        with np.errstate(all="ignore"):
            return to_result(machine.eval(body), ret)

    return run_deep(run)


# =============================================================================================
# Values


class DictValue:
    """A ``dict[K,V]`` while interpreting: entries in first-insertion order.

    Keys are stored canonical (``values.canonical_key``: ``-0.0`` becomes ``0.0``, every NaN one
    NaN) and compared by value after that (``values.hash_key``).
    """

    def __init__(self, key_type: Type):
        self.key_type = key_type
        self._entries: dict[Any, tuple[Any, Any]] = {}  # hash key -> (canonical key, value)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Any) -> bool:
        return hash_key(key, self.key_type) in self._entries

    def get(self, key: Any, default: Any = None) -> Any:
        entry = self._entries.get(hash_key(key, self.key_type))
        return default if entry is None else entry[1]

    def put(self, key: Any, value: Any) -> None:
        """Set the value of ``key``; a new key goes last, an existing one keeps its place."""
        h = hash_key(key, self.key_type)
        old = self._entries.get(h)
        stored_key = canonical_key(key, self.key_type) if old is None else old[0]
        self._entries[h] = (stored_key, value)

    def items(self) -> list[tuple[Any, Any]]:
        return list(self._entries.values())

    def copy(self) -> DictValue:
        out = DictValue(self.key_type)
        out._entries = dict(self._entries)
        return out


def from_argument(value: Any, ty: Type) -> Any:
    """A normalized argument (see ``values.check_args``) as an interpreter value."""
    if isinstance(ty, Scalar):
        return value
    if isinstance(ty, Vec):
        return [from_argument(v, ty.elem) for v in value]  # arrays iterate as NumPy scalars/records
    if isinstance(ty, Struct):
        return tuple(from_argument(value[i], f) for i, f in enumerate(ty.fields))
    if isinstance(ty, Dict):
        assert isinstance(value, Dictionary)
        d = DictValue(ty.key)
        for k, v in zip(value.keys, value.values, strict=True):
            d.put(from_argument(k, ty.key), from_argument(v, ty.value))
        return d
    raise TypeError(f"a {ty} value cannot be an argument")


def zero(ty: Type) -> Any:
    """The zero value of ``ty`` (``optlookup`` of a missing key): 0, false, empty vector..."""
    if isinstance(ty, Scalar):
        return ty.numpy.type(0)
    if isinstance(ty, Struct):
        return tuple(zero(f) for f in ty.fields)
    if isinstance(ty, Vec):
        return []
    if isinstance(ty, Dict):
        return DictValue(ty.key)
    raise TypeError(f"{ty} has no zero value")


# =============================================================================================
# Scalar operations. ``ty`` is always the operands' IR type.


def _py(x: Any, ty: Scalar) -> bool | int | float:
    """A scalar as the Python number of the same value (f32 to float is exact)."""
    if ty.is_bool:
        return bool(x)
    return int(x) if ty.is_int else float(x)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def binop(op: str, a: Any, b: Any, ty: Scalar) -> Any:
    """``a op b`` for scalars of type ``ty`` (``&&``/``||`` on already evaluated operands)."""
    if op in _COMPARE:
        return np.bool_(_COMPARE[op](_py(a, ty), _py(b, ty)))
    if ty.is_bool:
        x, y = bool(a), bool(b)
        logic = {"&&": x and y, "||": x or y, "&": x & y, "|": x | y, "^": x ^ y}
        if op not in logic:
            raise TypeError(f"{op} is not defined on bool")
        return np.bool_(logic[op])
    if ty.is_int:
        return _int_binop(op, int(a), int(b), ty)
    return _float_binop(op, ty.numpy.type(a), ty.numpy.type(b), ty)


def _trunc_div(x: int, y: int) -> int:
    """``x / y`` rounded toward zero, like C (``y != 0``)."""
    q = abs(x) // abs(y)
    return q if (x < 0) == (y < 0) else -q


def _int_binop(op: str, x: int, y: int, ty: Scalar) -> Any:
    bits = ty.bits
    if op == "+":
        return wrap_int(x + y, ty)
    if op == "-":
        return wrap_int(x - y, ty)
    if op == "*":
        return wrap_int(x * y, ty)
    if op == "/":  # x / 0 is 0; MIN / -1 wraps to MIN
        return wrap_int(0 if y == 0 else _trunc_div(x, y), ty)
    if op == "%":  # sign of the dividend, like C; x % 0 is 0; MIN % -1 is 0
        return wrap_int(0 if y == 0 else x - y * _trunc_div(x, y), ty)
    if op == "min":
        return ty.numpy.type(min(x, y))
    if op == "max":
        return ty.numpy.type(max(x, y))
    if op == "pow":
        if y < 0:  # only 1 and -1 have integer reciprocals
            return ty.numpy.type(1 if x == 1 else (1 - 2 * (y % 2)) if x == -1 else 0)
        return wrap_int(pow(x, y, 1 << bits), ty)
    if op == "&":
        return wrap_int(x & y, ty)
    if op == "|":
        return wrap_int(x | y, ty)
    if op == "^":
        return wrap_int(x ^ y, ty)
    if op in ("<<", ">>"):
        count = y & ((1 << bits) - 1)  # the count is taken as unsigned
        if op == "<<":
            return wrap_int(x << count if count < bits else 0, ty)
        # x is the signed value for signed types (arithmetic shift), non-negative otherwise
        return wrap_int(x >> count if count < bits else (-1 if x < 0 else 0), ty)
    raise TypeError(f"{op} is not defined on {ty}")


def _libm(fn: Callable[..., float], np_fn: Callable[..., Any], args: tuple, ty: Scalar) -> Any:
    """A C-library function computed in double precision, rounded once to ``ty``.

    Python's ``math`` raises where C returns inf or NaN (``log(0)``, ``exp(1000)``, ``sqrt(-1)``);
    those special results come from NumPy's double-precision function instead.
    """
    try:
        r = fn(*(float(a) for a in args))
    except (ValueError, OverflowError):
        r = float(np_fn(*(np.float64(a) for a in args)))
    return ty.numpy.type(r)


def _float_min(a: Any, b: Any) -> Any:
    return a if (a < b or math.isnan(a)) else b


def _float_max(a: Any, b: Any) -> Any:
    return a if (a > b or math.isnan(a)) else b


def _float_binop(op: str, a: Any, b: Any, ty: Scalar) -> Any:
    # a and b are NumPy scalars of ty: + - * / % are IEEE operations at that width.
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    if op == "%":
        return np.fmod(a, b)  # C's fmod: exact, sign of the dividend
    if op == "min":
        return _float_min(a, b)
    if op == "max":
        return _float_max(a, b)
    if op == "pow":
        return _libm(math.pow, np.power, (a, b), ty)
    if op == "atan2":
        return _libm(math.atan2, np.arctan2, (a, b), ty)
    raise TypeError(f"{op} is not defined on {ty}")


_FLOAT_FUNCS: dict[str, tuple[Callable[..., float], Callable[..., Any]]] = {
    "exp": (math.exp, np.exp),
    "log": (math.log, np.log),
    "sqrt": (math.sqrt, np.sqrt),
    "sin": (math.sin, np.sin),
    "cos": (math.cos, np.cos),
    "tan": (math.tan, np.tan),
    "asin": (math.asin, np.arcsin),
    "acos": (math.acos, np.arccos),
    "atan": (math.atan, np.arctan),
    "sinh": (math.sinh, np.sinh),
    "cosh": (math.cosh, np.cosh),
    "tanh": (math.tanh, np.tanh),
    "log1p": (math.log1p, np.log1p),
    "expm1": (math.expm1, np.expm1),
}


def unop(op: str, a: Any, ty: Scalar) -> Any:
    """``op a`` for a scalar of type ``ty``."""
    if op == "!":
        return np.bool_(not a)
    if ty.is_int:
        x = int(a)
        if op == "-":
            return wrap_int(-x, ty)
        if op == "abs":
            return wrap_int(abs(x), ty)  # abs(MIN) is MIN
        raise TypeError(f"{op} is not defined on {ty}")
    a = ty.numpy.type(a)
    if op == "-":
        return -a
    if op == "abs":
        return np.abs(a)
    if op == "floor":
        return np.floor(a)
    if op == "ceil":
        return np.ceil(a)
    if op == "erf":
        return ty.numpy.type(math.erf(float(a)))
    fn, np_fn = _FLOAT_FUNCS[op]
    return _libm(fn, np_fn, (a,), ty)


def cast(value: Any, src: Scalar, dst: Scalar) -> Any:
    """``dst(value)`` for a scalar of type ``src`` (see Casts in docs/ir.md)."""
    if dst.is_bool:
        return np.bool_(_py(value, src) != 0)  # NaN != 0: true
    if src.is_bool or src.is_int:
        x = int(value)  # bool: 0 or 1
        return wrap_int(x, dst) if dst.is_int else int_to_float(x, dst)
    f = float(value)
    if dst.is_float:
        return dst.numpy.type(value)  # f64 -> f32 rounds to nearest; f32 -> f64 is exact
    lo, hi = int_range(dst)  # float -> int: truncate toward zero, saturate, NaN gives 0
    if math.isnan(f):
        return dst.numpy.type(0)
    if math.isinf(f):
        return dst.numpy.type(hi if f > 0 else lo)
    return dst.numpy.type(min(max(math.trunc(f), lo), hi))


# =============================================================================================
# Mergers


def identity(op: str, ty: Type) -> Any:
    """The identity of merge operator ``op`` on ``ty`` (a scalar or a struct of scalars)."""
    if isinstance(ty, Struct):
        return tuple(identity(op, f) for f in ty.fields)
    assert isinstance(ty, Scalar) and not ty.is_bool, ty
    if op == "+":
        return ty.numpy.type(0)
    if op == "*":
        return ty.numpy.type(1)
    if ty.is_float:
        return ty.numpy.type(math.inf if op == "min" else -math.inf)
    lo, hi = int_range(ty)
    return ty.numpy.type(hi if op == "min" else lo)


def combine(op: str, acc: Any, x: Any, ty: Type) -> Any:
    """``op(acc, x)``, fieldwise for structs."""
    if isinstance(ty, Struct):
        return tuple(combine(op, acc[i], x[i], f) for i, f in enumerate(ty.fields))
    return binop(op, acc, x, ty)  # type: ignore[arg-type]


class AppenderValue:
    def __init__(self) -> None:
        self.items: list = []

    def merge(self, x: Any) -> None:
        self.items.append(x)

    def result(self) -> list:
        return list(self.items)


class MergerValue:
    def __init__(self, ty: Merger, initial: Any = None):
        self.ty = ty
        self.value = identity(ty.op, ty.elem) if initial is None else initial

    def merge(self, x: Any) -> None:
        self.value = combine(self.ty.op, self.value, x, self.ty.elem)

    def result(self) -> Any:
        return self.value


class ScannerValue:
    def __init__(self, ty: Scanner):
        self.ty = ty
        # op(start, x) is x for every x: -0.0 for float sums (0.0 + -0.0 would be 0.0)
        self.acc = ty.elem.numpy.type(-0.0) if ty.op == "+" and ty.elem.is_float else identity(ty.op, ty.elem)
        self.items: list = []

    def merge(self, x: Any) -> None:
        self.acc = combine(self.ty.op, self.acc, x, self.ty.elem)
        self.items.append(self.acc)

    def result(self) -> list:
        return list(self.items)


class VecMergerValue:
    def __init__(self, ty: VecMerger, init: list):
        self.ty = ty
        self.items = list(init)

    def merge(self, x: Any) -> None:
        i, v = int(x[0]), x[1]
        if not 0 <= i < len(self.items):
            raise IRRuntimeError(f"vecmerger index {i} out of range for a vector of length {len(self.items)}")
        self.items[i] = combine(self.ty.op, self.items[i], v, self.ty.elem)

    def result(self) -> list:
        return list(self.items)


class DictMergerValue:
    def __init__(self, ty: DictMerger):
        self.ty = ty
        self.table = DictValue(ty.key)

    def merge(self, x: Any) -> None:
        key, v = x
        if key in self.table:
            self.table.put(key, combine(self.ty.op, self.table.get(key), v, self.ty.value))
        else:
            self.table.put(key, v)  # a new key's entry is the first value itself

    def result(self) -> DictValue:
        return self.table.copy()


class GroupMergerValue:
    def __init__(self, ty: GroupMerger):
        self.ty = ty
        self.table = DictValue(ty.key)

    def merge(self, x: Any) -> None:
        key, v = x
        group = self.table.get(key)
        if group is None:
            group = []
            self.table.put(key, group)
        group.append(v)

    def result(self) -> DictValue:
        out = DictValue(self.ty.key)
        for k, group in self.table.items():
            out.put(k, list(group))
        return out


def new_builder(ty: Builder, args: list) -> Any:
    if isinstance(ty, Appender):
        return AppenderValue()  # a size hint changes nothing
    if isinstance(ty, Merger):
        return MergerValue(ty, args[0] if args else None)
    if isinstance(ty, Scanner):
        return ScannerValue(ty)  # a size hint changes nothing
    if isinstance(ty, VecMerger):
        return VecMergerValue(ty, args[0])
    if isinstance(ty, DictMerger):
        return DictMergerValue(ty)
    if isinstance(ty, GroupMerger):
        return GroupMergerValue(ty)
    raise TypeError(f"unknown builder {ty}")


def builder_result(b: Any) -> Any:
    """``result(b)``: a builder's value; a struct of builders gives a struct of values."""
    if isinstance(b, tuple):
        return tuple(builder_result(x) for x in b)
    return b.result()


def sort_key(value: Any, ty: Type) -> Any:
    """A Python sort key: ascending by value, NaN after every number, structs lexicographic."""
    if isinstance(ty, Struct):
        return tuple(sort_key(value[i], f) for i, f in enumerate(ty.fields))
    assert isinstance(ty, Scalar)
    if ty.is_float:
        f = float(value)
        return (1, 0.0) if math.isnan(f) else (0, f)
    return _py(value, ty)


# =============================================================================================
# The evaluator

_UNBOUND = object()


class _Interpreter:
    def __init__(self) -> None:
        # Names in scope. Lambdas are only applied where they appear (for, sort), so binding by
        # assignment and restoring on exit gives lexical scoping.
        self.env: dict[str, Any] = {}

    def eval(self, e: n.Expr) -> Any:
        saved: list[tuple[str, Any]] = []
        try:
            while e.op == n.LET:  # walk let chains without recursion
                value = self.eval(e.src[0])
                saved.append((e.arg, self.env.get(e.arg, _UNBOUND)))
                self.env[e.arg] = value
                e = e.src[1]
            return _RULES[e.op](self, e)
        finally:
            self._restore(saved)

    def _restore(self, saved: list[tuple[str, Any]]) -> None:
        for name, old in reversed(saved):
            if old is _UNBOUND:
                del self.env[name]
            else:
                self.env[name] = old

    def call(self, fn: n.Expr, *args: Any) -> Any:
        """Apply lambda ``fn`` to ``args``."""
        assert fn.op == n.LAMBDA and len(fn.params) == len(args)
        saved = []
        for (name, _), a in zip(fn.params, args, strict=True):
            saved.append((name, self.env.get(name, _UNBOUND)))
            self.env[name] = a
        try:
            return self.eval(fn.body)
        finally:
            self._restore(saved)

    def i64(self, e: n.Expr) -> int:
        return int(self.eval(e))

    # --- rules, one per op ---------------------------------------------------------------

    def lit(self, e: n.Expr) -> Any:
        return e.ty.numpy.type(e.arg)  # type: ignore[union-attr]

    def ident(self, e: n.Expr) -> Any:
        return self.env[e.arg]

    def binop(self, e: n.Expr) -> Any:
        a, b = e.src
        ty = a.ty
        return binop(e.arg, self.eval(a), self.eval(b), ty)  # both operands, even of && and ||

    def unop(self, e: n.Expr) -> Any:
        return unop(e.arg, self.eval(e.src[0]), e.src[0].ty)  # type: ignore[arg-type]

    def cast(self, e: n.Expr) -> Any:
        return cast(self.eval(e.src[0]), e.src[0].ty, e.arg)  # type: ignore[arg-type]

    def select(self, e: n.Expr) -> Any:
        c, t, f = (self.eval(x) for x in e.src)
        return t if c else f

    def if_(self, e: n.Expr) -> Any:
        c, t, f = e.src
        return self.eval(t) if self.eval(c) else self.eval(f)

    def struct(self, e: n.Expr) -> Any:
        return tuple(self.eval(x) for x in e.src)

    def getfield(self, e: n.Expr) -> Any:
        return self.eval(e.src[0])[e.arg]

    def vector(self, e: n.Expr) -> Any:
        return [self.eval(x) for x in e.src]

    def len_(self, e: n.Expr) -> Any:
        return np.int64(len(self.eval(e.src[0])))

    def lookup(self, e: n.Expr) -> Any:
        v, k = self.eval(e.src[0]), self.eval(e.src[1])
        if isinstance(e.src[0].ty, Dict):
            if k not in v:
                raise IRRuntimeError(f"lookup of key {_show(k)} that is not in the dictionary")
            return v.get(k)
        i = int(k)
        if not 0 <= i < len(v):
            raise IRRuntimeError(f"lookup index {i} out of range for a vector of length {len(v)}")
        return v[i]

    def slice_(self, e: n.Expr) -> Any:
        v = self.eval(e.src[0])
        start, size = self.i64(e.src[1]), self.i64(e.src[2])
        if not 0 <= start <= len(v) or size < 0:
            raise IRRuntimeError(f"slice(start={start}, size={size}) out of range for length {len(v)}")
        return v[start : start + min(size, len(v) - start)]  # runs past the end: clamped

    def sort(self, e: n.Expr) -> Any:
        v, key_fn = self.eval(e.src[0]), e.src[1]
        key_ty = key_fn.ty.ret  # type: ignore[union-attr]
        keys = [sort_key(self.call(key_fn, x), key_ty) for x in v]
        order = sorted(range(len(v)), key=keys.__getitem__)  # stable
        return [v[i] for i in order]

    def tovec(self, e: n.Expr) -> Any:
        return [(k, v) for k, v in self.eval(e.src[0]).items()]

    def keyexists(self, e: n.Expr) -> Any:
        d, k = self.eval(e.src[0]), self.eval(e.src[1])
        return np.bool_(k in d)

    def optlookup(self, e: n.Expr) -> Any:
        d, k = self.eval(e.src[0]), self.eval(e.src[1])
        if k in d:
            return (np.bool_(True), d.get(k))
        return (np.bool_(False), zero(e.src[0].ty.value))  # type: ignore[union-attr]

    def iter_(self, e: n.Expr) -> list:
        """The elements an iterator visits, as a list."""
        if e.arg == "vec":
            return self.eval(e.src[0])
        if e.arg == "iter":
            v = self.eval(e.src[0])
            start, end, stride = (self.i64(x) for x in e.src[1:])
            if not (0 <= start <= end <= len(v)) or stride <= 0:
                raise IRRuntimeError(
                    f"iter(start={start}, end={end}, stride={stride}) invalid for a vector of length {len(v)}"
                )
            return v[start:end:stride]
        start, end, stride = (self.i64(x) for x in e.src)
        if stride <= 0:
            raise IRRuntimeError(f"rangeiter stride must be > 0, got {stride}")
        return [np.int64(k) for k in range(start, end, stride)]

    def for_(self, e: n.Expr) -> Any:
        iters, builder, func = n.for_parts(e)
        seqs = [self.iter_(it) for it in iters]
        if len({len(s) for s in seqs}) > 1:
            raise IRRuntimeError(f"zip of iterators of unequal lengths {[len(s) for s in seqs]}")
        elems = seqs[0] if len(seqs) == 1 else [tuple(t) for t in zip(*seqs, strict=True)]
        b = self.eval(builder)
        for k, x in enumerate(elems):
            b = self.call(func, b, np.int64(k), x)
        return b

    def merge(self, e: n.Expr) -> Any:
        b, x = self.eval(e.src[0]), self.eval(e.src[1])
        b.merge(x)
        return b

    def result(self, e: n.Expr) -> Any:
        return builder_result(self.eval(e.src[0]))

    def newbuilder(self, e: n.Expr) -> Any:
        return new_builder(e.arg, [self.eval(x) for x in e.src])

    def lambda_(self, e: n.Expr) -> Any:
        raise TypeError("a lambda is only a value where for or sort apply it")


def _show(k: Any) -> str:
    if isinstance(k, np.generic):
        return repr(k.item())
    if isinstance(k, (tuple, list)):
        return "{" + ", ".join(_show(x) for x in k) + "}"
    return repr(k)


_RULES: dict[str, Callable[[_Interpreter, n.Expr], Any]] = {
    n.LIT: _Interpreter.lit,
    n.IDENT: _Interpreter.ident,
    n.LAMBDA: _Interpreter.lambda_,
    n.BINOP: _Interpreter.binop,
    n.UNOP: _Interpreter.unop,
    n.CAST: _Interpreter.cast,
    n.SELECT: _Interpreter.select,
    n.IF: _Interpreter.if_,
    n.STRUCT: _Interpreter.struct,
    n.GETFIELD: _Interpreter.getfield,
    n.VECTOR: _Interpreter.vector,
    n.LEN: _Interpreter.len_,
    n.LOOKUP: _Interpreter.lookup,
    n.SLICE: _Interpreter.slice_,
    n.SORT: _Interpreter.sort,
    n.TOVEC: _Interpreter.tovec,
    n.KEYEXISTS: _Interpreter.keyexists,
    n.OPTLOOKUP: _Interpreter.optlookup,
    n.ITER: _Interpreter.iter_,
    n.FOR: _Interpreter.for_,
    n.MERGE: _Interpreter.merge,
    n.RESULT: _Interpreter.result,
    n.NEWBUILDER: _Interpreter.newbuilder,
}
_RULES[n.LET] = _Interpreter.eval  # eval walks let chains itself, without recursion
assert set(_RULES) == set(n.ALL_OPS)
