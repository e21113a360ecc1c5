"""Case notes: the responder's marks (triaged, false positive, confirmed) and their notes."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis.fields import column
from falco_lab.analysis.findings import find_findings
from falco_lab.analysis.report.page import html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.analysis.triage import finding_id

#: Marks listed in the section.
MAX_NOTES = 200


def _in_data(ctx: ReportContext, kind: str, target: str) -> str:
    if kind == "alert":
        return "yes" if target in ctx.cache["uuids"] else "no"  # type: ignore[operator]
    key = f"{kind}_targets"
    if key not in ctx.cache and kind == "finding":
        ctx.cache[key] = {finding_id(f.title) for f in find_findings(ctx.df, schema=ctx.options.schema)}
    targets = ctx.cache.get(key)
    if targets is None:
        return "?"
    return "yes" if target in targets else "no"  # type: ignore[operator]


def _render(ctx: ReportContext) -> None:
    marks = list(ctx.options.triage)
    if not marks:
        body = (
            "<p>No case notes. Mark alerts, chains or findings in the notebook "
            "(<code>falco_lab.analysis.triage.mark</code>) or pass <code>--triage FILE</code>; "
            "the file next to the events (<code>&lt;events&gt;.triage.json</code>) is read by itself.</p>"
        )
        ctx.page.add(section("case-notes", "Case notes", body))
        return
    ctx.cache["uuids"] = set(column(ctx.df, "uuid").dropna())
    table = pd.DataFrame(
        {
            "target": [m.target for m in marks],
            "kind": [m.kind for m in marks],
            "status": [m.status for m in marks],
            "note": [m.note for m in marks],
            "who": [m.who for m in marks],
            "when": [m.when for m in marks],
            "in this data": [_in_data(ctx, m.kind, m.target) for m in marks],
        }
    )
    counts = table["status"].value_counts()
    lead = (
        f"<p>{len(marks):,} mark{'s' if len(marks) != 1 else ''} ("
        + ", ".join(f"{n:,} {str(s).replace('_', ' ')}" for s, n in counts.items())
        + "), in the order they were made; a later mark of the same target overrides an earlier one. "
        "False positives are set aside from the attack chains, not deleted.</p>"
    )
    ctx.page.add(section("case-notes", "Case notes", lead + html_table(table, limit=MAX_NOTES)))


SECTION = Section("case-notes", "Case notes", _render)
