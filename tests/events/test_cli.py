"""``falco-lab events summary`` through the top-level CLI."""

from __future__ import annotations

import json

import pytest

from tests.events.helpers import alert, jsonl


@pytest.fixture
def main():
    try:
        from falco_lab.cli import main
    except ImportError as exc:  # another concern's cli module is missing right now
        pytest.fail(f"top-level CLI does not import: {exc}")
    return main


@pytest.fixture
def alerts_file(tmp_path):
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(jsonl([alert(i) for i in range(5)]) + b"not json\n")
    return path


def test_json_summary(main, alerts_file, capsys):
    assert main(["events", "summary", str(alerts_file), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert list(summary) == ["events", "bad_records", "by_priority", "by_rule", "by_source", "problems"]
    assert summary["events"] == 5 and summary["bad_records"] == 1
    assert summary["by_priority"] == {"Critical": 1, "Warning": 2, "Notice": 2}
    assert summary["by_rule"] == {"Terminal shell in container": 3, "Read sensitive file untrusted": 2}
    assert summary["by_source"] == {"syscall": 5}
    assert summary["problems"] == [
        {
            "file": str(alerts_file),
            "line": 6,
            "reason": "invalid JSON: invalid literal, expected 'null' at column 1",
        }
    ]


def test_problems_are_capped_at_100(main, tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"{x\n" * 150)
    main(["events", "summary", str(path), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["bad_records"] == 150 and len(summary["problems"]) == 100


def test_text_summary(main, alerts_file, capsys):
    assert main(["events", "summary", str(alerts_file)]) == 0
    out = capsys.readouterr().out
    assert "events: 5    bad records: 1" in out
    assert f"{alerts_file}:6: invalid JSON" in out


def test_strict_exit_status(main, alerts_file):
    assert main(["events", "summary", str(alerts_file), "--strict"]) == 1


def test_missing_file_exit_status_2(main, tmp_path, capsys):
    assert main(["events", "summary", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_since_filters_old_events(main, alerts_file, capsys):
    main(["events", "summary", str(alerts_file), "--json", "--since", "24h"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["events"] == 0 and summary["bad_records"] == 1
