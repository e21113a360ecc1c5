"""Parquet archives of alerts: a dataset partitioned by day and host, appended with dedup by uuid.

Layout (Hive-style, readable by DuckDB, Athena, Trino, Spark)::

    OUT/day=2026-12-04/host=ip-10-0-1-12.eu-west-1.compute.internal/part-<stamp>-<n>.parquet

Each file is a canonical frame written by :func:`falco_lab.events.parquet.frame_to_table`
(the ``hostname`` column stays in the file; ``day`` and ``host`` exist only in the path).
``host`` is the alert's ``hostname`` with any character outside ``[A-Za-z0-9._-]`` replaced
by ``_``, or ``_unknown`` when the alert has none.  Appending never rewrites a file: alerts
whose ``uuid`` is already in the archive are skipped (alerts without ``uuid`` cannot be
deduplicated and are always written).

Reading: :func:`falco_lab.events.load_events` accepts the directory (every ``*.parquet`` file
under it) and falcosidekick's AWS Security Lake OCSF Parquet files (their ``raw_data``
column holds the Falco JSON); see :func:`read_parquet_chunk`.
"""

from __future__ import annotations

import argparse
import re
import uuid as uuid_module
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from falco_lab.events import ocsf
from falco_lab.events.jsonl import Chunk, read_jsonl_bytes
from falco_lab.events.load import load_events
from falco_lab.events.load_diagnostics import ATTRS_KEY, LoadError, LoadReport, Problem
from falco_lab.events.parquet import frame_to_table, table_to_canonical

#: Partition keys, in path order.
PARTITIONS: tuple[str, ...] = ("day", "host")
UNKNOWN_HOST = "_unknown"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
#: Columns an OCSF (Security Lake) file must have to be read as falcosidekick alerts.
OCSF_REQUIRED = ocsf.REQUIRED_COLUMNS
#: Columns a Parquet file must have to be read as a canonical archive.
CANONICAL_REQUIRED = ("time", "rule", "priority")


@dataclass(frozen=True)
class ArchiveResult:
    """What one :func:`archive_events` call did."""

    loaded: int
    written: int
    already_archived: int
    files: tuple[Path, ...]
    report: LoadReport


def host_partition(hostname: object) -> str:
    """The ``host=`` partition value for an alert's ``hostname``."""
    if hostname is None or hostname is pd.NA or (isinstance(hostname, float) and hostname != hostname):
        return UNKNOWN_HOST
    text = _UNSAFE.sub("_", str(hostname))
    return text if text.strip("._") else UNKNOWN_HOST


def archived_uuids(out: Path) -> set[str]:
    """Every ``uuid`` already in the archive under ``out``."""
    found: set[str] = set()
    for path in sorted(out.rglob("*.parquet")):
        names = pq.read_schema(path).names
        if "uuid" in names:
            column = pq.read_table(path, columns=["uuid"]).column("uuid")
            found.update(v for v in column.to_pylist() if v is not None)
    return found


def archive_events(sources: Sequence[object], out: str | Path, *, compression: str = "zstd") -> ArchiveResult:
    """Load ``sources`` (anything :func:`load_events` reads) and append them to the archive ``out``.

    Bad records are not archived; they are in ``result.report`` (and in each file's
    metadata).  Returns counts of what was loaded, written and skipped as already archived.
    """
    out = Path(out)
    frame = load_events(*sources, warn=False)
    report: LoadReport = frame.attrs[ATTRS_KEY]
    known = archived_uuids(out) if out.exists() else set()
    before = len(frame)
    if known and "uuid" in frame.columns:
        frame = frame.loc[~frame["uuid"].isin(known).fillna(False).to_numpy(dtype=bool)].reset_index(
            drop=True
        )
    skipped = before - len(frame)
    files: list[Path] = []
    if len(frame):
        days = frame["time"].dt.strftime("%Y-%m-%d")
        hosts = (
            frame["hostname"].map(host_partition)
            if "hostname" in frame.columns
            else pd.Series(UNKNOWN_HOST, index=frame.index)
        )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        token = uuid_module.uuid4().hex[:8]
        groups = frame.groupby([days, hosts], sort=True).indices
        for number, (key, index) in enumerate(groups.items()):
            day, host = (str(k) for k in key)  # type: ignore[attr-defined]
            part = frame.iloc[np.asarray(index)].reset_index(drop=True)
            part.attrs[ATTRS_KEY] = report
            folder = out / f"day={day}" / f"host={host}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-{stamp}-{token}-{number:05d}.parquet"
            pq.write_table(frame_to_table(part), path, compression=compression)
            files.append(path)
    return ArchiveResult(before, len(frame), skipped, tuple(files), report)


def read_parquet_chunk(path: Path) -> Chunk:
    """One Parquet file as alerts: a canonical archive file or a Security Lake OCSF file.

    Raises
    ------
    LoadError
        The file is not Parquet, or its columns are neither a canonical archive's
        (``time``, ``rule``, ``priority``) nor OCSF's (``raw_data``, ``class_uid``).
    """
    try:
        schema = pq.read_schema(path)
    except (OSError, ValueError) as exc:  # ArrowInvalid is a ValueError
        raise LoadError(f"{path}: cannot read Parquet archive: {exc}") from None
    names = set(schema.names)
    if all(n in names for n in OCSF_REQUIRED):
        return _read_ocsf(path)
    if not all(n in names for n in CANONICAL_REQUIRED):
        shown = ", ".join(sorted(names)[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
        raise LoadError(
            f"{path}: not a Falco alerts Parquet file: expected the columns {', '.join(CANONICAL_REQUIRED)} "
            f"(falco-lab archive) or {', '.join(OCSF_REQUIRED)} (falcosidekick Security Lake OCSF); "
            f"found {shown or 'no columns'}"
        )
    try:
        frame = table_to_canonical(pq.read_table(path))
    except (OSError, ValueError) as exc:
        raise LoadError(f"{path}: cannot read Parquet archive: {exc}") from None
    archived = frame.attrs.pop(ATTRS_KEY, None)
    if archived is None:
        return Chunk(str(path), frame)
    return Chunk(str(path), frame, list(archived.problems), archived.skipped)


def _read_ocsf(path: Path) -> Chunk:
    """Security Lake OCSF rows -> alerts from ``raw_data``; a bad row is reported as ``line`` = row number."""
    column = pq.read_table(path, columns=["raw_data"]).column("raw_data")
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise LoadError(f"{path}: OCSF raw_data is {column.type}, expected a string column")
    values = column.to_pylist()
    problems = [Problem(str(path), i + 1, "OCSF row without raw_data") for i, v in enumerate(values) if not v]
    lines = [v.replace("\n", " ").encode() if v else b"" for v in values]
    chunk = read_jsonl_bytes(b"\n".join(lines), str(path))
    chunk.problems = [
        Problem(p.file, p.line, f"OCSF row raw_data: {p.reason}") for p in chunk.problems
    ] + problems
    chunk.skipped = max(0, chunk.skipped - len(problems))
    return chunk


def is_ocsf_json_line(line: bytes) -> bool:
    """Whether ``line`` is an OCSF record with ``raw_data`` (falcosidekick's finding as JSON), not a Falco alert."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(record, dict) and all(k in record for k in OCSF_REQUIRED) and "rule" not in record


def read_ocsf_json_lines(data: bytes, source: str) -> Chunk:
    """OCSF records as JSON lines (``falco-lab events export --format ocsf -o x.jsonl``) -> alerts from ``raw_data``.

    A line that is not JSON, or has no string ``raw_data``, is a problem with its line number;
    blank lines are skipped.
    """
    lines = data.split(b"\n")
    if lines and not lines[-1].strip():
        lines.pop()
    raw: list[bytes] = []
    problems: list[Problem] = []
    for number, line in enumerate(lines, 1):
        value = None
        if line.strip():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                problems.append(Problem(source, number, f"OCSF line is not JSON: {exc}"))
            else:
                value = record.get("raw_data") if isinstance(record, dict) else None
                if not isinstance(value, str) or not value:
                    problems.append(Problem(source, number, "OCSF line without raw_data"))
                    value = None
        raw.append(value.replace("\n", " ").encode() if value else b"")
    chunk = read_jsonl_bytes(b"\n".join(raw), source)
    chunk.problems = sorted(
        [Problem(p.file, p.line, f"OCSF line raw_data: {p.reason}") for p in chunk.problems] + problems,
        key=lambda p: p.line or 0,
    )
    chunk.skipped = max(0, chunk.skipped - len(problems))
    return chunk


# -- falco-lab archive ---------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``falco-lab archive EVENTS... --out DIR``."""
    parser = subparsers.add_parser(
        "archive",
        help="append alerts to a Parquet dataset partitioned by day and host (dedup by uuid)",
        description="Load alerts (JSON lines, directories, Parquet archives, Security Lake OCSF Parquet) "
        "and append them to a Parquet dataset OUT/day=YYYY-MM-DD/host=HOST/*.parquet, skipping "
        "alerts whose uuid is already archived.",
    )
    parser.add_argument("events", nargs="+", metavar="EVENTS", help="file, directory or '-'")
    parser.add_argument("--out", required=True, type=Path, help="archive directory (created if missing)")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 (and archive nothing) if a record is bad"
    )
    parser.set_defaults(handler=archive_command)


def archive_command(args: argparse.Namespace) -> int:
    import sys

    try:
        if args.strict:
            load_events(*args.events, strict=True, warn=False)
        result = archive_events(args.events, args.out)
    except LoadError as exc:
        print(f"falco-lab archive: {exc}", file=sys.stderr)
        return 1 if exc.report is not None and args.strict else 2
    print(
        f"archived {result.written} alert(s) into {len(result.files)} file(s) under {args.out}; "
        f"{result.already_archived} already archived; {result.report.summary()}"
    )
    return 0


__all__ = [
    "ArchiveResult",
    "PARTITIONS",
    "archive_events",
    "archived_uuids",
    "host_partition",
    "is_ocsf_json_line",
    "read_ocsf_json_lines",
    "read_parquet_chunk",
]
