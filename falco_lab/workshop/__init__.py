"""The workshop's contract, independent of the mode: what simulate and cluster mode both implement.

* :mod:`~falco_lab.workshop.interface` - the :class:`Cluster` protocol, its result types and
  :class:`ClusterError` (under :class:`falco_lab.errors.FalcoLabError`);
* :mod:`~falco_lab.workshop.manifests` - the namespace, labels and the three test pods;
* :mod:`~falco_lab.workshop.steps` - the three workshop tests, run on any :class:`Cluster`;
* :mod:`~falco_lab.workshop.chart` and :mod:`~falco_lab.workshop.drivers` - facts about the
  pinned Falco chart and its drivers that both modes report.

``falco_lab.simulate`` and ``falco_lab.cluster`` import from here and never from each other;
``falco_lab.lab.connect`` chooses between them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Public name -> the module of this package that defines it (loaded on first use, so that
#: ``python -m falco_lab.workshop.manifests`` prints YAML without importing pandas).
_HOMES: dict[str, str] = {
    **dict.fromkeys(
        (
            "MODES",
            "PREFLIGHT_COLUMNS",
            "PREFLIGHT_STATUSES",
            "READINESS_COLUMNS",
            "Cluster",
            "ClusterError",
            "ExecResult",
            "PodNotReadyError",
        ),
        "interface",
    ),
    **dict.fromkeys(
        (
            "NAMESPACE",
            "POD_NAMES",
            "PROJECT_LABELS",
            "PROJECT_SELECTOR",
            "TESTS",
            "all_manifests",
            "namespace_manifest",
            "pod_manifests",
        ),
        "manifests",
    ),
    **dict.fromkeys(("alerts_per_test", "run_workshop_tests", "workshop_pods"), "steps"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)


__all__ = [
    "MODES",
    "NAMESPACE",
    "POD_NAMES",
    "PREFLIGHT_COLUMNS",
    "PREFLIGHT_STATUSES",
    "PROJECT_LABELS",
    "PROJECT_SELECTOR",
    "READINESS_COLUMNS",
    "TESTS",
    "Cluster",
    "ClusterError",
    "ExecResult",
    "PodNotReadyError",
    "alerts_per_test",
    "all_manifests",
    "namespace_manifest",
    "pod_manifests",
    "run_workshop_tests",
    "workshop_pods",
]
