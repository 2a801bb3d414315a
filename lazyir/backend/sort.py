"""Stable argsort of keys in memory, emitted as LLVM.

``emit_argsort(module, key)`` defines ``ptr lz_argsort_<h>(ptr ctx, ptr keys, i64 n)``: it returns
a block from ``runtime.alloc`` holding the ``n`` i64 indices that put the ``n`` memory-form keys at
``keys`` in stable ascending order (the order of ``sort`` in docs/ir.md).

Every key is first mapped to an unsigned integer whose order is the key order (an *ordered key*):

- ``uN``: the bits; ``iN``: the bits with the sign bit flipped; ``bool``: one bit (any non-zero
  byte is true);
- ``fN``: ``-0.0`` becomes ``+0.0``; a negative value has all bits flipped, a positive one its
  sign bit set; every NaN becomes all ones, above ``+inf``;
- a struct (nested structs are flattened): the fields' ordered keys concatenated, first field in
  the most significant bits, so the integer order is the lexicographic order.

Records ``{ordered key, index}`` are then sorted by key, which is stable when equal keys keep their
order:

- fewer than ``RADIX_MIN_N_PER_PASS`` keys per radix pass: insertion sort of runs of ``RUN``
  records, then a bottom-up merge sort (a merge of two runs already in order is one copy);
- otherwise an LSD radix sort on digits of at most 11 bits. One read of the keys counts every
  digit; passes in which all keys have the same digit are skipped; the first pass reads the keys
  directly and the last one writes only the indices. Keys already ascending (or strictly
  descending) are detected first and give the identity (or reversed) order. Records hold u32 indices below
  ``WIDE_INDEX_MIN_N`` keys and i64 indices from there on.

All memory comes from ``runtime.alloc``; temporaries are released with ``runtime.free``. When an allocation
fails (``runtime.error`` has recorded ``ERR_NOMEM``) the result is the identity order, or a null pointer
when the result block itself could not be allocated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from llvmlite import ir

from ..ir import types as T
from . import runtime
from .cgutils import counted_loop, stack_var
from .lltypes import I1, I32, I64, PTR, memory_type

#: Below this many keys per radix pass (the key's bits / 11, rounded up) a merge sort is used,
#: from it on a radix sort.
RADIX_MIN_N_PER_PASS = 128
#: From this many keys on, radix-sort records carry i64 indices instead of u32 ones.
WIDE_INDEX_MIN_N = 1 << 32
#: Length of the runs that insertion sort orders before merging.
RUN = 16
#: Widest radix digit (2048 buckets per pass).
MAX_DIGIT_BITS = 11

_VOID = ir.VoidType()
_SIG = ir.FunctionType(_VOID, [PTR, PTR, I64, PTR])


def argsort_name(key: T.Type) -> str:
    """The symbol of the argsort function for key type ``key``."""
    digest = hashlib.blake2b(str(key).encode(), digest_size=5).hexdigest()
    return f"lz_argsort_{digest}"


def emit_argsort(module: ir.Module, key: T.Type) -> ir.Function:
    """Define (once per module and key type) and return ``ptr lz_argsort_<h>(ptr ctx, ptr keys, i64 n)``."""
    name = argsort_name(key)
    existing = module.globals.get(name)
    if existing is not None:
        return existing
    if not T.is_scalar_struct(key):
        raise TypeError(f"sort keys must be scalars or structs of scalars, not {key}")
    runtime.emit_runtime(module)
    return _Emitter(module, key, name).emit()


def _leaves(t: T.Type, path: tuple[int, ...]) -> Iterator[tuple[tuple[int, ...], T.Scalar]]:
    if isinstance(t, T.Scalar):
        yield path, t
    else:
        for i, f in enumerate(t.fields):  # type: ignore[attr-defined]
            yield from _leaves(f, (*path, i))


def _ordered_width(s: T.Scalar) -> int:
    return s.bits  # bool: 1


def _c64(v: int) -> ir.Constant:
    return ir.Constant(I64, v)


def _smin(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    return b.select(b.icmp_signed("<", x, y), x, y)


class _Emitter:
    def __init__(self, module: ir.Module, key: T.Type, name: str) -> None:
        self.module = module
        self.key = key
        self.name = name
        self.mt = memory_type(key)
        self.leaves = list(_leaves(key, ()))
        self.nbits = sum(_ordered_width(s) for _, s in self.leaves)
        n = self.nbits
        self.kbits = 8 if n <= 8 else 16 if n <= 16 else 32 if n <= 32 else 64 * -(-n // 64)
        self.kt = ir.IntType(self.kbits)
        self.passes = max(1, -(-n // MAX_DIGIT_BITS))
        self.dbits = max(1, -(-n // self.passes))
        self.memcpy = runtime.libc(module, "memcpy")
        self.memset = runtime.libc(module, "memset")

    # -- records {ordered key, index} -------------------------------------------------------------

    def rec_type(self, idx_bits: int) -> ir.LiteralStructType:
        kbits = self.kbits
        slot = self.kt if kbits <= 64 else ir.ArrayType(I64, kbits // 64)
        return ir.LiteralStructType([slot, ir.IntType(idx_bits)])

    def key_align(self) -> int:
        return min(self.kbits // 8, 8)

    def rec_ptr(self, b: ir.IRBuilder, base: ir.Value, i: ir.Value, rec: ir.Type) -> ir.Value:
        return b.gep(base, [i], inbounds=True, source_etype=rec)

    def load_rec(self, b: ir.IRBuilder, p: ir.Value, rec: ir.LiteralStructType) -> tuple[ir.Value, ir.Value]:
        k = b.load(p, typ=self.kt, align=self.key_align())
        ip = b.gep(p, [ir.Constant(I32, 0), ir.Constant(I32, 1)], inbounds=True, source_etype=rec)
        return k, b.load(ip, typ=rec.elements[1])

    def store_rec(self, b: ir.IRBuilder, p: ir.Value, rec: ir.LiteralStructType, k: ir.Value, idx: ir.Value):
        b.store(k, p, align=self.key_align())
        ip = b.gep(p, [ir.Constant(I32, 0), ir.Constant(I32, 1)], inbounds=True, source_etype=rec)
        b.store(idx, ip)

    def sizeof(self, b: ir.IRBuilder, ty: ir.Type) -> ir.Value:
        end = b.gep(ir.Constant(PTR, None), [_c64(1)], source_etype=ty)
        return b.ptrtoint(end, I64)

    # -- ordered keys -----------------------------------------------------------------------------

    def ordered_scalar(self, b: ir.IRBuilder, raw: ir.Value, s: T.Scalar) -> ir.Value:
        """The ordered key of scalar ``s`` from its memory form ``raw`` (an iN, N = bits)."""
        if s.is_bool:
            return b.icmp_unsigned("!=", raw, ir.Constant(raw.type, 0))
        it = ir.IntType(s.bits)
        sign = ir.Constant(it, 1 << (s.bits - 1))
        if s.is_int:
            return b.xor(raw, sign) if s.is_signed else raw
        zero = ir.Constant(raw.type, 0.0)
        bits = b.bitcast(raw, it)
        bits = b.select(b.fcmp_ordered("==", raw, zero), ir.Constant(it, 0), bits)
        neg = b.icmp_signed("<", bits, ir.Constant(it, 0))
        flipped = b.select(neg, b.not_(bits), b.or_(bits, sign))
        return b.select(b.fcmp_unordered("uno", raw, zero), ir.Constant(it, -1), flipped)

    def ordered_key(self, b: ir.IRBuilder, keys: ir.Value, i: ir.Value) -> ir.Value:
        """The ordered key (an integer of type ``self.kt``) of ``keys[i]``."""
        p = b.gep(keys, [i], inbounds=True, source_etype=self.mt)
        acc = ir.Constant(self.kt, 0)
        for path, s in self.leaves:
            fp = p
            if path:
                idx = [ir.Constant(I32, 0)] + [ir.Constant(I32, j) for j in path]
                fp = b.gep(p, idx, inbounds=True, source_etype=self.mt)
            v = self.ordered_scalar(b, b.load(fp, typ=memory_type(s)), s)
            if v.type != self.kt:
                v = b.zext(v, self.kt)
            if len(self.leaves) > 1:
                acc = b.or_(b.shl(acc, ir.Constant(self.kt, _ordered_width(s))), v)
            else:
                acc = v
        return acc

    def digit(self, b: ir.IRBuilder, k: ir.Value, shift: ir.Value | int) -> ir.Value:
        """Bits ``shift .. shift + dbits`` of ordered key ``k``, as an i64."""
        if isinstance(shift, int):
            if shift:
                k = b.lshr(k, ir.Constant(self.kt, shift))
        else:
            if self.kbits > 64:
                shift = b.zext(shift, self.kt)
            elif self.kbits < 64:
                shift = b.trunc(shift, self.kt)
            k = b.lshr(k, shift)
        if self.kbits > 64:
            k = b.trunc(k, I64)
        elif self.kbits < 64:
            k = b.zext(k, I64)
        return b.and_(k, _c64((1 << self.dbits) - 1))

    # -- functions --------------------------------------------------------------------------------

    def new_function(self, name: str, fnty: ir.FunctionType) -> tuple[ir.Function, ir.IRBuilder]:
        fn = ir.Function(self.module, fnty, name)
        fn.linkage = "internal"
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        return fn, b

    def identity(self, b: ir.IRBuilder, out: ir.Value, n: ir.Value) -> None:
        with counted_loop(b, _c64(0), n) as i:
            b.store(i, b.gep(out, [i], inbounds=True, source_etype=I64))

    def emit(self) -> ir.Function:
        fn, b = self.new_function(self.name, ir.FunctionType(PTR, [PTR, PTR, I64]))
        ctx, keys, n = fn.args
        ctx.name, keys.name, n.name = "ctx", "keys", "n"
        n = b.select(b.icmp_signed("<", n, _c64(0)), _c64(0), n)
        out = runtime.alloc(b, ctx, b.mul(n, _c64(8)))
        with b.if_then(b.icmp_unsigned("==", out, ir.Constant(PTR, None)), likely=False):
            b.ret(out)
        if self.nbits == 0:  # an empty struct: all keys are equal
            self.identity(b, out, n)
            b.ret(out)
            return fn
        merge = self.emit_merge()
        radix32, radix64 = self.emit_radix(32), self.emit_radix(64)
        small = b.icmp_signed("<", n, _c64(RADIX_MIN_N_PER_PASS * self.passes))
        with b.if_else(small) as (then, otherwise):
            with then:
                b.call(merge, [ctx, keys, n, out])
            with otherwise:
                wide = b.icmp_signed(">=", n, _c64(WIDE_INDEX_MIN_N))
                with b.if_else(wide, likely=False) as (then2, otherwise2):
                    with then2:
                        b.call(radix64, [ctx, keys, n, out])
                    with otherwise2:
                        b.call(radix32, [ctx, keys, n, out])
        b.ret(out)
        return fn

    # -- merge sort -------------------------------------------------------------------------------

    def emit_merge(self) -> ir.Function:
        """``void (ctx, keys, n, out)``: insertion sort of runs, then bottom-up merge sort."""
        rec = self.rec_type(64)
        fn, b = self.new_function(self.name + "_merge", _SIG)
        ctx, keys, n, out = fn.args
        size = self.sizeof(b, rec)
        nbytes = b.mul(n, size)
        bufs = [runtime.alloc(b, ctx, nbytes) for _ in range(2)]
        null = ir.Constant(PTR, None)
        failed = b.or_(b.icmp_unsigned("==", bufs[0], null), b.icmp_unsigned("==", bufs[1], null))
        with b.if_then(failed, likely=False):
            self.identity(b, out, n)
            for p in bufs:
                runtime.free(b, ctx, p)
            b.ret_void()
        a = bufs[0]
        with counted_loop(b, _c64(0), n) as i:
            self.store_rec(b, self.rec_ptr(b, a, i, rec), rec, self.ordered_key(b, keys, i), i)

        # Insertion sort of each run [s, min(s + RUN, n)).
        with counted_loop(b, _c64(0), n, RUN) as s:
            e = _smin(b, b.add(s, _c64(RUN)), n)
            with counted_loop(b, b.add(s, _c64(1)), e) as i:
                k, idx = self.load_rec(b, self.rec_ptr(b, a, i, rec), rec)
                # while j > s and a[j - 1].key > k: a[j] = a[j - 1]; j -= 1
                pre = b.block
                head = fn.append_basic_block("ins.head")
                body = fn.append_basic_block("ins.body")
                done = fn.append_basic_block("ins.done")
                b.branch(head)
                b.position_at_end(head)
                j = b.phi(I64)
                j.add_incoming(i, pre)
                more = fn.append_basic_block("ins.cmp")
                b.cbranch(b.icmp_signed(">", j, s), more, done)
                b.position_at_end(more)
                prevp = self.rec_ptr(b, a, b.sub(j, _c64(1)), rec)
                pk, pidx = self.load_rec(b, prevp, rec)
                b.cbranch(b.icmp_unsigned(">", pk, k), body, done)
                b.position_at_end(body)
                self.store_rec(b, self.rec_ptr(b, a, j, rec), rec, pk, pidx)
                j.add_incoming(b.sub(j, _c64(1)), body)
                b.branch(head)
                b.position_at_end(done)
                jd = b.phi(I64)
                jd.add_incoming(j, head)
                jd.add_incoming(j, more)
                self.store_rec(b, self.rec_ptr(b, a, jd, rec), rec, k, idx)

        # Bottom-up merges of runs of width w, alternating between the two buffers.
        src_v, dst_v = stack_var(b, PTR, bufs[0]), stack_var(b, PTR, bufs[1])
        w_v = stack_var(b, I64, _c64(RUN))
        head = fn.append_basic_block("merge.head")
        body = fn.append_basic_block("merge.body")
        done = fn.append_basic_block("merge.done")
        b.branch(head)
        b.position_at_end(head)
        b.cbranch(b.icmp_signed("<", b.load(w_v, typ=I64), n), body, done)
        b.position_at_end(body)
        w = b.load(w_v, typ=I64)
        src, dst = b.load(src_v, typ=PTR), b.load(dst_v, typ=PTR)
        w2 = b.shl(w, _c64(1))
        with counted_loop(b, _c64(0), n, w2) as lo:
            mid = _smin(b, b.add(lo, w), n)
            hi = _smin(b, b.add(lo, w2), n)
            self.merge_runs(b, src, dst, lo, mid, hi, rec, size)
        b.store(dst, src_v)
        b.store(src, dst_v)
        b.store(w2, w_v)
        b.branch(head)
        b.position_at_end(done)

        res = b.load(src_v, typ=PTR)
        with counted_loop(b, _c64(0), n) as i:
            _, idx = self.load_rec(b, self.rec_ptr(b, res, i, rec), rec)
            b.store(idx, b.gep(out, [i], inbounds=True, source_etype=I64))
        for p in bufs:
            runtime.free(b, ctx, p)
        b.ret_void()
        return fn

    def merge_runs(self, b, src, dst, lo, mid, hi, rec, size) -> None:
        """Merge ``src[lo:mid]`` and ``src[mid:hi]`` (each sorted) into ``dst[lo:hi]``, stably."""
        fn = b.function
        # One copy when the right run is empty or already follows the left one.
        copy_all = b.icmp_signed(">=", mid, hi)
        last_left = b.sub(mid, _c64(1))
        lk, _ = self.load_rec(b, self.rec_ptr(b, src, last_left, rec), rec)
        rk, _ = self.load_rec(b, self.rec_ptr(b, src, b.select(copy_all, last_left, mid), rec), rec)
        simple = b.or_(copy_all, b.icmp_unsigned("<=", lk, rk))
        with b.if_else(simple) as (then, otherwise):
            with then:
                b.call(
                    self.memcpy,
                    [self.rec_ptr(b, dst, lo, rec), self.rec_ptr(b, src, lo, rec), b.mul(b.sub(hi, lo), size)],
                )
            with otherwise:
                pre = b.block
                head = fn.append_basic_block("mrg.head")
                check = fn.append_basic_block("mrg.check")
                body = fn.append_basic_block("mrg.body")
                tail = fn.append_basic_block("mrg.tail")
                b.branch(head)
                b.position_at_end(head)
                i, j, k = b.phi(I64), b.phi(I64), b.phi(I64)
                for v, init in ((i, lo), (j, mid), (k, lo)):
                    v.add_incoming(init, pre)
                b.cbranch(b.icmp_signed("<", i, mid), check, tail)
                b.position_at_end(check)
                b.cbranch(b.icmp_signed("<", j, hi), body, tail)
                b.position_at_end(body)
                pi, pj = self.rec_ptr(b, src, i, rec), self.rec_ptr(b, src, j, rec)
                ki, ii = self.load_rec(b, pi, rec)
                kj, ij = self.load_rec(b, pj, rec)
                take_j = b.icmp_unsigned("<", kj, ki)
                self.store_rec(b, self.rec_ptr(b, dst, k, rec), rec, b.select(take_j, kj, ki), b.select(take_j, ij, ii))
                tj = b.zext(take_j, I64)
                i.add_incoming(b.add(i, b.sub(_c64(1), tj)), body)
                j.add_incoming(b.add(j, tj), body)
                k.add_incoming(b.add(k, _c64(1)), body)
                b.branch(head)
                b.position_at_end(tail)
                ti, tjv, tk = b.phi(I64), b.phi(I64), b.phi(I64)
                for blk in (head, check):
                    ti.add_incoming(i, blk)
                    tjv.add_incoming(j, blk)
                    tk.add_incoming(k, blk)
                # Whatever is left of either run goes after the merged part, in order.
                left = b.sub(mid, ti)
                b.call(self.memcpy, [self.rec_ptr(b, dst, tk, rec), self.rec_ptr(b, src, ti, rec), b.mul(left, size)])
                k2 = b.add(tk, left)
                b.call(
                    self.memcpy,
                    [self.rec_ptr(b, dst, k2, rec), self.rec_ptr(b, src, tjv, rec), b.mul(b.sub(hi, tjv), size)],
                )

    # -- radix sort -------------------------------------------------------------------------------

    def emit_radix(self, idx_bits: int) -> ir.Function:
        """``void (ctx, keys, n, out)``: LSD radix sort with ``idx_bits``-bit indices in records."""
        rec = self.rec_type(idx_bits)
        npass, dbits = self.passes, self.dbits
        radix = 1 << dbits
        fn, b = self.new_function(f"{self.name}_radix{idx_bits}", _SIG)
        ctx, keys, n, out = fn.args
        null = ir.Constant(PTR, None)
        with b.if_then(b.icmp_signed("<=", n, _c64(0)), likely=False):
            b.ret_void()
        # Keys already ascending give the identity, strictly descending ones the reverse order.
        # The check stops at the first key that rules out both.
        k0 = self.ordered_key(b, keys, _c64(0))
        pre = b.block
        head, body, done = (fn.append_basic_block(f"pre.{s}") for s in ("head", "body", "done"))
        b.branch(head)
        b.position_at_end(head)
        i, prev = b.phi(I64), b.phi(self.kt)
        asc, desc = b.phi(I1), b.phi(I1)
        i.add_incoming(_c64(1), pre)
        prev.add_incoming(k0, pre)
        asc.add_incoming(ir.Constant(I1, 1), pre)
        desc.add_incoming(ir.Constant(I1, 1), pre)
        go = b.and_(b.icmp_signed("<", i, n), b.or_(asc, desc))
        b.cbranch(go, body, done)
        b.position_at_end(body)
        k = self.ordered_key(b, keys, i)
        i.add_incoming(b.add(i, _c64(1)), body)
        prev.add_incoming(k, body)
        asc.add_incoming(b.and_(asc, b.icmp_unsigned("<=", prev, k)), body)
        desc.add_incoming(b.and_(desc, b.icmp_unsigned(">", prev, k)), body)
        b.branch(head)
        b.position_at_end(done)
        with b.if_then(asc):
            self.identity(b, out, n)
            b.ret_void()
        with b.if_then(desc):
            with counted_loop(b, _c64(0), n) as j:
                rev = b.sub(b.sub(n, _c64(1)), j)
                b.store(rev, b.gep(out, [j], inbounds=True, source_etype=I64))
            b.ret_void()

        hbytes = _c64(npass * radix * 8)
        hist = runtime.alloc(b, ctx, hbytes)
        with b.if_then(b.icmp_unsigned("==", hist, null), likely=False):
            self.identity(b, out, n)
            b.ret_void()
        b.call(self.memset, [hist, ir.Constant(I32, 0), hbytes])

        # Count the digits of every pass in one read of the keys.
        with counted_loop(b, _c64(0), n) as i:
            k = self.ordered_key(b, keys, i)
            for p in range(npass):
                d = self.digit(b, k, p * dbits)
                hp = b.gep(hist, [b.add(d, _c64(p * radix))], inbounds=True, source_etype=I64)
                b.store(b.add(b.load(hp, typ=I64), _c64(1)), hp)

        def trivial(p: ir.Value) -> ir.Value:
            """Whether all keys have the same digit (that of the first key) in pass ``p``."""
            d = self.digit(b, k0, b.mul(p, _c64(dbits)))
            hp = b.gep(hist, [b.add(d, b.mul(p, _c64(radix)))], inbounds=True, source_etype=I64)
            return b.icmp_signed("==", b.load(hp, typ=I64), n)

        count_v, last_v = stack_var(b, I64, _c64(0)), stack_var(b, I64, _c64(-1))
        with counted_loop(b, _c64(0), _c64(npass)) as p:
            with b.if_then(b.not_(trivial(p))):
                b.store(b.add(b.load(count_v, typ=I64), _c64(1)), count_v)
                b.store(p, last_v)
        count, last = b.load(count_v, typ=I64), b.load(last_v, typ=I64)
        with b.if_then(b.icmp_signed("==", count, _c64(0))):
            self.identity(b, out, n)
            runtime.free(b, ctx, hist)
            b.ret_void()

        # Buffers: pass 1 writes A, later passes alternate A -> B -> A; the last one writes out.
        rbytes = b.mul(n, self.sizeof(b, rec))
        bufs = []
        for need in (2, 3):
            slot = stack_var(b, PTR, null)
            with b.if_then(b.icmp_signed(">=", count, _c64(need))):
                b.store(runtime.alloc(b, ctx, rbytes), slot)
            bufs.append(b.load(slot, typ=PTR))
        bad_a = b.and_(b.icmp_signed(">=", count, _c64(2)), b.icmp_unsigned("==", bufs[0], null))
        bad_b = b.and_(b.icmp_signed(">=", count, _c64(3)), b.icmp_unsigned("==", bufs[1], null))
        with b.if_then(b.or_(bad_a, bad_b), likely=False):
            self.identity(b, out, n)
            for p in (*bufs, hist):
                runtime.free(b, ctx, p)
            b.ret_void()

        cur_v, oth_v = stack_var(b, PTR, bufs[0]), stack_var(b, PTR, bufs[1])
        first_v = stack_var(b, I1, ir.Constant(I1, 1))
        with counted_loop(b, _c64(0), _c64(npass)) as p:
            with b.if_then(b.not_(trivial(p))):
                h = b.gep(hist, [b.mul(p, _c64(radix))], inbounds=True, source_etype=I64)
                # Exclusive prefix sums: the first position of each digit.
                sum_v = stack_var(b, I64, _c64(0))
                with counted_loop(b, _c64(0), _c64(radix)) as r:
                    hp = b.gep(h, [r], inbounds=True, source_etype=I64)
                    c = b.load(hp, typ=I64)
                    s = b.load(sum_v, typ=I64)
                    b.store(s, hp)
                    b.store(b.add(s, c), sum_v)
                shift = b.mul(p, _c64(dbits))
                first = b.load(first_v, typ=I1)
                cur, oth = b.load(cur_v, typ=PTR), b.load(oth_v, typ=PTR)
                with b.if_else(b.icmp_signed("==", p, last)) as (then, otherwise):
                    with then:
                        with b.if_else(first) as (t2, o2):
                            with t2:
                                self.scatter(b, keys, None, out, None, h, shift, n, rec)
                            with o2:
                                self.scatter(b, None, cur, out, None, h, shift, n, rec)
                    with otherwise:
                        with b.if_else(first) as (t2, o2):
                            with t2:
                                self.scatter(b, keys, None, None, cur, h, shift, n, rec)
                            with o2:
                                self.scatter(b, None, cur, None, oth, h, shift, n, rec)
                                b.store(oth, cur_v)
                                b.store(cur, oth_v)
                        b.store(ir.Constant(I1, 0), first_v)
        for p in (*bufs, hist):
            runtime.free(b, ctx, p)
        b.ret_void()
        return fn

    def scatter(self, b, keys, src, out, dst, h, shift, n, rec) -> None:
        """One counting pass: from the keys (``keys``) or records (``src``) to the indices
        (``out``) or records (``dst``), by the digit at ``shift``; ``h`` holds the positions."""
        it = rec.elements[1]
        with counted_loop(b, _c64(0), n) as i:
            if keys is not None:
                k, idx = self.ordered_key(b, keys, i), b.trunc(i, it) if it != I64 else i
            else:
                k, idx = self.load_rec(b, self.rec_ptr(b, src, i, rec), rec)
            hp = b.gep(h, [self.digit(b, k, shift)], inbounds=True, source_etype=I64)
            pos = b.load(hp, typ=I64)
            b.store(b.add(pos, _c64(1)), hp)
            if out is not None:
                wide = b.zext(idx, I64) if it != I64 else idx
                b.store(wide, b.gep(out, [pos], inbounds=True, source_etype=I64))
            else:
                self.store_rec(b, self.rec_ptr(b, dst, pos, rec), rec, k, idx)
