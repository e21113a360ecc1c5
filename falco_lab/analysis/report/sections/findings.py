"""Top findings, ranked by the finding registry."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis._html import esc, shorten
from falco_lab.analysis.findings import find_findings
from falco_lab.analysis.report.options import ReportOptions, more_note
from falco_lab.analysis.report.page import section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.priorities import PRIORITY_COLORS


def _findings(df: pd.DataFrame, options: ReportOptions) -> str:
    caps = options.caps
    # every finder yields a handful of findings, so rank them all and show the first caps.findings
    found = find_findings(
        df, len(df) + 1, options.schema, max_evidence=caps.findings_evidence, max_chains=caps.chains
    )
    items = []
    for finding in found[: caps.findings]:
        shown = finding.evidence[: caps.findings_evidence]
        evidence = "".join(f"<li><code>{esc(shorten(e, 300))}</code></li>" for e in shown)
        more = more_note(len(finding.evidence) + finding.more_evidence, len(shown), "items")
        if more:
            evidence += f'<li class="note">{esc(more)}</li>'
        items.append(
            f'<li><span class="prio" style="background:{PRIORITY_COLORS.get(finding.severity, "#ddd")}">'
            f"{esc(finding.severity)}</span> <b>{esc(finding.title)}</b> {esc(finding.detail)}"
            + (f"<ul>{evidence}</ul>" if evidence else "")
            + "</li>"
        )
    if not items:
        return "<p>No findings.</p>"
    tail = more_note(len(found), len(items), "findings")
    return f'<ol class="findings">{"".join(items)}</ol>' + (
        f'<p class="note">{esc(tail)}</p>' if tail else ""
    )


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("findings", "Top findings", _findings(ctx.df, ctx.options)))


SECTION = Section("findings", "Findings", _render)
