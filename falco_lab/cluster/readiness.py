"""Is Falco up? DaemonSet on every node, modern eBPF opened, rules loaded, sidekick and UI ready."""

from __future__ import annotations

import pandas as pd

from falco_lab.cluster.falco_logs import analyse_falco_log
from falco_lab.cluster.kube import KubeClients, call, labels_of, name_of
from falco_lab.workshop import chart
from falco_lab.workshop.interface import READINESS_COLUMNS, ClusterError

#: Label selector of the Falco DaemonSet's pods (release ``falco``).
FALCO_POD_SELECTOR = f"app.kubernetes.io/name=falco,app.kubernetes.io/instance={chart.RELEASE}"
#: Bytes of each Falco log read for the start-up lines.
LOG_LIMIT_BYTES = 2_000_000


def _row(component: str, ready: bool, detail: str) -> dict[str, object]:
    return {"component": component, "ready": bool(ready), "detail": detail}


def _schedulable_nodes(clients: KubeClients) -> list[str]:
    nodes = call("list nodes", clients.core.list_node, _request_timeout=clients.request_timeout).items
    names = []
    for node in nodes:
        labels = labels_of(node)
        if labels.get("eks.amazonaws.com/compute-type") == "fargate":
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
    st = ds.status
    if st is None:
        return _row("falco daemonset", False, "the DaemonSet reports no status yet")
    desired, ready = st.desired_number_scheduled or 0, st.number_ready or 0
    updated = st.updated_number_scheduled or 0
    nodes = _schedulable_nodes(clients)
    ok = desired > 0 and ready == desired == updated and desired >= len(nodes)
    detail = f"{ready}/{desired} pods ready, {updated} updated, {len(nodes)} nodes"
    if desired < len(nodes):
        detail += "; not scheduled on every node (taints? add tolerations)"
    return _row("falco daemonset", ok, detail)


def falco_log_status(clients: KubeClients, namespace: str = chart.FALCO_NAMESPACE) -> list[dict[str, object]]:
    pods = call(
        f"list Falco pods in {namespace}",
        clients.core.list_namespaced_pod,
        namespace,
        label_selector=FALCO_POD_SELECTOR,
        _request_timeout=clients.request_timeout,
    ).items
    if not pods:
        return [_row("falco logs", False, f"no pods match {FALCO_POD_SELECTOR} in {namespace}")]
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
        engine_ok = status.modern_ebpf
        rows.append(
            _row(
                f"falco engine {name}",
                engine_ok,
                f"node {node}: " + (f"opened {status.engine}" if status.engine else "no engine opened yet"),
            )
        )
        files = ", ".join(f"{p} ({r})" for p, r in status.rules_files.items()) or "no rules files loaded yet"
        errors = f"; errors: {' | '.join(status.errors[:3])}" if status.errors else ""
        rows.append(_row(f"falco rules {name}", status.rules_ok, f"{files}{errors}"))
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
    want = dep.spec.replicas if dep.spec and dep.spec.replicas is not None else 1
    ready = (dep.status.ready_replicas or 0) if dep.status else 0
    return _row(component, ready >= want and want > 0, f"{ready}/{want} replicas ready")


def run_readiness(clients: KubeClients, namespace: str = chart.FALCO_NAMESPACE) -> pd.DataFrame:
    """Readiness table; a component that cannot be read is a not-ready row with the reason."""
    rows: list[dict[str, object]] = []
    steps = [
        ("falco daemonset", lambda: [daemonset_status(clients, namespace)]),
        ("falco logs", lambda: falco_log_status(clients, namespace)),
        (
            "falcosidekick",
            lambda: [deployment_status(clients, chart.SIDEKICK_DEPLOYMENT, "falcosidekick", namespace)],
        ),
        (
            "falcosidekick-ui",
            lambda: [deployment_status(clients, chart.UI_DEPLOYMENT, "falcosidekick-ui", namespace)],
        ),
    ]
    for component, step in steps:
        try:
            rows += step()
        except ClusterError as exc:
            rows.append(_row(component, False, str(exc)))
    return pd.DataFrame(rows, columns=list(READINESS_COLUMNS))
