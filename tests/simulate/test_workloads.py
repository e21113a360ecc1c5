"""Background workloads: what a day of the simulated cluster contains, and its invariants."""

from __future__ import annotations

import pytest

from falco_lab.simulate import Simulator, build_world
from falco_lab.simulate import workloads as wl

START = 1_795_420_800_000_000_000
HOUR = 3_600_000_000_000


@pytest.fixture(scope="module")
def day():
    world = build_world(2, seed=21)
    sim = Simulator(world, seed=21, start_ns=START - HOUR)
    fleet = wl.deploy_fleet(sim, region=world.region)
    sim.now = START
    wl.background(sim, fleet, start_ns=START, hours=24, intensity=0.1).run(sim)
    return sim.log.frame()


def test_fleet_has_node_agents_on_every_node_and_apps() -> None:
    world = build_world(3, seed=1)
    sim = Simulator(world, seed=1, start_ns=START)
    fleet = wl.deploy_fleet(sim, region=world.region)
    agents = [r.pod for r in fleet.replicas if r.app.per_node]
    assert {p.node for p in agents} == set(world.nodes)
    assert {"web", "api", "db", "cache", "cni"} <= {r.app.role for r in fleet.replicas}
    assert len(sim.log) == 0  # deployed before capture started


def test_the_day_is_within_its_window(day) -> None:
    assert day["evt.rawtime"].min() >= START
    assert day["evt.rawtime"].max() < START + 25 * HOUR


def test_cron_jobs_start_and_end_pods(day) -> None:
    started = day[(day["evt.type"] == "asyncevent") & (day["k8s.ns.name"] == "batch")]
    assert started["k8s.pod.name"].str.startswith("report-").sum() >= 80  # every 15 minutes


def test_deployments_roll_out_new_pods(day) -> None:
    started = day[day["evt.type"] == "asyncevent"]
    assert started["k8s.pod.label[app.kubernetes.io/name]"].isin(["web", "api"]).any()


def test_no_container_is_active_after_its_entrypoint_exited(day) -> None:
    ends = day[(day["evt.type"] == "procexit") & (day["proc.vpid"] == 1) & (day["container.id"] != "host")]
    last_end = ends.groupby("container.id")["evt.rawtime"].max()
    in_containers = day[day["container.id"] != "host"]
    last_event = in_containers.groupby("container.id")["evt.rawtime"].max()
    assert (last_event.loc[last_end.index] <= last_end).all()


def test_operators_open_terminals(day) -> None:
    shells = day[(day["evt.type"] == "execve") & (day["proc.name"] == "bash") & (day["proc.tty"] != 0)]
    assert len(shells) >= 1
    assert set(shells["proc.pname"]) == {"runc"}


def test_exec_probes_run_without_terminal(day) -> None:
    probes = day[(day["evt.type"] == "execve") & (day["proc.name"] == "pg_isready")]
    assert len(probes) >= 600  # every 2 minutes
    assert (probes["proc.tty"] == 0).all()
    assert set(probes["proc.aname[2]"]) == {"runc"}
