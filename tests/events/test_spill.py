"""JSON lines streamed to Parquet block by block (events.spill): nothing the loader guarantees is lost."""

from __future__ import annotations

import gzip

import orjson
import pandas as pd
import pytest

from falco_lab.events import load_events
from falco_lab.events.spill import jsonl_inputs, spill_jsonl
from tests.events.helpers import REMOVE, alert, jsonl

BLOCK = 4096  # a few alerts per block, so every behaviour crosses block boundaries


def _write(tmp_path, lines: bytes, name: str = "alerts.jsonl"):
    path = tmp_path / name
    path.write_bytes(lines)
    return path


def _read_back(result) -> pd.DataFrame:
    return load_events(*result.files, warn=False).sort_values("time").reset_index(drop=True)


def test_the_alerts_come_back_as_the_in_memory_loader_reads_them(tmp_path) -> None:
    path = _write(tmp_path, jsonl([alert(i) for i in range(60)]))
    result = spill_jsonl([path], tmp_path / "out", block_bytes=BLOCK)
    assert len(result.files) > 3
    expected = load_events(path, warn=False)
    got = _read_back(result)
    assert got["uuid"].tolist() == expected["uuid"].tolist()
    assert got["time"].tolist() == expected["time"].tolist()
    assert got["proc.cmdline"].tolist() == expected["proc.cmdline"].tolist()


def test_a_bad_line_in_a_later_block_is_reported_with_its_line_in_the_file(tmp_path) -> None:
    lines = [orjson.dumps(alert(i)) for i in range(40)]
    lines[33] = b'{"time": "2026-07-02T00:00:00Z", "rule": "x"'
    path = _write(tmp_path, b"\n".join(lines) + b"\n")
    result = spill_jsonl([path], tmp_path / "out", block_bytes=BLOCK)
    assert [(p.file, p.line) for p in result.report.problems] == [(str(path), 34)]
    assert result.report.events == 39


def test_duplicates_in_different_blocks_are_dropped_and_counted(tmp_path) -> None:
    alerts = [alert(i) for i in range(30)]
    path = _write(tmp_path, jsonl([*alerts, alerts[2], alerts[5]]))
    result = spill_jsonl([path], tmp_path / "out", block_bytes=BLOCK)
    assert result.report.duplicates == 2
    assert len(_read_back(result)) == 30


def test_duplicates_without_uuid_in_different_blocks_are_dropped(tmp_path) -> None:
    alerts = [alert(i, uuid=REMOVE) for i in range(30)]
    path = _write(tmp_path, jsonl([*alerts, alerts[3]]))
    result = spill_jsonl([path], tmp_path / "out", block_bytes=BLOCK)
    assert result.report.duplicates == 1


def test_alerts_without_uuid_differing_in_one_output_field_are_both_kept(tmp_path) -> None:
    alerts = [alert(i, uuid=REMOVE) for i in range(30)]
    twin = alert(3, uuid=REMOVE)
    twin["output_fields"]["proc.tty"] = 0
    path = _write(tmp_path, jsonl([*alerts, twin]))
    result = spill_jsonl([path], tmp_path / "out", block_bytes=BLOCK)
    assert result.report.duplicates == 0
    assert len(_read_back(result)) == 31


def test_keep_duplicates_keeps_them(tmp_path) -> None:
    alerts = [alert(i) for i in range(30)]
    path = _write(tmp_path, jsonl([*alerts, alerts[2]]))
    result = spill_jsonl([path], tmp_path / "out", block_bytes=BLOCK, keep_duplicates=True)
    assert result.report.duplicates == 0
    assert result.report.events == 31


def test_a_gzip_file_gives_the_same_alerts_and_line_numbers(tmp_path) -> None:
    lines = [orjson.dumps(alert(i)) for i in range(40)]
    lines[25] = b"not json"
    raw = b"\n".join(lines) + b"\n"
    plain = spill_jsonl([_write(tmp_path, raw)], tmp_path / "a", block_bytes=BLOCK)
    zipped = spill_jsonl(
        [_write(tmp_path, gzip.compress(raw), "alerts.jsonl.gz")], tmp_path / "b", block_bytes=BLOCK
    )
    assert [p.line for p in zipped.report.problems] == [p.line for p in plain.report.problems] == [26]
    assert _read_back(zipped)["uuid"].tolist() == _read_back(plain)["uuid"].tolist()


def test_a_last_line_without_newline_is_read(tmp_path) -> None:
    path = _write(tmp_path, jsonl([alert(i) for i in range(20)]).rstrip(b"\n"))
    assert spill_jsonl([path], tmp_path / "out", block_bytes=BLOCK).report.events == 20


def test_a_line_longer_than_a_block_is_read_whole(tmp_path) -> None:
    long = alert(7, output="x" * (3 * BLOCK))
    path = _write(tmp_path, jsonl([alert(1), long, alert(2)]))
    result = spill_jsonl([path], tmp_path / "out", block_bytes=BLOCK)
    assert result.report.events == 3 and not result.report.problems


def test_line_numbers_count_on_across_files(tmp_path) -> None:
    first = _write(tmp_path, jsonl([alert(i) for i in range(10)]), "a.jsonl")
    second = _write(tmp_path, jsonl([alert(100)]) + b"oops\n", "b.jsonl")
    result = spill_jsonl([first, second], tmp_path / "out", block_bytes=BLOCK)
    assert [(p.file, p.line) for p in result.report.problems] == [(str(second), 2)]
    assert result.report.sources == (str(first), str(second))


def test_too_small_blocks_are_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="block_bytes"):
        spill_jsonl([_write(tmp_path, jsonl([alert(0)]))], tmp_path / "out", block_bytes=10)


def test_only_json_lines_files_are_streamed(tmp_path) -> None:
    lines = _write(tmp_path, jsonl([alert(0)]))
    array = _write(tmp_path, orjson.dumps([alert(0)]), "export.json")
    assert jsonl_inputs([lines]) == [lines]
    assert jsonl_inputs([lines, array]) is None
    assert jsonl_inputs(["-"]) is None


def test_worker_processes_give_what_one_process_gives(tmp_path) -> None:
    alerts = [alert(i, uuid=REMOVE) if i % 7 == 0 else alert(i) for i in range(80)]
    lines = [orjson.dumps(a) for a in [*alerts, alerts[3], alerts[14], alerts[40]]]
    lines[50] = b"{broken"
    path = _write(tmp_path, b"\n".join(lines) + b"\n")
    here = spill_jsonl([path], tmp_path / "a", block_bytes=BLOCK, workers=1)
    there = spill_jsonl([path], tmp_path / "b", block_bytes=BLOCK, workers=2)
    assert len(there.files) > 4
    assert there.report.duplicates == here.report.duplicates == 3
    assert [(p.file, p.line) for p in there.report.problems] == [(str(path), 51)]
    assert [(p.file, p.line) for p in here.report.problems] == [(str(path), 51)]
    assert _read_back(there)["uuid"].tolist() == _read_back(here)["uuid"].tolist()
    assert [f.name for f in there.files] == sorted(f.name for f in there.files)


def test_a_gzip_input_is_read_in_this_process(tmp_path) -> None:
    path = _write(tmp_path, gzip.compress(jsonl([alert(i) for i in range(40)])), "a.jsonl.gz")
    result = spill_jsonl([path], tmp_path / "out", block_bytes=BLOCK, workers=2)
    assert result.report.events == 40
