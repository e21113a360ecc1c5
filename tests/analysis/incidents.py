"""The simulated post-exploitation incident, run once per (seed, rule mode) for the analysis tests."""

from __future__ import annotations

from functools import cache

import pandas as pd

from falco_lab.events import frame_from_alerts
from falco_lab.simulate import simulate
from falco_lab.simulate.detect import PROJECT_RULES, UPSTREAM_TUNING
from tests.conftest import shared_file

SEEDS = (0, 1, 2)
MODES = ("project", "upstream")
UPSTREAM = ("falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml")


def rules_for(mode: str) -> list:
    """The rules files of a mode: the project's alone, or upstream's three then ours and our tuning."""
    if mode == "project":
        return [PROJECT_RULES]
    return [*(shared_file(f"upstream/{name}") for name in UPSTREAM), PROJECT_RULES, UPSTREAM_TUNING]


@cache
def _run(seed: int, mode: str) -> tuple[tuple[dict, ...], dict]:
    result = simulate("incident", seed=seed, rules=rules_for(mode))
    summary = result.summary()
    (incident,) = [i for i in summary["incidents"] if i["name"] == "post-exploitation chain"]
    return tuple(result.alerts), incident


def incident(seed: int, mode: str) -> tuple[pd.DataFrame, dict]:
    """(alerts frame, the incident's summary: pod, namespace, node, attacker, at)."""
    if mode != "project":
        rules_for(mode)  # skips (or fails on CI) when ../shared is missing, before the cached run
    alerts, info = _run(seed, mode)
    return frame_from_alerts(list(alerts)), info
