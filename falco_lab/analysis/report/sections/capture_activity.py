"""What the processes did: per alerting process, its files, connections and children in the
capture(s) given with the alerts (``ReportOptions.capture``); left out without a capture."""

from __future__ import annotations

from falco_lab.analysis._html import esc, shorten
from falco_lab.analysis.capture_activity import ROW_COLUMNS, CaptureActivity, activity_rows, capture_activity
from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section

#: Characters of a file name, endpoint or command line shown in a cell.
MAX_CELL_CHARS = 300
#: Files, connections and children listed per process; (alert, process) entries listed.
MAX_ITEMS = 20
MAX_PROCESSES = 50


def _notes(activity: CaptureActivity) -> str:
    notes = []
    if activity.processes_more:
        notes.append(f"{activity.processes_more:,} more alerting process(es) not shown")
    if activity.unmatched:
        text = f"{activity.unmatched:,} alert(s) whose process is not in the capture within the window"
        if activity.other_host:
            text += (
                f" ({activity.other_host:,} of them found on another host name: the alerts' hostname is not "
                "the capture's)"
            )
        notes.append(text)
    if activity.unplaced:
        notes.append(f"{activity.unplaced:,} alert(s) name no process (no proc.pid, proc.vpid or proc.name)")
    return "".join(f'<p class="note">{esc(n)}.</p>' for n in notes)


def _body(ctx: ReportContext) -> str:
    options = ctx.options
    assert options.capture is not None
    before, after = options.capture_window
    activity = capture_activity(
        ctx.df, options.capture, before=before, after=after, max_items=MAX_ITEMS, max_processes=MAX_PROCESSES
    )
    intro = (
        f"<p>For each alert, the process it names found in the capture ({len(options.capture):,} events; "
        "matched by host, container id, pid or vpid, name and time) and what it did from "
        f"{esc(f'{before:g}')} s before to {esc(f'{after:g}')} s after the alert: files opened (with "
        "their open flags; written ones first), connections, and the processes it started. Lists are "
        f"capped at {MAX_ITEMS} items per process.</p>"
    )
    if not activity.processes:
        return intro + "<p>No alerting process was found in the capture.</p>" + _notes(activity)
    rows = activity_rows(activity)
    for column in ("what", "detail"):
        rows[column] = [shorten(str(v), MAX_CELL_CHARS) for v in rows[column]]
    table = html_table(rows, list(ROW_COLUMNS))
    return intro + table + _notes(activity)


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("capture-activity", "What the processes did", _body(ctx)))


def _shown(options: ReportOptions) -> bool:
    return options.capture is not None


SECTION = Section("capture-activity", "Processes (capture)", _render, shown=_shown)
