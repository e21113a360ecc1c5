"""Timeline figures: point mode, binned mode, reference lines, empty input."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from falco_lab.analysis.fields import PRIORITY_COLORS
from falco_lab.analysis.timeline import bin_alerts, priority_counts_figure, timeline_figure
from falco_lab.events.schema import empty_frame
from tests.analysis.frames import alerts


def test_small_input_draws_one_marker_per_alert_coloured_by_priority():
    df = alerts(
        {"priority": "Critical", "rule": "A"},
        {"priority": "Notice", "rule": "B"},
        {"priority": "Critical", "rule": "B"},
    )
    fig = timeline_figure(df, "rule")
    by_name = {trace.name: trace for trace in fig.data}
    assert sum(len(t.x) for t in fig.data) == 3
    assert by_name["Critical"].marker.color == PRIORITY_COLORS["Critical"]
    assert sorted(by_name["Critical"].y) == ["A", "B"]


def test_large_input_is_binned_not_drawn_point_by_point():
    df = alerts(*[{"rule": f"R{i % 3}", "priority": "Warning", "t": i} for i in range(3000)])
    fig = timeline_figure(df, "rule", max_points=1000, max_bins=50)
    markers = sum(len(t.x) for t in fig.data)
    assert markers <= 3 * 50
    assert "bins" in fig.layout.title.text


def test_bins_count_every_alert():
    df = alerts(*[{"k8s.pod.name": f"p{i % 4}", "t": i * 7} for i in range(500)])
    binned = bin_alerts(df, "pod", max_bins=20)
    assert binned["count"].sum() == 500
    assert binned["bucket"].nunique() <= 20
    assert set(binned["group"]) == {"p0", "p1", "p2", "p3"}


def test_extra_lanes_are_merged_into_other():
    df = alerts(*[{"rule": f"R{i}"} for i in range(10)])
    binned = bin_alerts(df, "rule", max_groups=4)
    assert binned["group"].nunique() == 4
    assert "(other 7 groups)" in set(binned["group"])


def test_priority_counts_carry_reference_lines():
    fig = priority_counts_figure(alerts({}, {"t": 30}), ref_times=["2026-11-27T10:00:10Z"])
    assert len(fig.layout.shapes) == 1
    assert sum(sum(trace.y) for trace in fig.data) == 2


def test_reference_lines_and_range_slider():
    df = alerts({"rule": "A"}, {"rule": "A", "t": 100})
    fig = timeline_figure(df, ref_times={"breach": "2026-11-27T10:00:50Z"})
    assert len(fig.layout.shapes) == 1
    assert fig.layout.annotations[0].text == "breach"
    assert fig.layout.xaxis.rangeslider.visible is True


def test_unknown_grouping_is_an_error():
    with pytest.raises(ValueError, match="unknown grouping 'colour'"):
        timeline_figure(alerts({}), "colour")


def test_event_strings_are_escaped_in_labels_and_hover():
    df = alerts({"k8s.pod.name": "<img src=x>", "proc.cmdline": "<script>x</script>"})
    trace = timeline_figure(df, "pod").data[0]
    assert trace.y[0] == "&lt;img src=x&gt;"
    assert "<script>" not in trace.hovertext[0] and "&lt;script&gt;" in trace.hovertext[0]


def test_empty_input_says_no_events():
    fig = timeline_figure(empty_frame())
    assert "No events" in fig.layout.annotations[0].text
    assert "No events" in priority_counts_figure(empty_frame()).layout.annotations[0].text
    assert bin_alerts(empty_frame()).empty


def test_pod_lanes_are_namespaced():
    df = alerts({"k8s.ns.name": "a", "k8s.pod.name": "web"}, {"k8s.ns.name": "b", "k8s.pod.name": "web"})
    assert set(bin_alerts(df, "pod")["group"]) == {"a/web", "b/web"}


def test_priority_bars_are_centred_on_their_bins():
    df = alerts({"t": 0}, {"t": 150}, {"t": 610})  # 10 min of data: bins of 10 s
    fig = priority_counts_figure(df, max_bins=120)
    trace = fig.data[0]
    width = pd.Timedelta(milliseconds=trace.width)
    starts = df["time"].dt.floor(width)
    assert sorted(pd.Timestamp(x) for x in trace.x) == sorted(starts + width / 2)


def test_an_incident_inside_a_bin_lies_within_its_drawn_bar():
    incident = pd.Timestamp("2026-11-27T10:02:38Z")  # late in the 10:02:30 bin of 10 s
    df = alerts({"t": 0}, {"t": 158}, {"t": 610})
    fig = priority_counts_figure(df, max_bins=120, ref_times={"incident": incident})
    trace = fig.data[0]
    half = pd.Timedelta(milliseconds=trace.width) / 2
    extents = [(pd.Timestamp(x) - half, pd.Timestamp(x) + half) for x in trace.x]
    assert sum(lo <= incident < hi for lo, hi in extents) == 1
    assert pd.Timestamp(fig.layout.shapes[0].x0) == incident


def test_many_lanes_make_wider_bins_so_the_markers_stay_bounded():
    df = alerts(*[{"rule": f"rule-{i % 40}", "t": i * 7} for i in range(6000)])
    fig = timeline_figure(df, "rule", max_points=100, max_bins=200, max_groups=40, max_cells=400)
    hovers = [h for trace in fig.data if trace.mode == "markers" for h in trace.hovertext]
    assert len(hovers) <= 400
    assert sum(int(re.search(r"([\d,]+) alerts", h).group(1).replace(",", "")) for h in hovers) == 6000


def test_binned_markers_stay_under_the_cell_bound_with_many_priorities() -> None:
    from falco_lab.analysis.timeline import cell_bins

    assert cell_bins(40, 9) == 10  # never fewer than 10 buckets
    assert cell_bins(3, 2) == 200  # few lanes: the bucket cap
    assert cell_bins(10, 3, max_cells=3000) == 100
