"""falco-lab capture events: JSON lines of field values, errors with file and offset."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from falco_lab.cli import main
from tests.capture._files import capture


def test_events_writes_one_object_per_event_with_the_fields_asked(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    code = main(
        [
            "capture",
            "events",
            str(capture("falco__connect_localhost.scap")),
            "--fields",
            "evt.type,fd.name",
            "--out",
            str(out),
        ]
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0 and len(lines) == 4
    assert lines[1] == {"evt.type": "connect", "fd.name": "127.0.0.1:47192->127.0.0.1:80"}


def test_events_to_stdout_omits_missing_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capture", "events", str(capture("falco__syscall.scap")), "--out", "-"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 6 and all(None not in row.values() for row in rows)


def test_not_a_capture_is_refused_by_content(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "x.scap"
    fake.write_text("hello\n")
    assert main(["capture", "events", str(fake), "--out", "-"]) == 2
    assert "not a scap capture" in capsys.readouterr().err


def test_truncated_capture_writes_the_events_before_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = gzip.decompress(capture("falco__open-multiple-files.scap").read_bytes())
    cut = tmp_path / "cut.scap"
    cut.write_bytes(data[: len(data) - 100])
    out = tmp_path / "o.jsonl"
    assert main(["capture", "events", str(cut), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{cut}: byte " in err and "truncated" in err
    assert len(out.read_text().splitlines()) > 0
