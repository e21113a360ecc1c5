"""The three workshop tests, for any :class:`~falco_lab.workshop.interface.Cluster`.

:func:`workshop_pods` creates the namespace's three test pods and always deletes them
again, also when a step fails or the user presses Ctrl-C. :func:`run_workshop_tests`
exercises them and returns one row per step, with timestamps, so a notebook can join
the alerts raised in each window; :func:`alerts_per_test` relates each test to the alerts its
pods raised.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from falco_lab.workshop.interface import Cluster, ClusterError, PodNotReadyError
from falco_lab.workshop.manifests import (
    NAMESPACE,
    TEST_HOST_ETC,
    TEST_LABEL,
    TEST_RUNTIME_SOCKET,
    TEST_SHELL,
    host_paths,
    pod_manifests,
)

log = logging.getLogger(__name__)

#: Names of the project's rules (``falco_lab/data/falco-lab_rules.yaml``) per step.
RULE_SHELL_TTY = "Falco Lab Terminal Shell In Container"
RULE_SHELL_NO_TTY = "Falco Lab Shell Without Terminal In Container"
RULE_RUNTIME_SOCKET = "Falco Lab Container Runtime Socket Mounted"
RULE_SENSITIVE_HOST_PATH = "Falco Lab Sensitive Host Directory Mounted"

#: Upstream rules that fire for the same steps once stable + sandbox rules are loaded.
UPSTREAM_TERMINAL_SHELL = "Terminal shell in container"
UPSTREAM_SENSITIVE_MOUNT = "Launch Sensitive Mount Container"

#: The command test 1 runs (``sh`` is what the shell rules look for).
SHELL_COMMAND: tuple[str, ...] = ("sh", "-c", "echo falco-lab test 1; id -u")

#: Columns of :func:`run_workshop_tests`.
RESULT_COLUMNS: tuple[str, ...] = (
    "test",
    "step",
    "pod",
    "namespace",
    "action",
    "tty",
    "started",
    "finished",
    "ok",
    "exit_code",
    "detail",
    "expected_rules",
    "expected_upstream_rules",
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class PodStart:
    """One test pod's creation: when it was requested and when it ran (or why not)."""

    name: str
    test: str
    namespace: str
    host_paths: list[str]
    requested: datetime
    running: datetime | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.running is not None and not self.error


@dataclass(slots=True)
class WorkshopPods:
    """The pods :func:`workshop_pods` created, in creation order."""

    namespace: str
    starts: list[PodStart] = field(default_factory=list)

    def start_for(self, test: str) -> PodStart:
        """The start record of the pod of ``test`` (one of ``manifests.TESTS``)."""
        for start in self.starts:
            if start.test == test:
                return start
        raise KeyError(f"no test pod for {test!r}")


@contextmanager
def workshop_pods(
    cluster: Cluster,
    *,
    manifests: Sequence[dict] | None = None,
    timeout: float = 120,
    raise_on_error: bool = True,
) -> Iterator[WorkshopPods]:
    """Create the test pods (namespace included) and delete them on exit, whatever happens.

    Parameters
    ----------
    cluster
        Any :class:`Cluster` (simulated or real).
    manifests
        Pod manifests to create; default :func:`manifests.pod_manifests`.
    timeout
        Seconds to wait for each pod to be Running.
    raise_on_error
        When False, a pod that does not start is recorded in its :class:`PodStart`
        (``error``) and the others are still created; when True the error propagates
        (after cleanup).

    Yields
    ------
    WorkshopPods
        What was created and when.

    Notes
    -----
    Every pod whose creation was *attempted* is deleted on exit, also after errors and
    ``KeyboardInterrupt``. A failed deletion never hides the original error; without
    one, it raises :class:`ClusterError` naming the pods left behind.
    """
    pods = list(manifests) if manifests is not None else pod_manifests()
    namespaces = {p["metadata"].get("namespace", NAMESPACE) for p in pods}
    session = WorkshopPods(namespace=namespaces.pop() if len(namespaces) == 1 else NAMESPACE)
    attempted: list[tuple[str, str]] = []
    failed = False
    try:
        for manifest in pods:
            meta = manifest["metadata"]
            name, namespace = meta["name"], meta.get("namespace", NAMESPACE)
            start = PodStart(
                name=name,
                test=meta.get("labels", {}).get(TEST_LABEL, ""),
                namespace=namespace,
                host_paths=host_paths(manifest),
                requested=_now(),
            )
            session.starts.append(start)
            attempted.append((name, namespace))
            try:
                cluster.create_pod(manifest, timeout=timeout)
            except PodNotReadyError as exc:
                start.error = exc.reason
                if raise_on_error:
                    raise
            except ClusterError as exc:
                start.error = str(exc)
                if raise_on_error:
                    raise
            else:
                start.running = _now()
        yield session
    except BaseException:
        failed = True
        raise
    finally:
        leftovers = _delete_all(cluster, attempted)
        if leftovers and not failed:
            raise ClusterError("could not delete test pods: " + "; ".join(leftovers))


def _delete_all(cluster: Cluster, pods: list[tuple[str, str]]) -> list[str]:
    leftovers = []
    for name, namespace in reversed(pods):
        try:
            cluster.delete_pod(name, namespace=namespace)
        except Exception as exc:  # noqa: BLE001 - keep deleting the others, report all
            log.warning("could not delete pod %s/%s: %s", namespace, name, exc)
            leftovers.append(f"{namespace}/{name}: {exc}")
    return leftovers


def run_workshop_tests(cluster: Cluster, *, timeout: float = 120) -> pd.DataFrame:
    """Run the three workshop tests and return one row per step.

    Steps: ``shell-tty`` and ``shell-no-tty`` (test 1: ``sh`` exec'd into the shell
    pod with and without a terminal), ``runtime-socket-mount`` (test 2) and
    ``host-etc-mount`` (test 3: the hostPath pods start). Pods are always deleted
    afterwards. A step that fails is reported in its row (``ok`` False, ``detail``
    says why); the other steps still run.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`; ``started``/``finished`` are UTC timestamps
        bracketing the step, ``expected_rules`` the project's rules that should fire
        in that window and ``expected_upstream_rules`` the upstream ones (the mount
        tests need the sandbox ruleset for those).
    """
    rows: list[dict] = []
    action = "exec " + " ".join(SHELL_COMMAND)
    with workshop_pods(cluster, timeout=timeout, raise_on_error=False) as session:
        shell = session.start_for(TEST_SHELL)
        for tty in (True, False):
            row: dict[str, Any] = {
                "test": TEST_SHELL,
                "step": "shell-tty" if tty else "shell-no-tty",
                "pod": shell.name,
                "namespace": shell.namespace,
                "action": action,
                "tty": tty,
                "expected_rules": [RULE_SHELL_TTY if tty else RULE_SHELL_NO_TTY],
                "expected_upstream_rules": [UPSTREAM_TERMINAL_SHELL] if tty else [],
                "started": _now(),
            }
            if not shell.ok:
                row.update(finished=_now(), ok=False, detail=f"shell pod not running: {shell.error}")
            else:
                try:
                    result = cluster.exec_in_pod(
                        shell.name, list(SHELL_COMMAND), namespace=shell.namespace, tty=tty
                    )
                except ClusterError as exc:
                    row.update(finished=_now(), ok=False, detail=str(exc))
                else:
                    row.update(
                        started=result.started,
                        finished=result.finished or _now(),
                        ok=result.ok,
                        exit_code=result.exit_code,
                        detail=(result.stdout.strip() or result.stderr.strip())[:200],
                    )
            rows.append(row)
        for test, step, rule in (
            (TEST_RUNTIME_SOCKET, "runtime-socket-mount", RULE_RUNTIME_SOCKET),
            (TEST_HOST_ETC, "host-etc-mount", RULE_SENSITIVE_HOST_PATH),
        ):
            start = session.start_for(test)
            mounts = ", ".join(start.host_paths)
            rows.append(
                {
                    "test": test,
                    "step": step,
                    "pod": start.name,
                    "namespace": start.namespace,
                    "action": f"start pod mounting {mounts}",
                    "tty": False,
                    "started": start.requested,
                    "finished": start.running or _now(),
                    "ok": start.ok,
                    "detail": start.error or f"running with hostPath {mounts}",
                    "expected_rules": [rule],
                    "expected_upstream_rules": [UPSTREAM_SENSITIVE_MOUNT],
                }
            )
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    frame["exit_code"] = frame["exit_code"].astype("Int64")
    for column in ("started", "finished"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


#: Columns of :func:`alerts_per_test`.
PER_TEST_COLUMNS: tuple[str, ...] = (
    "test",
    "pod",
    "namespace",
    "detected",
    "alerts",
    "rules",
    "expected",
    "missing",
)


def alerts_per_test(steps: pd.DataFrame, alerts: pd.DataFrame) -> pd.DataFrame:
    """The alerts each workshop test raised, and whether each test was detected.

    Parameters
    ----------
    steps : pandas.DataFrame
        :func:`run_workshop_tests` output (one row per step).
    alerts : pandas.DataFrame
        Falco alerts in the canonical events frame; attributed to a test by the pod that
        raised them (``k8s.ns.name`` and ``k8s.pod.name``).

    Returns
    -------
    pandas.DataFrame
        One row per test, in test order: ``alerts`` (count), ``rules`` (sorted names),
        ``expected`` (the workshop rules its steps expect), ``missing`` (expected but not
        raised) and ``detected`` (nothing missing).
    """
    has_pods = {"k8s.pod.name", "k8s.ns.name"} <= set(alerts.columns)
    rows = []
    for test, group in steps.groupby("test", sort=False):
        pod, namespace = group["pod"].iloc[0], group["namespace"].iloc[0]
        if has_pods:
            mine = alerts[(alerts["k8s.pod.name"] == pod) & (alerts["k8s.ns.name"] == namespace)]
        else:
            mine = alerts.iloc[0:0]
        fired = sorted(set(mine["rule"].dropna().astype(str)))
        expected = sorted({rule for rules in group["expected_rules"] for rule in rules})
        missing = [rule for rule in expected if rule not in fired]
        rows.append(
            {
                "test": test,
                "pod": pod,
                "namespace": namespace,
                "detected": not missing,
                "alerts": len(mine),
                "rules": fired,
                "expected": expected,
                "missing": missing,
            }
        )
    return pd.DataFrame(rows, columns=list(PER_TEST_COLUMNS))
