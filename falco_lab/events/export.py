"""Export alerts for a SIEM: OCSF (Security Lake), ECS (Elastic), Falco JSON lines, Parquet archive.

``export_events(frame, path, fmt)`` writes the canonical frame as:

* ``jsonl`` - Falco's own alert JSON, one per line (``time`` with nanoseconds; output
  fields an alert does not have are left out, fields null in every alert are written as
  ``null``), exactly what :func:`~falco_lab.events.load_events` reads back;
* ``parquet`` - the project's archive (:func:`~falco_lab.events.to_parquet`, exact);
* ``ocsf`` - OCSF Security Finding records as falcosidekick's AWS Security Lake output
  writes them (:mod:`falco_lab.events.ocsf`): **Parquet** when ``path`` ends in
  ``.parquet``/``.pq`` (as Security Lake stores them), **JSON lines** otherwise (OCSF JSON
  names: ``class_name``), for a collector.  ``load_events`` reads both back from
  ``raw_data``, nanoseconds included (the OCSF ``time`` columns are milliseconds);
* ``ecs`` - Elastic Common Schema NDJSON (:func:`ecs_document`).

Text goes to ``path`` (``-`` for standard output, line formats only).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from falco_lab.events import ocsf
from falco_lab.events.schema import BASE_COLUMNS
from falco_lab.priorities import PRIORITIES

__all__ = [
    "ECS_VERSION",
    "FORMATS",
    "ecs_document",
    "export_events",
    "falco_alerts",
    "ocsf_records",
    "ocsf_table",
]

FORMATS: tuple[str, ...] = ("ocsf", "ecs", "jsonl", "parquet")
#: ECS version the documents follow.
ECS_VERSION = "8.11.0"
_PARQUET_SUFFIXES = (".parquet", ".pq")
#: Go's JSON encoder escapes these (U+2028/2029 too: :func:`_dumps` does that for every line).
_GO_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))


# -- the frame as Falco alerts ---------------------------------------------------------------


def _field_columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns if c not in BASE_COLUMNS]


def _field_name(column: str) -> str:
    """Output-field name of a column (``output_fields.time`` is the field ``time``)."""
    return column.removeprefix("output_fields.") if column.startswith("output_fields.") else column


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and value != value


def _time_strings(frame: pd.DataFrame) -> list[str]:
    """``time`` as ISO 8601 with nanoseconds and ``Z`` (Falco's format)."""
    values = frame["time"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    return [s + "Z" for s in np.datetime_as_string(values, unit="ns").tolist()]


def falco_alerts(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """The alerts of a canonical frame as Falco JSON objects (what ``load_events`` reads).

    An output field is left out of an alert where it is missing, except a field missing
    in every alert, which is written as ``null`` (so the column survives a round trip).
    """
    n = len(frame)
    times = _time_strings(frame)
    base = {
        name: frame[name].astype(object).where(frame[name].notna(), None).tolist()
        for name in ("rule", "source", "hostname", "output", "uuid")
        if name in frame.columns
    }
    priorities = frame["priority"].astype(object).where(frame["priority"].notna(), None).tolist()
    tags = frame["tags"].tolist() if "tags" in frame.columns else [[] for _ in range(n)]
    fields = []
    for column in _field_columns(frame):
        values = frame[column].astype(object).tolist()
        all_missing = all(_missing(v) for v in values)
        fields.append((_field_name(column), values, all_missing))
    for i in range(n):
        alert: dict[str, Any] = {}
        for name in ("hostname", "output"):
            if name in base and base[name][i] is not None:
                alert[name] = base[name][i]
        output_fields: dict[str, Any] = {}
        for name, values, all_missing in fields:
            value = values[i]
            if _missing(value):
                if all_missing:
                    output_fields[name] = None
                continue
            output_fields[name] = value.item() if isinstance(value, np.generic) else value
        alert["output_fields"] = output_fields
        alert["priority"] = priorities[i]
        alert["rule"] = base["rule"][i]
        if "source" in base and base["source"][i] is not None:
            alert["source"] = base["source"][i]
        alert["tags"] = list(tags[i]) if isinstance(tags[i], (list, tuple, np.ndarray)) else []
        alert["time"] = times[i]
        if "uuid" in base and base["uuid"][i] is not None:
            alert["uuid"] = base["uuid"][i]
        yield alert


def _dumps(obj: object) -> bytes:
    """One JSON line; U+2028/U+2029 escaped, since some line readers split on them."""
    text = orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)
    return text.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")


# -- OCSF --------------------------------------------------------------------------------------


def _go_time(iso: str) -> str:
    """Go's RFC 3339 with nanoseconds: trailing zeros of the fraction dropped (and the dot if none left)."""
    head, _, fraction = iso[:-1].partition(".")
    fraction = fraction.rstrip("0")
    return f"{head}.{fraction}Z" if fraction else f"{head}Z"


def _raw_data(alert: dict[str, Any]) -> str:
    """The alert as falcosidekick's ``FalcoPayload`` marshals it: its key order, sorted output
    fields, ``<``/``>``/``&`` and U+2028/2029 escaped as Go's encoder does."""
    payload: dict[str, Any] = {}
    if alert.get("uuid"):
        payload["uuid"] = alert["uuid"]
    payload["output"] = alert.get("output", "")
    payload["priority"] = alert["priority"]
    payload["rule"] = alert["rule"]
    payload["time"] = _go_time(alert["time"])
    payload["output_fields"] = {k: alert["output_fields"][k] for k in sorted(alert["output_fields"])}
    if "source" in alert:
        payload["source"] = alert["source"]
    if alert.get("tags"):
        payload["tags"] = alert["tags"]
    if alert.get("hostname"):
        payload["hostname"] = alert["hostname"]
    data = _dumps(payload)
    for char, escape in _GO_ESCAPES:
        data = data.replace(char, escape)
    return data.decode()


def _observable_value(value: object) -> str | None:
    """Text of an observable: text and numbers only (booleans, nulls, lists and maps are left out)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _repeat(value: object, kind: pa.DataType, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, kind), n)


def _list_array(offsets: list[int], values: pa.Array, kind: pa.DataType) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, type=kind)


def ocsf_table(frame: pd.DataFrame) -> pa.Table:
    """The alerts as OCSF Security Findings: an Arrow table with :data:`falco_lab.events.ocsf.PARQUET_SCHEMA`.

    Built column by column; only ``raw_data`` and the observables are made per alert.
    """
    alerts = list(falco_alerts(frame))
    n = len(alerts)
    millis = pa.array(frame["time"].array.asi8 // 1_000_000, pa.int64())
    raw: list[str] = []
    rules: list[str] = []
    outputs: list[str] = []
    uids: list[str] = []
    priorities: list[str] = []
    sources: list[str] = []
    tag_offsets, tag_values = [0], list[str]()
    obs_offsets, obs_names, obs_values = [0], list[str](), list[str]()
    for alert in alerts:
        raw.append(_raw_data(alert))
        rules.append(alert["rule"])
        outputs.append(alert.get("output", ""))
        uids.append(alert.get("uuid", ""))
        priorities.append(alert["priority"])
        sources.append(alert.get("source", ""))
        tag_values.extend(alert.get("tags") or ())
        tag_offsets.append(len(tag_values))
        if alert.get("hostname"):
            obs_names.append("hostname")
            obs_values.append(alert["hostname"])
        fields = alert["output_fields"]
        for name in sorted(fields):
            text = _observable_value(fields[name])
            if text is not None:
                obs_names.append(name)
                obs_values.append(text)
        obs_offsets.append(len(obs_names))
    severities = [ocsf.severity_of(p) for p in priorities]
    text, int32 = pa.string(), pa.int32()
    schema = ocsf.PARQUET_SCHEMA
    rule_array = pa.array(rules, text)
    finding = pa.StructArray.from_arrays(
        [
            millis,
            pa.array(outputs, text),
            rule_array,
            _list_array(
                list(range(n + 1)), pa.array(sources, text), schema.field("finding").type.field("types").type
            ),
            pa.array(uids, text),
        ],
        fields=list(schema.field("finding").type),
    )
    product = pa.StructArray.from_arrays(
        [_repeat(ocsf.PRODUCT[0], text, n), _repeat(ocsf.PRODUCT[1], text, n)],
        fields=list(schema.field("metadata").type.field("product").type),
    )
    metadata = pa.StructArray.from_arrays(
        [
            _repeat(ocsf.SCHEMA_VERSION, text, n),
            product,
            _list_array(
                tag_offsets, pa.array(tag_values, text), schema.field("metadata").type.field("labels").type
            ),
        ],
        fields=list(schema.field("metadata").type),
    )
    observable_fields = list(schema.field("observables").type.value_type)
    observables = _list_array(
        obs_offsets,
        pa.StructArray.from_arrays(
            [
                pa.array(obs_names, text),
                _repeat(ocsf.OBSERVABLE_TYPE[1], text, len(obs_names)),
                _repeat(ocsf.OBSERVABLE_TYPE[0], int32, len(obs_names)),
                pa.array(obs_values, text),
            ],
            fields=observable_fields,
        ),
        schema.field("observables").type,
    )
    columns = {
        "activity_id": _repeat(ocsf.ACTIVITY[0], int32, n),
        "activity_name": _repeat(ocsf.ACTIVITY[1], text, n),
        "category_name": _repeat(ocsf.CATEGORY[1], text, n),
        "category_uid": _repeat(ocsf.CATEGORY[0], int32, n),
        "classname": _repeat(ocsf.CLASS[1], text, n),
        "class_uid": _repeat(ocsf.CLASS[0], int32, n),
        "finding": finding,
        "message": rule_array,
        "metadata": metadata,
        "observables": observables,
        "raw_data": pa.array(raw, text),
        "severity": pa.array([s[1] for s in severities], text),
        "severity_id": pa.array([s[0] for s in severities], int32),
        "state": _repeat(ocsf.STATE[1], text, n),
        "state_id": _repeat(ocsf.STATE[0], int32, n),
        "status": pa.array(priorities, text),
        "time": millis,
        "type_name": _repeat(ocsf.TYPE[1], text, n),
        "type_uid": _repeat(ocsf.TYPE[0], int32, n),
    }
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def ocsf_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The alerts as OCSF Security Finding dicts, with the Parquet column names (``classname``)."""
    return ocsf_table(frame).to_pylist()


def _ocsf_json(record: dict[str, Any]) -> dict[str, Any]:
    return {ocsf.JSON_NAMES.get(k, k): v for k, v in record.items()}


# -- ECS ---------------------------------------------------------------------------------------

#: Falco priority -> syslog severity code (Falco's priorities are syslog's levels).
SYSLOG_CODE: dict[str, int] = {name: code for code, name in enumerate(PRIORITIES)}
_ECS_CATEGORY_TAGS = {
    "process": "process",
    "network": "network",
    "file": "file",
    "filesystem": "file",
    "users": "iam",
    "k8s": "configuration",
}


def _put(doc: dict[str, Any], dotted: str, value: object) -> None:
    if _missing(value):
        return
    parts = dotted.split(".")
    target = doc
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def ecs_document(alert: dict[str, Any]) -> dict[str, Any]:
    """One alert as an ECS document.

    ``@timestamp`` (nanoseconds), ``event.kind`` ``alert``, ``event.category``
    (``intrusion_detection`` plus ``process``/``network``/``file``/``iam``/``configuration`` from
    the tags), ``event.type`` ``info``, ``event.severity`` = the syslog code of the priority
    (0 Emergency ... 7 Debug, as Falco numbers them), ``event.id`` = uuid, ``rule.name``,
    ``message`` = output, ``log.level`` = priority, ``host.hostname``, ``container.*``,
    ``orchestrator.*`` (Kubernetes namespace and pod), ``process.*``, ``user.name``,
    ``file.path``, ``source``/``destination`` (client/server of a connection), ``tags``;
    the whole alert under ``falco`` (``falco.output_fields`` with ``.`` in field names
    replaced by ``_``, as falcosidekick's ``flattenfields`` does, so ``proc.pid`` and
    ``proc.pid.ts`` cannot collide in an Elasticsearch mapping).
    """
    fields = alert["output_fields"]
    tags = list(alert.get("tags") or [])
    categories = ["intrusion_detection"]
    for tag in tags:
        category = _ECS_CATEGORY_TAGS.get(str(tag).lower())
        if category and category not in categories:
            categories.append(category)
    priority = alert["priority"]
    doc: dict[str, Any] = {
        "@timestamp": alert["time"],
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": "alert",
            "category": categories,
            "type": ["info"],
            "severity": SYSLOG_CODE.get(priority, 8),
            "module": "falco",
            "dataset": "falco.alerts",
            "provider": alert.get("source"),
        },
        "rule": {"name": alert["rule"]},
        "message": alert.get("output"),
        "log": {"level": str(priority).lower()},
        "tags": tags,
    }
    if alert.get("uuid"):
        doc["event"]["id"] = alert["uuid"]
    if doc["event"]["provider"] is None:
        del doc["event"]["provider"]
    _put(doc, "host.hostname", alert.get("hostname"))
    _put(doc, "host.name", alert.get("hostname"))
    mapping = (
        ("container.id", "container.id"),
        ("container.name", "container.name"),
        ("container.image.name", "container.image.repository"),
        ("container.runtime", "container.type"),
        ("process.pid", "proc.pid"),
        ("process.name", "proc.name"),
        ("process.command_line", "proc.cmdline"),
        ("process.executable", "proc.exepath"),
        ("process.working_directory", "proc.cwd"),
        ("process.parent.pid", "proc.ppid"),
        ("process.parent.name", "proc.pname"),
        ("process.parent.command_line", "proc.pcmdline"),
        ("user.name", "user.name"),
        ("user.id", "user.uid"),
        ("source.ip", "fd.cip"),
        ("source.port", "fd.cport"),
        ("destination.ip", "fd.sip"),
        ("destination.port", "fd.sport"),
        ("destination.domain", "fd.sip.name"),
    )
    for target, field in mapping:
        value = fields.get(field)
        if (
            target.endswith((".id", ".name", ".executable"))
            and value is not None
            and not isinstance(value, str)
        ):
            value = str(value)
        _put(doc, target, value)
    if fields.get("container.image.tag") is not None:
        _put(doc, "container.image.tag", [str(fields["container.image.tag"])])
    if fields.get("k8s.ns.name") is not None or fields.get("k8s.pod.name") is not None:
        _put(doc, "orchestrator.type", "kubernetes")
        _put(doc, "orchestrator.namespace", fields.get("k8s.ns.name"))
        if fields.get("k8s.pod.name") is not None:
            _put(doc, "orchestrator.resource.type", "pod")
            _put(doc, "orchestrator.resource.name", fields["k8s.pod.name"])
    name = fields.get("fd.name")
    if isinstance(name, str) and name.startswith("/"):
        _put(doc, "file.path", name)
    if fields.get("ka.user.name") is not None and "user" not in doc:
        _put(doc, "user.name", fields["ka.user.name"])
    falco = {
        "rule": alert["rule"],
        "priority": priority,
        "source": alert.get("source"),
        "hostname": alert.get("hostname"),
        "tags": tags,
        "uuid": alert.get("uuid"),
        "time": alert["time"],
        "output": alert.get("output"),
        "output_fields": {k.replace(".", "_"): v for k, v in fields.items()},
    }
    doc["falco"] = {k: v for k, v in falco.items() if v is not None}
    return doc


# -- writing ------------------------------------------------------------------------------------


def _open_text(path: str | os.PathLike) -> tuple[IO[bytes], bool]:
    if str(path) == "-":
        return sys.stdout.buffer, False
    return open(path, "wb"), True  # noqa: SIM115 - closed by the caller


def _write_lines(lines: Iterator[bytes], path: str | os.PathLike) -> int:
    handle, close = _open_text(path)
    count = 0
    try:
        for line in lines:
            handle.write(line + b"\n")
            count += 1
        handle.flush()
    finally:
        if close:
            handle.close()
    return count


def export_events(frame: pd.DataFrame, path: str | os.PathLike, fmt: str) -> str:
    """Write ``frame`` to ``path`` in format ``fmt`` (:data:`FORMATS`); return what was written.

    Raises
    ------
    ValueError
        Unknown format, or ``-`` (standard output) for a Parquet output.
    OSError
        The file cannot be written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    parquet = Path(str(path)).suffix.lower() in _PARQUET_SUFFIXES
    if fmt == "parquet" or (fmt == "ocsf" and parquet):
        if str(path) == "-":
            raise ValueError(f"--format {fmt} writes Parquet: give a file name, not '-'")
    if fmt == "parquet":
        from falco_lab.events.parquet import to_parquet

        to_parquet(frame, path)
        return "Parquet archive"
    if fmt == "jsonl":
        _write_lines((_dumps(a) for a in falco_alerts(frame)), path)
        return "Falco JSON lines"
    if fmt == "ecs":
        _write_lines((_dumps(ecs_document(a)) for a in falco_alerts(frame)), path)
        return "ECS NDJSON"
    if parquet:
        pq.write_table(ocsf_table(frame), path, compression="snappy")
        return "OCSF Parquet"
    _write_lines((_dumps(_ocsf_json(r)) for r in ocsf_records(frame)), path)
    return "OCSF JSON lines"
