"""Post-load sanity: evt.time units converted or rejected, duplicate alerts dropped and counted."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from falco_lab.events import load_events, load_report
from falco_lab.events.sanity import keeping_duplicates

NS = 1_795_427_331_367_799_295  # 2026-11-23T09:48:51.367799295Z in nanoseconds


def _alert(i: int, **extra) -> dict:
    alert = {
        "time": "2026-11-24T08:28:51.000000000Z",
        "rule": "Terminal shell in container",
        "priority": "Notice",
        "output": f"shell {i}",
        "hostname": "node-1",
        "uuid": f"00000000-0000-0000-0000-{i:012d}",
        "output_fields": {"evt.time": NS},
    }
    alert.update(extra)
    return alert


def _write(tmp_path, name, alerts):
    path = tmp_path / name
    path.write_text("".join(json.dumps(a) + "\n" for a in alerts))
    return path


@pytest.mark.parametrize(
    ("divisor", "unit"), [(1_000, "microseconds"), (1_000_000, "milliseconds"), (1_000_000_000, "seconds")]
)
def test_evt_time_in_a_coarser_unit_is_converted_with_a_warning_naming_file_and_unit(tmp_path, divisor, unit):
    alert = _alert(1, output_fields={"evt.time": NS // divisor})
    del alert["time"]
    path = _write(tmp_path, "real.jsonl", [_alert(0), alert])
    df = load_events(path)
    converted = df["time"].min()
    assert pd.Timestamp("2026-11-23T09:48:51Z") <= converted <= pd.Timestamp("2026-11-23T09:48:52Z")
    (warning,) = load_report(df).warnings
    assert warning.startswith(f"{path}: 1 alert(s) had evt.time in {unit}, converted")
    assert "uuid 00000000-0000-0000-0000-000000000001" in warning


def test_a_time_no_unit_makes_plausible_is_rejected_with_source_and_reason(tmp_path):
    alert = _alert(1, output_fields={"evt.time": 12345})
    del alert["time"]
    path = _write(tmp_path, "odd.jsonl", [_alert(0), alert])
    with pytest.warns(UserWarning):
        df = load_events(path)
    assert len(df) == 1
    (problem,) = load_report(df).problems
    assert problem.file == str(path) and "implausible time" in problem.reason and "12345" in problem.reason


def test_the_same_file_loaded_twice_gives_each_alert_once_and_counts_the_duplicates(tmp_path):
    path = _write(tmp_path, "a.jsonl", [_alert(i) for i in range(3)])
    df = load_events(path, path)
    assert len(df) == 3
    report = load_report(df)
    assert report.duplicates == 3 and report.events == 3
    assert "dropped 3 duplicate alert(s)" in report.summary()


def test_alerts_without_uuid_are_duplicates_when_time_rule_output_and_host_agree(tmp_path):
    plain = {k: v for k, v in _alert(0).items() if k != "uuid"}
    other_host = {**plain, "hostname": "node-2"}
    df = load_events(_write(tmp_path, "b.jsonl", [plain, plain, other_host]))
    assert len(df) == 2 and load_report(df).duplicates == 1


def test_duplicates_are_kept_on_request(tmp_path):
    path = _write(tmp_path, "a.jsonl", [_alert(0)])
    with keeping_duplicates():
        df = load_events(path, path)
    assert len(df) == 2 and load_report(df).duplicates == 0


def test_when_no_alert_has_a_plausible_time_they_are_kept_with_a_warning(tmp_path):
    alert = _alert(1, output_fields={"evt.time": 1_000})
    del alert["time"]
    df = load_events(_write(tmp_path, "synthetic.jsonl", [alert]))
    report = load_report(df)
    assert len(df) == 1 and report.problems == ()
    assert "no alert has a plausible time: kept" in report.warnings[0]


def test_alerts_without_uuid_that_differ_in_an_output_field_are_both_kept(tmp_path):
    plain = {k: v for k, v in _alert(0).items() if k != "uuid"}
    other_tty = {**plain, "output_fields": {**plain["output_fields"], "proc.tty": 34816}}
    df = load_events(_write(tmp_path, "c.jsonl", [plain, other_tty]))
    assert len(df) == 2 and load_report(df).duplicates == 0


def test_unsorted_input_with_a_duplicate_and_a_rejected_alert_is_taken_once_in_time_order(tmp_path):
    late = _alert(0, time="2026-11-24T09:00:00.000000000Z")
    early_copy = _alert(0, time="2026-11-24T08:00:00.000000000Z", output="same uuid, earlier")
    odd = _alert(2, output_fields={"evt.time": 12345})
    del odd["time"]
    middle = _alert(1, time="2026-11-24T08:30:00.000000000Z")
    with pytest.warns(UserWarning):
        df = load_events(_write(tmp_path, "d.jsonl", [late, odd, middle, early_copy]))
    # sorted by time, the first of the two same-uuid alerts is the earlier one; the odd one is rejected
    assert df["output"].tolist() == ["same uuid, earlier", "shell 1"]
    assert df.index.tolist() == [0, 1]
    assert load_report(df).duplicates == 1 and len(load_report(df).problems) == 1
