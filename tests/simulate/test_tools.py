"""Simulated tools are registered units: one handler per tool, looked up by command name."""

from __future__ import annotations

import pytest

from falco_lab.simulate import Simulator, build_world
from falco_lab.simulate import tools as tools_module
from falco_lab.simulate.tools import TOOLS, CommandResult, ToolRegistryError, register_tool
from falco_lab.workshop import manifests


@pytest.fixture
def registry(monkeypatch):
    """A copy of the registry, restored after the test."""
    monkeypatch.setattr(tools_module, "TOOLS", dict(TOOLS))
    return tools_module.TOOLS


def test_every_built_in_tool_is_registered_under_each_of_its_names() -> None:
    for name in ("cat", "curl", "wget", "nc", "apt-get", "pip3", "kubectl", "redis-cli", "id"):
        assert name in TOOLS and name in TOOLS[name].names and TOOLS[name].summary


def test_a_name_registered_twice_is_an_error(registry) -> None:
    with pytest.raises(ToolRegistryError, match="cat already registered"):
        register_tool("cat", summary="again")(lambda sim, proc, args, operands: CommandResult())


def test_a_registration_needs_a_name() -> None:
    with pytest.raises(ToolRegistryError, match="at least one command name"):
        register_tool(summary="nothing")


def test_a_new_tool_is_run_for_its_command(registry) -> None:
    seen = []

    @register_tool("dig", summary="resolve a name")
    def _dig(sim, proc, args, operands):
        seen.append(list(args))
        return CommandResult(stdout="10.0.0.1\n")

    sim = Simulator(build_world(1, seed=1), seed=1, start_ns=0)
    pod = sim.create_pod(manifests.shell_pod_manifest())
    _, result = sim.exec_in_container(pod, ["sh", "-c", "dig example.org"])
    assert result.stdout == "10.0.0.1\n" and seen == [["example.org"]]


def test_a_handler_that_declines_gets_the_default(registry) -> None:
    registry.pop("nc")
    register_tool("nc", summary="declines")(lambda sim, proc, args, operands: None)
    sim = Simulator(build_world(1, seed=1), seed=1, start_ns=0)
    pod = sim.create_pod(manifests.shell_pod_manifest())
    _, result = sim.exec_in_container(pod, ["sh", "-c", "nc 10.0.0.9 4444"])
    assert result.exit_code == 0
    assert not [e for e in sim.log.records() if e.get("evt.type") == "connect"]
