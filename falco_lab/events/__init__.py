"""Falco / falcosidekick events as one pandas DataFrame, and plotly charts of them.

The public API:

* :func:`load_events` - JSON-lines files (``.gz`` too), directories, ``"-"`` (stdin),
  open files, JSON arrays, webhook payloads, Parquet archives and falcosidekick-ui URLs
  -> the canonical frame (:mod:`falco_lab.events.schema`), with a :class:`LoadReport`
  in ``df.attrs["load_report"]`` (:func:`load_report`);
* :func:`frame_from_alerts` - decoded alerts (e.g. from the rules engine), same typing;
* :func:`read_webhook`, :func:`read_pod_logs` / :func:`load_pod_logs` (the Falco
  DaemonSet's logs), :class:`SidekickUIClient`, :func:`post_event` / :func:`post_events`;
* :func:`to_parquet` / :func:`read_parquet` - exact archives;
* :func:`export_events` - OCSF (as falcosidekick's Security Lake output), ECS NDJSON,
  Falco JSON lines or the Parquet archive, for a SIEM;
* charts: ``counts_by_*``, ``timeline_by_*``, ``top_namespaces``, ``top_pods``,
  ``rule_hour_heatmap`` (plotly is imported on first use).

>>> from falco_lab.events import load_events, load_report
>>> df = load_events("alerts.jsonl.gz", "http://localhost:2802", since="24h")  # doctest: +SKIP
>>> print(load_report(df).summary())  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

#: Public name -> the module defining it.  Nothing is imported until a name is first used
#: (PEP 562), so ``import falco_lab.events.schema`` (as the rules engine does) stays light:
#: no pyarrow, requests or plotly until a loader, the UI client or a chart is needed.
_EXPORTS: dict[str, str] = {
    "BadRecordsWarning": "load",
    "export_events": "export",
    "frame_from_alerts": "load",
    "load_events": "load",
    "read_parquet": "parquet",
    "to_parquet": "parquet",
    "load_pod_logs": "podlogs",
    "read_pod_logs": "podlogs",
    "LoadError": "load_diagnostics",
    "LoadReport": "load_diagnostics",
    "Problem": "load_diagnostics",
    "load_report": "load_diagnostics",
    "BASE_COLUMNS": "schema",
    "empty_frame": "schema",
    "SidekickUIClient": "sidekick_ui",
    "SidekickUIError": "sidekick_ui",
    "post_event": "sidekick_ui",
    "post_events": "sidekick_ui",
    "read_webhook": "webhook",
    # charts: plotly is slow to import and the CLI needs none
    "counts_by_hostname": "charts",
    "counts_by_priority": "charts",
    "counts_by_rule": "charts",
    "counts_by_source": "charts",
    "counts_by_tag": "charts",
    "rule_hour_heatmap": "charts",
    "timeline_by_priority": "charts",
    "timeline_by_source": "charts",
    "top_namespaces": "charts",
    "top_pods": "charts",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from falco_lab.events.charts import (
        counts_by_hostname,
        counts_by_priority,
        counts_by_rule,
        counts_by_source,
        counts_by_tag,
        rule_hour_heatmap,
        timeline_by_priority,
        timeline_by_source,
        top_namespaces,
        top_pods,
    )
    from falco_lab.events.export import export_events
    from falco_lab.events.load import BadRecordsWarning, frame_from_alerts, load_events
    from falco_lab.events.load_diagnostics import LoadError, LoadReport, Problem, load_report
    from falco_lab.events.parquet import read_parquet, to_parquet
    from falco_lab.events.podlogs import load_pod_logs, read_pod_logs
    from falco_lab.events.schema import BASE_COLUMNS, empty_frame
    from falco_lab.events.sidekick_ui import SidekickUIClient, SidekickUIError, post_event, post_events
    from falco_lab.events.webhook import read_webhook


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "BASE_COLUMNS",
    "BadRecordsWarning",
    "LoadError",
    "LoadReport",
    "Problem",
    "SidekickUIClient",
    "SidekickUIError",
    "counts_by_hostname",
    "counts_by_priority",
    "counts_by_rule",
    "counts_by_source",
    "counts_by_tag",
    "empty_frame",
    "export_events",
    "frame_from_alerts",
    "load_events",
    "load_pod_logs",
    "load_report",
    "post_event",
    "post_events",
    "read_parquet",
    "read_pod_logs",
    "read_webhook",
    "rule_hour_heatmap",
    "timeline_by_priority",
    "timeline_by_source",
    "to_parquet",
    "top_namespaces",
    "top_pods",
]
