"""Expression nodes of the lazyir IR.

One immutable node type, ``Expr(op, src, arg, ty)``: ``op`` names the construct, ``src`` holds the
child expressions, ``arg`` the non-expression payload (a literal value, a name, a field index,
an operator, a type) and ``ty`` the type once the checker has inferred it (``None`` before).
Structurally equal nodes are interned into one object, so equality is identity and hashing is
constant time. Because equal nodes are one object, a node has no source position: the parser
returns positions in a table of its own (``parse_with_positions``).
"""

from __future__ import annotations

import math
import struct
import weakref
from typing import Any

from .types import Scalar, Type

# The constructs, one name each. Op groups below are data, as algebraic facts.
LIT, IDENT, LET, LAMBDA = "lit", "ident", "let", "lambda"
BINOP, UNOP, CAST, SELECT, IF = "binop", "unop", "cast", "select", "if"
STRUCT, GETFIELD, VECTOR = "struct", "getfield", "vector"
LEN, LOOKUP, SLICE, SORT, TOVEC, KEYEXISTS, OPTLOOKUP = (
    "len",
    "lookup",
    "slice",
    "sort",
    "tovec",
    "keyexists",
    "optlookup",
)
ITER, FOR, MERGE, RESULT, NEWBUILDER = "iter", "for", "merge", "result", "newbuilder"

ALL_OPS = (
    LIT,
    IDENT,
    LET,
    LAMBDA,
    BINOP,
    UNOP,
    CAST,
    SELECT,
    IF,
    STRUCT,
    GETFIELD,
    VECTOR,
    LEN,
    LOOKUP,
    SLICE,
    SORT,
    TOVEC,
    KEYEXISTS,
    OPTLOOKUP,
    ITER,
    FOR,
    MERGE,
    RESULT,
    NEWBUILDER,
)

#: Infix binary operators, loosest binding first (C-like precedence levels).
INFIX_LEVELS: tuple[tuple[str, ...], ...] = (
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", "<=", ">", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
)
INFIX_PREC = {op: level for level, ops in enumerate(INFIX_LEVELS) for op in ops}
#: Binary operators written as calls: ``min(a, b)``.
CALL_BINOPS = ("min", "max", "pow", "atan2")
BINOPS = tuple(INFIX_PREC) + CALL_BINOPS
ARITH_BINOPS = ("+", "-", "*", "/", "%", "min", "max", "pow")
COMPARE_BINOPS = ("==", "!=", "<", "<=", ">", ">=")
LOGIC_BINOPS = ("&&", "||")
BITWISE_BINOPS = ("&", "|", "^")
SHIFT_BINOPS = ("<<", ">>")
FLOAT_BINOPS = ("atan2",)
COMMUTATIVE_BINOPS = ("+", "*", "==", "!=", "&&", "||", "&", "|", "^", "min", "max")

#: Unary math functions, written as calls: ``exp(x)``. ``-`` and ``!`` are prefix operators.
FLOAT_UNOPS = (
    "exp",
    "log",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "erf",
    "log1p",
    "expm1",
    "floor",
    "ceil",
)
UNOPS = ("-", "!", "abs") + FLOAT_UNOPS

#: Iteration kinds: over a whole vector, ``iter(v, start, end, stride)``, ``rangeiter(s, e, st)``.
ITER_KINDS = ("vec", "iter", "range")


def _key_arg(arg: Any) -> Any:
    """A hashable key for ``arg`` that tells 0.0 from -0.0 and makes NaN equal to itself."""
    if isinstance(arg, float):
        return ("f", struct.pack("<d", arg))
    if isinstance(arg, bool):
        return ("b", arg)
    return arg


_SAME: Any = object()  # ``Expr.replace``: the field is kept


class _Fields:
    """The fields of a node. ``_Draft`` and ``Expr`` share them: a node is made a ``_Draft``, whose
    fields plain attribute stores set (several times cheaper than calling slot descriptors), and
    then becomes an ``Expr``, which refuses stores."""

    # ``_fv``, ``_wm``, ``_fl`` and ``_fb`` cache analyses (free names, fresh-name watermark, flags
    # such as "may fail", free builder names) on the node itself: nodes are immutable, so the
    # cache never goes stale (see ``analysis.memo_fold``).
    __slots__ = ("op", "src", "arg", "ty", "_fv", "_wm", "_fl", "_fb", "__weakref__")


class _Draft(_Fields):
    __slots__ = ()


class Expr(_Fields):
    """An immutable, interned IR node. Build with ``Expr(op, src, arg, ty)``."""

    # Equality and hashing are object identity, Python's own (interning makes equal nodes one
    # object); a ``__hash__`` written in Python would cost a call per dictionary lookup.
    __slots__ = ()

    op: str
    src: tuple[Expr, ...]
    arg: Any
    ty: Type | None

    def __new__(
        cls,
        op: str,
        src: tuple[Expr, ...] = (),
        arg: Any = None,
        ty: Type | None = None,
    ) -> Expr:
        if op == LIT:
            if isinstance(arg, float) and math.isnan(arg):
                arg = math.nan  # one NaN: payload and sign are not part of the IR
            key = (op, (), _key_arg(arg), None if ty is None else ty._id)
        else:
            if type(src) is not tuple:
                src = tuple(src)
            key = (op, src, arg, None if ty is None else ty._id)
        ref = _INTERNED.get(key)
        if ref is not None:
            node = ref()
            if node is not None:
                return node
        node = object.__new__(_Draft)
        node.op = op
        node.src = src
        node.arg = arg
        node.ty = ty
        node._fv = node._wm = node._fl = node._fb = None
        node.__class__ = cls
        ref = _Ref(node, _forget)
        ref.key = key
        _INTERNED[key] = ref
        return node

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("IR nodes are immutable")

    def __reduce__(self):
        # A flat post-order table, so pickling neither recurses nor repeats shared subtrees.
        return (_from_table, (_to_table(self),))

    def __repr__(self) -> str:
        from .printer import to_text

        return f"Expr<{to_text(self)}>"

    def __str__(self) -> str:
        from .printer import to_text

        return to_text(self)

    def replace(self, *, op: Any = _SAME, src: Any = _SAME, arg: Any = _SAME, ty: Any = _SAME) -> Expr:
        """A node like this one with some of ``op, src, arg, ty`` changed."""
        return Expr(
            self.op if op is _SAME else op,
            self.src if src is _SAME else src,
            self.arg if arg is _SAME else arg,
            self.ty if ty is _SAME else ty,
        )

    # Readable accessors used across the code base.
    @property
    def params(self) -> tuple[tuple[str, Type | None], ...]:
        assert self.op == LAMBDA
        return self.arg

    @property
    def body(self) -> Expr:
        return self.src[-1]


# The intern table: key -> weak reference, the entry removed when its node dies. (A hand-made
# weak-value dict: ``weakref.WeakValueDictionary`` costs several times more per node.)
_INTERNED: dict[tuple, _Ref] = {}


class _Ref(weakref.ref):
    """A weak reference to an interned node that knows its key (no ``__new__``/``__init__`` in
    Python: one is made per node)."""

    __slots__ = ("key",)
    key: tuple


def _forget(ref: _Ref) -> None:
    if _INTERNED.get(ref.key) is ref:
        del _INTERNED[ref.key]


def _to_table(root: Expr) -> list[tuple[str, tuple[int, ...], Any, Type | None]]:
    index: dict[int, int] = {}
    table: list[tuple[str, tuple[int, ...], Any, Type | None]] = []
    stack: list[tuple[Expr, bool]] = [(root, False)]
    while stack:
        e, ready = stack.pop()
        if id(e) in index:
            continue
        if not ready:
            stack.append((e, True))
            stack.extend((s, False) for s in reversed(e.src) if id(s) not in index)
            continue
        index[id(e)] = len(table)
        table.append((e.op, tuple(index[id(s)] for s in e.src), e.arg, e.ty))
    return table


def _from_table(table: list[tuple[str, tuple[int, ...], Any, Type | None]]) -> Expr:
    built: list[Expr] = []
    for op, src, arg, ty in table:
        built.append(Expr(op, tuple(built[i] for i in src), arg, ty))
    return built[-1]


# Small constructors: frontends and tests build IR with these, never with strings.
def lit(value: bool | int | float, ty: Scalar) -> Expr:
    if ty.is_bool:
        value = bool(value)
    elif ty.is_int:
        value = int(value)
    else:
        value = float(value)
        if ty.name == "f32" and math.isfinite(value):
            value = float(struct.unpack("<f", struct.pack("<f", value))[0])
    return Expr(LIT, (), value, ty)


def ident(name: str, ty: Type | None = None) -> Expr:
    return Expr(IDENT, (), name, ty)


def let(name: str, value: Expr, body: Expr) -> Expr:
    return Expr(LET, (value, body), name)


def lam(params: list[tuple[str, Type | None]] | tuple, body: Expr) -> Expr:
    return Expr(LAMBDA, (body,), tuple((n, t) for n, t in params))


def binop(op: str, a: Expr, b: Expr) -> Expr:
    assert op in BINOPS, op
    return Expr(BINOP, (a, b), op)


def unop(op: str, a: Expr) -> Expr:
    assert op in UNOPS, op
    return Expr(UNOP, (a,), op)


def cast(ty: Scalar, a: Expr) -> Expr:
    return Expr(CAST, (a,), ty)


def select(c: Expr, t: Expr, f: Expr) -> Expr:
    return Expr(SELECT, (c, t, f))


def if_(c: Expr, t: Expr, f: Expr) -> Expr:
    return Expr(IF, (c, t, f))


def make_struct(*fields: Expr) -> Expr:
    return Expr(STRUCT, tuple(fields))


def getfield(e: Expr, index: int) -> Expr:
    return Expr(GETFIELD, (e,), index)


def vector(*elems: Expr) -> Expr:
    return Expr(VECTOR, tuple(elems))


def call(op: str, *args: Expr) -> Expr:
    """``len lookup slice sort tovec keyexists optlookup merge result`` by name."""
    return Expr(op, tuple(args))


def iter_vec(v: Expr) -> Expr:
    return Expr(ITER, (v,), "vec")


def iter_(v: Expr, start: Expr, end: Expr, stride: Expr) -> Expr:
    return Expr(ITER, (v, start, end, stride), "iter")


def rangeiter(start: Expr, end: Expr, stride: Expr) -> Expr:
    return Expr(ITER, (start, end, stride), "range")


def for_(iters: list[Expr] | tuple, builder: Expr, func: Expr) -> Expr:
    iters = tuple(i if i.op == ITER else iter_vec(i) for i in iters)
    return Expr(FOR, (*iters, builder, func))


def merge(b: Expr, v: Expr) -> Expr:
    return Expr(MERGE, (b, v))


def result(b: Expr) -> Expr:
    return Expr(RESULT, (b,))


def new_builder(ty: Type, *args: Expr) -> Expr:
    return Expr(NEWBUILDER, tuple(args), ty)


def for_parts(e: Expr) -> tuple[tuple[Expr, ...], Expr, Expr]:
    """``(iters, builder, func)`` of a ``for`` node."""
    assert e.op == FOR
    return e.src[:-2], e.src[-2], e.src[-1]
