"""Cluster mode: Falco on a real (EKS) cluster, and the workshop's three test pods.

``connect()`` returns a :class:`Cluster`: by default the simulated one
(``falco_lab.simulate.SimulatedCluster``), with ``mode="cluster"`` an
:class:`~falco_lab.cluster.eks.EKSCluster` on the official ``kubernetes`` client
(kubeconfig or in-cluster config).
"""

from __future__ import annotations

from typing import Any

from falco_lab.cluster.interface import Cluster, ClusterError, ExecResult, PodNotReadyError
from falco_lab.cluster.manifests import (
    NAMESPACE,
    POD_NAMES,
    PROJECT_LABELS,
    PROJECT_SELECTOR,
    TESTS,
    all_manifests,
    namespace_manifest,
    test_pod_manifests,
)
from falco_lab.cluster.workshop_tests import run_workshop_tests, test_pods

#: Accepted values of ``connect(mode=...)``.
MODES: tuple[str, ...] = ("simulate", "cluster")


def __getattr__(name: str) -> Any:
    # EKSCluster pulls in the kubernetes client (slow to import): load it on first use.
    if name == "EKSCluster":
        from falco_lab.cluster.eks import EKSCluster

        return EKSCluster
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def connect(mode: str = "simulate", **kwargs: Any) -> Cluster:
    """Return a cluster for ``mode``.

    Parameters
    ----------
    mode
        ``"simulate"`` (default; no cluster needed) or ``"cluster"`` (real cluster).
    **kwargs
        Passed to ``SimulatedCluster`` or to :class:`~falco_lab.cluster.eks.EKSCluster`
        (e.g. ``context=``, ``kubeconfig=``, ``in_cluster=``, ``values=``).
    """
    if mode == "simulate":
        from falco_lab.simulate import SimulatedCluster

        return SimulatedCluster(**kwargs)
    if mode == "cluster":
        from falco_lab.cluster.eks import EKSCluster

        return EKSCluster.from_config(**kwargs)
    raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")


__all__ = [
    "MODES",
    "NAMESPACE",
    "POD_NAMES",
    "PROJECT_LABELS",
    "PROJECT_SELECTOR",
    "TESTS",
    "Cluster",
    "EKSCluster",
    "ClusterError",
    "ExecResult",
    "PodNotReadyError",
    "all_manifests",
    "connect",
    "namespace_manifest",
    "run_workshop_tests",
    "test_pod_manifests",
    "test_pods",
]
