"""The load report: summary text, and how it travels with the frame."""

from __future__ import annotations

import copy
import io

import pandas as pd
import pytest

from falco_lab.events import LoadReport, Problem, load_events, load_report
from tests.events.helpers import alert, jsonl


@pytest.fixture
def frame():
    data = jsonl([alert(i) for i in range(6)]) + b"{broken\n"
    return load_events(io.BytesIO(data), warn=False)


def test_summary_names_counts_and_first_problem():
    report = LoadReport(("a.jsonl",), 5, (Problem("a.jsonl", 7, "invalid JSON: x"),), skipped=2)
    assert report.summary() == (
        "loaded 5 event(s) from 1 source(s), skipped 2 non-event line(s); rejected 1 bad record(s) "
        "(1 invalid JSON); first: a.jsonl:7: invalid JSON: x (see load_report(df).problems)"
    )


def test_clean_summary():
    assert LoadReport(("a",), 3).summary() == "loaded 3 event(s) from 1 source(s); no bad records"


@pytest.mark.parametrize(
    "operation",
    [
        lambda df: df.copy(),
        lambda df: df[df["priority"] >= "Warning"],
        lambda df: df.head(2),
        lambda df: df.sort_values("rule"),
        lambda df: df[["time", "rule"]],
        lambda df: df.reset_index(drop=True),
        lambda df: df.assign(extra=1),
    ],
)
def test_report_survives_common_operations(frame, operation):
    assert load_report(operation(frame)).problems[0].line == 7


def test_report_is_shared_not_deep_copied(frame):
    assert copy.deepcopy(load_report(frame)) is load_report(frame)


def test_missing_report_error_explains_what_to_do():
    with pytest.raises(KeyError, match="keep `report = load_report"):
        load_report(pd.DataFrame())


def test_to_dict_caps_problems():
    problems = tuple(Problem("f", i, "bad") for i in range(5))
    assert len(LoadReport(("f",), 0, problems).to_dict(max_problems=2)["problems"]) == 2
