"""MITRE ATT&CK view of alerts: rule tags → tactics and techniques, matrix, coverage.

Falco rules carry ATT&CK in their ``tags``: tactics as ``mitre_<tactic>`` (e.g.
``mitre_privilege_escalation``) or as ids (``TA0004``), techniques as ``T1611`` or
sub-techniques as ``T1059.004``.  The tactic and technique names come from
``data/mitre_attack.json`` (ids and names only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc

from falco_lab.analysis._html import label
from falco_lab.analysis.timeline import empty_figure

__all__ = [
    "NO_TECHNIQUE",
    "SUMMARY_COLUMNS",
    "MitreTags",
    "Tactic",
    "Technique",
    "coverage",
    "coverage_figure",
    "matrix_figure",
    "mitre_matrix",
    "mitre_summary",
    "mitre_summary_from_counts",
    "parse_tags",
    "tactics",
    "technique",
]

#: The columns of :func:`mitre_summary`, in order.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "tactic_id",
    "tactic",
    "technique",
    "technique_name",
    "alerts",
    "rules",
    "first_seen",
    "last_seen",
)
#: Row label of alerts whose rule names a tactic but no technique.
NO_TECHNIQUE = "(tactic only)"
_NO_TACTIC = "unmapped"

_TECHNIQUE_RE = re.compile(r"^T\d{4}(?:\.\d{3})?$", re.IGNORECASE)
_TACTIC_ID_RE = re.compile(r"^TA\d{4}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Tactic:
    """An ATT&CK tactic: ``id`` (``TA0004``), ``name`` and Falco's tag ``shortname``."""

    id: str
    name: str
    shortname: str

    @property
    def tag(self) -> str:
        """The Falco tag for this tactic, e.g. ``mitre_privilege_escalation``."""
        return f"mitre_{self.shortname}"


@dataclass(frozen=True, slots=True)
class Technique:
    """An ATT&CK (sub-)technique: ``id``, ``name`` and the shortnames of its tactics."""

    id: str
    name: str
    tactics: tuple[str, ...]

    @property
    def full_name(self) -> str:
        """``"Parent: Sub"`` for a sub-technique whose parent is known, else ``name``."""
        parent_id = self.id.split(".")[0]
        if parent_id != self.id:
            parent = technique(parent_id)
            if parent is not None:
                return f"{parent.name}: {self.name}"
        return self.name


@dataclass(frozen=True, slots=True)
class MitreTags:
    """ATT&CK content of one rule's tags.

    ``tactics`` are shortnames in matrix order, ``techniques`` ids in tag order;
    ``unknown`` holds tags that look like ATT&CK but are not in the data file.
    """

    tactics: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()

    def pairs(self) -> list[tuple[str, str]]:
        """(tactic shortname, technique id or :data:`NO_TECHNIQUE`) cells of the matrix.

        A technique goes under the rule's tactics that ATT&CK lists for it; when they
        share none, under the rule's tactics; with no tactic tag, under ATT&CK's tactics
        for it (``"unmapped"`` for a technique the data file does not know).  A tactic
        tag that received no technique gets one :data:`NO_TECHNIQUE` cell.
        """
        cells: list[tuple[str, str]] = []
        used: set[str] = set()
        for tech_id in self.techniques:
            info = technique(tech_id)
            known = info.tactics if info is not None else ()
            shared = [t for t in self.tactics if t in known]
            targets = shared or list(self.tactics) or list(known) or [_NO_TACTIC]
            for tactic in targets:
                cells.append((tactic, tech_id))
                used.add(tactic)
        cells.extend((tactic, NO_TECHNIQUE) for tactic in self.tactics if tactic not in used)
        return cells


@cache
def _data() -> tuple[tuple[Tactic, ...], dict[str, Technique]]:
    raw = json.loads(
        resources.files("falco_lab.analysis").joinpath("data/mitre_attack.json").read_text("utf-8")
    )
    tactic_list = tuple(Tactic(t["id"], t["name"], t["shortname"]) for t in raw["tactics"])
    techniques = {k: Technique(k, v["name"], tuple(v["tactics"])) for k, v in raw["techniques"].items()}
    return tactic_list, techniques


def tactics() -> tuple[Tactic, ...]:
    """All ATT&CK Enterprise tactics in matrix order."""
    return _data()[0]


def technique(tech_id: str) -> Technique | None:
    """The technique ``tech_id`` (``T1059``, ``T1059.004``), or None if unknown."""
    return _data()[1].get(tech_id.upper())


@cache
def _tactic_lookup() -> dict[str, str]:
    lookup = {}
    for t in tactics():
        lookup[t.shortname] = t.shortname
        lookup[t.id] = t.shortname
    return lookup


def _tactic_order() -> dict[str, int]:
    return {t.shortname: i for i, t in enumerate(tactics())}


def parse_tags(tags: Iterable[str] | None) -> MitreTags:
    """Split a rule's tags into ATT&CK tactics and techniques.

    Examples
    --------
    >>> parse_tags(["maturity_stable", "container", "mitre_execution", "T1059"])
    MitreTags(tactics=('execution',), techniques=('T1059',), unknown=())
    """
    if tags is None or isinstance(tags, str):
        tags = [] if tags is None else [tags]
    lookup = _tactic_lookup()
    found_tactics: set[str] = set()
    techniques: list[str] = []
    unknown: list[str] = []
    for raw in tags:
        tag = str(raw).strip()
        lower = tag.lower()
        if lower.startswith("mitre_") or _TACTIC_ID_RE.match(tag):
            short = lookup.get(lower[len("mitre_") :] if lower.startswith("mitre_") else tag.upper())
            if short:
                found_tactics.add(short)
            else:
                unknown.append(tag)
        elif _TECHNIQUE_RE.match(tag):
            tech_id = tag.upper()
            if tech_id not in techniques:
                techniques.append(tech_id)
            if technique(tech_id) is None:
                unknown.append(tag)
    order = _tactic_order()
    return MitreTags(tuple(sorted(found_tactics, key=order.__getitem__)), tuple(techniques), tuple(unknown))


def _tag_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return tuple(str(v) for v in value)
    if isinstance(value, str) and value:
        return tuple(t.strip() for t in value.split(","))
    return ()


def _tag_sets(df: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Integer code of each alert's tag set and the distinct tag sets (computed once each)."""
    if "tags" not in df.columns or df.empty:
        return np.zeros(len(df), dtype=np.int64), [()]
    tags = df["tags"]
    values = tags.to_numpy(dtype=object)
    try:  # fast path: list-like tags, joined in Arrow (no Python loop over a million rows)
        if any(isinstance(v, str) for v in values):
            raise TypeError("tags given as strings")
        joined = pc.binary_join(pa.array(values, type=pa.list_(pa.string())), "\x1f")
        codes, uniques = pd.factorize(pd.Series(joined.to_pandas(), dtype="string").fillna(""), sort=False)
        return codes, [tuple(u.split("\x1f")) if u else () for u in uniques]
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        codes, uniques = pd.factorize(tags.map(_tag_tuple), sort=False)
        return codes, list(uniques)


def mitre_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Alerts per ATT&CK (tactic, technique) cell.

    Returns
    -------
    pandas.DataFrame
        Columns ``tactic_id``, ``tactic``, ``technique`` (id or :data:`NO_TECHNIQUE`),
        ``technique_name``, ``alerts``, ``rules`` (comma-separated), ``first_seen``,
        ``last_seen``; in matrix order.  An alert whose rule maps to several cells is
        counted in each.
    """
    columns = list(SUMMARY_COLUMNS)
    if df.empty:
        return pd.DataFrame({c: [] for c in columns})
    codes, sets = _tag_sets(df)
    rule_codes, rule_names = pd.factorize(df["rule"], use_na_sentinel=False)
    per_set = pd.DataFrame({"code": codes, "time": df["time"].to_numpy(), "rule": rule_codes})
    stats = per_set.groupby("code")["time"].agg(["size", "min", "max"])
    pairs = per_set[["code", "rule"]].drop_duplicates()
    names = [str(r) for r in rule_names]
    rules = pairs.groupby("code")["rule"].agg(lambda r: sorted(names[i] for i in r))
    rows = []
    for code, tag_set in enumerate(sets):
        if code not in stats.index:
            continue
        for tactic, tech in parse_tags(tag_set).pairs():
            rows.append(
                (
                    tactic,
                    tech,
                    int(stats.at[code, "size"]),  # type: ignore[arg-type]
                    rules[code],
                    stats.at[code, "min"],
                    stats.at[code, "max"],
                )
            )
    if not rows:
        return pd.DataFrame({c: [] for c in columns})
    return _summary_cells(rows)


def mitre_summary_from_counts(groups: pd.DataFrame) -> pd.DataFrame:
    """:func:`mitre_summary` from alerts already counted per rule and tag list.

    ``groups`` has the columns ``rule``, ``tags`` (a tuple or list of tags), ``alerts``,
    ``first_seen`` and ``last_seen`` (e.g. a GROUP BY over a Parquet archive).
    """
    columns = list(SUMMARY_COLUMNS)
    rows = []
    for rule, tags, alerts, first, last in zip(
        groups["rule"],
        groups["tags"],
        groups["alerts"],
        groups["first_seen"],
        groups["last_seen"],
        strict=True,
    ):
        for tactic, tech in parse_tags(_tag_tuple(tags)).pairs():
            rows.append((tactic, tech, int(alerts), [str(rule)], first, last))
    if not rows:
        return pd.DataFrame({c: [] for c in columns})
    return _summary_cells(rows)


def _summary_cells(rows: list[tuple]) -> pd.DataFrame:
    """(tactic, technique, alerts, rules, first, last) rows -> the :func:`mitre_summary` table."""
    columns = list(SUMMARY_COLUMNS)
    cells = pd.DataFrame(rows, columns=["tactic", "technique", "alerts", "rules", "first_seen", "last_seen"])
    out = (
        cells.groupby(["tactic", "technique"], sort=False)
        .agg(
            alerts=("alerts", "sum"),
            rules=("rules", lambda lists: ", ".join(sorted({r for rl in lists for r in rl}))),
            first_seen=("first_seen", "min"),
            last_seen=("last_seen", "max"),
        )
        .reset_index()
    )
    by_short = {t.shortname: t for t in tactics()}
    order = _tactic_order()
    out["tactic_id"] = out["tactic"].map(lambda s: by_short[s].id if s in by_short else "")
    out["technique_name"] = out["technique"].map(_technique_label)
    out["_order"] = out["tactic"].map(lambda s: order.get(s, len(order)))
    out["tactic"] = out["tactic"].map(lambda s: by_short[s].name if s in by_short else s)
    out = out.sort_values(["_order", "alerts", "technique"], ascending=[True, False, True], kind="stable")
    return out[columns].reset_index(drop=True)


def _technique_label(tech_id: str) -> str:
    if tech_id == NO_TECHNIQUE:
        return "(no technique tag)"
    info = technique(tech_id)
    return info.full_name if info is not None else "(not in falco-lab's ATT&CK data)"


def mitre_matrix(df: pd.DataFrame | None = None, *, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts of alerts as a technique x tactic table (tactics in ATT&CK matrix order).

    Rows are labelled ``"T1059 Command and Scripting Interpreter"``; only tactics and
    techniques that occur are present.  Empty input gives an empty table.  Pass a
    :func:`mitre_summary` already computed as ``summary=`` to skip recomputing it.
    """
    if summary is None:
        if df is None:
            raise TypeError("mitre_matrix needs the alerts or a summary")
        summary = mitre_summary(df)
    summary = summary.copy()
    if summary.empty:
        return pd.DataFrame()
    summary["row"] = summary["technique"] + " " + summary["technique_name"]
    summary.loc[summary["technique"] == NO_TECHNIQUE, "row"] = NO_TECHNIQUE
    matrix = summary.pivot_table(index="row", columns="tactic", values="alerts", aggfunc="sum", fill_value=0)
    names = [t.name for t in tactics()]
    cols = [c for c in names if c in matrix.columns] + [c for c in matrix.columns if c not in names]
    return matrix[cols].sort_index()


def coverage(
    rules: Iterable[object], df: pd.DataFrame | None = None, *, summary: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Which techniques the loaded rules can detect at all, versus what the alerts show.

    Parameters
    ----------
    rules:
        Rule objects with ``name`` and ``tags`` (e.g. the rules of a loaded rule set;
        rules whose ``enabled`` attribute is false are skipped).
    df:
        Alerts (optional); their rule tags give the ``alerts`` column.
    summary:
        :func:`mitre_summary` of the alerts, if already computed (instead of ``df``).

    Returns
    -------
    pandas.DataFrame
        One row per technique tagged by a rule or an alert: ``technique``, ``name``,
        ``tactics``, ``rules`` (names of enabled rules tagging it), ``n_rules``,
        ``alerts`` and ``status``: ``"seen"`` (alerts present), ``"detectable"`` (a rule
        covers it, no alert) or ``"seen, no loaded rule"``.
    """
    detectors: dict[str, set[str]] = {}
    for rule in rules:
        if not getattr(rule, "enabled", True):
            continue
        for tech in parse_tags(_tag_tuple(getattr(rule, "tags", ()))).techniques:
            detectors.setdefault(tech, set()).add(str(getattr(rule, "name", rule)))
    seen: dict[str, int] = {}
    seen_tactics: dict[str, set[str]] = {}
    if summary is None and df is not None and not df.empty:
        summary = mitre_summary(df)
    if summary is not None and not summary.empty:
        for tech, count, tactic in zip(
            summary["technique"], summary["alerts"], summary["tactic"], strict=True
        ):
            if tech != NO_TECHNIQUE:
                seen[tech] = max(seen.get(tech, 0), int(count))
                seen_tactics.setdefault(tech, set()).add(tactic)
    by_short = {t.shortname: t.name for t in tactics()}
    rows = []
    for tech in sorted(set(detectors) | set(seen)):
        info = technique(tech)
        tactic_names = (
            [by_short.get(t, t) for t in info.tactics] if info else sorted(seen_tactics.get(tech, ()))
        )
        n_alerts = seen.get(tech, 0)
        names = sorted(detectors.get(tech, ()))
        status = "seen" if n_alerts and names else ("seen, no loaded rule" if n_alerts else "detectable")
        rows.append(
            (
                tech,
                _technique_label(tech),
                ", ".join(tactic_names),
                ", ".join(names),
                len(names),
                n_alerts,
                status,
            )
        )
    return pd.DataFrame(
        rows, columns=["technique", "name", "tactics", "rules", "n_rules", "alerts", "status"]
    )


def matrix_figure(
    df: pd.DataFrame | None = None, title: str | None = None, *, summary: pd.DataFrame | None = None
) -> go.Figure:
    """Heat map of :func:`mitre_matrix`: techniques x tactics, cell text = alert count."""
    matrix = mitre_matrix(df, summary=summary)
    if matrix.empty:
        return empty_figure("No ATT&CK tags on the selected alerts.")
    z = matrix.to_numpy()
    text = [[f"{v:,}" if v else "" for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=np.where(z > 0, np.log10(np.maximum(z, 1)) + 1, np.nan),
            x=[label(c) for c in matrix.columns],
            y=[label(r, 70) for r in matrix.index],
            text=text,
            texttemplate="%{text}",
            customdata=z,
            hovertemplate="%{y}<br>%{x}: %{customdata:,} alerts<extra></extra>",
            colorscale="OrRd",
            showscale=False,
            xgap=2,
            ygap=2,
        )
    )
    return _grid_layout(
        fig,
        title=label(title or "MITRE ATT&CK: alerts per technique and tactic"),
        height=min(1200, 260 + 28 * len(matrix)),
        top=140,
    )


def _grid_layout(fig: go.Figure, *, title: str, height: int, top: int) -> go.Figure:
    """The layout of a technique x tactic grid: tactics on top, first technique first."""
    fig.update_layout(
        title=title, template="plotly_white", height=height, margin={"l": 10, "r": 10, "t": top, "b": 10}
    )
    fig.update_xaxes(side="top", tickangle=-30)
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def coverage_figure(cov: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Technique x tactic grid of :func:`coverage`: seen (red), detectable only (blue)."""
    if cov.empty:
        return empty_figure("No ATT&CK technique is tagged by the loaded rules or the alerts.")
    names = [t.name for t in tactics()]
    rows = [f"{t} {n}" for t, n in zip(cov["technique"], cov["name"], strict=True)]
    present = {c.strip() for tl in cov["tactics"] for c in tl.split(",") if c.strip()}
    cols = [n for n in names if n in present] + sorted(present - set(names))
    z = np.full((len(rows), len(cols)), np.nan)
    hover = [["" for _ in cols] for _ in rows]
    level = {"detectable": 1.0, "seen": 2.0, "seen, no loaded rule": 3.0}
    for i, row in enumerate(cov.itertuples(index=False)):
        for tactic in (c.strip() for c in str(row.tactics).split(",")):
            if tactic in cols:
                j = cols.index(tactic)
                z[i, j] = level[str(row.status)]
                hover[i][j] = label(
                    f"{row.technique} {row.name!s} · {row.status} · {row.alerts:,} alerts · "
                    f"rules: {str(row.rules or 'none')}",
                    400,
                )
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[label(c) for c in cols], y=[label(r, 70) for r in rows], text=hover, hoverinfo="text",
            zmin=1, zmax=3, showscale=False, xgap=2, ygap=2,
            colorscale=[[0, "#9ecae1"], [0.49, "#9ecae1"], [0.5, "#e34a33"], [0.74, "#e34a33"], [0.75, "#756bb1"],
                        [1, "#756bb1"]],
        )
    )  # fmt: skip
    counts = cov["status"].value_counts()
    sub = (
        f"red: {int(counts.get('seen', 0))} seen · blue: {int(counts.get('detectable', 0))} detectable but not "
        f"seen · purple: {int(counts.get('seen, no loaded rule', 0))} seen without a loaded rule"
    )
    return _grid_layout(
        fig,
        title=label(title or "ATT&CK coverage of the loaded rules") + f"<br><sub>{sub}</sub>",
        height=min(1400, 290 + 22 * len(rows)),
        top=150,
    )
