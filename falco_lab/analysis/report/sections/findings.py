"""Top findings, ranked by the finding registry."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis._html import esc, shorten
from falco_lab.analysis.findings import find_findings
from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.priorities import PRIORITY_COLORS


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


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("findings", "Top findings", _findings(ctx.df, ctx.options)))


SECTION = Section("findings", "Findings", _render)
