"""Responding to alerts: label, isolate (deny-all NetworkPolicy) or delete the offending pods.

:func:`plan_response` only *plans*; :func:`apply_response` carries a plan out and is
called only when the user asks for it explicitly (``falco-lab cluster respond --apply``).
Isolation keeps the pod (and its evidence) but cuts all its traffic; deleting it loses
the evidence, so ``delete`` is not among the default actions.

Given a :data:`PodLookup` (cluster mode), planning checks each pod as falco-talon does
before every action: a pod that is gone gets a ``skip`` step, and ``delete`` of a pod that
a controller would recreate (ReplicaSet, StatefulSet, DaemonSet, Job) becomes the owner's
action (scale the Deployment or StatefulSet to 0) or a ``skip`` saying why not.
:func:`apply_response` checks again right before each step, goes on after a failure and
reports every step's outcome.

Each action is a registered unit (:class:`ResponseAction` in :data:`RESPONSES`, in the
order they run for one pod): how it plans its steps for an offending pod and how it
carries one step out.  Adding an action is one :func:`register_response` call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from falco_lab.cluster.kube import KubeClients, call, is_conflict, is_not_found
from falco_lab.cluster.pods import delete_pod
from falco_lab.priorities import PRIORITY_DTYPE, normalize_priority
from falco_lab.workshop import chart
from falco_lab.workshop.interface import ClusterError
from falco_lab.workshop.manifests import PROJECT_LABELS

DEFAULT_ACTIONS: tuple[str, ...] = ("label", "isolate")
#: Label put on an offending pod; the isolation policy selects it.
QUARANTINE_LABEL = "falco-lab/quarantine"
QUARANTINE_POLICY = "falco-lab-quarantine"
#: Namespaces never acted on by default: the control plane's helpers, Falco itself and the
#: EKS add-ons' namespaces (CloudWatch observability, Fargate logging, GuardDuty's agent...).
#: ``plan_response(protected=...)`` and ``respond --protected`` replace the set.
PROTECTED_NAMESPACES: frozenset[str] = frozenset(
    {
        "kube-system",
        "kube-public",
        "kube-node-lease",
        chart.FALCO_NAMESPACE,
        "amazon-cloudwatch",
        "aws-observability",
        "amazon-guardduty",
        "amazon-network-flow-monitor",
        "aws-privateca-issuer",
    }
)
#: Controllers that recreate a deleted pod, and what ``delete`` does instead.
SCALABLE_OWNERS: dict[str, str] = {"Deployment": "deployment", "StatefulSet": "statefulset"}
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
    priority = pd.Series(
        alerts["priority"].astype(str).map(normalize_priority), index=alerts.index, dtype=PRIORITY_DTYPE
    )
    hits = alerts[(priority >= floor).fillna(False).astype(bool)]
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


@dataclass(frozen=True, slots=True)
class PodFacts:
    """What the API says about an offending pod: does it exist, which controller owns it.

    ``owner`` is ``(kind, name)`` of the top controller (a Deployment above its
    ReplicaSet), or None for a bare pod.
    """

    exists: bool
    owner: tuple[str, str] | None = None


#: ``(namespace, pod) -> PodFacts`` (see :func:`pod_facts`).
PodLookup = Callable[[str, str], PodFacts]


@dataclass(frozen=True, slots=True)
class Target:
    """An offending pod, why it is one, and (with a lookup) what the API says about it."""

    namespace: str
    pod: str
    reason: str
    facts: PodFacts | None = None


@dataclass(slots=True)
class PlanState:
    """What earlier steps of one plan already cover (e.g. namespaces with an isolation policy)."""

    isolated_namespaces: set[str] = field(default_factory=set)


#: Plans an action's steps for one offending pod.
PlanStep = Callable[[Target, PlanState], list[Action]]
#: Carries one planned step out; returns what it did, in one line.
ApplyStep = Callable[[KubeClients, Action], str]


class ResponseRegistryError(ClusterError):
    """A response action registered twice, or implying an action that is not registered."""


@dataclass(frozen=True, slots=True)
class ResponseAction:
    """A registered response: its name, a summary, how it plans and how it applies a step.

    ``implies`` names actions that are planned with it (isolation selects pods by the
    quarantine label, so ``isolate`` implies ``label``).
    """

    name: str
    summary: str
    plan: PlanStep
    apply: ApplyStep
    implies: tuple[str, ...] = ()


#: Action name -> the registered action, in the order they run for one pod.
RESPONSES: dict[str, ResponseAction] = {}


def register_response(action: ResponseAction) -> ResponseAction:
    """Add ``action`` to :data:`RESPONSES` (after those registered before it).

    Raises
    ------
    ResponseRegistryError
        When its name is taken or it implies an action not registered yet.
    """
    if action.name in RESPONSES or action.name == "skip":
        raise ResponseRegistryError(f"response action {action.name!r} is already registered")
    missing = [name for name in action.implies if name not in RESPONSES]
    if missing:
        raise ResponseRegistryError(
            f"response action {action.name!r} implies unregistered action(s) {', '.join(missing)}"
        )
    RESPONSES[action.name] = action
    return action


def _plan_label(target: Target, state: PlanState) -> list[Action]:
    return [
        Action(
            "label",
            target.namespace,
            target.pod,
            target.reason,
            f"add label {QUARANTINE_LABEL}=true",
            label_patch(target.reason),
        )
    ]


def _apply_label(clients: KubeClients, a: Action) -> str:
    where = f"{a.namespace}/{a.pod}"
    call(
        f"label pod {where}",
        clients.core.patch_namespaced_pod,
        a.pod,
        a.namespace,
        a.body,
        _request_timeout=clients.request_timeout,
    )
    return f"labelled pod {where}"


def _plan_isolate(target: Target, state: PlanState) -> list[Action]:
    if target.namespace in state.isolated_namespaces:
        return []
    state.isolated_namespaces.add(target.namespace)
    return [
        Action(
            "isolate",
            target.namespace,
            target.pod,
            target.reason,
            f"NetworkPolicy {QUARANTINE_POLICY}: deny all traffic of pods labelled {QUARANTINE_LABEL}=true",
            quarantine_policy(target.namespace),
        )
    ]


def _apply_isolate(clients: KubeClients, a: Action) -> str:
    try:
        call(
            f"create networkpolicy {a.namespace}/{QUARANTINE_POLICY}",
            clients.networking.create_namespaced_network_policy,
            a.namespace,
            a.body,
            _request_timeout=clients.request_timeout,
        )
    except ClusterError as exc:
        if not is_conflict(exc):
            raise
        return f"networkpolicy {a.namespace}/{QUARANTINE_POLICY} already in place"
    return f"created networkpolicy {a.namespace}/{QUARANTINE_POLICY}"


def _plan_delete(target: Target, state: PlanState) -> list[Action]:
    owner = target.facts.owner if target.facts is not None else None
    if owner is None:
        return [
            Action(
                "delete",
                target.namespace,
                target.pod,
                target.reason,
                "delete the pod (evidence in it is lost)",
            )
        ]
    kind, name = owner
    if kind in SCALABLE_OWNERS:
        return [
            Action(
                "delete",
                target.namespace,
                target.pod,
                target.reason,
                f"scale {kind} {target.namespace}/{name} to 0 replicas: deleting the pod alone would "
                "have it recreated (every pod of it stops; evidence in them is lost)",
                {"scale": {"kind": kind, "name": name}},
            )
        ]
    return [
        Action(
            "skip",
            target.namespace,
            target.pod,
            target.reason,
            f"not deleted: owned by {kind} {name}, which would recreate it; isolate it, or act on the "
            f"{kind} by hand",
        )
    ]


def _apply_delete(clients: KubeClients, a: Action) -> str:
    where = f"{a.namespace}/{a.pod}"
    scale = a.body.get("scale")
    if scale:
        kind, name = scale["kind"], scale["name"]
        patch = (
            clients.apps.patch_namespaced_deployment_scale
            if kind == "Deployment"
            else clients.apps.patch_namespaced_stateful_set_scale
        )
        call(
            f"scale {kind.lower()} {a.namespace}/{name} to 0",
            patch,
            name,
            a.namespace,
            {"spec": {"replicas": 0}},
            _request_timeout=clients.request_timeout,
        )
        return f"scaled {kind.lower()} {a.namespace}/{name} to 0 (its pod {a.pod} goes with it)"
    # the pod's own termination grace period (cleanup of the test pods uses 1 s)
    deleted = delete_pod(clients, a.pod, a.namespace, grace_seconds=None)
    return f"deleted pod {where}" if deleted else f"pod {where} already gone"


register_response(
    ResponseAction("label", f"label the pod {QUARANTINE_LABEL}=true", _plan_label, _apply_label)
)
register_response(
    ResponseAction(
        "isolate",
        f"deny all traffic of labelled pods (NetworkPolicy {QUARANTINE_POLICY}, one per namespace)",
        _plan_isolate,
        _apply_isolate,
        implies=("label",),
    )
)
register_response(
    ResponseAction("delete", "delete the pod (its evidence is lost)", _plan_delete, _apply_delete)
)


def plan_response(
    alerts: pd.DataFrame,
    *,
    actions: Iterable[str] = DEFAULT_ACTIONS,
    min_priority: str = "Warning",
    protected: Iterable[str] = PROTECTED_NAMESPACES,
    lookup: PodLookup | None = None,
) -> list[Action]:
    """Plan the chosen ``actions`` for every pod with serious enough alerts.

    Actions run per pod in :data:`RESPONSES` order, each with the actions it implies; pods
    in a ``protected`` namespace get a ``skip`` step instead.  With ``lookup`` (cluster
    mode), a pod that no longer exists gets a ``skip`` step, and ``delete`` takes the
    pod's owner into account.

    Raises
    ------
    ValueError
        For an action that is not registered.
    """
    wanted = set(actions)
    unknown = wanted - set(RESPONSES)
    if unknown:
        raise ValueError(f"unknown actions {sorted(unknown)}; choose from {', '.join(RESPONSES)}")
    for name in list(wanted):
        wanted.update(RESPONSES[name].implies)
    chosen = [RESPONSES[name] for name in RESPONSES if name in wanted]
    plan: list[Action] = []
    state = PlanState()
    shielded = frozenset(protected)
    for row in offending_pods(alerts, min_priority).to_dict("records"):
        namespace, pod = str(row["namespace"]), str(row["pod"])
        reason = f"{row['alerts']} alert(s): {', '.join(map(str, row['rules']))}"
        if namespace in shielded:
            plan.append(Action("skip", namespace, pod, reason, "protected namespace: review by hand"))
            continue
        facts = lookup(namespace, pod) if lookup is not None else None
        if facts is not None and not facts.exists:
            plan.append(Action("skip", namespace, pod, reason, "pod no longer exists: nothing to do"))
            continue
        target = Target(namespace, pod, reason, facts)
        for action in chosen:
            plan.extend(action.plan(target, state))
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


@dataclass(slots=True)
class ResponseReport:
    """What :func:`apply_response` did: one line per step, and the steps that failed."""

    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    skipped: int = 0

    @property
    def ok(self) -> bool:
        """True when no step failed."""
        return not self.failures

    def summary(self) -> str:
        done = len(self.lines) - len(self.failures) - self.skipped
        text = f"{done} step(s) done, {self.skipped} skipped, {len(self.failures)} failed"
        return text + ("" if self.ok else ":\n" + "\n".join(f"  {f}" for f in self.failures))


def pod_facts(clients: KubeClients) -> PodLookup:
    """A :data:`PodLookup` on the API: reads the pod, then its controller's owner (ReplicaSet -> Deployment).

    A 404 on the pod means it is gone; any other API error propagates.
    """

    def lookup(namespace: str, pod: str) -> PodFacts:
        try:
            obj = call(
                f"read pod {namespace}/{pod}",
                clients.core.read_namespaced_pod,
                pod,
                namespace,
                _request_timeout=clients.request_timeout,
            )
        except ClusterError as exc:
            if is_not_found(exc):
                return PodFacts(exists=False)
            raise
        owner = _controller(obj)
        if owner is not None and owner[0] == "ReplicaSet":
            rs = call(
                f"read replicaset {namespace}/{owner[1]}",
                clients.apps.read_namespaced_replica_set,
                owner[1],
                namespace,
                _request_timeout=clients.request_timeout,
            )
            owner = _controller(rs) or owner
        return PodFacts(exists=True, owner=owner)

    return lookup


def _controller(obj: object) -> tuple[str, str] | None:
    meta = getattr(obj, "metadata", None)
    for ref in getattr(meta, "owner_references", None) or []:
        if ref.controller:
            return str(ref.kind), str(ref.name)
    return None


def apply_response(clients: KubeClients, plan: Sequence[Action]) -> ResponseReport:
    """Carry out ``plan`` and report every step.

    Before a step on a pod (``label``, ``delete``) the pod is read again: a pod gone since
    the plan is skipped and reported.  A step that fails is reported and the next steps
    still run; :attr:`ResponseReport.failures` lists them all.
    """
    report = ResponseReport()
    check = pod_facts(clients)
    for a in plan:
        where = f"{a.namespace}/{a.pod}"
        if a.action == "skip":
            report.lines.append(f"skipped {where}: {a.detail}")
            report.skipped += 1
            continue
        action = RESPONSES.get(a.action)
        try:
            if action is None:
                raise ClusterError(f"unknown action {a.action!r}; registered: {', '.join(RESPONSES)}")
            if a.action != "isolate" and not check(a.namespace, a.pod).exists:
                report.lines.append(f"skipped {a.action} of {where}: the pod no longer exists")
                report.skipped += 1
                continue
            report.lines.append(action.apply(clients, a))
        except ClusterError as exc:
            line = f"FAILED {a.action} {where}: {exc}"
            report.lines.append(line)
            report.failures.append(line)
    return report


#: The registered actions' names, in the order they run for one pod.
ACTIONS: tuple[str, ...] = tuple(RESPONSES)
