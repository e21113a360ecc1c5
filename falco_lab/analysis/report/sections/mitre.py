"""MITRE ATT&CK: the matrix of the alerts and the coverage of the loaded rules."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis.mitre import SUMMARY_COLUMNS, coverage, coverage_figure, matrix_figure, mitre_summary
from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import Page, html_table
from falco_lab.analysis.report.registry import ReportContext, Section


def _mitre(df: pd.DataFrame, page: Page, options: ReportOptions) -> None:
    page.add('<section id="mitre"><h2>MITRE ATT&amp;CK</h2>')
    summary = mitre_summary(df)
    page.figure(matrix_figure(summary=summary))
    if not summary.empty:
        page.add(
            "<details><summary>Tactic / technique table</summary>"
            + html_table(summary, SUMMARY_COLUMNS, limit=options.caps.mitre_rows)
            + "</details>"
        )
    if options.rules is not None:
        cov = coverage(options.rules, summary=summary)
        page.add("<h3>Coverage of the loaded rules</h3>")
        page.figure(coverage_figure(cov))
        page.add(
            "<details><summary>Coverage table</summary>"
            + html_table(cov, limit=options.caps.mitre_rows)
            + "</details>"
        )
    else:
        page.add(
            '<p class="note">No rules were given, so detection coverage is not shown '
            "(pass <code>--rules</code>).</p>"
        )
    page.add("</section>")


def _render(ctx: ReportContext) -> None:
    _mitre(ctx.df, ctx.page, ctx.options)


SECTION = Section("mitre", "ATT&CK", _render)
