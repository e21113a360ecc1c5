"""Is it still going on?  Last activity per pod/node, quiet times, blind spots."""

from __future__ import annotations

import os

import pandas as pd

from falco_lab.analysis.activity import blind_spots, collection_time, still_active
from falco_lab.analysis.report import build_report
from tests.analysis.frames import T0, alerts

API = {"k8s.ns.name": "shop", "k8s.pod.name": "api-1", "proc.name": "kworkerd", "proc.pid": 7772}
WEB = {"k8s.ns.name": "shop", "k8s.pod.name": "web-1", "proc.name": "nginx", "proc.pid": 10}
DROP = {
    "rule": "Falco internal: syscall event drop",
    "priority": "Critical",
    "hostname": "node-7",
    "n_drops": 120,
}


def test_a_pod_alerting_at_the_end_is_active_and_one_quiet_for_an_hour_is_not():
    df = alerts({**WEB, "t": 0}, {**API, "t": 3600})
    table = still_active(df).set_index("place")
    assert table.loc["shop/api-1", "status"] == "active at the end"
    assert table.loc["shop/web-1", "status"] == "quiet"
    assert table.loc["shop/web-1", "quiet_before_end"] == 3600.0
    assert table.loc["shop/api-1", "last_processes"] == "kworkerd (7772)"


def test_quiet_time_is_also_measured_against_the_collection_time():
    df = alerts({**API, "t": 0})
    table = still_active(df, collected_at=T0 + pd.Timedelta("2h"))
    assert table["quiet_before_collection"].tolist() == [7200.0]


def test_alerts_without_a_pod_are_counted_per_node():
    df = alerts({"hostname": "node-9", "rule": "Host rule"})
    assert still_active(df)["place"].tolist() == ["node node-9"]


def test_falco_drop_alerts_are_blind_spot_windows_per_node():
    df = alerts({**DROP, "t": 0}, {**DROP, "t": 30}, {**DROP, "t": 600}, {**API, "t": 5})
    spots = blind_spots(df)
    assert spots["node"].tolist() == ["node-7", "node-7"]
    assert spots["alerts"].tolist() == [2, 1] and spots["drops"].tolist() == [240, 120]


def test_collection_time_is_the_newest_file_modification(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("x")
    os.utime(path, (1_795_000_000, 1_795_000_000))
    assert collection_time([str(path), "http://ui:2802"]) == pd.Timestamp(1_795_000_000, unit="s", tz="UTC")


def test_the_report_says_what_is_still_active_and_lists_blind_spots():
    html = build_report(alerts({**DROP, "t": 0}, {**API, "t": 5}), collected_at="2026-11-27T12:00:00Z")
    section = html[html.index('<section id="activity">') : html.index('<section id="summary">')]
    assert "Blind spots" in section and "Falco internal: syscall event drop" in section
    assert "1 place still alerting" in section and "kworkerd (7772)" in section
