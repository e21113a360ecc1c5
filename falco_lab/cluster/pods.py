"""Namespaces and pods through the API: create, wait until Running, delete, clean up."""

from __future__ import annotations

import time
from collections.abc import Callable

from falco_lab.cluster.kube import KubeClients, call, is_not_found
from falco_lab.workshop.interface import ClusterError, PodNotReadyError
from falco_lab.workshop.manifests import NAMESPACE, PROJECT_SELECTOR, namespace_manifest

#: Seconds between two pod status polls.
POLL_INTERVAL = 1.0
#: Container waiting reasons that never resolve by waiting.
FATAL_WAITING_REASONS = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)


def ensure_namespace(clients: KubeClients, name: str = NAMESPACE) -> bool:
    """Create the project namespace unless it exists; True when it was created."""
    try:
        call(
            f"read namespace {name}",
            clients.core.read_namespace,
            name,
            _request_timeout=clients.request_timeout,
        )
        return False
    except ClusterError as exc:
        if not is_not_found(exc):
            raise
    call(
        f"create namespace {name}",
        clients.core.create_namespace,
        namespace_manifest(name),
        _request_timeout=clients.request_timeout,
    )
    return True


def pod_problem(pod) -> str:
    """A short description of why a pod is not Running (phase, conditions, container states)."""
    status = pod.status
    if status is None:
        return "no status yet"
    parts = [f"phase {status.phase}"]
    for cond in status.conditions or []:
        if cond.status != "True" and (cond.reason or cond.message):
            parts.append(f"{cond.type}: {cond.reason or ''} {cond.message or ''}".strip())
    for cs in status.container_statuses or []:
        state = cs.state
        if state and state.waiting:
            parts.append(
                f"container {cs.name} waiting: {state.waiting.reason} {state.waiting.message or ''}".strip()
            )
        elif state and state.terminated:
            parts.append(
                f"container {cs.name} terminated: {state.terminated.reason} (exit {state.terminated.exit_code})"
            )
    return "; ".join(parts)


def pod_events(clients: KubeClients, name: str, namespace: str) -> str:
    """The last warning events of a pod (e.g. a failed hostPath type check), best effort."""
    try:
        events = call(
            f"list events of {namespace}/{name}",
            clients.core.list_namespaced_event,
            namespace,
            field_selector=f"involvedObject.name={name}",
            _request_timeout=clients.request_timeout,
        ).items
    except ClusterError:
        return ""
    warnings = [e.message for e in events if e.type == "Warning" and e.message]
    return " | ".join(warnings[-3:])


def create_pod(
    clients: KubeClients,
    manifest: dict,
    *,
    timeout: float = 120,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Create the pod (and its namespace), wait until it is Running; return its name.

    Raises :class:`PodNotReadyError` after ``timeout`` seconds, or at once when a
    container can never start (image pull errors, failed phase).
    """
    name = manifest["metadata"]["name"]
    namespace = manifest["metadata"].get("namespace", NAMESPACE)
    ensure_namespace(clients, namespace)
    call(
        f"create pod {namespace}/{name}",
        clients.core.create_namespaced_pod,
        namespace,
        manifest,
        _request_timeout=clients.request_timeout,
    )
    return wait_running(clients, name, namespace, timeout=timeout, sleep=sleep, clock=clock)


def wait_running(
    clients: KubeClients,
    name: str,
    namespace: str = NAMESPACE,
    *,
    timeout: float = 120,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Poll the pod until it is Running; see :func:`create_pod`."""
    deadline = clock() + timeout
    while True:
        pod = call(
            f"read pod {namespace}/{name}",
            clients.core.read_namespaced_pod,
            name,
            namespace,
            _request_timeout=clients.request_timeout,
        )
        phase = pod.status.phase if pod.status else None
        if phase == "Running":
            return name
        if phase in ("Failed", "Succeeded"):
            raise PodNotReadyError(name, namespace, pod_problem(pod))
        waiting = [
            cs.state.waiting.reason
            for cs in (pod.status.container_statuses or [] if pod.status else [])
            if cs.state and cs.state.waiting
        ]
        if any(reason in FATAL_WAITING_REASONS for reason in waiting):
            raise PodNotReadyError(name, namespace, pod_problem(pod))
        if clock() >= deadline:
            reason = f"not Running after {timeout:g} s: {pod_problem(pod)}"
            events = pod_events(clients, name, namespace)
            raise PodNotReadyError(name, namespace, reason + (f"; events: {events}" if events else ""))
        sleep(POLL_INTERVAL)


def _delete(clients: KubeClients, what: str, func: Callable[..., object], *args: object, **kwargs: object) -> bool:
    """Delete one object (``what``: ``"pod ns/name"``...); False when it did not exist (HTTP 404)."""
    try:
        call(f"delete {what}", func, *args, _request_timeout=clients.request_timeout, **kwargs)
    except ClusterError as exc:
        if is_not_found(exc):
            return False
        raise
    return True


def delete_pod(
    clients: KubeClients, name: str, namespace: str = NAMESPACE, *, grace_seconds: int | None = 1
) -> bool:
    """Delete a pod; False when it did not exist.  ``grace_seconds=None``: the pod's own grace period."""
    grace = {} if grace_seconds is None else {"grace_period_seconds": grace_seconds}
    return _delete(clients, f"pod {namespace}/{name}", clients.core.delete_namespaced_pod, name, namespace, **grace)


def _labelled(clients: KubeClients, what: str, list_func: Callable[..., object]) -> list:
    """The objects carrying the project's labels that ``list_func`` (a cluster-wide list call) finds."""
    return call(
        f"list falco-lab {what}", list_func, label_selector=PROJECT_SELECTOR, _request_timeout=clients.request_timeout
    ).items


def labelled_objects(clients: KubeClients) -> list[str]:
    """``kind/namespace/name`` of everything carrying the project's labels (what cleanup removes)."""
    found = [
        f"pod/{p.metadata.namespace}/{p.metadata.name}"
        for p in _labelled(clients, "pods", clients.core.list_pod_for_all_namespaces)
    ]
    found += [
        f"networkpolicy/{p.metadata.namespace}/{p.metadata.name}"
        for p in _labelled(clients, "network policies", clients.networking.list_network_policy_for_all_namespaces)
    ]
    found += [f"namespace/{n.metadata.name}" for n in _labelled(clients, "namespaces", clients.core.list_namespace)]
    return found


def cleanup(clients: KubeClients, namespace: str = NAMESPACE) -> list[str]:
    """Delete everything carrying the project's labels; return ``kind/namespace/name`` of each.

    Pods and NetworkPolicies are searched in every namespace (the response step may
    label objects elsewhere); the project namespace goes last. Errors on one object do
    not stop the others; they are raised together at the end.
    """
    removed: list[str] = []
    errors: list[str] = []

    def remove(label: str, delete: Callable[..., bool], *args: object) -> None:
        try:
            if delete(*args):
                removed.append(label)
        except ClusterError as exc:
            errors.append(str(exc))

    for pod in _labelled(clients, "pods", clients.core.list_pod_for_all_namespaces):
        ns, name = pod.metadata.namespace, pod.metadata.name
        remove(f"pod/{ns}/{name}", delete_pod, clients, name, ns)
    try:
        policies = _labelled(clients, "network policies", clients.networking.list_network_policy_for_all_namespaces)
    except ClusterError as exc:
        errors.append(str(exc))
        policies = []
    for policy in policies:
        ns, name = policy.metadata.namespace, policy.metadata.name
        delete_policy = clients.networking.delete_namespaced_network_policy
        remove(f"networkpolicy/{ns}/{name}", _delete, clients, f"networkpolicy {ns}/{name}", delete_policy, name, ns)
    for ns in _labelled(clients, "namespaces", clients.core.list_namespace):
        name = ns.metadata.name
        remove(f"namespace/{name}", _delete, clients, f"namespace {name}", clients.core.delete_namespace, name)
    if errors:
        raise ClusterError(
            "cleanup incomplete (removed: " + (", ".join(removed) or "nothing") + "): " + "; ".join(errors)
        )
    return removed
