"""Syntax tree of a Falco condition, and its canonical text form.

Every node is a frozen dataclass carrying ``pos``: a :class:`~falco_lab.rules.errors.Position`
relative to the condition text (``name`` left empty; 1-based line and column, 0-based offset).
Positions take no part in equality, so two trees parsed from differently spaced texts compare equal.

Node kinds
----------
``And`` / ``Or`` (n-ary), ``Not``, ``UnaryCheck`` (``exists``), ``BinaryCheck`` (left operand,
operator, right operand, optional ``oneof``/``anyof``/``allof`` modifier), ``Field`` (a field with an
optional argument), ``Transformer`` (``tolower(...)`` and friends, possibly with several arguments),
``Val`` (``val(field)`` on the right-hand side), ``Value`` (a string or number constant, already
unescaped), ``ListValue`` (``(a, b, c)``), ``TransformerList`` (a ``(x, y)`` argument of ``join``) and
``Identifier`` (a macro reference).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from falco_lab.rules.errors import Position

__all__ = [
    "And",
    "BinaryCheck",
    "Field",
    "Identifier",
    "ListValue",
    "Node",
    "Not",
    "Or",
    "Position",
    "Transformer",
    "TransformerList",
    "UnaryCheck",
    "Val",
    "Value",
    "collect_fields",
    "collect_identifiers",
    "escape_value",
    "to_filter_text",
    "to_text",
    "walk",
]

_NOPOS = Position()


def _pos() -> Position:
    return field(default=_NOPOS, compare=False, repr=False)


class Node:
    """Base class of every condition tree node."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class And(Node):
    children: tuple[Node, ...]
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class Or(Node):
    children: tuple[Node, ...]
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class Not(Node):
    child: Node
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class Field(Node):
    """A field such as ``proc.name``, ``proc.aname[2]`` or ``evt.arg.flags`` (name kept as written)."""

    name: str
    arg: str | None = None
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class Value(Node):
    """A constant (string or number text, already unescaped)."""

    value: str
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class ListValue(Node):
    values: tuple[str, ...]
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class TransformerList(Node):
    """A parenthesised argument list of a multi-value transformer, e.g. ``(fd.name, "x")``."""

    items: tuple[Node, ...]
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class Transformer(Node):
    """``name(arg, ...)`` with an optional ``[arg]`` after it (only ``getopt`` accepts one)."""

    name: str
    args: tuple[Node, ...]
    arg: str | None = None
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class Val(Node):
    """``val(field)``: the value of another field of the same event, on the right-hand side."""

    field: Field
    arg: str | None = None
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class UnaryCheck(Node):
    left: Node  # Field or Transformer
    op: str = "exists"
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class BinaryCheck(Node):
    left: Node  # Field or Transformer
    op: str
    right: Node  # Value, ListValue, Transformer, Val
    modifier: str | None = None
    pos: Position = _pos()


@dataclass(frozen=True, slots=True)
class Identifier(Node):
    """A bare identifier used as a check: a reference to a macro."""

    name: str
    pos: Position = _pos()


# --------------------------------------------------------------------------- canonical text

_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"'}
_QUOTE_TRIGGERS = frozenset(" =\\\"'\0\b\f\n\r\t")


def escape_value(value: str) -> str:
    """Quote and escape a constant the way the libs AST printer does (§10)."""
    if not any(c in _QUOTE_TRIGGERS for c in value):
        return value
    return '"' + "".join(_ESCAPES.get(c, c) for c in value) + '"'


def _field_text(name: str, arg: str | None) -> str:
    return name if arg is None else f"{name}[{arg}]"


def to_text(node: Node) -> str:
    """Canonical text of a (usually expanded) condition tree, as Falco prints compiled conditions.

    Parameters
    ----------
    node
        Any condition tree node.

    Returns
    -------
    str
        ``(a and b)`` for every and/or node, ``not x``, ``field op value``, lists as ``(a, b)``,
        transformers as ``name(arg,arg)`` and constants escaped with :func:`escape_value`.
    """
    return _printed(node, _field_text, escape_value, bare_list_names=False)


# --------------------------------------------------------------------------- re-parseable text

#: What the parser takes as a bare (unquoted) value and as a bare field argument (libs grammar).
_BARE_VALUE = re.compile("[^()\"'\\s\\b\\0=,]+")
_BARE_FIELD_ARG = re.compile("[^\\]\\[\"'\\s\\b\\0]+")
#: Bare words the parser reads as something else right after an operator.
_MODIFIER_WORDS = frozenset({"oneof", "anyof", "allof"})
_FILTER_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"'}


def _quoted(value: str) -> str:
    if value.endswith("\\"):
        # the lexer ends a quoted string at a quote not preceded by a backslash, so "...\\" never ends
        raise ValueError(f"{value!r} needs quotes and ends with a backslash: no filter text reads back as it")
    return '"' + "".join(_FILTER_ESCAPES.get(c, c) for c in value) + '"'


def _filter_value(value: str) -> str:
    if _BARE_VALUE.fullmatch(value) and value not in _MODIFIER_WORDS:
        return value
    return _quoted(value)


def _filter_field(name: str, arg: str | None) -> str:
    if arg is None:
        return name
    return f"{name}[{arg if _BARE_FIELD_ARG.fullmatch(arg) else _quoted(arg)}]"


def to_filter_text(node: Node) -> str:
    """Filter text of a condition tree that parses back to an equal tree.

    :func:`to_text` prints conditions as Falco (the libs AST printer) does, which quotes only values
    with blanks, quotes or backslashes: ``(systemd)`` or an empty string come out bare and do not
    parse again.  This text quotes every value that is not a bare string of the grammar (and the
    words ``oneof``/``anyof``/``allof``), so ``parse(to_filter_text(tree)) == tree``; it is what to
    hand to another filter engine (``sysdig FILTER``) for an expanded condition.

    Parameters
    ----------
    node
        Any condition tree node (usually a rule's expanded condition, ``Condition.ast``).

    Returns
    -------
    str
        The same layout as :func:`to_text` (``(a and b)``, ``not x``, lists as ``(a, b)``), with
        values and field arguments quoted (``"..."``, escaping ``\\``, ``"`` and control characters)
        where a bare word would not read back as the same value.

    Raises
    ------
    ValueError
        For a value that needs quotes and ends with a backslash: the grammar has no text for it.
    """
    return _printed(node, _filter_field, _filter_value, bare_list_names=True)


def _printed(
    node: Node,
    field: Callable[[str, str | None], str],
    value: Callable[[str], str],
    *,
    bare_list_names: bool,
) -> str:
    """The one walk of :func:`to_text` and :func:`to_filter_text`; they differ in how fields and
    values are written (and whether the list name after ``in oneof`` stays bare)."""

    def text(n: Node) -> str:
        if isinstance(n, And):
            return "(" + " and ".join(text(c) for c in n.children) + ")"
        if isinstance(n, Or):
            return "(" + " or ".join(text(c) for c in n.children) + ")"
        if isinstance(n, Not):
            return "not " + text(n.child)
        if isinstance(n, UnaryCheck):
            return f"{text(n.left)} {n.op}"
        if isinstance(n, BinaryCheck):
            op = n.op if n.modifier is None else f"{n.op} {n.modifier}"
            if bare_list_names and n.modifier is not None and isinstance(n.right, Value):
                return f"{text(n.left)} {op} {n.right.value}"  # a list's name
            return f"{text(n.left)} {op} {text(n.right)}"
        if isinstance(n, Field):
            return field(n.name, n.arg)
        if isinstance(n, Value):
            return value(n.value)
        if isinstance(n, ListValue):
            return "(" + ", ".join(value(v) for v in n.values) + ")"
        if isinstance(n, TransformerList):
            return "(" + ", ".join(text(i) for i in n.items) + ")"
        if isinstance(n, Transformer):
            return field(f"{n.name}(" + ",".join(text(a) for a in n.args) + ")", n.arg)
        if isinstance(n, Val):
            return field(f"val({text(n.field)})", n.arg)
        if isinstance(n, Identifier):
            return n.name
        raise TypeError(f"not a condition node: {n!r}")

    return text(node)


# --------------------------------------------------------------------------- walking


def children(node: Node) -> tuple[Node, ...]:
    """Direct sub-nodes of ``node``, left to right."""
    if isinstance(node, And | Or):
        return node.children
    if isinstance(node, Not):
        return (node.child,)
    if isinstance(node, UnaryCheck):
        return (node.left,)
    if isinstance(node, BinaryCheck):
        return (node.left, node.right)
    if isinstance(node, Transformer):
        return node.args
    if isinstance(node, TransformerList):
        return node.items
    if isinstance(node, Val):
        return (node.field,)
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, depth first, parents before children (iterative: deep trees are fine)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def collect_identifiers(node: Node) -> list[str]:
    """Names of the macro references (``Identifier`` checks), in order of appearance, without repeats."""
    seen: dict[str, None] = {}
    for n in walk(node):
        if isinstance(n, Identifier):
            seen.setdefault(n.name, None)
    return list(seen)


def collect_fields(node: Node) -> list[str]:
    """Field names as written (``proc.aname[2]`` includes the argument), in order, without repeats."""
    seen: dict[str, None] = {}
    for n in walk(node):
        if isinstance(n, Field):
            seen.setdefault(_field_text(n.name, n.arg), None)
    return list(seen)
