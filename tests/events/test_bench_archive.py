"""The archive benchmark: a tiny run measures every step in the run that writes it."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_archive.py"


def test_tiny_archive_run_stamps_every_step_inside_the_run(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_archive", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path), "--size", "300"]) == 0
    result = orjson.loads((tmp_path / "archive.json").read_bytes())
    started = datetime.fromisoformat(result["run"]["started_at"])
    finished = datetime.fromisoformat(result["run"]["finished_at"])
    for name in ("archive", "duckdb", "baseline"):
        assert started <= datetime.fromisoformat(result[name]["measured_at"]) <= finished
    assert result["archive"]["written"] == 300
    assert result["duckdb"]["alerts"] == result["baseline"]["alerts"] == 300
    assert result["duckdb"]["pod_rows"] == result["baseline"]["pod_rows"] + 1  # plus the "N more" row
