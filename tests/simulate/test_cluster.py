"""SimulatedCluster implements the cluster interface, honestly labelled as simulated."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest

from falco_lab.analysis.fields import is_simulated
from falco_lab.events.charts import counts_by_rule
from falco_lab.events.schema import BASE_COLUMNS
from falco_lab.lab import connect
from falco_lab.rules import load_rules
from falco_lab.simulate import SimulatedCluster
from falco_lab.simulate.detect import PROJECT_RULES
from falco_lab.workshop import chart, manifests
from falco_lab.workshop.interface import (
    PREFLIGHT_COLUMNS,
    READINESS_COLUMNS,
    Cluster,
    ClusterError,
    ExecResult,
    PodNotReadyError,
)
from falco_lab.workshop.steps import run_workshop_tests
from tests.conftest import shared_file

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ruleset():
    return load_rules(
        shared_file("upstream/falco_rules.yaml"),
        shared_file("upstream/falco-sandbox_rules.yaml"),
        PROJECT_RULES,
    )


@pytest.fixture
def cluster(ruleset) -> SimulatedCluster:
    return SimulatedCluster(ruleset=ruleset, start=START, seed=1)


_PROTOCOL_METHODS = [
    name for name, member in vars(Cluster).items() if inspect.isfunction(member) and not name.startswith("_")
]


def test_it_is_a_cluster(cluster) -> None:
    assert isinstance(cluster, Cluster)
    assert (cluster.mode, cluster.context) == ("simulate", "simulated-eks")


@pytest.mark.parametrize("method", _PROTOCOL_METHODS)
def test_signatures_match_the_protocol(method) -> None:
    wanted = inspect.signature(getattr(Cluster, method))
    actual = inspect.signature(getattr(SimulatedCluster, method))
    assert [(p.name, p.kind, p.default) for p in actual.parameters.values()] == [
        (p.name, p.kind, p.default) for p in wanted.parameters.values()
    ]


def test_connect_gives_the_simulated_cluster_by_default(ruleset) -> None:
    assert isinstance(connect(ruleset=ruleset), SimulatedCluster)


def test_preflight_rows_say_simulated(cluster) -> None:
    frame = cluster.preflight()
    assert list(frame.columns) == list(PREFLIGHT_COLUMNS)
    assert set(frame["status"]) <= {"ok", "warn", "fail"}
    assert "simulated" in frame.loc[frame["check"] == "kube context", "detail"].item()
    assert frame["check"].str.startswith("node ip-10-0-").sum() == 3


def test_readiness_before_install_is_not_ready(cluster) -> None:
    frame = cluster.readiness()
    assert list(frame.columns) == list(READINESS_COLUMNS)
    assert not frame["ready"].any()


def test_install_then_readiness_lists_each_node_pod_sidekick_and_ui(cluster) -> None:
    message = cluster.install_falco()
    assert message.startswith("simulated install")
    frame = cluster.readiness()
    assert frame["ready"].all()
    assert frame["detail"].str.contains("simulated").all()
    assert {"falcosidekick", "falcosidekick-ui"} <= set(frame["component"])
    assert frame["component"].str.startswith("falco pod ").sum() == 3


def test_dry_run_install_changes_nothing(cluster) -> None:
    command = cluster.install_falco(dry_run=True)
    assert "helm" in command and "upgrade --install" in command
    assert not cluster.readiness()["ready"].any()


def test_workshop_tests_all_pass_and_each_step_raises_its_rules(ruleset) -> None:
    # run_workshop_tests stamps pod steps with the wall clock: use a cluster that follows it
    cluster = SimulatedCluster(ruleset=ruleset, falco_installed=True)
    steps = run_workshop_tests(cluster)
    assert steps["ok"].all()
    alerts = cluster.falco_alerts()
    for row in steps.itertuples():
        window = alerts[(alerts["time"] >= row.started) & (alerts["time"] <= row.finished)]
        fired = set(window.loc[window["k8s.pod.name"] == row.pod, "rule"])
        assert set(row.expected_rules) | set(row.expected_upstream_rules) <= fired, row.step


def test_workshop_tests_raise_the_project_rules_with_no_upstream_ruleset() -> None:
    cluster = SimulatedCluster(rules=[PROJECT_RULES], falco_installed=True)
    steps = run_workshop_tests(cluster)
    assert steps["ok"].all()
    alerts = cluster.falco_alerts()
    for row in steps.itertuples():
        window = alerts[(alerts["time"] >= row.started) & (alerts["time"] <= row.finished)]
        fired = set(window.loc[window["k8s.pod.name"] == row.pod, "rule"])
        assert row.expected_rules and set(row.expected_rules) <= fired, row.step


def test_exec_result_carries_simulated_output(cluster) -> None:
    cluster.create_pod(manifests.shell_pod_manifest())
    result = cluster.exec_in_pod(manifests.SHELL_POD, ["sh", "-c", "echo hi; id -u"], tty=False)
    assert isinstance(result, ExecResult)
    assert (result.stdout, result.exit_code, result.tty) == ("hi\n65534\n", 0, False)
    assert result.finished >= result.started


def test_docker_socket_of_type_socket_does_not_start_on_eks_nodes(cluster) -> None:
    manifest = manifests.runtime_socket_pod_manifest(socket=manifests.DOCKER_SOCKET)
    with pytest.raises(PodNotReadyError, match="hostPath type check failed"):
        cluster.create_pod(manifest)


def test_exec_in_a_missing_pod_is_a_cluster_error(cluster) -> None:
    with pytest.raises(ClusterError, match="not found"):
        cluster.exec_in_pod("nope", ["sh"])


def test_deleting_a_missing_pod_is_not_an_error(cluster) -> None:
    assert cluster.delete_pod("nope") is None


def test_cleanup_removes_labelled_pods_and_namespace(cluster) -> None:
    cluster.create_pod(manifests.shell_pod_manifest())
    removed = cluster.cleanup()
    assert removed == [f"pod/{manifests.NAMESPACE}/{manifests.SHELL_POD}", f"namespace/{manifests.NAMESPACE}"]
    assert cluster.cleanup() == []


def test_sidekick_events_have_uuid_and_simulated_marker(cluster) -> None:
    cluster.install_falco()
    cluster.create_pod(manifests.host_etc_pod_manifest())
    events = cluster.sidekick_events()
    assert list(events.columns[: len(BASE_COLUMNS)]) == list(BASE_COLUMNS)
    assert events["uuid"].notna().all()
    assert (events["simulated"] == "true").all()
    assert cluster.falco_alerts()["uuid"].isna().all()


def test_falco_alerts_are_labelled_simulated_without_a_marker_field(cluster) -> None:
    cluster.install_falco()
    cluster.create_pod(manifests.host_etc_pod_manifest())
    alerts = cluster.falco_alerts()
    assert len(alerts) > 0 and "simulated" not in alerts.columns
    assert alerts.attrs["simulated"] is True
    assert is_simulated(alerts)


def test_sidekick_events_are_labelled_simulated(cluster) -> None:
    cluster.install_falco()
    cluster.create_pod(manifests.host_etc_pod_manifest())
    assert cluster.sidekick_events().attrs["simulated"] is True


def test_alerts_filtered_by_since_stay_labelled_simulated(cluster) -> None:
    cluster.install_falco()
    cluster.create_pod(manifests.host_etc_pod_manifest())
    assert cluster.falco_alerts(since=START).attrs["simulated"] is True
    assert cluster.sidekick_events(since=datetime(2030, 1, 1, tzinfo=UTC)).attrs["simulated"] is True


def test_empty_frames_before_install_are_labelled_simulated(cluster) -> None:
    assert cluster.falco_alerts().attrs["simulated"] is True
    assert cluster.sidekick_events().attrs["simulated"] is True


def test_syscall_events_are_labelled_simulated(cluster) -> None:
    assert cluster.syscall_events().attrs["simulated"] is True
    cluster.create_pod(manifests.host_etc_pod_manifest())
    assert cluster.syscall_events().attrs["simulated"] is True


def test_charts_of_simulated_alerts_say_so_in_their_titles(cluster) -> None:
    cluster.install_falco()
    cluster.create_pod(manifests.host_etc_pod_manifest())
    assert counts_by_rule(cluster.falco_alerts()).layout.title.text.endswith("(simulated)")


def test_since_filters_alerts(cluster) -> None:
    cluster.install_falco()
    cluster.create_pod(manifests.host_etc_pod_manifest())
    later = datetime(2030, 1, 1, tzinfo=UTC)
    assert len(cluster.falco_alerts()) > 0
    assert cluster.falco_alerts(since=later).empty


def test_no_alerts_before_falco_is_installed(cluster) -> None:
    cluster.create_pod(manifests.host_etc_pod_manifest())
    assert cluster.falco_alerts().empty
    assert cluster.sidekick_events().empty


def test_wall_clock_mode_timestamps_follow_real_time(ruleset) -> None:
    before = datetime.now(UTC)
    live = SimulatedCluster(ruleset=ruleset, falco_installed=True)
    live.create_pod(manifests.host_etc_pod_manifest())
    assert live.falco_alerts()["time"].min() >= before


def test_falco_does_not_see_what_happened_before_it_was_installed(cluster) -> None:
    cluster.create_pod(manifests.host_etc_pod_manifest())
    cluster.install_falco()
    assert cluster.falco_alerts().empty
    cluster.create_pod(manifests.runtime_socket_pod_manifest())
    assert set(cluster.falco_alerts()["k8s.pod.name"]) == {manifests.RUNTIME_SOCKET_POD}


def test_installing_again_is_an_upgrade_that_keeps_the_pods(cluster) -> None:
    cluster.install_falco()
    pods = cluster.readiness()["component"].tolist()
    cluster.install_falco()
    assert cluster.readiness()["component"].tolist() == pods


def test_the_simulated_sidekick_and_ui_run_the_replicas_values_yaml_asks_for() -> None:
    sidekick, ui = chart.replica_counts()
    ready = SimulatedCluster(nodes=1, seed=0, falco_installed=True).readiness().set_index("component")
    assert ready.loc["falcosidekick", "detail"].startswith(f"{sidekick} replica(s)")
    assert ready.loc["falcosidekick-ui", "detail"].startswith(f"{ui} replica(s)")
    assert (sidekick, ui) == (2, 1)  # what values.yaml sets today
