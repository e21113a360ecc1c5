"""Falco's priorities: the one home of their names, order, aliases, dtype and colours.

Falco parses a priority in any letter case and accepts ``info`` for ``Informational``;
every part of the project (the rules loader, the events loaders, the CLI, the charts and
the report) uses :func:`normalize_priority` and the constants below, nothing else.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "PRIORITIES",
    "PRIORITY_COLORS",
    "PRIORITY_DTYPE",
    "normalize_priority",
    "priority_spellings",
]

#: Falco priorities, most severe first (the order of the project's categoricals).
PRIORITIES: tuple[str, ...] = (
    "Emergency",
    "Alert",
    "Critical",
    "Error",
    "Warning",
    "Notice",
    "Informational",
    "Debug",
)

#: Ordered categorical dtype: ``Debug < ... < Emergency`` so ``df.priority >= "Warning"`` works.
PRIORITY_DTYPE = pd.CategoricalDtype(categories=list(reversed(PRIORITIES)), ordered=True)

#: One colour per priority, the palette of every chart and report of the project (reds for
#: the four most severe, then falcosidekick's usual hues).
PRIORITY_COLORS: dict[str, str] = {
    "Emergency": "#6b0000",
    "Alert": "#a30000",
    "Critical": "#e20b0b",
    "Error": "#ff6a00",
    "Warning": "#ffc700",
    "Notice": "#2bbf7e",
    "Informational": "#68c2ff",
    "Debug": "#9aa5b1",
}

_ALIASES: dict[str, str] = {p.lower(): p for p in PRIORITIES} | {"info": "Informational"}


def normalize_priority(value: object) -> str | None:
    """The canonical priority name for ``value`` (any case, ``info`` accepted), else None.

    Surrounding white space is ignored, as Falco's loader ignores it.
    """
    if not isinstance(value, str):
        return None
    return _ALIASES.get(value.strip().lower())


def priority_spellings() -> frozenset[str]:
    """Every accepted spelling in lower case (the canonical names and the aliases)."""
    return frozenset(_ALIASES)
