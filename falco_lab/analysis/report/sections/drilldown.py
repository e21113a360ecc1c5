"""The drill-down treemap and the stories of the most severe pods."""

from __future__ import annotations

from falco_lab.analysis._html import esc
from falco_lab.analysis.drilldown import PodStory, drilldown_figure, pod_stories
from falco_lab.analysis.fields import column
from falco_lab.analysis.report.options import more_note
from falco_lab.analysis.report.page import fmt_time, html_table
from falco_lab.analysis.report.registry import ReportContext, Section


def _story(story: PodStory, rows: int) -> str:
    head = (
        f"<summary><b>{esc(story.title)}</b> — {story.alerts:,} alerts, {esc(fmt_time(story.first_seen))} → "
        f"{esc(fmt_time(story.last_seen))}</summary>"
    )
    meta = (
        f"<p>nodes: {esc(', '.join(story.nodes) or '-')}; containers: {esc(', '.join(story.containers) or '-')}; "
        + esc(", ".join(f"{k} {v}" for k, v in story.priorities.items()))
        + "</p>"
    )
    blocks = [head, meta]
    for title, table, col in (
        ("Rules", story.rules, "rule"),
        ("Commands", story.commands, "cmdline"),
        ("Files", story.files, "file"),
        ("Connections", story.connections, "connection"),
    ):
        if not table.empty:
            extra = ["max_priority"] if "max_priority" in table.columns else []
            blocks.append(
                f"<h4>{esc(title)}</h4>"
                + html_table(table, [col, "alerts", "first_seen", "last_seen", *extra], limit=rows)
            )
    if story.lineage:
        blocks.append(f"<h4>Process lineage</h4><pre>{esc(story.lineage)}</pre>")
    return f'<details class="story">{"".join(blocks)}</details>'


def _render(ctx: ReportContext) -> None:
    df, options, page = ctx.df, ctx.options, ctx.page
    page.add('<section id="drilldown"><h2>Drill-down</h2>')
    caps = options.caps
    page.figure(drilldown_figure(df, max_leaves=caps.drilldown_boxes, schema=options.schema))
    stories = pod_stories(df, caps.pod_stories, options.schema, max_lineage_nodes=caps.story_lineage_nodes)
    if stories:
        pods = column(df, options.schema.namespace).fillna("") + "/" + column(df, options.schema.pod)
        more = more_note(int(pods.nunique()), len(stories), "pods")
        page.add(
            "<h3>Pod stories (most severe pods)</h3>"
            + "".join(_story(s, caps.story_rows) for s in stories)
            + (f'<p class="note">{esc(more)}</p>' if more else "")
        )
    page.add("</section>")


SECTION = Section("drilldown", "Drill-down", _render)
