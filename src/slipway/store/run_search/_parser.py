"""Tokenizer and recursive-descent parser of the run search language (see `run_filter`).

Every error is an `InvalidInput` naming the 1-based character position and what was expected,
so a user can fix a long filter without guessing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from slipway.errors import InvalidInput

MAX_FILTER_LENGTH = 10_000
# Recursion guard: a wall of '(' would otherwise end in a RecursionError, not a clear message.
MAX_NESTING = 50

Entity: TypeAlias = Literal["metrics", "params", "tags", "attributes"]
Operator: TypeAlias = Literal[
    "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN",
    "IS NULL", "IS NOT NULL",
]  # fmt: skip

ENTITIES: dict[str, Entity] = {
    "metrics": "metrics", "metric": "metrics", "params": "params", "param": "params",
    "tags": "tags", "tag": "tags", "attributes": "attributes", "attribute": "attributes",
    "attr": "attributes", "run": "attributes",
}  # fmt: skip
_SYMBOL_OPS: dict[str, Operator] = {
    "=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
}  # fmt: skip
_WORD_OPS: dict[str, Operator] = {"LIKE": "LIKE", "ILIKE": "ILIKE", "IN": "IN"}
_NOT_OPS: dict[str, Operator] = {"LIKE": "NOT LIKE", "ILIKE": "NOT ILIKE", "IN": "NOT IN"}
_INT64_MAX = 2**63 - 1

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BARE_KEY = re.compile(r"[A-Za-z0-9_.\-/:]+")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SYMBOL = re.compile(r"==|!=|<>|<=|>=|[=<>(),]")
_ESCAPES = {"'": "'", '"': '"', "\\": "\\"}


@dataclass(frozen=True, slots=True)
class Identifier:
    """`metrics.acc`, `params.lr`, `tags.team`, `attributes.status` (entity is the plural)."""

    entity: Entity
    key: str
    position: int


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float
    text: str  # as written: params compare with this text, so `params.depth = 6` matches '6'
    position: int


@dataclass(frozen=True, slots=True)
class String:
    value: str
    position: int


Value: TypeAlias = Number | String


@dataclass(frozen=True, slots=True)
class Comparison:
    target: Identifier
    op: Operator
    values: tuple[Value, ...]  # one, several for IN / NOT IN, none for IS [NOT] NULL
    position: int  # of the operator


@dataclass(frozen=True, slots=True)
class And:
    """All operands hold; `And(())` is the empty filter and matches every run."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


Node: TypeAlias = Comparison | And | Or


@dataclass(frozen=True, slots=True)
class OrderItem:
    target: Identifier
    descending: bool


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["ident", "word", "number", "string", "symbol", "end"]
    text: str  # the source slice, for messages
    position: int
    payload: Identifier | Value | None = None


def source_error(
    label: str, source: str, position: int, message: str, *, found: str = "", hint: str = ""
) -> InvalidInput:
    """One line: what was wrong, where (1-based), what was there, the text around it, a hint."""
    start = max(0, position - 1 - 40)
    end = min(len(source), position - 1 + 20)
    excerpt = source[start:end]
    # Keep the message on one line whatever the input holds.
    excerpt = "".join(" " if ch.isspace() or not ch.isprintable() else ch for ch in excerpt)
    excerpt = ("..." if start > 0 else "") + excerpt + ("..." if end < len(source) else "")
    found = f" (found {found})" if found else ""
    hint = f"; {hint}" if hint else ""
    return InvalidInput(f'{label}: {message} at position {position}{found} in "{excerpt}"{hint}')


class _Lexer:
    def __init__(self, source: str, label: str) -> None:
        self.source = source
        self.label = label
        self.index = 0

    def error(self, index: int, message: str, hint: str = "") -> InvalidInput:
        return source_error(self.label, self.source, index + 1, message, hint=hint)

    def tokens(self) -> list[_Token]:
        found: list[_Token] = []
        while True:
            token = self._next()
            found.append(token)
            if token.kind == "end":
                return found

    def _next(self) -> _Token:
        src = self.source
        while self.index < len(src) and src[self.index].isspace():
            self.index += 1
        start = self.index
        if start >= len(src):
            return _Token("end", "the end", start + 1)
        char = src[start]
        if char in "'\"":
            text = self._quoted(char, "string")
            return _Token("string", src[start : self.index], start + 1, String(text, start + 1))
        if number := _NUMBER.match(src, start):
            return self._number(number.group())
        if word := _WORD.match(src, start):
            self.index = word.end()
            if self.index < len(src) and src[self.index] == ".":
                return self._identifier(word.group(), start)
            return _Token("word", word.group(), start + 1)
        if symbol := _SYMBOL.match(src, start):
            self.index = symbol.end()
            return _Token("symbol", symbol.group(), start + 1)
        raise self.error(start, f"unexpected character {char!r}")

    def _number(self, text: str) -> _Token:
        start = self.index
        self.index += len(text)
        if self.index < len(self.source) and re.match(r"[\w.]", self.source[self.index]):
            junk = re.compile(r"[\w.]*").match(self.source, self.index)
            end = junk.end() if junk else self.index
            raise self.error(start, f"malformed number {self.source[start:end]!r}")
        value: int | float = float(text)
        if re.fullmatch(r"-?\d+", text) and abs(int(text)) <= _INT64_MAX:
            value = int(text)
        if math.isinf(value):
            raise self.error(start, f"number {text} is out of range")
        return _Token("number", text, start + 1, Number(value, text, start + 1))

    def _identifier(self, prefix: str, start: int) -> _Token:
        entity = ENTITIES.get(prefix.lower())
        if entity is None:
            raise self.error(
                start,
                f"unknown entity {prefix!r}",
                hint="identifiers start with metrics., params., tags. or attributes.",
            )
        self.index += 1  # the dot
        src = self.source
        if self.index < len(src) and src[self.index] in '`"':
            quote_index = self.index
            key = self._quoted(src[self.index], "key")
            if not key:
                raise self.error(quote_index, f"empty key after '{prefix}.'")
        elif bare := BARE_KEY.match(src, self.index):
            key = bare.group()
            self.index = bare.end()
        else:
            raise self.error(self.index, f"expected a key after '{prefix}.'")
        ident = Identifier(entity, key, start + 1)
        return _Token("ident", src[start : self.index], start + 1, ident)

    def _quoted(self, quote: str, what: str) -> str:
        """Read from an opening quote: a doubled quote or a backslash escape stands for itself."""
        src, start = self.source, self.index
        out: list[str] = []
        i = start + 1
        while i < len(src):
            char = src[i]
            if char == quote and src.startswith(quote * 2, i):
                out.append(quote)
                i += 2
            elif char == quote:
                self.index = i + 1
                return "".join(out)
            elif char == "\\" and quote != "`" and i + 1 < len(src) and src[i + 1] in _ESCAPES:
                out.append(_ESCAPES[src[i + 1]])
                i += 2
            else:
                # Other backslashes stay, so LIKE patterns can say \% and \_ literally.
                out.append(char)
                i += 1
        raise self.error(start, f"unterminated {what} starting")


class _Parser:
    def __init__(self, source: str, label: str) -> None:
        self.source = source
        self.label = label
        self.tokens = _Lexer(source, label).tokens()
        self.index = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, symbol: str) -> bool:
        return self.token.kind == "symbol" and self.token.text == symbol

    def is_word(self, *words: str) -> bool:
        return self.token.kind == "word" and self.token.text.upper() in words

    def error(self, message: str, hint: str = "") -> InvalidInput:
        """An error at the current token, saying what was found there."""
        token = self.token
        found = "the end" if token.kind == "end" else repr(token.text)
        return source_error(
            self.label, self.source, token.position, message, found=found, hint=hint
        )

    def error_at(self, position: int, message: str) -> InvalidInput:
        return source_error(self.label, self.source, position, message)

    def expect_end(self, what: str) -> None:
        if self.at(")"):
            raise self.error_at(self.token.position, "unbalanced parentheses: unmatched ')'")
        if self.token.kind != "end":
            raise self.error(f"expected {what}")

    # -- filter -------------------------------------------------------------------------------

    def expression(self, depth: int) -> Node:
        if depth > MAX_NESTING:
            raise self.error(f"parentheses nest deeper than {MAX_NESTING} levels")
        operands = [self.conjunction(depth)]
        while self.is_word("OR"):
            self.advance()
            operands.append(self.conjunction(depth))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def conjunction(self, depth: int) -> Node:
        operands = [self.atom(depth)]
        while self.is_word("AND"):
            self.advance()
            operands.append(self.atom(depth))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def atom(self, depth: int) -> Node:
        if self.at("("):
            opening = self.advance()
            node = self.expression(depth + 1)
            if not self.at(")"):
                if self.token.kind == "end":
                    raise self.error_at(opening.position, "unbalanced parentheses: unclosed '('")
                raise self.error(
                    f"expected AND, OR or ')' (to close the '(' at position {opening.position})"
                )
            self.advance()
            return node
        return self.comparison()

    def identifier(self) -> Identifier:
        token = self.token
        if token.kind == "ident" and isinstance(token.payload, Identifier):
            self.advance()
            return token.payload
        if token.kind == "word" and token.text.lower() in ENTITIES:
            raise self.error(
                f"identifier {token.text!r} has no key", hint=f"write {token.text.lower()}.KEY"
            )
        raise self.error(
            "expected an identifier such as metrics.acc, params.lr, tags.team or attributes.status"
        )

    def comparison(self) -> Comparison:
        target = self.identifier()
        op_token = self.token
        op = self.operator(target)
        if op in ("IS NULL", "IS NOT NULL"):
            values: tuple[Value, ...] = ()
        elif op in ("IN", "NOT IN"):
            values = self.value_list(op)
        else:
            values = (self.value(op_token.text if op_token.kind == "symbol" else op),)
        return Comparison(target, op, values, op_token.position)

    def operator(self, target: Identifier) -> Operator:
        token = self.token
        if token.kind == "symbol" and token.text in _SYMBOL_OPS:
            self.advance()
            return _SYMBOL_OPS[token.text]
        word = token.text.upper() if token.kind == "word" else ""
        if word in _WORD_OPS:
            self.advance()
            return _WORD_OPS[word]
        if word == "NOT":
            self.advance()
            if not self.is_word(*_NOT_OPS):
                raise self.error("expected LIKE, ILIKE or IN after NOT")
            return _NOT_OPS[self.advance().text.upper()]
        if word == "IS":
            self.advance()
            negated = self.is_word("NOT")
            if negated:
                self.advance()
            if not self.is_word("NULL"):
                raise self.error("expected NULL after IS" + (" NOT" if negated else ""))
            self.advance()
            return "IS NOT NULL" if negated else "IS NULL"
        raise self.error(
            "expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS NULL, ...) "
            f"after {target.entity}.{target.key}"
        )

    def value(self, after: str) -> Value:
        token = self.token
        if token.kind in ("number", "string") and isinstance(token.payload, Number | String):
            self.advance()
            return token.payload
        if self.is_word("NULL"):
            raise self.error(
                f"expected a value after '{after}'", hint="to test for a missing key use IS NULL"
            )
        raise self.error(f"expected a value after '{after}'")

    def value_list(self, op: str) -> tuple[Value, ...]:
        if not self.at("("):
            raise self.error(f"expected '(' after {op}")
        self.advance()
        if self.at(")"):
            raise self.error(f"empty {op} list: give at least one value")
        values = [self.value("(")]
        while self.at(","):
            self.advance()
            values.append(self.value(","))
        if not self.at(")"):
            raise self.error(f"expected ',' or ')' in the {op} list")
        self.advance()
        return tuple(values)

    # -- order_by ------------------------------------------------------------------------------

    def order_item(self) -> OrderItem:
        target = self.identifier()
        descending = False
        if self.is_word("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        self.expect_end(f"ASC, DESC or the end after {target.entity}.{target.key}")
        return OrderItem(target, descending)


def parse_filter(text: str) -> Node:
    """Parse a filter into a frozen AST; empty or blank text gives `And(())`, matching all runs."""
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput(
            f"filter: {len(text)} characters is too long; the limit is {MAX_FILTER_LENGTH}"
        )
    if not text.strip():
        return And(())
    parser = _Parser(text, "filter")
    node = parser.expression(depth=0)
    parser.expect_end("AND, OR or the end of the filter")
    return node


def parse_order_by(item: str, label: str = "order_by") -> OrderItem:
    """Parse one `<identifier> [ASC|DESC]` item."""
    if len(item) > MAX_FILTER_LENGTH:
        raise InvalidInput(f"{label}: {len(item)} characters is too long")
    if not item.strip():
        raise InvalidInput(f"{label}: empty item; write e.g. 'metrics.acc DESC'")
    return _Parser(item, label).order_item()
