"""Textual list substitution (rules-language §5.1) and the item quoting of §4.3.

Falco replaces list names inside the condition *text* before it parses it. This module reproduces
that replacement exactly, including its quirks (it works outside brackets, quotes are not delimiters,
an empty list also removes one neighbouring comma).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["quote_item", "substitute_list", "substitute_lists"]

_BLANKS = " \t\n\r"
_DELIMS = _BLANKS + "(),="


def quote_item(item: str) -> str:
    """Falco's ``q()``: wrap in double quotes when it has a space and is not already quoted.

    No escaping is done (an item with a ``"`` inside breaks the condition, as in Falco).

    Examples
    --------
    >>> quote_item("curl 127.0.0.1")
    '"curl 127.0.0.1"'
    >>> quote_item("bash")
    'bash'
    >>> quote_item('"sh -c x"')
    '"sh -c x"'
    """
    if " " in item and not item.startswith(('"', "'")):
        return f'"{item}"'
    return item


def substitute_list(condition: str, name: str, items: Iterable[str]) -> tuple[str, bool]:
    """Replace every delimited occurrence of list ``name`` in ``condition`` by its quoted items.

    Returns
    -------
    tuple[str, bool]
        The new text and whether the list was used at all.
    """
    if not name:
        return condition, False
    sub = ", ".join(quote_item(str(i)) for i in items)
    cnd = condition
    used = False
    start = cnd.find(name)
    while start != -1:
        end = start + len(name)
        if (start == 0 or cnd[start - 1] in _DELIMS) and (end >= len(cnd) or cnd[end] in _DELIMS):
            while start > 0 and cnd[start - 1] in _BLANKS:
                start -= 1
            while end < len(cnd) and cnd[end] in _BLANKS:
                end += 1
            if not sub:
                if start > 0 and cnd[start - 1] == ",":
                    start -= 1
                elif end < len(cnd) and cnd[end] == ",":
                    end += 1
            prefix = cnd[:start] + " " if start > 0 else ""
            cnd = prefix + sub + " " + cnd[end:]
            start += len(sub) + 1
            used = True
        start = cnd.find(name, start + 1)
    return cnd, used


def substitute_lists(condition: str, lists: Mapping[str, Iterable[str]] | None) -> tuple[str, set[str]]:
    """Apply every list, in the mapping's order, to the condition text (§5.1).

    Parameters
    ----------
    condition
        Condition text (for a rule: after its exceptions were appended).
    lists
        List name → items (already resolved: items that name earlier lists are expanded by the loader).

    Returns
    -------
    tuple[str, set[str]]
        The substituted text and the names of the lists that occurred in it.
    """
    used: set[str] = set()
    if not lists:
        return condition, used
    for name, items in lists.items():
        if name not in condition:
            continue
        condition, hit = substitute_list(condition, name, items)
        if hit:
            used.add(name)
    return condition, used
