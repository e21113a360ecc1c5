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


@pytest.fixture(scope="module")
def common():
    """``benchmarks/bench_common.py``: the stamps every benchmark JSON carries."""
    spec = importlib.util.spec_from_file_location("bench_common", BENCH.parent / "bench_common.py")
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


@pytest.fixture(scope="module")
def tiny_run(bench, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    status = bench.main(["--out", str(out), "--size", "400", "--adversarial-size", "120", "--repeat", "1"])
    return status, orjson.loads((out / "events.json").read_bytes())


def test_tiny_run_has_no_figure_older_than_the_run(tiny_run, common):
    from datetime import datetime

    status, result = tiny_run
    assert status == 0
    started = datetime.fromisoformat(result["run"]["started_at"])
    finished = datetime.fromisoformat(result["run"]["finished_at"])
    stamps = [datetime.fromisoformat(s) for s in common.stamps(result)]
    # 6 methods x 2 data sets, one run each
    assert len(stamps) == 12
    assert all(started <= s <= finished for s in stamps)


def test_tiny_run_every_method_figure_carries_its_stamp(tiny_run):
    _, result = tiny_run
    for name in ("typical", "adversarial"):
        for method in ("baseline", "falco_lab", "duckdb", "polars", "duckdb_schema", "duckdb_strict"):
            figure = result[name][method]
            assert figure["measured_at"], (name, method)
            assert "seconds" in figure or "failed" in figure, (name, method)
        assert result[name]["falco_lab"]["rows"] > 0


def test_tiny_run_records_load_average_seed_and_shape(tiny_run):
    _, result = tiny_run
    assert (
        result["machine"]["load_average_before"] is None or len(result["machine"]["load_average_before"]) == 3
    )
    assert result["typical"]["data"]["seed"] == 42 and result["typical"]["data"]["lines"] == 400
    assert result["adversarial"]["data"]["seed"] == 43 and result["adversarial"]["data"]["lines"] == 120
    assert result["data"]["sets"]["typical"]["lines"] == 400
    assert result["loader"]["engine"] and result["loader"]["why"]
    assert isinstance(result["loader"]["peer_targets_met"], bool)


def test_adversarial_set_loads_without_bad_records_and_keeps_its_traps(tmp_path):
    import sys

    sys.path.insert(0, str(BENCH.parent))
    import adversarial

    path = tmp_path / "adv.jsonl"
    adversarial.write_adversarial(path, 300, seed=3)
    frame = load_events(path, warn=False)
    report = frame.attrs["load_report"]
    assert report.problems == ()
    assert frame["container.id"].is_unique and frame["proc.pid"].is_unique
    assert frame["adv.late_only"].notna().sum() == 50
    assert str(frame["adv.late_null"].dtype) == "Int64" and frame["adv.late_null"].notna().sum() == 15
    assert frame["proc.cmdline"].str.len().min() >= 300


def test_duckdb_strict_floor_counts_a_value_of_the_wrong_json_type(bench, tmp_path):
    path = tmp_path / "alerts.jsonl"
    lines = [orjson.loads(line) for line in _alerts(bench, tmp_path, 40)]
    lines[25]["hostname"] = 5  # read as VARCHAR, DuckDB would give "5"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    table = bench.duckdb_strict_loader(path)
    assert table.num_rows == 40
    assert table.schema.metadata[b"type_mismatch_rows"] == b"1"


def test_duckdb_strict_floor_counts_the_rows_with_output_fields_after_its_sample(bench, tmp_path):
    path = tmp_path / "alerts.jsonl"
    line = {
        "time": "2026-05-28T10:00:00.000000001Z",
        "rule": "r",
        "priority": "Notice",
        "output_fields": {"a": 1},
    }
    late = {**line, "output_fields": {"a": 2, "late.field": "x"}}
    # DuckDB samples the first 20,480 lines; the late field comes after them
    path.write_bytes((orjson.dumps(line) + b"\n") * 20_500 + orjson.dumps(late) + b"\n")
    table = bench.duckdb_strict_loader(path)
    assert table.num_rows == 20_501
    assert table.schema.metadata[b"unsampled_keys"] == b"1"
    assert table.schema.metadata[b"type_mismatch_rows"] == b"0"


def _alerts(bench, tmp_path, n: int) -> list[bytes]:
    source = tmp_path / "source.jsonl"
    bench.write_alerts(source, n)
    return source.read_bytes().splitlines()


def test_tiny_run_splits_our_time_into_stages_and_states_each_peer_target(tiny_run):
    _, result = tiny_run
    stages = result["typical"]["falco_lab"]["stages"]
    assert set(stages) == {"schema_sample", "checks", "to_pandas", "post_load", "scan_and_parse"}
    assert stages["to_pandas"] > 0
    verdicts = result["loader"]["peer_targets"]["typical"]
    assert set(verdicts) == {"duckdb", "polars", "duckdb_schema", "duckdb_strict"}
    assert all(v.startswith(("met: ", "missed: ", "not compared: ")) for v in verdicts.values())
