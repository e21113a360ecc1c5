"""Drill-down namespace → pod → container → process, and the story of one pod."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from falco_lab.analysis._html import label
from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema, column, first_word
from falco_lab.analysis.lineage import build_process_tree, tree_to_text
from falco_lab.analysis.timeline import empty_figure
from falco_lab.priorities import PRIORITIES, PRIORITY_COLORS, PRIORITY_DTYPE

__all__ = [
    "DRILLDOWN_LEVELS",
    "SEVERITY_WEIGHTS",
    "PodStory",
    "drilldown_figure",
    "drilldown_figure_from_table",
    "drilldown_table",
    "pod_stories",
    "pod_story",
    "severity_area",
]

#: Levels of the drill-down, outermost first.
DRILLDOWN_LEVELS: tuple[str, ...] = ("namespace", "pod", "container", "process")

#: Area weight of one box per priority in the drill-down: x4 per level, Debug 1 ... Emergency 4^7.
SEVERITY_WEIGHTS: dict[str, float] = {p: 4.0 ** (len(PRIORITIES) - 1 - i) for i, p in enumerate(PRIORITIES)}

_CONNECTION_RE = re.compile(r"^\S*:\d+->\S*:\d+$")
_HOST = "(host)"


def _levels(df: pd.DataFrame, schema: AlertSchema) -> pd.DataFrame:
    container = column(df, schema.container)
    named = column(df, schema.container_name) + " (" + container + ")"
    container = named.fillna(container)
    pod = column(df, schema.pod)
    return pd.DataFrame(
        {
            "namespace": column(df, schema.namespace).fillna(_HOST),
            "pod": pod.fillna(_HOST),
            "container": container.fillna("(unknown)"),
            "process": first_word(column(df, schema.name), column(df, schema.cmdline)).fillna("(unknown)"),
            "rule": column(df, "rule"),
            "prio": df["priority"].astype(PRIORITY_DTYPE).cat.codes,
            "time": df["time"],
        },
        index=df.index,
    )


def _max_priority(codes: pd.Series) -> pd.Series:
    cats = list(PRIORITY_DTYPE.categories)
    return pd.Series([cats[c] if c >= 0 else pd.NA for c in codes], index=codes.index, dtype=PRIORITY_DTYPE)


def drilldown_table(
    df: pd.DataFrame, depth: str = "process", schema: AlertSchema = DEFAULT_SCHEMA
) -> pd.DataFrame:
    """Alert counts per namespace / pod / container / process (down to ``depth``).

    Alerts without Kubernetes metadata are grouped under ``(host)``.

    Returns
    -------
    pandas.DataFrame
        The level columns, then ``alerts``, ``rules`` (distinct rules), ``max_priority``,
        ``first_seen``, ``last_seen``; most severe and busiest first.
    """
    if depth not in DRILLDOWN_LEVELS:
        raise ValueError(f"unknown depth {depth!r}; expected one of {', '.join(DRILLDOWN_LEVELS)}")
    keys = list(DRILLDOWN_LEVELS[: DRILLDOWN_LEVELS.index(depth) + 1])
    columns = [*keys, "alerts", "rules", "max_priority", "first_seen", "last_seen"]
    if df.empty:
        return pd.DataFrame({c: [] for c in columns})
    frame = _levels(df, schema)
    out = frame.groupby(keys, sort=False).agg(
        alerts=("time", "size"), rules=("rule", "nunique"), prio=("prio", "max"),
        first_seen=("time", "min"), last_seen=("time", "max"),
    ).reset_index()  # fmt: skip
    out = out.sort_values(["prio", "alerts"], ascending=False, kind="stable").reset_index(drop=True)
    out["max_priority"] = _max_priority(out["prio"])
    return out[columns]


def severity_area(max_priority: pd.Series, alerts: pd.Series) -> pd.Series:
    """The drill-down area of process boxes: severity first, volume damped.

    ``area = SEVERITY_WEIGHTS[max_priority] * (1 + log10(alerts))``: each priority level
    weighs 4x the one below it (Notice 16, Warning 64, Error 256, Critical 1024), while
    the alert count only adds a logarithmic term (1 alert → x1, 10k alerts → x5).  So a
    process with one Critical alert (1024) outweighs one with 10,000 Notice probes
    (16 x 5 = 80).  An unknown priority weighs as Debug.
    """
    weights = max_priority.astype("string").map(SEVERITY_WEIGHTS).astype("float64").fillna(1.0)
    counts = alerts.astype("float64").clip(lower=1.0)
    return weights * (1.0 + np.log10(counts))


def drilldown_figure(
    df: pd.DataFrame, *, max_leaves: int = 300, schema: AlertSchema = DEFAULT_SCHEMA, title: str | None = None
) -> go.Figure:
    """Treemap namespace → pod → container → process, area and colour by severity.

    Colour: the box's highest priority.  Area: the sum of its processes'
    :func:`severity_area` (severity weight, alert count damped by a logarithm), so one
    Critical alert is not a sliver next to 10k Notice probes; the real alert counts are
    in the hover text and in ``customdata``.  Only the ``max_leaves`` most severe/busiest
    processes are drawn.  The rest is summed into one box per level where it leaves the
    drawn ones: ``(N more processes)`` in a drawn container, ``(N more containers)`` in a
    drawn pod, ``(N more pods)`` in a drawn namespace and ``(N more namespaces)`` at the
    top, so totals stay right and the figure has at most about ``7 * max_leaves`` boxes
    whatever the cardinality of the data.
    """
    table = drilldown_table(df, "process", schema)
    if table.empty:
        return empty_figure("No events in the selection: nothing to drill into.")
    # whole numbers (hundredths), so every parent is exactly the sum of its children
    table["area"] = (severity_area(table["max_priority"], table["alerts"]) * 100).round().astype("int64")
    if len(table) > max_leaves:
        kept = table.iloc[:max_leaves]
        table = pd.concat([kept, _fold(table.iloc[max_leaves:], kept)], ignore_index=True)
    return drilldown_figure_from_table(table, title=title)


def drilldown_figure_from_table(table: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """The treemap of :func:`drilldown_figure` from counts already grouped and capped.

    ``table`` has the columns of :func:`drilldown_table` at process depth (``rules``
    optional, ``area`` computed with :func:`severity_area` when absent), one row per box
    of the last level, e.g. aggregated by DuckDB over a Parquet archive.
    """
    if table.empty:
        return empty_figure("No events in the selection: nothing to drill into.")
    if "area" not in table.columns:
        table = table.assign(
            area=(severity_area(table["max_priority"], table["alerts"]) * 100).round().astype("int64")
        )
    ids, parents, labels, values, counts, colors, hovers = [], [], [], [], [], [], []
    keys = list(DRILLDOWN_LEVELS)
    for depth in range(len(keys)):
        level_keys = keys[: depth + 1]
        # a folded "N more" box is a leaf: its deeper levels are NA and drop out here
        agg = table.groupby(level_keys, sort=False, observed=True, dropna=True).agg(
            alerts=("alerts", "sum"), max_priority=("max_priority", "max"), area=("area", "sum"),
            first_seen=("first_seen", "min"), last_seen=("last_seen", "max"),
        ).reset_index()  # fmt: skip
        for row in agg.itertuples(index=False):
            path = [str(getattr(row, k)) for k in level_keys]
            ids.append("\x1f".join(path))
            parents.append("\x1f".join(path[:-1]))
            labels.append(label(path[-1], 50))
            values.append(int(row.area))  # type: ignore[arg-type]
            counts.append(int(row.alerts))  # type: ignore[arg-type]
            prio = row.max_priority
            colors.append(PRIORITY_COLORS.get(str(prio), "#cccccc"))
            hovers.append(
                label(f"{keys[depth]}: {path[-1]}", 120)
                + f"<br>{row.alerts:,} alerts, highest {label(prio)}"
                + f"<br>{row.first_seen:%Y-%m-%d %H:%M:%S}Z → {row.last_seen:%Y-%m-%d %H:%M:%S}Z"
            )
    fig = go.Figure(
        go.Treemap(ids=ids, parents=parents, labels=labels, values=values, customdata=counts,
                   branchvalues="total", marker={"colors": colors, "line": {"color": "#555", "width": 0.5}},
                   hovertext=hovers, hoverinfo="text", maxdepth=3)
    )  # fmt: skip
    fig.update_layout(
        title=label(
            title or "Drill-down: namespace → pod → container → process (area and colour by severity)"
        ),
        height=560,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )
    return fig


_NOUNS = {"namespace": "namespaces", "pod": "pods", "container": "containers", "process": "processes"}


def _fold(rest: pd.DataFrame, kept: pd.DataFrame) -> pd.DataFrame:
    """``rest`` summed into one "(N more ...)" row per drawn parent (see :func:`drilldown_figure`)."""
    keys = list(DRILLDOWN_LEVELS)
    joined_rest = rest[keys[0]].astype(str)
    joined_kept = kept[keys[0]].astype(str)
    depth = pd.Series(len(keys) - 1, index=rest.index)  # the level at which the row leaves the drawn boxes
    inside = pd.Series(True, index=rest.index)
    for level, key in enumerate(keys[:-1]):
        if level:
            joined_rest = joined_rest + "\x1f" + rest[key].astype(str)
            joined_kept = joined_kept + "\x1f" + kept[key].astype(str)
        known = joined_rest.isin(set(joined_kept))
        depth = depth.where(~(inside & ~known), level)
        inside &= known
    parts = []
    for level, key in enumerate(keys):
        rows = rest[(depth == level).to_numpy()]
        if rows.empty:
            continue
        parents = keys[:level]
        counted = (
            rows.groupby(parents, sort=False)[key].transform("nunique")
            if parents
            else pd.Series(rows[key].nunique(), index=rows.index)
        )
        rows = rows.assign(**{key: "(" + counted.map("{:,}".format) + f" more {_NOUNS[key]})"})
        for deeper in keys[level + 1 :]:
            rows[deeper] = pd.NA
        parts.append(
            rows.groupby(keys, sort=False, dropna=False)
            .agg(
                alerts=("alerts", "sum"),
                rules=("rules", "max"),
                max_priority=("max_priority", "max"),
                first_seen=("first_seen", "min"),
                last_seen=("last_seen", "max"),
                area=("area", "sum"),
            )
            .reset_index()  # fmt: skip
        )
    return pd.concat(parts, ignore_index=True)


@dataclass(slots=True)
class PodStory:
    """What happened in one pod, from its alerts.

    ``rules``, ``commands``, ``files`` and ``connections`` are small tables in order of
    first appearance; ``lineage`` is the pod's process tree as text.
    """

    namespace: str | None
    pod: str
    alerts: int
    first_seen: pd.Timestamp
    last_seen: pd.Timestamp
    nodes: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)
    priorities: dict[str, int] = field(default_factory=dict)
    rules: pd.DataFrame = field(default_factory=pd.DataFrame)
    commands: pd.DataFrame = field(default_factory=pd.DataFrame)
    files: pd.DataFrame = field(default_factory=pd.DataFrame)
    connections: pd.DataFrame = field(default_factory=pd.DataFrame)
    lineage: str = ""
    #: seconds between this pod's last alert and the last alert of the whole selection
    quiet_for: float = 0.0

    @property
    def title(self) -> str:
        return f"{self.namespace}/{self.pod}" if self.namespace else self.pod

    def to_text(self, max_rows: int = 15) -> str:
        """A plain-text account of the pod (not escaped)."""
        lines = [
            f"Pod {self.title}: {self.alerts} alerts from {self.first_seen:%Y-%m-%d %H:%M:%S}Z "
            f"to {self.last_seen:%Y-%m-%d %H:%M:%S}Z"
            + (
                " (still alerting at the end of the data)"
                if self.quiet_for == 0
                else f" (quiet for {self.quiet_for:.0f} s before the end of the data)"
            ),
            f"  nodes: {', '.join(self.nodes) or '-'}; containers: {', '.join(self.containers) or '-'}",
            "  priorities: " + ", ".join(f"{k} {v}" for k, v in self.priorities.items()),
        ]
        for title, table, col in (
            ("rules", self.rules, "rule"),
            ("commands", self.commands, "cmdline"),
            ("files", self.files, "file"),
            ("connections", self.connections, "connection"),
        ):
            if table.empty:
                continue
            lines.append(f"  {title}:")
            for row in table.head(max_rows).itertuples(index=False):
                lines.append(f"    {row.first_seen:%H:%M:%S}Z  x{row.alerts:<5} {getattr(row, col)}")
            if len(table) > max_rows:
                lines.append(f"    ... {len(table) - max_rows} more")
        if self.lineage:
            lines.append("  process lineage:")
            lines.extend("    " + line for line in self.lineage.splitlines())
        return "\n".join(lines)


def _first_seen_table(values: pd.Series, times: pd.Series, name: str) -> pd.DataFrame:
    frame = pd.DataFrame({name: values, "time": times}).dropna(subset=[name])
    if frame.empty:
        return pd.DataFrame({name: [], "alerts": [], "first_seen": [], "last_seen": []})
    out = (
        frame.groupby(name, sort=False)
        .agg(alerts=("time", "size"), first_seen=("time", "min"), last_seen=("time", "max"))
        .reset_index()
    )
    return out.sort_values("first_seen", kind="stable").reset_index(drop=True)


def _connections(df: pd.DataFrame, schema: AlertSchema) -> pd.Series:
    fd_name = column(df, schema.file)
    sip, sport = column(df, schema.server_ip), column(df, schema.server_port)
    rip, rport = column(df, schema.remote_ip), column(df, schema.remote_port)
    explicit = (sip + ":" + sport.fillna("?")).fillna(rip + ":" + rport.fillna("?"))
    looks_like = fd_name.where(fd_name.str.match(_CONNECTION_RE.pattern).fillna(False).astype(bool))
    return looks_like.fillna(explicit)


def pod_story(
    df: pd.DataFrame,
    pod: str,
    namespace: str | None = None,
    schema: AlertSchema = DEFAULT_SCHEMA,
    *,
    max_lineage_nodes: int = 80,
) -> PodStory | None:
    """The story of pod ``pod`` (optionally in ``namespace``); None if it has no alerts.

    Its lineage text shows at most ``max_lineage_nodes`` processes (whole trees first).
    """
    pods = column(df, schema.pod)
    mask = (pods == pod).fillna(False).astype(bool)
    if namespace is not None:
        mask &= (column(df, schema.namespace) == namespace).fillna(False).astype(bool)
    part = df.loc[mask]
    if part.empty:
        return None
    times = part["time"]
    ns_values = column(part, schema.namespace).dropna().unique()
    rules = part.assign(_prio=part["priority"].astype(PRIORITY_DTYPE).cat.codes).groupby("rule", sort=False).agg(
        alerts=("time", "size"), first_seen=("time", "min"), last_seen=("time", "max"), prio=("_prio", "max"),
    ).reset_index().sort_values("first_seen", kind="stable").reset_index(drop=True)  # fmt: skip
    rules["max_priority"] = _max_priority(rules.pop("prio"))
    fd_name = column(part, schema.file)
    connections = _connections(part, schema)
    files = fd_name.where(connections.isna() & fd_name.str.startswith("/").fillna(False).astype(bool))
    per_priority = part["priority"].astype(PRIORITY_DTYPE).value_counts()
    priorities = {str(k): int(v) for k, v in per_priority.sort_index(ascending=False).items() if v}
    return PodStory(
        namespace=namespace if namespace is not None else (str(ns_values[0]) if len(ns_values) else None),
        pod=pod,
        alerts=len(part),
        first_seen=times.min(),
        last_seen=times.max(),
        nodes=sorted(map(str, column(part, schema.node).dropna().unique())),
        containers=sorted(map(str, column(part, schema.container).dropna().unique())),
        priorities=priorities,
        rules=rules,
        commands=_first_seen_table(column(part, schema.cmdline), times, "cmdline"),
        files=_first_seen_table(files, times, "file"),
        connections=_first_seen_table(connections, times, "connection"),
        lineage=tree_to_text(build_process_tree(part, schema), max_nodes=max_lineage_nodes)
        if schema.pid in part.columns
        else "",
        quiet_for=float((df["time"].max() - times.max()) / pd.Timedelta("1s")),
    )


def pod_stories(
    df: pd.DataFrame, top: int = 5, schema: AlertSchema = DEFAULT_SCHEMA, *, max_lineage_nodes: int = 80
) -> list[PodStory]:
    """Stories of the ``top`` pods with the most severe, then most numerous, alerts.

    The returned list carries no count of the other pods; :func:`drilldown_table` at
    depth ``"pod"`` has them all.
    """
    table = drilldown_table(df, "pod", schema)
    table = table[table["pod"] != _HOST].head(top)
    stories = [
        pod_story(
            df,
            str(row.pod),
            None if row.namespace == _HOST else str(row.namespace),
            schema,
            max_lineage_nodes=max_lineage_nodes,
        )
        for row in table.itertuples(index=False)
    ]
    return [s for s in stories if s is not None]
