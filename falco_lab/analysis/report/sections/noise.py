"""Noise: alerts per workload, groups of near-identical alerts, what-if results."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis._html import esc
from falco_lab.analysis.noise import similar_alerts, top_n
from falco_lab.analysis.report.options import ReportOptions, more_note
from falco_lab.analysis.report.page import html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section


def _noise(df: pd.DataFrame, options: ReportOptions) -> str:
    caps = options.caps
    groups = similar_alerts(df, caps.noise_groups)
    workloads = top_n(df, "workload", caps.noise_workloads, options.schema)
    more_workloads = more_note(workloads.attrs["groups"], len(workloads), "workloads")
    more_groups = more_note(groups.attrs["groups"], len(groups), "groups")
    parts = [
        "<p>Alerts per workload (pods grouped by their owner: ReplicaSet hash, Job/CronJob and "
        "StatefulSet suffixes removed):</p>",
        html_table(
            workloads, ["workload", "alerts", "share", "rules", "max_priority", "first_seen", "last_seen"]
        ),
        f'<p class="note">{esc(more_workloads)}</p>' if more_workloads else "",
        f"<p>{groups.attrs['groups']:,} groups of near-identical alerts (same rule and same output once "
        "numbers, ids, addresses and times are normalised); the biggest:</p>",
        html_table(groups, ["rule", "template", "alerts", "share", "first_seen", "last_seen"]),
        f'<p class="note">{esc(more_groups)}</p>' if more_groups else "",
    ]
    for result in options.what_ifs:
        changed = result.by_rule[result.by_rule["suppressed"] > 0]
        parts.append(
            f"<h3>What if: {esc(result.description)}</h3><p>{result.before:,} → {result.after:,} alerts: "
            f"{result.suppressed:,} fewer ({result.reduction:.1%}).</p>"
            + (
                html_table(changed, ["rule", "before", "after", "suppressed", "reduction"])
                if len(changed)
                else "<p>No alert would be suppressed.</p>"
            )
        )
    return "".join(parts)


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("noise", "Noise", _noise(ctx.df, ctx.options)))


SECTION = Section("noise", "Noise", _render)
