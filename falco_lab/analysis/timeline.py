"""Interactive alert timelines (plotly): one lane per rule, pod, namespace or node.

Small alert sets are drawn one marker per alert with the alert's details on hover.
Large ones are binned first (time bucket x lane x priority) and each bin is drawn as
one marker sized by its count, so a million alerts cost a few thousand points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from falco_lab.analysis._html import label
from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema, column, group_values
from falco_lab.events.charts import (
    choose_freq,
    no_events_figure,
    timeline_by_priority,
    timeline_by_priority_from_table,
)
from falco_lab.priorities import PRIORITIES, PRIORITY_COLORS

#: Default bound on the markers of a binned timeline (see :func:`cell_bins`).
MAX_CELLS = 3000

__all__ = [
    "bin_alerts",
    "empty_figure",
    "priority_counts_figure",
    "priority_counts_figure_from_table",
    "timeline_figure",
    "timeline_figure_from_bins",
]

RefTimes = Mapping[str, object] | Iterable[object] | None


def empty_figure(message: str, title: str = "") -> go.Figure:
    """A figure that says ``message`` instead of data (the events charts' empty figure)."""
    return no_events_figure(title, message)


def _limit_groups(values: pd.Series, max_groups: int) -> pd.Series:
    counts = values.value_counts()
    if len(counts) <= max_groups:
        return values
    keep = counts.index[: max_groups - 1]
    other = f"(other {len(counts) - len(keep)} groups)"
    return values.where(values.isin(keep), other)


def bin_alerts(
    df: pd.DataFrame,
    group_by: str = "rule",
    *,
    freq: str | None = None,
    max_bins: int = 200,
    max_groups: int = 40,
    schema: AlertSchema = DEFAULT_SCHEMA,
) -> pd.DataFrame:
    """Count alerts per time bucket, lane and priority.

    Returns
    -------
    pandas.DataFrame
        Columns ``bucket`` (bucket start, UTC), ``group``, ``priority``, ``count``,
        ``first`` and ``last`` (times of the first/last alert in the cell) and
        ``rule`` (the most frequent rule of the cell); the bucket width is in
        ``result.attrs["freq"]``.
    """
    columns = ["bucket", "group", "priority", "count", "first", "last", "rule"]
    if df.empty:
        out = pd.DataFrame({c: [] for c in columns})
        out.attrs["freq"] = freq
        return out
    times = df["time"]
    freq = freq or choose_freq(times, max_bins)
    frame = pd.DataFrame(
        {
            "bucket": times.dt.floor(freq),
            "group": _limit_groups(group_values(df, group_by, schema), max_groups),
            "priority": df["priority"].astype("string").fillna("(none)"),
            "time": times,
            "rule": column(df, "rule").fillna("(none)"),
        }
    )
    keys = ["bucket", "group", "priority"]
    grouped = frame.groupby(keys, sort=True, observed=True)
    out = grouped["time"].agg(count="size", first="min", last="max").reset_index()
    top_rule = (
        frame.groupby([*keys, "rule"], sort=False, observed=True)
        .size()
        .rename("n")
        .reset_index()
        .sort_values("n", ascending=False, kind="stable")
        .drop_duplicates(keys)
    )
    out = out.merge(top_rule[[*keys, "rule"]], on=keys, how="left")
    out.attrs["freq"] = freq
    return out[columns]


def _add_reference_lines(fig: go.Figure, ref_times: RefTimes) -> None:
    if ref_times is None:
        return
    items = ref_times.items() if isinstance(ref_times, Mapping) else ((None, t) for t in ref_times)
    for name, when in items:
        stamp = pd.Timestamp(when)  # type: ignore[arg-type]
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        stamp = stamp.floor("us")  # plotly keeps microseconds
        fig.add_shape(
            type="line",
            xref="x",
            yref="paper",
            x0=stamp,
            x1=stamp,
            y0=0,
            y1=1,
            line={"color": "#222", "dash": "dash", "width": 1.5},
        )
        fig.add_annotation(
            x=stamp,
            y=1,
            xref="x",
            yref="paper",
            yanchor="bottom",
            showarrow=False,
            text=label(name if name is not None else f"{stamp:%Y-%m-%d %H:%M:%S}Z"),
        )


def _priority_order(present: Iterable[str]) -> list[str]:
    present = set(present)
    ordered = [p for p in reversed(PRIORITIES) if p in present]  # least severe first: drawn below
    return ordered + sorted(present - set(ordered))


def timeline_figure(
    df: pd.DataFrame,
    group_by: str = "rule",
    *,
    ref_times: RefTimes = None,
    max_points: int = 2000,
    max_bins: int = 200,
    max_groups: int = 40,
    max_cells: int = MAX_CELLS,
    title: str | None = None,
    schema: AlertSchema = DEFAULT_SCHEMA,
) -> go.Figure:
    """Timeline of alerts, one lane per ``group_by`` value, coloured by priority.

    Parameters
    ----------
    df:
        Canonical events frame.
    group_by:
        ``"rule"``, ``"pod"``, ``"namespace"``, ``"node"``, ``"container"`` or ``"priority"``.
    ref_times:
        Incident times drawn as dashed vertical lines: a mapping ``{label: time}`` or a
        list of times.
    max_points:
        Up to this many alerts are drawn one marker each; more are binned
        (see :func:`bin_alerts`) and drawn one marker per bin, sized by count.
    max_bins, max_groups:
        Upper bounds on time buckets and lanes (extra lanes are merged into "other").
    max_cells:
        Upper bound on markers (lanes x time buckets x priorities) when binning: with many
        lanes or priorities the buckets are wider, so the figure's size does not grow with
        the data's spread (about 250 bytes of hover text a marker); see :func:`cell_bins`.
    title:
        Figure title (escaped).

    Returns
    -------
    plotly.graph_objects.Figure
        With a range slider under the time axis.
    """
    if df.empty:
        return empty_figure("No events in the selection: nothing to draw on the timeline.")
    fig = go.Figure()
    if len(df) <= max_points:
        _draw_points(fig, df, group_by, max_groups, schema)
        mode_note = f"{len(df):,} alerts, one marker each"
    else:
        lanes = min(max_groups, max(int(group_values(df, group_by, schema).nunique(dropna=False)), 1))
        max_bins = cell_bins(lanes, int(df["priority"].nunique(dropna=False)), max_bins, max_cells)
        freq = _draw_bins(fig, df, group_by, max_bins, max_groups, schema)
        mode_note = f"{len(df):,} alerts in {freq} bins (marker size = count)"
    return _finish(fig, group_by, ref_times, title, mode_note)


def cell_bins(lanes: int, priorities: int, max_bins: int = 200, max_cells: int = MAX_CELLS) -> int:
    """Time buckets for a binned timeline: at most ``max_bins``, and lanes x buckets x priorities
    (one marker each) at most ``max_cells``, but never fewer than 10 buckets."""
    return max(10, min(max_bins, max_cells // max(lanes * priorities, 1)))


def timeline_figure_from_bins(
    binned: pd.DataFrame,
    group_by: str = "rule",
    *,
    total: int | None = None,
    ref_times: RefTimes = None,
    title: str | None = None,
) -> go.Figure:
    """:func:`timeline_figure` from counts already binned (the columns of :func:`bin_alerts`).

    For alerts that are not in memory (a Parquet archive aggregated by DuckDB); each bin
    is one marker sized by its count, as :func:`timeline_figure` draws large inputs.
    ``total`` is the number of alerts (default: the sum of the counts).
    """
    if binned.empty:
        return empty_figure("No events in the selection: nothing to draw on the timeline.")
    fig = go.Figure()
    freq = _draw_binned(fig, binned)
    total = int(binned["count"].sum()) if total is None else total
    return _finish(fig, group_by, ref_times, title, f"{total:,} alerts in {freq} bins (marker size = count)")


def _finish(
    fig: go.Figure, group_by: str, ref_times: RefTimes, title: str | None, mode_note: str
) -> go.Figure:
    _add_reference_lines(fig, ref_times)
    lanes = len({y for trace in fig.data for y in trace.y})
    fig.update_layout(
        title=label(title or f"Alerts by {group_by}") + f"<br><sub>{label(mode_note)}</sub>",
        template="plotly_white",
        height=min(1400, 260 + 24 * lanes),
        legend={"title": {"text": "priority"}, "traceorder": "reversed"},
        hovermode="closest",
        margin={"l": 20, "r": 20, "t": 80, "b": 20},
    )
    fig.update_xaxes(title="time (UTC)", rangeslider={"visible": True}, type="date")
    fig.update_yaxes(title=group_by, type="category", automargin=True, categoryorder="category descending")
    return fig


def _draw_points(
    fig: go.Figure, df: pd.DataFrame, group_by: str, max_groups: int, schema: AlertSchema
) -> None:
    groups = _limit_groups(group_values(df, group_by, schema), max_groups)
    priority = df["priority"].astype("string").fillna("(none)")
    pod = column(df, schema.pod).fillna("")
    ns = column(df, schema.namespace).fillna("")
    cmd = column(df, schema.cmdline).fillna("")
    for prio in _priority_order(priority.unique()):
        sel = (priority == prio).to_numpy()
        part = df.loc[sel]
        hover = [
            "<br>".join(
                part_text
                for part_text in (
                    f"{t:%Y-%m-%d %H:%M:%S.%f}Z",
                    f"<b>{label(r, 120)}</b> ({label(prio)})",
                    f"pod: {label(n) + '/' if n else ''}{label(p)}" if p else f"node: {label(h)}",
                    f"cmdline: {label(c, 160)}" if c else "",
                    label(o, 200),
                )
                if part_text
            )
            for t, r, p, n, h, c, o in zip(
                part["time"],
                column(part, "rule"),
                pod[sel],
                ns[sel],
                column(part, "hostname"),
                cmd[sel],
                column(part, "output"),
                strict=True,
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=part["time"],
                y=[label(g, 80) for g in groups[sel]],
                mode="markers",
                name=prio,
                marker={
                    "color": PRIORITY_COLORS.get(prio, "#999"),
                    "size": 9,
                    "line": {"color": "#333", "width": 1},
                },
                hovertext=hover,
                hoverinfo="text",
            )
        )


def _draw_bins(
    fig: go.Figure, df: pd.DataFrame, group_by: str, max_bins: int, max_groups: int, schema: AlertSchema
) -> str:
    binned = bin_alerts(df, group_by, max_bins=max_bins, max_groups=max_groups, schema=schema)
    return _draw_binned(fig, binned)


def _draw_binned(fig: go.Figure, binned: pd.DataFrame) -> str:
    freq = binned.attrs["freq"]
    width = pd.Timedelta(freq)
    biggest = max(int(binned["count"].max()), 1)
    for prio in _priority_order(binned["priority"].unique()):
        part = binned[binned["priority"] == prio]
        sizes = 6 + 22 * np.sqrt(part["count"].to_numpy() / biggest)
        hover = [
            f"<b>{label(g, 80)}</b><br>{b:%Y-%m-%d %H:%M:%S}Z + {freq}<br>{label(prio)}: {c:,} alerts"
            f"<br>first {f:%H:%M:%S}Z, last {la:%H:%M:%S}Z<br>top rule: {label(r, 100)}"
            for g, b, c, f, la, r in zip(
                part["group"],
                part["bucket"],
                part["count"],
                part["first"],
                part["last"],
                part["rule"],
                strict=True,
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=part["bucket"] + width / 2,
                y=[label(g, 80) for g in part["group"]],
                mode="markers",
                name=prio,
                marker={
                    "color": PRIORITY_COLORS.get(prio, "#999"),
                    "size": sizes,
                    "line": {"color": "#333", "width": 1},
                },
                hovertext=hover,
                hoverinfo="text",
            )
        )
    return freq


def priority_counts_figure(
    df: pd.DataFrame, *, max_bins: int = 120, ref_times: RefTimes = None, title: str = "Alerts by priority"
) -> go.Figure:
    """Stacked alert counts per time bin and priority (``falco_lab.events`` chart) with incident lines.

    Each bar covers its whole bin: it is drawn at the bin's middle (bin start + width/2)
    with the bin's width, so an incident marker inside a bin falls inside that bin's bar
    (plotly would otherwise centre the bar on the bin's start).
    """
    if df.empty:
        return empty_figure("No events in the selection.", title)
    freq = choose_freq(df["time"], max_bins)
    fig = timeline_by_priority(df, freq=freq, title=title)
    width = pd.Timedelta(freq)
    for trace in fig.data:
        starts = [pd.Timestamp(x) for x in trace.x]
        trace.update(
            x=[start + width / 2 for start in starts],
            width=width.total_seconds() * 1000,  # a date axis measures bar widths in ms
            customdata=[f"{start:%Y-%m-%d %H:%M:%S}Z" for start in starts],
            hovertemplate=f"bin of {freq} from %{{customdata}}: %{{y}}<extra>{label(trace.name)}</extra>",
        )
    _add_reference_lines(fig, ref_times)
    return fig


def priority_counts_figure_from_table(
    table: pd.DataFrame, freq: str, *, ref_times: RefTimes = None, title: str = "Alerts by priority"
) -> go.Figure:
    """:func:`priority_counts_figure` from counts: ``table`` has one row per bin start (UTC) and one
    column of counts per priority (for alerts aggregated outside pandas, e.g. by DuckDB)."""
    if table.empty:
        return empty_figure("No events in the selection.", title)
    fig = timeline_by_priority_from_table(table, freq, title=title)
    _add_reference_lines(fig, ref_times)
    return fig
