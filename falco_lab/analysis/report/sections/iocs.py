"""Indicators of compromise: the most severe IPs, domains, URLs, files, images, hashes and users."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis._html import esc, shorten
from falco_lab.analysis.iocs import IocLimits, extract_iocs, iocs_more
from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section

#: Indicators listed in the report (the export lists more: ``falco-lab iocs``).
MAX_IOC_ROWS = 50
#: Pods and rules named per indicator.
MAX_NAMED = 3
#: Characters of a value shown (the full value is in the exports).
MAX_VALUE_CHARS = 200


def _named(items: list[str], total: int) -> str:
    text = ", ".join(items)
    return text + (f" and {total - len(items)} more" if total > len(items) else "")


def _iocs(df: pd.DataFrame, options: ReportOptions) -> str:
    limits = IocLimits(max_rows=MAX_IOC_ROWS, max_pods=MAX_NAMED, max_rules=MAX_NAMED)
    iocs = extract_iocs(df, limits=limits, schema=options.schema)
    if iocs.empty:
        return "<p>No indicators found in the alerts' fields or output.</p>"
    table = pd.DataFrame(
        {
            "type": iocs["type"].astype(object),
            "value": [shorten(str(v), MAX_VALUE_CHARS) for v in iocs["value"]],
            "scope": iocs["scope"].astype(object).where(iocs["scope"].notna(), ""),
            "ports": [", ".join(map(str, p)) for p in iocs["ports"]],
            "first_seen": iocs["first_seen"],
            "last_seen": iocs["last_seen"],
            "alerts": iocs["count"].astype(object),
            "priority": iocs["priority"].astype(str),
            "pods": [_named(list(p), n) for p, n in zip(iocs["pods"], iocs["pod_count"], strict=True)],
            "rules": [_named(list(r), n) for r, n in zip(iocs["rules"], iocs["rule_count"], strict=True)],
        }
    )
    more = iocs_more(iocs)
    note = (
        f'<p class="note">{more:,} more indicator(s) not shown (of {len(iocs) + more:,}); '
        "<code>falco-lab iocs EVENTS --max-rows 0</code> lists them all.</p>"
        if more
        else ""
    )
    return (
        "<p>Indicators in the alerts' output fields and output text (IPs with ports, domains, URLs, files "
        "written or executed, images, hashes, users), the most severe first. Export them for a SIEM with "
        "<code>falco-lab iocs EVENTS --format stix|csv|json</code>.</p>"
        + html_table(table)
        + note
        + f'<p class="note">Values longer than {esc(MAX_VALUE_CHARS)} characters are shortened here.</p>'
    )


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("iocs", "Indicators of compromise", _iocs(ctx.df, ctx.options)))


SECTION = Section("iocs", "IOCs", _render)
