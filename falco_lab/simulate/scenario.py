"""``simulate()``: run a scenario on a simulated EKS cluster and detect with real rules.

Scenarios
---------
``workshop``
    Falco installed, then the workshop's three tests (shell with and without a TTY, a
    pod mounting the container-runtime socket, a pod mounting the host's ``/etc``).
    With ``hours`` > 0, background activity runs around them.
``incident``
    ``hours`` (default 6) of background activity with a post-exploitation chain injected
    at a seeded moment in the middle of the window.
``background``
    ``hours`` (default 24) of benign background activity only.

Everything is seeded: the same arguments give the same events and the same alerts
(``uuid`` included).  The result says plainly that it comes from a simulation.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from falco_lab.rules import RuleSet
from falco_lab.simulate import detect as detection
from falco_lab.simulate import incidents, workloads
from falco_lab.simulate.actions import Simulator
from falco_lab.simulate.model import SIMULATED_CONTEXT, World, start_time_ns
from falco_lab.simulate.syscalls import EventLog
from falco_lab.simulate.topology import build_world

SCENARIOS: tuple[str, ...] = ("workshop", "incident", "background")

#: Default simulated start: a fixed instant, so runs are reproducible.
DEFAULT_START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

_DEFAULT_HOURS = {"workshop": 0.0, "incident": 6.0, "background": 24.0}
_NS = 1_000_000_000


@dataclass(slots=True)
class Simulation:
    """The outcome of :func:`simulate`: the world, its syscall events and the alerts they raised.

    Attributes
    ----------
    alerts
        Alerts as falcosidekick forwards them: Falco 0.44 JSON plus ``uuid`` and the
        ``simulated`` custom field.
    falco_alerts
        The same alerts as Falco itself prints them (no ``uuid``).
    """

    scenario: str
    seed: int
    nodes: int
    hours: float
    start: datetime
    world: World
    log: EventLog
    rules: detection.RulesChoice
    falco_alerts: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    context: str = SIMULATED_CONTEXT
    incidents: list[dict[str, Any]] = field(default_factory=list)

    @property
    def simulated(self) -> bool:
        """Always True: these events never happened on a real cluster."""
        return True

    @property
    def events(self) -> pd.DataFrame:
        """The syscall events, one column per field (see :class:`~falco_lab.simulate.syscalls.EventLog`).

        Labelled simulated in ``attrs["simulated"]``.
        """
        return self.log.frame()

    def frame(self) -> pd.DataFrame:
        """The alerts (with ``uuid``) as the canonical events frame, labelled simulated in ``attrs["simulated"]``."""
        return detection.to_frame(self.alerts)

    def write_alerts(self, path: str | os.PathLike[str]) -> int:
        """Write the alerts as JSON lines (one sidekick-enriched Falco alert per line)."""
        with open(path, "wb") as out:
            for alert in self.alerts:
                out.write(orjson.dumps(alert))
                out.write(b"\n")
        return len(self.alerts)

    def write_syscalls(self, path: str | os.PathLike[str]) -> int:
        """Write the syscall events as JSON lines (field → value, missing fields absent)."""
        return self.log.write_jsonl(Path(path))

    def post(self, url: str, *, timeout: float = 10.0) -> int:
        """POST the Falco alerts to a falcosidekick-compatible URL (it adds its own ``uuid``)."""
        return detection.post(self.falco_alerts, url, timeout=timeout)

    def summary(self) -> dict[str, Any]:
        """Counts for a one-screen summary, labelled as simulated."""
        by_rule = Counter(a["rule"] for a in self.alerts)
        by_priority = Counter(a["priority"] for a in self.alerts)
        return {
            "simulated": True,
            "context": self.context,
            "scenario": self.scenario,
            "seed": self.seed,
            "nodes": self.nodes,
            "hours": self.hours,
            "start": self.start.isoformat(),
            "rules": self.rules.description,
            "rules_files": [str(p) for p in self.rules.paths],
            "syscall_events": len(self.log),
            "alerts": len(self.alerts),
            "by_rule": dict(by_rule.most_common()),
            "by_priority": dict(by_priority.most_common()),
            "incidents": self.incidents,
        }


def simulate(
    scenario: str = "workshop",
    *,
    nodes: int = 3,
    hours: float | None = None,
    seed: int = 0,
    rules: Sequence[str | os.PathLike[str]] | None = None,
    ruleset: RuleSet | None = None,
    upstream_dir: str | os.PathLike[str] | None = None,
    start: datetime | None = None,
    rule_matching: str = "all",
    intensity: float = 1.0,
) -> Simulation:
    """Run ``scenario`` on a simulated cluster and detect with the rules engine.

    Parameters
    ----------
    scenario
        ``workshop``, ``incident`` or ``background`` (see the module docstring).
    nodes
        Worker nodes of the simulated cluster.
    hours
        Length of the background activity; default 0 (workshop), 6 (incident), 24 (background).
    seed
        Seed of every random choice.
    rules
        Rules files to load, exactly these, in order.  Default: the upstream rulesets found
        locally (stable, incubating, sandbox), then the project's rules and its upstream
        tuning; the project's rules alone when no upstream ruleset is found.
    ruleset
        An already loaded :class:`~falco_lab.rules.RuleSet` (takes precedence over ``rules``).
    upstream_dir
        Where to look for upstream rulesets first (see :func:`falco_lab.rules.find_upstream_rules`).
    start
        Simulated start time (UTC); default :data:`DEFAULT_START`.
    rule_matching
        ``"all"`` (as the project's Helm values set it) or ``"first"`` (Falco's default).
    intensity
        Scale of the web/API traffic in the background (1.0: one burst per pod and minute).

    Returns
    -------
    Simulation
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {', '.join(SCENARIOS)}")
    hours = _DEFAULT_HOURS[scenario] if hours is None else float(hours)
    if hours < 0:
        raise ValueError(f"hours must not be negative, got {hours}")
    if scenario != "workshop" and hours <= 0:
        raise ValueError(f"the {scenario} scenario needs hours > 0")
    start = start or DEFAULT_START
    start_ns = start_time_ns(start)
    choice, ruleset = detection.resolve_rules(rules, ruleset, upstream_dir=upstream_dir)

    world = build_world(nodes, seed=seed)
    sim = Simulator(world, seed=seed, start_ns=start_ns - 3600 * _NS)
    fleet = workloads.deploy_fleet(sim, region=world.region)
    sim.now = start_ns
    rng = random.Random(f"scenario:{seed}")
    injected: list[dict[str, Any]] = []
    schedule = (
        workloads.background(sim, fleet, start_ns=start_ns, hours=hours, intensity=intensity)
        if hours > 0
        else None
    )
    if scenario == "workshop":
        at = start_ns + (int(hours * 3600 * _NS * rng.uniform(0.3, 0.6)) if hours > 0 else 60 * _NS)
        _inject(schedule, sim, at, lambda s, t: incidents.workshop_tests(s, at=t))
        injected.append({"name": "workshop tests", "at": _iso(at)})
    elif scenario == "incident":
        at = start_ns + int(hours * 3600 * _NS * rng.uniform(0.25, 0.75))
        incident = {"name": "post-exploitation chain", "at": _iso(at), "attacker": incidents.ATTACKER_IP}

        def chain(s: Simulator, t: int) -> None:
            pod = incidents.post_exploitation(s, fleet, at=t)
            incident.update(pod=pod.name, namespace=pod.namespace, node=pod.node)

        _inject(schedule, sim, at, chain)
        injected.append(incident)
    if schedule is not None:
        schedule.run(sim)

    events = sim.log.frame()
    falco_alerts = detection.detect(events, ruleset, rule_matching=rule_matching)
    alerts = detection.forward(falco_alerts, seed=seed)
    return Simulation(
        scenario=scenario,
        seed=seed,
        nodes=nodes,
        hours=hours,
        start=start,
        world=world,
        log=sim.log,
        rules=choice,
        falco_alerts=falco_alerts,
        alerts=alerts,
        incidents=injected,
    )


def _inject(
    schedule: workloads.Schedule | None, sim: Simulator, at: int, activity: workloads.Activity
) -> None:
    if schedule is not None:
        schedule.add(at, activity)
    else:
        activity(sim, at)


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / _NS, tz=UTC).isoformat()


def load_ruleset_for(
    rules: Sequence[str | Path] | None = None, *, upstream_dir: str | None = None
) -> RuleSet:
    """Load the rules :func:`simulate` would load (useful to reuse one ruleset across runs)."""
    return detection.load_ruleset(detection.choose_rules(rules, upstream_dir=upstream_dir))


__all__ = ["DEFAULT_START", "SCENARIOS", "Simulation", "load_ruleset_for", "simulate"]
