"""Building the report: the header, then every registered section, rendered as one page."""

from __future__ import annotations

import secrets
from dataclasses import fields, replace
from pathlib import Path

import pandas as pd

from falco_lab.analysis._html import esc, shorten
from falco_lab.analysis.fields import is_simulated
from falco_lab.analysis.report import sections  # noqa: F401  (importing it registers the built-in sections)
from falco_lab.analysis.report.archive import ArchiveAggregates
from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import Page, render, section
from falco_lab.analysis.report.registry import SECTIONS, ReportContext
from falco_lab.analysis.sources import attribution_cache
from falco_lab.events.load_diagnostics import ATTRS_KEY
from falco_lab.events.schema import empty_frame

__all__ = ["build_report", "write_report"]

_NO_EVENTS = "No events: the input is empty or the filters removed every alert."


def _load_notes(report: object, cap: int) -> str:
    """Load warnings (converted times) and the duplicate count, escaped and capped."""
    notes = list(getattr(report, "warnings", ()))
    duplicates = int(getattr(report, "duplicates", 0) or 0)
    if not notes and not duplicates:
        return ""
    items = "".join(f"<li><code>{esc(shorten(str(n), 400))}</code></li>" for n in notes[:cap])
    more = f"<li>… {len(notes) - cap:,} more</li>" if len(notes) > cap else ""
    dup = (
        f"<li>{duplicates:,} duplicate alert{'s' if duplicates != 1 else ''} dropped (same uuid, or same "
        "time, rule, output and hostname)</li>"
        if duplicates
        else ""
    )
    return f'<div class="note"><b>Loading changed the data:</b><ul>{dup}{items}{more}</ul></div>'


def _load_problems(df: pd.DataFrame, cap: int) -> str:
    report = df.attrs.get("load_report")
    if report is None:
        return ""
    notes = _load_notes(report, cap)
    if not getattr(report, "problems", ()):
        return notes
    problems = list(report.problems)
    items = "".join(f"<li><code>{esc(p)}</code></li>" for p in problems[:cap])
    more = f"<li>… {len(problems) - cap:,} more</li>" if len(problems) > cap else ""
    return (
        f'<div class="warn"><b>{len(problems):,} input record{"s were" if len(problems) != 1 else " was"} '
        "rejected while loading</b>"
        f"<ul>{items}{more}</ul></div>" + notes
    )


def build_report(
    df: pd.DataFrame | ArchiveAggregates, options: ReportOptions | None = None, **kwargs: object
) -> str:
    """Render the post-mortem report for the alerts in ``df`` as one HTML string.

    Parameters
    ----------
    df:
        Canonical events frame (already filtered; see
        :func:`~falco_lab.analysis.fields.filter_alerts`), or a Parquet archive opened out
        of core with :func:`~falco_lab.analysis.report.archive.open_archive` (filtered
        there): its aggregates are DuckDB queries and only the rows the sections show
        are materialised (:mod:`~falco_lab.analysis.report.archive_sections`).
    options:
        :class:`ReportOptions`; keyword arguments override its fields
        (``build_report(df, title="...", simulated=True)``).

    Returns
    -------
    str
        A complete HTML document with plotly.js embedded once; no external resource is
        referenced.  An empty frame gives a report that says there are no events.
    """
    options = options or ReportOptions()
    unknown = sorted(set(kwargs) - {f.name for f in fields(ReportOptions)})
    if unknown:
        raise TypeError(f"unknown report option {unknown[0]!r}")
    options = replace(options, **kwargs)  # type: ignore[arg-type]  # the caller's options object is left as it was
    with attribution_cache():  # every section attributes the same frame: once
        if isinstance(df, ArchiveAggregates):
            frame = df.candidates() if df.total else empty_frame()
            frame.attrs.setdefault(ATTRS_KEY, df.load_report)
            return _build(frame, options, df)
        return _build(df, options, None)


def _build(df: pd.DataFrame, options: ReportOptions, archive: ArchiveAggregates | None) -> str:
    simulated = options.simulated if options.simulated is not None else is_simulated(df)
    nonce = secrets.token_urlsafe(18)
    page = Page(nonce)
    generated = f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M:%S}Z"

    page.add(f"<h1>{esc(options.title)}</h1>")
    if simulated:
        page.add(
            '<div class="banner" role="alert">SIMULATED DATA — these alerts were produced by falco-lab\'s '
            "simulate mode (a simulated cluster and falco-lab's own rules engine), not by Falco on a real "
            "cluster.</div>"
        )
    header = [f"generated {esc(generated)}"]
    if options.sources:
        header.append("sources: " + ", ".join(f"<code>{esc(s)}</code>" for s in options.sources))
    if options.filters:
        header.append(
            "filters: " + ", ".join(f"<code>{esc(k)}={esc(v)}</code>" for k, v in options.filters.items())
        )
    page.add(f'<p class="note">{" · ".join(header)}</p>' + _load_problems(df, options.caps.load_notes))
    renderers = {}
    if archive is not None:
        from falco_lab.analysis.report.archive_sections import ARCHIVE_RENDERERS, archive_note

        page.add(archive_note(archive))
        renderers = ARCHIVE_RENDERERS

    if df.empty:
        page.add(section("summary", "Summary", f'<p class="empty"><b>{esc(_NO_EVENTS)}</b></p>'))
    else:
        shown = [s for s in SECTIONS if s.shown is None or s.shown(options)]
        page.add("<nav>" + "".join(f'<a href="#{esc(s.anchor)}">{esc(s.nav)}</a>' for s in shown) + "</nav>")
        ctx = ReportContext(df, options, page, archive=archive)
        if archive is not None and any(s.anchor == "noise" for s in shown):
            from falco_lab.analysis.report.archive_sections import prefetch

            prefetch(archive)
        for registered in shown:
            renderers.get(registered.anchor, registered.render)(ctx)
    return render(page, options, simulated)


def write_report(
    df: pd.DataFrame | ArchiveAggregates,
    path: str | Path,
    options: ReportOptions | None = None,
    **kwargs: object,
) -> Path:
    """Write :func:`build_report` to ``path`` (UTF-8), creating its folder, and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(df, options, **kwargs), encoding="utf-8")
    return path
