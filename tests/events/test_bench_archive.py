"""The archive benchmark: a smoke run measures every step in the run that writes it."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_archive.py"
#: Alerts of the attack chain ``archive_data.write_archive`` adds to every generated archive.
CHAIN_ALERTS = 21


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    """One ``--smoke`` run (tiny sizes, every step in its own process), its JSON."""
    out = tmp_path_factory.mktemp("bench")
    spec = importlib.util.spec_from_file_location("bench_archive", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(out), "--size", "300", "--smoke"]) == 0
    return orjson.loads((out / "archive.json").read_bytes())


def test_tiny_archive_run_stamps_every_step_inside_the_run(smoke):
    result = smoke
    started = datetime.fromisoformat(result["run"]["started_at"])
    finished = datetime.fromisoformat(result["run"]["finished_at"])
    for name in ("archive", "duckdb", "baseline", "report_archive", "report_archive_small", "report_memory"):
        assert started <= datetime.fromisoformat(result[name]["measured_at"]) <= finished
    assert result["archive"]["written"] == 300
    assert result["duckdb"]["alerts"] == result["baseline"]["alerts"] == 300
    assert result["duckdb"]["pod_rows"] == result["baseline"]["pod_rows"] + 1  # plus the "N more" row


def test_smoke_run_reports_the_same_archive_out_of_core_and_in_memory(smoke):
    small = smoke["report"]["baseline_alerts"] + CHAIN_ALERTS
    assert smoke["report_archive_small"]["alerts"] == smoke["report_memory"]["alerts"] == small
    assert smoke["report_archive"]["alerts"] == smoke["report"]["data"]["alerts"] + CHAIN_ALERTS
    assert smoke["report"]["met"] is False  # a smoke run is not the 10M target
