"""The summary: counts, time span, priorities, top rules and pods."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis._html import esc
from falco_lab.analysis.fields import column
from falco_lab.analysis.noise import top_n
from falco_lab.analysis.report.options import ReportOptions, more_note
from falco_lab.analysis.report.page import fmt_time, html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.priorities import PRIORITIES, PRIORITY_COLORS, PRIORITY_DTYPE


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
        "from": fmt_time(df["time"].min()),
        "to": fmt_time(df["time"].max()),
        "rules": f"{column(df, 'rule').nunique():,}",
        "namespaces": f"{column(df, schema.namespace).nunique():,}",
        "pods": f"{column(df, schema.pod).nunique():,}",
        "containers": f"{column(df, schema.container).nunique():,}",
        "nodes": f"{column(df, schema.node).nunique():,}",
    }
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts.items())
    caps = options.caps
    rules = top_n(df, "rule", caps.top_rules, schema)
    pods = top_n(df, "pod", caps.top_pods, schema)
    return (
        f'<dl class="facts">{dl}</dl><p>{badges}</p><div class="cols"><div><h3>Top rules</h3>'
        + html_table(rules, ["rule", "alerts", "share", "max_priority", "first_seen", "last_seen"])
        + _note(more_note(rules.attrs["groups"], len(rules), "rules"))
        + "</div><div><h3>Top pods</h3>"
        + html_table(pods, ["pod", "alerts", "share", "rules", "max_priority", "last_seen"])
        + _note(more_note(pods.attrs["groups"], len(pods), "pods"))
        + "</div></div>"
    )


def _note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>' if text else ""


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("summary", "Summary", _summary(ctx.df, ctx.options)))


SECTION = Section("summary", "Summary", _render)
