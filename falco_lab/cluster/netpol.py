"""Is a NetworkPolicy enforced on this cluster?  Isolation says so instead of assuming it.

On EKS the VPC CNI enforces NetworkPolicies only when its network policy agent runs with
``--enable-network-policy=true`` (the add-on's ``enableNetworkPolicy`` setting; the
agent is a container of the ``kube-system/aws-node`` DaemonSet), and never for pods on
Fargate.  Calico (``calico-node``) or Cilium (``cilium``) DaemonSets enforce them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from falco_lab.cluster.kube import KubeClients, is_forbidden, read_or_none
from falco_lab.workshop.interface import ClusterError

#: The VPC CNI DaemonSet and the flag of its network policy agent.
VPC_CNI = ("kube-system", "aws-node")
AGENT_FLAG = "--enable-network-policy=true"
#: Other enforcers, by DaemonSet (namespace, name).
OTHER_ENFORCERS: dict[str, tuple[tuple[str, str], ...]] = {
    "Calico": (("kube-system", "calico-node"), ("calico-system", "calico-node")),
    "Cilium": (("kube-system", "cilium"),),
}


@dataclass(frozen=True, slots=True)
class Enforcement:
    """Whether NetworkPolicies are enforced (None: could not tell), by what, and why."""

    enforced: bool | None
    by: str
    detail: str

    @property
    def label(self) -> str:
        """``ENFORCED``, ``NOT ENFORCED`` or ``ENFORCEMENT UNKNOWN``: what isolation prints."""
        if self.enforced is None:
            return "ENFORCEMENT UNKNOWN"
        return "ENFORCED" if self.enforced else "NOT ENFORCED"


def _daemonset(clients: KubeClients, namespace: str, name: str) -> Any | None:
    return read_or_none(
        f"read daemonset {namespace}/{name}",
        clients.apps.read_namespaced_daemon_set,
        name,
        namespace,
        _request_timeout=clients.request_timeout,
    )


def _agent_enabled(ds: Any) -> bool:
    spec = ds.spec.template.spec if ds.spec and ds.spec.template else None
    for container in (spec.containers if spec else None) or []:
        is_agent = container.name == "aws-eks-nodeagent" or "aws-network-policy-agent" in (
            container.image or ""
        )
        if is_agent and AGENT_FLAG in (container.args or []) + (container.command or []):
            return True
    return False


def network_policy_enforcement(clients: KubeClients) -> Enforcement:
    """Detect who enforces NetworkPolicies: the VPC CNI's agent, Calico, Cilium, or nobody.

    A refusal to read the DaemonSets (RBAC) gives ``enforced=None`` with the reason.
    """
    try:
        for name, places in OTHER_ENFORCERS.items():
            for namespace, ds_name in places:
                if _daemonset(clients, namespace, ds_name) is not None:
                    return Enforcement(
                        True, name, f"{name} DaemonSet {namespace}/{ds_name} enforces NetworkPolicies"
                    )
        cni = _daemonset(clients, *VPC_CNI)
    except ClusterError as exc:
        if is_forbidden(exc):
            return Enforcement(None, "", f"cannot tell: {exc}")
        raise
    if cni is None:
        return Enforcement(
            False, "", "no VPC CNI, Calico or Cilium DaemonSet found: nothing enforces NetworkPolicies"
        )
    if _agent_enabled(cni):
        return Enforcement(
            True,
            "VPC CNI",
            f"VPC CNI network policy agent runs with {AGENT_FLAG} (never for pods on Fargate nodes)",
        )
    return Enforcement(
        False,
        "",
        "the VPC CNI's network policy agent is off: set enableNetworkPolicy to true in the vpc-cni "
        "add-on configuration (and never on Fargate)",
    )
