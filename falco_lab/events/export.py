"""Export alerts for a SIEM: OCSF (Security Lake), ECS (Elastic), Falco JSON lines, Parquet archive.

``export_events(frame, path, fmt)`` writes the canonical frame as:

* ``jsonl`` - Falco's own alert JSON, one per line (``time`` with nanoseconds; output
  fields an alert does not have are left out, fields null in every alert are written as
  ``null``), exactly what :func:`~falco_lab.events.load_events` reads back;
* ``parquet`` - the project's archive (:func:`~falco_lab.events.to_parquet`, exact);
* ``ocsf`` - OCSF Security Finding records as falcosidekick's AWS Security Lake output
  writes them (:mod:`falco_lab.events.ocsf`): **Parquet** when ``path`` ends in
  ``.parquet``/``.pq`` (as Security Lake stores them; ``load_events`` reads them back from
  ``raw_data``, nanoseconds included, while the OCSF ``time`` is in milliseconds), **JSON
  lines** otherwise (OCSF JSON names: ``class_name``), for a collector;
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
    "ocsf_table",
]

FORMATS: tuple[str, ...] = ("ocsf", "ecs", "jsonl", "parquet")
#: ECS version the documents follow.
ECS_VERSION = "8.11.0"
_PARQUET_SUFFIXES = (".parquet", ".pq")
_GO_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


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
    text = _dumps(payload).decode()
    for char, escape in _GO_ESCAPES:
        text = text.replace(char, escape)
    return text


def _observable_value(value: object) -> str | None:
    """Text of an observable: text and numbers only (booleans, nulls, lists and maps are left out)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return None


def ocsf_record(alert: dict[str, Any]) -> dict[str, Any]:
    """One alert as an OCSF Security Finding (Parquet column names; see :mod:`falco_lab.events.ocsf`)."""
    millis = int(pd.Timestamp(alert["time"]).value // 1_000_000)
    severity_id, severity = ocsf.severity_of(alert["priority"])
    observables = []
    if alert.get("hostname"):
        observables.append(_observable("hostname", alert["hostname"]))
    for name in sorted(alert["output_fields"]):
        text = _observable_value(alert["output_fields"][name])
        if text is not None:
            observables.append(_observable(name, text))
    return {
        "activity_id": ocsf.ACTIVITY[0],
        "activity_name": ocsf.ACTIVITY[1],
        "category_name": ocsf.CATEGORY[1],
        "category_uid": ocsf.CATEGORY[0],
        "classname": ocsf.CLASS[1],
        "class_uid": ocsf.CLASS[0],
        "finding": {
            "created_time": millis,
            "desc": alert.get("output", ""),
            "title": alert["rule"],
            "types": [alert.get("source", "")],
            "uid": alert.get("uuid", ""),
        },
        "message": alert["rule"],
        "metadata": {
            "version": ocsf.SCHEMA_VERSION,
            "product": {"vendor_name": ocsf.PRODUCT[0], "name": ocsf.PRODUCT[1]},
            "labels": list(alert.get("tags") or []),
        },
        "observables": observables,
        "raw_data": _raw_data(alert),
        "severity": severity,
        "severity_id": severity_id,
        "state": ocsf.STATE[1],
        "state_id": ocsf.STATE[0],
        "status": alert["priority"],
        "time": millis,
        "type_name": ocsf.TYPE[1],
        "type_uid": ocsf.TYPE[0],
    }


def _observable(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "type": ocsf.OBSERVABLE_TYPE[1], "type_id": ocsf.OBSERVABLE_TYPE[0], "value": value}


def ocsf_table(frame: pd.DataFrame) -> pa.Table:
    """The alerts as an Arrow table with :data:`falco_lab.events.ocsf.PARQUET_SCHEMA`."""
    records = [ocsf_record(alert) for alert in falco_alerts(frame)]
    return pa.Table.from_pylist(records, schema=ocsf.PARQUET_SCHEMA)


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
    _write_lines((_dumps(_ocsf_json(ocsf_record(a))) for a in falco_alerts(frame)), path)
    return "OCSF JSON lines"
