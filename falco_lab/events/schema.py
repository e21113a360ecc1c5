"""The canonical events frame: one row per Falco alert.

Every part of falco-lab that produces or consumes alerts (the loaders, the rules
engine's ``RuleSet.evaluate``, the simulator, the analysis and the report) agrees on
this schema.  Output fields become one column each, named exactly as the field
(``k8s.pod.name``, ``proc.aname[2]``), after the fixed columns below.
"""

from __future__ import annotations

import pandas as pd

from falco_lab.priorities import PRIORITY_DTYPE

#: ``df.attrs`` key that labels a frame as simulated data (set by :mod:`falco_lab.simulate`;
#: the charts add "(simulated)" to their titles and the report shows its banner).
SIMULATED_ATTR = "simulated"

#: The fixed columns of the canonical frame, in order.
BASE_COLUMNS: tuple[str, ...] = ("time", "rule", "priority", "source", "hostname", "tags", "output", "uuid")


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
