"""The parser of lazyir's IR text (docs/ir.md): a hand-written tokenizer and recursive descent.

``parse(text)`` returns an *untyped* tree (``ty`` is ``None`` except on literals, which carry their
scalar type); ``lazyir.ir.parse`` type-checks it. Every node the parser creates remembers its
``pos`` (line, column), 1-based: a binary operator's position is its operator, a field access's
its ``.``, everything else's its first token. Malformed text raises ``IRSyntaxError``.

Deep nesting is safe: binary operators and prefix operators are parsed with explicit stacks,
``let`` and lambda chains and ``.$k`` chains with loops; the remaining recursion (parentheses,
call arguments, ``let`` values) runs under a raised recursion limit and is capped at
``MAX_DEPTH`` levels, types at ``MAX_TYPE_DEPTH``; deeper text is rejected with an
``IRSyntaxError``.

Words: ``let``, ``true``, ``false``, ``inf``, ``nan`` (and ``inff``, ``nanf``) are reserved
(``RESERVED``). Function, type and builder names are contextual: ``len(`` is a call and ``len``
alone a name, since a name is never followed by ``(`` or ``[`` in the grammar.
"""

from __future__ import annotations

import bisect
import math
import struct
import sys
import threading
from typing import Any

from lazyir.errors import IRSyntaxError

from . import nodes as n
from .types import (
    BOOL,
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    MERGE_OPS,
    SCALARS,
    U8,
    U16,
    U32,
    U64,
    Appender,
    Dict,
    DictMerger,
    GroupMerger,
    Merger,
    Scanner,
    Struct,
    Type,
    Vec,
    VecMerger,
)

__all__ = ["MAX_DEPTH", "MAX_TYPE_DEPTH", "RESERVED", "is_name", "parse"]

#: Words that can never be names.
RESERVED = frozenset({"let", "true", "false", "inf", "nan", "inff", "nanf", "infF", "nanF"})

#: Nesting (parentheses, arguments, let values, types) deeper than this is rejected.
MAX_DEPTH = 20_000
#: Types nested deeper than this are rejected (type hashing and comparison recurse).
MAX_TYPE_DEPTH = 100
_FRAMES_PER_LEVEL = 8  # Python frames one nesting level may use, with room to spare

# Tokens kinds.
_NUM, _WORD, _OP, _FIELD, _EOF = "number", "word", "op", "field", "eof"

_PUNCT2 = ("||", "&&", "==", "!=", "<=", ">=", "<<", ">>")
_PUNCT1 = "|^&<>+-*/%!()[]{},;:="

_INT_SUFFIXES = {"": I32, "c": I8, "uc": U8, "si": I16, "us": U16, "u": U32, "l": I64, "ul": U64}

# Calls with a fixed number of arguments: name -> (op, arg, arity).
_CALLS: dict[str, tuple[str, Any, int]] = {
    "select": (n.SELECT, None, 3),
    "if": (n.IF, None, 3),
    "len": (n.LEN, None, 1),
    "lookup": (n.LOOKUP, None, 2),
    "slice": (n.SLICE, None, 3),
    "sort": (n.SORT, None, 2),
    "tovec": (n.TOVEC, None, 1),
    "keyexists": (n.KEYEXISTS, None, 2),
    "optlookup": (n.OPTLOOKUP, None, 2),
    "merge": (n.MERGE, None, 2),
    "result": (n.RESULT, None, 1),
    "iter": (n.ITER, "iter", 4),
    "rangeiter": (n.ITER, "range", 3),
}
for _name in n.CALL_BINOPS:
    _CALLS[_name] = (n.BINOP, _name, 2)
for _name in n.UNOPS:
    if _name not in ("-", "!"):
        _CALLS[_name] = (n.UNOP, _name, 1)
for _name, _scalar in SCALARS.items():
    _CALLS[_name] = (n.CAST, _scalar, 1)

_BUILDER_WORDS = ("appender", "merger", "vecmerger", "scanner", "dictmerger", "groupmerger")
_TYPE_WORDS = ("vec", "dict", *_BUILDER_WORDS)


def is_name(word: str) -> bool:
    """Whether ``word`` can be written as a name (identifier) in IR text."""
    if not word or word in RESERVED or not (word[0] == "_" or _is_alpha(word[0])):
        return False
    return all(_is_word_char(c) for c in word)


def parse(text: str) -> n.Expr:
    """Parse IR text into an untyped expression tree; ``IRSyntaxError`` if it is malformed."""
    return parse_with_positions(text)[0]


def parse_with_positions(text: str) -> tuple[n.Expr, dict[n.Expr, tuple[int, int]]]:
    """Like ``parse``, and where in ``text`` each node first occurs (line, column).

    Nodes are interned, so an equal node may have been built before from other text; positions
    therefore live in this table, one per parse, not on the nodes."""
    if not isinstance(text, str):
        raise TypeError(f"IR text must be a str, not {type(text).__name__}")
    _raise_recursion_limit()
    try:
        parser = _Parser(text)
        try:
            return parser.parse_program(), parser.positions
        except RecursionError:  # pragma: no cover - MAX_DEPTH should prevent it
            raise parser.error("the expression is nested too deeply", parser.peek()) from None
    finally:
        _restore_recursion_limit()


# The recursion limit is global: raise it while any parse runs, restore it after the last one.
_limit_lock = threading.Lock()
_limit_users = 0
_saved_limit: int | None = None  # the limit before the first running parse raised it


def _raise_recursion_limit() -> None:
    global _limit_users, _saved_limit
    wanted = MAX_DEPTH * _FRAMES_PER_LEVEL + 1000
    with _limit_lock:
        if _limit_users == 0:
            limit = sys.getrecursionlimit()
            _saved_limit = limit if limit < wanted else None
            if _saved_limit is not None:
                sys.setrecursionlimit(wanted)
        _limit_users += 1


def _restore_recursion_limit() -> None:
    global _limit_users, _saved_limit
    with _limit_lock:
        _limit_users -= 1
        if _limit_users == 0 and _saved_limit is not None:
            sys.setrecursionlimit(_saved_limit)
            _saved_limit = None


def _is_alpha(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _is_word_char(c: str) -> bool:
    return _is_alpha(c) or _is_digit(c) or c == "_"


def _clip(text: str, size: int = 24) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def _round_f32(v: float) -> float:
    """``v`` rounded to the nearest f32 (overflowing to an infinity, as IEEE rounding does)."""
    try:
        return struct.unpack("<f", struct.pack("<f", v))[0]
    except OverflowError:
        return math.copysign(math.inf, v)


class _Tok:
    """A token: ``kind``, its ``text`` and offsets; number tokens also carry a value and type."""

    __slots__ = ("kind", "text", "start", "end", "value", "ty")

    def __init__(self, kind: str, text: str, start: int, end: int, value: Any = None, ty: Any = None):
        self.kind, self.text, self.start, self.end = kind, text, start, end
        self.value, self.ty = value, ty

    def is_op(self, text: str) -> bool:
        return self.kind == _OP and self.text == text

    def is_word(self, text: str) -> bool:
        return self.kind == _WORD and self.text == text

    def describe(self) -> str:
        return "end of input" if self.kind == _EOF else f"'{_clip(self.text)}'"


class _Parser:
    def __init__(self, text: str):
        self.text = text
        # Line starts as str.splitlines sees them, so positions agree with the caret display.
        self.line_starts = [0]
        for line in text.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.toks = self.tokenize()
        self.i = 0
        self.depth = 0
        self.type_depth = 0
        self.positions: dict[n.Expr, tuple[int, int]] = {}

    # -- positions and errors ---------------------------------------------------------------

    def pos(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset) - 1
        line = min(line, max(len(self.line_starts) - 2, 0))
        return line + 1, offset - self.line_starts[line] + 1

    def error(self, message: str, where: _Tok | int) -> IRSyntaxError:
        offset = where.start if isinstance(where, _Tok) else where
        line, col = self.pos(offset)
        return IRSyntaxError(message, line, col, source=self.text)

    # -- tokenizer --------------------------------------------------------------------------

    def tokenize(self) -> list[_Tok]:
        text, size = self.text, len(self.text)
        toks: list[_Tok] = []
        i = 0
        last_end = 0
        while i < size:
            c = text[i]
            if c.isspace():
                i += 1
                continue
            if c == "#":  # a comment runs to the end of its line
                line = bisect.bisect_right(self.line_starts, i)
                i = self.line_starts[line] if line < len(self.line_starts) else size
                continue
            if _is_digit(c):
                tok = self.number(i)
            elif _is_alpha(c) or c == "_":
                j = i + 1
                while j < size and _is_word_char(text[j]):
                    j += 1
                tok = self.word(i, j)
            elif c == ".":
                j = i + 1
                if j < size and text[j] == "$":
                    j += 1
                    k = j
                    while k < size and _is_digit(text[k]):
                        k += 1
                    if k > j:
                        tok = _Tok(_FIELD, text[i:k], i, k, int(text[j:k]))
                        toks.append(tok)
                        i = last_end = k
                        continue
                raise self.error("'.' must be followed by '$' and a field number, as in '.$0'", i)
            elif text.startswith(_PUNCT2, i):
                tok = _Tok(_OP, text[i : i + 2], i, i + 2)
            elif c in _PUNCT1:
                tok = _Tok(_OP, c, i, i + 1)
            else:
                raise self.error(f"unexpected character {c!r}", i)
            toks.append(tok)
            i = last_end = tok.end
        toks.append(_Tok(_EOF, "", last_end, last_end))
        return toks

    def number(self, i: int) -> _Tok:
        text, size = self.text, len(self.text)
        j = i
        while j < size and _is_digit(text[j]):
            j += 1
        is_float = False
        if j + 1 < size and text[j] == "." and _is_digit(text[j + 1]):
            is_float = True
            j += 1
            while j < size and _is_digit(text[j]):
                j += 1
        if j < size and text[j] in "eE":
            k = j + 1
            if k < size and text[k] in "+-":
                k += 1
            if k < size and _is_digit(text[k]):
                is_float = True
                j = k
                while j < size and _is_digit(text[j]):
                    j += 1
        body = text[i:j]
        k = j
        while k < size and _is_word_char(text[k]):
            k += 1
        suffix = text[j:k].lower()
        literal = text[i:k]
        if is_float or suffix == "f":
            if suffix not in ("", "f"):
                raise self.error(f"invalid suffix '{_clip(text[j:k])}' on the float literal '{_clip(literal)}'", i)
            return _Tok(_NUM, literal, i, k, float(body), F32 if suffix else F64)
        ty = _INT_SUFFIXES.get(suffix)
        if ty is None:
            raise self.error(f"invalid suffix '{_clip(text[j:k])}' on the integer literal '{_clip(literal)}'", i)
        try:
            value = int(body)
        except ValueError:  # more digits than Python converts
            raise self.error(f"integer literal '{_clip(literal)}' is out of range", i) from None
        return _Tok(_NUM, literal, i, k, value, ty)

    def word(self, i: int, j: int) -> _Tok:
        word = self.text[i:j]
        if word in ("true", "false"):
            return _Tok(_NUM, word, i, j, word == "true", BOOL)
        if word in ("inf", "nan", "inff", "nanf", "infF", "nanF"):
            ty = F32 if len(word) == 4 else F64
            return _Tok(_NUM, word, i, j, math.inf if word[0] == "i" else math.nan, ty)
        return _Tok(_WORD, word, i, j)

    # -- token stream -----------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> _Tok:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def advance(self) -> _Tok:
        tok = self.toks[self.i]
        if tok.kind != _EOF:
            self.i += 1
        return tok

    def expect(self, text: str) -> _Tok:
        tok = self.peek()
        if not tok.is_op(text):
            raise self.unexpected(f"'{text}'", tok)
        return self.advance()

    def unexpected(self, wanted: str, tok: _Tok) -> IRSyntaxError:
        if tok.kind == _EOF:
            return self.error(f"unexpected end of input: expected {wanted}", tok)
        return self.error(f"expected {wanted} but found {tok.describe()}", tok)

    def name(self, what: str) -> _Tok:
        tok = self.peek()
        if tok.kind == _WORD and tok.text not in RESERVED:
            return self.advance()
        if (tok.kind == _NUM and tok.text in RESERVED) or tok.is_word("let"):
            raise self.error(f"{tok.describe()} is a reserved word and cannot be a name", tok)
        raise self.unexpected(what, tok)

    def node(self, op: str, src: tuple, arg: Any, tok: _Tok, ty: Type | None = None) -> n.Expr:
        pos = self.pos(tok.start)
        e = n.Expr(op, src, arg, ty)
        self.positions.setdefault(e, pos)
        return e

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the expression is nested more than {MAX_DEPTH} levels deep", self.peek())

    # -- grammar ----------------------------------------------------------------------------

    def parse_program(self) -> n.Expr:
        e = self.parse_expr()
        tok = self.peek()
        if tok.kind != _EOF:
            raise self.error(f"expected end of input but found {tok.describe()}", tok)
        return e

    def parse_expr(self) -> n.Expr:
        """``let`` and lambda binders (a loop, so long chains do not recurse), then operators."""
        self.enter()
        binders: list[tuple] = []
        while True:
            tok = self.peek()
            if tok.is_word("let"):
                self.advance()
                name = self.name("a name after 'let'").text
                self.expect("=")
                value = self.parse_expr()
                self.expect(";")
                binders.append((tok, name, value))
            elif tok.is_op("|") or tok.is_op("||"):
                binders.append((tok, self.parse_params()))
            else:
                break
        body = self.parse_operators()
        for binder in reversed(binders):
            if len(binder) == 3:
                body = self.node(n.LET, (binder[2], body), binder[1], binder[0])
            else:
                body = self.node(n.LAMBDA, (body,), binder[1], binder[0])
        self.depth -= 1
        return body

    def parse_params(self) -> tuple[tuple[str, Type | None], ...]:
        if self.advance().text == "||":
            return ()
        params: list[tuple[str, Type | None]] = []
        if not self.peek().is_op("|"):
            while True:
                name = self.name("a parameter name").text
                ty = None
                if self.peek().is_op(":"):
                    self.advance()
                    ty = self.parse_type()
                params.append((name, ty))
                tok = self.peek()
                if tok.is_op(","):
                    self.advance()
                    continue
                if tok.is_op("||"):  # `|a|| b| ...`: the first bar closes this list
                    self.toks[self.i] = _Tok(_OP, "|", tok.start + 1, tok.end)
                    return tuple(params)
                if not tok.is_op("|"):
                    raise self.unexpected("',' or '|' after a parameter", tok)
                break
        self.advance()
        return tuple(params)

    def parse_operators(self) -> n.Expr:
        """Infix operators by precedence climbing on explicit stacks (left-associative)."""
        operands: list[n.Expr] = []
        ops: list[tuple[int, _Tok]] = []
        while True:
            operands.append(self.parse_unary())
            tok = self.peek()
            if tok.kind != _OP or tok.text not in n.INFIX_PREC:
                break
            prec = n.INFIX_PREC[tok.text]
            while ops and ops[-1][0] >= prec:
                self.reduce(operands, ops)
            ops.append((prec, self.advance()))
        while ops:
            self.reduce(operands, ops)
        return operands[0]

    def reduce(self, operands: list[n.Expr], ops: list[tuple[int, _Tok]]) -> None:
        _, tok = ops.pop()
        b = operands.pop()
        a = operands.pop()
        operands.append(self.node(n.BINOP, (a, b), tok.text, tok))

    def parse_unary(self) -> n.Expr:
        prefixes: list[_Tok] = []
        while True:
            tok = self.peek()
            if tok.is_op("!") or (tok.is_op("-") and not self.negative_literal_ahead()):
                prefixes.append(self.advance())
            else:
                break
        e = self.parse_postfix()
        for tok in reversed(prefixes):
            e = self.node(n.UNOP, (e,), tok.text, tok)
        return e

    def negative_literal_ahead(self) -> bool:
        """A ``-`` at the current token directly followed by a number is part of the literal."""
        minus, num = self.peek(), self.peek(1)
        return num.kind == _NUM and num.ty is not BOOL and num.start == minus.end

    def parse_postfix(self) -> n.Expr:
        e = self.parse_primary()
        while self.peek().kind == _FIELD:
            tok = self.advance()
            e = self.node(n.GETFIELD, (e,), tok.value, tok)
        return e

    def parse_primary(self) -> n.Expr:
        tok = self.peek()
        kind = tok.kind
        if kind == _NUM:
            self.advance()
            return self.literal(tok, tok.value, tok)
        if kind == _WORD:
            return self.parse_word()
        if kind == _OP:
            text = tok.text
            if text == "-":  # parse_unary left it: a negative literal
                self.advance()
                num = self.advance()
                return self.literal(num, -num.value, tok)
            if text == "(":
                self.advance()
                e = self.parse_expr()
                self.expect(")")
                return e
            if text == "{":
                self.advance()
                return self.node(n.STRUCT, self.parse_list("}"), None, tok)
            if text == "[":
                self.advance()
                return self.node(n.VECTOR, self.parse_list("]"), None, tok)
            if text in ("|", "||"):
                raise self.error("a lambda must be in parentheses here", tok)
        raise self.unexpected("an expression", tok)

    def literal(self, num: _Tok, value: Any, at: _Tok) -> n.Expr:
        ty = num.ty
        if ty == F32:
            value = _round_f32(value)
        return self.node(n.LIT, (), value, at, ty)

    def parse_list(self, close: str) -> tuple[n.Expr, ...]:
        """Comma-separated expressions up to ``close`` (the opening bracket is consumed)."""
        items: list[n.Expr] = []
        if self.peek().is_op(close):
            self.advance()
            return ()
        while True:
            items.append(self.parse_expr())
            tok = self.peek()
            if tok.is_op(","):
                self.advance()
                continue
            if tok.is_op(close):
                self.advance()
                return tuple(items)
            raise self.unexpected(f"',' or '{close}'", tok)

    def parse_word(self) -> n.Expr:
        tok = self.advance()
        word = tok.text
        nxt = self.peek()
        if word == "let":
            raise self.error("a let expression must be in parentheses here", tok)
        if nxt.is_op("("):
            if word == "for":
                return self.parse_for(tok)
            if word == "zip":
                raise self.error("zip(...) can only be the first argument of for", tok)
            call = _CALLS.get(word)
            if call is None:
                if word in _TYPE_WORDS:
                    raise self.error(f"expected '[' after '{word}'", nxt)
                raise self.error(f"unknown function {tok.describe()}", tok)
            op, arg, arity = call
            self.advance()
            args = self.parse_list(")")
            if len(args) != arity:
                plural = "argument" if arity == 1 else "arguments"
                raise self.error(f"{word} takes {arity} {plural}, got {len(args)}", tok)
            return self.node(op, args, arg, tok)
        if nxt.is_op("["):
            if word in _BUILDER_WORDS:
                self.i -= 1
                ty = self.parse_type()
                args: tuple[n.Expr, ...] = ()
                if self.peek().is_op("("):
                    self.advance()
                    args = self.parse_list(")")
                return self.node(n.NEWBUILDER, args, ty, tok)
            if word in _TYPE_WORDS:
                raise self.error(f"the type {word}[...] is not an expression", tok)
        return self.node(n.IDENT, (), word, tok)

    def parse_for(self, tok: _Tok) -> n.Expr:
        self.advance()  # (
        it = self.peek()
        if it.is_word("zip") and self.peek(1).is_op("("):
            self.advance()
            self.advance()
            if self.peek().is_op(")"):
                raise self.error("zip needs at least one iterator", self.peek())
            iters = []
            while True:
                iters.append(self.parse_iterator())
                if not self.peek().is_op(","):
                    break
                self.advance()
            self.expect(")")
        else:
            iters = [self.parse_iterator()]
        self.expect(",")
        builder = self.parse_expr()
        self.expect(",")
        func = self.parse_expr()
        self.expect(")")
        return self.node(n.FOR, (*iters, builder, func), None, tok)

    def parse_iterator(self) -> n.Expr:
        tok = self.peek()
        e = self.parse_expr()
        return e if e.op == n.ITER else self.node(n.ITER, (e,), "vec", tok)

    # -- types ------------------------------------------------------------------------------

    def parse_type(self) -> Type:
        tok = self.advance()
        self.type_depth += 1
        if self.type_depth > MAX_TYPE_DEPTH:
            raise self.error(f"the type is nested more than {MAX_TYPE_DEPTH} levels deep", tok)
        if tok.is_op("{"):
            fields: list[Type] = []
            if not self.peek().is_op("}"):
                while True:
                    fields.append(self.parse_type())
                    if not self.peek().is_op(","):
                        break
                    self.advance()
            self.expect("}")
            ty: Type = Struct(tuple(fields))
        elif tok.kind == _WORD and tok.text in SCALARS:
            ty = SCALARS[tok.text]
        elif tok.kind == _WORD and tok.text in _TYPE_WORDS:
            ty = self.parse_type_args(tok.text)
        elif tok.kind == _WORD:
            raise self.error(f"unknown type {tok.describe()}", tok)
        else:
            raise self.unexpected("a type", tok)
        self.type_depth -= 1
        return ty

    def parse_type_args(self, word: str) -> Type:
        self.expect("[")
        if word in ("vec", "appender"):
            elem = self.parse_type()
            self.expect("]")
            return Vec(elem) if word == "vec" else Appender(elem)
        first = self.parse_type()
        self.expect(",")
        if word in ("merger", "vecmerger", "scanner"):
            op = self.merge_op()
            self.expect("]")
            return {"merger": Merger, "vecmerger": VecMerger, "scanner": Scanner}[word](first, op)
        second = self.parse_type()
        if word == "dictmerger":
            self.expect(",")
            op = self.merge_op()
            self.expect("]")
            return DictMerger(first, second, op)
        self.expect("]")
        return Dict(first, second) if word == "dict" else GroupMerger(first, second)

    def merge_op(self) -> str:
        tok = self.peek()
        if tok.kind in (_OP, _WORD) and tok.text in MERGE_OPS:
            self.advance()
            return tok.text
        if tok.kind == _EOF:
            raise self.unexpected("a merge operator (+ * min max)", tok)
        raise self.error(f"unknown merge operator {tok.describe()} (expected + * min max)", tok)
