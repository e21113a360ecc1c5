"""The built-in report sections, registered in page order.

Each module defines one ``SECTION``; the order of the page is the tuple below.
"""

from __future__ import annotations

from falco_lab.analysis.report.registry import register_section
from falco_lab.analysis.report.sections import (
    activity,
    alerts,
    chains,
    drilldown,
    findings,
    iocs,
    lineage,
    mitre,
    noise,
    sources,
    summary,
    timeline,
)

__all__ = ["BUILT_IN"]

#: The built-in sections, in page order.
BUILT_IN = (
    chains.SECTION,
    activity.SECTION,
    summary.SECTION,
    sources.SECTION,
    findings.SECTION,
    iocs.SECTION,
    timeline.SECTION,
    drilldown.SECTION,
    lineage.SECTION,
    mitre.SECTION,
    noise.SECTION,
    alerts.SECTION,
)

for _section in BUILT_IN:
    register_section(_section)
