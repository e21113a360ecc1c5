"""``falco-lab archive``: a Parquet dataset by day and host, dedup by uuid, read back by load_events."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from falco_lab.cli import main as cli_main
from falco_lab.events import LoadError, load_events, load_report
from falco_lab.events.archive import archive_events, host_partition
from tests.events.helpers import alert, jsonl


def _write(tmp_path, name, alerts):
    path = tmp_path / name
    path.write_bytes(jsonl(alerts))
    return path


def test_archive_round_trip_keeps_every_value(tmp_path):
    source = _write(tmp_path, "a.jsonl", [alert(i, uuid=f"u-{i}") for i in range(6)])
    result = archive_events([source], tmp_path / "arch")
    assert (result.loaded, result.written, result.already_archived) == (6, 6, 0)
    back = load_events(tmp_path / "arch")
    original = load_events(source)
    assert back["uuid"].tolist() == original["uuid"].tolist()
    assert back["time"].tolist() == original["time"].tolist()
    assert back["proc.pid"].dtype == "Int64" and back["proc.pid"].tolist() == original["proc.pid"].tolist()


def test_archive_is_partitioned_by_day_and_host(tmp_path):
    source = _write(
        tmp_path, "a.jsonl", [alert(0, hostname="node/1 a", uuid="x"), alert(1, hostname=None, uuid="y")]
    )
    result = archive_events([source], tmp_path / "arch")
    parts = sorted(str(p.relative_to(tmp_path / "arch").parent) for p in result.files)
    day = load_events(source)["time"].dt.strftime("%Y-%m-%d").iloc[0]
    assert parts == [f"day={day}/host=_unknown", f"day={day}/host=node_1_a"]


def test_host_partition_of_missing_hostname_is_unknown():
    assert host_partition(None) == "_unknown"
    assert host_partition("..") == "_unknown"


def test_appending_the_same_alerts_writes_nothing(tmp_path):
    source = _write(tmp_path, "a.jsonl", [alert(i, uuid=f"u-{i}") for i in range(4)])
    archive_events([source], tmp_path / "arch")
    more = _write(tmp_path, "b.jsonl", [alert(i, uuid=f"u-{i}") for i in range(6)])
    second = archive_events([more], tmp_path / "arch")
    assert (second.written, second.already_archived) == (2, 4)
    assert len(load_events(tmp_path / "arch")) == 6


def test_unknown_parquet_schema_is_an_error_naming_the_file(tmp_path):
    folder = tmp_path / "lake"
    folder.mkdir()
    pq.write_table(pa.table({"a": [1, 2]}), folder / "x.parquet")
    with pytest.raises(LoadError, match=r"x\.parquet: not a Falco alerts Parquet file"):
        load_events(folder)


def test_not_parquet_at_all_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "junk.parquet"
    path.write_bytes(b"not parquet")
    with pytest.raises(LoadError, match=r"junk\.parquet: cannot read Parquet"):
        load_events(path)


def _ocsf(raw: list[str | None]) -> pa.Table:
    """Rows shaped like falcosidekick's Security Lake output (the columns the loader uses)."""
    return pa.table(
        {
            "class_uid": pa.array([2001] * len(raw), pa.int32()),
            "class_name": ["Security Finding"] * len(raw),
            "severity": ["Medium"] * len(raw),
            "raw_data": pa.array(raw, pa.string()),
        }
    )


def test_security_lake_ocsf_parquet_is_read_from_raw_data(tmp_path):
    import orjson

    raw = [orjson.dumps(alert(i, uuid=f"o-{i}")).decode() for i in range(3)]
    pq.write_table(_ocsf(raw), tmp_path / "lake.parquet")
    frame = load_events(tmp_path / "lake.parquet")
    assert frame["uuid"].tolist() == ["o-0", "o-1", "o-2"]
    assert load_report(frame).ok


def test_bad_ocsf_row_is_reported_by_file_and_row(tmp_path):
    import orjson

    raw = [orjson.dumps(alert(0)).decode(), "{not json", orjson.dumps(alert(2)).decode()]
    pq.write_table(_ocsf(raw), tmp_path / "lake.parquet")
    frame = load_events(tmp_path / "lake.parquet", warn=False)
    assert len(frame) == 2
    [problem] = load_report(frame).problems
    assert problem.file.endswith("lake.parquet") and problem.line == 2
    assert problem.reason.startswith("OCSF row raw_data:")


def test_cli_archive_appends_and_reports(tmp_path, capsys):
    source = _write(tmp_path, "a.jsonl", [alert(i, uuid=f"u-{i}") for i in range(3)])
    assert cli_main(["archive", str(source), "--out", str(tmp_path / "arch")]) == 0
    assert cli_main(["archive", str(source), "--out", str(tmp_path / "arch")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("archived 3 alert(s)") and out[1].startswith("archived 0 alert(s)")
    assert "3 already archived" in out[1]


def test_cli_archive_of_an_unreadable_source_exits_2(tmp_path, capsys):
    assert cli_main(["archive", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "arch")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
