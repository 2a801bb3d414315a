"""Pass ``fuse_vertical``: a loop over the result of an appender loop merges into its consumer.

Frontends emit one loop per library call, each materializing its result with an ``appender``; the
next call loops over that vector. This pass removes the intermediate vector: the producer's loop
body is kept, and each of its ``merge(b, v)`` becomes the consumer's body applied to ``v``. So
maps, filters (the producer's ``if`` moves into the consumer) and reductions fuse, and chains of
them fuse into one loop, bottom-up. Through ``zip``, every zipped producer that is a map (one
unconditional merge per iteration) contributes its own iterators to the fused loop, and reads the
fields of its element from the fused loop's element. ``len`` and ``lookup`` of a map's result read
the map's input instead.

Each loop is fused with its producers before the pass looks inside it (top-down), and a chain of
producers (single-iterator loops and zips of maps alike) fuses in one go: the loop being grown is
kept as its parts and built once at the end, so each step costs the size of its (small) producer,
and what it builds is typed as it is built (no type checker runs per step). The fused loop's body
is walked afterwards only if one of its producers brought a loop, ``len`` or ``lookup`` into it.
"""

from __future__ import annotations

from collections.abc import Callable

from ...ir import nodes as n
from ...ir import types as T
from ...ir.analysis import Fresh, bound_names, can_fail, contains, free_vars, substitute
from ...ir.deep import run_deep
from ..pipeline import register
from ..rewrite import RuleSet, retype

rules = RuleSet("fuse_vertical")  # len/lookup rules; loops are fused top-down by ``_fuse``


class _NoFuse(Exception):
    """The producer's body is not of a shape this pass can thread a consumer through."""


def _producer(e: n.Expr) -> n.Expr | None:
    """The appender loop ``e`` (an iterator's vector) is the result of, if any."""
    if e.op == n.RESULT and e.src[0].op == n.FOR:
        loop = e.src[0]
        builder = n.for_parts(loop)[1]
        if builder.op == n.NEWBUILDER and isinstance(builder.arg, T.Appender):
            return loop
    return None


def peel_map(loop: n.Expr) -> tuple[list[tuple[str, n.Expr]], n.Expr] | None:
    """``(lets, value)`` when the loop body is ``let ...; merge(b, value)``: one unconditional
    merge per iteration (a map), the builder used nowhere else."""
    (bname, _), _, _ = loop.src[-1].params
    body = loop.src[-1].body
    lets = []
    while body.op == n.LET:
        if bname in free_vars(body.src[0]) or body.arg == bname:
            return None
        lets.append((body.arg, body.src[0]))
        body = body.src[1]
    if body.op != n.MERGE or body.src[0].op != n.IDENT or body.src[0].arg != bname:
        return None
    if bname in free_vars(body.src[1]):
        return None
    return lets, body.src[1]


# Typed constructors: what this pass builds is typed as it is built, so no checker runs per step.
def _let(name: str, value: n.Expr, body: n.Expr) -> n.Expr:
    return n.Expr(n.LET, (value, body), name, body.ty)


def _if(cond: n.Expr, t: n.Expr, f: n.Expr) -> n.Expr:
    return n.Expr(n.IF, (cond, t, f), None, t.ty)


def _lam(params: list[tuple[str, T.Type]], body: n.Expr) -> n.Expr:
    return n.Expr(n.LAMBDA, (body,), tuple(params), T.Function(tuple(t for _, t in params), body.ty))


def _for(iters: tuple[n.Expr, ...] | list[n.Expr], builder: n.Expr, func: n.Expr) -> n.Expr:
    return n.Expr(n.FOR, (*iters, builder, func), None, builder.ty)


def _struct(fields: list[n.Expr]) -> n.Expr:
    return n.Expr(n.STRUCT, tuple(fields), None, T.struct_of(tuple([f.ty for f in fields])))  # type: ignore[misc]


def _getfield(e: n.Expr, index: int) -> n.Expr:
    return n.Expr(n.GETFIELD, (e,), index, e.ty.fields[index])  # type: ignore[union-attr]


def _wrap_lets(lets: list[tuple[str, n.Expr]], body: n.Expr) -> n.Expr:
    for name, value in reversed(lets):
        body = _let(name, value, body)
    return body


def _rename_binders(
    e: n.Expr, avoid: set[str] | frozenset[str], fresh: Callable[[str], str], binders: _Binders
) -> n.Expr:
    """``e`` with every let/lambda binder named in ``avoid`` renamed (so that code placed inside
    its scope cannot be captured)."""
    if binders.of(e).isdisjoint(avoid):
        return e
    if e.op == n.LET:
        value = _rename_binders(e.src[0], avoid, fresh, binders)
        name, body = e.arg, e.src[1]
        if name in avoid:
            new = fresh(name)
            body = substitute(body, {name: n.ident(new, e.src[0].ty)})
            name = new
        return e.replace(src=(value, _rename_binders(body, avoid, fresh, binders)), arg=name)
    if e.op == n.LAMBDA:
        params, body = list(e.params), e.body
        mapping = {}
        for j, (p, ty) in enumerate(params):
            if p in avoid:
                new = fresh(p)
                mapping[p] = n.ident(new, ty)
                params[j] = (new, ty)
        body = substitute(body, mapping)
        return e.replace(src=(_rename_binders(body, avoid, fresh, binders),), arg=tuple(params))
    return e.replace(src=tuple(_rename_binders(s, avoid, fresh, binders) for s in e.src))


class _Binders:
    """``bound_names`` of producer bodies, cached for one run of the pass (chains share bodies)."""

    def __init__(self) -> None:
        self.memo: dict[n.Expr, frozenset[str]] = {}

    def of(self, e: n.Expr) -> frozenset[str]:
        found = self.memo.get(e)
        if found is None:
            found = self.memo[e] = bound_names(e)
        return found


class _Index:
    """The fused loop's index variable, made when first read (most maps ignore their index)."""

    __slots__ = ("name", "_ident")

    def __init__(self, name: str):
        self.name = name
        self._ident: n.Expr | None = None

    def __call__(self) -> n.Expr:
        if self._ident is None:
            self._ident = n.ident(self.name, T.I64)
        return self._ident


class _Consumer:
    """The consumer loop's body as a function of (builder expression, element, index)."""

    def __init__(self, params: tuple[tuple[str, T.Type], ...], body: n.Expr, fresh: Callable[[str], str]):
        (self.bname, self.bty), (self.iname, _), (self.ename, self.ety) = params
        self.body = body
        self.free = free_vars(body)
        self.fresh = fresh
        self.uses_index = self.iname in self.free

    def apply(self, builder: n.Expr, elem: n.Expr, index: _Index) -> n.Expr:
        """The consumer's body with its parameters bound to ``builder``, ``elem`` and ``index()``.

        The parameters are bound with ``let``s rather than substituted, so the consumer's body is
        never rebuilt: fusing a chain costs each step the size of the (small) producer only. A value
        that mentions one of the names being bound goes through a fresh temporary first."""
        body, free = self.body, self.free
        if self.bname not in free:
            raise _NoFuse  # the consumer drops its builder: not a shape we thread
        binds = []
        if self.uses_index and index.name != self.iname:
            binds.append((self.iname, index()))
        for nm, v in ((self.ename, elem), (self.bname, builder)):
            # the element is bound even when the consumer ignores it if computing it can fail:
            # the producer's errors must survive fusion; `let x = x` is left out
            if (nm in free or (nm == self.ename and can_fail(v))) and not (v.op == n.IDENT and v.arg == nm):
                binds.append((nm, v))
        temps = []
        for k, (nm, v) in enumerate(binds):
            v = retype(v)
            if k and not free_vars(v).isdisjoint([name for name, _ in binds[:k]]):  # sees an earlier binding
                tmp = self.fresh(nm)
                temps.append((tmp, v))
                v = n.ident(tmp, v.ty)
            binds[k] = (nm, v)
        for nm, v in reversed(binds):
            body = _let(nm, v, body)
        return _wrap_lets(temps, body)


def _thread(p: n.Expr, bname: str, new_b: n.Expr, consumer: _Consumer, index: _Index) -> n.Expr:
    """The producer body ``p`` with its builder ``bname`` replaced by the consumer's builder and
    each ``merge(x, v)`` into it by the consumer's body applied to ``v``."""
    if p.op == n.IDENT and p.arg == bname:
        return new_b
    if bname not in free_vars(p):
        raise _NoFuse  # a builder-typed value not derived from the producer's builder
    if p.op == n.MERGE:
        if bname in free_vars(p.src[1]):
            raise _NoFuse
        return consumer.apply(_thread(p.src[0], bname, new_b, consumer, index), p.src[1], index)
    if p.op == n.IF:
        cond, t, f = p.src
        if bname in free_vars(cond):
            raise _NoFuse
        return _if(cond, _thread(t, bname, new_b, consumer, index), _thread(f, bname, new_b, consumer, index))
    if p.op == n.LET:
        value, body = p.src
        if bname in free_vars(value) or p.arg == bname:
            raise _NoFuse
        return _let(p.arg, value, _thread(body, bname, new_b, consumer, index))
    if p.op == n.FOR:
        # A nested loop merging into the producer's builder merges into the consumer's instead.
        iters, builder, func = n.for_parts(p)
        if any(bname in free_vars(it) for it in iters) or bname in free_vars(func):
            raise _NoFuse
        (ib, _), (ii, ity), (ie, iety) = func.params
        inner_b = n.ident(consumer.fresh(ib), consumer.bty)
        body = _thread(func.body, ib, inner_b, consumer, index)
        lam = _lam([(inner_b.arg, consumer.bty), (ii, ity), (ie, iety)], body)
        return _for(iters, _thread(builder, bname, new_b, consumer, index), lam)
    raise _NoFuse


class _Loop:
    """A loop under construction, ``for(iters, builder, |params| body)``: a chain of producers fuses
    into it one after the other, and the loop node is built once at the end (the loops between
    the steps are never made)."""

    __slots__ = ("iters", "builder", "params", "body", "settled", "_builder_var", "_fresh")

    def __init__(self, e: n.Expr):
        iters, self.builder, func = n.for_parts(e)
        self.iters: tuple[n.Expr, ...] = iters
        self.params: tuple[tuple[str, T.Type], ...] = func.params
        self.body: n.Expr = func.body
        #: Whether the body has nothing for the pass to do (no loop, ``len`` or ``lookup``), so
        #: the fused loop's body need not be walked: kept up to date as producers fuse in.
        self.settled = _settled(self.body)
        self._builder_var: n.Expr | None = None
        self._fresh: Fresh | None = None

    def update(
        self,
        iters: tuple[n.Expr, ...],
        params: tuple[tuple[str, T.Type], ...],
        body: n.Expr,
        settled: bool,
        fresh_kept: bool = False,
    ) -> None:
        """The loop after a fusion step (``settled``: what the step added has nothing for the
        pass to do; ``fresh_kept``: the step's last fresh name is bound in the new loop, which has
        no name numbered higher, so the counter stays exact without a scan)."""
        self.iters, self.params, self.body = iters, params, body
        self.settled = self.settled and settled
        if not fresh_kept:
            self._fresh = None

    def fresh(self, base: str) -> str:
        """A name fresh in the loop as it is (what ``Fresh(loop)`` gives), the names scanned on
        first use: most fusion steps need no new name."""
        if self._fresh is None:
            self._fresh = Fresh(self.builder, self.body, *self.iters, *(n.ident(p) for p, _ in self.params))
        return self._fresh(base)

    def builder_var(self, name: str, ty: T.Type) -> n.Expr:
        """The builder variable ``name`` (one node for the whole chain, usually)."""
        b = self._builder_var
        if b is None or b.arg != name or b.ty is not ty:
            b = self._builder_var = n.ident(name, ty)
        return b

    def build(self) -> n.Expr:
        return _for(self.iters, self.builder, _lam(list(self.params), self.body))


def fuse_loop(e: n.Expr, binders: _Binders | None = None) -> _Loop | None:
    """``for(result(P), B, C)`` with P an appender loop (map, filter, ...), or a zip of such maps,
    -> one loop; then the producers of that loop's iterators in turn, as long as they fuse (a chain
    fuses in one call, the loop built once at the end: ``build()``)."""
    loop = _Loop(e)
    binders = binders or _Binders()
    fused = False
    while _fuse_producer(loop, binders) or _fuse_zip(loop):
        fused = True
    return loop if fused else None


def _settled(e: n.Expr) -> bool:
    """Whether ``e`` has nothing for this pass to do: no loop to fuse, no ``len`` or ``lookup``."""
    return not contains(e, (n.FOR, n.LEN, n.LOOKUP))


def _fuse_producer(loop: _Loop, binders: _Binders) -> bool:
    """Fuse the producer of ``loop``'s one iterator into it, if it has one that fuses."""
    iters = loop.iters
    if len(iters) != 1 or iters[0].arg != "vec":
        return False
    prod = _producer(iters[0].src[0])
    if prod is None:
        return False
    piters, _, pfunc = n.for_parts(prod)
    fresh = loop.fresh
    consumer = _Consumer(loop.params, loop.body, fresh)
    (pb, _), (pi, _), (px, pxty) = pfunc.params
    if consumer.uses_index and peel_map(prod) is None:
        return False  # with a filter, the consumer's index is not the producer's
    # The consumer's body goes inside the producer's: no producer name may capture a free name of
    # the consumer. Rename only on a clash (renaming rebuilds the producer's body).
    avoid = consumer.free.difference([p for p, _ in loop.params])
    nb = pb if pb not in avoid else fresh(pb)
    ni = pi if pi not in avoid else fresh(pi)
    nx = px if px not in avoid else fresh(px)
    body = pfunc.body
    if (ni, nx) != (pi, px):
        body = substitute(body, {pi: n.ident(ni, T.I64), px: n.ident(nx, pxty)})
    # every binder inside the producer's body named like a name the consumer's body will read
    # (its free names, and the producer's index, element and builder, which it is handed) is
    # renamed, or it would capture them
    if binders.of(body):
        body = _rename_binders(body, avoid | {nb, ni, nx}, fresh, binders)
    new_b = loop.builder_var(nb, consumer.bty)
    try:
        threaded = _thread(body, pb, new_b, consumer, _Index(ni))
    except _NoFuse:
        loop.update(loop.iters, loop.params, loop.body, True)  # unchanged, but names may be used up
        return False
    loop.update(piters, ((nb, consumer.bty), (ni, T.I64), (nx, pxty)), threaded, _settled(pfunc.body))
    return True


def _fuse_zip(loop: _Loop) -> bool:
    """``for(zip(..., result(map), ...), B, C)``: each zipped map's iterators join the zip."""
    iters = loop.iters
    if len(iters) < 2:
        return False
    maps = {}
    for k, it in enumerate(iters):
        prod = _producer(it.src[0]) if it.arg == "vec" else None
        if prod is not None and (shape := peel_map(prod)) is not None:
            maps[k] = (prod, shape)
    if not maps:
        return False
    fresh = loop.fresh
    consumer = _Consumer(loop.params, loop.body, fresh)
    if consumer.bname not in consumer.free:
        return False  # the consumer drops its builder: not a shape we thread
    new_iters: list[n.Expr] = []
    slots: list[tuple[int, int]] = []  # per original component: (first position, count)
    for k, it in enumerate(iters):
        if k in maps:
            piters = n.for_parts(maps[k][0])[0]
            slots.append((len(new_iters), len(piters)))
            new_iters.extend(piters)
        else:
            slots.append((len(new_iters), 1))
            new_iters.append(it)
    new_iters, where = _canonical_zip(new_iters)
    elem_types = [it.ty.elem for it in new_iters]  # type: ignore[union-attr]
    elem_ty = elem_types[0] if len(elem_types) == 1 else T.struct_of(tuple(elem_types))
    nb, ni, ne = fresh(consumer.bname), fresh("i"), fresh("e")
    e_new = n.ident(ne, elem_ty)
    index = _Index(ni)

    def part(pos: int) -> n.Expr:
        return e_new if len(elem_types) == 1 else _getfield(e_new, where[pos])

    lets: list[tuple[str, n.Expr]] = []
    comps = []
    settled = True
    for k, (pos, count) in enumerate(slots):
        if k not in maps:
            comps.append(part(pos))
            continue
        prod, (plets, value) = maps[k]
        (_, _), (pi, _), (px, pxty) = n.for_parts(prod)[2].params
        parts = [part(pos + j) for j in range(count)]
        prod_body = _wrap_lets(plets, value)
        settled = settled and _settled(prod_body)
        computed = _read_element(prod_body, pi, index, px, parts)
        var = fresh("v")
        lets.append((var, computed))
        comps.append(n.ident(var, iters[k].ty.elem))  # type: ignore[union-attr]
    elem = comps[0] if len(comps) == 1 else _struct(comps)
    body = _wrap_lets(lets, consumer.apply(n.ident(nb, consumer.bty), elem, index))
    params = ((nb, consumer.bty), (ni, T.I64), (ne, elem_ty))
    loop.update(tuple(new_iters), params, body, settled, fresh_kept=True)
    return True


def _read_element(body: n.Expr, pi: str, index: _Index, px: str, parts: list[n.Expr]) -> n.Expr:
    """``body`` (a zipped map's lets and value) reading its index ``pi`` as ``index()`` and its
    element ``px`` as ``parts`` (one, or the fields of a struct): ``substitute`` (the new names
    are fresh in ``body``), but ``px.$k`` becomes the k-th part itself when the parts are fields
    of the fused loop's element, what ``fold`` would make of ``{parts}.$k``."""
    fv = free_vars(body)
    if pi not in fv and px not in fv:
        return body
    if len(parts) > 1 and all(p.op == n.GETFIELD for p in parts):
        try:
            return _read_fields(body, pi, index, px, parts)
        except _Rebound:
            pass
    return substitute(body, {pi: index(), px: parts[0] if len(parts) == 1 else _struct(parts)})


class _Rebound(Exception):
    """A binder inside a zipped map's body rebinds its index or element name."""


def _read_fields(body: n.Expr, pi: str, index: _Index, px: str, parts: list[n.Expr]) -> n.Expr:
    memo: dict[n.Expr, n.Expr] = {}
    whole: list[n.Expr] = []

    def go(y: n.Expr) -> n.Expr:
        fv = free_vars(y)
        if pi not in fv and px not in fv:
            return y
        op = y.op
        if op == n.IDENT:
            if y.arg == pi:
                return index()
            if not whole:
                whole.append(_struct(parts))
            return whole[0]
        if op == n.GETFIELD and y.src[0].op == n.IDENT and y.src[0].arg == px:
            return parts[y.arg]
        if (op == n.LET and y.arg in (pi, px)) or (op == n.LAMBDA and any(p in (pi, px) for p, _ in y.arg)):
            raise _Rebound
        out = memo.get(y)
        if out is None:
            out = memo[y] = n.Expr(op, tuple([go(c) for c in y.src]), y.arg, y.ty)
        return out

    return go(body)


def _canonical_zip(iters: list[n.Expr]) -> tuple[list[n.Expr], list[int]]:
    """The zipped iterators without repeats, plain vectors named by parameters or lets first in
    name order (so loops over the same vectors zip them alike and ``fuse_horizontal`` sees one
    iteration space); and where each original iterator went."""
    named: list[tuple[str, int]] = []
    others: list[int] = []
    for j, it in enumerate(iters):
        if it.arg == "vec" and it.src[0].op == n.IDENT:
            named.append((it.src[0].arg, j))
        else:
            others.append(j)
    named.sort()
    out: list[n.Expr] = []
    slot: dict[n.Expr, int] = {}
    where = [0] * len(iters)
    for j in [j for _, j in named] + others:
        it = iters[j]
        if it not in slot:
            slot[it] = len(out)
            out.append(it)
        where[j] = slot[it]
    return out, where


def _map_over_vector(e: n.Expr) -> tuple[n.Expr, n.Expr, list, n.Expr] | None:
    """``(loop, vector, lets, value)`` when ``e`` is the result of a map over one plain vector."""
    prod = _producer(e)
    if prod is None:
        return None
    piters = n.for_parts(prod)[0]
    if len(piters) != 1 or piters[0].arg != "vec":
        return None
    shape = peel_map(prod)
    if shape is None:
        return None
    lets, value = shape
    if can_fail(value) or any(can_fail(v) for _, v in lets):
        return None  # reading one element (or none) would lose the other elements' errors
    return prod, piters[0].src[0], lets, value


@rules.rule(n.LEN)
def len_of_map(e: n.Expr) -> n.Expr | None:
    """``len(result(map over v))`` -> ``len(v)``."""
    m = _map_over_vector(e.src[0])
    return None if m is None else n.call(n.LEN, m[1])


@rules.rule(n.LOOKUP)
def lookup_of_map(e: n.Expr) -> n.Expr | None:
    """``lookup(result(map over v), k)`` -> the map's value at ``lookup(v, k)`` (same errors)."""
    if not isinstance(e.src[0].ty, T.Vec):
        return None
    m = _map_over_vector(e.src[0])
    if m is None:
        return None
    prod, vec, lets, value = m
    (_, _), (pi, _), (px, pxty) = n.for_parts(prod)[2].params
    fresh = Fresh(e)
    k, x = fresh("k"), fresh("x")
    inner = substitute(_wrap_lets(lets, value), {pi: n.ident(k, T.I64), px: n.ident(x, pxty)})
    return n.let(k, e.src[1], n.let(x, n.call(n.LOOKUP, vec, n.ident(k, T.I64)), inner))


class _TopDown:
    """Fuse each loop with its producers before looking inside it: the consumer is the growing
    side, and it is never rebuilt, so a chain of k loops fuses in O(k)."""

    def __init__(self) -> None:
        self.memo: dict[n.Expr, n.Expr] = {}
        self.binders = _Binders()

    def go(self, e: n.Expr) -> n.Expr:
        if not e.src:
            return e
        done = self.memo.get(e)
        if done is not None:
            return done
        x = e
        if x.op == n.FOR:
            loop = fuse_loop(x, self.binders)
            if loop is not None:
                x = retype(loop.build())
                if loop.settled:  # only the iterators and the builder may hold more to fuse
                    src = tuple([self.go(s) for s in x.src[:-1]])
                    x = n.Expr(x.op, (*src, x.src[-1]), x.arg, x.ty)
                    self.memo[e] = x
                    return x
        src = tuple([self.go(s) for s in x.src])
        if src != x.src:
            x = n.Expr(x.op, src, x.arg, x.ty)
        x = rules.rewrite(x) if x.op in (n.LEN, n.LOOKUP) else x
        self.memo[e] = x
        return x


@register("fuse_vertical")
def run(program: n.Expr) -> n.Expr:
    """Vertical fusion: producer loops merge into their consumers (maps, filters, zips, len, lookup)."""
    return run_deep(_TopDown().go, program)
