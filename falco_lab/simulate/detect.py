"""Real detection for simulated events: the project's rules engine, then a simulated falcosidekick.

Each node runs its own Falco (the DaemonSet), so the events of each node are evaluated
separately and their alerts carry that node's name as ``hostname``, like Falco with
``FALCO_HOSTNAME`` set to the node name.  Alerts are Falco 0.44 JSON alerts built by
:mod:`falco_lab.rules`; :func:`forward` then does what falcosidekick does before fanning
out (adds a ``uuid``, here drawn from a seeded generator so runs are reproducible, and
the ``customfields`` it is configured with) and can POST them to a
falcosidekick-compatible URL.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from falco_lab.rules import RuleSet, alerts_frame, find_upstream_rules, load_rules, sidekick_enrich
from falco_lab.rules.fetch import UpstreamRulesNotFound
from falco_lab.simulate.actions import SimulationError
from falco_lab.simulate.model import mark_simulated
from falco_lab.workshop import chart

#: The project's own rules file: self-contained, it loads with or without upstream rulesets.
PROJECT_RULES: Path = chart.RULES_FILE
#: The project's tuning of upstream items: loads only after the upstream stable ruleset
#: and :data:`PROJECT_RULES` (both files are installed by values.yaml as custom rules).
UPSTREAM_TUNING: Path = chart.UPSTREAM_TUNING_RULES_FILE

#: What the simulated falcosidekick adds to every event (its ``customfields`` setting):
#: a marker that the event did not come from a real cluster.
SIMULATED_CUSTOM_FIELDS: dict[str, str] = {"simulated": "true"}


@dataclass(slots=True)
class RulesChoice:
    """The rules files a simulation loads, in order, and why (for honest summaries)."""

    paths: list[Path]
    description: str
    missing: list[str] = field(default_factory=list)


def choose_rules(
    rules: Sequence[str | os.PathLike[str]] | None = None,
    *,
    upstream_dir: str | os.PathLike[str] | None = None,
) -> RulesChoice:
    """Which rules files to load.

    With ``rules``, exactly those files, in that order.  Otherwise every upstream ruleset
    found by :func:`~falco_lab.rules.find_upstream_rules` (stable, incubating, sandbox: the
    order the Helm values load them), then the project's own rules, then — when the stable
    ruleset is among them — the project's tuning of upstream items (:data:`UPSTREAM_TUNING`),
    as Falco loads them from ``values.yaml``.  Without any upstream ruleset, the project's
    own rules alone (they are self-contained), and ``description`` says so.
    """
    if rules:
        paths = [Path(p) for p in rules]
        absent = [str(p) for p in paths if not p.is_file()]
        if absent:
            raise SimulationError(f"rules file(s) not found: {', '.join(absent)}")
        return RulesChoice(paths, "the given rules files: " + ", ".join(p.name for p in paths))
    found: dict[str, Path] = {}
    missing: list[str] = []
    for key in ("stable", "incubating", "sandbox"):
        try:
            found.update(find_upstream_rules(upstream_dir, rulesets=[key]))
        except UpstreamRulesNotFound:
            missing.append(key)
    if not found:
        return RulesChoice(
            [PROJECT_RULES],
            "the project's rules only (no upstream ruleset found; run `falco-lab rules fetch`)",
            missing,
        )
    # the tuning extends upstream's stable lists: without stable it cannot load
    tuning = [UPSTREAM_TUNING] if "stable" in found else []
    paths = [*found.values(), PROJECT_RULES, *tuning]
    description = "upstream " + " + ".join(found) + " rulesets and the project's rules"
    return RulesChoice(paths, description, missing)


def load_ruleset(choice: RulesChoice) -> RuleSet:
    """Load the chosen files; a file that does not load is an error naming file, line and reason."""
    ruleset = load_rules(*choice.paths)
    if not ruleset.ok:
        problems = "; ".join(str(issue) for issue in list(ruleset.errors)[:5])
        raise SimulationError(f"rules did not load ({choice.description}): {problems}")
    return ruleset


def resolve_rules(
    rules: Sequence[str | os.PathLike[str]] | None = None,
    ruleset: RuleSet | None = None,
    *,
    upstream_dir: str | os.PathLike[str] | None = None,
) -> tuple[RulesChoice, RuleSet]:
    """The rules a simulation detects with, and why: ``ruleset`` when given (it takes
    precedence over ``rules``), else the files :func:`choose_rules` picks, loaded."""
    if ruleset is not None:
        return RulesChoice([], "a ruleset given by the caller"), ruleset
    choice = choose_rules(rules, upstream_dir=upstream_dir)
    return choice, load_ruleset(choice)


def detect(
    events: pd.DataFrame,
    ruleset: RuleSet,
    *,
    rule_matching: str = "all",
    min_priority: str | None = None,
) -> list[dict[str, Any]]:
    """Falco JSON alerts for ``events`` (a simulated events frame), node by node, in time order."""
    if events.empty or "evt.hostname" not in events.columns:
        return []
    alerts: list[dict[str, Any]] = []
    for hostname, group in events.groupby("evt.hostname", sort=True):
        alerts.extend(
            ruleset.alerts(
                group,
                hostname=str(hostname),
                rule_matching=rule_matching,
                min_priority=min_priority,
            )
        )
    alerts.sort(key=lambda a: (a["output_fields"].get("evt.time") or 0, a["hostname"]))
    return alerts


def forward(
    alerts: Iterable[Mapping[str, Any]],
    *,
    seed: int,
    custom_fields: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """What falcosidekick forwards: each alert with a ``uuid`` (v4, seeded) and its custom fields."""
    rng = random.Random(f"sidekick:{seed}")
    fields = dict(SIMULATED_CUSTOM_FIELDS if custom_fields is None else custom_fields)
    out = []
    for alert in alerts:
        enriched = sidekick_enrich(alert, custom_fields=fields)
        enriched["uuid"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        out.append(enriched)
    return out


def post(alerts: Sequence[Mapping[str, Any]], url: str, *, timeout: float = 10.0) -> int:
    """POST Falco alerts to a falcosidekick-compatible ``url`` (``POST /``, one alert per request)."""
    from falco_lab.events.sidekick_ui import post_events

    return len(post_events(url, alerts, timeout=timeout))


def to_frame(alerts: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Simulated alerts as the canonical events frame (:mod:`falco_lab.events.schema`),
    labelled simulated (``attrs["simulated"]``, see :func:`~falco_lab.simulate.model.mark_simulated`)."""
    return mark_simulated(alerts_frame(alerts))


__all__ = [
    "PROJECT_RULES",
    "SIMULATED_CUSTOM_FIELDS",
    "UPSTREAM_TUNING",
    "RulesChoice",
    "choose_rules",
    "detect",
    "forward",
    "load_ruleset",
    "post",
    "resolve_rules",
    "to_frame",
]
