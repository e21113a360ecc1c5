"""Case work: triage marks in a file next to the events, validated, applied to the alerts."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from falco_lab.analysis.triage import (
    Mark,
    TriageError,
    apply_triage,
    chain_id,
    effective_marks,
    finding_id,
    load_triage,
    mark,
    triage_path,
)
from tests.analysis.frames import alerts


def test_triage_file_sits_next_to_the_events(tmp_path):
    assert triage_path(tmp_path / "alerts.jsonl") == tmp_path / "alerts.jsonl.triage.json"


def test_mark_writes_a_file_that_loads_back(tmp_path):
    events = tmp_path / "alerts.jsonl"
    made = mark(events, "uuid-1", "false_positive", "on-call exec", who="alice", when="2026-12-04T07:00:00Z")
    (loaded,) = load_triage(triage_path(events))
    assert (loaded.target, loaded.status, loaded.note, loaded.who) == (
        "uuid-1",
        "false_positive",
        "on-call exec",
        "alice",
    )
    assert loaded.when == made.when == pd.Timestamp("2026-12-04T07:00:00Z")
    assert loaded.line == 4


def test_marks_accumulate_and_the_last_of_a_target_wins(tmp_path):
    events = tmp_path / "alerts.jsonl"
    mark(events, "uuid-1", "triaged", who="a")
    mark(events, "uuid-1", "confirmed", "it was the attacker", who="b")
    marks = load_triage(triage_path(events))
    assert [m.status for m in marks] == ["triaged", "confirmed"]
    assert effective_marks(marks)["uuid-1"].who == "b"


def test_mark_rejects_an_unknown_status(tmp_path):
    with pytest.raises(TriageError, match="'benign' is not one of triaged, false_positive, confirmed"):
        mark(tmp_path / "a.jsonl", "uuid-1", "benign")
    assert not triage_path(tmp_path / "a.jsonl").exists()


def test_invalid_status_in_the_file_names_file_and_line(tmp_path):
    path = tmp_path / "a.triage.json"
    path.write_text(
        '{"marks": [\n  {"target": "u1", "status": "triaged"},\n  {"target": "u2", "status": "bad"}\n]}\n'
    )
    with pytest.raises(TriageError, match=r"a\.triage\.json:3: status 'bad'"):
        load_triage(path)


def test_broken_json_names_file_and_line(tmp_path):
    path = tmp_path / "a.triage.json"
    path.write_text('{"marks": [\n  {"target": "u1", "status": "triaged"\n]}\n')
    with pytest.raises(TriageError, match=r"a\.triage\.json:3: not valid JSON"):
        load_triage(path)


def test_unknown_key_in_a_mark_is_an_error_not_ignored(tmp_path):
    path = tmp_path / "a.triage.json"
    path.write_text(
        json.dumps({"marks": [{"target": "u1", "status": "triaged", "severity": "low"}]}, indent=1)
    )
    with pytest.raises(TriageError, match="unknown key 'severity'"):
        load_triage(path)


def test_a_mark_without_target_is_an_error(tmp_path):
    path = tmp_path / "a.triage.json"
    path.write_text('{"marks": [{"status": "triaged"}]}')
    with pytest.raises(TriageError, match=r":1: the mark has no 'target'"):
        load_triage(path)


def test_a_bad_time_is_an_error(tmp_path):
    path = tmp_path / "a.triage.json"
    path.write_text('{"marks": [{"target": "u1", "status": "triaged", "when": "yesterday-ish"}]}')
    with pytest.raises(TriageError, match="'when' is not an ISO 8601 time"):
        load_triage(path)


def test_apply_triage_labels_marked_alerts_by_uuid_only():
    df = alerts({"uuid": "u1"}, {"uuid": "u2"}, {"uuid": "u3"})
    marks = [Mark("u2", "false_positive", "probe"), Mark(chain_id("shop/web"), "confirmed")]
    out = apply_triage(df, marks)
    assert out["triage"].tolist()[1] == "false_positive" and out["triage_note"].tolist()[1] == "probe"
    assert out["triage"].isna().tolist() == [True, False, True]
    assert "triage" not in df.columns


def test_mark_kinds_follow_the_target_prefix():
    assert [Mark(t, "triaged").kind for t in ("u1", chain_id("ns/p"), finding_id("x"))] == [
        "alert",
        "chain",
        "finding",
    ]
    assert finding_id("Rule X") == finding_id("Rule X") != finding_id("Rule Y")
