"""The project's rules load alone, and after the upstream rulesets with their tuning, and fire as intended."""

from __future__ import annotations

import pytest

from falco_lab.rules import RulesFile, load_rules
from falco_lab.workshop import chart, steps
from tests.conftest import shared_file

UPSTREAM = (
    "upstream/falco_rules.yaml",
    "upstream/falco-incubating_rules.yaml",
    "upstream/falco-sandbox_rules.yaml",
)


@pytest.fixture(scope="module")
def ruleset():
    """As Falco loads them from values.yaml: the three upstream rulesets, then rules.d in name order."""
    return load_rules(*(shared_file(p) for p in UPSTREAM), *chart.CUSTOM_RULES_PATHS)


@pytest.fixture(scope="module")
def alone():
    """The project's rules file on its own (simulate mode without upstream rulesets)."""
    return load_rules(chart.RULES_FILE)


@pytest.fixture(params=["after_upstream", "alone"])
def either(request):
    """The project's rules must behave the same with and without the upstream rulesets."""
    return request.getfixturevalue("ruleset" if request.param == "after_upstream" else "alone")


EXEC = {
    "evt.type": "execve",
    "container.id": "3ad7b26ded6d",
    "proc.name": "sh",
    "proc.pname": "runc",
    "proc.tty": 34816,
    "proc.vpid": 7,
    "k8s.ns.name": "falco-lab",
    "k8s.pod.name": "falco-lab-shell",
    "container.image.repository": "docker.io/library/busybox",
}
START = {**EXEC, "proc.name": "sleep", "proc.pname": "containerd-shim", "proc.vpid": 1, "proc.tty": 0}


def _ours(ruleset, event) -> list[str]:
    return [r for r in ruleset.matches(event) if r.startswith("Falco Lab")]


def test_loads_after_the_three_upstream_rulesets_with_no_errors_or_warnings(ruleset):
    assert ruleset.ok
    assert ruleset.errors == [] and ruleset.warnings == []
    assert {steps.RULE_SHELL_TTY, steps.RULE_RUNTIME_SOCKET} <= set(ruleset.names)


def test_loads_after_the_stable_ruleset_alone(ruleset):
    after_stable = load_rules(shared_file(UPSTREAM[0]), *chart.CUSTOM_RULES_PATHS)
    assert after_stable.ok and after_stable.errors == []


def test_loads_on_its_own_with_no_errors_or_warnings(alone):
    assert alone.ok
    assert alone.errors == [] and alone.warnings == []
    assert set(alone.names) >= {  # and the post-exploitation chain's rules
        steps.RULE_SHELL_TTY,
        steps.RULE_SHELL_NO_TTY,
        steps.RULE_RUNTIME_SOCKET,
        steps.RULE_SENSITIVE_HOST_PATH,
    }


def test_the_tuning_file_does_not_load_on_its_own():
    # why it is a separate file: it appends to an upstream list, which must exist first
    tuning = load_rules(chart.UPSTREAM_TUNING_RULES_FILE)
    assert not tuning.ok
    (error,) = tuning.errors
    assert (error.code, error.item_type, error.item_name) == ("LOAD_ERR_VALIDATE", "list", "shell_binaries")
    assert error.position.name.endswith(chart.UPSTREAM_TUNING_FILE)


def test_the_tuning_file_needs_the_project_rules_loaded_before_it():
    tuning = load_rules(shared_file(UPSTREAM[0]), chart.UPSTREAM_TUNING_RULES_FILE)
    assert [(e.code, e.item_name) for e in tuning.errors] == [
        ("LOAD_ERR_VALIDATE", "falco_lab_shell_binaries")
    ]


def test_shell_with_a_terminal(either):
    assert _ours(either, EXEC) == [steps.RULE_SHELL_TTY]


def test_upstream_terminal_shell_rule_fires_too(ruleset):
    assert steps.UPSTREAM_TERMINAL_SHELL in ruleset.matches(EXEC)


def test_shell_without_a_terminal_is_caught_where_upstream_is_silent(either):
    event = {**EXEC, "proc.tty": 0}
    assert either.matches(event) == [steps.RULE_SHELL_NO_TTY]


@pytest.mark.parametrize("shell", ["bash", "ash", "dash", "zsh"])
def test_other_shells_are_shells(either, shell):
    assert _ours(either, {**EXEC, "proc.name": shell}) == [steps.RULE_SHELL_TTY]


def test_busybox_counts_as_a_shell(either):
    assert _ours(either, {**EXEC, "proc.name": "busybox"}) == [steps.RULE_SHELL_TTY]


def test_the_tuning_makes_upstream_count_busybox_as_a_shell_too(ruleset):
    busybox = {**EXEC, "proc.name": "busybox"}
    assert steps.UPSTREAM_TERMINAL_SHELL in ruleset.matches(busybox)
    untuned = load_rules(*(shared_file(p) for p in UPSTREAM), chart.RULES_FILE)
    assert steps.UPSTREAM_TERMINAL_SHELL not in untuned.matches(busybox)
    assert untuned.lists["shell_binaries"] + ["busybox"] == ruleset.lists["shell_binaries"]


def test_the_tuning_makes_the_project_rules_follow_upstreams_shell_list():
    attendee = RulesFile(
        "attendee.yaml", "- list: shell_binaries\n  items: [mksh]\n  override:\n    items: append\n"
    )
    mksh = {**EXEC, "proc.name": "mksh"}
    tuned = load_rules(shared_file(UPSTREAM[0]), *chart.CUSTOM_RULES_PATHS, attendee)
    assert tuned.ok and _ours(tuned, mksh) == [steps.RULE_SHELL_TTY]
    untuned = load_rules(shared_file(UPSTREAM[0]), chart.RULES_FILE, attendee)
    assert untuned.ok and _ours(untuned, mksh) == []


def test_subshells_do_not_alert_again(either):
    assert _ours(either, {**EXEC, "proc.pname": "sh"}) == []


def test_shell_as_container_entrypoint_is_not_an_exec(either):
    assert _ours(either, {**START, "proc.name": "sh"}) == []


def test_containerd_socket_mount_on_container_start(either):
    event = {
        **START,
        "container.mount.dest[/run/containerd/containerd.sock]": "/run/containerd/containerd.sock",
    }
    assert _ours(either, event) == [steps.RULE_RUNTIME_SOCKET]


def test_upstream_sensitive_mount_rule_fires_for_the_socket_too(ruleset):
    event = {
        **START,
        "container.mount.dest[/run/containerd/containerd.sock]": "/run/containerd/containerd.sock",
    }
    assert steps.UPSTREAM_SENSITIVE_MOUNT in ruleset.matches(event)


def test_docker_socket_mount_keyed_on_host_path_whatever_the_mount_path(either):
    event = {**START, "container.mount.dest[/var/run/docker.sock]": "/tmp/innocent"}
    assert _ours(either, event) == [steps.RULE_RUNTIME_SOCKET]


def test_host_etc_mount_on_container_start(either):
    event = {**START, "container.mount.dest[/etc]": "/host/etc"}
    assert _ours(either, event) == [steps.RULE_SENSITIVE_HOST_PATH]


@pytest.mark.parametrize("placeholder", ["<NA>", "N/A"])
def test_placeholder_values_for_absent_mounts_do_not_alert(either, placeholder):
    event = {**START, "container.mount.dest[/etc]": placeholder}
    assert _ours(either, event) == []


def test_plain_container_start_does_not_alert(either):
    assert _ours(either, START) == []


def test_mount_seen_later_in_the_container_is_not_a_start(either):
    assert _ours(either, {**START, "proc.vpid": 12, "container.mount.dest[/etc]": "/host/etc"}) == []


def test_exception_for_the_ebs_csi_node_plugin(either):
    event = {
        **START,
        "k8s.ns.name": "kube-system",
        "container.image.repository": "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/aws-ebs-csi-driver",
        "container.mount.dest[/var/lib/kubelet]": "/var/lib/kubelet",
    }
    assert _ours(either, event) == []
    assert _ours(either, {**event, "k8s.ns.name": "default"}) == [steps.RULE_SENSITIVE_HOST_PATH]


def test_falco_itself_is_not_reported(either):
    event = {
        **START,
        "container.image.repository": "docker.io/falcosecurity/falco",
        "container.mount.dest[/etc]": "/host/etc",
    }
    assert _ours(either, event) == []


@pytest.mark.parametrize("upstream", [True, False], ids=["after_upstream", "alone"])
def test_exec_probe_exception_tunes_out_a_listed_probe(upstream):
    listed = '        - [payments, "sh -c pg_isready "]\n'
    text = chart.RULES_FILE.read_text()
    assert listed in text
    text = text.replace(listed, listed + '        - [falco, "sh -c redis-cli"]\n', 1)
    before = [shared_file(UPSTREAM[0])] if upstream else []
    tuned = load_rules(*before, RulesFile("tuned.yaml", text))
    probe = {**EXEC, "proc.tty": 0, "k8s.ns.name": "falco", "proc.cmdline": "sh -c redis-cli ping"}
    assert tuned.ok and _ours(tuned, probe) == []
    assert _ours(tuned, {**probe, "k8s.ns.name": "shop"}) == [steps.RULE_SHELL_NO_TTY]
