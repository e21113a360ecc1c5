"""``falco-lab report`` over large JSON lines: streamed to temporary Parquet, then out of core."""

from __future__ import annotations

import orjson
import pytest

from falco_lab.analysis import cli as analysis_cli
from falco_lab.cli import main
from tests.events.helpers import alert


def _input(tmp_path, bad_line: bool = True):
    alerts = [alert(i) for i in range(40)]
    lines = [orjson.dumps(a) for a in [*alerts, alerts[4], alerts[9]]]
    if bad_line:
        lines.insert(20, b'{"rule": "no time"')
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_out_of_core_streams_json_lines_and_says_so(tmp_path, capsys) -> None:
    source, html = _input(tmp_path), tmp_path / "r.html"
    assert main(["report", str(source), "-o", str(html), "--out-of-core"]) == 0
    out = capsys.readouterr()
    assert "40 of 40 alerts, out of core (streamed from JSON lines into 1 Parquet file(s)" in out.out
    assert f"{source}:21" in out.err
    page = html.read_text(encoding="utf-8")
    assert "Built out of core:</b> 1 JSON-lines file" in page
    assert "2 duplicate alerts dropped" in page
    assert "line 21" in page or f"{source}:21" in page


def test_json_lines_at_the_threshold_go_out_of_core_by_themselves(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(analysis_cli, "OUT_OF_CORE_BYTES", 1)
    assert main(["report", str(_input(tmp_path, bad_line=False)), "-o", str(tmp_path / "r.html")]) == 0
    assert "streamed from JSON lines" in capsys.readouterr().out


def test_in_memory_keeps_large_json_lines_in_memory(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(analysis_cli, "OUT_OF_CORE_BYTES", 1)
    source = _input(tmp_path, bad_line=False)
    assert main(["report", str(source), "-o", str(tmp_path / "r.html"), "--in-memory"]) == 0
    assert "out of core" not in capsys.readouterr().out


def test_an_export_that_needs_memory_keeps_the_input_in_memory_and_says_so(
    tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setattr(analysis_cli, "OUT_OF_CORE_BYTES", 1)
    source, csv = _input(tmp_path, bad_line=False), tmp_path / "a.csv"
    assert main(["report", str(source), "-o", str(tmp_path / "r.html"), "--csv", str(csv)]) == 0
    out = capsys.readouterr()
    assert "--csv need(s) every alert in memory: loading" in out.err
    assert "out of core" not in out.out and csv.is_file()


def test_the_temporary_parquet_files_are_removed(tmp_path, capsys) -> None:
    spill = tmp_path / "spill"
    source = _input(tmp_path, bad_line=False)
    args = ["report", str(source), "-o", str(tmp_path / "r.html"), "--out-of-core", "--spill-dir", str(spill)]
    assert main(args) == 0
    assert spill.is_dir() and not any(spill.iterdir())


def test_in_memory_and_out_of_core_exclude_each_other(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["report", str(_input(tmp_path)), "--in-memory", "--out-of-core"])
    assert "not allowed with argument" in capsys.readouterr().err
