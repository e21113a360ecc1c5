"""Namespaces and pods through the API: create, wait until Running, delete, clean up."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from falco_lab.cluster.kube import (
    KubeClients,
    call,
    is_conflict,
    is_forbidden,
    is_namespace_terminating,
    is_not_found,
    labels_of,
    name_of,
    namespace_of,
    read_or_none,
)
from falco_lab.workshop.interface import ClusterError, PodNotReadyError
from falco_lab.workshop.manifests import (
    LAST_RUN_ANNOTATION,
    NAMESPACE,
    PROJECT_LABELS,
    PROJECT_SELECTOR,
    namespace_manifest,
)

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


def _namespace_phase(clients: KubeClients, name: str) -> str | None:
    """The namespace's phase (``Active``, ``Terminating``), or None when it does not exist."""
    ns = read_or_none(
        f"read namespace {name}", clients.core.read_namespace, name, _request_timeout=clients.request_timeout
    )
    if ns is None:
        return None
    return str(ns.status.phase) if ns.status is not None and ns.status.phase else "Active"


def wait_gone(
    what: str,
    exists: Callable[[], bool],
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll ``exists`` until it is False; :class:`ClusterError` naming ``what`` after ``timeout`` s."""
    deadline = clock() + timeout
    while exists():
        if clock() >= deadline:
            raise ClusterError(f"{what} is still being deleted after {timeout:g} s; try again later")
        sleep(POLL_INTERVAL)


def ensure_namespace(
    clients: KubeClients,
    name: str = NAMESPACE,
    *,
    timeout: float = 120,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Create the project namespace unless it exists; True when it was created.

    A namespace that is being deleted (``Terminating``, e.g. just after ``cleanup``) is
    waited for, then created anew.  A 409 on create (someone created it meanwhile) is
    success, unless that namespace is itself terminating.
    """
    for _ in range(3):
        phase = _namespace_phase(clients, name)
        if phase == "Terminating":
            wait_gone(
                f"namespace {name}",
                lambda: _namespace_phase(clients, name) is not None,
                timeout=timeout,
                sleep=sleep,
                clock=clock,
            )
        elif phase is not None:
            return False
        try:
            call(
                f"create namespace {name}",
                clients.core.create_namespace,
                namespace_manifest(name),
                _request_timeout=clients.request_timeout,
            )
        except ClusterError as exc:
            if is_conflict(exc):
                continue  # created meanwhile, or still terminating: look again
            raise
        return True
    raise ClusterError(f"namespace {name} keeps conflicting on create (409); try again later")


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
    ensure_namespace(clients, namespace, timeout=timeout, sleep=sleep, clock=clock)
    mark_test_run(clients, namespace)
    for attempt in range(3):
        try:
            call(
                f"create pod {namespace}/{name}",
                clients.core.create_namespaced_pod,
                namespace,
                manifest,
                _request_timeout=clients.request_timeout,
            )
            break
        except ClusterError as exc:
            if attempt == 2:
                raise
            if is_conflict(exc):
                # the pod of an earlier run is still terminating: wait for it to go
                wait_gone(
                    f"pod {namespace}/{name}",
                    lambda: _pod_exists(clients, name, namespace),
                    timeout=timeout,
                    sleep=sleep,
                    clock=clock,
                )
            elif is_namespace_terminating(exc):
                ensure_namespace(clients, namespace, timeout=timeout, sleep=sleep, clock=clock)
            else:
                raise
    return wait_running(clients, name, namespace, timeout=timeout, sleep=sleep, clock=clock)


def _pod_exists(clients: KubeClients, name: str, namespace: str) -> bool:
    pod = read_or_none(
        f"read pod {namespace}/{name}",
        clients.core.read_namespaced_pod,
        name,
        namespace,
        _request_timeout=clients.request_timeout,
    )
    return pod is not None


def mark_test_run(clients: KubeClients, namespace: str = NAMESPACE, *, now: datetime | None = None) -> bool:
    """Stamp the namespace with :data:`LAST_RUN_ANNOTATION` when no project pod is in it (a run starts).

    Returns True when it stamped.  Pods of the same run (created while others of the
    project still exist) leave the stamp alone, so it marks the run's first pod.
    """
    running = call(
        f"list falco-lab pods in {namespace}",
        clients.core.list_namespaced_pod,
        namespace,
        label_selector=PROJECT_SELECTOR,
        _request_timeout=clients.request_timeout,
    ).items
    if running:
        return False
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    call(
        f"annotate namespace {namespace}",
        clients.core.patch_namespace,
        namespace,
        {"metadata": {"annotations": {LAST_RUN_ANNOTATION: stamp}}},
        _request_timeout=clients.request_timeout,
    )
    return True


def last_test_run(clients: KubeClients, namespace: str = NAMESPACE) -> datetime | None:
    """When the last run of the workshop tests started (:func:`mark_test_run`), or None.

    None when the namespace does not exist or carries no stamp; a stamp that is not an
    ISO 8601 time is an error naming it.
    """
    ns = read_or_none(
        f"read namespace {namespace}",
        clients.core.read_namespace,
        namespace,
        _request_timeout=clients.request_timeout,
    )
    if ns is None:
        return None
    meta = ns.metadata
    stamp = (meta.annotations or {}).get(LAST_RUN_ANNOTATION) if meta is not None else None
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ClusterError(
            f"namespace {namespace}: annotation {LAST_RUN_ANNOTATION}={stamp!r} is not an ISO 8601 time"
        ) from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


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


def _delete(
    clients: KubeClients, what: str, func: Callable[..., object], *args: object, **kwargs: object
) -> bool:
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
    return _delete(
        clients, f"pod {namespace}/{name}", clients.core.delete_namespaced_pod, name, namespace, **grace
    )


@dataclass(slots=True)
class Labelled:
    """What carries the project's labels, and what could not be searched (RBAC)."""

    pods: list[Any] = field(default_factory=list)
    policies: list[Any] = field(default_factory=list)
    namespaces: list[Any] = field(default_factory=list)
    unsearched: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        """``kind/namespace/name`` of every object found."""
        return (
            [f"pod/{namespace_of(p)}/{name_of(p)}" for p in self.pods]
            + [f"networkpolicy/{namespace_of(p)}/{name_of(p)}" for p in self.policies]
            + [f"namespace/{name_of(n)}" for n in self.namespaces]
        )


@dataclass(slots=True)
class CleanupReport:
    """What :func:`cleanup` removed, and what it could not search (listing was forbidden)."""

    removed: list[str] = field(default_factory=list)
    unsearched: list[str] = field(default_factory=list)


def _list(clients: KubeClients, what: str, func: Callable[..., Any], *args: Any) -> list[Any]:
    return list(
        call(
            f"list falco-lab {what}",
            func,
            *args,
            label_selector=PROJECT_SELECTOR,
            _request_timeout=clients.request_timeout,
        ).items
    )


def find_labelled(clients: KubeClients, namespace: str = NAMESPACE) -> Labelled:
    """Everything carrying the project's labels, searched cluster-wide.

    With RBAC limited to one namespace (listing across namespaces answers 403), the
    search falls back to ``namespace`` and :attr:`Labelled.unsearched` says what was not
    searched.  Other errors propagate.
    """
    found = Labelled()
    for kind, plural, everywhere, here in (
        ("pods", "pods", clients.core.list_pod_for_all_namespaces, clients.core.list_namespaced_pod),
        (
            "policies",
            "network policies",
            clients.networking.list_network_policy_for_all_namespaces,
            clients.networking.list_namespaced_network_policy,
        ),
    ):
        try:
            items = _list(clients, plural, everywhere)
        except ClusterError as exc:
            if not is_forbidden(exc):
                raise
            found.unsearched.append(
                f"{plural} outside namespace {namespace}: listing them in all namespaces is forbidden"
            )
            items = _list(clients, f"{plural} in {namespace}", here, namespace)
        setattr(found, kind, items)
    try:
        found.namespaces = _list(clients, "namespaces", clients.core.list_namespace)
    except ClusterError as exc:
        if not is_forbidden(exc):
            raise
        found.unsearched.append(f"namespaces other than {namespace}: listing namespaces is forbidden")
        try:
            ns = call(
                f"read namespace {namespace}",
                clients.core.read_namespace,
                namespace,
                _request_timeout=clients.request_timeout,
            )
        except ClusterError as read_exc:
            if not (is_not_found(read_exc) or is_forbidden(read_exc)):
                raise
            if is_forbidden(read_exc):
                found.unsearched.append(f"namespace {namespace}: reading it is forbidden")
        else:
            labels = labels_of(ns)
            if all(labels.get(k) == v for k, v in PROJECT_LABELS.items()):
                found.namespaces = [ns]
    return found


def labelled_objects(clients: KubeClients, namespace: str = NAMESPACE) -> list[str]:
    """``kind/namespace/name`` of everything carrying the project's labels (what cleanup removes)."""
    return find_labelled(clients, namespace).names()


def cleanup(clients: KubeClients, namespace: str = NAMESPACE) -> CleanupReport:
    """Delete everything carrying the project's labels; report each object and what was not searched.

    Pods and NetworkPolicies are searched in every namespace (the response step may
    label objects elsewhere), or only in ``namespace`` when RBAC forbids more; the project
    namespace goes last. Errors on one object do not stop the others; they are raised
    together at the end.
    """
    found = find_labelled(clients, namespace)
    report = CleanupReport(unsearched=list(found.unsearched))
    errors: list[str] = []

    def remove(label: str, delete: Callable[..., bool], *args: object) -> None:
        try:
            if delete(*args):
                report.removed.append(label)
        except ClusterError as exc:
            errors.append(str(exc))

    for pod in found.pods:
        ns, name = namespace_of(pod), name_of(pod)
        remove(f"pod/{ns}/{name}", delete_pod, clients, name, ns)
    for policy in found.policies:
        ns, name = namespace_of(policy), name_of(policy)
        remove(
            f"networkpolicy/{ns}/{name}",
            _delete,
            clients,
            f"networkpolicy {ns}/{name}",
            clients.networking.delete_namespaced_network_policy,
            name,
            ns,
        )
    for ns_obj in found.namespaces:
        name = name_of(ns_obj)
        remove(
            f"namespace/{name}", _delete, clients, f"namespace {name}", clients.core.delete_namespace, name
        )
    if errors:
        raise ClusterError(
            "cleanup incomplete (removed: "
            + (", ".join(report.removed) or "nothing")
            + "): "
            + "; ".join(errors)
        )
    return report
