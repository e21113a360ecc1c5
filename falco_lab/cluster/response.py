"""Responding to alerts: label, isolate (deny-all NetworkPolicy) or delete the offending pods.

:func:`plan_response` only *plans*; :func:`apply_response` carries a plan out and is
called only when the user asks for it explicitly (``falco-lab cluster respond --apply``).
Isolation keeps the pod (and its evidence) but cuts all its traffic; deleting it loses
the evidence, so ``delete`` is not among the default actions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from falco_lab.cluster.kube import KubeClients, call, is_conflict
from falco_lab.cluster.pods import delete_pod
from falco_lab.priorities import PRIORITY_DTYPE, normalize_priority
from falco_lab.workshop import chart
from falco_lab.workshop.interface import ClusterError
from falco_lab.workshop.manifests import PROJECT_LABELS

ACTIONS: tuple[str, ...] = ("label", "isolate", "delete")
DEFAULT_ACTIONS: tuple[str, ...] = ("label", "isolate")
#: Label put on an offending pod; the isolation policy selects it.
QUARANTINE_LABEL = "falco-lab/quarantine"
QUARANTINE_POLICY = "falco-lab-quarantine"
#: Namespaces never acted on (the control plane's helpers and Falco itself).
PROTECTED_NAMESPACES: frozenset[str] = frozenset(
    {"kube-system", "kube-public", "kube-node-lease", chart.FALCO_NAMESPACE}
)
PLAN_COLUMNS: tuple[str, ...] = ("step", "action", "namespace", "pod", "reason", "detail")


@dataclass(slots=True)
class Action:
    """One planned step."""

    action: str
    namespace: str
    pod: str
    reason: str
    detail: str
    body: dict = field(default_factory=dict)


def quarantine_policy(namespace: str) -> dict:
    """Deny all ingress and egress of the namespace's pods labelled ``falco-lab/quarantine=true``.

    Labelled ``part-of: falco-lab`` but not ``managed-by``: ``cleanup`` of the test pods
    does not lift an isolation; delete the policy by hand when the incident is closed.
    """
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": QUARANTINE_POLICY,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/part-of": PROJECT_LABELS["app.kubernetes.io/part-of"],
                "falco-lab/response": "isolate",
            },
        },
        "spec": {
            "podSelector": {"matchLabels": {QUARANTINE_LABEL: "true"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [],
        },
    }


def label_patch(reason: str) -> dict:
    return {
        "metadata": {
            "labels": {QUARANTINE_LABEL: "true"},
            "annotations": {"falco-lab/quarantine-reason": reason[:500]},
        }
    }


def offending_pods(alerts: pd.DataFrame, min_priority: str = "Warning") -> pd.DataFrame:
    """One row per (namespace, pod) with alerts at ``min_priority`` or above: rules, count, first/last."""
    floor = normalize_priority(min_priority)
    if floor is None:
        raise ValueError(f"unknown priority {min_priority!r}")
    columns = ["namespace", "pod", "alerts", "rules", "first", "last"]
    if alerts.empty or not {"k8s.ns.name", "k8s.pod.name"} <= set(alerts.columns):
        return pd.DataFrame(columns=columns)
    priority = alerts["priority"].astype(str).map(normalize_priority).astype(PRIORITY_DTYPE)
    hits = alerts[(priority >= floor).fillna(False)]
    hits = hits[hits["k8s.pod.name"].notna() & hits["k8s.ns.name"].notna()]
    if hits.empty:
        return pd.DataFrame(columns=columns)
    grouped = hits.groupby(["k8s.ns.name", "k8s.pod.name"], sort=True)
    out = grouped.agg(
        alerts=("rule", "size"),
        rules=("rule", lambda s: sorted(set(map(str, s)))),
        first=("time", "min"),
        last=("time", "max"),
    ).reset_index()
    return out.rename(columns={"k8s.ns.name": "namespace", "k8s.pod.name": "pod"})[columns]


def plan_response(
    alerts: pd.DataFrame, *, actions: Iterable[str] = DEFAULT_ACTIONS, min_priority: str = "Warning"
) -> list[Action]:
    """Plan the chosen ``actions`` for every pod with serious enough alerts."""
    chosen = [a for a in ACTIONS if a in set(actions)]
    unknown = set(actions) - set(ACTIONS)
    if unknown:
        raise ValueError(f"unknown actions {sorted(unknown)}; choose from {', '.join(ACTIONS)}")
    plan: list[Action] = []
    isolated: set[str] = set()
    for row in offending_pods(alerts, min_priority).itertuples(index=False):
        reason = f"{row.alerts} alert(s): {', '.join(row.rules)}"
        if row.namespace in PROTECTED_NAMESPACES:
            plan.append(Action("skip", row.namespace, row.pod, reason, "protected namespace: review by hand"))
            continue
        if "label" in chosen or "isolate" in chosen:
            plan.append(
                Action(
                    "label",
                    row.namespace,
                    row.pod,
                    reason,
                    f"add label {QUARANTINE_LABEL}=true",
                    label_patch(reason),
                )
            )
        if "isolate" in chosen and row.namespace not in isolated:
            isolated.add(row.namespace)
            plan.append(
                Action(
                    "isolate",
                    row.namespace,
                    row.pod,
                    reason,
                    f"NetworkPolicy {QUARANTINE_POLICY}: deny all traffic of pods labelled {QUARANTINE_LABEL}=true",
                    quarantine_policy(row.namespace),
                )
            )
        if "delete" in chosen:
            plan.append(
                Action("delete", row.namespace, row.pod, reason, "delete the pod (evidence in it is lost)")
            )
    return plan


def plan_frame(plan: Sequence[Action]) -> pd.DataFrame:
    rows = [
        {
            "step": i,
            "action": a.action,
            "namespace": a.namespace,
            "pod": a.pod,
            "reason": a.reason,
            "detail": a.detail,
        }
        for i, a in enumerate(plan, 1)
    ]
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))


def format_plan(plan: Sequence[Action]) -> str:
    """The plan as text for a terminal."""
    if not plan:
        return "no pod needs a response"
    lines = [
        f"{i}. {a.action:<7} {a.namespace}/{a.pod}: {a.detail}  [{a.reason}]" for i, a in enumerate(plan, 1)
    ]
    return "\n".join(lines)


def apply_response(clients: KubeClients, plan: Sequence[Action]) -> list[str]:
    """Carry out ``plan``; return one line per step done. Stops at the first error."""
    done: list[str] = []
    t = clients.request_timeout
    for a in plan:
        where = f"{a.namespace}/{a.pod}"
        if a.action == "skip":
            done.append(f"skipped {where}: {a.detail}")
        elif a.action == "label":
            call(
                f"label pod {where}",
                clients.core.patch_namespaced_pod,
                a.pod,
                a.namespace,
                a.body,
                _request_timeout=t,
            )
            done.append(f"labelled pod {where}")
        elif a.action == "isolate":
            try:
                call(
                    f"create networkpolicy {a.namespace}/{QUARANTINE_POLICY}",
                    clients.networking.create_namespaced_network_policy,
                    a.namespace,
                    a.body,
                    _request_timeout=t,
                )
                done.append(f"created networkpolicy {a.namespace}/{QUARANTINE_POLICY}")
            except ClusterError as exc:
                if not is_conflict(exc):
                    raise
                done.append(f"networkpolicy {a.namespace}/{QUARANTINE_POLICY} already in place")
        elif a.action == "delete":
            # the pod's own termination grace period (cleanup of the test pods uses 1 s)
            deleted = delete_pod(clients, a.pod, a.namespace, grace_seconds=None)
            done.append(f"deleted pod {where}" if deleted else f"pod {where} already gone")
        else:  # pragma: no cover - plan_response never makes other actions
            raise ClusterError(f"unknown action {a.action!r}")
    return done
