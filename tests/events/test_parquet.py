"""Parquet archives round-trip the canonical frame exactly."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from falco_lab.events import LoadError, load_events, load_report, read_parquet, to_parquet
from falco_lab.priorities import PRIORITY_DTYPE
from tests.events.helpers import alert, jsonl


def sample_frame() -> pd.DataFrame:
    events = [alert(i) for i in range(6)]
    for i, event in enumerate(events):
        fields = event["output_fields"]
        fields["proc.vpid"] = None if i < 3 else i  # nullable integer
        fields["fd.ino"] = 18446744073709551615 if i == 0 else 5  # beyond int64
        fields["odd.mixed"] = [1, "one", None, 2.5, True, {"k": "v"}][i]  # mixed types
        fields["never.set"] = None
        fields["evt.is_async"] = i % 2 == 0
        fields["evt.latency_ratio"] = i / 4
    events[2]["tags"] = []
    return load_events(io.BytesIO(jsonl(events) + b"{bad\n"), warn=False)


def test_round_trip_is_exact(tmp_path):
    frame = sample_frame()
    to_parquet(frame, tmp_path / "events.parquet")
    back = read_parquet(tmp_path / "events.parquet")
    assert_frame_equal(back, frame)


def test_round_trip_keeps_special_types(tmp_path):
    frame = sample_frame()
    to_parquet(frame, tmp_path / "events.parquet")
    back = read_parquet(tmp_path / "events.parquet")
    assert back["priority"].dtype == PRIORITY_DTYPE
    assert str(back["time"].dtype) == "datetime64[ns, UTC]"
    assert back["time"].iloc[0].value == frame["time"].iloc[0].value
    assert back["proc.vpid"].dtype == "Int64" and back["fd.ino"].dtype == "UInt64"
    assert back["odd.mixed"].tolist() == [1, "one", None, 2.5, True, {"k": "v"}]
    assert back["tags"].iloc[2] == [] and isinstance(back["tags"].iloc[0], list)
    assert "proc.aname[2]" in back.columns


def test_load_report_travels_in_the_file(tmp_path):
    frame = sample_frame()
    to_parquet(frame, tmp_path / "events.parquet")
    report = load_report(read_parquet(tmp_path / "events.parquet"))
    assert report == load_report(frame)
    assert report.problems[0].line == 7


def test_empty_frame_round_trip(tmp_path):
    frame = load_events(io.BytesIO(b""))
    to_parquet(frame, tmp_path / "empty.parquet")
    assert_frame_equal(read_parquet(tmp_path / "empty.parquet"), frame)


def test_load_events_reads_parquet_archives_next_to_json_lines(tmp_path):
    to_parquet(load_events(io.BytesIO(jsonl([alert(0), alert(1)]))), tmp_path / "old.parquet")
    (tmp_path / "new.jsonl").write_bytes(jsonl([alert(2)]))
    frame = load_events(tmp_path / "old.parquet", tmp_path / "new.jsonl")
    assert frame["uuid"].tolist() == [alert(i)["uuid"] for i in range(3)]
    assert frame["priority"].dtype == PRIORITY_DTYPE


def test_load_events_keeps_the_bad_records_an_archive_recorded(tmp_path):
    frame = sample_frame()
    to_parquet(frame, tmp_path / "events.parquet")
    report = load_report(load_events(tmp_path / "events.parquet", warn=False))
    assert report.sources == (str(tmp_path / "events.parquet"),)
    assert report.problems == load_report(frame).problems


def test_load_events_names_a_file_that_is_not_a_parquet_archive(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(LoadError, match=r"broken\.parquet: cannot read Parquet archive"):
        load_events(tmp_path / "broken.parquet")


def test_strict_load_of_an_archive_with_recorded_bad_records_raises(tmp_path):
    to_parquet(sample_frame(), tmp_path / "events.parquet")
    with pytest.raises(LoadError, match="rejected 1 bad record"):
        load_events(tmp_path / "events.parquet", strict=True)
