"""The self-contained post-mortem report: one HTML file that works offline.

plotly.js is embedded once; each figure is JSON inside a ``<script>`` element whose
``<``, ``>`` and ``&`` are ``\\u`` escapes, and every event string in the HTML is
escaped with :func:`html.escape`.  A Content-Security-Policy with a per-report nonce
lets only the report's own scripts run and forbids any network access, as a second
line of defence.  Large inputs are aggregated (timeline bins, capped tables), so the
file stays small whatever the number of alerts.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from falco_lab.analysis._html import esc, escape_script_json, shorten
from falco_lab.analysis.chains import attack_chains, routine_mask
from falco_lab.analysis.drilldown import PodStory, drilldown_figure, pod_stories
from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema, column, is_simulated
from falco_lab.analysis.findings import find_findings
from falco_lab.analysis.lineage import build_process_tree, select_subtrees, tree_figure, tree_to_text
from falco_lab.analysis.mitre import SUMMARY_COLUMNS, coverage, coverage_figure, matrix_figure, mitre_summary
from falco_lab.analysis.noise import WhatIf, similar_alerts, top_n
from falco_lab.analysis.sources import attribute, link_execs
from falco_lab.analysis.timeline import priority_counts_figure, timeline_figure
from falco_lab.priorities import PRIORITIES, PRIORITY_COLORS, PRIORITY_DTYPE

__all__ = ["ReportOptions", "build_report", "export_alerts", "write_report"]

_NO_EVENTS = "No events: the input is empty or the filters removed every alert."


@dataclass(slots=True)
class ReportOptions:
    """Knobs of :func:`build_report`.

    Attributes
    ----------
    title:
        Report title.
    simulated:
        True/False to force the "simulated data" banner; None detects simulate mode
        from the alerts (:func:`~falco_lab.analysis.fields.is_simulated`).
    ref_times:
        Incident times drawn on the timelines (``{label: time}``).
    rules:
        Loaded rules (objects with ``name`` and ``tags``) for the ATT&CK coverage view.
    group_by:
        Lanes of the timeline (``rule``, ``pod``, ``namespace``, ``node``...).
    max_table_rows:
        Up to this many alerts are listed one per row; beyond it the table is
        aggregated per rule, priority, namespace and pod.
    sources, filters:
        Shown in the header: the input files and the filters applied.
    what_ifs:
        Results of :func:`~falco_lab.analysis.noise.what_if` shown in the noise section.
    """

    title: str = "Falco incident post-mortem"
    simulated: bool | None = None
    ref_times: Mapping[str, object] | None = None
    rules: Iterable[object] | None = None
    group_by: str = "rule"
    max_table_rows: int = 1000
    max_lineage_nodes: int = 300
    sources: Sequence[str] = ()
    filters: Mapping[str, str] = field(default_factory=dict)
    what_ifs: Sequence[WhatIf] = ()
    schema: AlertSchema = DEFAULT_SCHEMA
    csp: bool = True


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    if "</script" in js.lower():  # pragma: no cover - would break the page; plotly never ships that
        raise RuntimeError("plotly.js bundle contains '</script' and cannot be embedded inline")
    return js


class _Page:
    """Collects sections and figures, then renders the document."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        self.parts: list[str] = []
        self.figures: list[tuple[str, str]] = []

    def add(self, html_text: str) -> None:
        self.parts.append(html_text)

    def figure(self, fig: go.Figure) -> None:
        div_id = f"fig{len(self.figures)}"
        spec = pio.to_json(fig, validate=False, pretty=False)
        self.figures.append((div_id, escape_script_json(spec)))
        self.parts.append(f'<div class="fig" id="{div_id}"></div>')


def _fmt_time(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return ""
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M:%S.%f}"[:-3] + "Z"  # type: ignore[arg-type]


_PERCENT_COLUMNS = frozenset({"share", "reduction"})


def _cell(value: object, name: str) -> str:
    if isinstance(value, pd.Timestamp):
        return esc(_fmt_time(value))
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return esc(f"{value:.1%}") if name in _PERCENT_COLUMNS else esc(f"{value:,.2f}")
    if isinstance(value, int) and not isinstance(value, bool):
        return esc(f"{value:,}")
    return esc(value)


def _table(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    cls: str = "",
    limit: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """An HTML table of ``df`` with every header and cell escaped."""
    columns = list(columns if columns is not None else df.columns)
    headers = headers or {}
    shown = df if limit is None else df.head(limit)
    head = "".join(f"<th>{esc(headers.get(c, c))}</th>" for c in columns)
    rows = []
    for values in zip(
        *(shown[c].tolist() if c in shown.columns else [""] * len(shown) for c in columns), strict=True
    ):
        cells = []
        for name, value in zip(columns, values, strict=True):
            if name in ("priority", "max_priority") and isinstance(value, str):
                cells.append(
                    f'<td><span class="prio" style="background:{PRIORITY_COLORS.get(value, "#ddd")}">'
                    f"{esc(value)}</span></td>"
                )
            else:
                cells.append(f"<td>{_cell(value, name)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if limit is not None and len(df) > limit:
        more = f'<p class="note">{len(df) - limit:,} more rows not shown.</p>'
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{more}'


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def _summary(df: pd.DataFrame, options: ReportOptions) -> str:
    schema = options.schema
    counts = df["priority"].astype(PRIORITY_DTYPE).value_counts()
    badges = "".join(
        f'<span class="prio" style="background:{PRIORITY_COLORS[p]}">{esc(p)}: {int(counts.get(p, 0)):,}</span> '
        for p in PRIORITIES
        if int(counts.get(p, 0))
    )
    facts = {
        "alerts": f"{len(df):,}",
        "from": _fmt_time(df["time"].min()),
        "to": _fmt_time(df["time"].max()),
        "rules": f"{column(df, 'rule').nunique():,}",
        "namespaces": f"{column(df, schema.namespace).nunique():,}",
        "pods": f"{column(df, schema.pod).nunique():,}",
        "containers": f"{column(df, schema.container).nunique():,}",
        "nodes": f"{column(df, schema.node).nunique():,}",
    }
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts.items())
    rules = top_n(df, "rule", 10, schema)
    pods = top_n(df, "pod", 10, schema)
    return (
        f'<dl class="facts">{dl}</dl><p>{badges}</p><div class="cols"><div><h3>Top rules</h3>'
        + _table(rules, ["rule", "alerts", "share", "max_priority", "first_seen", "last_seen"])
        + "</div><div><h3>Top pods</h3>"
        + _table(pods, ["pod", "alerts", "share", "rules", "max_priority", "last_seen"])
        + "</div></div>"
    )


def _findings(df: pd.DataFrame, options: ReportOptions) -> str:
    items = []
    for finding in find_findings(df, schema=options.schema):
        evidence = "".join(f"<li><code>{esc(shorten(e, 300))}</code></li>" for e in finding.evidence)
        items.append(
            f'<li><span class="prio" style="background:{PRIORITY_COLORS.get(finding.severity, "#ddd")}">'
            f"{esc(finding.severity)}</span> <b>{esc(finding.title)}</b> {esc(finding.detail)}"
            + (f"<ul>{evidence}</ul>" if evidence else "")
            + "</li>"
        )
    return f'<ol class="findings">{"".join(items)}</ol>' if items else "<p>No findings.</p>"


#: Attack chains shown at the top of the report.
MAX_CHAINS = 3


def _chains(df: pd.DataFrame, options: ReportOptions) -> str:
    chains = attack_chains(df, options.schema)
    routine = int(routine_mask(df, options.schema).sum())
    noise = (
        f'<p class="note">{routine:,} routine alert{"s" if routine != 1 else ""} (a rule recurring in one '
        'workload: probes, CronJob runs) are set aside; see <a href="#noise">Noise</a>.</p>'
        if routine
        else ""
    )
    if not chains:
        return "<p>No suspicious activity outside routine alerts.</p>" + noise
    blocks = []
    for rank, chain in enumerate(chains[:MAX_CHAINS], 1):
        pz = chain.patient_zero
        steps = "".join(
            f"<li><b>{esc(step.tactic)}</b> from {esc(_fmt_time(step.first_seen))}: "
            f"{esc(', '.join(step.rules))} ({step.alerts:,} alert{'s' if step.alerts != 1 else ''})"
            + _table(
                step.evidence, ["time", "rule", "priority", "process", "cmdline", "target"], cls="evidence"
            )
            + "</li>"
            for step in chain.steps
        )
        parts = ", ".join(f"{esc(k)} {v:.2f}" for k, v in chain.parts.items())
        blocks.append(
            f'<div class="chain"><h3>{rank}. {esc(chain.where)} '
            f'<span class="prio" style="background:{PRIORITY_COLORS.get(chain.max_priority, "#ddd")}">'
            f"{esc(chain.max_priority)}</span></h3>"
            f"<p>Workload <code>{esc(chain.workload)}</code> on {esc(', '.join(chain.nodes) or 'an unknown node')}; "
            f"{chain.alerts:,} suspicious alert{'s' if chain.alerts != 1 else ''}, "
            f"{len(chain.tactics)} ATT&amp;CK tactic{'s' if len(chain.tactics) != 1 else ''}; "
            f"score {chain.score:.2f} ({parts}).</p>"
            f"<p><b>Patient zero</b>: {esc(_fmt_time(pz['time']))} <b>{esc(pz['rule'])}</b> "
            f"by <code>{esc(pz['process'] or '?')}</code> (pid {esc(pz['pid'] or '?')}, "
            f"user {esc(pz['user'] or '?')}): <code>{esc(shorten(str(pz['cmdline'] or ''), 300))}</code></p>"
            + _opened_by(chain.opened_by)
            + f'<ol class="steps">{steps}</ol></div>'
        )
    more = len(chains) - MAX_CHAINS
    tail = f'<p class="note">{more:,} more pods with suspicious alerts not shown.</p>' if more > 0 else ""
    return "".join(blocks) + tail + noise


def _opened_by(link: Mapping[str, object] | None) -> str:
    if not link:
        return ""
    command = f": <code>{esc(shorten(str(link['command']), 200))}</code>" if link.get("command") else ""
    return (
        f"<p><b>Opened by</b> <code>{esc(link['user'] or '?')}</code> — audited exec at "
        f"{esc(_fmt_time(link['exec_time']))}{command}</p>"
    )


#: Rows of the source tables.
MAX_SOURCE_ROWS = 20


def _sources(df: pd.DataFrame, options: ReportOptions) -> str:
    who = attribute(df, options.schema)
    table = (
        who.assign(time=df["time"])
        .groupby("kind", dropna=False)
        .agg(
            alerts=("time", "size"),
            namespaces=("namespace", "nunique"),
            pods=("pod", "nunique"),
            users=("user", "nunique"),
            first_seen=("time", "min"),
            last_seen=("time", "max"),
        )
        .reset_index()
        .sort_values("alerts", ascending=False)
    )
    users = who.dropna(subset=["user"])
    user_table = (
        users.assign(time=df.loc[users.index, "time"])
        .groupby(["kind", "user"])
        .agg(alerts=("time", "size"), pods=("pod", "nunique"), last_seen=("time", "max"))
        .reset_index()
        .sort_values("alerts", ascending=False)
    )
    links = link_execs(df, options.schema)
    parts = [
        "<p>Alerts by what produced them: runtime (syscalls, attributed by <code>k8s.pod.name</code>), "
        "Kubernetes audit (attributed to <code>ka.target.*</code>, actor <code>ka.user.name</code>), "
        "cloud audit logs and Falco itself (its health alerts concern the node).</p>",
        _table(table, ["kind", "alerts", "namespaces", "pods", "users", "first_seen", "last_seen"]),
    ]
    if len(user_table):
        parts.append("<h3>Users</h3>" + _table(user_table, limit=MAX_SOURCE_ROWS))
    if len(links):
        parts.append(
            "<h3>Who opened the shells</h3><p>Audited <code>exec</code> into a pod, linked to the runtime "
            "alerts in that pod within 30 s after it.</p>"
            + _table(
                links,
                ["exec_time", "user", "namespace", "pod", "command", "alert_time", "rule", "cmdline"],
                limit=MAX_SOURCE_ROWS,
            )
        )
    return "".join(parts)


def _story(story: PodStory) -> str:
    head = (
        f"<summary><b>{esc(story.title)}</b> — {story.alerts:,} alerts, {esc(_fmt_time(story.first_seen))} → "
        f"{esc(_fmt_time(story.last_seen))}</summary>"
    )
    meta = (
        f"<p>nodes: {esc(', '.join(story.nodes) or '-')}; containers: {esc(', '.join(story.containers) or '-')}; "
        + esc(", ".join(f"{k} {v}" for k, v in story.priorities.items()))
        + "</p>"
    )
    blocks = [head, meta]
    for title, table, col in (
        ("Rules", story.rules, "rule"),
        ("Commands", story.commands, "cmdline"),
        ("Files", story.files, "file"),
        ("Connections", story.connections, "connection"),
    ):
        if not table.empty:
            extra = ["max_priority"] if "max_priority" in table.columns else []
            blocks.append(
                f"<h4>{esc(title)}</h4>"
                + _table(table, [col, "alerts", "first_seen", "last_seen", *extra], limit=25)
            )
    if story.lineage:
        blocks.append(f"<h4>Process lineage</h4><pre>{esc(story.lineage)}</pre>")
    return f'<details class="story">{"".join(blocks)}</details>'


def _alerts_table(df: pd.DataFrame, options: ReportOptions) -> str:
    schema = options.schema
    view = pd.DataFrame({
        "time": df["time"], "priority": df["priority"].astype("string"), "rule": column(df, "rule"),
        "namespace": column(df, schema.namespace), "pod": column(df, schema.pod),
        "container": column(df, schema.container), "cmdline": column(df, schema.cmdline).str.slice(0, 300),
        "output": column(df, "output").str.slice(0, 500),
    })  # fmt: skip
    if len(df) <= options.max_table_rows:
        return f"<p>All {len(df):,} alerts, oldest first.</p>" + _table(
            view.sort_values("time", kind="stable")
        )
    keys = ["rule", "priority", "namespace", "pod"]
    agg = view.fillna({"namespace": "(host)", "pod": "(host)"}).groupby(keys, sort=False, dropna=False).agg(
        alerts=("time", "size"), first_seen=("time", "min"), last_seen=("time", "max"), example=("output", "first"),
    ).reset_index()  # fmt: skip
    rank = {p: i for i, p in enumerate(PRIORITIES)}
    agg["_rank"] = agg["priority"].map(rank)
    agg = agg.sort_values(["_rank", "alerts"], ascending=[True, False], kind="stable")
    severe = view.assign(_rank=view["priority"].map(rank)).sort_values(
        ["_rank", "time"], ascending=[True, False], kind="stable"
    )
    n_latest = min(200, options.max_table_rows)
    return (
        f"<p>{len(df):,} alerts exceed the limit of {options.max_table_rows:,} rows, so they are aggregated per rule,"
        f" priority, namespace and pod ({len(agg):,} groups). Use the CSV/Parquet export for every alert.</p>"
        + _table(agg, [*keys, "alerts", "first_seen", "last_seen", "example"], limit=options.max_table_rows)
        + f"<h3>The {n_latest} most severe alerts (latest first)</h3>"
        + _table(severe.drop(columns="_rank"), limit=n_latest)
    )


def _lineage(df: pd.DataFrame, page: _Page, options: ReportOptions) -> None:
    tree = build_process_tree(df, options.schema)
    if tree.empty:
        page.add(
            _section(
                "lineage",
                "Process lineage",
                "<p>No alert names a process (<code>proc.pid</code>, "
                "<code>proc.name</code> or <code>proc.cmdline</code>): the rules did not print process "
                "fields, so no process tree can be rebuilt.</p>",
            )
        )
        return
    placeholders = int(tree["placeholder"].sum())
    intro = (
        f"<p>{len(tree):,} processes ({placeholders:,} known only as ancestors of alerting processes) in "
        f"{tree['root_key'].nunique():,} trees. Processes are keyed by node, container, pid and start "
        "(or command line), so a recycled pid is a different process.</p>"
    )
    if tree.attrs.get("unplaced_alerts"):
        intro += (
            f'<p class="note">{tree.attrs["unplaced_alerts"]:,} alerts name no process (no proc.pid, '
            "proc.name or proc.cmdline) and are not placed.</p>"
        )
    page.add(f'<section id="lineage"><h2>Process lineage</h2>{intro}')
    page.figure(tree_figure(tree, max_nodes=options.max_lineage_nodes))
    shown = select_subtrees(tree, options.max_lineage_nodes)
    page.add(
        "<details><summary>Process trees as text</summary><pre>"
        + esc(tree_to_text(tree, max_nodes=options.max_lineage_nodes))
        + "</pre></details>"
        + "<details><summary>Process table</summary>"
        + _table(
            shown,
            [
                "key",
                "parent_key",
                "pid",
                "ppid",
                "name",
                "cmdline",
                "first_seen",
                "alerts",
                "max_priority",
                "rules",
                "placeholder",
            ],
            limit=options.max_lineage_nodes,
        )
        + "</details></section>"
    )


def _mitre(df: pd.DataFrame, page: _Page, options: ReportOptions) -> None:
    page.add('<section id="mitre"><h2>MITRE ATT&amp;CK</h2>')
    summary = mitre_summary(df)
    page.figure(matrix_figure(summary=summary))
    if not summary.empty:
        page.add(
            "<details><summary>Tactic / technique table</summary>"
            + _table(summary, SUMMARY_COLUMNS)
            + "</details>"
        )
    if options.rules is not None:
        cov = coverage(options.rules, summary=summary)
        page.add("<h3>Coverage of the loaded rules</h3>")
        page.figure(coverage_figure(cov))
        page.add("<details><summary>Coverage table</summary>" + _table(cov) + "</details>")
    else:
        page.add(
            '<p class="note">No rules were given, so detection coverage is not shown '
            "(pass <code>--rules</code>).</p>"
        )
    page.add("</section>")


def _noise(df: pd.DataFrame, options: ReportOptions) -> str:
    groups = similar_alerts(df, 15)
    workloads = top_n(df, "workload", 10, options.schema)
    parts = [
        "<p>Alerts per workload (pods grouped by their owner: ReplicaSet hash, Job/CronJob and "
        "StatefulSet suffixes removed):</p>",
        _table(
            workloads, ["workload", "alerts", "share", "rules", "max_priority", "first_seen", "last_seen"]
        ),
        f"<p>{groups.attrs['groups']:,} groups of near-identical alerts (same rule and same output once "
        "numbers, ids, addresses and times are normalised); the biggest:</p>",
        _table(groups, ["rule", "template", "alerts", "share", "first_seen", "last_seen"]),
    ]
    for result in options.what_ifs:
        changed = result.by_rule[result.by_rule["suppressed"] > 0]
        parts.append(
            f"<h3>What if: {esc(result.description)}</h3><p>{result.before:,} → {result.after:,} alerts: "
            f"{result.suppressed:,} fewer ({result.reduction:.1%}).</p>"
            + (
                _table(changed, ["rule", "before", "after", "suppressed", "reduction"])
                if len(changed)
                else "<p>No alert would be suppressed.</p>"
            )
        )
    return "".join(parts)


def _load_notes(report: object) -> str:
    """Load warnings (converted times) and the duplicate count, escaped and capped."""
    notes = list(getattr(report, "warnings", ()))
    duplicates = int(getattr(report, "duplicates", 0) or 0)
    if not notes and not duplicates:
        return ""
    items = "".join(f"<li><code>{esc(shorten(str(n), 400))}</code></li>" for n in notes[:20])
    more = f"<li>… {len(notes) - 20:,} more</li>" if len(notes) > 20 else ""
    dup = (
        f"<li>{duplicates:,} duplicate alert{'s' if duplicates != 1 else ''} dropped (same uuid, or same "
        "time, rule, output and hostname)</li>"
        if duplicates
        else ""
    )
    return f'<div class="note"><b>Loading changed the data:</b><ul>{dup}{items}{more}</ul></div>'


def _load_problems(df: pd.DataFrame) -> str:
    report = df.attrs.get("load_report")
    if report is None:
        return ""
    notes = _load_notes(report)
    if not getattr(report, "problems", ()):
        return notes
    problems = list(report.problems)
    items = "".join(f"<li><code>{esc(p)}</code></li>" for p in problems[:20])
    more = f"<li>… {len(problems) - 20:,} more</li>" if len(problems) > 20 else ""
    return (
        f'<div class="warn"><b>{len(problems):,} input record{"s were" if len(problems) != 1 else " was"} '
        "rejected while loading</b>"
        f"<ul>{items}{more}</ul></div>" + notes
    )


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1400px;padding:0 1.5em;
color:#1d1d1f}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-top:.6em}
.banner{background:#fff3b0;border:3px solid #d4a300;padding:.8em 1em;font-size:1.15em;font-weight:bold;margin:1em 0}
.warn{background:#fde2e1;border:1px solid #d33;padding:.5em 1em;margin:1em 0}
.note{color:#555;font-size:.9em}
nav a{margin-right:1em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0;width:100%}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f4f4f4;position:sticky;top:0}
.prio{border-radius:4px;padding:1px 6px;border:1px solid #888;white-space:nowrap;color:#111}
.facts{display:flex;flex-wrap:wrap;gap:1.5em}.facts dt{font-size:.8em;color:#666}.facts dd{margin:0;font-size:1.3em}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}
details{margin:.4em 0}summary{cursor:pointer}
.story{border-left:4px solid #bbb;padding-left:.8em}
.chain{border-left:4px solid #d33;padding-left:.8em;margin-bottom:1em}
.fig{width:100%}
"""


def build_report(df: pd.DataFrame, options: ReportOptions | None = None, **kwargs: object) -> str:
    """Render the post-mortem report for the alerts in ``df`` as one HTML string.

    Parameters
    ----------
    df:
        Canonical events frame (already filtered; see
        :func:`~falco_lab.analysis.fields.filter_alerts`).
    options:
        :class:`ReportOptions`; keyword arguments override its fields
        (``build_report(df, title="...", simulated=True)``).

    Returns
    -------
    str
        A complete HTML document with plotly.js embedded once; no external resource is
        referenced.  An empty frame gives a report that says there are no events.
    """
    options = options or ReportOptions()
    unknown = sorted(set(kwargs) - {f.name for f in fields(ReportOptions)})
    if unknown:
        raise TypeError(f"unknown report option {unknown[0]!r}")
    options = replace(options, **kwargs)  # type: ignore[arg-type]  # the caller's options object is left as it was
    simulated = options.simulated if options.simulated is not None else is_simulated(df)
    nonce = secrets.token_urlsafe(18)
    page = _Page(nonce)
    generated = f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M:%S}Z"

    page.add(f"<h1>{esc(options.title)}</h1>")
    if simulated:
        page.add(
            '<div class="banner" role="alert">SIMULATED DATA — these alerts were produced by falco-lab\'s '
            "simulate mode (a simulated cluster and falco-lab's own rules engine), not by Falco on a real "
            "cluster.</div>"
        )
    header = [f"generated {esc(generated)}"]
    if options.sources:
        header.append("sources: " + ", ".join(f"<code>{esc(s)}</code>" for s in options.sources))
    if options.filters:
        header.append(
            "filters: " + ", ".join(f"<code>{esc(k)}={esc(v)}</code>" for k, v in options.filters.items())
        )
    page.add(f'<p class="note">{" · ".join(header)}</p>' + _load_problems(df))

    if df.empty:
        page.add(_section("summary", "Summary", f'<p class="empty"><b>{esc(_NO_EVENTS)}</b></p>'))
    else:
        page.add(
            '<nav><a href="#chains">Attack chains</a><a href="#summary">Summary</a><a href="#sources">Sources</a>'
            '<a href="#findings">Findings</a>'
            '<a href="#timeline">Timeline</a>'
            '<a href="#drilldown">Drill-down</a><a href="#lineage">Lineage</a><a href="#mitre">ATT&amp;CK</a>'
            '<a href="#noise">Noise</a><a href="#alerts">Alerts</a></nav>'
        )
        page.add(_section("chains", "Attack chains", _chains(df, options)))
        page.add(_section("summary", "Summary", _summary(df, options)))
        page.add(_section("sources", "Sources", _sources(df, options)))
        page.add(_section("findings", "Top findings", _findings(df, options)))
        page.add('<section id="timeline"><h2>Timeline</h2>')
        page.figure(priority_counts_figure(df, ref_times=options.ref_times))
        page.figure(timeline_figure(df, options.group_by, ref_times=options.ref_times, schema=options.schema))
        page.add("</section>")
        page.add('<section id="drilldown"><h2>Drill-down</h2>')
        page.figure(drilldown_figure(df, schema=options.schema))
        stories = pod_stories(df, 5, options.schema)
        if stories:
            page.add("<h3>Pod stories (most severe pods)</h3>" + "".join(_story(s) for s in stories))
        page.add("</section>")
        _lineage(df, page, options)
        _mitre(df, page, options)
        page.add(_section("noise", "Noise", _noise(df, options)))
        page.add(_section("alerts", "Alerts", _alerts_table(df, options)))
    return _render(page, options, simulated)


def _render(page: _Page, options: ReportOptions, simulated: bool) -> str:
    nonce = page.nonce
    csp = ""
    if options.csp:
        csp = (
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            f"script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src data: blob:; "
            "font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'\">"
        )
    scripts = ""
    if page.figures:
        calls = "\n".join(
            f'Plotly.newPlot("{div_id}",(s=JSON.parse(document.getElementById("{div_id}-data").textContent)).data,'
            f"s.layout,{{responsive:true,displaylogo:false}});"
            for div_id, _ in page.figures
        )
        data = "".join(
            f'<script type="application/json" id="{div_id}-data">{spec}</script>'
            for div_id, spec in page.figures
        )
        scripts = (
            f'{data}<script nonce="{nonce}">{_plotly_js()}</script>'
            f'<script nonce="{nonce}">(function(){{var s;\n{calls}\n}})();</script>'
        )
    banner_title = "[SIMULATED] " if simulated else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        + csp
        + '<meta name="viewport" content="width=device-width, initial-scale=1">'
        + f"<title>{esc(banner_title + options.title)}</title><style>{_CSS}</style></head><body>"
        + "".join(page.parts)
        + scripts
        + "</body></html>\n"
    )


def write_report(
    df: pd.DataFrame, path: str | Path, options: ReportOptions | None = None, **kwargs: object
) -> Path:
    """Write :func:`build_report` to ``path`` (UTF-8), creating its folder, and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(df, options, **kwargs), encoding="utf-8")
    return path


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse_formula(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


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
                    out[name] = out[name].map(_defuse_formula)
        out.to_csv(path, index=False)
    elif suffix in (".parquet", ".pq"):
        from falco_lab.events import to_parquet  # the events archive format (exact round trip)

        to_parquet(df, path)
    else:
        raise ValueError(
            f"{path}: cannot export to {suffix or 'a file without extension'!r}; use .csv or .parquet"
        )
    return path
