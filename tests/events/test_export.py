"""``falco-lab events export``: OCSF (Security Lake), ECS, Falco JSON lines and Parquet, read back by load_events."""

from __future__ import annotations

import json

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from falco_lab.cli import main as cli_main
from falco_lab.events import frame_from_alerts, load_events
from falco_lab.events.export import ecs_document, export_events, falco_alerts, ocsf_records
from tests.events.helpers import alert, jsonl

#: falcosidekick's Security Lake Parquet columns and their types, as the ``parquet`` struct tags of
#: ``OCSFSecurityFinding`` in outputs/awssecuritylake.go declare them (facts, carried by hand):
#: dotted path -> physical type ("[]" = repeated).
FALCOSIDEKICK_OCSF_FIELDS: dict[str, str] = {
    "activity_id": "INT32",
    "activity_name": "BYTE_ARRAY",
    "category_name": "BYTE_ARRAY",
    "category_uid": "INT32",
    "classname": "BYTE_ARRAY",
    "class_uid": "INT32",
    "finding.created_time": "INT64",
    "finding.desc": "BYTE_ARRAY",
    "finding.title": "BYTE_ARRAY",
    "finding.types": "[]BYTE_ARRAY",
    "finding.uid": "BYTE_ARRAY",
    "message": "BYTE_ARRAY",
    "metadata.version": "BYTE_ARRAY",
    "metadata.product.vendor_name": "BYTE_ARRAY",
    "metadata.product.name": "BYTE_ARRAY",
    "metadata.labels": "[]BYTE_ARRAY",
    "observables.name": "[]BYTE_ARRAY",
    "observables.type": "[]BYTE_ARRAY",
    "observables.type_id": "[]INT32",
    "observables.value": "[]BYTE_ARRAY",
    "raw_data": "BYTE_ARRAY",
    "severity": "BYTE_ARRAY",
    "severity_id": "INT32",
    "state": "BYTE_ARRAY",
    "state_id": "INT32",
    "status": "BYTE_ARRAY",
    "time": "INT64",
    "type_name": "BYTE_ARRAY",
    "type_uid": "INT32",
}


def _frame(*alerts: dict) -> pd.DataFrame:
    return frame_from_alerts(list(alerts))


def _mixed() -> pd.DataFrame:
    """Alerts with every kind of field value, missing fields, an old-format alert and attacker text."""
    old = alert(2)
    for key in ("source", "tags", "hostname", "uuid"):
        old.pop(key)
    odd = alert(1, output='evil "quoted" <script>&\n\u2028 text')
    odd["output_fields"] |= {"fd.name": "/tmp/<x>", "evt.is_open_write": True, "ka.sourceips": ["1.2.3.4"]}
    odd["output_fields"]["proc.ratio"] = 0.5
    return _frame(alert(0), odd, old)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same alerts: every column and value (column order follows each file's first appearance)."""
    pd.testing.assert_frame_equal(a, b, check_like=True)


# -- round trips ---------------------------------------------------------------------------------


def test_jsonl_export_reads_back_as_the_same_alerts(tmp_path):
    frame = _mixed()
    export_events(frame, tmp_path / "a.jsonl", "jsonl")
    _same(load_events(tmp_path / "a.jsonl", warn=False), frame)


def test_jsonl_leaves_out_fields_an_alert_does_not_have(tmp_path):
    frame = _frame(alert(0), alert(1) | {"output_fields": {"only.here": 1}})
    export_events(frame, tmp_path / "a.jsonl", "jsonl")
    first, second = (orjson.loads(line) for line in (tmp_path / "a.jsonl").read_bytes().splitlines())
    assert "only.here" not in first["output_fields"] and second["output_fields"] == {"only.here": 1}


def test_jsonl_keeps_a_field_null_in_every_alert(tmp_path):
    frame = _frame(alert(0) | {"output_fields": {"x.null": None, "proc.pid": 1}})
    export_events(frame, tmp_path / "a.jsonl", "jsonl")
    assert "x.null" in load_events(tmp_path / "a.jsonl").columns


def test_parquet_export_is_the_exact_archive(tmp_path):
    frame = _mixed()
    export_events(frame, tmp_path / "a.parquet", "parquet")
    _same(load_events(tmp_path / "a.parquet", warn=False), frame)


def test_ocsf_parquet_reads_back_as_the_same_alerts_with_nanoseconds(tmp_path):
    frame = _mixed()
    export_events(frame, tmp_path / "lake.parquet", "ocsf")
    back = load_events(tmp_path / "lake.parquet", warn=False)
    _same(back, frame)  # raw_data keeps the nanosecond time; the OCSF time column is ms
    assert back["time"].dt.nanosecond.tolist() == frame["time"].dt.nanosecond.tolist()


def test_ocsf_time_columns_are_milliseconds(tmp_path):
    frame = _frame(alert(0))
    export_events(frame, tmp_path / "lake.parquet", "ocsf")
    table = pq.read_table(tmp_path / "lake.parquet")
    millis = frame["time"].iloc[0].value // 1_000_000
    assert table.column("time").to_pylist() == [millis]
    assert table.column("finding").to_pylist()[0]["created_time"] == millis


# -- OCSF as falcosidekick writes it ------------------------------------------------------------------


def _flat_types(schema: pa.Schema) -> dict[str, str]:
    physical = {pa.int32(): "INT32", pa.int64(): "INT64", pa.string(): "BYTE_ARRAY"}
    out: dict[str, str] = {}

    def walk(prefix: str, kind: pa.DataType, repeated: bool) -> None:
        if pa.types.is_struct(kind):
            for child in kind:
                walk(f"{prefix}.{child.name}" if prefix else child.name, child.type, repeated)
        elif pa.types.is_list(kind):
            walk(prefix, kind.value_type, True)
        else:
            out[prefix] = ("[]" if repeated else "") + physical[kind]

    for field in schema:
        walk(field.name, field.type, False)
    return out


def test_ocsf_parquet_columns_are_falcosidekicks(tmp_path):
    export_events(_frame(alert(0)), tmp_path / "lake.parquet", "ocsf")
    assert _flat_types(pq.read_schema(tmp_path / "lake.parquet")) == FALCOSIDEKICK_OCSF_FIELDS


def test_ocsf_parquet_column_order_is_the_go_structs(tmp_path):
    export_events(_frame(alert(0)), tmp_path / "lake.parquet", "ocsf")
    top = list(dict.fromkeys(name.split(".")[0] for name in FALCOSIDEKICK_OCSF_FIELDS))
    assert pq.read_schema(tmp_path / "lake.parquet").names == top


def test_ocsf_record_is_a_security_finding_of_the_alert():
    source = alert(0)
    (record,) = ocsf_records(_frame(source))
    assert (record["class_uid"], record["classname"], record["category_uid"]) == (2001, "Security Finding", 2)
    assert (record["type_uid"], record["activity_id"], record["state"]) == (200101, 1, "New")
    assert record["finding"]["uid"] == source["uuid"]
    assert record["finding"]["title"] == record["message"] == source["rule"]
    assert record["finding"]["desc"] == source["output"]
    assert record["finding"]["types"] == ["syscall"]
    assert record["metadata"]["labels"] == source["tags"]
    assert record["metadata"]["product"] == {"vendor_name": "Falcosecurity", "name": "Falco"}
    assert record["status"] == source["priority"]


@pytest.mark.parametrize(
    ("priority", "severity"),
    [
        ("Emergency", (6, "Fatal")),
        ("Alert", (6, "Fatal")),
        ("Critical", (5, "Critical")),
        ("Error", (4, "High")),
        ("Warning", (3, "Medium")),
        ("Notice", (2, "Low")),
        ("Informational", (1, "Informational")),
        ("Debug", (1, "Informational")),
    ],
)
def test_ocsf_severity_mapping(priority, severity):
    (record,) = ocsf_records(_frame(alert(0, priority=priority)))
    assert (record["severity_id"], record["severity"]) == severity


def test_ocsf_observables_are_hostname_then_text_and_number_fields():
    source = alert(0)
    source["output_fields"] = {"proc.pid": 42, "b.flag": True, "a.name": "x", "c.list": ["y"], "d.none": None}
    (record,) = ocsf_records(_frame(source))
    assert [(o["name"], o["value"]) for o in record["observables"]] == [
        ("hostname", source["hostname"]),
        ("a.name", "x"),
        ("proc.pid", "42"),
    ]
    assert {(o["type"], o["type_id"]) for o in record["observables"]} == {("Other", 0)}


def test_ocsf_raw_data_is_the_alert_as_go_marshals_it():
    source = alert(0, output="a <b> & c")
    (record,) = ocsf_records(_frame(source))
    raw = record["raw_data"]
    assert "\\u003cb\\u003e \\u0026 c" in raw and "<" not in raw
    decoded = json.loads(raw)
    assert list(decoded) == [
        "uuid",
        "output",
        "priority",
        "rule",
        "time",
        "output_fields",
        "source",
        "tags",
        "hostname",
    ]
    assert decoded["time"] == source["time"] and decoded["output_fields"] == source["output_fields"]


def test_ocsf_raw_data_time_drops_trailing_zeros_as_go_does():
    source = alert(0, time="2026-11-27T10:00:00.120000000Z")
    (record,) = ocsf_records(_frame(source))
    assert json.loads(record["raw_data"])["time"] == "2026-11-27T10:00:00.12Z"


def test_ocsf_to_a_json_file_writes_json_lines_with_json_names(tmp_path):
    export_events(_frame(alert(0), alert(1)), tmp_path / "lake.jsonl", "ocsf")
    records = [json.loads(line) for line in (tmp_path / "lake.jsonl").read_text().splitlines()]
    assert (
        len(records) == 2 and records[0]["class_name"] == "Security Finding" and "classname" not in records[0]
    )


# -- ECS ---------------------------------------------------------------------------------------------


def test_ecs_document_maps_alert_to_ecs_fields():
    source = alert(0, priority="Critical")
    source["output_fields"] |= {
        "fd.sip": "203.0.113.9",
        "fd.sport": 4444,
        "container.image.repository": "nginx",
    }
    (doc,) = [ecs_document(a) for a in falco_alerts(_frame(source))]
    assert doc["@timestamp"] == source["time"]
    assert (
        doc["event"]["kind"] == "alert"
        and doc["event"]["severity"] == 2
        and doc["event"]["id"] == source["uuid"]
    )
    assert doc["rule"]["name"] == source["rule"] and doc["message"] == source["output"]
    assert doc["host"]["hostname"] == source["hostname"]
    assert (
        doc["orchestrator"]["namespace"] == "payments" and doc["orchestrator"]["resource"]["name"] == "web-0"
    )
    assert doc["process"]["pid"] == 1000 and doc["process"]["command_line"] == "bash -c echo 0"
    assert doc["container"]["image"]["name"] == "nginx"
    assert doc["destination"] == {"ip": "203.0.113.9", "port": 4444}


def test_ecs_keeps_falco_fields_without_dots_under_falco():
    source = alert(0)
    source["output_fields"] = {"proc.pid": 7, "proc.pid.ts": 123}
    (doc,) = [ecs_document(a) for a in falco_alerts(_frame(source))]
    assert doc["falco"]["output_fields"] == {"proc_pid": 7, "proc_pid_ts": 123}
    assert doc["falco"]["priority"] == source["priority"]


def test_ecs_category_follows_tags():
    (doc,) = [ecs_document(a) for a in falco_alerts(_frame(alert(0, tags=["network", "process"])))]
    assert doc["event"]["category"] == ["intrusion_detection", "network", "process"]


def test_ecs_export_writes_one_json_document_per_line(tmp_path):
    export_events(_mixed(), tmp_path / "a.ndjson", "ecs")
    lines = (tmp_path / "a.ndjson").read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line)["event"]["kind"] == "alert" for line in lines)


# -- falco-lab events export ------------------------------------------------------------------------


def _events(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl([alert(i) for i in range(3)]))
    return path


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("ocsf", "o.parquet"),
        ("ocsf", "o.jsonl"),
        ("ecs", "o.ndjson"),
        ("jsonl", "o.jsonl"),
        ("parquet", "o.pq"),
    ],
)
def test_cli_exports_every_format(tmp_path, capsys, fmt, name):
    assert (
        cli_main(["events", "export", str(_events(tmp_path)), "--format", fmt, "-o", str(tmp_path / name)])
        == 0
    )
    assert (tmp_path / name).stat().st_size > 0
    assert "wrote 3 alert(s)" in capsys.readouterr().err


def test_cli_export_to_stdout(tmp_path, capsysbinary):
    assert cli_main(["events", "export", str(_events(tmp_path)), "--format", "jsonl", "-o", "-"]) == 0
    assert len(capsysbinary.readouterr().out.splitlines()) == 3


def test_cli_parquet_to_stdout_is_refused(tmp_path, capsys):
    assert cli_main(["events", "export", str(_events(tmp_path)), "--format", "parquet", "-o", "-"]) == 2
    assert "give a file name" in capsys.readouterr().err


def test_cli_missing_input_is_an_error_naming_it(tmp_path, capsys):
    code = cli_main(
        ["events", "export", str(tmp_path / "nope.jsonl"), "--format", "ecs", "-o", str(tmp_path / "x")]
    )
    assert code == 2 and "nope.jsonl" in capsys.readouterr().err


def test_cli_unwritable_output_is_an_error(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir" / "x.jsonl"
    assert cli_main(["events", "export", str(_events(tmp_path)), "--format", "jsonl", "-o", str(target)]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_cli_unknown_format_is_rejected(tmp_path):
    with pytest.raises(SystemExit) as exc:
        cli_main(["events", "export", str(_events(tmp_path)), "--format", "xml", "-o", str(tmp_path / "x")])
    assert exc.value.code == 2


def test_cli_bad_record_is_named_and_the_rest_exported(tmp_path, capsys):
    path = _events(tmp_path)
    path.write_bytes(path.read_bytes() + b"{broken\n")
    assert (
        cli_main(["events", "export", str(path), "--format", "jsonl", "-o", str(tmp_path / "o.jsonl")]) == 0
    )
    assert f"{path}:4" in capsys.readouterr().err
    assert len(load_events(tmp_path / "o.jsonl")) == 3


def test_ocsf_severity_of_an_unknown_priority_is_spelt_as_falcosidekick_spells_it():
    from falco_lab.events.ocsf import severity_of

    assert severity_of("Loud") == (0, "Uknown")


def test_ocsf_json_lines_read_back_as_the_same_alerts(tmp_path):
    frame = _mixed()
    export_events(frame, tmp_path / "lake.jsonl", "ocsf")
    _same(load_events(tmp_path / "lake.jsonl", warn=False), frame)


def test_bad_ocsf_json_line_is_named_by_line_and_the_rest_read(tmp_path):
    export_events(_frame(alert(0), alert(1)), tmp_path / "lake.jsonl", "ocsf")
    lines = (tmp_path / "lake.jsonl").read_bytes().splitlines()
    broken = json.loads(lines[1])
    del broken["raw_data"]
    broken["class_uid"] = 2001
    (tmp_path / "lake.jsonl").write_bytes(lines[0] + b"\n" + json.dumps(broken).encode() + b"\n{oops\n")
    from falco_lab.events import load_report

    back = load_events(tmp_path / "lake.jsonl", warn=False)
    problems = [(p.line, p.reason.split(":")[0]) for p in load_report(back).problems]
    assert len(back) == 1 and problems == [(2, "OCSF line without raw_data"), (3, "OCSF line is not JSON")]
