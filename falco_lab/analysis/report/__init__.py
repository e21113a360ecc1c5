"""The self-contained post-mortem report: one HTML file that works offline.

The package is layered: :mod:`.options` (the knobs) ← :mod:`.page` (escaped tables,
figures, the rendered document) ← :mod:`.registry` (sections in page order) ←
:mod:`.sections` (one module per built-in section) ← :mod:`.build`.  Large inputs are
aggregated (timeline bins, tables and figures capped by :class:`ReportCaps`, each
with an explicit "N more"), so the file stays small whatever the number
of alerts.  Add a section with :func:`register_section`.
"""

from __future__ import annotations

from falco_lab.analysis.report.build import build_report, write_report
from falco_lab.analysis.report.export import export_alerts
from falco_lab.analysis.report.options import ReportCaps, ReportOptions, parse_caps
from falco_lab.analysis.report.registry import SECTIONS, ReportContext, Section, register_section

__all__ = [
    "SECTIONS",
    "ReportCaps",
    "ReportContext",
    "ReportOptions",
    "Section",
    "build_report",
    "export_alerts",
    "parse_caps",
    "register_section",
    "write_report",
]
