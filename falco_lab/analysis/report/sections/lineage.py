"""The process lineage: a tree figure, the trees as text and the process table."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis._html import esc
from falco_lab.analysis.lineage import build_process_tree, select_subtrees, tree_figure, tree_to_text
from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import Page, html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section


def _lineage(df: pd.DataFrame, page: Page, options: ReportOptions) -> None:
    tree = build_process_tree(df, options.schema)
    if tree.empty:
        page.add(
            section(
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
    page.figure(tree_figure(tree, max_nodes=options.caps.lineage_nodes))
    shown = select_subtrees(tree, options.caps.lineage_nodes)
    page.add(
        "<details><summary>Process trees as text</summary><pre>"
        + esc(tree_to_text(tree, max_nodes=options.caps.lineage_nodes))
        + "</pre></details>"
        + "<details><summary>Process table</summary>"
        + html_table(
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
            limit=options.caps.lineage_nodes,
        )
        + "</details></section>"
    )


def _render(ctx: ReportContext) -> None:
    _lineage(ctx.df, ctx.page, ctx.options)


SECTION = Section("lineage", "Lineage", _render)
