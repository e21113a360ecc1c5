"""The report's options: one dataclass, documented field by field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema
from falco_lab.analysis.noise import WhatIf

__all__ = ["ReportOptions"]


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
    max_table_rows:
        Up to this many alerts are listed one per row; beyond it the table is
        aggregated per rule, priority, namespace and pod.
    sources, filters:
        Shown in the header: the input files and the filters applied.
    what_ifs:
        Results of :func:`~falco_lab.analysis.noise.what_if` shown in the noise section.
    collected_at:
        When the alerts were collected (a time or ISO text); default: the latest
        modification time of the loaded files, if any.  "Still going on?" measures quiet
        time against it.
    """

    title: str = "Falco incident post-mortem"
    simulated: bool | None = None
    ref_times: Mapping[str, object] | None = None
    rules: Iterable[object] | None = None
    group_by: str = "rule"
    max_table_rows: int = 1000
    max_lineage_nodes: int = 300
    sources: Sequence[str] = ()
    filters: Mapping[str, str] = field(default_factory=dict)
    what_ifs: Sequence[WhatIf] = ()
    schema: AlertSchema = DEFAULT_SCHEMA
    csp: bool = True
    collected_at: object = None
