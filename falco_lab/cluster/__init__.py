"""Cluster mode: Falco on a real (EKS) cluster through the official ``kubernetes`` client and ``helm``.

:class:`~falco_lab.cluster.eks.EKSCluster` implements :class:`falco_lab.workshop.Cluster`;
``falco_lab.lab.connect(mode="cluster")`` builds one from a kubeconfig or in-cluster config.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EKSCluster"]


def __getattr__(name: str) -> Any:
    # EKSCluster pulls in the kubernetes client (slow to import): load it on first use.
    if name == "EKSCluster":
        from falco_lab.cluster.eks import EKSCluster

        return EKSCluster
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
