"""The report's options: one dataclass, documented field by field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

import pandas as pd

from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema
from falco_lab.analysis.noise import WhatIf
from falco_lab.analysis.triage import Mark

__all__ = ["ReportCaps", "ReportOptions", "more_note", "parse_caps"]


@dataclass(frozen=True, slots=True)
class ReportCaps:
    """How much of anything the report shows: one home for every size cap.

    Whatever the cardinality of the data (a million distinct containers, thousands of
    pods), each table, list and figure shows at most its cap and says how many more
    there are ("40 more pods not shown", an "(N more containers)" box), so the cost of a
    report and the size of its HTML are bounded.  Every cap is a positive integer;
    ``falco-lab report --cap NAME=N`` overrides one (see :func:`parse_caps`).

    Attributes
    ----------
    alert_rows:
        Alerts listed one per row; beyond it the alerts table is aggregated per rule,
        priority, namespace and pod, and that table shows this many groups.
    severe_alerts:
        The most severe alerts listed under an aggregated alerts table.
    chains:
        Attack chains shown at the top of the report (and turned into findings).
    chain_evidence:
        Evidence rows per step of an attack chain.
    findings:
        Findings listed in "Top findings".
    findings_evidence:
        Evidence items per finding.
    activity_rows:
        Places in "Still going on?" and windows in its blind-spot table.
    activity_processes:
        Latest processes named per place in "Still going on?".
    source_rows:
        Rows of the users and "who opened the shells" tables.
    top_rules, top_pods:
        Rows of the summary's top rules and top pods.
    timeline_lanes:
        Lanes of the timeline; the rest is one "N more" lane.
    drilldown_boxes:
        Process boxes of the drill-down treemap; the rest of each container, pod and
        namespace is summed into one "N more ..." box so totals stay right.
    pod_stories:
        Pods told as stories under the drill-down.
    story_rows:
        Rows per table of a pod story (rules, commands, files, connections).
    story_lineage_nodes:
        Processes in a pod story's lineage text.
    lineage_nodes:
        Processes in the lineage figure, text and table (whole trees, most severe first).
    mitre_rows:
        Rows of the tactic / technique and coverage tables.
    noise_groups:
        Groups of near-identical alerts listed in the noise section.
    noise_workloads:
        Workloads listed in the noise section.
    load_notes:
        Rejected records and load warnings listed in the header.
    """

    alert_rows: int = 1000
    severe_alerts: int = 200
    chains: int = 3
    chain_evidence: int = 5
    findings: int = 12
    findings_evidence: int = 8
    activity_rows: int = 15
    activity_processes: int = 3
    source_rows: int = 20
    top_rules: int = 10
    top_pods: int = 10
    timeline_lanes: int = 40
    drilldown_boxes: int = 300
    pod_stories: int = 5
    story_rows: int = 25
    story_lineage_nodes: int = 80
    lineage_nodes: int = 300
    mitre_rows: int = 100
    noise_groups: int = 15
    noise_workloads: int = 10
    load_notes: int = 20

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"report cap {f.name} must be a positive integer, got {value!r}")


def parse_caps(items: Iterable[str], base: ReportCaps | None = None) -> ReportCaps:
    """``NAME=N`` overrides (as ``falco-lab report --cap`` takes them) applied to ``base``.

    Raises
    ------
    ValueError
        Naming the item and the reason: no ``=``, an unknown cap (the known ones are
        listed), or a value that is not a positive integer.
    """
    known = [f.name for f in fields(ReportCaps)]
    changes: dict[str, int] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep:
            raise ValueError(f"--cap {item!r}: expected NAME=N, e.g. pod_stories=10")
        if name not in known:
            raise ValueError(f"--cap {item!r}: unknown cap {name!r}; known caps: {', '.join(known)}")
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"--cap {item!r}: {text.strip()!r} is not an integer") from None
        if value < 1:
            raise ValueError(f"--cap {item!r}: a cap must be at least 1")
        changes[name] = value
    return replace(base or ReportCaps(), **changes)


def more_note(total: int, shown: int, noun: str) -> str:
    """``"40 more pods not shown."`` when ``total`` exceeds ``shown``, else ``""`` (plain text)."""
    rest = total - shown
    return f"{rest:,} more {noun} not shown." if rest > 0 else ""


@dataclass(slots=True)
class ReportOptions:
    """Knobs of :func:`build_report`.

    Attributes
    ----------
    title:
        Report title.
    simulated:
        True/False to force the "simulated data" banner; None detects simulate mode
        from the alerts (:func:`~falco_lab.analysis.fields.is_simulated`).
    ref_times:
        Incident times drawn on the timelines (``{label: time}``).
    rules:
        Loaded rules (objects with ``name`` and ``tags``) for the ATT&CK coverage view.
    group_by:
        Lanes of the timeline (``rule``, ``pod``, ``namespace``, ``node``...).
    caps:
        The size caps of every table, list and figure (:class:`ReportCaps`).
    sources, filters:
        Shown in the header: the input files and the filters applied.
    what_ifs:
        Results of :func:`~falco_lab.analysis.noise.what_if` shown in the noise section.
    triage:
        Case-work marks (:mod:`falco_lab.analysis.triage`): listed in "Case notes",
        shown on the alerts, chains and findings they mark; false positives are set
        aside from the attack chains (with a note).
    collected_at:
        When the alerts were collected (a time or ISO text); default: the latest
        modification time of the loaded files, if any.  "Still going on?" measures quiet
        time against it.
    capture, capture_window:
        Events of syscall captures (:func:`falco_lab.capture.load_capture`, several
        concatenated) and the window around each alert, in seconds ``(before, after)``: the
        section "What the processes did" lists, per alerting process, its files,
        connections and children in that window; without a capture the section is left out.
    """

    title: str = "Falco incident post-mortem"
    simulated: bool | None = None
    ref_times: Mapping[str, object] | None = None
    rules: Iterable[object] | None = None
    group_by: str = "rule"
    caps: ReportCaps = field(default_factory=ReportCaps)
    sources: Sequence[str] = ()
    filters: Mapping[str, str] = field(default_factory=dict)
    what_ifs: Sequence[WhatIf] = ()
    triage: Sequence[Mark] = ()
    schema: AlertSchema = DEFAULT_SCHEMA
    csp: bool = True
    collected_at: object = None
    capture: pd.DataFrame | None = None
    capture_window: tuple[float, float] = (30.0, 60.0)
