"""Small code-generation helpers shared by the backend's emitters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from llvmlite import ir

from .lltypes import I64, PTR


def i64(v: int) -> ir.Constant:
    return ir.Constant(I64, v)


@contextmanager
def counted_loop(b: ir.IRBuilder, start: ir.Value, stop: ir.Value, step: ir.Value | int = 1) -> Iterator[ir.Value]:
    """``for (i = start; i < stop; i += step)`` over signed i64: the body is emitted inside the
    ``with`` (it yields ``i``); ``b`` is left after the loop."""
    fn = b.function
    pre = b.block
    head, body, done = (fn.append_basic_block(f"for.{s}") for s in ("head", "body", "done"))
    b.branch(head)
    b.position_at_end(head)
    i = b.phi(I64, "i")
    i.add_incoming(start, pre)
    b.cbranch(b.icmp_signed("<", i, stop), body, done)
    b.position_at_end(body)
    yield i
    nxt = b.add(i, i64(step) if isinstance(step, int) else step, flags=["nsw"])
    i.add_incoming(nxt, b.block)
    b.branch(head)
    b.position_at_end(done)


def stack_var(b: ir.IRBuilder, ty: ir.Type, init: ir.Value) -> ir.Value:
    """A mutable local: an entry-block slot (LLVM promotes it to registers), set to ``init``."""
    with b.goto_entry_block():
        slot = b.alloca(ty)
    slot.type = PTR  # opaque, like every other pointer the backend makes
    b.store(init, slot)
    return slot
