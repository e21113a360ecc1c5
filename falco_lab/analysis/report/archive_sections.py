"""The sections of a report built from a Parquet archive out of core (see :mod:`.archive`).

:data:`ARCHIVE_RENDERERS` replaces, by anchor, the render function of the sections whose
figures and tables are aggregates: they read :class:`~.archive.ArchiveAggregates` (DuckDB
queries over the files) instead of the frame.  Every other section (attack chains, lineage,
and any registered later) renders from ``ctx.df``, the bounded candidate frame.  A section
registered by a user that aggregates ``ctx.df`` sees only the candidates; its author adds an
entry here to aggregate over the archive.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from falco_lab.analysis._html import esc, shorten
from falco_lab.analysis.activity import blind_spots, still_active
from falco_lab.analysis.drilldown import drilldown_figure_from_table, pod_story
from falco_lab.analysis.findings import Finding, find_findings
from falco_lab.analysis.mitre import (
    SUMMARY_COLUMNS,
    coverage,
    coverage_figure,
    matrix_figure,
    mitre_summary_from_counts,
)
from falco_lab.analysis.report.archive import ArchiveAggregates, noise_sql
from falco_lab.analysis.report.page import fmt_time, html_table, section
from falco_lab.analysis.report.registry import ReportContext
from falco_lab.analysis.report.sections.drilldown import _story
from falco_lab.analysis.report.sections.sources import source_parts
from falco_lab.analysis.timeline import (
    cell_bins,
    priority_counts_figure_from_table,
    timeline_figure_from_bins,
)
from falco_lab.events.charts import choose_freq
from falco_lab.priorities import PRIORITIES, PRIORITY_COLORS

__all__ = ["ARCHIVE_RENDERERS", "archive_note", "prefetch"]

#: Rows materialised per pod story.
STORY_ROWS = 20_000


def _agg(ctx: ReportContext) -> ArchiveAggregates:
    archive = ctx.archive
    assert isinstance(archive, ArchiveAggregates)
    return archive


def _more(shown: int, total: int, what: str) -> str:
    return f'<p class="note">{total - shown:,} more {what} not shown.</p>' if total > shown else ""


def archive_note(archive: ArchiveAggregates) -> str:
    """The header note of an archive report: what was read, how, and how many rows were materialised."""
    left = (
        f" {archive.left_out:,} more candidate rows were left out (the cap is {archive.max_rows:,}; the most "
        "severe, then newest, are kept)."
        if archive.left_out
        else ""
    )
    if archive.streamed_from is not None:
        sources, size = archive.streamed_from
        kinds = (
            f"{len(sources):,} JSON-lines file{'s' if len(sources) != 1 else ''} ({size / 1e9:.2f} GB) "
            f"streamed block by block into {len(archive.files):,} temporary Parquet "
            f"file{'s' if len(archive.files) != 1 else ''}"
        )
        head = "Built out of core"
    else:
        kinds = ", ".join(
            f"{n:,} {'falco-lab archive' if k == 'archive' else 'Security Lake OCSF'} file{'s' if n != 1 else ''}"
            for k, n in archive.kinds.items()
        )
        head = "Built from a Parquet archive, out of core"
    return (
        f'<div class="note"><b>{head}:</b> {kinds}; {archive.total:,} alerts. '
        "Counts, timelines, drill-down, noise, sources, ATT&amp;CK and the alerts table are DuckDB queries over "
        f"the files; {archive.materialised:,} rows were materialised for the attack chains, findings, process "
        "lineage and \u201cstill going on?\u201d (non-routine and Critical-or-worse alerts, the newest "
        f"alerts of each place, Falco's own alerts); the pod stories read the newest {STORY_ROWS:,} alerts of "
        f"each pod at most.{left}</div>"
    )


# -- summary --------------------------------------------------------------------------


def _summary(ctx: ReportContext) -> None:
    archive = _agg(ctx)
    facts = archive.facts()
    counts = archive.priority_counts()
    badges = "".join(
        f'<span class="prio" style="background:{PRIORITY_COLORS[p]}">{esc(p)}: {counts[p]:,}</span> '
        for p in PRIORITIES
        if counts.get(p)
    )
    shown = {
        "alerts": f"{facts['alerts']:,}",
        "from": fmt_time(facts["first"]),
        "to": fmt_time(facts["last"]),
        **{k: f"{facts[k]:,}" for k in ("rules", "namespaces", "pods", "containers", "nodes")},
    }
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in shown.items())
    rules, pods = (
        archive.top("rule", ctx.options.caps.top_rules),
        archive.top("pod", ctx.options.caps.top_pods),
    )
    body = (
        f'<dl class="facts">{dl}</dl><p>{badges}</p><div class="cols"><div><h3>Top rules</h3>'
        + html_table(rules, ["rule", "alerts", "share", "max_priority", "first_seen", "last_seen"])
        + _more(len(rules), rules.attrs["groups"], "rules")
        + "</div><div><h3>Top pods</h3>"
        + html_table(pods, ["pod", "alerts", "share", "rules", "max_priority", "last_seen"])
        + _more(len(pods), pods.attrs["groups"], "pods")
        + "</div></div>"
    )
    ctx.page.add(section("summary", "Summary", body))


# -- sources --------------------------------------------------------------------------


def _sources(ctx: ReportContext) -> None:
    parts = source_parts(_agg(ctx).attribution(), ctx.options)
    parts.append(
        '<p class="note">Who opened the shells (audited exec linked to runtime alerts) is not computed over an '
        "archive out of core; load the alerts in memory (<code>--in-memory</code>) for it.</p>"
    )
    ctx.page.add(section("sources", "Sources", "".join(parts)))


# -- findings -------------------------------------------------------------------------

#: Finders that read only the candidate rows (every non-routine alert is a candidate).
_ROW_FINDERS = ("attack-chain", "first-alert", "severe-rules", "rare-commands", "latest-activity")


def _archive_findings(archive: ArchiveAggregates) -> list[Finding]:
    """routine-noise and dominant-rule, from counts over all the alerts."""
    out = []
    total = archive.total
    routine = archive.routine_alerts()
    if routine:
        frame = archive.attribution()
        groups = (
            frame[frame["routine"]]
            .assign(rule=frame["rule"].fillna("(none)"))
            .groupby(["rule", "workload"])["_n"]
            .sum()
            .sort_values(ascending=False)
            .head(5)
        )
        out.append(
            Finding(
                "Informational",
                f"{routine} routine alert{'s' if routine != 1 else ''} ({routine / total:.0%}) set aside as noise",
                "A rule firing again and again in one workload (probes, CronJob runs) is routine; "
                "tune it (see noise and what-if) rather than read it alert by alert.",
                tuple(f"{key[0]} in {key[1]} ({n})" for key, n in groups.items()),  # type: ignore[index]
                None,
                0.0,
            )
        )
    top = archive.top("rule", 1)
    if total >= 20 and len(top) and top["alerts"].iloc[0] / total >= 0.5:
        n = int(top["alerts"].iloc[0])
        out.append(
            Finding(
                "Informational",
                f"{top['rule'].iloc[0]} makes {n / total:.0%} of all alerts",
                "A rule this dominant is a tuning candidate (see noise and what-if).",
                (f"{n} of {total} alerts",),
                None,
                0.0,
            )
        )
    return out


def _findings(ctx: ReportContext) -> None:
    from falco_lab.analysis.findings import _RANK

    chains = ctx.cache.get("chains")
    found = find_findings(
        ctx.df,
        schema=ctx.options.schema,
        finders=_ROW_FINDERS,
        chains=chains if isinstance(chains, list) else None,
    )
    found.extend(_archive_findings(_agg(ctx)))
    found.sort(key=lambda f: (-f.rank, _RANK.get(f.severity, len(_RANK))))
    items = []
    for finding in found[:12]:
        evidence = "".join(f"<li><code>{esc(shorten(e, 300))}</code></li>" for e in finding.evidence)
        items.append(
            f'<li><span class="prio" style="background:{PRIORITY_COLORS.get(finding.severity, "#ddd")}">'
            f"{esc(finding.severity)}</span> <b>{esc(finding.title)}</b> {esc(finding.detail)}"
            + (f"<ul>{evidence}</ul>" if evidence else "")
            + "</li>"
        )
    body = f'<ol class="findings">{"".join(items)}</ol>' if items else "<p>No findings.</p>"
    ctx.page.add(section("findings", "Top findings", body))


# -- timeline, drill-down -------------------------------------------------------------


def _freq(archive: ArchiveAggregates, max_bins: int) -> str:
    facts = archive.facts()
    return choose_freq(pd.Series([facts["first"], facts["last"]]), max_bins)


def _timeline(ctx: ReportContext) -> None:
    archive, options, page = _agg(ctx), ctx.options, ctx.page
    page.add('<section id="timeline"><h2>Timeline</h2>')
    freq = _freq(archive, 120)
    page.figure(
        priority_counts_figure_from_table(archive.priority_bins(freq), freq, ref_times=options.ref_times)
    )
    priorities = max(len(archive.priority_counts()), 1)
    binned = archive.bins(options.group_by, lambda lanes: _freq(archive, cell_bins(lanes, priorities)))
    page.figure(
        timeline_figure_from_bins(binned, options.group_by, total=archive.total, ref_times=options.ref_times)
    )
    page.add("</section>")


def _drilldown(ctx: ReportContext) -> None:
    archive, page = _agg(ctx), ctx.page
    page.add('<section id="drilldown"><h2>Drill-down</h2>')
    table = archive.drilldown()
    page.figure(drilldown_figure_from_table(table))
    pods = (
        table[(table["pod"] != "(host)") & (table["pod"] != "(other)")]
        .groupby(["namespace", "pod"], sort=False)
        .agg(alerts=("alerts", "sum"), max_priority=("max_priority", "max"))
        .reset_index()
        .sort_values(["max_priority", "alerts"], ascending=False, kind="stable")
        .head(5)
    )
    stories = []
    for row in pods.itertuples(index=False):
        namespace = None if row.namespace == "(host)" else str(row.namespace)
        rows, total = archive.pod_rows(namespace, str(row.pod), STORY_ROWS)
        story = pod_story(rows, str(row.pod), namespace, ctx.options.schema)
        if story is not None:
            note = f" (the newest {len(rows):,} of its {total:,} alerts)" if total > len(rows) else ""
            stories.append(
                _story(story, ctx.options.caps.story_rows).replace("</summary>", esc(note) + "</summary>", 1)
            )
    if stories:
        page.add("<h3>Pod stories (most severe pods)</h3>" + "".join(stories))
    page.add("</section>")


# -- ATT&CK, noise --------------------------------------------------------------------


def _mitre(ctx: ReportContext) -> None:
    archive, options, page = _agg(ctx), ctx.options, ctx.page
    page.add('<section id="mitre"><h2>MITRE ATT&amp;CK</h2>')
    summary = mitre_summary_from_counts(archive.mitre_groups())
    page.figure(matrix_figure(summary=summary))
    if not summary.empty:
        page.add(
            "<details><summary>Tactic / technique table</summary>"
            + html_table(summary, SUMMARY_COLUMNS)
            + "</details>"
        )
    if options.rules is not None:
        cov = coverage(options.rules, summary=summary)
        page.add("<h3>Coverage of the loaded rules</h3>")
        page.figure(coverage_figure(cov))
        page.add("<details><summary>Coverage table</summary>" + html_table(cov) + "</details>")
    page.add("</section>")


#: Noise groups listed out of core.
NOISE_GROUPS = 15


def prefetch(archive: ArchiveAggregates) -> None:
    """Start the aggregates that read every output (the noise templates) before the sections render.

    They run on a second DuckDB connection while the row-based sections (chains, findings,
    lineage, IOCs) work in Python; the noise section then collects the result.
    """
    archive.prefetch([noise_sql(NOISE_GROUPS)])


def _noise(ctx: ReportContext) -> None:
    archive = _agg(ctx)
    groups = archive.noise(NOISE_GROUPS)
    workloads = archive.top("workload", ctx.options.caps.noise_workloads)
    body = (
        "<p>Alerts per workload (pods grouped by their owner: ReplicaSet hash, Job/CronJob and "
        "StatefulSet suffixes removed):</p>"
        + html_table(
            workloads, ["workload", "alerts", "share", "rules", "max_priority", "first_seen", "last_seen"]
        )
        + _more(len(workloads), workloads.attrs["groups"], "workloads")
        + f"<p>{groups.attrs['groups']:,} groups of near-identical alerts (same rule and same output once "
        "numbers, ids, addresses and times are normalised); the biggest:</p>"
        + html_table(groups, ["rule", "template", "alerts", "share", "first_seen", "last_seen"])
    )
    ctx.page.add(section("noise", "Noise", body))


# -- still going on?, alerts ----------------------------------------------------------


def _activity(ctx: ReportContext) -> None:
    from falco_lab.analysis.report.sections.activity import activity_html, collected_at

    archive, options = _agg(ctx), ctx.options
    frame = archive.attribution()
    per_place = frame[frame["kind"] != "falco"].groupby("place")["_n"].sum()
    collected = collected_at(ctx.df, options)
    table = still_active(ctx.df, options.schema, collected, max_processes=options.caps.activity_processes)
    table["alerts"] = table["place"].map(per_place).fillna(table["alerts"]).astype("int64")
    end = pd.Timestamp(archive.facts()["last"])  # type: ignore[arg-type]
    body = activity_html(table, blind_spots(ctx.df, options.schema), end, collected, options.caps)
    ctx.page.add(section("activity", "Still going on?", body))


def _alerts(ctx: ReportContext) -> None:
    archive, options = _agg(ctx), ctx.options
    groups = archive.alerts_groups(options.caps.alert_rows)
    n_latest = min(options.caps.severe_alerts, options.caps.alert_rows)
    severe = archive.most_severe(n_latest)
    view = pd.DataFrame(
        {
            "time": severe["time"],
            "priority": severe["priority"].astype("string"),
            "rule": severe["rule"],
            "namespace": severe.get(options.schema.namespace),
            "pod": severe.get(options.schema.pod),
            "container": severe.get(options.schema.container),
            "cmdline": severe[options.schema.cmdline].astype("string").str.slice(0, 300)
            if options.schema.cmdline in severe.columns
            else None,
            "output": severe["output"].astype("string").str.slice(0, 500),
        }
    ).sort_values("time", ascending=False, kind="stable")
    groups["example"] = groups["example"].astype("string").str.slice(0, 500)
    body = (
        f"<p>{archive.total:,} alerts in a Parquet archive, aggregated per rule, priority, namespace and pod "
        f"({groups.attrs['groups']:,} groups). Use <code>falco-lab report --in-memory --csv</code> or DuckDB over the "
        "files for every alert.</p>"
        + html_table(
            groups, ["rule", "priority", "namespace", "pod", "alerts", "first_seen", "last_seen", "example"]
        )
        + _more(len(groups), groups.attrs["groups"], "groups")
        + f"<h3>The {n_latest} most severe alerts (latest first)</h3>"
        + html_table(view)
    )
    ctx.page.add(section("alerts", "Alerts", body))


#: Render functions replacing the built-in ones, by anchor, for a report over an archive.
ARCHIVE_RENDERERS: dict[str, Callable[[ReportContext], None]] = {
    "summary": _summary,
    "sources": _sources,
    "findings": _findings,
    "timeline": _timeline,
    "drilldown": _drilldown,
    "mitre": _mitre,
    "noise": _noise,
    "activity": _activity,
    "alerts": _alerts,
}
