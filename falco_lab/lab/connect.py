"""``connect()``: the one place that chooses between simulate mode and cluster mode."""

from __future__ import annotations

from typing import Any

from falco_lab.workshop.interface import MODES, Cluster


def connect(mode: str = "simulate", **kwargs: Any) -> Cluster:
    """Return a cluster for ``mode``.

    Parameters
    ----------
    mode
        ``"simulate"`` (default; no cluster needed) or ``"cluster"`` (real cluster).
    **kwargs
        Passed to ``falco_lab.simulate.SimulatedCluster`` or to
        ``falco_lab.cluster.eks.EKSCluster.from_config`` (e.g. ``context=``,
        ``kubeconfig=``, ``in_cluster=``, ``values=``).

    Raises
    ------
    ValueError
        For any other mode, naming the accepted ones.
    """
    if mode == "simulate":
        from falco_lab.simulate import SimulatedCluster

        return SimulatedCluster(**kwargs)
    if mode == "cluster":
        # The kubernetes client is slow to import: only cluster mode pays for it.
        from falco_lab.cluster.eks import EKSCluster

        return EKSCluster.from_config(**kwargs)
    raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
