"""The deterministic text form of IR expressions; ``parse(to_text(e)) == e``."""

from __future__ import annotations

import math
import struct

from . import nodes as n
from .deep import run_deep
from .types import Scalar

#: Literal suffixes by scalar type; the parser accepts these case-insensitively.
INT_SUFFIX = {"i8": "c", "u8": "uc", "i16": "si", "u16": "us", "i32": "", "u32": "u", "i64": "L", "u64": "uL"}

_LET_PREC = -2  # let and lambda bind loosest
_UNARY_PREC = len(n.INFIX_LEVELS)
_ATOM_PREC = _UNARY_PREC + 1


def format_literal(value: bool | int | float, ty: Scalar) -> str:
    """Text of a literal of scalar type ``ty``: ``5``, ``5L``, ``1.0``, ``1.5f``, ``-inf``, ``nan``."""
    if ty.is_bool:
        return "true" if value else "false"
    if ty.is_int:
        return f"{int(value)}{INT_SUFFIX[ty.name]}"
    suffix = "f" if ty.name == "f32" else ""
    v = float(value)
    if math.isnan(v):
        return "nan" + suffix
    if math.isinf(v):
        return ("-inf" if v < 0 else "inf") + suffix
    text = repr(v)
    if suffix:
        short = repr(float(_f32(float(str(_np_f32(v))))))
        if short == text:
            text = str(_np_f32(v))
    if not any(c in text for c in ".en"):
        text += ".0"
    return text + suffix


def _f32(v: float) -> float:
    return struct.unpack("<f", struct.pack("<f", v))[0]


def _np_f32(v: float):
    import numpy as np

    return np.float32(v)


def to_text(e: n.Expr) -> str:
    """Print ``e``; the root lambda's parameters carry their types, inner lambdas' do not."""
    return run_deep(_Printer().top, e)


class _Printer:
    def top(self, e: n.Expr) -> str:
        if e.op == n.LAMBDA:
            return self.lam(e, typed=True)
        return self.expr(e)

    def lam(self, e: n.Expr, typed: bool) -> str:
        parts = []
        for name, ty in e.params:
            parts.append(f"{name}: {ty}" if typed and ty is not None else name)
        return "|" + ", ".join(parts) + "| " + self.expr(e.body)

    def expr(self, e: n.Expr, prec: int = _LET_PREC) -> str:
        text, own = self._expr(e)
        return f"({text})" if own < prec else text

    def args(self, *es: n.Expr) -> str:
        return ", ".join(self.expr(x) for x in es)

    def _expr(self, e: n.Expr) -> tuple[str, int]:
        op = e.op
        if op == n.LIT:
            text = format_literal(e.arg, e.ty)  # type: ignore[arg-type]
            return text, (_UNARY_PREC if text.startswith("-") else _ATOM_PREC)
        if op == n.IDENT:
            return e.arg, _ATOM_PREC
        if op == n.LET:
            value, body = e.src
            return f"let {e.arg} = {self.expr(value)};\n{self.expr(body)}", _LET_PREC
        if op == n.LAMBDA:
            return self.lam(e, typed=False), _LET_PREC
        if op == n.BINOP:
            a, b = e.src
            if e.arg in n.CALL_BINOPS:
                return f"{e.arg}({self.args(a, b)})", _ATOM_PREC
            p = n.INFIX_PREC[e.arg]
            return f"{self.expr(a, p)} {e.arg} {self.expr(b, p + 1)}", p
        if op == n.UNOP:
            (a,) = e.src
            if e.arg == "-":
                return f"-({self.expr(a)})", _UNARY_PREC
            if e.arg == "!":
                return f"!{self.expr(a, _UNARY_PREC)}", _UNARY_PREC
            return f"{e.arg}({self.expr(a)})", _ATOM_PREC
        if op == n.CAST:
            return f"{e.arg}({self.expr(e.src[0])})", _ATOM_PREC
        if op == n.GETFIELD:
            return f"{self.expr(e.src[0], _ATOM_PREC)}.${e.arg}", _ATOM_PREC
        if op == n.STRUCT:
            return "{" + self.args(*e.src) + "}", _ATOM_PREC
        if op == n.VECTOR:
            return "[" + self.args(*e.src) + "]", _ATOM_PREC
        if op == n.ITER:
            if e.arg == "vec":
                return self.expr(e.src[0]), _ATOM_PREC
            name = "iter" if e.arg == "iter" else "rangeiter"
            return f"{name}({self.args(*e.src)})", _ATOM_PREC
        if op == n.FOR:
            iters, builder, func = n.for_parts(e)
            it = self.args(*iters)
            if len(iters) > 1:
                it = f"zip({it})"
            return f"for({it}, {self.expr(builder)}, {self.expr(func)})", _ATOM_PREC
        if op == n.NEWBUILDER:
            text = str(e.arg)
            if e.src:
                text += f"({self.args(*e.src)})"
            return text, _ATOM_PREC
        # Everything else is written as a call of its op name.
        return f"{op}({self.args(*e.src)})", _ATOM_PREC
