"""Charts: typical frames give the right data; empty frames give a "no events" figure."""

from __future__ import annotations

import io

import pandas as pd
import plotly.graph_objects as go
import pytest

from falco_lab.events import charts, empty_frame, load_events
from tests.events.helpers import REMOVE, alert, jsonl

ALL_CHARTS = [
    charts.counts_by_priority,
    charts.counts_by_rule,
    charts.counts_by_source,
    charts.counts_by_tag,
    charts.counts_by_hostname,
    charts.timeline_by_priority,
    charts.timeline_by_source,
    charts.top_namespaces,
    charts.top_pods,
    charts.rule_hour_heatmap,
]


@pytest.fixture
def frame():
    return load_events(io.BytesIO(jsonl([alert(i) for i in range(12)])))


@pytest.mark.parametrize("chart", ALL_CHARTS, ids=lambda f: f.__name__)
def test_empty_frame_gives_a_no_events_figure(chart):
    figure = chart(empty_frame())
    assert isinstance(figure, go.Figure)
    assert figure.data == ()
    assert figure.layout.annotations[0].text == "No events"


@pytest.mark.parametrize("chart", ALL_CHARTS, ids=lambda f: f.__name__)
def test_figures_are_deterministic(chart, frame):
    assert chart(frame).to_json() == chart(frame.copy()).to_json()


def test_priority_counts_in_severity_order_with_colours(frame):
    bar = charts.counts_by_priority(frame).data[0]
    assert list(bar.x) == [
        "Emergency",
        "Alert",
        "Critical",
        "Error",
        "Warning",
        "Notice",
        "Informational",
        "Debug",
    ]
    assert list(bar.y) == [0, 0, 4, 0, 4, 4, 0, 0]
    assert bar.marker.color[2] == charts.PRIORITY_COLORS["Critical"]


def test_rule_counts(frame):
    bar = charts.counts_by_rule(frame).data[0]
    assert dict(zip(bar.y, bar.x, strict=True)) == {
        "Read sensitive file untrusted": 6,
        "Terminal shell in container": 6,
    }


def test_tag_counts_count_each_tag_of_each_event(frame):
    bar = charts.counts_by_tag(frame).data[0]
    counts = dict(zip(bar.y, bar.x, strict=True))
    assert counts["T1059"] == 12 and counts["shell"] == 4


def test_top_pods_are_namespace_qualified(frame):
    labels = set(charts.top_pods(frame).data[0].y)
    assert "default/web-1" in labels and "payments/web-0" in labels


def test_timeline_bins_sum_to_the_event_count(frame):
    figure = charts.timeline_by_priority(frame, freq="5s")
    assert sum(sum(trace.y) for trace in figure.data) == 12
    assert [t.name for t in figure.data] == ["Critical", "Warning", "Notice"]
    assert "bins of 5s" in figure.layout.title.text


def test_automatic_bin_width():
    assert charts.choose_freq(load_events(io.BytesIO(jsonl([alert(0), alert(600)])))["time"]) == "1min"


def test_heatmap_of_a_day_or_more_has_24_hours_and_all_counts(frame):
    spread = frame.assign(time=frame["time"] + pd.to_timedelta(range(len(frame)), unit="h") * 3)
    trace = charts.rule_hour_heatmap(spread).data[0]
    assert list(trace.x) == list(range(24))
    assert sum(map(sum, trace.z)) == 12


def test_heatmap_of_less_than_a_day_uses_the_data_own_span(frame):
    figure = charts.rule_hour_heatmap(frame)
    trace = figure.data[0]
    assert len(trace.x) <= 30
    assert trace.x[0] == frame["time"].min().floor(charts.choose_freq(frame["time"], max_bins=30))
    assert sum(map(sum, trace.z)) == 12
    assert "hour of day" not in figure.layout.title.text


def test_missing_kubernetes_fields_say_so():
    frame = load_events(io.BytesIO(jsonl([alert(0, output_fields={"proc.name": "sh", "evt.time": 1})])))
    figure = charts.top_namespaces(frame)
    assert figure.layout.annotations[0].text == "No 'k8s.ns.name' values in these events"


def test_simulated_frames_are_labelled(frame):
    frame.attrs["simulated"] = True
    assert charts.counts_by_rule(frame).layout.title.text == "Events by rule (simulated)"


def test_events_without_source_still_chart():
    frame = load_events(io.BytesIO(jsonl([alert(0, source=REMOVE)])))
    assert charts.timeline_by_source(frame).data[0].name == "(none)"
