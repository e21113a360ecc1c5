"""Following alerts live (falco_lab.lab.follow), against a stand-in cluster."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from falco_lab.lab.follow import follow_alerts


class GrowingCluster:
    """A cluster whose Falco raised one more alert at every poll."""

    mode, context = "simulate", "test"

    def __init__(self) -> None:
        self.calls = 0

    def falco_alerts(self, since: datetime | None = None) -> pd.DataFrame:
        self.calls += 1
        times = pd.to_datetime([f"2026-01-01T00:00:0{i}Z" for i in range(self.calls)])
        return pd.DataFrame(
            {
                "time": times,
                "rule": "R",
                "priority": "Warning",
                "hostname": "n",
                "output": [f"a{i}" for i in range(self.calls)],
            }
        )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_each_new_alert_is_printed_once() -> None:
    clock, lines = Clock(), []
    follow_alerts(GrowingCluster(), seconds=3, poll=1, on_alert=lines.append, sleep=clock.sleep, clock=clock)
    assert [line.split(": ", 1)[1] for line in lines] == ["a0", "a1", "a2", "a3"]


def test_following_stops_at_max_alerts_and_counts_the_rest() -> None:
    clock, lines = Clock(), []
    cluster = GrowingCluster()
    cluster.calls = 4  # five alerts at the first poll
    seen = follow_alerts(
        cluster, seconds=60, max_alerts=2, on_alert=lines.append, sleep=clock.sleep, clock=clock
    )
    assert len(seen) == 2 and seen.attrs["not_shown"] == 3
    assert lines[-1] == "… 3 more alert(s) not shown (max_alerts=2)"


def test_following_stops_after_its_time() -> None:
    clock = Clock()
    cluster = GrowingCluster()
    follow_alerts(
        cluster, seconds=5, poll=1, max_alerts=100, on_alert=lambda _: None, sleep=clock.sleep, clock=clock
    )
    assert cluster.calls == 6


def test_long_outputs_are_cut_with_a_count() -> None:
    class Long(GrowingCluster):
        def falco_alerts(self, since: datetime | None = None) -> pd.DataFrame:
            frame = super().falco_alerts(since)
            return frame.assign(output="x" * 300)

    clock, lines = Clock(), []
    follow_alerts(Long(), seconds=0, on_alert=lines.append, sleep=clock.sleep, clock=clock)
    assert lines[0].endswith("… (60 more characters)")
