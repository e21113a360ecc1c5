"""The IOC benchmark: a tiny run measures every step in the run that writes it."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_iocs.py"


def test_tiny_iocs_run_stamps_every_step_inside_the_run(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_iocs", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path), "--size", "300"]) == 0
    result = json.loads((tmp_path / "iocs.json").read_text())
    started = datetime.fromisoformat(result["run"]["started_at"])
    finished = datetime.fromisoformat(result["run"]["finished_at"])
    for name in ("load", "iocs", "iocs_all", "iocs_fields_only"):
        assert started <= datetime.fromisoformat(result[name]["measured_at"]) <= finished
    # the adversarial command lines carry one URL and its IP; the fields alone cannot see them
    assert {"url", "ipv4"} <= set(result["iocs"]["by_type"])
    assert "url" not in result["iocs_fields_only"]["by_type"]
