"""Every benchmark JSON is written by the run that measured it (issue 12, item 5).

Each ``benchmarks/bench_*.py`` runs here at a small size, as ``make bench`` runs it (its
own process, ``--out DIR``), and the JSON it writes must pass
``bench_common.check_result``: run start and end, load average, the data's generator,
seed and shape, every ``measured_at`` inside the run, and a baseline and peers that point
at figures of this run (or say why they are missing).  Since the JSON is produced in the
test, a stale file cannot pass.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"

#: Small-size arguments of each benchmark (each run stays well under 30 s on 2 cores) and
#: the shared reference files it needs.
SMOKE: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "archive": (["--smoke"], ()),
    "capture": (["--events", "5000"], ("captures/falco__psp_run_as_user_0_container.scap",)),
    "evaluate": (["--events", "5000", "--repeat", "1"], ("upstream/falco_rules.yaml",)),
    "iocs": (["--size", "300"], ()),
    "events": (["--size", "300", "--adversarial-size", "0", "--repeat", "1"], ()),
    "report": (["--alerts", "2000", "--adversarial", "500", "--baseline-sample", "300"], ()),
    "rules": (["--events", "3000", "--sample", "300"], ("upstream/falco_rules.yaml",)),
    "run": (["--only", "01"], ("upstream/falco_rules.yaml",)),
    "simulate": (["--nodes", "1", "--hours", "0.05", "--sample", "200"], ("upstream/falco_rules.yaml",)),
}


def _common():
    spec = importlib.util.spec_from_file_location("bench_common", BENCHMARKS / "bench_common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_benchmark_has_a_smoke_run_here():
    names = {p.stem.removeprefix("bench_") for p in BENCHMARKS.glob("bench_*.py")} - {"common"}
    assert names == set(SMOKE)


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_smoke_run_writes_a_json_measured_in_that_run(name, tmp_path):
    arguments, needs = SMOKE[name]
    shared = [shared_file(relative) for relative in needs]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if shared:
        env["FALCO_LAB_SHARED"] = str(shared[0].parents[1])
    extra = ["--upstream-rules", str(shared[0].parent)] if name == "run" else []
    before = datetime.now(UTC)
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"bench_{name}.py"), "--out", str(tmp_path), *arguments, *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=240,
        check=False,
    )
    path = tmp_path / f"{name}.json"
    assert path.exists(), f"bench_{name}.py wrote no JSON (status {done.returncode}):\n{done.stderr[-3000:]}"
    result = json.loads(path.read_text(encoding="utf-8"))
    assert _common().check_result(result) == []
    assert result["benchmark"] == name
    assert before <= datetime.fromisoformat(result["run"]["started_at"])
    assert result["compared_with"]["baseline"]["key"] in result


def _valid() -> dict:
    return {
        "run": {"started_at": "2026-12-04T07:00:00+00:00", "finished_at": "2026-12-04T07:01:00+00:00"},
        "machine": {"load_average_before": [1.0, 1.0, 1.0], "load_average_after": [1.0, 1.0, 1.0]},
        "data": {"generator": "g", "seed": 1, "events": 10},
        "compared_with": {
            "baseline": {"key": "baseline", "what": "pandas"},
            "peers": [{"key": None, "what": "duckdb", "missing": "not installed"}],
        },
        "ours": {"seconds": 1.0, "measured_at": "2026-12-04T07:00:30+00:00"},
        "baseline": {"seconds": 2.0, "measured_at": "2026-12-04T07:00:40+00:00"},
    }


def test_check_accepts_a_complete_json():
    assert _common().check_result(_valid()) == []


def test_check_rejects_a_figure_older_than_its_run():
    result = _valid()
    result["ours"]["measured_at"] = "2026-11-20T07:00:30+00:00"
    [problem] = _common().check_result(result)
    assert "outside the run" in problem


def test_check_rejects_a_figure_without_a_stamp_and_a_baseline_that_names_nothing():
    result = _valid()
    del result["baseline"]["measured_at"]
    result["compared_with"]["peers"].append({"key": "polars", "what": "polars"})
    assert _common().check_result(result) == [
        "baseline figures 'baseline' carry no measured_at",
        "peer 'polars' names no figures of this JSON ('polars')",
    ]


def test_check_rejects_missing_seed_shape_and_load_average():
    result = _valid()
    result["data"] = {"generator": "g"}
    del result["machine"]["load_average_after"]
    problems = _common().check_result(result)
    assert problems == [
        "no machine.load_average_after",
        "no data.seed (or seed_note saying why there is none)",
        "no data shape",
    ]
