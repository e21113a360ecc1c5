"""Against a real cluster (skipped unless ``pytest --run-cluster``; uses the current kube context).

Run after ``falco-lab cluster install``: it checks readiness, runs the three tests,
expects the project's rules in Falco's alerts and in falcosidekick-ui, and leaves
nothing behind.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from falco_lab.cluster.pods import labelled_objects
from falco_lab.lab import connect
from falco_lab.workshop import steps

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster():
    return connect("cluster")


def test_preflight_has_no_failures(cluster):
    table = cluster.preflight()
    assert not (table["status"] == "fail").any(), table.to_string()


def test_falco_is_ready(cluster):
    table = cluster.readiness()
    assert table["ready"].all(), table.to_string()


def test_three_tests_raise_the_project_alerts_and_clean_up(cluster):
    start = datetime.now(UTC)
    results = steps.run_workshop_tests(cluster)
    assert results["ok"].all(), results.to_string()
    assert [o for o in labelled_objects(cluster.clients) if o.startswith("pod/")] == []
    expected = {r for rules in results["expected_rules"] for r in rules}
    deadline = time.monotonic() + 60
    seen: set[str] = set()
    while time.monotonic() < deadline and not expected <= seen:
        time.sleep(5)
        seen = set(cluster.falco_alerts(since=start)["rule"])
    assert expected <= seen


def test_sidekick_ui_has_events(cluster):
    events = cluster.sidekick_events()
    assert len(events) > 0 and events["uuid"].notna().all()
