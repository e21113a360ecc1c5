"""Falco's rules-file schema check (§1.1): recorded as ``ok``/``failed``, never changes the load.

Falco validates each rules file against a JSON schema before reading it and only records whether
the check passed (a file that fails still loads).  This is a structural check written from the
specification's description of that schema (we do not have its text) and fitted to the upstream
conformance cases: an item may only use keys known to some item kind (the schema describes one item
object with every known property, so ``priority`` on a list passes but an unknown key fails), booleans must be YAML booleans (a quoted ``"yes"`` is a string), ``capture_duration``
an integer, ``priority`` one of the upper-case names, ``override`` values ``append``/``replace``, and
exceptions have only ``name``/``fields``/``comps``/``values``.  :func:`schema_problems` lists every
mismatch with its place, so a notebook can show why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from falco_lab.priorities import priority_spellings
from falco_lab.rules.errors import Position
from falco_lab.rules.loading.yamlio import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    decode_bool,
    is_null,
    position_of,
)

__all__ = ["RULE_APPENDABLE", "RULE_REPLACEABLE", "schema_problems", "schema_status"]

#: Rule keys an ``override`` may append to, and may replace (the loader and the schema agree).
RULE_APPENDABLE: tuple[str, ...] = ("condition", "output", "desc", "tags", "exceptions")
RULE_REPLACEABLE: tuple[str, ...] = (
    "condition",
    "output",
    "desc",
    "priority",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "capture",
    "capture_duration",
)

#: A value check and a mapping spec (key → value check).
Check = Callable[[Node], bool]
Spec = Mapping[str, Check]

#: The schema's priority enum: every spelling Falco accepts, upper case.
_PRIORITIES = frozenset(spelling.upper() for spelling in priority_spellings())
_INTEGER = re.compile(r"[-+]?[0-9]+")
_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _plain(node: Node) -> bool:
    return isinstance(node, ScalarNode) and not node.style


def _is_bool(node: Node) -> bool:
    return _plain(node) and decode_bool(node.value) is not None


def _is_int(node: Node) -> bool:
    return _plain(node) and _INTEGER.fullmatch(node.value) is not None


def _is_string(node: Node) -> bool:
    """A JSON string after conversion: a quoted scalar, or a plain one that is not a number/bool/null."""
    if not isinstance(node, ScalarNode) or is_null(node):
        return False
    if node.style:
        return True
    return _NUMBER.fullmatch(node.value) is None and decode_bool(node.value) is None


def _is_string_or_number(node: Node) -> bool:
    return isinstance(node, ScalarNode) and not is_null(node)


def _either(a: Check, b: Check) -> Check:
    def check(node: Node) -> bool:
        return a(node) or b(node)

    return check


def _strings(node: Node) -> bool:
    return isinstance(node, SequenceNode) and all(_is_string(n) for n in node.value)


def _override(allowed: frozenset[str]) -> Check:
    def check(node: Node) -> bool:
        return isinstance(node, MappingNode) and all(
            isinstance(k, ScalarNode)
            and k.value in allowed
            and isinstance(v, ScalarNode)
            and v.value in ("append", "replace")
            for k, v in node.value
        )

    return check


def _string_or_strings(node: Node) -> bool:
    return _is_string(node) or _strings(node)


def _exception_values(node: Node) -> bool:
    return isinstance(node, SequenceNode) and all(
        _is_string_or_number(v)
        or (isinstance(v, SequenceNode) and all(_is_string_or_number(x) or _strings(x) for x in v.value))
        for v in node.value
    )


_EXCEPTION = {
    "name": _is_string,
    "fields": _string_or_strings,
    "comps": _string_or_strings,
    "values": _exception_values,
}


def _exceptions(node: Node) -> bool:
    return isinstance(node, SequenceNode) and all(
        isinstance(ex, MappingNode) and not list(_mapping_problems(ex, _EXCEPTION, "name", Position()))
        for ex in node.value
    )


_ITEMS: dict[str, Spec] = {
    "required_engine_version": {"required_engine_version": _is_string_or_number},
    "required_plugin_versions": {"required_plugin_versions": lambda n: isinstance(n, SequenceNode)},
    "list": {
        "list": _is_string,
        "items": lambda n: isinstance(n, SequenceNode) and all(_is_string_or_number(i) for i in n.value),
        "append": _is_bool,
        "override": _override(frozenset({"items"})),
    },
    "macro": {
        "macro": _is_string,
        "condition": _is_string,
        "append": _is_bool,
        "override": _override(frozenset({"condition"})),
    },
    "rule": {
        "rule": _is_string,
        "condition": _is_string,
        "output": _is_string,
        "desc": _is_string,
        "priority": lambda n: isinstance(n, ScalarNode) and n.value in _PRIORITIES,
        "source": lambda n: _is_string(n) or is_null(n) or (isinstance(n, ScalarNode) and n.value == ""),
        "enabled": _is_bool,
        "tags": _strings,
        "exceptions": _exceptions,
        "warn_evttypes": _is_bool,
        "skip-if-unknown-filter": _is_bool,
        "capture": _is_bool,
        "capture_duration": _is_int,
        "append": _is_bool,
        "override": _override(frozenset(RULE_REPLACEABLE)),
    },
}


def _merge(specs: Iterable[Spec]) -> Spec:
    merged: dict[str, Check] = {}
    for spec in specs:
        for key, check in spec.items():
            if key in merged and merged[key] is not check:
                first = merged[key]
                merged[key] = _either(first, check)
            else:
                merged[key] = check
    return merged


_ANY_ITEM = _merge(_ITEMS.values())


def _mapping_problems(item: MappingNode, spec: Spec, kind: str, where: Position) -> Iterator[str]:
    for key_node, value in item.value:
        key: str | None = key_node.value if isinstance(key_node, ScalarNode) else None
        check = spec.get(key) if key is not None else None
        if check is None:
            yield f"{kind}: key {key!r} is not allowed"
        elif not check(value):
            yield f"{kind}: value of {key!r} has the wrong type"


def schema_problems(documents: list[Node | None], name: str) -> list[tuple[Position, str]]:
    """Every place where the composed documents of file ``name`` do not fit the rules schema."""
    problems: list[tuple[Position, str]] = []
    for doc in documents:
        if doc is None or is_null(doc):
            continue
        if not isinstance(doc, SequenceNode):
            problems.append((position_of(doc, name), "rules content must be a sequence of items"))
            continue
        for item in doc.value:
            if is_null(item):
                continue
            where = position_of(item, name)
            if not isinstance(item, MappingNode):
                problems.append((where, "item must be a mapping"))
                continue
            problems.extend((where, text) for text in _mapping_problems(item, _ANY_ITEM, "item", where))
    return problems


def schema_status(documents: list[Node | None], name: str) -> str:
    """``"ok"`` or ``"failed"``, as Falco records it."""
    return "failed" if schema_problems(documents, name) else "ok"
