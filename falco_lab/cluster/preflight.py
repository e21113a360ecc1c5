"""Checks before installing Falco: cluster, nodes (kernel → driver), helm, namespace.

The result is a table (``check``, ``status``, ``detail``) with ``status`` one of
``ok``, ``warn`` or ``fail``; nothing here changes the cluster.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from falco_lab.cluster.helm import MIN_HELM, Helm
from falco_lab.cluster.kube import KubeClients, call, labels_of, name_of, read_or_none
from falco_lab.cluster.netpol import network_policy_enforcement
from falco_lab.workshop import chart
from falco_lab.workshop.drivers import MODERN_EBPF_MIN_KERNEL, driver_advice, kernel_version
from falco_lab.workshop.interface import PREFLIGHT_COLUMNS, ClusterError
from falco_lab.workshop.manifests import NAMESPACE, PROJECT_LABELS


def _row(check: str, status: str, detail: str) -> dict[str, str]:
    return {"check": check, "status": status, "detail": detail}


def check_api(clients: KubeClients) -> list[dict[str, str]]:
    info = call(
        "read the API server version", clients.version.get_code, _request_timeout=clients.request_timeout
    )
    return [_row("cluster reachable", "ok", f"context {clients.context}: Kubernetes {info.git_version}")]


def check_nodes(clients: KubeClients) -> list[dict[str, str]]:
    nodes = call("list nodes", clients.core.list_node, _request_timeout=clients.request_timeout).items
    if not nodes:
        return [_row("nodes", "fail", "the cluster has no nodes: Falco's DaemonSet has nowhere to run")]
    rows = []
    for node in nodes:
        name = name_of(node)
        info = node.status.node_info if node.status else None
        labels = labels_of(node)
        if labels.get("eks.amazonaws.com/compute-type") == "fargate" or name.startswith("fargate-"):
            rows.append(_row(f"node {name}", "warn", "Fargate node: DaemonSets (Falco) cannot run there"))
            continue
        if info is None:
            rows.append(_row(f"node {name}", "warn", "the node reports no nodeInfo"))
            continue
        status, advice = driver_advice(info.kernel_version, info.os_image, info.operating_system)
        runtime = info.container_runtime_version or "unknown runtime"
        if runtime.startswith("docker://"):
            advice += "; runtime is Docker: enable collectors.containerEngine.engines.docker"
        rows.append(_row(f"node {name}", status, f"{advice}; {runtime}, {info.architecture}"))
    return rows


def check_helm(helm: Helm) -> list[dict[str, str]]:
    path = helm.path()
    if path is None:
        return [
            _row(
                "helm",
                "fail",
                f"{helm.binary!r} not found on PATH: install Helm 3.10+ or Helm 4 (https://helm.sh)",
            )
        ]
    version = helm.version()
    shown = ".".join(map(str, version))
    if version[:2] < MIN_HELM:
        return [_row("helm", "fail", f"helm {shown} at {path} is too old; need {MIN_HELM[0]}.{MIN_HELM[1]}+")]
    return [
        _row("helm", "ok", f"helm {shown} at {path}; chart {chart.CHART_NAME} {chart.CHART_VERSION} pinned")
    ]


def check_release(helm: Helm) -> list[dict[str, str]]:
    """Whether the Falco release is already installed (``helm status``)."""
    status = helm.status()
    if status is None:
        return [
            _row(f"release {chart.RELEASE}", "ok", f"not installed in namespace {chart.FALCO_NAMESPACE} yet")
        ]
    level = "ok" if status == "deployed" else "warn"
    return [
        _row(
            f"release {chart.RELEASE}",
            level,
            f"helm release is {status} in namespace {chart.FALCO_NAMESPACE}",
        )
    ]


def check_namespace(clients: KubeClients, namespace: str = NAMESPACE) -> list[dict[str, str]]:
    ns = read_or_none(
        f"read namespace {namespace}",
        clients.core.read_namespace,
        namespace,
        _request_timeout=clients.request_timeout,
    )
    if ns is None:
        return [_row(f"namespace {namespace}", "ok", "absent; created with the test pods")]
    labels = labels_of(ns)
    phase = ns.status.phase if ns.status else None
    if phase == "Terminating":
        return [_row(f"namespace {namespace}", "warn", "being deleted; wait before running the tests")]
    if any(labels.get(k) != v for k, v in PROJECT_LABELS.items()):
        return [
            _row(
                f"namespace {namespace}",
                "warn",
                "exists but was not created by falco-lab; its objects are not cleaned up by falco-lab",
            )
        ]
    pods = call(
        f"list pods in {namespace}",
        clients.core.list_namespaced_pod,
        namespace,
        _request_timeout=clients.request_timeout,
    ).items
    names = ", ".join(name_of(p) for p in pods) or "no pods"
    return [_row(f"namespace {namespace}", "ok", f"exists (falco-lab's): {names}")]


def check_network_policy(clients: KubeClients) -> list[dict[str, str]]:
    """Whether ``respond``'s isolation would be enforced (VPC CNI agent, Calico, Cilium)."""
    found = network_policy_enforcement(clients)
    status = "ok" if found.enforced else "warn"
    return [_row("network policy", status, f"{found.label}: {found.detail}")]


def run_preflight(clients: KubeClients, helm: Helm, namespace: str = NAMESPACE) -> pd.DataFrame:
    """All checks as a table; a check that cannot run becomes a ``fail`` row with the reason."""
    checks: list[tuple[str, Callable[[], list[dict[str, str]]]]] = [
        ("cluster reachable", lambda: check_api(clients)),
        ("nodes", lambda: check_nodes(clients)),
        ("helm", lambda: check_helm(helm)),
        (f"release {chart.RELEASE}", lambda: check_release(helm)),
        (f"namespace {namespace}", lambda: check_namespace(clients, namespace)),
        ("network policy", lambda: check_network_policy(clients)),
    ]
    rows: list[dict[str, str]] = []
    reachable = True
    for name, check in checks:
        if not reachable and name != "helm":
            rows.append(_row(name, "fail", "skipped: the cluster is not reachable"))
            continue
        if name.startswith("release") and helm.path() is None:
            rows.append(_row(name, "warn", "skipped: helm is missing"))
            continue
        try:
            rows += check()
        except ClusterError as exc:
            rows.append(_row(name, "fail", str(exc)))
            reachable = reachable and name != "cluster reachable"
    return pd.DataFrame(rows, columns=list(PREFLIGHT_COLUMNS))


__all__ = ["MODERN_EBPF_MIN_KERNEL", "driver_advice", "kernel_version", "run_preflight"]
