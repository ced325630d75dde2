"""Expressions of computed indicators: arithmetic over other indicators' codes, never ``eval``.

A computed indicator (``100 * FAFSA_DONE / SENIORS``, ``TUTOR_SESSIONS + MENTOR_HOURS``) is
read by the small parser below, which knows numbers, indicator codes, ``+ - * /``, unary minus
and plus, parentheses, and ``min(...)``/``max(...)``: nothing else is a token, so attribute
access, other calls, strings, powers and comparisons are refused before anything is evaluated.
Length, size and nesting are capped, numbers are finite and bounded, and evaluation is plain
float arithmetic on a tree of tuples: a division by zero or a result out of range is no figure,
with the reason, never an exception or an infinity.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from models.core.i18n import gettext

MAX_LENGTH = 500  # characters
MAX_NODES = 100  # numbers, codes and operations
MAX_DEPTH = 20  # nesting of operations and parentheses
MAX_INPUTS = 20  # distinct indicators
MAX_CONSTANT = 1e12  # the largest number written in an expression
MAX_RESULT = 1e15  # a figure beyond this (in either sign) is no figure
FUNCTIONS = ("min", "max")

DIVISION_BY_ZERO = "division_by_zero"
OUT_OF_RANGE = "out_of_range"

_TOKEN = re.compile(r"\s*(?:(?P<word>[A-Za-z0-9_.]+)|(?P<op>[-+*/(),]))")
_NUMBER = re.compile(r"^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_CODE = re.compile(r"^[A-Z0-9_]{1,60}$")

# The tree: ("num", value) | ("code", CODE) | ("neg", node) | (op, left, right) for op in
# "+-*/" | ("min" | "max", (node, ...)).
Node = tuple[object, ...]


class ExpressionError(ValueError):
    """Why an expression is refused; ``position`` is the character it was found at."""

    def __init__(self, message: str, position: int | None = None) -> None:
        where = (
            ""
            if position is None
            else gettext(" (at character %(position)s)", position=position + 1)
        )
        super().__init__(f"{message}{where}")
        self.position = position


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text as written, its tree, and the codes it reads."""

    text: str
    tree: Node
    codes: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    """What an expression gives: a value, or None with the reason."""

    value: float | None
    reason: str | None = None


def parse(text: str) -> Expression:
    """The expression, or :class:`ExpressionError` saying what is wrong and where."""
    if not isinstance(text, str):
        raise ExpressionError(gettext("an expression is text"))
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            gettext("an expression has at most %(max_length)s characters", max_length=MAX_LENGTH)
        )
    if not text.strip():
        raise ExpressionError(gettext("the expression is empty"))
    parser = _Parser(_tokens(text))
    tree = parser.expression(0)
    parser.expect_end()
    codes = frozenset(_codes(tree))
    if len(codes) > MAX_INPUTS:
        raise ExpressionError(
            gettext("an expression reads at most %(max_inputs)s indicators", max_inputs=MAX_INPUTS)
        )
    if not codes:
        raise ExpressionError(gettext("an expression reads at least one indicator"))
    return Expression(text=text.strip(), tree=tree, codes=codes)


def evaluate(expression: Expression, values: Mapping[str, float]) -> Outcome:
    """The expression's value with these inputs (every code of the expression among them)."""
    try:
        value = _value(expression.tree, values)
    except ZeroDivisionError:
        return Outcome(None, DIVISION_BY_ZERO)
    except OverflowError:
        return Outcome(None, OUT_OF_RANGE)
    if not math.isfinite(value) or abs(value) > MAX_RESULT:
        return Outcome(None, OUT_OF_RANGE)
    return Outcome(value)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, position): kind is num, code, func or the operator itself."""
    out: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            start = len(text) - len(text[position:].lstrip())
            raise ExpressionError(gettext("%(value)r is not allowed", value=text[start]), start)
        start = match.start("word") if match.group("word") else match.start("op")
        word, op = match.group("word"), match.group("op")
        if op is not None:
            out.append((op, op, start))
        elif _NUMBER.match(word):
            out.append(("num", word, start))
        elif word in FUNCTIONS:
            out.append(("func", word, start))
        elif _CODE.match(word):
            out.append(("code", word, start))
        elif "." in word:
            raise ExpressionError(
                gettext("%(word)r: attribute access is not allowed", word=word), start
            )
        else:
            raise ExpressionError(
                gettext(
                    "%(word)r is neither a number, an indicator code (capitals, digits and "
                    "_) nor one of %(functions)s",
                    word=word,
                    functions=", ".join(FUNCTIONS),
                ),
                start,
            )
        position = match.end()
    return out


class _Parser:
    """Recursive descent over the tokens, counting nodes and depth as it goes."""

    def __init__(self, tokens: list[tuple[str, str, int]]) -> None:
        self.tokens = tokens
        self.at = 0
        self.nodes = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise ExpressionError(gettext("the expression ends too early"))
        self.at += 1
        return token

    def expect_end(self) -> None:
        token = self.peek()
        if token is not None:
            raise ExpressionError(gettext("unexpected %(value)r", value=token[1]), token[2])

    def node(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(
                gettext(
                    "an expression has at most %(max_nodes)s terms and operations",
                    max_nodes=MAX_NODES,
                )
            )
        return node

    def check_depth(self, depth: int, position: int) -> None:
        if depth > MAX_DEPTH:
            raise ExpressionError(
                gettext("an expression nests at most %(max_depth)s deep", max_depth=MAX_DEPTH),
                position,
            )

    def expression(self, depth: int) -> Node:
        left = self.term(depth)
        while (token := self.peek()) is not None and token[0] in ("+", "-"):
            self.take()
            self.check_depth(depth + 1, token[2])
            left = self.node((token[0], left, self.term(depth + 1)))
        return left

    def term(self, depth: int) -> Node:
        left = self.unary(depth)
        while (token := self.peek()) is not None and token[0] in ("*", "/"):
            self.take()
            self.check_depth(depth + 1, token[2])
            following = self.peek()
            if token[0] == "*" and following is not None and following[0] == "*":
                raise ExpressionError(gettext("powers are not allowed"), following[2])
            left = self.node((token[0], left, self.unary(depth + 1)))
        return left

    def unary(self, depth: int) -> Node:
        token = self.peek()
        if token is not None and token[0] in ("+", "-"):
            self.take()
            self.check_depth(depth + 1, token[2])
            operand = self.unary(depth + 1)
            return operand if token[0] == "+" else self.node(("neg", operand))
        return self.atom(depth)

    def atom(self, depth: int) -> Node:
        kind, text, position = self.take()
        if kind == "num":
            value = float(text)
            if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
                raise ExpressionError(
                    gettext("numbers are at most %(max_constant)g", max_constant=MAX_CONSTANT),
                    position,
                )
            return self.node(("num", value))
        if kind == "code":
            return self.node(("code", text))
        if kind == "(":
            self.check_depth(depth + 1, position)
            inner = self.expression(depth + 1)
            self.close(position)
            return inner
        if kind == "func":
            self.check_depth(depth + 1, position)
            opening = self.take()
            if opening[0] != "(":
                raise ExpressionError(
                    gettext("%(text)s takes its arguments in parentheses", text=text), opening[2]
                )
            arguments = [self.expression(depth + 1)]
            while (token := self.peek()) is not None and token[0] == ",":
                self.take()
                arguments.append(self.expression(depth + 1))
            self.close(opening[2])
            if len(arguments) < 2:
                raise ExpressionError(
                    gettext("%(text)s takes two or more arguments", text=text), position
                )
            return self.node((text, tuple(arguments)))
        raise ExpressionError(gettext("unexpected %(text)r", text=text), position)

    def close(self, opened_at: int) -> None:
        token = self.peek()
        if token is None or token[0] != ")":
            raise ExpressionError(gettext("a parenthesis is not closed"), opened_at)
        self.take()


def _codes(node: Node) -> list[str]:
    kind = node[0]
    if kind == "code":
        return [str(node[1])]
    if kind == "num":
        return []
    if kind == "neg":
        return _codes(_child(node[1]))
    if kind in FUNCTIONS:
        return [c for argument in _children(node[1]) for c in _codes(argument)]
    return _codes(_child(node[1])) + _codes(_child(node[2]))


def _child(node: object) -> Node:
    assert isinstance(node, tuple)
    return node


def _children(nodes: object) -> tuple[Node, ...]:
    assert isinstance(nodes, tuple)
    return nodes


def _value(node: Node, values: Mapping[str, float]) -> float:
    kind = node[0]
    if kind == "num":
        number = node[1]
        assert isinstance(number, float)
        return number
    if kind == "code":
        return float(values[str(node[1])])
    if kind == "neg":
        return -_value(_child(node[1]), values)
    if kind == "min":
        return min(_value(a, values) for a in _children(node[1]))
    if kind == "max":
        return max(_value(a, values) for a in _children(node[1]))
    left, right = _value(_child(node[1]), values), _value(_child(node[2]), values)
    if kind == "+":
        return left + right
    if kind == "-":
        return left - right
    if kind == "*":
        return left * right
    if right == 0:
        raise ZeroDivisionError
    return left / right
