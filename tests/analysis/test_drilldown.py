"""Drill-down table and figure, pod stories."""

from __future__ import annotations

import pandas as pd
import pytest

from falco_lab.analysis.drilldown import (
    drilldown_figure,
    drilldown_table,
    pod_stories,
    pod_story,
    severity_area,
)
from falco_lab.events.schema import empty_frame
from falco_lab.priorities import PRIORITY_COLORS
from tests.analysis.frames import alerts

WEB = {"k8s.ns.name": "shop", "k8s.pod.name": "web", "container.id": "c1"}


def _incident():
    return alerts(
        {
            **WEB,
            "proc.pid": 10,
            "proc.ppid": 1,
            "proc.name": "bash",
            "proc.cmdline": "bash -i",
            "priority": "Notice",
            "rule": "Shell",
            "t": 0,
        },
        {
            **WEB,
            "proc.pid": 11,
            "proc.ppid": 10,
            "proc.name": "cat",
            "proc.cmdline": "cat /etc/shadow",
            "fd.name": "/etc/shadow",
            "priority": "Warning",
            "rule": "Read sensitive",
            "t": 10,
        },
        {
            **WEB,
            "proc.pid": 12,
            "proc.ppid": 10,
            "proc.name": "curl",
            "proc.cmdline": "curl http://198.51.100.7",
            "fd.name": "10.0.0.5:40000->198.51.100.7:80",
            "priority": "Critical",
            "rule": "C2",
            "t": 20,
        },
        {"k8s.ns.name": "shop", "k8s.pod.name": "db", "container.id": "c2", "proc.name": "psql", "t": 30},
        {"proc.name": "systemd", "hostname": "node-2", "t": 40},
    )


def test_table_counts_per_level_and_puts_host_alerts_under_host():
    table = drilldown_table(_incident(), "pod")
    counts = dict(zip(table["pod"], table["alerts"], strict=True))
    assert counts == {"web": 3, "db": 1, "(host)": 1}
    assert table.iloc[0]["pod"] == "web" and table.iloc[0]["max_priority"] == "Critical"


def test_table_down_to_process():
    table = drilldown_table(_incident(), "process")
    web = table[table["pod"] == "web"]
    assert sorted(web["process"]) == ["bash", "cat", "curl"]
    assert list(table.columns[:4]) == ["namespace", "pod", "container", "process"]


def test_unknown_depth_is_an_error():
    with pytest.raises(ValueError, match="unknown depth"):
        drilldown_table(_incident(), "cluster")


def test_figure_alert_counts_add_up_to_every_alert():
    trace = drilldown_figure(_incident()).data[0]
    roots = [n for n, p in zip(trace.customdata, trace.parents, strict=True) if p == ""]
    assert sum(roots) == 5


def test_figure_parents_are_exactly_the_sum_of_their_children():
    trace = drilldown_figure(_incident()).data[0]
    value = dict(zip(trace.ids, trace.values, strict=True))
    for parent in {p for p in trace.parents if p}:
        children = [v for v, p in zip(trace.values, trace.parents, strict=True) if p == parent]
        assert value[parent] == sum(children)


def test_one_critical_alert_outweighs_ten_thousand_notice_probes():
    probes = [{"k8s.ns.name": "shop", "k8s.pod.name": "db", "proc.name": "pg_isready", "priority": "Notice"}]
    attack = {**WEB, "proc.name": "sh", "priority": "Critical"}
    trace = drilldown_figure(alerts(*(probes * 10_000), attack)).data[0]
    area = dict(zip(trace.ids, trace.values, strict=True))
    colour = dict(zip(trace.ids, trace.marker.colors, strict=True))
    assert area["shop\x1fweb"] > area["shop\x1fdb"]
    assert colour["shop\x1fweb"] == PRIORITY_COLORS["Critical"]
    assert colour["shop"] == PRIORITY_COLORS["Critical"]


def test_severity_area_weighs_priority_before_volume():
    area = severity_area(pd.Series(["Critical", "Notice", "Notice"]), pd.Series([1, 1, 10_000]))
    assert area.tolist() == [1024.0, 16.0, 80.0]


def test_figure_keeps_totals_when_leaves_are_capped():
    df = alerts(*[{**WEB, "proc.name": f"p{i}"} for i in range(20)])
    trace = drilldown_figure(df, max_leaves=5).data[0]
    assert "(15 more processes)" in trace.labels
    assert sum(n for n, p in zip(trace.customdata, trace.parents, strict=True) if p == "") == 20


def test_pod_story_collects_commands_files_connections_in_order():
    story = pod_story(_incident(), "web", "shop")
    assert (story.alerts, story.containers, story.nodes) == (3, ["c1"], ["node-1"])
    assert story.commands["cmdline"].tolist() == ["bash -i", "cat /etc/shadow", "curl http://198.51.100.7"]
    assert story.files["file"].tolist() == ["/etc/shadow"]
    assert story.connections["connection"].tolist() == ["10.0.0.5:40000->198.51.100.7:80"]
    assert story.rules["rule"].tolist() == ["Shell", "Read sensitive", "C2"]
    assert story.priorities == {"Critical": 1, "Warning": 1, "Notice": 1}
    assert "└─ bash (pid 10)" in story.lineage


def test_pod_story_knows_how_long_the_pod_was_quiet():
    story = pod_story(_incident(), "web")
    assert story.quiet_for == 20.0
    assert "quiet for 20 s" in story.to_text()


def test_pod_story_of_unknown_pod_is_none():
    assert pod_story(_incident(), "nope") is None


def test_pod_stories_rank_most_severe_first_and_skip_host():
    stories = pod_stories(_incident(), top=5)
    assert [s.pod for s in stories] == ["web", "db"]


def test_empty_input():
    assert drilldown_table(empty_frame()).empty
    assert pod_stories(empty_frame()) == []
    assert "No events" in drilldown_figure(empty_frame()).layout.annotations[0].text


def test_container_level_shows_name_and_id():
    df = alerts({**WEB, "container.name": "nginx", "proc.name": "sh"})
    assert drilldown_table(df, "container")["container"].tolist() == ["nginx (c1)"]
