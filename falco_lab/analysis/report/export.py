"""Exporting the alerts for spreadsheets and archives (CSV, Parquet)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from falco_lab.analysis._html import defuse_formula

__all__ = ["export_alerts"]


def export_alerts(df: pd.DataFrame, path: str | Path, *, spreadsheet_safe: bool = True) -> Path:
    """Write the alerts to CSV (``.csv``) or Parquet (``.parquet``/``.pq``).

    CSV joins ``tags`` with commas and, with ``spreadsheet_safe`` (default), prefixes
    text cells that start with ``= + - @`` (or a tab / carriage return) with ``'`` so a
    spreadsheet opening the file never evaluates an attacker's command line as a formula.
    Parquet is ``falco_lab.events.to_parquet``'s archive, unchanged (read it back with
    ``falco_lab.events.read_parquet`` or ``falco-lab report``).

    Raises
    ------
    ValueError
        For any other file extension.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        out = df.copy()
        if "tags" in out.columns:
            out["tags"] = out["tags"].map(
                lambda t: (
                    ",".join(map(str, t))
                    if isinstance(t, Iterable) and not isinstance(t, str)
                    else ("" if t is None else str(t))
                )
            )
        if spreadsheet_safe:
            for name in out.columns:
                if out[name].dtype == object or isinstance(out[name].dtype, pd.StringDtype):
                    out[name] = out[name].map(defuse_formula)
        out.to_csv(path, index=False)
    elif suffix in (".parquet", ".pq"):
        from falco_lab.events import to_parquet  # the events archive format (exact round trip)

        to_parquet(df, path)
    else:
        raise ValueError(
            f"{path}: cannot export to {suffix or 'a file without extension'!r}; use .csv or .parquet"
        )
    return path
