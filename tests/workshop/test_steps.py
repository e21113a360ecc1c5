"""run_workshop_tests / workshop_pods on any Cluster: a minimal in-memory one here."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from falco_lab.workshop.interface import ClusterError, ExecResult
from falco_lab.workshop.manifests import POD_NAMES
from falco_lab.workshop.steps import RESULT_COLUMNS, run_workshop_tests, workshop_pods


class MemoryCluster:
    mode, context = "memory", "memory"

    def __init__(self, *, exec_error: str = "", create_error: dict | None = None) -> None:
        self.pods: set[str] = set()
        self.log: list[str] = []
        self.exec_error = exec_error
        self.create_error = create_error or {}

    def create_pod(self, manifest, *, timeout=120):
        name = manifest["metadata"]["name"]
        self.pods.add(name)
        self.log.append(f"create {name}")
        if name in self.create_error:
            raise ClusterError(self.create_error[name])
        return name

    def exec_in_pod(self, pod, command, *, namespace="falco-lab", tty=False):
        self.log.append(f"exec {pod} tty={tty}")
        if self.exec_error:
            raise ClusterError(self.exec_error)
        now = datetime.now(UTC)
        return ExecResult(pod, namespace, list(command), tty, "ok\n", "", 0, now, now)

    def delete_pod(self, pod, *, namespace="falco-lab"):
        self.log.append(f"delete {pod}")
        self.pods.discard(pod)


def test_rows_columns_and_order():
    cluster = MemoryCluster()
    frame = run_workshop_tests(cluster)
    assert tuple(frame.columns) == RESULT_COLUMNS
    assert list(frame["tty"]) == [True, False, False, False]
    assert isinstance(frame["started"].dtype, pd.DatetimeTZDtype) and str(frame["started"].dt.tz) == "UTC"
    assert frame["ok"].all() and cluster.pods == set()


def test_exec_failure_is_a_failed_row_and_pods_are_still_deleted():
    cluster = MemoryCluster(exec_error="exec in pod falco-lab/falco-lab-shell: forbidden")
    frame = run_workshop_tests(cluster).set_index("step")
    assert not frame.loc["shell-tty", "ok"] and "forbidden" in frame.loc["shell-tty", "detail"]
    assert frame.loc["host-etc-mount", "ok"]
    assert cluster.pods == set()


def test_pods_are_deleted_in_reverse_order_of_creation():
    cluster = MemoryCluster()
    with workshop_pods(cluster):
        pass
    assert [line for line in cluster.log if line.startswith("delete")] == [
        f"delete {n}" for n in reversed(POD_NAMES)
    ]


def test_error_in_the_body_propagates_after_cleanup():
    cluster = MemoryCluster()
    with pytest.raises(RuntimeError, match="boom"), workshop_pods(cluster):
        raise RuntimeError("boom")
    assert cluster.pods == set()


def test_create_error_propagates_when_strict_and_the_failed_pod_is_deleted_too():
    cluster = MemoryCluster(create_error={POD_NAMES[1]: "quota exceeded"})
    with pytest.raises(ClusterError, match="quota exceeded"), workshop_pods(cluster):
        pass
    assert cluster.log[-2:] == [f"delete {POD_NAMES[1]}", f"delete {POD_NAMES[0]}"]
    assert POD_NAMES[2] not in " ".join(cluster.log)
