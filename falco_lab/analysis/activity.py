"""Is it still going on?  Last activity per pod and node, and Falco's blind spots.

:func:`still_active` gives, per pod (audit alerts count for the pod they target) and
per node for alerts without a pod, when it was last seen, how long it has been quiet
relative to the end of the data and to the collection time, and the processes of its
last alerts (alerts do not record process exits, so these may still be running).
:func:`blind_spots` lists the windows in which Falco reported dropping events or other
trouble of its own (``Falco internal: ...`` alerts): nothing seen there proves nothing.
:func:`collection_time` is the latest modification time of the loaded files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema, column
from falco_lab.analysis.sources import attribute

__all__ = ["ACTIVE_WITHIN", "BLIND_SPOT_GAP", "blind_spots", "collection_time", "still_active"]

#: A place whose last alert is this close to the end of the data is "active at the end".
ACTIVE_WITHIN = pd.Timedelta("5min")
#: Falco health alerts closer than this are one blind-spot window.
BLIND_SPOT_GAP = pd.Timedelta("1min")
#: Default of ``still_active(max_processes=)``; the report takes ``ReportCaps.activity_processes``.
MAX_PROCESSES = 3


def collection_time(sources: Iterable[str]) -> pd.Timestamp | None:
    """The latest modification time (UTC) of the sources that are files; None if none is."""
    stamps = []
    for source in sources:
        path = Path(str(source))
        try:
            if path.is_file():
                stamps.append(os.stat(path).st_mtime)
        except OSError:
            continue
    return pd.Timestamp(max(stamps), unit="s", tz="UTC") if stamps else None


def still_active(
    df: pd.DataFrame,
    schema: AlertSchema = DEFAULT_SCHEMA,
    collected_at: pd.Timestamp | None = None,
    *,
    max_processes: int = MAX_PROCESSES,
) -> pd.DataFrame:
    """Last activity per pod and node, most recent first (Falco's own health alerts left out).

    Returns
    -------
    pandas.DataFrame
        Columns ``place`` (``namespace/pod`` or ``node N``), ``alerts``, ``last_seen``,
        ``quiet_before_end`` and ``quiet_before_collection`` (seconds; NA without a
        collection time), ``status`` (``active at the end`` within :data:`ACTIVE_WITHIN`
        of the data's end, else ``quiet``) and ``last_processes`` (``name (pid)`` of the
        last alerts' processes, newest first, at most ``max_processes`` then ``(+N more)``).
    """
    columns = [
        "place",
        "alerts",
        "last_seen",
        "quiet_before_end",
        "quiet_before_collection",
        "status",
        "last_processes",
    ]
    if df.empty:
        return pd.DataFrame({c: [] for c in columns})
    who = attribute(df, schema)
    activity = (who["kind"] != "falco").to_numpy()  # Falco's health alerts are blind spots, not activity
    if not activity.any():
        return pd.DataFrame({c: [] for c in columns})
    df, who = df.loc[activity], who.loc[activity]
    place = (who["namespace"].fillna("") + "/" + who["pod"]).str.removeprefix("/")
    place = place.where(who["pod"].notna(), "node " + column(df, schema.node).fillna("?"))
    name = column(df, "proc.name").fillna(column(df, schema.cmdline))
    pid = (
        pd.to_numeric(df[schema.pid], errors="coerce").round().astype("Int64").astype("string")
        if schema.pid in df.columns
        else pd.Series(pd.NA, index=df.index, dtype="string")
    )
    proc = (name + " (" + pid.fillna("?") + ")").where(name.notna())
    frame = pd.DataFrame({"place": place, "time": df["time"], "proc": proc}).sort_values(
        "time", ascending=False
    )
    end = df["time"].max()
    # one pass per column, not one per place: the newest row of each place comes first
    grouped = frame.groupby("place", sort=False)
    last = grouped["time"].first()
    procs = frame.dropna(subset=["proc"]).drop_duplicates(["place", "proc"])
    distinct = procs.groupby("place", sort=False).size()
    procs = procs[procs.groupby("place", sort=False).cumcount() < max_processes]
    named = procs.groupby("place", sort=False)["proc"].agg(", ".join)
    more = (distinct - max_processes).reindex(named.index)
    named = named.where(more <= 0, named + " (+" + more.astype(str) + " more)")
    out = pd.DataFrame(
        {
            "place": last.index.astype(str),
            "alerts": grouped.size().to_numpy(),
            "last_seen": last.to_numpy(),
            "quiet_before_end": (end - last).dt.total_seconds().to_numpy(),
            "quiet_before_collection": (collected_at - last).dt.total_seconds().to_numpy()
            if collected_at is not None
            else float("nan"),
            "status": np.where((end - last <= ACTIVE_WITHIN).to_numpy(), "active at the end", "quiet"),
            "last_processes": named.reindex(last.index).fillna("").to_numpy(),
        },
        columns=columns,
    )
    out["last_seen"] = (
        out["last_seen"].dt.tz_localize("UTC") if out["last_seen"].dt.tz is None else out["last_seen"]
    )
    return out.sort_values("last_seen", ascending=False, kind="stable").reset_index(drop=True)


def blind_spots(
    df: pd.DataFrame, schema: AlertSchema = DEFAULT_SCHEMA, gap: pd.Timedelta = BLIND_SPOT_GAP
) -> pd.DataFrame:
    """Windows of Falco's own health alerts (event drops ...), per node.

    Returns
    -------
    pandas.DataFrame
        Columns ``node``, ``start``, ``end``, ``alerts``, ``rules``, ``drops`` (sum of the
        alerts' ``n_drops`` field when printed, else NA); in time order.
    """
    columns = ["node", "start", "end", "alerts", "rules", "drops"]
    if df.empty:
        return pd.DataFrame({c: [] for c in columns})
    falco = (attribute(df, schema)["kind"] == "falco").to_numpy()
    if not falco.any():
        return pd.DataFrame({c: [] for c in columns})
    part = df.loc[falco]
    drops = pd.to_numeric(part["n_drops"], errors="coerce") if "n_drops" in part.columns else None
    frame = pd.DataFrame(
        {
            "node": column(part, schema.node).fillna(column(part, "hostname")).fillna("?"),
            "time": part["time"],
            "rule": column(part, "rule"),
            "drops": drops if drops is not None else pd.Series(float("nan"), index=part.index),
        }
    ).sort_values(["node", "time"])
    new_window = (frame["node"] != frame["node"].shift()) | (frame["time"].diff() > gap)
    frame["window"] = new_window.fillna(True).astype(bool).to_numpy().cumsum()
    out = frame.groupby("window").agg(
        node=("node", "first"),
        start=("time", "min"),
        end=("time", "max"),
        alerts=("time", "size"),
        rules=("rule", lambda r: ", ".join(dict.fromkeys(r.dropna()))),
        drops=("drops", lambda d: d.sum() if d.notna().any() else float("nan")),
    )
    return out.sort_values("start", kind="stable").reset_index(drop=True)[columns]
