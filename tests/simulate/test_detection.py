"""Real detection: upstream and project rules turn simulated events into Falco alerts."""

from __future__ import annotations

import re
import uuid

import pandas as pd
import pytest

from falco_lab.analysis.fields import is_simulated
from falco_lab.events import load_events
from falco_lab.rules import load_rules
from falco_lab.rules.fetch import UpstreamRulesNotFound
from falco_lab.simulate import detect as detection
from falco_lab.simulate import simulate
from falco_lab.simulate.detect import PROJECT_RULES, UPSTREAM_TUNING
from falco_lab.workshop import manifests
from falco_lab.workshop.steps import (
    RULE_RUNTIME_SOCKET,
    RULE_SENSITIVE_HOST_PATH,
    RULE_SHELL_NO_TTY,
    RULE_SHELL_TTY,
    UPSTREAM_SENSITIVE_MOUNT,
    UPSTREAM_TERMINAL_SHELL,
)
from tests.conftest import shared_file

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


@pytest.fixture(scope="module")
def upstream() -> list:
    return [shared_file("upstream/falco_rules.yaml"), shared_file("upstream/falco-sandbox_rules.yaml")]


@pytest.fixture(scope="module")
def workshop(upstream):
    return simulate("workshop", rules=upstream, seed=11)


@pytest.fixture(scope="module")
def workshop_with_project(upstream):
    return simulate("workshop", rules=[*upstream, PROJECT_RULES], seed=11)


@pytest.fixture(scope="module")
def workshop_project_alone():
    return simulate("workshop", rules=[PROJECT_RULES], seed=11)


def _by_pod(alerts: list[dict], rule: str) -> list[str]:
    return [a["output_fields"]["k8s.pod.name"] for a in alerts if a["rule"] == rule]


def test_terminal_shell_fires_for_the_exec_with_a_tty_only(workshop) -> None:
    shells = [a for a in workshop.alerts if a["rule"] == UPSTREAM_TERMINAL_SHELL]
    assert len(shells) == 1
    fields = shells[0]["output_fields"]
    assert (fields["k8s.pod.name"], fields["k8s.ns.name"]) == (manifests.SHELL_POD, manifests.NAMESPACE)
    assert fields["proc.tty"] != 0


def test_sensitive_mount_fires_for_both_host_path_pods(workshop) -> None:
    pods = _by_pod(workshop.alerts, UPSTREAM_SENSITIVE_MOUNT)
    assert manifests.RUNTIME_SOCKET_POD in pods
    assert manifests.HOST_ETC_POD in pods
    namespaces = {
        a["output_fields"]["k8s.ns.name"] for a in workshop.alerts if a["rule"] == UPSTREAM_SENSITIVE_MOUNT
    }
    assert namespaces == {manifests.NAMESPACE}


def test_project_rules_add_their_alerts(workshop_with_project) -> None:
    alerts = workshop_with_project.alerts
    assert _by_pod(alerts, RULE_SHELL_TTY) == [manifests.SHELL_POD]
    assert _by_pod(alerts, RULE_SHELL_NO_TTY) == [manifests.SHELL_POD]
    assert _by_pod(alerts, RULE_RUNTIME_SOCKET) == [manifests.RUNTIME_SOCKET_POD]
    assert _by_pod(alerts, RULE_SENSITIVE_HOST_PATH) == [manifests.HOST_ETC_POD]
    assert _by_pod(alerts, UPSTREAM_TERMINAL_SHELL) == [manifests.SHELL_POD]


def test_project_rules_alone_detect_the_three_workshop_tests(workshop_project_alone) -> None:
    alerts = workshop_project_alone.alerts
    assert _by_pod(alerts, RULE_SHELL_TTY) == [manifests.SHELL_POD]
    assert _by_pod(alerts, RULE_SHELL_NO_TTY) == [manifests.SHELL_POD]
    assert _by_pod(alerts, RULE_RUNTIME_SOCKET) == [manifests.RUNTIME_SOCKET_POD]
    assert _by_pod(alerts, RULE_SENSITIVE_HOST_PATH) == [manifests.HOST_ETC_POD]
    assert {a["rule"] for a in alerts} == {
        RULE_SHELL_TTY,
        RULE_SHELL_NO_TTY,
        RULE_RUNTIME_SOCKET,
        RULE_SENSITIVE_HOST_PATH,
        # test 1 types "id -u" in its terminal session: the project's discovery rule sees it
        "Falco Lab Discovery Command In Interactive Session",
    }


def test_project_rules_alone_give_the_same_project_alerts_as_with_upstream(
    workshop_project_alone, workshop_with_project
) -> None:
    def ours(alerts):
        return [(a["time"], a["rule"]) for a in alerts if a["rule"].startswith("Falco Lab")]

    assert ours(workshop_project_alone.alerts) == ours(workshop_with_project.alerts)


def test_default_rules_without_upstream_are_the_project_rules_said_plainly(monkeypatch) -> None:
    def nowhere(*_args, **_kwargs):
        raise UpstreamRulesNotFound("no upstream rules here")

    monkeypatch.setattr(detection, "find_upstream_rules", nowhere)
    result = simulate("workshop", seed=11)
    summary = result.summary()
    assert summary["rules_files"] == [str(PROJECT_RULES)]
    assert "project's rules only" in summary["rules"] and "no upstream ruleset found" in summary["rules"]
    assert {a["rule"] for a in result.alerts} == {
        RULE_SHELL_TTY,
        RULE_SHELL_NO_TTY,
        RULE_RUNTIME_SOCKET,
        RULE_SENSITIVE_HOST_PATH,
        "Falco Lab Discovery Command In Interactive Session",  # test 1's "id -u"
    }


def test_default_rules_with_upstream_add_the_tuning_after_the_project_rules() -> None:
    upstream_dir = shared_file("upstream/falco_rules.yaml").parent
    result = simulate("workshop", seed=11, upstream_dir=upstream_dir)
    assert result.summary()["rules_files"][-2:] == [str(PROJECT_RULES), str(UPSTREAM_TUNING)]
    assert _by_pod(result.alerts, RULE_SHELL_TTY) == [manifests.SHELL_POD]
    assert _by_pod(result.alerts, UPSTREAM_TERMINAL_SHELL) == [manifests.SHELL_POD]


def test_no_tty_exec_is_the_project_rules_not_upstreams(workshop_with_project) -> None:
    alerts = workshop_with_project.alerts
    no_tty = [a for a in alerts if a["rule"] == RULE_SHELL_NO_TTY][0]
    with_tty = [a for a in alerts if a["rule"] == RULE_SHELL_TTY][0]
    upstream_times = {a["time"] for a in alerts if a["rule"] == UPSTREAM_TERMINAL_SHELL}
    assert with_tty["time"] in upstream_times
    assert no_tty["time"] not in upstream_times


def test_alerts_have_falco_and_sidekick_shape(workshop) -> None:
    for alert in workshop.alerts:
        assert list(alert) == sorted(alert)
        assert {
            "hostname",
            "output",
            "output_fields",
            "priority",
            "rule",
            "source",
            "tags",
            "time",
            "uuid",
        } <= set(alert)
        assert TIME.match(alert["time"])
        assert uuid.UUID(alert["uuid"]).version == 4
        assert alert["hostname"] in workshop.world.nodes
        assert alert["output_fields"]["simulated"] == "true"
        assert alert["output"].split(" ", 2)[1] == alert["priority"]


def test_falco_alerts_have_no_uuid(workshop) -> None:
    assert workshop.falco_alerts
    assert all("uuid" not in a for a in workshop.falco_alerts)


def test_alerts_frame_equals_the_written_alerts_loaded_back(workshop_project_alone, tmp_path) -> None:
    path = tmp_path / "alerts.jsonl"
    assert workshop_project_alone.write_alerts(path) > 0
    pd.testing.assert_frame_equal(workshop_project_alone.frame(), load_events(path))


def test_simulation_alerts_frame_is_labelled_simulated(workshop_project_alone) -> None:
    frame = workshop_project_alone.frame()
    assert frame.attrs["simulated"] is True
    assert is_simulated(frame)


def test_simulation_syscall_events_are_labelled_simulated(workshop_project_alone) -> None:
    assert workshop_project_alone.events.attrs["simulated"] is True


def test_same_seed_gives_identical_alerts(upstream) -> None:
    ruleset = load_rules(*upstream)
    first = simulate("background", nodes=2, hours=0.5, seed=4, ruleset=ruleset)
    second = simulate("background", nodes=2, hours=0.5, seed=4, ruleset=ruleset)
    assert first.alerts == second.alerts
    assert first.events.equals(second.events)


def test_different_seed_gives_a_different_background(upstream) -> None:
    ruleset = load_rules(*upstream)
    first = simulate("background", nodes=2, hours=0.5, seed=4, ruleset=ruleset)
    other = simulate("background", nodes=2, hours=0.5, seed=5, ruleset=ruleset)
    assert set(first.world.nodes) != set(other.world.nodes)
    assert first.events["evt.rawtime"].tolist() != other.events["evt.rawtime"].tolist()


def test_disabling_a_rule_with_an_override_removes_exactly_its_alerts(upstream, tmp_path) -> None:
    override = tmp_path / "tuning.yaml"
    override.write_text(
        f"- rule: {UPSTREAM_SENSITIVE_MOUNT}\n  enabled: false\n  override:\n    enabled: replace\n"
    )
    base = simulate("incident", nodes=2, hours=0.5, seed=2, rules=upstream)
    tuned = simulate("incident", nodes=2, hours=0.5, seed=2, rules=[*upstream, override])
    expected = [a for a in base.falco_alerts if a["rule"] != UPSTREAM_SENSITIVE_MOUNT]
    assert len(expected) < len(base.falco_alerts)
    assert tuned.falco_alerts == expected


def test_incident_chain_is_detected_step_by_step(upstream) -> None:
    result = simulate("incident", nodes=2, hours=0.5, seed=3, rules=upstream)
    rules = {a["rule"] for a in result.alerts}
    assert {
        "Terminal shell in container",
        "Read sensitive file untrusted",
        "Write below etc",
        "Drop and execute new binary in container",
        "Redirect STDOUT/STDIN to Network Connection in Container",
    } <= rules


def test_chain_alerts_name_the_attacked_pod(upstream) -> None:
    result = simulate("incident", nodes=2, hours=0.5, seed=3, rules=upstream)
    shadow = [a for a in result.alerts if a["rule"] == "Read sensitive file untrusted"][0]
    assert shadow["output_fields"]["fd.name"] == "/etc/shadow"
    assert shadow["output_fields"]["k8s.ns.name"] == "shop"


def test_summary_says_it_is_simulated(workshop) -> None:
    summary = workshop.summary()
    assert summary["simulated"] is True
    assert summary["context"] == "simulated-eks"
    assert summary["alerts"] == len(workshop.alerts)


def test_unknown_scenario_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        simulate("nope")


def test_the_dropped_tool_runs_under_the_attackers_shell(upstream) -> None:
    result = simulate("incident", nodes=2, hours=0.5, seed=3, rules=upstream)
    dropped = [a for a in result.alerts if a["rule"] == "Drop and execute new binary in container"][0]
    fields = dropped["output_fields"]
    assert (fields["proc.exe"], fields["proc.pname"], fields["proc.aname[2]"]) == (
        "/tmp/kworkerd",
        "bash",
        "runc",
    )
    assert fields["proc.tty"] != 0


def test_incident_metadata_names_the_attacked_pod(upstream) -> None:
    result = simulate("incident", nodes=2, hours=0.5, seed=3, rules=upstream)
    (incident,) = result.incidents
    shell = [a for a in result.alerts if a["rule"] == "Terminal shell in container"]
    assert incident["pod"] in {a["output_fields"]["k8s.pod.name"] for a in shell}
    assert (incident["namespace"], incident["attacker"]) == ("shop", "203.0.113.66")


def test_start_time_is_honoured(upstream) -> None:
    from datetime import UTC, datetime

    start = datetime(2027, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    result = simulate("workshop", rules=upstream, start=start)
    assert min(a["time"] for a in result.alerts) >= "2027-01-02T03:04:05.600000000Z"


def test_rule_matching_first_keeps_only_the_first_rule_per_event(upstream) -> None:
    result = simulate("workshop", rules=[*upstream, PROJECT_RULES], seed=11, rule_matching="first")
    rules = [a["rule"] for a in result.alerts]
    assert UPSTREAM_TERMINAL_SHELL in rules
    assert RULE_SHELL_TTY not in rules  # same event, later in load order: shadowed
    assert RULE_SHELL_NO_TTY in rules  # a different event


def test_written_syscalls_evaluated_per_event_give_the_same_alerts(upstream, tmp_path) -> None:
    import json

    ruleset = load_rules(*upstream)
    result = simulate("incident", nodes=2, hours=0.3, seed=8, ruleset=ruleset)
    path = tmp_path / "events.jsonl"
    result.write_syscalls(path)
    events = [json.loads(line) for line in path.read_text().splitlines()]
    per_event = sorted(
        (a["output_fields"]["evt.time"], a["rule"]) for a in ruleset.alerts(events, hostname="x")
    )
    vectorised = sorted((a["output_fields"]["evt.time"], a["rule"]) for a in result.falco_alerts)
    assert per_event == vectorised
    assert len(vectorised) > 5
