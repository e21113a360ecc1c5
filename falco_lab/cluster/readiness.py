"""Is Falco up?  Judged as ``kubectl rollout status`` judges a rollout, then the pods themselves.

For the Falco DaemonSet, the falcosidekick and UI Deployments and the UI's Redis
StatefulSet: the controller has observed the current spec (``observedGeneration >=
generation``), every replica is updated and available (ready for a StatefulSet), and no
Deployment ran past its progress deadline.  Each Falco pod must be Ready with a restart
count that does not move between two reads: Falco loads its rules before it serves
``/healthz``, so Ready means the rules loaded.  Falco's start-up log lines are extra
evidence (engine, rules files, the project's ``rules.d`` files), never required: kubelet
rotates logs at 10Mi and only the newest file can be read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from falco_lab.cluster.falco_logs import analyse_falco_log
from falco_lab.cluster.kube import KubeClients, call, labels_of, name_of
from falco_lab.workshop import chart
from falco_lab.workshop.interface import READINESS_COLUMNS, ClusterError

#: Label selector of the Falco DaemonSet's pods (release ``falco``).
FALCO_POD_SELECTOR = f"app.kubernetes.io/name=falco,app.kubernetes.io/instance={chart.RELEASE}"
#: Bytes of each Falco log read for the start-up lines.
LOG_LIMIT_BYTES = 2_000_000
#: Seconds between the two reads of the Falco pods' restart counts.
RESTART_SETTLE_SECONDS = 3.0
#: Where the chart mounts ``customRules`` (one file each).
RULES_D = "/etc/falco/rules.d"


def _row(component: str, ready: bool, detail: str) -> dict[str, object]:
    return {"component": component, "ready": bool(ready), "detail": detail}


def _n(value: Any) -> int:
    return int(value or 0)


def _observed(obj: Any) -> bool:
    generation = _n(getattr(obj.metadata, "generation", 0) if obj.metadata else 0)
    observed = _n(getattr(obj.status, "observed_generation", 0) if obj.status else 0)
    return generation <= observed


def daemonset_rollout(ds: Any) -> tuple[bool, str]:
    """``(done, message)`` of a DaemonSet's rollout, as ``kubectl rollout status`` decides it."""
    st = ds.status
    if st is None or not _observed(ds):
        return False, "waiting for the DaemonSet spec update to be observed"
    desired = _n(st.desired_number_scheduled)
    if _n(st.updated_number_scheduled) < desired:
        return False, f"{_n(st.updated_number_scheduled)} of {desired} new pods updated"
    if _n(st.number_available) < desired:
        return False, f"{_n(st.number_available)} of {desired} updated pods available"
    if desired == 0:
        return False, "no pod scheduled (no node matches, or every node is tainted)"
    return True, f"{desired} pods updated and available"


def deployment_rollout(dep: Any) -> tuple[bool, str]:
    """``(done, message)`` of a Deployment's rollout, as ``kubectl rollout status`` decides it."""
    st = dep.status
    if st is None or not _observed(dep):
        return False, "waiting for the Deployment spec update to be observed"
    for cond in st.conditions or []:
        if cond.type == "Progressing" and cond.reason == "ProgressDeadlineExceeded":
            return False, f"exceeded its progress deadline: {cond.message or ''}".strip()
    want = dep.spec.replicas if dep.spec and dep.spec.replicas is not None else 1
    if _n(st.updated_replicas) < want:
        return False, f"{_n(st.updated_replicas)} of {want} new replicas updated"
    if _n(st.replicas) > _n(st.updated_replicas):
        return False, f"{_n(st.replicas) - _n(st.updated_replicas)} old replicas pending termination"
    if _n(st.available_replicas) < _n(st.updated_replicas):
        return False, f"{_n(st.available_replicas)} of {_n(st.updated_replicas)} updated replicas available"
    return True, f"{want} replicas updated and available"


def statefulset_rollout(sts: Any) -> tuple[bool, str]:
    """``(done, message)`` of a StatefulSet's rollout, as ``kubectl rollout status`` decides it."""
    st = sts.status
    if st is None or not _n(st.observed_generation) or not _observed(sts):
        return False, "waiting for the StatefulSet spec update to be observed"
    want = sts.spec.replicas if sts.spec and sts.spec.replicas is not None else 1
    if _n(st.ready_replicas) < want:
        return False, f"{_n(st.ready_replicas)} of {want} pods ready"
    strategy = sts.spec.update_strategy if sts.spec else None
    rolling = getattr(strategy, "rolling_update", None)
    partition = _n(getattr(rolling, "partition", 0))
    if partition > 0:
        if _n(st.updated_replicas) < want - partition:
            return False, f"partitioned rollout: {_n(st.updated_replicas)} of {want - partition} pods updated"
        return True, f"partitioned rollout complete: {_n(st.updated_replicas)} pods updated"
    if st.update_revision and st.current_revision != st.update_revision:
        return False, f"rolling update to revision {st.update_revision} in progress"
    return True, f"{want} pods ready"


def _schedulable_nodes(clients: KubeClients) -> list[str]:
    nodes = call("list nodes", clients.core.list_node, _request_timeout=clients.request_timeout).items
    names = []
    for node in nodes:
        labels = labels_of(node)
        if labels.get("eks.amazonaws.com/compute-type") == "fargate":
            continue
        if labels.get("kubernetes.io/os", "linux") != "linux":
            continue
        names.append(name_of(node))
    return names


def daemonset_status(clients: KubeClients, namespace: str = chart.FALCO_NAMESPACE) -> dict[str, object]:
    ds = call(
        f"read daemonset {namespace}/{chart.DAEMONSET}",
        clients.apps.read_namespaced_daemon_set,
        chart.DAEMONSET,
        namespace,
        _request_timeout=clients.request_timeout,
    )
    done, message = daemonset_rollout(ds)
    desired = _n(ds.status.desired_number_scheduled) if ds.status else 0
    nodes = _schedulable_nodes(clients)
    detail = f"{message}; {len(nodes)} Linux nodes (Fargate aside)"
    if desired < len(nodes):
        detail += "; not scheduled on every node (taints? add tolerations in values.yaml)"
    return _row("falco daemonset", done and desired >= len(nodes), detail)


def _ready(pod: Any) -> bool:
    conditions = pod.status.conditions if pod.status else None
    return any(c.type == "Ready" and c.status == "True" for c in conditions or [])


def _restarts(pod: Any) -> int:
    statuses = pod.status.container_statuses if pod.status else None
    return sum(_n(cs.restart_count) for cs in statuses or [])


def _falco_pods(clients: KubeClients, namespace: str) -> list[Any]:
    return list(
        call(
            f"list Falco pods in {namespace}",
            clients.core.list_namespaced_pod,
            namespace,
            label_selector=FALCO_POD_SELECTOR,
            _request_timeout=clients.request_timeout,
        ).items
    )


def falco_pod_status(
    clients: KubeClients,
    namespace: str = chart.FALCO_NAMESPACE,
    *,
    settle: float = RESTART_SETTLE_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, object]]:
    """One row per Falco pod: Ready, with a restart count that stays put over ``settle`` seconds."""
    first = _falco_pods(clients, namespace)
    if not first:
        return [_row("falco pods", False, f"no pods match {FALCO_POD_SELECTOR} in {namespace}")]
    sleep(settle)
    second = {name_of(p): p for p in _falco_pods(clients, namespace)}
    rows = []
    for pod in first:
        name = name_of(pod)
        node = pod.spec.node_name if pod.spec else "?"
        later = second.get(name)
        if later is None:
            rows.append(_row(f"falco pod {name}", False, f"node {node}: the pod went away while checking"))
            continue
        before, after = _restarts(pod), _restarts(later)
        if after != before:
            rows.append(
                _row(f"falco pod {name}", False, f"node {node}: restarting ({before} -> {after} restarts)")
            )
        elif not _ready(later):
            rows.append(_row(f"falco pod {name}", False, f"node {node}: not Ready ({after} restarts)"))
        else:
            rows.append(_row(f"falco pod {name}", True, f"node {node}: Ready, {after} restarts, stable"))
    return rows


def falco_log_status(clients: KubeClients, namespace: str = chart.FALCO_NAMESPACE) -> list[dict[str, object]]:
    """Evidence from each Falco pod's log: the engine, the rules files, the project's ``rules.d`` files.

    A log without its start-up lines (rotated) confirms nothing and fails nothing: the
    row follows the pod's Ready condition and says so.  Rules errors or missing project
    rules files in the log make the row not ready.
    """
    pods = _falco_pods(clients, namespace)
    if not pods:
        return [_row("falco logs", False, f"no pods match {FALCO_POD_SELECTOR} in {namespace}")]
    project = [f"{RULES_D}/{name}" for name in chart.CUSTOM_RULES_FILES]
    rows = []
    for pod in pods:
        name = name_of(pod)
        text = call(
            f"read log of {namespace}/{name}",
            clients.core.read_namespaced_pod_log,
            name,
            namespace,
            container="falco",
            limit_bytes=LOG_LIMIT_BYTES,
            _request_timeout=clients.request_timeout,
        )
        status = analyse_falco_log(text)
        node = pod.spec.node_name if pod.spec else "?"
        ready = _ready(pod)
        if status.engine is None:
            rows.append(
                _row(
                    f"falco engine {name}",
                    ready,
                    f"node {node}: start-up lines not in the current log (rotated at 10Mi?); "
                    f"engine not confirmed, pod {'Ready' if ready else 'not Ready'}",
                )
            )
        else:
            rows.append(
                _row(f"falco engine {name}", status.modern_ebpf, f"node {node}: opened {status.engine}")
            )
        errors = f"; errors: {' | '.join(status.errors[:3])}" if status.errors else ""
        if not status.rules_files and not status.errors:
            rows.append(
                _row(
                    f"falco rules {name}",
                    ready,
                    "rules files not in the current log (rotated?); "
                    f"pod {'Ready: Falco loaded its rules' if ready else 'not Ready'}",
                )
            )
            continue
        files = ", ".join(f"{p} ({r})" for p, r in status.rules_files.items()) or "no rules files listed"
        missing = status.missing_rules(project)
        absent = f"; project rules not loaded: {', '.join(missing)}" if missing else ""
        rows.append(_row(f"falco rules {name}", status.rules_ok and not missing, f"{files}{errors}{absent}"))
    return rows


def deployment_status(
    clients: KubeClients, name: str, component: str, namespace: str = chart.FALCO_NAMESPACE
) -> dict[str, object]:
    dep = call(
        f"read deployment {namespace}/{name}",
        clients.apps.read_namespaced_deployment,
        name,
        namespace,
        _request_timeout=clients.request_timeout,
    )
    done, message = deployment_rollout(dep)
    return _row(component, done, message)


def statefulset_status(
    clients: KubeClients, name: str, component: str, namespace: str = chart.FALCO_NAMESPACE
) -> dict[str, object]:
    sts = call(
        f"read statefulset {namespace}/{name}",
        clients.apps.read_namespaced_stateful_set,
        name,
        namespace,
        _request_timeout=clients.request_timeout,
    )
    done, message = statefulset_rollout(sts)
    return _row(component, done, message)


def run_readiness(
    clients: KubeClients,
    namespace: str = chart.FALCO_NAMESPACE,
    *,
    settle: float = RESTART_SETTLE_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> pd.DataFrame:
    """Readiness table; a component that cannot be read is a not-ready row with the reason."""
    rows: list[dict[str, object]] = []
    steps: list[tuple[str, Callable[[], list[dict[str, object]]]]] = [
        ("falco daemonset", lambda: [daemonset_status(clients, namespace)]),
        ("falco pods", lambda: falco_pod_status(clients, namespace, settle=settle, sleep=sleep)),
        ("falco logs", lambda: falco_log_status(clients, namespace)),
        (
            "falcosidekick",
            lambda: [deployment_status(clients, chart.SIDEKICK_DEPLOYMENT, "falcosidekick", namespace)],
        ),
        (
            "falcosidekick-ui",
            lambda: [deployment_status(clients, chart.UI_DEPLOYMENT, "falcosidekick-ui", namespace)],
        ),
        (
            "falcosidekick-ui redis",
            lambda: [
                statefulset_status(clients, chart.REDIS_STATEFULSET, "falcosidekick-ui redis", namespace)
            ],
        ),
    ]
    for component, step in steps:
        try:
            rows += step()
        except ClusterError as exc:
            rows.append(_row(component, False, str(exc)))
    return pd.DataFrame(rows, columns=list(READINESS_COLUMNS))
