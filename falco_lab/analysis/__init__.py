"""falco_lab.analysis: post-mortem analysis of Falco alerts on the canonical events frame.

Timeline, process lineage, drill-down and pod stories, MITRE ATT&CK view and coverage,
noise and what-if tuning, findings, indicators of compromise (JSON, CSV, STIX 2.1),
and the self-contained HTML report.
"""

from falco_lab.analysis.drilldown import PodStory, drilldown_figure, drilldown_table, pod_stories, pod_story
from falco_lab.analysis.fields import (
    DEFAULT_SCHEMA,
    PRIORITY_COLORS,
    AlertSchema,
    filter_alerts,
    is_simulated,
    parse_time_bound,
)
from falco_lab.analysis.findings import Finding, find_findings
from falco_lab.analysis.iocs import IocLimits, extract_iocs
from falco_lab.analysis.lineage import (
    ancestors,
    build_process_tree,
    children,
    select_subtrees,
    tree_figure,
    tree_to_text,
)
from falco_lab.analysis.mitre import (
    MitreTags,
    coverage,
    coverage_figure,
    matrix_figure,
    mitre_matrix,
    mitre_summary,
    parse_tags,
)
from falco_lab.analysis.noise import WhatIf, output_template, similar_alerts, top_n, what_if
from falco_lab.analysis.report import ReportOptions, build_report, export_alerts, write_report
from falco_lab.analysis.stix import stix_bundle
from falco_lab.analysis.timeline import bin_alerts, priority_counts_figure, timeline_figure

__all__ = [
    "DEFAULT_SCHEMA",
    "PRIORITY_COLORS",
    "AlertSchema",
    "Finding",
    "IocLimits",
    "MitreTags",
    "PodStory",
    "ReportOptions",
    "WhatIf",
    "ancestors",
    "bin_alerts",
    "build_process_tree",
    "build_report",
    "children",
    "coverage",
    "coverage_figure",
    "drilldown_figure",
    "drilldown_table",
    "export_alerts",
    "extract_iocs",
    "filter_alerts",
    "find_findings",
    "is_simulated",
    "matrix_figure",
    "mitre_matrix",
    "mitre_summary",
    "output_template",
    "parse_tags",
    "parse_time_bound",
    "pod_stories",
    "pod_story",
    "priority_counts_figure",
    "select_subtrees",
    "similar_alerts",
    "stix_bundle",
    "timeline_figure",
    "top_n",
    "tree_figure",
    "tree_to_text",
    "what_if",
    "write_report",
]
