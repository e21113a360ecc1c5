"""Build small canonical alert frames inline in tests (no dependency on the loaders)."""

from __future__ import annotations

import pandas as pd

from falco_lab.events.schema import BASE_COLUMNS, empty_frame
from falco_lab.priorities import PRIORITY_DTYPE

T0 = pd.Timestamp("2026-11-27T10:00:00Z")


def alerts(*rows: dict, start: pd.Timestamp = T0) -> pd.DataFrame:
    """A canonical events frame from ``rows``.

    Each row gives output fields by name plus optional ``rule``, ``priority``, ``tags``,
    ``hostname``, ``output`` and ``t`` (seconds after ``start``, default: the row index).
    """
    if not rows:
        return empty_frame()
    records = []
    for i, row in enumerate(rows):
        row = dict(row)
        seconds = row.pop("t", i)
        record = {
            "time": start + pd.Timedelta(seconds=seconds),
            "rule": row.pop("rule", "Test rule"),
            "priority": row.pop("priority", "Warning"),
            "source": row.pop("source", "syscall"),
            "hostname": row.pop("hostname", "node-1"),
            "tags": row.pop("tags", []),
            "output": row.pop("output", f"alert {i}"),
            "uuid": row.pop("uuid", f"00000000-0000-0000-0000-{i:012d}"),
        }
        record.update(row)
        records.append(record)
    df = pd.DataFrame.from_records(records)
    df["time"] = pd.to_datetime(df["time"], utc=True).astype("datetime64[ns, UTC]")
    df["priority"] = df["priority"].astype(PRIORITY_DTYPE)
    for name in ("rule", "source", "hostname", "output", "uuid"):
        df[name] = df[name].astype("string")
    extra = [c for c in df.columns if c not in BASE_COLUMNS]
    return df[[*BASE_COLUMNS, *extra]]
