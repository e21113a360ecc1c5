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
    report = pods.cleanup(api.clients())
    assert report.removed == ["pod/falco-lab/falco-lab-shell", "namespace/falco-lab"]
    assert report.unsearched == []
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


def test_the_first_pod_of_a_run_stamps_the_namespace_and_the_others_leave_it(api):
    from datetime import UTC, datetime

    from falco_lab.workshop.manifests import LAST_RUN_ANNOTATION

    clients = api.clients()
    api.fake.add_namespace(NAMESPACE, PROJECT_LABELS)
    first = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert pods.mark_test_run(clients, NAMESPACE, now=first)
    api.fake.add_pod(NAMESPACE, "falco-lab-shell", labels=PROJECT_LABELS)
    assert not pods.mark_test_run(clients, NAMESPACE, now=datetime(2026, 12, 4, 9, 5, tzinfo=UTC))
    assert (
        api.fake.namespaces[NAMESPACE]["metadata"]["annotations"][LAST_RUN_ANNOTATION]
        == "2026-12-04T09:00:00Z"
    )
    assert pods.last_test_run(clients, NAMESPACE) == first


def test_no_stamp_or_no_namespace_is_no_last_run(api):
    clients = api.clients()
    assert pods.last_test_run(clients, "absent") is None
    api.fake.add_namespace(NAMESPACE)
    assert pods.last_test_run(clients, NAMESPACE) is None


def test_a_stamp_that_is_no_time_is_an_error_naming_it(api):
    from falco_lab.workshop.manifests import LAST_RUN_ANNOTATION

    api.fake.add_namespace(NAMESPACE)
    api.fake.namespaces[NAMESPACE]["metadata"]["annotations"] = {LAST_RUN_ANNOTATION: "soon"}
    with pytest.raises(
        ClusterError, match="annotation falco-lab/last-test-run='soon' is not an ISO 8601 time"
    ):
        pods.last_test_run(api.clients(), NAMESPACE)


def _fast(monkeypatch):
    monkeypatch.setattr("falco_lab.cluster.pods.POLL_INTERVAL", 0.01)


def test_a_second_run_waits_for_the_old_pod_that_is_still_terminating(api, monkeypatch):
    _fast(monkeypatch)
    clients = api.clients()
    api.fake.pod_termination_requests = 4
    pods.create_pod(clients, shell_pod_manifest(), timeout=5)
    pods.delete_pod(clients, "falco-lab-shell")
    assert (NAMESPACE, "falco-lab-shell") in api.fake.pods  # terminating, as on a real API server
    assert pods.create_pod(clients, shell_pod_manifest(), timeout=5) == "falco-lab-shell"
    assert api.fake.calls("POST", r"/namespaces/falco-lab/pods$") == 3  # created, 409, created again
    assert "deletionTimestamp" not in api.fake.pods[(NAMESPACE, "falco-lab-shell")]["metadata"]


def test_a_pod_create_in_a_terminating_namespace_waits_and_recreates_the_namespace(api, monkeypatch):
    _fast(monkeypatch)
    clients = api.clients()
    api.fake.add_namespace(NAMESPACE, dict(PROJECT_LABELS))
    api.fake.namespace_termination_requests = 3
    pods.cleanup(clients)
    assert api.fake.namespaces[NAMESPACE]["status"]["phase"] == "Terminating"
    assert pods.create_pod(clients, shell_pod_manifest(), timeout=5) == "falco-lab-shell"
    assert api.fake.namespaces[NAMESPACE]["status"]["phase"] == "Active"


def test_the_403_of_a_terminating_namespace_is_recognised(api):
    from falco_lab.cluster.kube import call, is_namespace_terminating

    clients = api.clients()
    api.fake.add_namespace(NAMESPACE)
    api.fake.namespace_termination_requests = 50
    call("delete namespace", clients.core.delete_namespace, NAMESPACE)
    with pytest.raises(ClusterError, match="being terminated") as caught:
        call("create pod", clients.core.create_namespaced_pod, NAMESPACE, shell_pod_manifest())
    assert is_namespace_terminating(caught.value)


def test_a_409_on_namespace_create_is_success(api, monkeypatch):
    # someone else created the namespace between our read (404) and our create (409)
    api.fake.add_namespace(NAMESPACE)
    real = pods._namespace_phase
    answers = iter([None])
    monkeypatch.setattr(pods, "_namespace_phase", lambda clients, name: next(answers, real(clients, name)))
    assert pods.ensure_namespace(api.clients(), NAMESPACE) is False
    assert api.fake.calls("POST", r"^/api/v1/namespaces$") == 1


def test_waiting_for_a_pod_that_never_goes_is_bounded(api, monkeypatch):
    _fast(monkeypatch)
    clients = api.clients()
    api.fake.pod_termination_requests = 10_000
    pods.create_pod(clients, shell_pod_manifest(), timeout=5)
    pods.delete_pod(clients, "falco-lab-shell")
    with pytest.raises(
        ClusterError, match="pod falco-lab/falco-lab-shell is still being deleted after 0.2 s"
    ):
        pods.create_pod(clients, shell_pod_manifest(), timeout=0.2)


def test_cleanup_with_rights_in_one_namespace_falls_back_to_it_and_says_what_it_could_not_list(api):
    api.fake.add_namespace(NAMESPACE, dict(PROJECT_LABELS))
    api.fake.add_pod(NAMESPACE, "a", dict(PROJECT_LABELS))
    for path in (r"^/api/v1/pods$", r"^/apis/networking.k8s.io/v1/networkpolicies$", r"^/api/v1/namespaces$"):
        api.fake.faults[("GET", path)] = 403
    report = pods.cleanup(api.clients())
    assert report.removed == ["pod/falco-lab/a", "namespace/falco-lab"]
    assert report.unsearched == [
        "pods outside namespace falco-lab: listing them in all namespaces is forbidden",
        "network policies outside namespace falco-lab: listing them in all namespaces is forbidden",
        "namespaces other than falco-lab: listing namespaces is forbidden",
    ]


def test_an_rbac_refusal_reads_like_the_api_servers(api):
    from falco_lab.cluster.kube import call

    api.fake.faults[("GET", r"^/api/v1/pods$")] = 403
    with pytest.raises(
        ClusterError, match='pods is forbidden: User "workshop-user" cannot list resource "pods"'
    ):
        call("list pods", api.clients().core.list_pod_for_all_namespaces)
