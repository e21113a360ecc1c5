"""Macro resolver: parse macro conditions (cached) and expand macro references (rules-language §5.7)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from falco_lab.rules.codes import Code
from falco_lab.rules.errors import RuleError
from falco_lab.rules.frontend import syntax
from falco_lab.rules.frontend.lists import substitute_lists
from falco_lab.rules.frontend.parser import parse

__all__ = ["MacroTexts", "expand_macros", "parse_cached"]


@lru_cache(maxsize=8192)
def parse_cached(text: str) -> syntax.Node:
    """:func:`~falco_lab.rules.frontend.parser.parse` with a cache (trees are immutable, so sharing is safe)."""
    return parse(text)


def expand_macros(
    node: syntax.Node, macros: Mapping[str, syntax.Node], *, names: dict[int, str] | None = None
) -> syntax.Node:
    """Replace every macro reference by the macro's (recursively expanded) tree (§5.7).

    Parameters
    ----------
    node
        A parsed condition.
    macros
        The macros visible to this condition, name → parsed (unexpanded) tree.
    names
        If given, filled with ``id(subtree) → macro name`` for every expanded macro (the subtrees are
        part of the returned tree), so explanations can say which macro a part came from.

    Raises
    ------
    RuleError
        ``LOAD_ERR_VALIDATE`` "Undefined macro 'X' used in filter." or "reference loop in macro 'X'".
    """
    done: dict[str, syntax.Node] = {}

    def expand(n: syntax.Node, stack: tuple[str, ...]) -> syntax.Node:
        if isinstance(n, syntax.Identifier):
            name = n.name
            if name in stack:
                raise RuleError(Code.ERR_VALIDATE, f"reference loop in macro '{name}'", n.pos)
            if name in done:
                return done[name]
            if name not in macros:
                raise RuleError(Code.ERR_VALIDATE, f"Undefined macro '{name}' used in filter.", n.pos)
            result = expand(macros[name], (*stack, name))
            done[name] = result
            if names is not None:
                names.setdefault(id(result), name)
            return result
        if isinstance(n, syntax.And | syntax.Or):
            kids = tuple(expand(c, stack) for c in n.children)
            if all(a is b for a, b in zip(kids, n.children, strict=True)):
                return n
            return type(n)(kids, n.pos)
        if isinstance(n, syntax.Not):
            child = expand(n.child, stack)
            return n if child is n.child else syntax.Not(child, n.pos)
        return n

    return expand(node, ())


class _LazyMacro:
    __slots__ = ("text", "lists")

    def __init__(self, text: str, lists: Mapping[str, Any] | None) -> None:
        self.text = text
        self.lists = lists


class MacroTexts(Mapping[str, syntax.Node]):
    """Macros given as text (or trees), parsed — lists substituted first — only when a condition uses them.

    Parameters
    ----------
    macros
        Macro name → condition text or an already parsed tree.
    lists
        List name → items, substituted textually into each macro text before it is parsed.
    """

    def __init__(self, macros: Mapping[str, str | syntax.Node], lists: Mapping[str, Any] | None) -> None:
        self._items: dict[str, syntax.Node | _LazyMacro] = {
            name: body if isinstance(body, syntax.Node) else _LazyMacro(body, lists)
            for name, body in macros.items()
        }

    def __getitem__(self, name: str) -> syntax.Node:
        value = self._items[name]
        if isinstance(value, _LazyMacro):
            value = parse_cached(substitute_lists(value.text, value.lists)[0])
            self._items[name] = value
        return value

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
