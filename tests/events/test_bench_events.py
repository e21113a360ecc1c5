"""The events benchmark's own checks: its generator has the traps, its comparison can fail."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import orjson
import pytest

from falco_lab.events import load_events

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_events.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_events", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def alerts_file(bench, tmp_path):
    path = tmp_path / "alerts.jsonl"
    bench.write_alerts(path, 60)
    return path


def test_generator_has_the_null_then_int_and_late_field_traps(alerts_file):
    events = [orjson.loads(line) for line in alerts_file.read_bytes().splitlines()]
    vpids = [e["output_fields"].get("proc.vpid", "absent") for e in events]
    assert all(v is None for v in vpids[:30] if v != "absent")
    assert any(isinstance(v, int) for v in vpids[30:])
    late = [i for i, e in enumerate(events) if "custom.late_field" in e["output_fields"]]
    assert late == list(range(50, 60))


def test_both_methods_agree_on_generated_alerts(bench, alerts_file):
    base = {"fingerprint": bench._fingerprint(bench.baseline(alerts_file)), "rows": 60}
    ours = {"fingerprint": bench._fingerprint(load_events(alerts_file)), "rows": 60}
    assert bench._same_data(base, ours) == (True, [])


def test_comparison_reports_a_changed_value(bench, alerts_file):
    frame = load_events(alerts_file)
    frame.loc[5, "proc.cmdline"] = "changed"
    base = {"fingerprint": bench._fingerprint(bench.baseline(alerts_file))}
    ours = {"fingerprint": bench._fingerprint(frame)}
    assert bench._same_data(base, ours) == (False, ["values differ in column 'proc.cmdline'"])
