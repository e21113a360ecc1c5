"""Schema roles, filters and time bounds."""

from __future__ import annotations

import pandas as pd
import pytest

from falco_lab.analysis.fields import (
    AlertSchema,
    column,
    filter_alerts,
    first_word,
    is_simulated,
    parse_time_bound,
)
from falco_lab.events.schema import empty_frame
from tests.analysis.frames import T0, alerts


def _frame():
    return alerts(
        {"k8s.ns.name": "a", "k8s.pod.name": "p1", "priority": "Notice", "t": 0},
        {"k8s.ns.name": "b", "k8s.pod.name": "p2", "priority": "Critical", "t": 60},
        {"priority": "Error", "t": 120},
    )


def test_filter_by_namespace_drops_alerts_without_namespace():
    assert filter_alerts(_frame(), namespace="a")["k8s.pod.name"].tolist() == ["p1"]


def test_filter_by_several_pods():
    assert len(filter_alerts(_frame(), pod=["p1", "p2"])) == 2


def test_filter_by_min_priority():
    assert filter_alerts(_frame(), min_priority="error")["priority"].tolist() == ["Critical", "Error"]


def test_unknown_priority_is_an_error():
    with pytest.raises(ValueError, match="unknown priority 'severe'"):
        filter_alerts(_frame(), min_priority="severe")


def test_time_window_since_inclusive_until_exclusive():
    kept = filter_alerts(_frame(), since=T0 + pd.Timedelta("60s"), until="2026-11-27T10:02:00Z")
    assert kept["k8s.pod.name"].tolist() == ["p2"]


def test_naive_times_are_utc():
    assert parse_time_bound("2026-11-27 10:00") == pd.Timestamp("2026-11-27T10:00Z")


def test_duration_counts_back_from_reference():
    assert parse_time_bound("90s", T0) == T0 - pd.Timedelta("90s")


def test_duration_takes_fractions():
    assert parse_time_bound("1.5h", T0) == T0 - pd.Timedelta("90min")


def test_duration_units_are_those_of_the_sidekick_ui_since():
    assert parse_time_bound("2days", T0) == T0 - pd.Timedelta("2D")
    assert parse_time_bound("5min", T0) == T0 - pd.Timedelta("5min")


def test_duration_without_reference_is_an_error():
    with pytest.raises(ValueError, match="needs a reference time"):
        parse_time_bound("2h")


def test_filters_on_empty_frame_return_it():
    assert filter_alerts(empty_frame(), namespace="x", since="1h").empty


def test_column_of_absent_field_is_all_missing():
    values = column(_frame(), "proc.pid", "Int64")
    assert values.isna().all() and str(values.dtype) == "Int64"


def test_first_word_fills_names_from_cmdline():
    names = first_word(
        pd.Series(["sh", None], dtype="string"), pd.Series(["sh -c x", "curl -s u"], dtype="string")
    )
    assert names.tolist() == ["sh", "curl"]


def test_schema_finds_ancestor_levels():
    df = alerts({"proc.apid[2]": 5, "proc.aname[3]": "init", "proc.aname": "x"})
    assert AlertSchema().ancestor_levels(df) == [2, 3]


def test_is_simulated_reads_the_sidekick_custom_field():
    assert is_simulated(alerts({"simulated": "true"}))
    assert is_simulated(alerts({"simulated": True}))
    assert not is_simulated(alerts({"simulated": "false"}))
    assert not is_simulated(alerts({"tags": ["container"]}))
    assert not is_simulated(empty_frame())


def test_pod_may_be_given_with_its_namespace():
    df = alerts({"k8s.ns.name": "a", "k8s.pod.name": "web"}, {"k8s.ns.name": "b", "k8s.pod.name": "web"})
    assert filter_alerts(df, pod="b/web")["k8s.ns.name"].tolist() == ["b"]
