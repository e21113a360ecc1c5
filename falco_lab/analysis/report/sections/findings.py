"""Top findings, ranked by the finding registry."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis._html import esc, shorten
from falco_lab.analysis.findings import find_findings
from falco_lab.analysis.report.options import ReportOptions, more_note
from falco_lab.analysis.report.page import mark_label, section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.analysis.triage import effective_marks, finding_id
from falco_lab.priorities import PRIORITY_COLORS


def _findings(df: pd.DataFrame, options: ReportOptions, cache: dict[str, object] | None = None) -> str:
    caps = options.caps
    marks = effective_marks(options.triage)
    # every finder yields a handful of findings, so rank them all and show the first caps.findings
    chains = (cache or {}).get("chains")
    found = find_findings(
        df,
        len(df) + 1,
        options.schema,
        max_evidence=caps.findings_evidence,
        max_chains=caps.chains,
        chains=chains if isinstance(chains, list) else None,
    )
    if cache is not None:
        cache["finding_targets"] = {finding_id(f.title) for f in found}
    items = []
    for finding in found[: caps.findings]:
        target = finding_id(finding.title)
        label = mark_label(marks.get(target))
        shown = finding.evidence[: caps.findings_evidence]
        evidence = "".join(f"<li><code>{esc(shorten(e, 300))}</code></li>" for e in shown)
        more = more_note(len(finding.evidence) + finding.more_evidence, len(shown), "items")
        if more:
            evidence += f'<li class="note">{esc(more)}</li>'
        items.append(
            f'<li><span class="prio" style="background:{PRIORITY_COLORS.get(finding.severity, "#ddd")}">'
            f"{esc(finding.severity)}</span>{label} <b>{esc(finding.title)}</b> {esc(finding.detail)} "
            f'<code class="id">{esc(target)}</code>' + (f"<ul>{evidence}</ul>" if evidence else "") + "</li>"
        )
    if not items:
        return "<p>No findings.</p>"
    tail = more_note(len(found), len(items), "findings")
    return f'<ol class="findings">{"".join(items)}</ol>' + (
        f'<p class="note">{esc(tail)}</p>' if tail else ""
    )


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("findings", "Top findings", _findings(ctx.df, ctx.options, ctx.cache)))


SECTION = Section("findings", "Findings", _render)
