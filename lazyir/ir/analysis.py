"""Small analyses over IR expressions shared by the optimizer and the backend."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import TypeVar

from . import nodes as n
from .types import Struct, Type, VecMerger

R = TypeVar("R")


def memo_fold(e: n.Expr, slot: str, combine: Callable[[n.Expr, list], R]) -> R:
    """``combine(node, [result of each child])`` over the DAG ``e``, bottom-up, cached in the
    node's ``slot`` (nodes are immutable, so a node built on top of known ones costs O(1)). No
    recursion: programs nest 10,000 deep."""
    hit = getattr(e, slot)
    if hit is not None:
        return hit
    stack = [e]
    while stack:
        x = stack[-1]
        ready = True
        for s in x.src:
            if getattr(s, slot) is None:
                stack.append(s)  # operands first (a shared one pushed twice is computed once)
                ready = False
        if ready:
            stack.pop()
            if getattr(x, slot) is None:
                object.__setattr__(x, slot, combine(x, [getattr(s, slot) for s in x.src]))
    return getattr(e, slot)


def free_vars(e: n.Expr) -> frozenset[str]:
    """Names ``e`` uses that it does not bind itself."""
    fv = e._fv
    if fv is not None:
        return fv
    # ``memo_fold`` written out for this, the most asked analysis: about twice as fast.
    stack = [e]
    while stack:
        x = stack[-1]
        src = x.src
        ready = True
        for s in src:
            if s._fv is None:
                stack.append(s)  # operands first (a shared one pushed twice is computed once)
                ready = False
        if not ready:
            continue
        stack.pop()
        if x._fv is not None:
            continue
        op = x.op
        if op == n.IDENT:
            fv = frozenset((x.arg,))
        elif not src:
            fv = _NONE
        elif op == n.LET:
            fv = src[1]._fv
            if x.arg in fv:
                fv = fv - {x.arg}
            fv = _union(src[0]._fv, fv)
        elif op == n.LAMBDA:
            fv = src[0]._fv - {name for name, _ in x.arg}
        elif len(src) == 1:
            fv = src[0]._fv
        elif len(src) == 2:
            fv = _union(src[0]._fv, src[1]._fv)
        else:
            fv = _NONE.union(*[s._fv for s in src])
        _set_fv(x, fv)
    return e._fv  # type: ignore[return-value]


_NONE: frozenset[str] = frozenset()


def _union(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """``a | b``, one of them itself when it holds the other (operands mostly share their names:
    no new set, and the program keeps fewer)."""
    if b <= a:
        return a
    if a <= b:
        return b
    return a | b


_set_fv = n._Fields.__dict__["_fv"].__set__


def walk(e: n.Expr) -> Iterator[n.Expr]:
    """Every distinct node of ``e`` once (no particular order; no recursion)."""
    seen: set[int] = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        yield x
        stack.extend(x.src)


def count_loops(e: n.Expr) -> int:
    """Number of ``for`` nodes in ``e`` (passes over memory, before fusion)."""
    return sum(x.op == n.FOR for x in walk(e))


def bound_names(e: n.Expr) -> frozenset[str]:
    """Every name a ``let`` or lambda inside ``e`` binds."""
    out: set[str] = set()
    for x in walk(e):
        if x.op == n.LET:
            out.add(x.arg)
        elif x.op == n.LAMBDA:
            out.update(name for name, _ in x.params)
    return frozenset(out)


def _suffix(name: str) -> int:
    head, sep, tail = name.rpartition("__")
    return int(tail) if sep and head and tail.isdigit() else 0


def _watermark(e: n.Expr, children: list[int]) -> int:
    if e.op in (n.IDENT, n.LET):
        own = _suffix(e.arg)
    elif e.op == n.LAMBDA:
        own = max((_suffix(p) for p, _ in e.params), default=0)
    else:
        own = 0
    return max(own, *children) if children else own


def name_watermark(e: n.Expr) -> int:
    """The largest ``k`` of any name ``base__k`` that ``e`` uses or binds (0 if none): names with a
    larger ``k`` are fresh in ``e``. Cached per node, so it costs O(1) for a node built on top of
    known ones (passes stay linear)."""
    return memo_fold(e, "_wm", _watermark)


class Fresh:
    """Names not used in given expressions: ``fresh("b")`` -> ``b__1``, ``b__2``... (numbered past
    every ``name__k`` the expressions contain, so no scan of the expressions is needed). The
    watermark is read on the first call: most users never need a fresh name."""

    def __init__(self, *exprs: n.Expr):
        self.exprs: tuple[n.Expr, ...] | None = exprs
        self.counter = 0

    def __call__(self, base: str) -> str:
        if self.exprs is not None:
            self.counter = max((name_watermark(e) for e in self.exprs), default=0)
            self.exprs = None
        head, sep, tail = base.rpartition("__")
        if sep and head and tail.isdigit():
            base = head
        self.counter += 1
        return f"{base}__{self.counter}"


def substitute(e: n.Expr, mapping: dict[str, n.Expr]) -> n.Expr:
    """``e`` with free occurrences of the names in ``mapping`` replaced, avoiding capture: a binder
    inside ``e`` that would capture a free name of a replacement is renamed. Replacements must
    have the types of the names they replace (identifiers they contain carry types)."""
    if not mapping:
        return e
    if any(v.ty is None for v in mapping.values()):
        # Typed trees must not get untyped parts (the checker trusts typed nodes): type them.
        mapping = {k: _typed_if_possible(v) for k, v in mapping.items()}
    repl_free: frozenset[str] = frozenset().union(*(free_vars(v) for v in mapping.values()))
    fresh = Fresh(e, *mapping.values())
    memo: dict[tuple[n.Expr, tuple], n.Expr] = {}

    def go(x: n.Expr, m: dict[str, n.Expr]) -> n.Expr:
        fv = free_vars(x)
        if len(m) == 1:
            ((k, v),) = m.items()
            if k not in fv:
                return x
            live = m
            key: tuple = (x, k, id(v))
        else:
            live = {k: v for k, v in m.items() if k in fv}
            if not live:
                return x
            key = (x, tuple(sorted((k, id(v)) for k, v in live.items())))
        done = memo.get(key)
        if done is not None:
            return done
        out = _subst_node(x, live)
        memo[key] = out
        return out

    def _subst_node(x: n.Expr, m: dict[str, n.Expr]) -> n.Expr:
        if x.op == n.IDENT:
            return m[x.arg]
        if x.op == n.LET:
            value = go(x.src[0], m)
            name, body = x.arg, x.src[1]
            inner = {k: v for k, v in m.items() if k != name}
            if name in repl_free and inner and (free_vars(body) & inner.keys()):
                new = fresh(name)
                body = go(body, {name: n.ident(new, x.src[0].ty)})
                name = new
            return x.replace(src=(value, go(body, inner)), arg=name)
        if x.op == n.LAMBDA:
            params = list(x.params)
            inner = {k: v for k, v in m.items() if k not in {p for p, _ in params}}
            body = x.body
            renames: dict[str, n.Expr] = {}
            for j, (p, ty) in enumerate(params):
                if p in repl_free and inner:
                    new = fresh(p)
                    renames[p] = n.ident(new, ty)
                    params[j] = (new, ty)
            if renames:
                body = go(body, renames)
            return x.replace(src=(go(body, inner),), arg=tuple(params))
        return x.replace(src=tuple(go(s, m) for s in x.src))

    return go(e, mapping)


def _typed_if_possible(v: n.Expr) -> n.Expr:
    if v.ty is not None:
        return v
    from ..errors import IRTypeError
    from .typecheck import typecheck

    try:
        return typecheck(v, trust_typed=True)
    except IRTypeError:
        return v  # it mentions untyped names: typed later, with its context


def use_count(e: n.Expr, name: str) -> int:
    """How many times free ``name`` occurs in ``e`` (occurrences in shared sub-trees count each
    time the tree uses them, as evaluation would)."""
    memo: dict[n.Expr, int] = {}

    def go(x: n.Expr) -> int:
        if name not in free_vars(x):
            return 0
        if x.op == n.IDENT:
            return 1
        done = memo.get(x)
        if done is not None:
            return done
        if x.op == n.LET:
            total = go(x.src[0]) + (0 if x.arg == name else go(x.src[1]))
        elif x.op == n.LAMBDA:
            total = go(x.body)
        else:
            total = sum(go(s) for s in x.src)
        memo[x] = total
        return total

    return go(e)


def can_fail(e: n.Expr) -> bool:
    """Whether evaluating ``e`` may raise ``IRRuntimeError`` (conservative: ``False`` is a proof).

    Failing constructs (docs/ir.md): ``lookup`` (vector index out of range, missing dictionary
    key), ``slice``, ``iter(v, start, end, stride)``, ``rangeiter`` with a stride that is not a
    positive literal, ``zip`` of iterators that are not one and the same, and ``merge`` into a
    ``vecmerger`` (index out of range). Lambda bodies count even though a loop may run them zero
    times, and both branches of ``if`` count. Untyped merges are assumed to fail.
    """
    return bool(_flags(e) & _FAILS)


def has_loop(e: n.Expr) -> bool:
    """Whether ``e`` contains a ``for`` loop (lambda bodies included)."""
    return bool(_flags(e) & _OP_BIT[n.FOR])


def contains(e: n.Expr, ops: Iterable[str]) -> bool:
    """Whether some node of ``e`` has one of the constructs ``ops`` (lambda bodies included)."""
    return bool(_flags(e) & sum(_OP_BIT[op] for op in set(ops)))


# Facts about a node and everything under it, a bit each, folded once per node into its ``_fl``
# slot: which constructs occur in it (``contains``), whether it may fail (``can_fail``), and
# whether some name in it may hold a builder (which spares ``removable`` the ``free_builders``
# walk for most expressions).
_FAILS, _BUILDER_NAME = 1, 2
_OP_BIT = {op: 4 << k for k, op in enumerate(n.ALL_OPS)}


def _flags(e: n.Expr) -> int:
    fl = e._fl
    return fl if fl is not None else memo_fold(e, "_fl", _node_flags)


def _node_flags(x: n.Expr, children: list[int]) -> int:
    fl = _OP_BIT[x.op] | (_FAILS if _fails_itself(x) else 0)
    if x.op == n.IDENT and (x.ty is None or _holds_builder(x.ty)):
        fl |= _BUILDER_NAME
    for c in children:
        fl |= c
    return fl


def _fails_itself(x: n.Expr) -> bool:
    """Whether node ``x`` itself (its operands evaluated) may raise."""
    if x.op == n.LOOKUP:
        v, k = x.src
        # A literal index into a vector literal is checked here and now.
        return not (v.op == n.VECTOR and k.op == n.LIT and 0 <= k.arg < len(v.src))
    if x.op == n.SLICE:
        return True
    if x.op == n.ITER:
        if x.arg == "iter":
            return True
        if x.arg == "range":
            stride = x.src[2]
            return not (stride.op == n.LIT and stride.arg > 0)
        return False
    if x.op == n.FOR:
        iters = n.for_parts(x)[0]
        return any(it is not iters[0] for it in iters)  # zip of unequal lengths
    if x.op == n.MERGE:
        return x.src[0].ty is None or isinstance(x.src[0].ty, VecMerger)
    return False


def free_builders(e: n.Expr) -> frozenset[str]:
    """Free names of ``e`` whose values hold builders. Merges update builders in place, so
    evaluating ``e`` may change one of these, an effect seen outside ``e``; an expression without
    them only changes builders it creates itself, which nothing but its value can reach."""
    fb = e._fb
    return fb if fb is not None else memo_fold(e, "_fb", _free_builders)


def fold_into(e: n.Expr, memo: MutableMapping, combine: Callable[[n.Expr, list], R]) -> R:
    """``combine(x, [value of each operand])`` for every node of ``e``, children first, memoized
    in the mapping ``memo`` (like ``memo_fold``, for results that are not cached on the nodes)."""
    get = memo.get  # one lookup per operand (a WeakKeyDictionary's are Python calls)
    done = get(e, _MISSING)
    if done is not _MISSING:
        return done
    stack = [e]
    while stack:
        x = stack[-1]
        known = [get(s, _MISSING) for s in x.src]
        if _MISSING in known:  # operands first (a shared one pushed twice is computed twice)
            stack.extend([s for s, k in zip(x.src, known, strict=True) if k is _MISSING])
            continue
        stack.pop()
        memo[x] = combine(x, known)
    return memo[e]


_MISSING = object()


def _free_builders(x: n.Expr, children: list[frozenset[str]]) -> frozenset[str]:
    if x.op == n.IDENT:
        return frozenset((x.arg,)) if x.ty is None or _holds_builder(x.ty) else frozenset()
    if not any(children):
        return frozenset()
    if x.op == n.LET:
        return children[0] | (children[1] - {x.arg})
    if x.op == n.LAMBDA:
        return children[0] - {name for name, _ in x.params}
    return frozenset().union(*children)


def _holds_builder(ty: Type) -> bool:
    return ty.is_builder or (isinstance(ty, Struct) and any(_holds_builder(f) for f in ty.fields))


def removable(e: n.Expr) -> bool:
    """Whether evaluating ``e`` can be skipped when its value is not used: it cannot fail and
    merges into no builder from outside (``can_fail``, ``free_builders``)."""
    fl = _flags(e)
    return not fl & _FAILS and (not fl & _BUILDER_NAME or not free_builders(e))
