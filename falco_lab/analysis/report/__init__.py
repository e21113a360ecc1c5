"""The self-contained post-mortem report: one HTML file that works offline.

The package is layered: :mod:`.options` (the knobs) ← :mod:`.page` (escaped tables,
figures, the rendered document) ← :mod:`.registry` (sections in page order) ←
:mod:`.sections` (one module per built-in section) ← :mod:`.build`.  Large inputs are
aggregated (timeline bins, capped tables), so the file stays small whatever the number
of alerts.  Add a section with :func:`register_section`.
"""

from __future__ import annotations

from falco_lab.analysis.report.build import build_report, write_report
from falco_lab.analysis.report.export import export_alerts
from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.registry import SECTIONS, ReportContext, Section, register_section

__all__ = [
    "SECTIONS",
    "ReportContext",
    "ReportOptions",
    "Section",
    "build_report",
    "export_alerts",
    "register_section",
    "write_report",
]
