"""Pass ``fuse_horizontal``: independent loops over one iteration space become one loop.

Loops that read the same iterators and do not feed each other are run as one loop whose builder
is the struct of their builders, so several outputs cost one pass over memory::

    let s = result(for(v, merger[f64,+], |b, i, e| merge(b, e)));
    let m = result(for(v, merger[f64,max], |b, i, e| merge(b, e)));
    {s, m}
  =>
    let h = result(for(v, {merger[f64,+], merger[f64,max]}, |bs, i, e| {merge(bs.$0, e), merge(bs.$1, e)}));
    let s = h.$0;
    let m = h.$1;
    {s, m}

The program body is read as a let chain ``let x0 = v0; ...; let xn-1 = vn-1; r``; the values and
``r`` are its *positions* 0..n. A candidate is an occurrence of ``result(for(iters, B, f))`` in a
position, evaluated every time the position is (not inside a lambda, nor in a branch of ``if``),
whose builder ``B`` is a fresh constructor (or a struct of them), and whose free names are bound by
the chain or the parameters (not by a ``let`` nested in the position) and are not builders (two
loops merging into one outer builder would interleave their merges). Its *key* is the loop node
with the chain binding each free name resolves to, so equal loops under the same bindings are one
loop (evaluated once after fusion) and loops under shadowed names are told apart.

Candidates are grouped by iteration space (the iterator nodes and the bindings of their names) in
one walk. A loop that first occurs at position ``k`` and depends on bindings up to position ``d``
may join a fused loop placed at position ``p`` when ``d < p <= k``: every name it uses is bound
there, and the fused loop runs before the loop's first use. Within a space, in order of first use,
a loop joins the latest group when that group's position is past its dependencies, else it starts
a new group at its own first use (the greedy choice of points hitting the intervals ``(d, k]``,
which makes the fewest groups). This also keeps dependent loops apart: a loop that uses (through
let-bound names) the result of another starts after it. Loops whose builder arguments contain a
candidate are left alone (they would have to be placed after it).

A group of two or more loops becomes ``let h = result(for(iters, {B1, ..., Bk}, |bs, i, e|
{f1.body[b1 := bs.$0, i1 := i, e1 := e], ...}))`` just before its position, and each occurrence
of a member becomes ``h.$j``. Iterators may contain loops fused elsewhere: those groups sit at or
before this position and are emitted first (groups are emitted in the order their first loops
were found, inner loops before the loops around them).

Time: one walk of each position (memoized, so shared sub-expressions count once per position)
plus, per distinct candidate, the size of its free-name set; rewriting is one more such walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...ir import nodes as n
from ...ir.analysis import Fresh, bound_names, free_vars, substitute
from ...ir.deep import run_deep
from ...ir.types import I64, Function, Struct, Type, result_type
from ..pipeline import register

_NONE: frozenset[str] = frozenset()
#: Position of the program's parameters (chain positions start at 0).
_PARAMS = -1

# A loop's identity: its node and, for each free name, the position that binds it.
LoopKey = tuple[n.Expr, frozenset[tuple[str, int]]]


@dataclass(eq=False)
class _Loop:
    """A distinct candidate loop: a ``result(for(...))`` node under one set of bindings."""

    node: n.Expr
    first: int  # position of its first occurrence
    dep: int  # last position whose binding it uses (``_PARAMS`` if none)
    fusable: bool  # false when its builder's arguments contain candidates
    group: _Group | None = None
    field: int = 0


@dataclass(eq=False)
class _Group:
    """Loops fused into one, placed just before position ``at``."""

    iters: tuple[n.Expr, ...]
    at: int
    loops: list[_Loop] = field(default_factory=list)
    ident: n.Expr | None = None  # ``h``, typed with the struct of the loops' results


@register("fuse_horizontal")
def run(program: n.Expr) -> n.Expr:
    """Fuse independent top-level loops over the same iterators into one loop with a struct of
    builders."""
    if program.op != n.LAMBDA:
        return program
    return run_deep(lambda: _Fuser(program).run())  # a fresh state if retried on a deep stack


def _is_fresh_builder(b: n.Expr) -> bool:
    if b.op == n.NEWBUILDER:
        return True
    return b.op == n.STRUCT and bool(b.src) and all(_is_fresh_builder(f) for f in b.src)


class _Fuser:
    def __init__(self, program: n.Expr):
        self.program = program
        chain: list[tuple[str, n.Expr]] = []
        body = program.body
        while body.op == n.LET:
            chain.append((body.arg, body.src[0]))
            body = body.src[1]
        self.chain = chain
        self.final = body
        self.loops: dict[LoopKey, _Loop] = {}
        self.spaces: dict[tuple, list[_Loop]] = {}
        # Per position: the chain binding (position, type) of every name in scope there.
        self.bound: dict[str, tuple[int, Type]] = {}
        self.memo: dict = {}

    # ---- positions ------------------------------------------------------------------------------
    def positions(self):
        """``(k, name, value)`` for every position, keeping ``self.bound`` current (the final
        expression has name ``None``)."""
        self.bound = {name: (_PARAMS, ty) for name, ty in self.program.params}
        for k, (name, value) in enumerate(self.chain):
            self.memo = {}
            yield k, name, value
            self.bound[name] = (k, value.ty)
        self.memo = {}
        yield len(self.chain), None, self.final

    def run(self) -> n.Expr:
        for k, _, value in self.positions():
            self.scan(value, _NONE, k)
        groups = self.group()
        if not groups:
            return self.program
        return self.rebuild(groups)

    # ---- candidates -----------------------------------------------------------------------------
    def key(self, x: n.Expr, local: frozenset[str]) -> LoopKey | None:
        """The loop key of ``x`` if it is a candidate here (``local``: names bound by lets inside
        the position, already narrowed to ``x``'s free names)."""
        if x.op != n.RESULT or x.src[0].op != n.FOR or local:
            return None
        if not _is_fresh_builder(n.for_parts(x.src[0])[1]):
            return None
        bindings = []
        for name in free_vars(x):
            pos, ty = self.bound[name]
            if ty.is_builder:  # merging into an outer builder: order of merges would change
                return None
            bindings.append((name, pos))
        return x, frozenset(bindings)

    def scan(self, x: n.Expr, local: frozenset[str], k: int) -> bool:
        """Record the candidates of ``x`` (evaluated whenever position ``k`` is); whether any."""
        if x.op == n.LAMBDA:
            return False
        if local:
            local = local & free_vars(x)
        memo_key = (x, local)
        found = self.memo.get(memo_key)
        if found is not None:
            return found
        if x.op == n.IF:  # only the condition is always evaluated
            found = self.scan(x.src[0], local, k)
        elif x.op == n.LET:
            found = self.scan(x.src[0], local, k) | self.scan(x.src[1], local | {x.arg}, k)
        else:
            found = False
            key = self.key(x, local)
            if key is not None:
                iters, builder, _ = n.for_parts(x.src[0])
                for it in iters:
                    self.scan(it, local, k)
                blocked = self.scan(builder, local, k)
                self.add(key, k, not blocked)
                found = True
            else:
                for s in x.src:
                    found |= self.scan(s, local, k)
        self.memo[memo_key] = found
        return found

    def add(self, key: LoopKey, k: int, fusable: bool) -> None:
        if key in self.loops:
            return
        node, bindings = key
        loop = self.loops[key] = _Loop(node, k, max((pos for _, pos in bindings), default=_PARAMS), fusable)
        iters = n.for_parts(node.src[0])[0]
        names = frozenset().union(*(free_vars(it) for it in iters))
        space = (iters, frozenset(b for b in bindings if b[0] in names))
        self.spaces.setdefault(space, []).append(loop)

    # ---- grouping -------------------------------------------------------------------------------
    def group(self) -> list[_Group]:
        """Groups of two or more loops, in the order their first loops were found."""
        order = {id(loop): seq for seq, loop in enumerate(self.loops.values())}
        groups: list[_Group] = []
        for (iters, _), loops in self.spaces.items():
            current: _Group | None = None
            for loop in loops:  # in order of first use
                if not loop.fusable:
                    continue
                if current is None or current.at <= loop.dep:
                    current = _Group(iters, loop.first)
                    groups.append(current)
                loop.group, loop.field = current, len(current.loops)
                current.loops.append(loop)
        kept = []
        for g in groups:
            if len(g.loops) < 2:
                g.loops[0].group = None
            else:
                kept.append(g)
        kept.sort(key=lambda g: order[id(g.loops[0])])
        return kept

    # ---- rewriting ------------------------------------------------------------------------------
    def rebuild(self, groups: list[_Group]) -> n.Expr:
        fresh = Fresh(self.program)
        used = set(free_vars(self.program) | bound_names(self.program))
        for g in groups:
            # A name the program never uses captures nothing. One node per group: its struct type
            # is as wide as the group, and hashing it again per use would cost quadratic time.
            g.ident = n.ident(_pick("h", fresh, used), Struct(tuple(loop.node.ty for loop in g.loops)))
        by_position: dict[int, list[_Group]] = {}
        for g in groups:
            by_position.setdefault(g.at, []).append(g)
        chain: list[tuple[str, n.Expr]] = []
        final = self.final
        for k, name, value in self.positions():
            for g in by_position.get(k, ()):
                chain.append((g.ident.arg, self.fused(g, fresh)))
            value = self.rewrite(value, _NONE)
            if name is None:
                final = value
            else:
                chain.append((name, value))
        body = final
        for name, value in reversed(chain):
            body = n.Expr(n.LET, (value, body), name, body.ty)
        return self.program.replace(src=(body,))

    def rewrite(self, x: n.Expr, local: frozenset[str]) -> n.Expr:
        """``x`` with each fused candidate replaced by its field of the fused result (walks ``x``
        exactly as ``scan`` did)."""
        if x.op == n.LAMBDA:
            return x
        if local:
            local = local & free_vars(x)
        memo_key = (x, local)
        done = self.memo.get(memo_key)
        if done is not None:
            return done
        if x.op == n.IF:
            out = x.replace(src=(self.rewrite(x.src[0], local), *x.src[1:]))
        elif x.op == n.LET:
            out = x.replace(src=(self.rewrite(x.src[0], local), self.rewrite(x.src[1], local | {x.arg})))
        else:
            key = self.key(x, local)
            loop = self.loops[key] if key is not None else None
            if loop is not None and loop.group is not None:
                g = loop.group
                out = n.Expr(n.GETFIELD, (g.ident,), loop.field, x.ty)
            else:
                out = x.replace(src=tuple(self.rewrite(s, local) for s in x.src))
        self.memo[memo_key] = out
        return out

    def fused(self, g: _Group, fresh: Fresh) -> n.Expr:
        """``result(for(iters, {B1, ...}, |bs, i, e| {body1, ...}))`` for group ``g``."""
        fors = [loop.node.src[0] for loop in g.loops]
        funcs = [n.for_parts(f)[2] for f in fors]
        builders = tuple(n.for_parts(f)[1] for f in fors)
        bty = Struct(tuple(b.ty for b in builders))
        elem_ty = funcs[0].params[2][1]
        # The new parameters must not capture names the bodies use from outside.
        taken = set().union(*(free_vars(f) for f in funcs))
        bs = n.ident(_pick("bs", fresh, taken), bty)
        i = n.ident(_pick("i", fresh, taken), I64)
        e = n.ident(_pick("e", fresh, taken), elem_ty)
        bodies = []
        for j, func in enumerate(funcs):
            (b_j, _), (i_j, _), (e_j, _) = func.params
            field_j = n.Expr(n.GETFIELD, (bs,), j, bty.fields[j])
            bodies.append(substitute(func.body, {b_j: field_j, i_j: i, e_j: e}))
        params = ((bs.arg, bty), (i.arg, I64), (e.arg, elem_ty))
        lam = n.Expr(
            n.LAMBDA, (n.Expr(n.STRUCT, tuple(bodies), None, bty),), params, Function((bty, I64, elem_ty), bty)
        )
        iters = tuple(self.rewrite(it, _NONE) for it in g.iters)
        loop = n.Expr(n.FOR, (*iters, n.Expr(n.STRUCT, builders, None, bty), lam), None, bty)
        return n.Expr(n.RESULT, (loop,), None, result_type(bty))


def _pick(base: str, fresh: Fresh, taken: set[str]) -> str:
    """``base`` if it is not in ``taken``, else a name new to the program; added to ``taken``."""
    name = base if base not in taken else fresh(base)
    taken.add(name)
    return name
