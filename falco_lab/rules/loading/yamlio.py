"""Reading rules YAML the way Falco (yaml-cpp) does: every scalar stays text, every node keeps its place.

PyYAML's ``SafeLoader`` turns ``010`` into 8, ``on`` into True, ``2001-01-01`` into a date, and
fails on a plain ``=``; Falco keeps every scalar as the text written and converts it only when a
key asks for a type.  So we only *compose* the documents (no construction, no implicit
resolvers): the result is a tree of PyYAML nodes whose ``start_mark`` gives the 0-based line,
column and offset of every item.  Keys are matched first-wins, as yaml-cpp's map lookup does.
"""

from __future__ import annotations

import re

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from falco_lab.rules.codes import Code
from falco_lab.rules.errors import Position, RuleError

__all__ = [
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "compose_documents",
    "decode_bool",
    "get",
    "is_null",
    "keys",
    "decode_int",
    "position_of",
]


class _PyTextComposer(Reader, Scanner, Parser, Composer, BaseResolver):
    """A composer with no implicit resolvers: every scalar node is tagged as a plain string."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        BaseResolver.__init__(self)


try:  # libyaml (about 20x faster); same nodes and marks
    from yaml._yaml import CParser as _CParser

    class _CTextComposer(_CParser, BaseResolver):
        """The libyaml parser with no implicit resolvers."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            BaseResolver.__init__(self)

    _TextComposer: type = _CTextComposer
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _TextComposer = _PyTextComposer


#: PyYAML problem texts -> the yaml-cpp message Falco prints for the same mistake.
_YAML_CPP_MESSAGES: tuple[tuple[str, str], ...] = (
    ("mapping values are not allowed", "illegal map value"),
    ("did not find expected ',' or ']'", "end of sequence flow not found"),
    ("did not find expected ',' or '}'", "end of map flow not found"),
    ("did not find expected key", "end of map not found"),
    ("did not find expected '-' indicator", "end of sequence not found"),
    ("found undefined alias", "the referenced anchor is not defined"),
    ("found unexpected end of stream", "illegal EOF in scalar"),
    ("expected ',' or ']'", "end of sequence flow not found"),
    ("expected ',' or '}'", "end of map flow not found"),
    ("expected <block end>, but found '-'", "end of map not found"),
    ("expected <block end>", "end of sequence not found"),
    ("could not find expected ':'", "illegal map value"),
    ("found character '\\t' that cannot start any token", "illegal tab when looking for indentation"),
    ("cannot start any token", "unknown token"),
    ("found duplicate anchor", "duplicate anchor"),
)

_NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE_WORDS = frozenset(
    w for base in ("true", "yes", "y", "on") for w in (base, base.upper(), base.capitalize())
)
_FALSE_WORDS = frozenset(
    w for base in ("false", "no", "n", "off") for w in (base, base.upper(), base.capitalize())
)


def _yaml_cpp_text(problem: str, char: str) -> str:
    if "cannot start any token" in problem and char == "\t":
        return "illegal tab when looking for indentation"
    for pyyaml_text, cpp_text in _YAML_CPP_MESSAGES:
        if pyyaml_text in problem:
            return cpp_text
    return problem


def compose_documents(text: str, name: str = "") -> list[Node | None]:
    """Compose every YAML document of ``text`` into a node tree (``None`` for an empty document).

    Raises
    ------
    RuleError
        ``LOAD_ERR_YAML_PARSE`` with yaml-cpp's message form
        (``yaml-cpp: error at line L, column C: ...``) and the position of the problem.
    """
    loader = _TextComposer(text)
    documents: list[Node | None] = []
    try:
        while loader.check_node():
            documents.append(loader.get_node())
        # ``check_node`` stops at the stream end; an empty stream still counts as one empty document.
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line if mark is not None else 0
        column = mark.column if mark is not None else 0
        offset = mark.index if mark is not None else 0
        char = text[offset] if 0 <= offset < len(text) else ""
        problem = _yaml_cpp_text(exc.problem or exc.context or "invalid YAML", char)
        raise RuleError(
            Code.ERR_YAML_PARSE,
            f"yaml-cpp: error at line {line + 1}, column {column + 1}: {problem}",
            Position(name, line + 1, column + 1, offset),
            item_type="rules content",
        ) from None
    except yaml.YAMLError as exc:  # reader errors (bad characters) carry a position too
        position = getattr(exc, "position", 0) or 0
        raise RuleError(
            Code.ERR_YAML_PARSE,
            f"yaml-cpp: error at line 1, column {position + 1}: {exc}",
            Position(name, 1, position + 1, position),
            item_type="rules content",
        ) from None
    finally:
        dispose = getattr(loader, "dispose", None)
        if dispose is not None:
            dispose()
    return documents


def position_of(node: Node, name: str) -> Position:
    """The 1-based position of ``node`` in file ``name`` (offset stays 0-based)."""
    mark = node.start_mark
    return Position(name, mark.line + 1, mark.column + 1, mark.index)


def is_null(node: Node | None) -> bool:
    """True for an absent value or a YAML null (empty plain scalar, ``~``, ``null``)."""
    if node is None:
        return True
    # plain style is None (pure-Python parser) or "" (libyaml)
    return isinstance(node, ScalarNode) and not node.style and node.value in _NULL_WORDS


def get(node: Node, key: str) -> tuple[Node, Node] | None:
    """``(key_node, value_node)`` of the first mapping entry named ``key`` (yaml-cpp is first-wins)."""
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def keys(node: MappingNode) -> list[tuple[str, Node]]:
    """The scalar keys of a mapping with their key nodes, in file order (first occurrence only)."""
    seen: dict[str, Node] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value not in seen:
            seen[key_node.value] = key_node
    return list(seen.items())


def decode_bool(text: str) -> bool | None:
    """yaml-cpp's boolean decoding: true/yes/y/on and false/no/n/off in lower, UPPER or Capital case."""
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    return None


_UNSIGNED = re.compile(r"\+?[0-9]+")
_SIGNED = re.compile(r"[-+]?[0-9]+")


def decode_int(text: str, *, unsigned: bool = False) -> int | None:
    """Integer decoding of a scalar (decimal digits, as yaml-cpp's stream conversion), else None."""
    pattern = _UNSIGNED if unsigned else _SIGNED
    if pattern.fullmatch(text.strip()) is None:
        return None
    return int(text.strip())
