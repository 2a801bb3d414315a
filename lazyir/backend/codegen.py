"""Lowering typed IR to an LLVM module.

The module's entry is ``void lz_main(ptr ctx, ptr args, ptr out)``: ``args`` is an array of
pointers, one per program parameter, each to the parameter's memory form (see ``lltypes``);
``lz_main`` stores the result's memory form at ``out``.

Every loop that is not inside another loop's body is outlined into its own function
``lz_loop_<k>(ctx, start, stop, ...)`` that runs iterations ``[start, stop)`` into the builders it
is given, so a runtime can split it; pointer arguments are ``noalias`` (the kernel only ever writes
memory it allocated itself) so LLVM vectorizes the loop bodies. The functions are ``alwaysinline``:
LLVM inlines them before optimizing (keeping what ``noalias`` said as alias scopes), so each loop
body is optimized once, inside ``lz_main``, rather than once alone and again after inlining.
Loops nested in a body are emitted inline as simple counted loops.

Builders are values only at compile time: a builder is the pointer to its state (structs of
builders are Python tuples of those), because builders are linear and every ``merge`` updates the
one state in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from llvmlite import ir

from ..ir import nodes as n
from ..ir import types as T
from ..ir.analysis import free_vars, walk
from . import lltypes as L
from . import runtime as rt
from .cgutils import counted_loop
from .mathlib import INTRINSIC_UNARY, LIBM_BINARY, LIBM_UNARY, MathLib, tune_function

Value = object  # an ir.Value, or a tuple of them for a struct of builders
Env = dict[str, Value]


def _const(ty: T.Type, v: object) -> ir.Constant:
    return ir.Constant(L.value_type(ty), v)


def _i64(v: int) -> ir.Constant:
    return ir.Constant(L.I64, v)


def zero_value(ty: T.Type) -> ir.Constant:
    """The all-zero value of ``ty`` (used after a recorded runtime error)."""
    return ir.Constant(L.value_type(ty), None)


def int_limits(ty: T.Scalar) -> tuple[int, int]:
    if ty.is_bool:
        return 0, 1
    if ty.is_signed:
        return -(1 << (ty.bits - 1)), (1 << (ty.bits - 1)) - 1
    return 0, (1 << ty.bits) - 1


def identity(op: str, ty: T.Type) -> ir.Constant:
    """The identity element of merge operator ``op`` on ``ty`` (structs: per field)."""
    if isinstance(ty, T.Struct):
        return ir.Constant(L.value_type(ty), [identity(op, f) for f in ty.fields])
    assert isinstance(ty, T.Scalar)
    if op == "+":
        v: object = 0.0 if ty.is_float else 0
    elif op == "*":
        v = 1.0 if ty.is_float else 1
    elif ty.is_float:
        v = float("inf") if op == "min" else float("-inf")
    else:
        lo, hi = int_limits(ty)
        v = hi if op == "min" else lo
    return _const(ty, v)


@dataclass
class _Room:
    """An appender with room reserved for the loop being emitted: no merge in it grows it."""

    data: ir.Value  # its data pointer (or where this loop's elements start, with ``pos``)
    length: ir.Value | None  # a local holding its length while merges vary per iteration
    pos: ir.Value | None = None  # the iteration's position, when each makes exactly one merge


@dataclass
class _Iter:
    kind: str
    data: ir.Value | None  # data pointer (None for rangeiter)
    start: ir.Value
    stride: ir.Value
    elem: T.Type


class Codegen:
    """Builds the LLVM module of one typed program (a root lambda)."""

    def __init__(self, program: n.Expr, triple: str = "", data_layout: str = "", vector_math: bool = True):
        assert program.op == n.LAMBDA and program.ty is not None
        self.program = program
        self.module = ir.Module(name="lazyir")
        self.module.triple = triple
        self.module.data_layout = data_layout
        rt.emit_runtime(self.module)
        self.math = MathLib(self.module, vector=vector_math)
        self._tables: dict[tuple[T.Type, T.Type], object] = {}
        self._groups: dict[tuple[T.Type, T.Type], object] = {}
        self._helpers: dict[str, ir.Function] = {}
        self.loop_count = 0

    # -- shared emitters ---------------------------------------------------------------------------
    def table(self, key: T.Type, value: T.Type):
        from .hashtable import HashTableCodegen

        k = (key, value)
        if k not in self._tables:
            self._tables[k] = HashTableCodegen(self.module, key, value)
        return self._tables[k]

    def group(self, key: T.Type, value: T.Type):
        from .hashtable import GroupMergerCodegen

        k = (key, value)
        if k not in self._groups:
            self._groups[k] = GroupMergerCodegen(self.module, key, value)
        return self._groups[k]

    def build(self) -> ir.Module:
        prog = self.program
        fty = ir.FunctionType(ir.VoidType(), [L.PTR, L.PTR, L.PTR])
        func = ir.Function(self.module, fty, "lz_main")
        tune_function(func)
        for a in func.args:
            a.add_attribute("noalias")
        ctx, args, out = func.args
        fn = _Fn(self, func, ctx)
        env: Env = {}
        for j, (name, ty) in enumerate(prog.params):
            p = fn.b.load(fn.b.gep(args, [_i64(j)], source_etype=L.PTR), typ=L.PTR)
            env[name] = L.load(fn.b, p, ty)
        res = fn.gen(prog.body, env)
        if prog.body.ty.is_builder:
            raise TypeError("a program cannot return a builder; return result(...) of it")
        L.store(fn.b, res, out, prog.body.ty)
        fn.b.ret_void()
        fn.finish()
        return self.module

    def text(self, entry: str = "lz_main") -> str:
        """The module's LLVM IR text, its entry function named ``entry``."""
        module = self.build()
        if entry != "lz_main":
            module.get_global("lz_main").name = entry
        return str(module) + "\n" + self.math.declarations()


class _Fn:
    """Code generation inside one LLVM function."""

    def __init__(self, cg: Codegen, func: ir.Function, ctx: ir.Value):
        self.cg, self.func, self.ctx = cg, func, ctx
        self.entry = func.append_basic_block("entry")
        self.allocas = ir.IRBuilder(self.entry)
        self.b = ir.IRBuilder(func.append_basic_block("start"))
        self.depth = 0
        self.reserved: dict[int, _Room] = {}  # by id of the appender's state

    def finish(self) -> None:
        self.allocas.branch(self.func.blocks[1])

    def alloca(self, ty: ir.Type) -> ir.Value:
        slot = self.allocas.alloca(ty)
        slot.type = L.PTR  # opaque, like every other pointer we make (llvmlite types allocas)
        return slot

    # -- control-flow helpers ----------------------------------------------------------------------
    def loop(self, start: ir.Value, stop: ir.Value):
        """A counted loop ``for i in [start, stop)``; the body is emitted inside the ``with``."""
        return counted_loop(self.b, start, stop)

    def checked(self, ok: ir.Value, ty: T.Type, then: Callable[[], ir.Value], code: int | None, detail=None):
        """``then()`` if ``ok``, else give zero of ``ty`` (recording runtime error ``code`` if any)."""
        b = self.b
        with b.if_else(ok, likely=code is not None) as (good, bad):
            with good:
                v = then()
                good_bb = b.block
            with bad:
                if code is not None:
                    rt.error(b, self.ctx, code, detail)
                bad_bb = b.block
        phi = b.phi(L.value_type(ty))
        phi.add_incoming(v, good_bb)
        phi.add_incoming(zero_value(ty), bad_bb)
        return phi

    # -- expressions -------------------------------------------------------------------------------
    def gen(self, e: n.Expr, env: Env) -> Value:
        if e.op == n.LET:  # iterative over let chains
            env = dict(env)
            chain = []
            while e.op == n.LET:
                chain.append((e.arg, e.src[0]))
                e = e.src[1]
            dead = early_frees(chain, e) if self.depth == 0 else {}
            for k, (name, value) in enumerate(chain):
                env[name] = self.gen(value, env)
                self._free_dead(dead.get(k, ()), env)
            if dead and e.op == n.STRUCT and not e.ty.is_builder:  # fields run in order: free between
                fields = []
                for j, f in enumerate(e.src):
                    fields.append(self.gen(f, env))
                    self._free_dead(dead.get(len(chain) + j, ()), env)
                return self._pack(e.ty, fields)
            return self.gen(e, env)
        rule = _GEN.get(e.op)
        if rule is None:
            raise NotImplementedError(f"the backend cannot compile {e.op}")
        return rule(self, e, env)

    def g_lit(self, e: n.Expr, env: Env) -> ir.Value:
        return _const(e.ty, e.arg)

    def g_ident(self, e: n.Expr, env: Env) -> Value:
        return env[e.arg]

    def g_binop(self, e: n.Expr, env: Env) -> ir.Value:
        a = self.gen(e.src[0], env)
        c = self.gen(e.src[1], env)
        return self.binop(e.arg, a, c, e.src[0].ty)

    def binop(self, op: str, a: ir.Value, c: ir.Value, ty: T.Scalar) -> ir.Value:
        b = self.b
        fl = ty.is_float
        if op in ("+", "-", "*"):
            name = {"+": "add", "-": "sub", "*": "mul"}[op]
            return getattr(b, ("f" if fl else "") + name)(a, c)
        if op in n.COMPARE_BINOPS:
            if fl:
                return b.fcmp_unordered(op, a, c) if op == "!=" else b.fcmp_ordered(op, a, c)
            if ty.is_signed and not ty.is_bool:
                return b.icmp_signed(op, a, c)
            return b.icmp_unsigned(op, a, c)
        if op in ("&&", "&"):
            return b.and_(a, c)
        if op in ("||", "|"):
            return b.or_(a, c)
        if op == "^":
            return b.xor(a, c)
        if op in ("/", "%"):
            return self.divmod(op, a, c, ty)
        if op in ("min", "max"):
            return self.minmax(op, a, c, ty)
        if op in ("<<", ">>"):
            return self.shift(op, a, c, ty)
        if op == "pow" and not fl:
            return b.call(self.ipow(ty), [a, c])
        if op in LIBM_BINARY or op == "pow":
            return self.cg.math.call(b, op, [a, c])
        raise NotImplementedError(op)

    def divmod(self, op: str, a: ir.Value, c: ir.Value, ty: T.Scalar) -> ir.Value:
        b = self.b
        if ty.is_float:
            return b.fdiv(a, c) if op == "/" else b.frem(a, c)
        lty = a.type
        zero = b.icmp_unsigned("==", c, ir.Constant(lty, 0))
        bad = zero
        if ty.is_signed:
            lo, _ = int_limits(ty)
            ovf = b.and_(b.icmp_signed("==", a, ir.Constant(lty, lo)), b.icmp_signed("==", c, ir.Constant(lty, -1)))
            bad = b.or_(zero, ovf)
        safe = b.select(bad, ir.Constant(lty, 1), c)
        if op == "/":
            q = b.sdiv(a, safe) if ty.is_signed else b.udiv(a, safe)
        else:
            q = b.srem(a, safe) if ty.is_signed else b.urem(a, safe)
        # x / 0 = 0, x % 0 = 0; MIN / -1 = MIN (a / 1), MIN % -1 = 0 (a % 1).
        return b.select(zero, ir.Constant(lty, 0), q)

    def minmax(self, op: str, a: ir.Value, c: ir.Value, ty: T.Scalar) -> ir.Value:
        b = self.b
        if ty.is_float:  # ties give the second operand (so max(-0.0, 0.0) is 0.0), like NumPy
            first = b.fcmp_ordered("<" if op == "min" else ">", a, c)
            first = b.or_(first, b.fcmp_unordered("uno", a, a))
        elif ty.is_signed and not ty.is_bool:
            first = b.icmp_signed("<=" if op == "min" else ">=", a, c)
        else:
            first = b.icmp_unsigned("<=" if op == "min" else ">=", a, c)
        return b.select(first, a, c)

    def shift(self, op: str, a: ir.Value, c: ir.Value, ty: T.Scalar) -> ir.Value:
        b = self.b
        lty = a.type
        big = b.icmp_unsigned(">=", c, ir.Constant(lty, ty.bits))
        amount = b.and_(c, ir.Constant(lty, ty.bits - 1))
        if op == "<<":
            return b.select(big, ir.Constant(lty, 0), b.shl(a, amount))
        if ty.is_signed:
            fill = b.ashr(a, ir.Constant(lty, ty.bits - 1))
            return b.select(big, fill, b.ashr(a, amount))
        return b.select(big, ir.Constant(lty, 0), b.lshr(a, amount))

    def ipow(self, ty: T.Scalar) -> ir.Function:
        """``lz_ipow_<ty>(a, e)``: integer power by squaring, wrapping; rules for e < 0 in docs."""
        name = f"lz_ipow_{ty.name}"
        fn = self.cg._helpers.get(name)
        if fn is not None:
            return fn
        lty = L.value_type(ty)
        fn = ir.Function(self.cg.module, ir.FunctionType(lty, [lty, lty]), name)
        fn.linkage = "internal"
        a, e = fn.args
        b = ir.IRBuilder(fn.append_basic_block())
        one, zero = ir.Constant(lty, 1), ir.Constant(lty, 0)
        if ty.is_signed:
            neg = b.icmp_signed("<", e, zero)
            with b.if_then(neg, likely=False):
                # 1 ** e = 1, (-1) ** e = +-1, otherwise 0 (truncated toward zero).
                is_one = b.icmp_signed("==", a, one)
                is_m1 = b.icmp_signed("==", a, ir.Constant(lty, -1))
                odd = b.trunc(b.and_(e, one), L.I1)
                m1 = b.select(odd, ir.Constant(lty, -1), one)
                b.ret(b.select(is_one, one, b.select(is_m1, m1, zero)))
        pre = b.block
        head = fn.append_basic_block("head")
        body = fn.append_basic_block("body")
        done = fn.append_basic_block("done")
        b.branch(head)
        b.position_at_end(head)
        acc = b.phi(lty)
        base = b.phi(lty)
        ex = b.phi(lty)
        acc.add_incoming(one, pre)
        base.add_incoming(a, pre)
        ex.add_incoming(e, pre)
        b.cbranch(b.icmp_unsigned("!=", ex, zero), body, done)
        b.position_at_end(body)
        odd = b.trunc(b.and_(ex, one), L.I1)
        acc2 = b.select(odd, b.mul(acc, base), acc)
        acc.add_incoming(acc2, body)
        base.add_incoming(b.mul(base, base), body)
        ex.add_incoming(b.lshr(ex, one), body)
        b.branch(head)
        b.position_at_end(done)
        b.ret(acc)
        self.cg._helpers[name] = fn
        return fn

    def g_unop(self, e: n.Expr, env: Env) -> ir.Value:
        a = self.gen(e.src[0], env)
        ty = e.ty
        b = self.b
        op = e.arg
        if op == "-":
            return b.fneg(a) if ty.is_float else b.neg(a)
        if op == "!":
            return b.not_(a)
        if op == "abs" and not ty.is_float:
            if not ty.is_signed:
                return a
            return b.select(b.icmp_signed("<", a, ir.Constant(a.type, 0)), b.neg(a), a)
        if op in LIBM_UNARY or op in INTRINSIC_UNARY:
            return self.cg.math.call(b, op, [a])
        raise NotImplementedError(op)

    def g_cast(self, e: n.Expr, env: Env) -> ir.Value:
        return self.cast(self.gen(e.src[0], env), e.src[0].ty, e.arg)

    def cast(self, a: ir.Value, src: T.Scalar, dst: T.Scalar) -> ir.Value:
        b = self.b
        if src == dst:
            return a
        lty = L.value_type(dst)
        if dst.is_bool:
            if src.is_float:
                return b.fcmp_unordered("!=", a, ir.Constant(a.type, 0.0))
            return b.icmp_unsigned("!=", a, ir.Constant(a.type, 0))
        if src.is_bool:
            return b.uitofp(a, lty) if dst.is_float else b.zext(a, lty)
        if src.is_float and dst.is_float:
            return b.fpext(a, lty) if dst.bits > src.bits else b.fptrunc(a, lty)
        if src.is_float:
            kind = "fptosi" if dst.is_signed else "fptoui"
            name = f"llvm.{kind}.sat.i{dst.bits}.f{src.bits}"
            fn = self.cg.module.globals.get(name) or ir.Function(self.cg.module, ir.FunctionType(lty, [a.type]), name)
            return b.call(fn, [a])
        if dst.is_float:
            return b.sitofp(a, lty) if src.is_signed else b.uitofp(a, lty)
        if dst.bits < src.bits:
            return b.trunc(a, lty)
        if dst.bits > src.bits:
            return b.sext(a, lty) if src.is_signed else b.zext(a, lty)
        return a  # same width, other signedness: same bits

    def g_select(self, e: n.Expr, env: Env) -> Value:
        c, t, f = (self.gen(s, env) for s in e.src)
        if e.ty.is_builder:
            return self._join_builders(t, f, lambda x, y: self.b.select(c, x, y))
        return self.b.select(c, t, f)

    def _join_builders(self, t: Value, f: Value, join: Callable) -> Value:
        if t is f:
            return t
        if isinstance(t, tuple):
            return tuple(self._join_builders(x, y, join) for x, y in zip(t, f, strict=True))
        return join(t, f)

    def g_if(self, e: n.Expr, env: Env) -> Value:
        b = self.b
        c = self.gen(e.src[0], env)
        with b.if_else(c) as (then, otherwise):
            with then:
                t = self.gen(e.src[1], env)
                t_bb = b.block
            with otherwise:
                f = self.gen(e.src[2], env)
                f_bb = b.block

        def phi(x: ir.Value, y: ir.Value) -> ir.Value:
            p = b.phi(x.type)
            p.add_incoming(x, t_bb)
            p.add_incoming(y, f_bb)
            return p

        if e.ty.is_builder:
            return self._join_builders(t, f, phi)
        return phi(t, f)

    def _free_dead(self, names: Iterable[str], env: Env) -> None:
        """Free temporary vectors no later statement reads (``early_frees``)."""
        for name in names:
            rt.free(self.b, self.ctx, self.b.extract_value(env[name], 0))

    def g_struct(self, e: n.Expr, env: Env) -> Value:
        fields = [self.gen(s, env) for s in e.src]
        if e.ty.is_builder:
            return tuple(fields)
        return self._pack(e.ty, fields)

    def _pack(self, ty: T.Type, fields: list) -> ir.Value:
        out = ir.Constant(L.value_type(ty), ir.Undefined)
        for i, f in enumerate(fields):
            out = self.b.insert_value(out, f, i)
        return out

    def g_getfield(self, e: n.Expr, env: Env) -> Value:
        s = self.gen(e.src[0], env)
        if isinstance(s, tuple):
            return s[e.arg]
        return self.b.extract_value(s, e.arg)

    def g_vector(self, e: n.Expr, env: Env) -> ir.Value:
        elem = e.ty.elem
        count = len(e.src)
        data = rt.alloc(self.b, self.ctx, _i64(count * L.sizeof(elem)))
        for i, s in enumerate(e.src):
            L.store(self.b, self.gen(s, env), L.elem_ptr(self.b, data, _i64(i), elem), elem)
        return self.make_vec(data, _i64(count))

    def make_vec(self, data: ir.Value, length: ir.Value) -> ir.Value:
        v = self.b.insert_value(ir.Constant(L.VEC, ir.Undefined), data, 0)
        return self.b.insert_value(v, length, 1)

    def g_len(self, e: n.Expr, env: Env) -> ir.Value:
        return self.b.extract_value(self.gen(e.src[0], env), 1)

    def g_lookup(self, e: n.Expr, env: Env) -> ir.Value:
        v = self.gen(e.src[0], env)
        k = self.gen(e.src[1], env)
        b = self.b
        if isinstance(e.src[0].ty, T.Dict):
            dt = e.src[0].ty
            found, slot = self.cg.table(dt.key, dt.value).find(b, v, k)
            return self.checked(found, e.ty, lambda: L.load(b, slot, e.ty), rt.ERR_KEY)
        data, length = b.extract_value(v, 0), b.extract_value(v, 1)
        ok = b.icmp_unsigned("<", k, length)
        return self.checked(ok, e.ty, lambda: L.load(b, L.elem_ptr(b, data, k, e.ty), e.ty), rt.ERR_LOOKUP, k)

    def g_slice(self, e: n.Expr, env: Env) -> ir.Value:
        v, start, size = (self.gen(s, env) for s in e.src)
        b = self.b
        data, length = b.extract_value(v, 0), b.extract_value(v, 1)
        ok = b.and_(b.icmp_unsigned("<=", start, length), b.icmp_signed(">=", size, _i64(0)))

        def good() -> ir.Value:
            rest = b.sub(length, start)
            clamped = b.select(b.icmp_signed("<", size, rest), size, rest)
            return self.make_vec(L.elem_ptr(b, data, start, e.ty.elem), clamped)

        return self.checked(ok, e.ty, good, rt.ERR_SLICE, start)

    def g_sort(self, e: n.Expr, env: Env) -> ir.Value:
        from .sort import emit_argsort

        b = self.b
        v = self.gen(e.src[0], env)
        key_fn = e.src[1]
        elem, key_ty = e.ty.elem, key_fn.ty.ret
        data, length = b.extract_value(v, 0), b.extract_value(v, 1)
        keys = rt.alloc(b, self.ctx, b.mul(length, _i64(max(1, L.sizeof(key_ty)))))
        ((pname, _),) = key_fn.params
        with self.loop(_i64(0), length) as i:
            x = L.load(b, L.elem_ptr(b, data, i, elem), elem)
            k = self.gen(key_fn.body, {**env, pname: x})
            L.store(b, k, L.elem_ptr(b, keys, i, key_ty), key_ty)
        perm = b.call(emit_argsort(self.cg.module, key_ty), [self.ctx, keys, length])
        out = rt.alloc(b, self.ctx, b.mul(length, _i64(max(1, L.sizeof(elem)))))
        with self.loop(_i64(0), length) as i:
            j = b.load(b.gep(perm, [i], source_etype=L.I64), typ=L.I64)
            x = b.load(L.elem_ptr(b, data, j, elem), typ=L.memory_type(elem))
            b.store(x, L.elem_ptr(b, out, i, elem))
        rt.free(b, self.ctx, keys)
        rt.free(b, self.ctx, perm)
        return self.make_vec(out, length)

    def g_tovec(self, e: n.Expr, env: Env) -> ir.Value:
        d = self.gen(e.src[0], env)
        dt = e.src[0].ty
        data, count = self.cg.table(dt.key, dt.value).entries(self.b, d)
        return self.make_vec(data, count)

    def g_keyexists(self, e: n.Expr, env: Env) -> ir.Value:
        d, k = self.gen(e.src[0], env), self.gen(e.src[1], env)
        dt = e.src[0].ty
        found, slot = self.cg.table(dt.key, dt.value).find(self.b, d, k)
        if e.op == n.KEYEXISTS:
            return found
        b = self.b
        val = self.checked(found, dt.value, lambda: L.load(b, slot, dt.value), None)
        out = b.insert_value(ir.Constant(L.value_type(e.ty), ir.Undefined), found, 0)
        return b.insert_value(out, val, 1)

    # -- builders ----------------------------------------------------------------------------------
    def g_newbuilder(self, e: n.Expr, env: Env) -> Value:
        bt = e.arg
        args = [self.gen(s, env) for s in e.src]
        b = self.b
        if isinstance(bt, (T.Appender, T.Scanner)):
            scanner = isinstance(bt, T.Scanner)
            state = self.alloca(L.scanner_state(bt.elem) if scanner else L.APPENDER_STATE)
            if args:
                cap = b.select(b.icmp_signed(">", args[0], _i64(0)), args[0], _i64(0))
                data = rt.alloc(b, self.ctx, b.mul(cap, _i64(max(1, L.sizeof(bt.elem)))))
            else:
                cap, data = _i64(0), ir.Constant(L.PTR, None)
            st = ir.Constant(L.APPENDER_STATE, ir.Undefined)
            st = b.insert_value(b.insert_value(b.insert_value(st, data, 0), _i64(0), 1), cap, 2)
            b.store(st, state)
            if scanner:  # the running value starts where op(start, x) is x: -0.0 for float sums
                start = _const(bt.elem, -0.0) if bt.op == "+" and bt.elem.is_float else identity(bt.op, bt.elem)
                L.store(b, start, self._scanned(state, bt), bt.elem)
            return state
        if isinstance(bt, T.Merger):
            state = self.alloca(L.memory_type(bt.elem))
            init = args[0] if args else identity(bt.op, bt.elem)
            L.store(b, init, state, bt.elem)
            return state
        if isinstance(bt, T.VecMerger):
            state = self.alloca(L.VEC)
            src = args[0]
            length = b.extract_value(src, 1)
            nbytes = b.mul(length, _i64(max(1, L.sizeof(bt.elem))))
            data = rt.alloc(b, self.ctx, nbytes)
            b.call(rt.libc(self.cg.module, "memcpy"), [data, b.extract_value(src, 0), nbytes])
            b.store(self.make_vec(data, length), state)
            return state
        hint = args[0] if args else None
        if isinstance(bt, T.DictMerger):
            return self.cg.table(bt.key, bt.value).new(b, self.ctx, hint)
        if isinstance(bt, T.GroupMerger):
            return self.cg.group(bt.key, bt.value).new(b, self.ctx, hint)
        raise NotImplementedError(str(bt))

    def _scanned(self, state: ir.Value, bt: T.Scanner) -> ir.Value:
        """Where a scanner keeps its running value."""
        return self.b.gep(state, [_i64(0), ir.Constant(L.I32, 3)], source_etype=L.scanner_state(bt.elem))

    def combine(self, op: str, old: ir.Value, new: ir.Value, ty: T.Type, exact: bool = False) -> ir.Value:
        """``old op new`` for a merger-like builder (structs elementwise). Float sums and products
        may be reassociated (vectorized reductions) unless ``exact``."""
        b = self.b
        if isinstance(ty, T.Struct):
            out = old
            for i, f in enumerate(ty.fields):
                x = self.combine(op, b.extract_value(old, i), b.extract_value(new, i), f, exact)
                out = b.insert_value(out, x, i)
            return out
        if ty.is_bool:
            return b.and_(old, new) if op in ("min", "*") else b.or_(old, new)
        flags = [] if exact else ["reassoc"]
        if op == "+":
            return b.fadd(old, new, flags=flags) if ty.is_float else b.add(old, new)
        if op == "*":
            return b.fmul(old, new, flags=flags) if ty.is_float else b.mul(old, new)
        return self.minmax(op, old, new, ty)

    def g_merge(self, e: n.Expr, env: Env) -> Value:
        state = self.gen(e.src[0], env)
        v = self.gen(e.src[1], env)
        bt = e.src[0].ty
        b = self.b
        if isinstance(bt, T.Appender):
            self.append(state, v, bt.elem)
        elif isinstance(bt, T.Merger):
            old = L.load(b, state, bt.elem)
            L.store(b, self.combine(bt.op, old, v, bt.elem), state, bt.elem)
        elif isinstance(bt, T.Scanner):  # in order, not reassociated: NumPy's cumulative results
            where = self._scanned(state, bt)
            running = self.combine(bt.op, L.load(b, where, bt.elem), v, bt.elem, exact=True)
            L.store(b, running, where, bt.elem)
            self.append(state, running, bt.elem)
        elif isinstance(bt, T.VecMerger):
            vec = b.load(state, typ=L.VEC)
            data, length = b.extract_value(vec, 0), b.extract_value(vec, 1)
            idx, x = b.extract_value(v, 0), b.extract_value(v, 1)
            ok = b.icmp_unsigned("<", idx, length)
            with b.if_else(ok, likely=True) as (good, bad):
                with good:
                    p = L.elem_ptr(b, data, idx, bt.elem)
                    L.store(b, self.combine(bt.op, L.load(b, p, bt.elem), x, bt.elem), p, bt.elem)
                with bad:
                    rt.error(b, self.ctx, rt.ERR_VECMERGER, idx)
        elif isinstance(bt, T.DictMerger):
            key, val = b.extract_value(v, 0), b.extract_value(v, 1)
            self.cg.table(bt.key, bt.value).merge(
                b,
                self.ctx,
                state,
                key,
                val,
                lambda bb, old, new: self._combine_at(bb, bt.op, old, new, bt.value),
            )
        elif isinstance(bt, T.GroupMerger):
            key, val = b.extract_value(v, 0), b.extract_value(v, 1)
            self.cg.group(bt.key, bt.value).merge(b, self.ctx, state, key, val)
        else:
            raise NotImplementedError(str(bt))
        return state

    def _combine_at(self, bb: ir.IRBuilder, op: str, old: ir.Value, new: ir.Value, ty: T.Type) -> ir.Value:
        saved, self.b = self.b, bb
        try:
            return self.combine(op, old, new, ty)
        finally:
            self.b = saved

    def append(self, state: ir.Value, v: ir.Value, elem: T.Type) -> None:
        b = self.b
        room = self.reserved.get(id(state))
        if room is not None and room.pos is not None:
            L.store(b, v, L.elem_ptr(b, room.data, room.pos, elem), elem)
            return
        if room is None:
            length_p = _appender_field(b, state, 1)
            length = b.load(length_p, typ=L.I64)
            with b.if_then(b.icmp_signed(">=", length, b.load(_appender_field(b, state, 2), typ=L.I64)), likely=False):
                self.grow(state, b.add(length, _i64(1)), elem)
            data = b.load(_appender_field(b, state, 0), typ=L.PTR)
        else:
            data, length_p = room.data, room.length
            length = b.load(length_p, typ=L.I64)
        L.store(b, v, L.elem_ptr(b, data, length, elem), elem)
        b.store(b.add(length, _i64(1), flags=["nsw"]), length_p)

    def grow(self, state: ir.Value, need: ir.Value, elem: T.Type) -> None:
        """Make room for ``need`` elements in an appender (at least doubling)."""
        b = self.b
        cap = b.load(_appender_field(b, state, 2), typ=L.I64)
        with b.if_then(b.icmp_signed(">", need, cap)):
            dbl = b.mul(cap, _i64(2))
            newcap = b.select(b.icmp_signed(">", need, dbl), need, dbl)
            newcap = b.select(b.icmp_signed("<", newcap, _i64(16)), _i64(16), newcap)
            data_p = _appender_field(b, state, 0)
            nd = rt.realloc(b, self.ctx, b.load(data_p, typ=L.PTR), b.mul(newcap, _i64(max(1, L.sizeof(elem)))))
            b.store(nd, data_p)
            b.store(newcap, _appender_field(b, state, 2))

    def g_result(self, e: n.Expr, env: Env) -> ir.Value:
        return self.result(self.gen(e.src[0], env), e.src[0].ty)

    def result(self, state: Value, bt: T.Type) -> ir.Value:
        b = self.b
        if isinstance(bt, T.Struct):
            out = ir.Constant(L.value_type(T.result_type(bt)), ir.Undefined)
            for i, f in enumerate(bt.fields):
                out = b.insert_value(out, self.result(state[i], f), i)  # type: ignore[index]
            return out
        if isinstance(bt, (T.Appender, T.Scanner)):
            st = b.load(state, typ=L.APPENDER_STATE)
            return self.make_vec(b.extract_value(st, 0), b.extract_value(st, 1))
        if isinstance(bt, T.Merger):
            return L.load(b, state, bt.elem)
        if isinstance(bt, T.VecMerger):
            return b.load(state, typ=L.VEC)
        if isinstance(bt, T.DictMerger):
            return state
        if isinstance(bt, T.GroupMerger):
            return self.cg.group(bt.key, bt.value).result(b, self.ctx, state)
        raise NotImplementedError(str(bt))

    # -- loops -------------------------------------------------------------------------------------
    def setup_iters(self, iters: tuple[n.Expr, ...], env: Env) -> tuple[list[_Iter], ir.Value]:
        """Evaluate iterators: their data, start, stride and the common iteration count."""
        b = self.b
        out: list[_Iter] = []
        count: ir.Value | None = None
        bad = ir.Constant(L.I1, 0)
        for it in iters:
            vals = [self.gen(s, env) for s in it.src]
            if it.arg == "vec":
                v = vals[0]
                data, cnt = b.extract_value(v, 0), b.extract_value(v, 1)
                item = _Iter("vec", data, _i64(0), _i64(1), it.ty.elem)
            else:
                if it.arg == "iter":
                    v, start, end, stride = vals
                    data, length = b.extract_value(v, 0), b.extract_value(v, 1)
                    wrong = b.or_(b.icmp_signed("<", start, _i64(0)), b.icmp_signed(">", start, end))
                    wrong = b.or_(wrong, b.icmp_signed(">", end, length))
                else:
                    start, end, stride = vals
                    data = None
                    wrong = ir.Constant(L.I1, 0)
                wrong = b.or_(wrong, b.icmp_signed("<=", stride, _i64(0)))
                safe_stride = b.select(wrong, _i64(1), stride)
                # ceil((end - start) / stride) without overflow: the span is exact as an unsigned
                # number when end > start, and (span - 1) / stride + 1 never exceeds it.
                empty = b.or_(wrong, b.icmp_signed("<=", end, start))
                span = b.sub(end, start)
                cnt = b.add(b.udiv(b.sub(span, _i64(1)), safe_stride), _i64(1))
                cnt = b.select(empty, _i64(0), cnt)
                with b.if_then(wrong, likely=False):
                    rt.error(b, self.ctx, rt.ERR_ITER)
                item = _Iter(it.arg, data, start, safe_stride, it.ty.elem)
            if count is None:
                count = cnt
            else:
                bad = b.or_(bad, b.icmp_signed("!=", cnt, count))
            out.append(item)
        if len(iters) > 1:
            with b.if_then(bad, likely=False):
                rt.error(b, self.ctx, rt.ERR_ZIP)
            count = b.select(bad, _i64(0), count)
        return out, count  # type: ignore[return-value]

    def element(self, it: _Iter, i: ir.Value) -> ir.Value:
        b = self.b
        if it.kind == "vec":
            return L.load(b, L.elem_ptr(b, it.data, i, it.elem), it.elem)
        pos = b.add(it.start, b.mul(i, it.stride, flags=["nsw"]), flags=["nsw"])
        if it.kind == "range":
            return pos
        return L.load(b, L.elem_ptr(b, it.data, pos, it.elem), it.elem)

    def g_for(self, e: n.Expr, env: Env) -> Value:
        iters, bexpr, func = n.for_parts(e)
        its, count = self.setup_iters(iters, env)
        builder = self.gen(bexpr, env)
        sized = presized(iters, bexpr)
        if self.depth == 0:
            self.outline(e, its, count, builder, env, sized)
        else:
            self.run_loop(func, its, _i64(0), count, builder, env, sized)
        return builder

    def run_loop(
        self,
        func: n.Expr,
        its: list[_Iter],
        start: ir.Value,
        stop: ir.Value,
        builder: Value,
        env: Env,
        sized: frozenset[tuple[int, ...]] = frozenset(),
    ) -> None:
        """Emit the loop of ``func`` over iterations ``[start, stop)`` here (``sized``: the
        builder leaves already big enough for one merge per iteration, see ``presized``)."""
        b = self.b
        (bname, bty), (iname, _), (ename, _) = func.params
        bounds, varying = merge_bounds(func.body, bname)
        rooms: list[tuple[int, _Room, ir.Value, ir.Value]] = []
        for path, k in bounds.items():
            leaf = _leaf(builder, path)
            leaf_ty = _leaf_type(bty, path)
            if k and isinstance(leaf_ty, (T.Appender, T.Scanner)) and id(leaf) not in self.reserved:
                length_p = _appender_field(b, leaf, 1)
                length = b.load(length_p, typ=L.I64)
                if k > 1 or path not in sized:
                    room = b.sub(stop, start)
                    if k > 1:
                        room = b.mul(room, _i64(k))
                    self.grow(leaf, b.add(length, room), leaf_ty.elem)
                # With room reserved the data cannot move during the loop: its address is loaded
                # once. One merge per iteration goes to the iteration's position; otherwise the
                # length lives in a local (a register) until the loop ends.
                data = b.load(_appender_field(b, leaf, 0), typ=L.PTR)
                if k == 1 and path not in varying:
                    r = _Room(L.elem_ptr(b, data, length, leaf_ty.elem), None)
                else:
                    r = _Room(data, self.alloca(L.I64))
                    b.store(length, r.length)
                self.reserved[id(leaf)] = r
                rooms.append((id(leaf), r, length_p, length))
        with self.loop(start, stop) as i:
            if any(r.length is None for _, r, _, _ in rooms):
                pos = b.sub(i, start)
                for _, r, _, _ in rooms:
                    if r.length is None:
                        r.pos = pos
            elems = [self.element(it, i) for it in its]
            if len(elems) == 1:
                elem = elems[0]
            else:
                elem = ir.Constant(L.value_type(func.params[2][1]), ir.Undefined)
                for j, x in enumerate(elems):
                    elem = b.insert_value(elem, x, j)
            self.depth += 1
            self.gen(func.body, {**env, bname: builder, iname: i, ename: elem})
            self.depth -= 1
        for key, r, length_p, length in rooms:
            end = b.add(length, b.sub(stop, start)) if r.length is None else b.load(r.length, typ=L.I64)
            b.store(end, length_p)
            del self.reserved[key]

    def outline(self, e: n.Expr, its: list[_Iter], count: ir.Value, builder: Value, env: Env, sized: frozenset) -> None:
        """Emit the loop as ``lz_loop_<k>(ctx, start, stop, iterators..., builders..., captures...)``."""
        _, bexpr, func = n.for_parts(e)
        captured = sorted(free_vars(func) & env.keys())
        params: list[ir.Type] = [L.PTR, L.I64, L.I64]
        actual: list[ir.Value] = [self.ctx, _i64(0), count]
        noalias = [0]
        for it in its:
            if it.data is not None:
                noalias.append(len(params))
                params.append(L.PTR)
                actual.append(it.data)
            if it.kind != "vec":  # a whole vector starts at 0 with stride 1
                params += [L.I64, L.I64]
                actual += [it.start, it.stride]
        leaves = _leaves(builder)
        for leaf in leaves:
            noalias.append(len(params))
            params.append(L.PTR)
            actual.append(leaf)
        flat_caps: list[tuple[str, list[int]]] = []
        for name in captured:
            vals = _flatten(self.b, env[name])
            idxs = []
            for v in vals:
                if v.type == L.PTR:
                    noalias.append(len(params))
                idxs.append(len(params))
                params.append(v.type)
                actual.append(v)
            flat_caps.append((name, idxs))
        self.cg.loop_count += 1
        fn = ir.Function(self.cg.module, ir.FunctionType(ir.VoidType(), params), f"lz_loop_{self.cg.loop_count}")
        fn.linkage = "internal"
        tune_function(fn)
        fn.attributes.add("alwaysinline")
        for j in noalias:
            fn.args[j].add_attribute("noalias")
        inner = _Fn(self.cg, fn, fn.args[0])
        args = list(fn.args)
        pos = 3
        inner_its = []
        for it in its:
            data = None
            if it.data is not None:
                data = args[pos]
                pos += 1
            if it.kind == "vec":
                inner_its.append(_Iter(it.kind, data, it.start, it.stride, it.elem))
            else:
                inner_its.append(_Iter(it.kind, data, args[pos], args[pos + 1], it.elem))
                pos += 2
        leaf_args = iter(args[pos : pos + len(leaves)])
        inner_builder = _rebuild(builder, leaf_args)
        inner_env: Env = {}
        for name, idxs in flat_caps:
            inner_env[name] = _unflatten(inner.b, [args[j] for j in idxs], env[name])
        inner.run_loop(func, inner_its, args[1], args[2], inner_builder, inner_env, sized)
        inner.b.ret_void()
        inner.finish()
        self.b.call(fn, actual)


# -- freeing temporaries at their last use --------------------------------------------------------
_FRESH_VEC_BUILDERS = (T.Appender, T.Scanner, T.VecMerger)
#: (parent op, operand position) where reading a vector keeps no reference to it
_READS = {(n.ITER, 0), (n.LOOKUP, 0), (n.LEN, 0)}


def early_frees(chain: list[tuple[str, n.Expr]], body: n.Expr) -> dict[int, list[str]]:
    """Statement index -> the let-bound temporary vectors to free after it (the last statement
    reading them). A temporary is a vector a loop's appender, scanner or vecmerger result just
    allocated; it is freed only when every later use reads it (iterates, looks up, takes its
    length) without keeping it and its name is never rebound, so nothing can refer to its memory
    afterwards. A chain of statements that each read the one before then holds two temporaries
    at a time, not all of them. When the body is a struct of values (a program's several
    outputs), its fields are statements too: index ``len(chain) + j`` is field ``j``."""
    fresh = {}
    for k, (name, value) in enumerate(chain):
        if value.op == n.RESULT and value.src[0].op == n.FOR:
            builder_ty = value.src[0].ty
            if isinstance(builder_ty, _FRESH_VEC_BUILDERS):
                fresh[name] = k
    if not fresh:
        return {}
    names = [name for name, _ in chain]
    rebound = {name for name in names if names.count(name) > 1}
    statements = [value for _, value in chain]
    if body.op == n.STRUCT and not body.ty.is_builder:
        statements += list(body.src)
    else:
        statements.append(body)
        rebound |= {x.arg for x in walk(body) if x.op == n.IDENT}  # used by the result: kept
    last: dict[str, int] = {}
    for j, value in enumerate(statements):
        for x in walk(value):
            if x.op == n.LET:
                rebound.add(x.arg)
            elif x.op == n.LAMBDA:
                rebound |= {p for p, _ in x.params}
            for pos, s in enumerate(x.src):
                if s.op == n.IDENT and s.arg in fresh:
                    last[s.arg] = max(last.get(s.arg, -1), j)
                    if (x.op, pos) not in _READS:
                        rebound.add(s.arg)
        if value.op == n.IDENT and value.arg in fresh:
            rebound.add(value.arg)  # an alias
    out: dict[int, list[str]] = {}
    for name, k in fresh.items():
        if name in rebound:
            continue
        out.setdefault(max(last.get(name, k), k), []).append(name)
    return out


# -- helpers for builder values (Python tuples of state pointers) and captured values ------------
def _appender_field(b: ir.IRBuilder, state: ir.Value, i: int) -> ir.Value:
    """Address of field ``i`` (data, length, capacity) of an appender's or scanner's state."""
    return b.gep(state, [_i64(0), ir.Constant(L.I32, i)], source_etype=L.APPENDER_STATE)


def _leaves(v: Value) -> list[ir.Value]:
    if isinstance(v, tuple):
        return [x for f in v for x in _leaves(f)]
    return [v]  # type: ignore[list-item]


def _rebuild(template: Value, leaves: Iterator[ir.Value]) -> Value:
    if isinstance(template, tuple):
        return tuple(_rebuild(f, leaves) for f in template)
    return next(leaves)


def _leaf(v: Value, path: tuple[int, ...]) -> Value:
    for k in path:
        v = v[k]  # type: ignore[index]
    return v


def _leaf_type(t: T.Type, path: tuple[int, ...]) -> T.Type:
    for k in path:
        t = t.fields[k]  # type: ignore[attr-defined]
    return t


def _flatten(b: ir.IRBuilder, v: Value) -> list[ir.Value]:
    """Split a captured value into loop-function arguments (vectors into data and length)."""
    if isinstance(v, tuple):
        return [x for f in v for x in _flatten(b, f)]
    if v.type == L.VEC:  # type: ignore[attr-defined]
        return [b.extract_value(v, 0), b.extract_value(v, 1)]
    return [v]  # type: ignore[list-item]


def _unflatten(b: ir.IRBuilder, args: list[ir.Value], template: Value) -> Value:
    it = iter(args)

    def go(t: Value) -> Value:
        if isinstance(t, tuple):
            return tuple(go(f) for f in t)
        if t.type == L.VEC:  # type: ignore[attr-defined]
            v = b.insert_value(ir.Constant(L.VEC, ir.Undefined), next(it), 0)
            return b.insert_value(v, next(it), 1)
        return next(it)

    return go(template)


# -- how many times a loop body merges into each builder per iteration ---------------------------
def presized(iters: tuple[n.Expr, ...], bexpr: n.Expr) -> frozenset[tuple[int, ...]]:
    """The builder leaves (paths) of a loop that are new appenders or scanners sized for the
    loop: created right there with ``len(v)`` as the size, ``v`` the first iterated vector. The
    loop runs at most ``len(v)`` iterations (unequal zips and bad bounds run none), so one merge
    per iteration never grows them."""
    first = iters[0]
    if first.op != n.ITER or first.arg not in ("vec", "iter"):
        return frozenset()
    vec = first.src[0]
    out = []
    todo = [((), bexpr)]
    while todo:
        path, x = todo.pop()
        if x.op == n.STRUCT:
            todo += [((*path, j), f) for j, f in enumerate(x.src)]
        elif (
            x.op == n.NEWBUILDER
            and isinstance(x.arg, (T.Appender, T.Scanner))
            and len(x.src) == 1
            and x.src[0].op == n.LEN
            and x.src[0].src[0] is vec
        ):
            out.append(path)
    return frozenset(out)


def merge_bounds(body: n.Expr, bname: str) -> tuple[dict[tuple[int, ...], int | None], set[tuple[int, ...]]]:
    """For each builder leaf (a path of struct fields from the loop's builder parameter), the most
    merges one iteration makes into it, or ``None`` when unbounded (nested loops) or not understood;
    and the leaves whose count varies from one iteration to the next (merges under an ``if``).
    Appenders with a bound get their room reserved once before the loop; one that takes exactly
    one merge per iteration is written at the iteration's position."""
    counts: dict[tuple[int, ...], int | None] = {}
    varying: set[tuple[int, ...]] = set()
    try:
        _count(body, {bname: ()}, counts, varying)
    except _Unknown:
        return {}, set()
    return counts, varying


class _Unknown(Exception):
    pass


def _path(e: n.Expr, aliases: dict[str, tuple[int, ...]]) -> tuple[int, ...] | None:
    if e.op == n.IDENT:
        return aliases.get(e.arg)
    if e.op == n.GETFIELD:
        p = _path(e.src[0], aliases)
        return None if p is None else (*p, e.arg)
    if e.op == n.MERGE:
        return _path(e.src[0], aliases)
    return None


def _add(counts: dict, path: tuple[int, ...], k: int | None) -> None:
    old = counts.get(path, 0)
    counts[path] = None if old is None or k is None else old + k


def _count(e: n.Expr, aliases: dict[str, tuple[int, ...]], counts: dict, varying: set) -> None:
    if not (free_vars(e) & aliases.keys()):
        return
    op = e.op
    if op == n.IDENT:
        return
    if op == n.MERGE:
        p = _path(e.src[0], aliases)
        if p is None:
            raise _Unknown
        _count(e.src[0], aliases, counts, varying)
        _count(e.src[1], aliases, counts, varying)
        _add(counts, p, 1)
        return
    if op == n.SELECT:  # both sides are evaluated: their merges add up
        for s in e.src:
            _count(s, aliases, counts, varying)
        return
    if op == n.IF:
        _count(e.src[0], aliases, counts, varying)
        branches = []
        for s in e.src[1:]:
            c: dict = {}
            _count(s, aliases, c, varying)
            branches.append(c)
        for path in set(branches[0]) | set(branches[1]):
            a, bb = branches[0].get(path, 0), branches[1].get(path, 0)
            _add(counts, path, None if a is None or bb is None else max(a, bb))
            if a != bb:
                varying.add(path)
        return
    if op == n.LET:
        _count(e.src[0], aliases, counts, varying)
        p = _path(e.src[0], aliases) if e.src[0].ty is not None and e.src[0].ty.is_builder else None
        inner = {k: v for k, v in aliases.items() if k != e.arg}
        if p is not None:
            inner[e.arg] = p
        _count(e.src[1], inner, counts, varying)
        return
    if op == n.FOR:
        iters, bexpr, func = n.for_parts(e)
        for s in iters:
            _count(s, aliases, counts, varying)
        p = _path(bexpr, aliases)
        _count(bexpr, aliases, counts, varying)
        if p is not None:
            # Merges inside a nested loop are not bounded per outer iteration.
            for path in list(counts) + [p]:
                if path[: len(p)] == p:
                    counts[path] = None
            counts[p] = None
        if free_vars(func) & aliases.keys():
            raise _Unknown
        return
    if op in (n.STRUCT, n.GETFIELD):
        for s in e.src:
            _count(s, aliases, counts, varying)
        return
    if op == n.LAMBDA:
        raise _Unknown
    for s in e.src:
        _count(s, aliases, counts, varying)


_GEN: dict[str, Callable[[_Fn, n.Expr, Env], Value]] = {
    n.LET: _Fn.gen,  # gen walks let chains itself, without recursion
    n.LIT: _Fn.g_lit,
    n.IDENT: _Fn.g_ident,
    n.BINOP: _Fn.g_binop,
    n.UNOP: _Fn.g_unop,
    n.CAST: _Fn.g_cast,
    n.SELECT: _Fn.g_select,
    n.IF: _Fn.g_if,
    n.STRUCT: _Fn.g_struct,
    n.GETFIELD: _Fn.g_getfield,
    n.VECTOR: _Fn.g_vector,
    n.LEN: _Fn.g_len,
    n.LOOKUP: _Fn.g_lookup,
    n.SLICE: _Fn.g_slice,
    n.SORT: _Fn.g_sort,
    n.TOVEC: _Fn.g_tovec,
    n.KEYEXISTS: _Fn.g_keyexists,
    n.OPTLOOKUP: _Fn.g_keyexists,
    n.FOR: _Fn.g_for,
    n.MERGE: _Fn.g_merge,
    n.RESULT: _Fn.g_result,
    n.NEWBUILDER: _Fn.g_newbuilder,
}
