"""Service Bus SQL filter expressions (the SQL-92 subset subscription rules accept), compiled to predicates.

Supported: ``NOT``/``AND``/``OR``, ``= <> != > >= < <=``, ``IS [NOT] NULL``, ``[NOT] IN (...)``,
``[NOT] LIKE 'pattern' [ESCAPE 'c']``, ``EXISTS(prop)``, arithmetic ``+ - * / %``, parentheses,
string/number/``TRUE``/``FALSE``/``NULL`` constants, and properties as ``[sys.|user.]name`` or
``[bracketed name]``. Functions (``newid()``, ``property()``) are not supported.

Evaluation follows the documented rules: the default scope is ``user``; a missing user property
is *unknown* (SQL three-valued logic, so ``status = 'x'`` and ``NOT status = 'x'`` are both false
when ``status`` is absent); naming a system property that does not exist is an error, reported
when the config is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulators.servicebus.codec import MessageFacts

Value = Any  # None means "unknown" (SQL NULL)
Expression = Callable[[MessageFacts], Value]
Predicate = Callable[[MessageFacts], bool]

SYSTEM_PROPERTIES = {
    "messageid": "message_id",
    "correlationid": "correlation_id",
    "to": "to",
    "replyto": "reply_to",
    "label": "subject",
    "subject": "subject",
    "contenttype": "content_type",
    "sessionid": "session_id",
    "replytosessionid": "reply_to_session_id",
}
_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+\.\d*|\.\d+|\d+)(?![\w.])"
    r"|(?P<string>'(?:[^']|'')*')"
    r"|(?P<bracket>\[[^\]]+\])"
    r"|(?P<name>[A-Za-z_][\w]*)"
    r"|(?P<op><>|!=|>=|<=|[=<>+\-*/%(),.]))"
)
_KEYWORDS = {"AND", "OR", "NOT", "IS", "NULL", "IN", "LIKE", "ESCAPE", "EXISTS", "TRUE", "FALSE"}


class SqlFilterError(ValueError):
    """A SQL filter expression this emulator cannot evaluate, with the reason."""


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, name, keyword, op, end
    text: str


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    stripped = expression.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            raise SqlFilterError(f"unexpected character {stripped[position:].strip()[:1]!r} at {position}")
        position = match.end()
        kind = match.lastgroup
        assert kind is not None
        text = match.group(kind)
        if kind == "name" and text.upper() in _KEYWORDS:
            tokens.append(_Token("keyword", text.upper()))
        elif kind == "bracket":
            tokens.append(_Token("name", text[1:-1]))
        else:
            tokens.append(_Token(kind, text))
    tokens.append(_Token("end", ""))
    return tokens


def _like_pattern(pattern: str, escape: str | None) -> re.Pattern[str]:
    out = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if escape is not None and char == escape and index + 1 < len(pattern):
            out += re.escape(pattern[index + 1])
            index += 2
            continue
        out += ".*" if char == "%" else "." if char == "_" else re.escape(char)
        index += 1
    return re.compile(out, re.DOTALL)


def _compare(operator: str, left: Value, right: Value) -> bool | None:
    if left is None or right is None:
        return None
    numeric = isinstance(left, int | float) and isinstance(right, int | float)
    if not numeric and type(left) is not type(right):
        return None if operator not in ("=", "<>", "!=") else (operator != "=")
    try:
        if operator == "=":
            return bool(left == right)
        if operator in ("<>", "!="):
            return bool(left != right)
        if operator == ">":
            return bool(left > right)
        if operator == ">=":
            return bool(left >= right)
        if operator == "<":
            return bool(left < right)
        return bool(left <= right)
    except TypeError:
        return None


def _arithmetic(operator: str, left: Value, right: Value) -> Value:
    if left is None or right is None:
        return None
    if operator == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if not (isinstance(left, int | float) and isinstance(right, int | float)):
        return None
    if isinstance(left, bool) or isinstance(right, bool):
        return None
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if right == 0:
        return None
    if operator == "/":
        return left // right if isinstance(left, int) and isinstance(right, int) else left / right
    return left % right


class _Parser:
    def __init__(self, expression: str) -> None:
        self.tokens = _tokenize(expression)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, kind: str, text: str | None = None) -> bool:
        token = self.peek()
        if token.kind == kind and (text is None or token.text == text):
            self.index += 1
            return True
        return False

    def expect(self, kind: str, text: str) -> None:
        if not self.accept(kind, text):
            found = self.peek().text or "the end"
            raise SqlFilterError(f"expected {text!r} but found {found!r}")

    # predicate := or
    def predicate(self) -> Expression:
        left = self.conjunction()
        while self.accept("keyword", "OR"):
            right = self.conjunction()
            left = _or(left, right)
        return left

    def conjunction(self) -> Expression:
        left = self.negation()
        while self.accept("keyword", "AND"):
            right = self.negation()
            left = _and(left, right)
        return left

    def negation(self) -> Expression:
        if self.accept("keyword", "NOT"):
            inner = self.negation()
            return lambda facts: None if (value := inner(facts)) is None else not value
        return self.condition()

    def condition(self) -> Expression:
        if self.accept("keyword", "EXISTS"):
            self.expect("op", "(")
            exists = self.property_reader(for_exists=True)
            self.expect("op", ")")
            return exists
        left = self.expression()
        token = self.peek()
        if token.kind == "op" and token.text in ("=", "<>", "!=", ">", ">=", "<", "<="):
            self.take()
            right = self.expression()
            operator = token.text
            return lambda facts: _compare(operator, left(facts), right(facts))
        if self.accept("keyword", "IS"):
            negated = self.accept("keyword", "NOT")
            self.expect("keyword", "NULL")
            return lambda facts: (left(facts) is not None) if negated else (left(facts) is None)
        negated = self.accept("keyword", "NOT")
        if self.accept("keyword", "IN"):
            self.expect("op", "(")
            options = [self.expression()]
            while self.accept("op", ","):
                options.append(self.expression())
            self.expect("op", ")")
            return _negate_if(negated, _in(left, options))
        if self.accept("keyword", "LIKE"):
            pattern_token = self.take()
            if pattern_token.kind != "string":
                raise SqlFilterError("LIKE needs a quoted pattern")
            escape = None
            if self.accept("keyword", "ESCAPE"):
                escape_token = self.take()
                if escape_token.kind != "string" or len(_unquote(escape_token.text)) != 1:
                    raise SqlFilterError("ESCAPE needs a single quoted character")
                escape = _unquote(escape_token.text)
            regex = _like_pattern(_unquote(pattern_token.text), escape)

            def like(facts: MessageFacts) -> Value:
                value = left(facts)
                return None if not isinstance(value, str) else regex.fullmatch(value) is not None

            return _negate_if(negated, like)
        if negated:
            raise SqlFilterError("NOT here must be followed by IN or LIKE")
        return left

    def expression(self) -> Expression:
        left = self.term()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            operator = self.take().text
            right = self.term()
            left = _binary(operator, left, right)
        return left

    def term(self) -> Expression:
        left = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("*", "/", "%"):
            operator = self.take().text
            right = self.unary()
            left = _binary(operator, left, right)
        return left

    def unary(self) -> Expression:
        if self.peek().kind == "op" and self.peek().text in ("+", "-"):
            sign = self.take().text
            inner = self.unary()
            if sign == "+":
                return inner
            return lambda facts: _arithmetic("-", 0, inner(facts))
        return self.primary()

    def primary(self) -> Expression:
        token = self.peek()
        if self.accept("op", "("):
            inner = self.predicate()
            self.expect("op", ")")
            return inner
        if token.kind == "number":
            self.take()
            number: int | float = float(token.text) if "." in token.text else int(token.text)
            return lambda facts: number
        if token.kind == "string":
            self.take()
            text = _unquote(token.text)
            return lambda facts: text
        if token.kind == "keyword" and token.text in ("TRUE", "FALSE", "NULL"):
            self.take()
            constant = {"TRUE": True, "FALSE": False, "NULL": None}[token.text]
            return lambda facts: constant
        if token.kind == "name":
            return self.property_reader(for_exists=False)
        raise SqlFilterError(f"unexpected {token.text or 'end of expression'!r}")

    def property_reader(self, *, for_exists: bool) -> Expression:
        token = self.take()
        if token.kind != "name":
            raise SqlFilterError(f"expected a property name, found {token.text or 'the end'!r}")
        scope, name = "user", token.text
        if token.text.lower() in ("sys", "user") and self.accept("op", "."):
            scope = token.text.lower()
            name_token = self.take()
            if name_token.kind not in ("name", "keyword"):
                raise SqlFilterError(f"expected a property name after {scope}.")
            name = name_token.text
        if self.peek().kind == "op" and self.peek().text == "(":
            raise SqlFilterError(f"functions such as {name}() are not supported by this emulator")
        if scope == "sys":
            attribute = SYSTEM_PROPERTIES.get(name.lower())
            if attribute is None:
                raise SqlFilterError(f"sys.{name} is not a system property this emulator can filter on")
            if for_exists:
                return lambda facts: getattr(facts, attribute) is not None
            return lambda facts: getattr(facts, attribute)
        if for_exists:
            return lambda facts: name in facts.application_properties
        return lambda facts: _plain(facts.application_properties.get(name))


def _plain(value: Any) -> Value:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


def _or(left: Expression, right: Expression) -> Expression:
    def evaluate(facts: MessageFacts) -> Value:
        a, b = left(facts), right(facts)
        if a is True or b is True:
            return True
        if a is None or b is None:
            return None
        return False

    return evaluate


def _and(left: Expression, right: Expression) -> Expression:
    def evaluate(facts: MessageFacts) -> Value:
        a, b = left(facts), right(facts)
        if a is False or b is False:
            return False
        if a is None or b is None:
            return None
        return True

    return evaluate


def _in(left: Expression, options: list[Expression]) -> Expression:
    def evaluate(facts: MessageFacts) -> Value:
        value = left(facts)
        if value is None:
            return None
        return any(_compare("=", value, option(facts)) for option in options)

    return evaluate


def _negate_if(negated: bool, inner: Expression) -> Expression:
    if not negated:
        return inner
    return lambda facts: None if (value := inner(facts)) is None else not value


def _binary(operator: str, left: Expression, right: Expression) -> Expression:
    return lambda facts: _arithmetic(operator, left(facts), right(facts))


def compile_sql_filter(expression: str) -> Predicate:
    """Compile a SQL filter; the predicate is true only when the expression is TRUE (not unknown)."""
    parser = _Parser(expression)
    evaluate = parser.predicate()
    if parser.peek().kind != "end":
        raise SqlFilterError(f"unexpected {parser.peek().text!r} after the end of the expression")
    return lambda facts: evaluate(facts) is True
