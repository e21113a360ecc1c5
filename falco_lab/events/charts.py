"""plotly figures of the canonical events frame (the falcosidekick-ui dashboard, and more).

Every function takes the frame returned by ``load_events`` and returns a
``plotly.graph_objects.Figure``.  An empty frame (or one without the needed column)
gives a figure that says so instead of raising.  Figures are deterministic: fixed
category orders (priorities most severe first, then counts descending and names
ascending), fixed colours per priority, no random ids, so notebook outputs compare
equal between runs.  A frame with ``attrs["simulated"]`` true gets "(simulated)" in
its titles.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from falco_lab.events.schema import SIMULATED_ATTR
from falco_lab.priorities import PRIORITIES, PRIORITY_COLORS

#: Candidate bin widths for timelines, smallest first.
TIMELINE_FREQS: tuple[str, ...] = ("1s", "10s", "1min", "5min", "15min", "1h", "6h", "1D", "7D")
_NAMESPACE = "k8s.ns.name"
_POD = "k8s.pod.name"
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 60, "b": 50}}


def _title(frame: pd.DataFrame, title: str) -> str:
    return f"{title} (simulated)" if frame.attrs.get(SIMULATED_ATTR) else title


def no_events_figure(title: str, message: str = "No events") -> go.Figure:
    """A figure with ``title`` and a centred ``message`` instead of data."""
    figure = go.Figure(layout={**_LAYOUT, "title": {"text": title}})
    figure.add_annotation(
        text=message,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 18, "color": "#666"},
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def _ranked(values: pd.Series, top: int | None) -> pd.Series:
    counts = values.dropna().astype(str).value_counts()
    ordered = (
        counts.rename_axis("value")
        .reset_index(name="count")
        .sort_values(["count", "value"], ascending=[False, True], kind="stable")
    )
    series = pd.Series(ordered["count"].to_numpy(), index=ordered["value"].to_numpy())
    return series if top is None else series.iloc[:top]


def _bar(counts: pd.Series, title: str, axis: str, horizontal: bool) -> go.Figure:
    labels, values = [str(v) for v in counts.index], [int(v) for v in counts.to_numpy()]
    if horizontal:
        trace = go.Bar(
            x=values[::-1],
            y=labels[::-1],
            orientation="h",
            name="events",
            marker={"color": "#4c78a8"},
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
        layout = {
            "xaxis": {"title": {"text": "events"}},
            "yaxis": {"title": {"text": axis}, "automargin": True},
        }
    else:
        trace = go.Bar(
            x=labels,
            y=values,
            name="events",
            marker={"color": "#4c78a8"},
            hovertemplate="%{x}: %{y}<extra></extra>",
        )
        layout = {"xaxis": {"title": {"text": axis}}, "yaxis": {"title": {"text": "events"}}}
    return go.Figure(data=[trace], layout={**_LAYOUT, **layout, "title": {"text": title}})


def _counts_chart(
    frame: pd.DataFrame, column: str, title: str, top: int | None, horizontal: bool
) -> go.Figure:
    title = _title(frame, title)
    if column not in frame.columns or frame[column].notna().sum() == 0:
        message = "No events" if frame.empty else f"No {column!r} values in these events"
        return no_events_figure(title, message)
    return _bar(_ranked(frame[column], top), title, column, horizontal)


def counts_by_priority(frame: pd.DataFrame, title: str = "Events by priority") -> go.Figure:
    """Bar per priority, most severe first, all eight shown, in the priority's colour."""
    title = _title(frame, title)
    if frame.empty:
        return no_events_figure(title)
    counts = frame["priority"].astype(str).value_counts()
    values = [int(counts.get(p, 0)) for p in PRIORITIES]
    trace = go.Bar(
        x=list(PRIORITIES),
        y=values,
        marker={"color": [PRIORITY_COLORS[p] for p in PRIORITIES]},
        name="events",
        hovertemplate="%{x}: %{y}<extra></extra>",
    )
    return go.Figure(
        data=[trace],
        layout={
            **_LAYOUT,
            "title": {"text": title},
            "xaxis": {"title": {"text": "priority"}},
            "yaxis": {"title": {"text": "events"}},
        },
    )


def counts_by_rule(frame: pd.DataFrame, top: int | None = 20, title: str = "Events by rule") -> go.Figure:
    """Horizontal bars of the ``top`` rules by count."""
    return _counts_chart(frame, "rule", title, top, horizontal=True)


def counts_by_source(frame: pd.DataFrame, title: str = "Events by source") -> go.Figure:
    """Bar per event source (``syscall``, ``k8s_audit`` ...)."""
    return _counts_chart(frame, "source", title, None, horizontal=False)


def counts_by_hostname(
    frame: pd.DataFrame, top: int | None = 20, title: str = "Events by hostname"
) -> go.Figure:
    """Horizontal bars of the ``top`` hostnames (nodes) by count."""
    return _counts_chart(frame, "hostname", title, top, horizontal=True)


def counts_by_tag(frame: pd.DataFrame, top: int | None = 20, title: str = "Events by tag") -> go.Figure:
    """Horizontal bars of the ``top`` tags; an event counts once for each of its tags."""
    title = _title(frame, title)
    tags = frame["tags"].explode() if "tags" in frame.columns and len(frame) else pd.Series([], dtype=object)
    if tags.notna().sum() == 0:
        return no_events_figure(title, "No events" if frame.empty else "No tags in these events")
    return _bar(_ranked(tags, top), title, "tag", horizontal=True)


def top_namespaces(frame: pd.DataFrame, top: int = 10, title: str = "Top namespaces") -> go.Figure:
    """Horizontal bars of the namespaces (``k8s.ns.name``) with the most events."""
    return _counts_chart(frame, _NAMESPACE, title, top, horizontal=True)


def top_pods(frame: pd.DataFrame, top: int = 10, title: str = "Top pods") -> go.Figure:
    """Horizontal bars of the pods (``namespace/pod``) with the most events."""
    title = _title(frame, title)
    if _POD not in frame.columns or frame[_POD].notna().sum() == 0:
        return no_events_figure(title, "No events" if frame.empty else f"No {_POD!r} values in these events")
    pods = frame[_POD].astype("string")
    if _NAMESPACE in frame.columns:
        pods = frame[_NAMESPACE].astype("string").fillna("?") + "/" + pods
    return _bar(_ranked(pods, top), title, "namespace/pod", horizontal=True)


def choose_freq(times: pd.Series, max_bins: int = 60) -> str:
    """The smallest bin width in :data:`TIMELINE_FREQS` giving at most ``max_bins`` bins."""
    span = times.max() - times.min() if len(times) else pd.Timedelta(0)
    for freq in TIMELINE_FREQS:
        if span / pd.Timedelta(freq) <= max_bins:
            return freq
    return TIMELINE_FREQS[-1]


def _timeline(
    frame: pd.DataFrame,
    column: str,
    order: list[str],
    colors: dict[str, str] | None,
    title: str,
    freq: str | None,
) -> go.Figure:
    title = _title(frame, title)
    if frame.empty:
        return no_events_figure(title)
    freq = freq or choose_freq(frame["time"])
    bins = frame["time"].dt.floor(freq)
    keys = frame[column].astype("string").fillna("(none)")
    table = pd.crosstab(bins, keys).sort_index()
    return _stacked(table, column, order, colors, title, freq)


def _stacked(
    table: pd.DataFrame, column: str, order: list[str], colors: dict[str, str] | None, title: str, freq: str
) -> go.Figure:
    traces = []
    for name in [o for o in order if o in table.columns] + sorted(c for c in table.columns if c not in order):
        marker = {"color": colors[name]} if colors and name in colors else {}
        traces.append(
            go.Bar(
                x=list(table.index),
                y=[int(v) for v in table[name]],
                name=str(name),
                marker=marker,
                hovertemplate="%{x}: %{y}<extra>" + str(name) + "</extra>",
            )
        )
    layout = {
        **_LAYOUT,
        "title": {"text": f"{title} (bins of {freq})"},
        "barmode": "stack",
        "xaxis": {"title": {"text": "time (UTC)"}},
        "yaxis": {"title": {"text": "events"}},
        "legend": {"title": {"text": column}},
    }
    return go.Figure(data=traces, layout=layout)


def timeline_by_priority(
    frame: pd.DataFrame, freq: str | None = None, title: str = "Timeline by priority"
) -> go.Figure:
    """Stacked event counts per time bin and priority (``freq`` e.g. ``"1min"``; default: automatic)."""
    return _timeline(frame, "priority", list(PRIORITIES), PRIORITY_COLORS, title, freq)


def timeline_by_priority_from_table(
    table: pd.DataFrame, freq: str, title: str = "Timeline by priority"
) -> go.Figure:
    """:func:`timeline_by_priority` from counts: one row per bin start, one column per priority."""
    if table.empty:
        return no_events_figure(title)
    return _stacked(table.sort_index(), "priority", list(PRIORITIES), PRIORITY_COLORS, title, freq)


def timeline_by_source(
    frame: pd.DataFrame, freq: str | None = None, title: str = "Timeline by source"
) -> go.Figure:
    """Stacked event counts per time bin and source."""
    return _timeline(frame, "source", [], None, title, freq)


def rule_hour_heatmap(
    frame: pd.DataFrame, top: int | None = 20, title: str = "Events per rule and hour of day (UTC)"
) -> go.Figure:
    """Heatmap: the ``top`` rules (rows, most frequent on top) over time.

    Data spanning a day or more: by hour of day 0-23 (UTC), where jobs and probes show as
    stripes.  Shorter data: over its own span, in bins of :func:`choose_freq` (at most 30),
    so two hours of data are not drawn as 22 empty columns.
    """
    if frame.empty:
        return no_events_figure(_title(frame, title))
    rules = list(_ranked(frame["rule"], top).index)
    subset = frame.loc[frame["rule"].isin(rules)]
    times = frame["time"]
    if times.max() - times.min() >= pd.Timedelta("1D"):
        columns: pd.Series = subset["time"].dt.hour
        x: list[object] = list(range(24))
        axis, hover, dtick = "hour of day (UTC)", "hour %{x}", 1
    else:
        freq = choose_freq(times, max_bins=30)
        columns = subset["time"].dt.floor(freq)
        x = list(pd.date_range(times.min().floor(freq), times.max().floor(freq), freq=freq))
        axis, hover, dtick = f"time (UTC), bins of {freq}", "%{x}", None
        if title == "Events per rule and hour of day (UTC)":
            title = f"Events per rule over time (bins of {freq})"
    table = pd.crosstab(subset["rule"].astype(str), columns).reindex(index=rules, columns=x, fill_value=0)
    trace = go.Heatmap(
        z=table.to_numpy().tolist(),
        x=x,
        y=rules,
        colorscale="Reds",
        hovertemplate="%{y}<br>" + hover + ": %{z}<extra></extra>",
        colorbar={"title": {"text": "events"}},
    )
    xaxis: dict[str, object] = {"title": {"text": axis}}
    if dtick is not None:
        xaxis["dtick"] = dtick
    layout = {
        **_LAYOUT,
        "title": {"text": _title(frame, title)},
        "xaxis": xaxis,
        "yaxis": {"autorange": "reversed", "automargin": True},
    }
    return go.Figure(data=[trace], layout=layout)
