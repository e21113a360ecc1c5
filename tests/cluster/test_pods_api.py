"""Pods, namespaces and cleanup against the fake API server."""

from __future__ import annotations

import pytest

from falco_lab.cluster import pods
from falco_lab.workshop.interface import ClusterError, PodNotReadyError
from falco_lab.workshop.manifests import NAMESPACE, PROJECT_LABELS, shell_pod_manifest

NO_SLEEP = {"sleep": lambda s: None}


def test_create_pod_creates_namespace_and_waits_until_running(api):
    name = pods.create_pod(api.clients(), shell_pod_manifest(), timeout=5, **NO_SLEEP)
    assert name == "falco-lab-shell"
    assert api.fake.namespaces[NAMESPACE]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "falco-lab"
    assert api.fake.pods[(NAMESPACE, name)]["status"]["phase"] == "Running"
    assert api.fake.calls("GET", r"/pods/falco-lab-shell$") == 2


def test_pod_that_never_gets_ready_times_out_with_reason_and_events(api):
    api.fake.pod_behaviour["falco-lab-shell"] = "never"
    api.fake.events[NAMESPACE] = [
        {
            "metadata": {"name": "e1"},
            "involvedObject": {"name": "falco-lab-shell"},
            "type": "Warning",
            "message": "hostPath type check failed: /var/run/docker.sock is not a socket file",
        }
    ]
    ticks = iter(range(0, 1000, 10))
    with pytest.raises(PodNotReadyError) as info:
        pods.create_pod(
            api.clients(), shell_pod_manifest(), timeout=30, clock=lambda: next(ticks), **NO_SLEEP
        )
    assert "not Running after 30 s" in info.value.reason
    assert "ContainerCreating" in info.value.reason
    assert "is not a socket file" in info.value.reason


def test_image_pull_error_fails_at_once(api):
    api.fake.pod_behaviour["falco-lab-shell"] = "pull"
    with pytest.raises(PodNotReadyError, match="ImagePullBackOff"):
        pods.create_pod(api.clients(), shell_pod_manifest(), timeout=600, **NO_SLEEP)
    assert api.fake.calls("GET", r"/pods/falco-lab-shell$") == 1


def test_forbidden_create_names_the_pod_and_the_reason(api):
    api.fake.faults[("POST", r"/namespaces/falco-lab/pods$")] = 403
    with pytest.raises(ClusterError, match=r"create pod falco-lab/falco-lab-shell: forbidden \(HTTP 403\)"):
        pods.create_pod(api.clients(), shell_pod_manifest(), timeout=5, **NO_SLEEP)


def test_delete_of_missing_pod_is_not_an_error(api):
    assert pods.delete_pod(api.clients(), "nothing-here", NAMESPACE) is False


def test_delete_removes_the_pod(api):
    api.fake.add_namespace(NAMESPACE)
    api.fake.add_pod(NAMESPACE, "p1")
    assert pods.delete_pod(api.clients(), "p1", NAMESPACE) is True
    assert (NAMESPACE, "p1") not in api.fake.pods


def test_hanging_api_server_raises_unreachable_instead_of_hanging(api):
    api.fake.faults[("GET", r"/namespaces/falco-lab$")] = "hang"
    with pytest.raises(ClusterError, match="unreachable"):
        pods.ensure_namespace(api.clients(request_timeout=(1.0, 0.3)))


def test_cleanup_removes_only_labelled_objects(api):
    api.fake.add_namespace(NAMESPACE, dict(PROJECT_LABELS))
    api.fake.add_namespace("default")
    api.fake.add_pod(NAMESPACE, "falco-lab-shell", dict(PROJECT_LABELS))
    api.fake.add_pod("default", "someone-elses")
    removed = pods.cleanup(api.clients())
    assert removed == ["pod/falco-lab/falco-lab-shell", "namespace/falco-lab"]
    assert ("default", "someone-elses") in api.fake.pods
    assert "default" in api.fake.namespaces


def test_cleanup_keeps_going_and_reports_what_failed(api):
    api.fake.add_namespace(NAMESPACE, dict(PROJECT_LABELS))
    api.fake.add_pod(NAMESPACE, "a", dict(PROJECT_LABELS))
    api.fake.add_pod(NAMESPACE, "b", dict(PROJECT_LABELS))
    api.fake.faults[("DELETE", r"/pods/a$")] = 403
    with pytest.raises(
        ClusterError, match=r"cleanup incomplete \(removed: pod/falco-lab/b, namespace/falco-lab\)"
    ):
        pods.cleanup(api.clients())


def test_labelled_objects_lists_without_deleting(api):
    api.fake.add_namespace(NAMESPACE, dict(PROJECT_LABELS))
    api.fake.add_pod(NAMESPACE, "a", dict(PROJECT_LABELS))
    assert pods.labelled_objects(api.clients()) == ["pod/falco-lab/a", "namespace/falco-lab"]
    assert (NAMESPACE, "a") in api.fake.pods
