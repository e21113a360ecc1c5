""" "Still going on?": last activity per place and Falco's blind spots."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis._html import esc
from falco_lab.analysis.activity import ACTIVE_WITHIN, blind_spots, collection_time, still_active
from falco_lab.analysis.report.options import ReportCaps, ReportOptions
from falco_lab.analysis.report.page import fmt_time, html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section


def collected_at(df: pd.DataFrame, options: ReportOptions) -> pd.Timestamp | None:
    """When the alerts were collected: ``options.collected_at``, else the loaded files' mtime (UTC)."""
    if options.collected_at is not None:
        stamp = pd.Timestamp(options.collected_at)  # type: ignore[arg-type]
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    report = df.attrs.get("load_report")
    return collection_time(getattr(report, "sources", ()) or options.sources)


def _activity(df: pd.DataFrame, options: ReportOptions) -> str:
    collected = collected_at(df, options)
    caps = options.caps
    table = still_active(df, options.schema, collected, max_processes=caps.activity_processes)
    return activity_html(table, blind_spots(df, options.schema), df["time"].max(), collected, caps)


def activity_html(
    table: pd.DataFrame,
    spots: pd.DataFrame,
    end: pd.Timestamp,
    collected: pd.Timestamp | None,
    caps: ReportCaps,
) -> str:
    """The section's body from :func:`~falco_lab.analysis.activity.still_active`'s table and the blind spots."""
    active = table[table["status"] == "active at the end"]
    when = (
        f"collected at {esc(fmt_time(collected))} ({(collected - end).total_seconds():,.0f} s after the last alert)"
        if collected is not None
        else "collection time unknown (pass --collected-at)"
    )
    lead = (
        f"<p>The data ends at {esc(fmt_time(end))}; {when}. "
        f"<b>{len(active):,} place{'s' if len(active) != 1 else ''} still alerting in the last "
        f"{ACTIVE_WITHIN.total_seconds() / 60:.0f} min of the data.</b> Alerts do not record process exits: "
        "the processes listed may still be running.</p>"
    )
    parts = [
        lead,
        html_table(
            table,
            [
                "place",
                "status",
                "alerts",
                "last_seen",
                "quiet_before_end",
                "quiet_before_collection",
                "last_processes",
            ],
            limit=caps.activity_rows,
            headers={
                "quiet_before_end": "quiet before end (s)",
                "quiet_before_collection": "quiet before collection (s)",
            },
        ),
    ]
    if len(spots):
        parts.append(
            "<h3>Blind spots</h3><p>Falco reported trouble of its own (dropped events ...) in these windows: "
            "what happened there may be missing from the data.</p>"
            + html_table(spots, limit=caps.activity_rows)
        )
    else:
        parts.append("<p>No Falco health alert (event drops) in the data: no known blind spot.</p>")
    return "".join(parts)


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("activity", "Still going on?", _activity(ctx.df, ctx.options)))


SECTION = Section("activity", "Still going on?", _render)
