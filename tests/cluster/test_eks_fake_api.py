"""EKSCluster end to end against the fake API server (pods, exec streams, preflight, readiness)."""

from __future__ import annotations

import base64

import pytest

from falco_lab.cluster.eks import EKSCluster
from falco_lab.cluster.helm import Helm
from falco_lab.workshop import chart
from falco_lab.workshop.interface import Cluster, ClusterError, PodNotReadyError
from falco_lab.workshop.manifests import NAMESPACE, POD_NAMES, PROJECT_LABELS, RUNTIME_SOCKET_POD, SHELL_POD
from falco_lab.workshop.steps import SHELL_COMMAND, run_workshop_tests, workshop_pods
from tests.cluster.fake_api import node

FALCO_LOG = """Fri Nov 27 08:00:00 2026: Falco version: 0.44.1 (x86_64)
Fri Nov 27 08:00:00 2026: Loading rules from:
Fri Nov 27 08:00:00 2026:    /etc/falco/falco_rules.yaml | schema validation: ok
Fri Nov 27 08:00:00 2026:    /etc/falco/rules.d/falco-lab_rules.yaml | schema validation: ok
Fri Nov 27 08:00:00 2026:    /etc/falco/rules.d/falco-lab_upstream-tuning.yaml | schema validation: ok
Fri Nov 27 08:00:01 2026: Opening 'syscall' source with modern BPF probe.
{"hostname":"n1","output":"x","output_fields":{"evt.time":1},"priority":"Warning","rule":"r","source":"syscall","tags":[],"time":"2026-11-27T08:00:02.000000000Z"}
"""


@pytest.fixture
def eks(api):
    cluster = EKSCluster(api.clients(), helm=Helm(kube_context="fake-eks"))
    cluster.readiness_settle = 0
    return cluster


def test_eks_cluster_implements_the_protocol(eks):
    assert isinstance(eks, Cluster)
    assert (eks.mode, eks.context) == ("cluster", "fake-eks")


def test_workshop_tests_run_end_to_end_and_leave_nothing_behind(api, eks, monkeypatch):
    monkeypatch.setattr("falco_lab.cluster.pods.POLL_INTERVAL", 0.01)
    results = run_workshop_tests(eks, timeout=5)
    assert list(results["step"]) == ["shell-tty", "shell-no-tty", "runtime-socket-mount", "host-etc-mount"]
    assert results["ok"].all()
    assert api.fake.execs == [
        (NAMESPACE, SHELL_POD, list(SHELL_COMMAND), True),
        (NAMESPACE, SHELL_POD, list(SHELL_COMMAND), False),
    ]
    assert [name for (_, name) in api.fake.pods] == []
    assert api.fake.calls("DELETE", r"/pods/") == 3
    assert (results["finished"] >= results["started"]).all()


def test_test_pods_twice_in_a_row_waits_for_the_terminating_pods_of_the_first_run(api, eks, monkeypatch):
    monkeypatch.setattr("falco_lab.cluster.pods.POLL_INTERVAL", 0.01)
    api.fake.pod_termination_requests = 6  # deleted pods linger, as during a real grace period
    first = run_workshop_tests(eks, timeout=5)
    assert any("deletionTimestamp" in p["metadata"] for p in api.fake.pods.values())
    second = run_workshop_tests(eks, timeout=5)
    assert first["ok"].all() and second["ok"].all()


def test_test_pods_right_after_cleanup_waits_for_the_terminating_namespace(api, eks, monkeypatch):
    monkeypatch.setattr("falco_lab.cluster.pods.POLL_INTERVAL", 0.01)
    api.fake.namespace_termination_requests = 5
    run_workshop_tests(eks, timeout=5)
    eks.cleanup()
    assert api.fake.namespaces[NAMESPACE]["status"]["phase"] == "Terminating"
    assert run_workshop_tests(eks, timeout=5)["ok"].all()


def test_pod_that_never_starts_is_reported_and_every_pod_still_deleted(api, eks, monkeypatch):
    monkeypatch.setattr("falco_lab.cluster.pods.POLL_INTERVAL", 0.01)
    api.fake.pod_behaviour[RUNTIME_SOCKET_POD] = "never"
    results = run_workshop_tests(eks, timeout=0.2).set_index("step")
    assert not results.loc["runtime-socket-mount", "ok"]
    assert "ContainerCreating" in results.loc["runtime-socket-mount", "detail"]
    assert results.loc["host-etc-mount", "ok"] and results.loc["shell-tty", "ok"]
    assert api.fake.pods == {}


def test_strict_test_pods_raise_after_deleting_what_was_created(api, eks, monkeypatch):
    monkeypatch.setattr("falco_lab.cluster.pods.POLL_INTERVAL", 0.01)
    api.fake.pod_behaviour[RUNTIME_SOCKET_POD] = "never"
    with pytest.raises(PodNotReadyError), workshop_pods(eks, timeout=0.2):
        pytest.fail("the body must not run")
    assert api.fake.pods == {}
    assert api.fake.calls("DELETE", rf"/pods/({SHELL_POD}|{RUNTIME_SOCKET_POD})$") == 2


def test_keyboard_interrupt_still_deletes_the_pods(api, eks, monkeypatch):
    monkeypatch.setattr("falco_lab.cluster.pods.POLL_INTERVAL", 0.01)
    with pytest.raises(KeyboardInterrupt), workshop_pods(eks, timeout=5):
        assert len(api.fake.pods) == 3
        raise KeyboardInterrupt
    assert api.fake.pods == {}


def test_delete_failure_after_success_is_an_error_naming_the_pod(api, eks, monkeypatch):
    monkeypatch.setattr("falco_lab.cluster.pods.POLL_INTERVAL", 0.01)
    api.fake.faults[("DELETE", rf"/pods/{SHELL_POD}$")] = 403
    with (
        pytest.raises(ClusterError, match=f"could not delete test pods: falco-lab/{SHELL_POD}"),
        workshop_pods(eks, timeout=5),
    ):
        pass
    assert [name for (_, name) in api.fake.pods] == [SHELL_POD]


def test_exec_reports_exit_code(api, eks):
    api.fake.add_namespace(NAMESPACE)
    api.fake.add_pod(NAMESPACE, "p")
    api.fake.exec_exit_code = 2
    result = eks.exec_in_pod("p", ["sh", "-c", "exit 2"])
    assert (result.exit_code, result.ok, result.tty) == (2, False, False)


def test_exec_into_missing_pod_is_a_cluster_error(api, eks):
    with pytest.raises(
        ClusterError, match='exec in pod falco-lab/ghost: connect: HTTP 404.*pods "ghost" not found'
    ):
        eks.exec_in_pod("ghost", ["sh"])


def test_a_refused_exec_shows_the_api_servers_reason(api, eks):
    api.fake.add_namespace(NAMESPACE)
    api.fake.add_pod(NAMESPACE, "p")
    api.fake.faults[("WS", r"/exec$")] = 403
    with pytest.raises(
        ClusterError, match='exec in pod falco-lab/p: connect: HTTP 403.*cannot create resource "pods/exec"'
    ):
        eks.exec_in_pod("p", ["sh"])


def test_an_exec_handshake_that_never_comes_is_bounded_by_the_connect_timeout(api, eks):
    import time

    api.fake.add_namespace(NAMESPACE)
    api.fake.add_pod(NAMESPACE, "p")
    api.fake.faults[("WS", r"/exec$")] = "hang"
    api.fake.hang_seconds = 5.0
    started = time.monotonic()
    with pytest.raises(ClusterError, match="exec in pod falco-lab/p: connect: .*timed out"):
        eks.exec_in_pod("p", ["sh"])
    assert time.monotonic() - started < 4  # the client's (1 s, 1 s) timeout, not the 5 s hang


def test_preflight_table_gives_driver_advice_per_node(api, eks, fake_helm):
    api.fake.nodes = [
        node("ip-10-0-1-1.ec2.internal"),
        node("ip-10-0-1-2.ec2.internal", kernel="5.4.0-1.amzn2.x86_64", os_image="Amazon Linux 2"),
        node("fargate-ip-10-0-2-1.ec2.internal", **{"eks.amazonaws.com/compute-type": "fargate"}),
    ]
    table = eks.preflight().set_index("check")
    assert list(table.columns) == ["status", "detail"]
    assert (
        table.loc["cluster reachable", "status"] == "ok"
        and "fake-eks" in table.loc["cluster reachable", "detail"]
    )
    assert table.loc["node ip-10-0-1-1.ec2.internal", "status"] == "ok"
    assert "modern_ebpf supported" in table.loc["node ip-10-0-1-1.ec2.internal", "detail"]
    assert table.loc["node ip-10-0-1-2.ec2.internal", "status"] == "fail"
    assert ">= 5.8" in table.loc["node ip-10-0-1-2.ec2.internal", "detail"]
    assert table.loc["node fargate-ip-10-0-2-1.ec2.internal", "status"] == "warn"
    assert table.loc["helm", "status"] == "ok"
    assert table.loc["release falco", "detail"].startswith("not installed")
    assert table.loc["namespace falco-lab", "detail"].startswith("absent")


def test_preflight_does_not_call_a_windows_node_modern_ebpf_supported(api, eks, fake_helm):
    # a Windows node's nodeInfo carries a recent "kernel" (the Windows build) that looks >= 5.8
    api.fake.nodes = [
        node(
            "ip-10-0-3-1.ec2.internal",
            kernel="10.0.20348.2700",
            os_image="Windows Server 2022 Datacenter",
            operating_system="windows",
            **{"kubernetes.io/os": "windows"},
        )
    ]
    table = eks.preflight().set_index("check")
    row = table.loc["node ip-10-0-3-1.ec2.internal"]
    assert row["status"] == "warn" and "modern_ebpf supported" not in row["detail"]
    assert "windows node" in row["detail"] and "Linux-only" in row["detail"]


def test_preflight_without_helm_fails_the_helm_row_and_skips_the_release(api, eks, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    table = eks.preflight().set_index("check")
    assert table.loc["helm", "status"] == "fail" and "not found on PATH" in table.loc["helm", "detail"]
    assert table.loc["release falco", "detail"] == "skipped: helm is missing"
    assert table.loc["cluster reachable", "status"] == "ok"


def test_preflight_without_permission_fails_clearly_and_still_checks_helm(api, eks, fake_helm):
    api.fake.faults[("GET", r"^/version/?$")] = 403
    table = eks.preflight().set_index("check")
    assert "forbidden (HTTP 403)" in table.loc["cluster reachable", "detail"]
    assert table.loc["nodes", "detail"] == "skipped: the cluster is not reachable"
    assert table.loc["helm", "status"] == "ok"


def test_preflight_warns_about_a_foreign_namespace(api, eks, fake_helm):
    api.fake.add_namespace(NAMESPACE, {"team": "other"})
    table = eks.preflight().set_index("check")
    assert table.loc["namespace falco-lab", "status"] == "warn"


def _install_falco_objects(api, *, log=FALCO_LOG, ready=1):
    """The release's objects with statuses as the controllers write them once rolled out."""
    ns = chart.FALCO_NAMESPACE
    api.fake.add_namespace(ns)
    api.fake.daemonsets[(ns, "falco")] = {
        "metadata": {"name": "falco", "generation": 2},
        "spec": {"selector": {}, "template": {}, "updateStrategy": {"type": "RollingUpdate"}},
        "status": {
            "observedGeneration": 2,
            "desiredNumberScheduled": 1,
            "numberReady": ready,
            "numberAvailable": ready,
            "updatedNumberScheduled": 1,
            "currentNumberScheduled": 1,
            "numberMisscheduled": 0,
        },
    }
    for name, replicas in ((chart.SIDEKICK_DEPLOYMENT, 2), (chart.UI_DEPLOYMENT, 1)):
        api.fake.deployments[(ns, name)] = {
            "metadata": {"name": name, "generation": 1},
            "spec": {"replicas": replicas, "selector": {}, "template": {}},
            "status": {
                "observedGeneration": 1,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
            },
        }
    api.fake.statefulsets[(ns, chart.REDIS_STATEFULSET)] = {
        "metadata": {"name": chart.REDIS_STATEFULSET, "generation": 1},
        "spec": {"replicas": 1, "selector": {}, "template": {}, "serviceName": "redis"},
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "readyReplicas": 1,
            "updatedReplicas": 1,
            "currentRevision": "r1",
            "updateRevision": "r1",
        },
    }
    api.fake.add_pod(
        ns,
        "falco-abcde",
        {"app.kubernetes.io/name": "falco", "app.kubernetes.io/instance": "falco"},
        ready=bool(ready),
    )
    api.fake.logs[(ns, "falco-abcde")] = log


def test_readiness_all_green(api, eks):
    _install_falco_objects(api)
    table = eks.readiness()
    assert table["ready"].all(), table.to_string()
    assert list(table["component"]) == [
        "falco daemonset",
        "falco pod falco-abcde",
        "falco engine falco-abcde",
        "falco rules falco-abcde",
        "falcosidekick",
        "falcosidekick-ui",
        "falcosidekick-ui redis",
    ]
    assert "modern BPF probe" in table.loc[2, "detail"]


def test_readiness_reports_rule_errors_and_a_missing_ui(api, eks):
    bad_log = FALCO_LOG.replace(
        "falco-lab_rules.yaml | schema validation: ok", "falco-lab_rules.yaml | schema validation: failed"
    )
    _install_falco_objects(api, log=bad_log, ready=0)
    del api.fake.deployments[(chart.FALCO_NAMESPACE, chart.UI_DEPLOYMENT)]
    table = eks.readiness().set_index("component")
    assert (
        not table.loc["falco daemonset", "ready"]
        and "0 of 1 updated pods available" in table.loc["falco daemonset", "detail"]
    )
    assert not table.loc["falco rules falco-abcde", "ready"]
    assert "(failed)" in table.loc["falco rules falco-abcde", "detail"]
    assert (
        not table.loc["falcosidekick-ui", "ready"] and "HTTP 404" in table.loc["falcosidekick-ui", "detail"]
    )


def test_readiness_waits_for_the_controller_to_observe_the_spec(api, eks):
    _install_falco_objects(api)
    api.fake.daemonsets[(chart.FALCO_NAMESPACE, "falco")]["metadata"]["generation"] = 3
    table = eks.readiness().set_index("component")
    assert not table.loc["falco daemonset", "ready"]
    assert "spec update to be observed" in table.loc["falco daemonset", "detail"]


def test_readiness_reports_a_deployment_past_its_progress_deadline(api, eks):
    _install_falco_objects(api)
    dep = api.fake.deployments[(chart.FALCO_NAMESPACE, chart.UI_DEPLOYMENT)]
    dep["status"]["conditions"] = [
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "timed out",
        }
    ]
    table = eks.readiness().set_index("component")
    assert not table.loc["falcosidekick-ui", "ready"]
    assert "exceeded its progress deadline" in table.loc["falcosidekick-ui", "detail"]


def test_readiness_counts_old_replicas_still_terminating(api, eks):
    _install_falco_objects(api)
    api.fake.deployments[(chart.FALCO_NAMESPACE, chart.SIDEKICK_DEPLOYMENT)]["status"]["replicas"] = 3
    table = eks.readiness().set_index("component")
    assert table.loc["falcosidekick", "detail"] == "1 old replicas pending termination"


def test_readiness_waits_for_redis_to_be_ready(api, eks):
    _install_falco_objects(api)
    api.fake.statefulsets[(chart.FALCO_NAMESPACE, chart.REDIS_STATEFULSET)]["status"]["readyReplicas"] = 0
    table = eks.readiness().set_index("component")
    assert (table.loc["falcosidekick-ui redis", "ready"], table.loc["falcosidekick-ui redis", "detail"]) == (
        False,
        "0 of 1 pods ready",
    )


def test_a_falco_pod_whose_restart_count_moves_is_not_ready(api, eks):
    _install_falco_objects(api)
    api.fake.restarting.add("falco-abcde")
    table = eks.readiness().set_index("component")
    assert not table.loc["falco pod falco-abcde", "ready"]
    assert "restarting" in table.loc["falco pod falco-abcde", "detail"]


def test_a_rotated_log_confirms_nothing_and_fails_nothing(api, eks):
    _install_falco_objects(api, log='{"rule":"r","priority":"Warning"}\n')
    table = eks.readiness().set_index("component")
    assert table["ready"].all(), table.to_string()
    assert "not in the current log" in table.loc["falco rules falco-abcde", "detail"]


def test_readiness_says_when_the_project_rules_were_not_loaded(api, eks):
    log = FALCO_LOG.replace(
        "Fri Nov 27 08:00:00 2026:    /etc/falco/rules.d/falco-lab_upstream-tuning.yaml | schema validation: ok\n",
        "",
    )
    _install_falco_objects(api, log=log)
    table = eks.readiness().set_index("component")
    assert not table.loc["falco rules falco-abcde", "ready"]
    assert (
        "project rules not loaded: /etc/falco/rules.d/falco-lab_upstream-tuning.yaml"
        in (table.loc["falco rules falco-abcde", "detail"])
    )


def test_falco_alerts_come_from_the_falco_pod_logs(api, eks):
    _install_falco_objects(api)
    alerts = eks.falco_alerts()
    assert list(alerts["rule"]) == ["r"]
    assert str(alerts["priority"].iloc[0]) == "Warning"


def test_install_creates_the_ui_secret_once_and_never_prints_the_password(api, eks, fake_helm):
    out = eks.install_falco()
    secret = api.fake.secrets[(chart.FALCO_NAMESPACE, chart.UI_SECRET)]
    password = secret["stringData"][chart.UI_SECRET_KEY].split(":", 1)[1]
    assert len(password) >= 20 and password not in out
    assert "upgrade --install" in out
    api.fake.secrets[(chart.FALCO_NAMESPACE, chart.UI_SECRET)] = {
        "metadata": {"name": chart.UI_SECRET},
        "data": {chart.UI_SECRET_KEY: base64.b64encode(f"admin:{password}".encode()).decode()},
    }
    assert "exists (kept)" in eks.install_falco()
    assert eks.ui_credentials() == ("admin", password)


def test_dry_run_install_changes_nothing(api, eks, fake_helm):
    out = eks.install_falco(dry_run=True)
    assert "would create secret" in out and "helm --kube-context fake-eks upgrade --install" in out
    assert api.fake.secrets == {} and not fake_helm.exists()


def test_install_refuses_outdated_values(api, eks, fake_helm, tmp_path):
    old = tmp_path / "old-values.yaml"
    old.write_text("ebpf:\n  enabled: true\n")
    eks.values = [old]
    with pytest.raises(ClusterError, match="ebpf: ignored by chart 9.x"):
        eks.install_falco()
    assert not fake_helm.exists()


def test_cleanup_through_the_cluster_object(api, eks):
    api.fake.add_namespace(NAMESPACE, dict(PROJECT_LABELS))
    for name in POD_NAMES:
        api.fake.add_pod(NAMESPACE, name, dict(PROJECT_LABELS))
    removed = eks.cleanup()
    assert removed[-1] == "namespace/falco-lab" and len(removed) == 4
