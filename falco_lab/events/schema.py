"""The canonical events frame: one row per Falco alert.

Every part of falco-lab that produces or consumes alerts (the loaders, the rules
engine's ``RuleSet.evaluate``, the simulator, the analysis and the report) agrees on
this schema.  Output fields become one column each, named exactly as the field
(``k8s.pod.name``, ``proc.aname[2]``), after the fixed columns below.
"""

from __future__ import annotations

import pandas as pd

#: Falco priorities, most severe first (the order of ``falco_lab.events`` categoricals).
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

_PRIORITY_ALIASES = {p.lower(): p for p in PRIORITIES} | {"info": "Informational"}

#: ``df.attrs`` key that labels a frame as simulated data (set by :mod:`falco_lab.simulate`;
#: the charts add "(simulated)" to their titles and the report shows its banner).
SIMULATED_ATTR = "simulated"

#: The fixed columns of the canonical frame, in order.
BASE_COLUMNS: tuple[str, ...] = ("time", "rule", "priority", "source", "hostname", "tags", "output", "uuid")


def normalize_priority(value: object) -> str | None:
    """Return the canonical priority name for ``value`` (any case, ``info`` accepted), else None."""
    if not isinstance(value, str):
        return None
    return _PRIORITY_ALIASES.get(value.strip().lower())


def empty_frame() -> pd.DataFrame:
    """An empty canonical frame with the base columns and their dtypes."""
    return pd.DataFrame(
        {
            "time": pd.Series([], dtype="datetime64[ns, UTC]"),
            "rule": pd.Series([], dtype="string"),
            "priority": pd.Series([], dtype=PRIORITY_DTYPE),
            "source": pd.Series([], dtype="string"),
            "hostname": pd.Series([], dtype="string"),
            "tags": pd.Series([], dtype="object"),
            "output": pd.Series([], dtype="string"),
            "uuid": pd.Series([], dtype="string"),
        }
    )
