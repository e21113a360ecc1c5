"""Recursive-descent parser for Falco conditions (grammar of rules-language §5.2–§5.6).

The parser follows the libs filter parser step by step (same token patterns, same order of
alternatives, same error texts), so it accepts and rejects exactly what Falco does. It is written from
the specification; positions count lines the way libs does (every ``\\r`` and every ``\\n`` starts a
new line).

Public entry point: :func:`parse`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

from falco_lab.rules.codes import Code
from falco_lab.rules.errors import Position, RuleError
from falco_lab.rules.frontend.syntax import (
    And,
    BinaryCheck,
    Field,
    Identifier,
    ListValue,
    Node,
    Not,
    Or,
    Transformer,
    TransformerList,
    UnaryCheck,
    Val,
    Value,
)
from falco_lab.rules.operators import MODIFIERS
from falco_lab.rules.operators import OPERATORS as OPERATOR_ROWS

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "MODIFIERS",
    "OPERATORS",
    "TRANSFORMERS",
    "parse",
    "unescape",
]

#: Falco's rule loader raises the libs parser depth limit from 100 to 1000.
DEFAULT_MAX_DEPTH = 1000


_SPACE = " \t\n\r\f\v"  # POSIX [[:space:]]
_BLANK = frozenset(" \t\b\r\n")  # what the libs lexer skips as blank

_RX_NOT = re.compile(f"not[{_SPACE}]+")
_RX_IDENTIFIER = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*")
_RX_FIELDNAME = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+")
_RX_FIELDARG = re.compile(f"[^\\]\\[\"'{_SPACE}]+")
_RX_HEX = re.compile(r"0[xX][0-9a-fA-F]+")
_RX_NUMBER = re.compile(r"[+\-]?[0-9]+\.?[0-9]*(?:[eE][+\-][0-9]+)?")
_RX_BARESTR = re.compile(f"[^()\"'{_SPACE}=,]+")
_RX_MODIFIER = re.compile("(" + "|".join(MODIFIERS) + r")[ \t\b\r\n]+")

# operator tokens by syntax class, in the order the libs parser tries them (the operators table's order)
_UNARY_OPS = tuple(op.name for op in OPERATOR_ROWS if op.syntax == "unary")
_NUM_OPS = tuple(op.name for op in OPERATOR_ROWS if op.syntax == "num")
# word operators need a blank after them (True), symbol operators do not
_STR_OPS = tuple((op.name, op.word) for op in OPERATOR_ROWS if op.syntax == "str")
_LIST_OPS = tuple(op.name for op in OPERATOR_ROWS if op.syntax == "list")

#: Every comparison operator, in the order the parser tries them.
OPERATORS: tuple[str, ...] = tuple(op.name for op in OPERATOR_ROWS)
#: Transformer names usable as ``name(`` (``val`` is separate: right-hand side only).
TRANSFORMERS: tuple[str, ...] = ("tolower", "toupper", "b64", "basename", "len", "join", "concat", "getopt")

_TRANSFORMER_OPENERS = tuple(t + "(" for t in TRANSFORMERS)


def _quoted_list(items: tuple[str, ...]) -> str:
    return ", ".join(f"'{i}'" for i in items)


_OPS_TEXT = _quoted_list(OPERATORS)
_TRS_TEXT = _quoted_list(("val",) + TRANSFORMERS)

_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", " ": "\\", "\\": "\\", "/": "/"}


class _Fail(Exception):
    """Internal parse failure: message and cursor position (turned into RuleError by parse())."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def unescape(quoted: str) -> str:
    """Unescape a quoted string token including its quotes (§5.4).

    Raises
    ------
    ValueError
        With the libs message for an unsupported or misplaced escape.
    """
    delimiter = quoted[0]
    out: list[str] = []
    escaped = False
    for c in quoted[1:-1]:
        if not escaped:
            if c == "\\":
                escaped = True
            else:
                out.append(c)
            continue
        escaped = False
        simple = _SIMPLE_ESCAPES.get(c)
        if simple is not None:
            out.append(simple)
        elif c == '"':
            if delimiter != '"':
                raise ValueError("invalid \\\" escape in '-quoted string")
            out.append('"')
        elif c == "'":
            if delimiter != "'":
                raise ValueError("invalid \\' escape in \"-quoted string")
            out.append("'")
        else:
            raise ValueError(f"unsupported string escape sequence: \\{c}")
    return "".join(out)


class _Parser:
    __slots__ = ("s", "n", "i", "line", "col", "last", "depth", "max_depth")

    def __init__(self, text: str, max_depth: int) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.line = 1
        self.col = 1
        self.last = ""
        self.depth = 0
        self.max_depth = max_depth

    # ------------------------------------------------------------------ cursor helpers
    def pos(self) -> Position:
        return Position(line=self.line, column=self.col, offset=self.i)

    def fail(self, message: str) -> _Fail:
        return _Fail(message, self.pos())

    def advance(self, count: int) -> None:
        chunk = self.s[self.i : self.i + count]
        breaks = chunk.count("\n") + chunk.count("\r")
        if breaks:
            self.line += breaks
            self.col = count - max(chunk.rfind("\n"), chunk.rfind("\r"))
        else:
            self.col += count
        self.i += count

    def save(self) -> tuple[int, int, int, str]:
        return (self.i, self.line, self.col, self.last)

    def restore(self, state: tuple[int, int, int, str]) -> None:
        self.i, self.line, self.col, self.last = state

    def enter(self) -> None:
        self.depth += 1
        if self.depth >= self.max_depth:
            raise self.fail(f"exceeded max depth limit of {self.max_depth}")

    def blank(self) -> bool:
        start = self.i
        s, n = self.s, self.n
        j = start
        while j < n and s[j] in _BLANK:
            j += 1
        if j == start:
            return False
        self.advance(j - start)
        return True

    def lit(self, text: str) -> bool:
        if self.s.startswith(text, self.i):
            self.last = text
            self.advance(len(text))
            return True
        return False

    def rx(self, pattern: re.Pattern[str]) -> bool:
        m = pattern.match(self.s, self.i)
        if m is None:
            return False
        self.last = m.group(0)
        self.advance(m.end() - self.i)
        return True

    def quoted(self) -> bool:
        """A quoted string: sets ``last`` to the unescaped content."""
        s, i = self.s, self.i
        if i >= self.n or s[i] not in "'\"":
            return False
        delimiter = s[i]
        prev = "\\"
        j = i
        while j < self.n and s[j] != "\0":
            c = s[j]
            if c == delimiter and prev != "\\" and j > i:
                token = s[i : j + 1]
                self.advance(j + 1 - i)
                try:
                    self.last = unescape(token)
                except ValueError as exc:
                    raise self.fail(str(exc)) from None
                return True
            prev = c
            j += 1
        return False

    def transformer_opener(self) -> str | None:
        for opener in _TRANSFORMER_OPENERS:
            if self.s.startswith(opener, self.i):
                self.last = opener
                self.advance(len(opener))
                return opener[:-1]
        return None

    # ------------------------------------------------------------------ grammar
    def parse(self) -> Node:
        if self.n == 0:
            raise self.fail("filter input string is empty")
        node = self.parse_or()
        if self.i != self.n:
            raise self.fail(f"unexpected token after '{self.last}', expecting 'or', 'and'")
        return node

    def _bool_chain(self, keyword: str, sub: Callable[[], Node], cls: type[And] | type[Or]) -> Node:
        self.enter()
        self.blank()
        start = self.pos()
        children: list[Node] = [sub()]
        self.blank()
        while self.lit(keyword):
            if not self.blank():
                if self.lit("("):
                    child = self.embedded()
                else:
                    raise self.fail(f"expected blank or '(' after '{keyword}'")
            else:
                child = sub()
            children.append(child)
            self.blank()
        self.depth -= 1
        if len(children) > 1:
            return cls(tuple(children), start)
        return children[0]

    def parse_or(self) -> Node:
        return self._bool_chain("or", self.parse_and, Or)

    def parse_and(self) -> Node:
        return self._bool_chain("and", self.parse_not, And)

    def parse_not(self) -> Node:
        self.enter()
        self.blank()
        start = self.pos()
        negate = False
        while self.rx(_RX_NOT):
            negate = not negate
        if self.lit("not("):
            negate = not negate
            child = self.embedded()
        else:
            child = self.parse_check()
        self.depth -= 1
        return Not(child, start) if negate else child

    def embedded(self) -> Node:
        """The rest of ``( ... )`` after the opening bracket."""
        self.enter()
        self.blank()
        child = self.parse_or()
        self.blank()
        if not self.lit(")"):
            raise self.fail("expected a ')' token")
        self.depth -= 1
        return child

    def parse_check(self) -> Node:
        self.enter()
        self.blank()
        start = self.pos()
        if self.lit("("):
            node = self.embedded()
        elif self.rx(_RX_FIELDNAME):
            field = self.field_remainder(self.last, start)
            node = self.condition(field, start)
        elif (name := self.transformer_opener()) is not None:
            self.blank()
            transformer = self.transformer_remainder(name, start)
            node = self.condition(transformer, start)
        elif self.rx(_RX_IDENTIFIER):
            node = Identifier(self.last, start)
        else:
            raise self.fail("expected a '(' token, a field check, or an identifier")
        self.depth -= 1
        return node

    def field_arg(self) -> str | None:
        if not self.lit("["):
            return None
        if not (self.quoted() or self.rx(_RX_FIELDARG)):
            raise self.fail("expected a valid field argument: a quoted string or a bare string")
        arg = self.last
        if not self.lit("]"):
            raise self.fail("expected a ']' token")
        return arg

    def field_remainder(self, name: str, start: Position) -> Field:
        self.enter()
        arg = self.field_arg()
        self.depth -= 1
        return Field(name, arg, start)

    def transformer_remainder(self, name: str, start: Position) -> Transformer:
        """Arguments of ``name(`` up to and including ``)`` and an optional ``[arg]``."""
        self.enter()
        self.blank()
        args = []
        while True:
            args.append(self.transformer_arg())
            self.blank()
            if not self.lit(","):
                break
        self.blank()
        if not self.lit(")"):
            raise self.fail("expected a ')' token closing the transformer")
        arg = self.field_arg()
        self.depth -= 1
        return Transformer(name, tuple(args), arg, start)

    def transformer_arg(self) -> Node:
        self.enter()
        self.blank()
        start = self.pos()
        if self.rx(_RX_HEX) or self.rx(_RX_NUMBER) or self.quoted():
            node: Node = Value(self.last, start)
        elif self.lit("("):
            node = self.transformer_list(start)
        elif (name := self.transformer_opener()) is not None:
            node = self.transformer_remainder(name, start)
        elif self.rx(_RX_FIELDNAME):
            node = self.field_remainder(self.last, start)
        else:
            raise self.fail(
                "expected field transformer argument: field, transformer, quoted string, number, or transformer list"
            )
        self.depth -= 1
        return node

    def transformer_list(self, start: Position) -> TransformerList:
        self.blank()
        items: list[Node] = []
        if self.lit(")"):
            return TransformerList((), start)
        items.append(self.transformer_list_item())
        self.blank()
        while self.lit(","):
            self.blank()
            items.append(self.transformer_list_item())
            self.blank()
        if not self.lit(")"):
            raise self.fail("expected ')'")
        return TransformerList(tuple(items), start)

    def transformer_list_item(self) -> Node:
        start = self.pos()
        if self.rx(_RX_FIELDNAME):
            return self.field_remainder(self.last, start)
        if (name := self.transformer_opener()) is not None:
            self.blank()
            return self.transformer_remainder(name, start)
        if self.quoted() or self.rx(_RX_HEX) or self.rx(_RX_NUMBER):
            return Value(self.last, start)
        raise self.fail("expected transformer list argument: field, transformer, quoted string, or number")

    # ------------------------------------------------------------------ conditions
    def operator(self, ops: tuple[str, ...]) -> str | None:
        for op in ops:
            if self.lit(op):
                return op
        return None

    def str_operator(self) -> tuple[str, bool] | None:
        """The operator and whether a blank followed it (word operators require one)."""
        for op, needs_blank in _STR_OPS:
            if self.lit(op):
                spaced = self.blank()
                if needs_blank and not spaced:
                    return None
                return op, spaced
        return None

    def condition(self, left: Node, start: Position) -> Node:
        self.enter()
        self.blank()
        if self.operator(_UNARY_OPS):
            self.depth -= 1
            return UnaryCheck(left, "exists", start)
        self.blank()
        modifier = None
        if (op := self.operator(_NUM_OPS)) is not None:
            right = self.num_value()
        elif (op_spaced := self.str_operator()) is not None:
            op, spaced = op_spaced
            modifier_right = self.modifier_value() if spaced else None
            if modifier_right is not None:
                modifier, right = modifier_right
            else:
                right = self.str_value()
        elif (op := self.operator(_LIST_OPS)) is not None:
            right = self.list_value()
        else:
            raise self.fail(f"expected a valid check operator: one of {_OPS_TEXT}")
        self.depth -= 1
        return BinaryCheck(left, op, right, modifier, start)

    def modifier_value(self) -> tuple[str, Node] | None:
        """``oneof|anyof|allof`` + blank + a list or an identifier (Falco 0.44+), after ``op`` + blank.

        Anything else (``== oneof``, ``== oneof or x``) is left to the plain string value.
        """
        state = self.save()
        if not self.rx(_RX_MODIFIER):
            self.restore(state)
            return None
        modifier = self.last.rstrip(" \t\b\r\n")
        if self.s.startswith("(", self.i):
            return modifier, self.list_value()
        start = self.pos()
        if self.rx(_RX_IDENTIFIER):
            name = self.last
            after = self.s[self.i : self.i + 1]
            keyword_like = name in ("and", "or") and (after == "" or after in _BLANK or after == "(")
            if not keyword_like:
                return modifier, Value(name, start)
        self.restore(state)
        return None

    def transformer_or_val(self) -> Node | None:
        self.enter()
        self.blank()
        start = self.pos()
        node: Node | None = None
        if self.lit("val("):
            self.blank()
            field_start = self.pos()
            if not self.rx(_RX_FIELDNAME):
                raise self.fail("expected a field within 'val' transformer")
            inner = self.field_remainder(self.last, field_start)
            self.blank()
            if not self.lit(")"):
                raise self.fail("expected a ')' token closing the transformer")
            node = Val(inner, self.field_arg(), start)
        elif (name := self.transformer_opener()) is not None:
            self.blank()
            node = self.transformer_remainder(name, start)
        self.depth -= 1
        return node

    def num_value(self) -> Node:
        self.enter()
        self.blank()
        start = self.pos()
        node = self.transformer_or_val()
        if node is None:
            if self.rx(_RX_HEX) or self.rx(_RX_NUMBER):
                node = Value(self.last, start)
            else:
                raise self.fail(f"expected a number value or a field with a valid transformer: {_TRS_TEXT}")
        self.depth -= 1
        return node

    def str_value(self, allow_transformer: bool = True) -> Node:
        self.enter()
        self.blank()
        start = self.pos()
        node = self.transformer_or_val() if allow_transformer else None
        if node is None:
            if self.quoted() or self.rx(_RX_BARESTR):
                node = Value(self.last, start)
            elif not allow_transformer:
                raise self.fail("expected a string value")
            else:
                raise self.fail(f"expected a string value or a field with a valid transformer: {_TRS_TEXT}")
        self.depth -= 1
        return node

    def list_value(self) -> Node:
        self.enter()
        self.blank()
        start = self.pos()
        if self.lit("("):
            values: list[str] = []
            self.blank()
            depth, state = self.depth, self.save()
            try:
                head = self.str_value(allow_transformer=False)
            except _Fail:
                self.depth = depth
                self.restore(state)
                head = None
            if head is not None:
                values.append(head.value)  # type: ignore[attr-defined]
                self.blank()
                while self.lit(","):
                    values.append(self.str_value(allow_transformer=False).value)  # type: ignore[attr-defined]
                    self.blank()
            if not self.lit(")"):
                raise self.fail("expected a ')' token")
            self.depth -= 1
            return ListValue(tuple(values), start)
        node = self.transformer_or_val()
        if node is None:
            if self.rx(_RX_IDENTIFIER):
                node = Value(self.last, start)
            else:
                raise self.fail(
                    f"expected a list, an identifier, or a field with a valid transformer: {_TRS_TEXT}"
                )
        self.depth -= 1
        return node


def parse(text: str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Node:
    """Parse a condition into its syntax tree.

    Parameters
    ----------
    text
        The condition text (after list substitution, if any).
    max_depth
        Recursion limit of the grammar; Falco's rule loader uses 1000.

    Returns
    -------
    Node
        The root of the tree. Macro references stay :class:`~falco_lab.rules.frontend.syntax.Identifier` nodes.

    Raises
    ------
    RuleError
        ``LOAD_ERR_COMPILE_CONDITION`` with the libs parser message and the position (relative to
        ``text``) where parsing stopped. No other exception escapes, whatever the input.
    """
    if not isinstance(text, str):
        raise RuleError(
            Code.ERR_COMPILE_CONDITION, f"condition must be a string, not {type(text).__name__}", Position()
        )
    parser = _Parser(text, max_depth)
    old_limit = sys.getrecursionlimit()
    wanted = 4 * max_depth + 200
    try:
        if old_limit < wanted:
            sys.setrecursionlimit(wanted)
        return parser.parse()
    except _Fail as exc:
        raise RuleError(Code.ERR_COMPILE_CONDITION, exc.message, exc.position) from None
    except RecursionError:
        raise RuleError(
            Code.ERR_COMPILE_CONDITION, f"exceeded max depth limit of {max_depth}", parser.pos()
        ) from None
    finally:
        if sys.getrecursionlimit() != old_limit:
            sys.setrecursionlimit(old_limit)
