"""The timeline: alerts per priority over time, and per lane (rule, pod, ...)."""

from __future__ import annotations

from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.analysis.timeline import priority_counts_figure, timeline_figure


def _render(ctx: ReportContext) -> None:
    df, options, page = ctx.df, ctx.options, ctx.page
    page.add('<section id="timeline"><h2>Timeline</h2>')
    page.figure(priority_counts_figure(df, ref_times=options.ref_times))
    page.figure(
        timeline_figure(
            df,
            options.group_by,
            ref_times=options.ref_times,
            schema=options.schema,
            max_groups=options.caps.timeline_lanes,
        )
    )
    page.add("</section>")


SECTION = Section("timeline", "Timeline", _render)
