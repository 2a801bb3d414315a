"""The type checker: infers the type of every node from the program's parameter types.

``typecheck(e)`` returns ``e`` rebuilt with ``ty`` set on every node (inner lambdas get their
parameter types). Errors are ``IRTypeError`` naming the offending sub-expression and, when the node
came from the parser, its line and column. One rule per op, in ``_RULES``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import IRTypeError
from . import nodes as n
from .analysis import free_vars
from .deep import run_deep
from .types import (
    BOOL,
    I64,
    MERGE_OPS,
    Appender,
    Builder,
    Dict,
    DictMerger,
    Function,
    GroupMerger,
    Merger,
    Scalar,
    Scanner,
    Struct,
    Type,
    Vec,
    VecMerger,
    is_scalar_struct,
    merge_type,
    result_type,
)

Env = dict[str, Type]


def typecheck(
    e: n.Expr,
    source: str | None = None,
    env: Env | None = None,
    positions: dict | None = None,
    trust_typed: bool = False,
) -> n.Expr:
    """Type every node of ``e``. A root lambda needs typed parameters; ``env`` types free names;
    ``positions`` (from the parser) locates nodes in ``source`` for error messages.

    ``trust_typed`` keeps sub-expressions that already carry a type as they are, so only new,
    untyped nodes are checked: optimizer rules use it to type what they build in time linear in
    what they build. Without it every node is checked again (the verifier)."""
    return run_deep(_Checker(source, positions, trust_typed).check, e, dict(env or {}))


def _short(e: n.Expr) -> str:
    text = str(e).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


class _Checker:
    def __init__(self, source: str | None, positions: dict | None = None, trust_typed: bool = False):
        self.source = source
        self.positions = positions or {}
        self.trust_typed = trust_typed
        self.memo: dict[tuple, n.Expr] = {}

    def fail(self, e: n.Expr, message: str) -> IRTypeError:
        line, col = self.positions.get(e) or (0, 0)
        return IRTypeError(f"in `{_short(e)}`: {message}", line, col, self.source)

    def check(self, e: n.Expr, env: Env) -> n.Expr:
        if self.trust_typed and e.ty is not None:
            return e
        # Shared sub-expressions (the IR is a DAG) are checked once per typing of their free names.
        key = (e, tuple((v, env.get(v)) for v in sorted(free_vars(e))))
        done = self.memo.get(key)
        if done is not None:
            return done
        out = self._check(e, env)
        self.memo[key] = out
        return out

    def _check(self, e: n.Expr, env: Env) -> n.Expr:
        if e.op == n.LAMBDA:
            for name, ty in e.params:
                if ty is None:
                    raise self.fail(e, f"parameter {name} of a program needs a type")
            return self.lam(e, env, [t for _, t in e.params])
        rule = _RULES.get(e.op)
        if rule is None:
            raise self.fail(e, f"unknown construct {e.op!r}")
        return rule(self, e, env)

    def sub(self, e: n.Expr, env: Env) -> list[n.Expr]:
        return [self.check(s, env) for s in e.src]

    def lam(self, e: n.Expr, env: Env, types: list[Type]) -> n.Expr:
        """Check a lambda whose parameters take ``types`` (declared types must agree)."""
        if len(e.params) != len(types):
            raise self.fail(e, f"expects a function of {len(types)} parameters, got {len(e.params)}")
        inner = dict(env)
        params = []
        for (name, declared), ty in zip(e.params, types, strict=True):
            if declared is not None and declared != ty:
                raise self.fail(e, f"parameter {name} is declared {declared} but receives {ty}")
            inner[name] = ty
            params.append((name, ty))
        body = self.check(e.body, inner)
        return e.replace(src=(body,), arg=tuple(params), ty=Function(tuple(types), body.ty))

    def expect(self, e: n.Expr, got: n.Expr, want: Type, what: str) -> None:
        if got.ty != want:
            raise self.fail(e, f"{what} must be {want}, got {got.ty}")


def _scalar(c: _Checker, e: n.Expr, x: n.Expr, what: str) -> Scalar:
    if not isinstance(x.ty, Scalar):
        raise c.fail(e, f"{what} must be a scalar, got {x.ty}")
    return x.ty


def _lit(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    ty = e.ty
    if not isinstance(ty, Scalar):
        raise c.fail(e, "literal without a scalar type")
    v = e.arg
    if ty.is_int:
        lo, hi = (-(1 << (ty.bits - 1)), (1 << (ty.bits - 1)) - 1) if ty.is_signed else (0, (1 << ty.bits) - 1)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise c.fail(e, f"literal {v} is out of the range of {ty}")
    return e


def _ident(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    if e.arg not in env:
        raise c.fail(e, f"undefined name {e.arg}")
    return e.replace(ty=env[e.arg])


_UNBOUND = object()


def _let(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    value = c.check(e.src[0], env)
    # Bind in place and restore after: copying the environment at every let of a long chain
    # would cost time and memory quadratic in its length.
    saved = env.get(e.arg, _UNBOUND)
    env[e.arg] = value.ty  # type: ignore[assignment]
    try:
        body = c.check(e.src[1], env)
    finally:
        if saved is _UNBOUND:
            del env[e.arg]
        else:
            env[e.arg] = saved  # type: ignore[assignment]
    return e.replace(src=(value, body), ty=body.ty)


def _binop(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    a, b = c.sub(e, env)
    op = e.arg
    ta = _scalar(c, e, a, f"left operand of {op}")
    tb = _scalar(c, e, b, f"right operand of {op}")
    if ta != tb:
        raise c.fail(e, f"operands of {op} have different types {ta} and {tb} (insert a cast)")
    if op in n.COMPARE_BINOPS:
        ty = BOOL
    elif op in n.LOGIC_BINOPS:
        if not ta.is_bool:
            raise c.fail(e, f"{op} needs bool operands, got {ta}")
        ty = BOOL
    elif op in n.BITWISE_BINOPS:
        if ta.is_float:
            raise c.fail(e, f"{op} needs bool or integer operands, got {ta}")
        ty = ta
    elif op in n.SHIFT_BINOPS:
        if not ta.is_int:
            raise c.fail(e, f"{op} needs integer operands, got {ta}")
        ty = ta
    elif op in n.FLOAT_BINOPS:
        if not ta.is_float:
            raise c.fail(e, f"{op} needs float operands, got {ta}")
        ty = ta
    else:
        if ta.is_bool:
            raise c.fail(e, f"{op} needs numeric operands, got bool")
        ty = ta
    return e.replace(src=(a, b), ty=ty)


def _unop(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    (a,) = c.sub(e, env)
    t = _scalar(c, e, a, f"operand of {e.arg}")
    if e.arg == "!":
        if not t.is_bool:
            raise c.fail(e, f"! needs a bool operand, got {t}")
    elif e.arg in ("-", "abs"):
        if t.is_bool:
            raise c.fail(e, f"{e.arg} needs a numeric operand, got bool")
    elif not t.is_float:
        raise c.fail(e, f"{e.arg} needs a float operand, got {t} (cast it first)")
    return e.replace(src=(a,), ty=t)


def _cast(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    (a,) = c.sub(e, env)
    _scalar(c, e, a, "operand of a cast")
    if not isinstance(e.arg, Scalar):
        raise c.fail(e, f"cannot cast to {e.arg}")
    return e.replace(src=(a,), ty=e.arg)


def _choice(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    cond, t, f = c.sub(e, env)
    c.expect(e, cond, BOOL, f"condition of {e.op}")
    if t.ty != f.ty:
        raise c.fail(e, f"branches of {e.op} have different types {t.ty} and {f.ty}")
    return e.replace(src=(cond, t, f), ty=t.ty)


def _struct(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    fields = c.sub(e, env)
    return e.replace(src=tuple(fields), ty=Struct(tuple(f.ty for f in fields)))


def _getfield(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    (s,) = c.sub(e, env)
    if not isinstance(s.ty, Struct):
        raise c.fail(e, f".${e.arg} needs a struct, got {s.ty}")
    if not 0 <= e.arg < len(s.ty.fields):
        raise c.fail(e, f"field ${e.arg} does not exist in {s.ty}")
    return e.replace(src=(s,), ty=s.ty.fields[e.arg])


def _vector(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    elems = c.sub(e, env)
    if not elems:
        raise c.fail(e, "an empty vector literal has no type")
    for x in elems[1:]:
        if x.ty != elems[0].ty:
            raise c.fail(e, f"vector elements have different types {elems[0].ty} and {x.ty}")
    if elems[0].ty.is_builder:
        raise c.fail(e, "vectors cannot hold builders")
    return e.replace(src=tuple(elems), ty=Vec(elems[0].ty))


def _vec_arg(c: _Checker, e: n.Expr, v: n.Expr) -> Vec:
    if not isinstance(v.ty, Vec):
        raise c.fail(e, f"{e.op} needs a vector, got {v.ty}")
    return v.ty


def _dict_arg(c: _Checker, e: n.Expr, d: n.Expr) -> Dict:
    if not isinstance(d.ty, Dict):
        raise c.fail(e, f"{e.op} needs a dictionary, got {d.ty}")
    return d.ty


def _arity(c: _Checker, e: n.Expr, count: int) -> None:
    if len(e.src) != count:
        raise c.fail(e, f"{e.op} takes {count} arguments, got {len(e.src)}")


def _len(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    _arity(c, e, 1)
    (v,) = c.sub(e, env)
    _vec_arg(c, e, v)
    return e.replace(src=(v,), ty=I64)


def _lookup(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    _arity(c, e, 2)
    v, k = c.sub(e, env)
    if isinstance(v.ty, Dict):
        c.expect(e, k, v.ty.key, "key")
        ty = v.ty.value
    else:
        ty = _vec_arg(c, e, v).elem
        c.expect(e, k, I64, "index")
    return e.replace(src=(v, k), ty=ty)


def _slice(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    _arity(c, e, 3)
    v, start, size = c.sub(e, env)
    _vec_arg(c, e, v)
    c.expect(e, start, I64, "start of slice")
    c.expect(e, size, I64, "size of slice")
    return e.replace(src=(v, start, size), ty=v.ty)


def _sort(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    _arity(c, e, 2)
    v = c.check(e.src[0], env)
    vt = _vec_arg(c, e, v)
    if e.src[1].op != n.LAMBDA:
        raise c.fail(e, "sort needs a key function |x| key")
    key = c.lam(e.src[1], env, [vt.elem])
    if not is_scalar_struct(key.ty.ret):  # type: ignore[union-attr]
        raise c.fail(e, f"sort key must be a scalar or struct of scalars, got {key.ty.ret}")  # type: ignore[union-attr]
    return e.replace(src=(v, key), ty=vt)


def _tovec(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    _arity(c, e, 1)
    (d,) = c.sub(e, env)
    dt = _dict_arg(c, e, d)
    return e.replace(src=(d,), ty=Vec(Struct((dt.key, dt.value))))


def _keyexists(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    _arity(c, e, 2)
    d, k = c.sub(e, env)
    dt = _dict_arg(c, e, d)
    c.expect(e, k, dt.key, "key")
    ty = BOOL if e.op == n.KEYEXISTS else Struct((BOOL, dt.value))
    return e.replace(src=(d, k), ty=ty)


def _iter(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    src = c.sub(e, env)
    if e.arg == "range":
        _arity(c, e, 3)
        for x, what in zip(src, ("start", "end", "stride"), strict=True):
            c.expect(e, x, I64, f"{what} of rangeiter")
        return e.replace(src=tuple(src), ty=Vec(I64))
    vt = _vec_arg(c, e, src[0])
    if e.arg == "iter":
        _arity(c, e, 4)
        for x, what in zip(src[1:], ("start", "end", "stride"), strict=True):
            c.expect(e, x, I64, f"{what} of iter")
    return e.replace(src=tuple(src), ty=vt)


def _iterator(c: _Checker, it: n.Expr, env: Env) -> n.Expr:
    return it if (c.trust_typed and it.ty is not None) else _iter(c, it, env)


def _iter_outside_for(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    raise c.fail(e, f"{'iter' if e.arg == 'iter' else 'rangeiter'}(...) can only be an iterator of a for loop")


def _is_builder(t: Type | None) -> bool:
    return t is not None and t.is_builder


def _for(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    iters, builder, func = n.for_parts(e)
    if not iters:
        raise c.fail(e, "for needs at least one iterator")
    iters = tuple(_iterator(c, i if i.op == n.ITER else n.iter_vec(i), env) for i in iters)
    builder = c.check(builder, env)
    if not _is_builder(builder.ty):
        raise c.fail(e, f"the second argument of for must be a builder, got {builder.ty}")
    elems = [i.ty.elem for i in iters]  # type: ignore[union-attr]
    elem = elems[0] if len(elems) == 1 else Struct(tuple(elems))
    if func.op != n.LAMBDA:
        raise c.fail(e, "the third argument of for must be a lambda |b, i, e| ...")
    func = c.lam(func, env, [builder.ty, I64, elem])  # type: ignore[list-item]
    if func.ty.ret != builder.ty:  # type: ignore[union-attr]
        raise c.fail(e, f"the loop body must return the builder {builder.ty}, got {func.ty.ret}")  # type: ignore[union-attr]
    return e.replace(src=(*iters, builder, func), ty=builder.ty)


def _merge(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    _arity(c, e, 2)
    b, v = c.sub(e, env)
    if not isinstance(b.ty, Builder):
        raise c.fail(e, f"merge needs a builder, got {b.ty}")
    c.expect(e, v, merge_type(b.ty), f"value merged into {b.ty}")
    return e.replace(src=(b, v), ty=b.ty)


def _result(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    _arity(c, e, 1)
    (b,) = c.sub(e, env)
    if not _is_builder(b.ty):
        raise c.fail(e, f"result needs a builder, got {b.ty}")
    return e.replace(src=(b,), ty=result_type(b.ty))  # type: ignore[arg-type]


def _newbuilder(c: _Checker, e: n.Expr, env: Env) -> n.Expr:
    bt = e.arg
    args = c.sub(e, env)
    if not isinstance(bt, Builder):
        raise c.fail(e, f"{bt} is not a builder type")
    _check_builder_type(c, e, bt)
    if isinstance(bt, VecMerger):
        if len(args) != 1:
            raise c.fail(e, "vecmerger takes its initial vector as its one argument")
        c.expect(e, args[0], Vec(bt.elem), "initial vector of vecmerger")
    elif len(args) > 1:
        raise c.fail(e, f"{bt} takes at most one argument")
    elif args and isinstance(bt, Merger):
        c.expect(e, args[0], bt.elem, "initial value of merger")
    elif args:
        c.expect(e, args[0], I64, f"size hint of {bt}")
    return e.replace(src=tuple(args), ty=bt)


def _check_builder_type(c: _Checker, e: n.Expr, bt: Builder) -> None:
    op = getattr(bt, "op", None)
    if op is not None and op not in MERGE_OPS:
        raise c.fail(e, f"unknown merge operator {op}")
    if isinstance(bt, Scanner) and not isinstance(bt.elem, Scalar):
        raise c.fail(e, f"{bt} scans scalars, not {bt.elem}")
    if isinstance(bt, (Merger, VecMerger)) and not is_scalar_struct(bt.elem):
        raise c.fail(e, f"{bt} merges scalars or structs of scalars, not {bt.elem}")
    if isinstance(bt, DictMerger) and not is_scalar_struct(bt.value):
        raise c.fail(e, f"{bt} merges scalar or struct-of-scalar values, not {bt.value}")
    if op is not None:  # merger, vecmerger and dictmerger combine values with op: numbers only
        merged = bt.value if isinstance(bt, DictMerger) else bt.elem  # type: ignore[attr-defined]
        if _has_bool(merged):
            raise c.fail(e, f"{bt} combines with {op}, which needs numeric values, not bool (cast first)")
    if isinstance(bt, (DictMerger, GroupMerger)) and not _hashable(bt.key):
        raise c.fail(e, f"dictionary keys must be scalars, structs of scalars or vectors of them, not {bt.key}")
    if isinstance(bt, Appender) and bt.elem.is_builder:
        raise c.fail(e, "appenders cannot hold builders")


def _has_bool(t: Type) -> bool:
    if isinstance(t, Scalar):
        return t.is_bool
    return isinstance(t, Struct) and any(_has_bool(f) for f in t.fields)


def _hashable(t: Type) -> bool:
    if isinstance(t, Vec):
        return is_scalar_struct(t.elem)
    return is_scalar_struct(t)


_RULES: dict[str, Callable[[_Checker, n.Expr, Env], n.Expr]] = {
    n.LIT: _lit,
    n.IDENT: _ident,
    n.LET: _let,
    n.BINOP: _binop,
    n.UNOP: _unop,
    n.CAST: _cast,
    n.SELECT: _choice,
    n.IF: _choice,
    n.STRUCT: _struct,
    n.GETFIELD: _getfield,
    n.VECTOR: _vector,
    n.LEN: _len,
    n.LOOKUP: _lookup,
    n.SLICE: _slice,
    n.SORT: _sort,
    n.TOVEC: _tovec,
    n.KEYEXISTS: _keyexists,
    n.OPTLOOKUP: _keyexists,
    n.ITER: _iter_outside_for,
    n.FOR: _for,
    n.MERGE: _merge,
    n.RESULT: _result,
    n.NEWBUILDER: _newbuilder,
}
