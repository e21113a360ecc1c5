"""``load_events``: every supported source -> one canonical frame with its load report."""

from __future__ import annotations

import mmap
import os
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from falco_lab.events.frame import concat_frames
from falco_lab.events.jsonl import (
    DEFAULT_MAX_LINE_BYTES,
    GZIP_MAGIC,
    Buffer,
    Chunk,
    decompress_if_gzip,
    read_jsonl_bytes,
)
from falco_lab.events.load_diagnostics import ATTRS_KEY, LoadError, LoadReport, Problem
from falco_lab.events.sanity import post_load
from falco_lab.events.since import Since, since_cutoff
from falco_lab.events.webhook import read_webhook

#: File name endings read from a directory (each also with ``.gz``).
EVENT_FILE_SUFFIXES: tuple[str, ...] = (".jsonl", ".ndjson", ".json", ".log")
#: Plain files at least this big are memory-mapped instead of read into memory.
MMAP_MIN_BYTES = 1 << 20
#: File name endings read as Parquet archives written by ``to_parquet`` (named explicitly only).
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")
_UI_OPTIONS = ("priority", "rule", "source", "hostname", "tags", "filter", "max_events")
_CLIENT_OPTIONS = ("auth", "timeout", "retries", "backoff", "page_size", "progress", "session")


class BadRecordsWarning(UserWarning):
    """Issued by ``load_events`` (``warn=True``) when bad records were rejected."""


def load_events(
    *sources: Any,
    strict: bool = False,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    since: Since | None = None,
    sort: bool = True,
    warn: bool = True,
    **options: Any,
) -> pd.DataFrame:
    """Load Falco / falcosidekick alerts into the canonical events frame.

    Parameters
    ----------
    *sources
        Each one of: a path to a JSON-lines file (``.gz`` too), to a JSON document
        (an array of alerts or webhook payloads) or to a Parquet archive written by
        :func:`~falco_lab.events.to_parquet` (``.parquet``, ``.pq``; the bad records its
        own load rejected stay in the report, as problems of that load); a directory (its ``*.jsonl``,
        ``*.ndjson``, ``*.json``, ``*.log`` files and their ``.gz``, recursively, in
        name order); ``"-"`` for standard input; an open file (binary or text); the
        URL of a falcosidekick-ui (``http://host:2802``); a webhook payload (dict) or
        a list of them.
    strict : bool
        Raise :class:`~falco_lab.events.load_diagnostics.LoadError` if any record is bad
        (default: keep the good ones and report the bad ones).
    max_line_bytes : int
        Reject longer lines without parsing them.
    since : str, timedelta or datetime, optional
        Keep only events at or after this time (``"24h"``, ``"5min"`` as in the UI);
        passed to the UI as its ``since`` filter.
    sort : bool
        Sort the rows by ``time`` (stable; ties keep source order).
    warn : bool
        Issue a :class:`BadRecordsWarning` with the report's summary when records were
        rejected.
    **options
        For UI sources: ``priority``, ``rule``, ``source``, ``hostname``, ``tags``,
        ``filter``, ``max_events`` (filters) and ``auth``, ``timeout``, ``retries``,
        ``backoff``, ``page_size``, ``progress`` (client settings).

    Returns
    -------
    pandas.DataFrame
        One row per alert (see :mod:`falco_lab.events.schema`); the
        :class:`~falco_lab.events.load_diagnostics.LoadReport` is in ``df.attrs["load_report"]``
        (also ``falco_lab.events.load_diagnostics(df)``).

    Raises
    ------
    LoadError
        A source cannot be read (missing file, unreachable UI ...), or ``strict`` and a
        record is bad.
    """
    unknown = set(options) - set(_UI_OPTIONS) - set(_CLIENT_OPTIONS)
    if unknown:
        raise TypeError(f"load_events() got unexpected option(s): {', '.join(sorted(unknown))}")
    chunks: list[Chunk] = []
    for source in sources:
        chunks.extend(_read_source(source, max_line_bytes=max_line_bytes, since=since, options=options))
    frame = frame_from_chunks(chunks, since=since, sort=sort)
    report = frame.attrs[ATTRS_KEY]
    if report.problems:
        if strict:
            raise LoadError(report.summary(), report)
        if warn:
            warnings.warn(report.summary(), BadRecordsWarning, stacklevel=2)
    return frame


def frame_from_alerts(
    alerts: Iterable[Any], *, source: str = "<alerts>", strict: bool = True, sort: bool = False
) -> pd.DataFrame:
    """Falco alerts already decoded (dicts, e.g. from the rules engine) -> canonical frame.

    The same checks and typing as every loader (so ``proc.pid`` is ``Int64`` here too).

    Parameters
    ----------
    alerts : iterable of dict
        Falco JSON alerts (falcosidekick payloads with ``event`` are unwrapped).
    source : str
        Name used in the load report.
    strict : bool
        Raise :class:`~falco_lab.events.load_diagnostics.LoadError` if an alert is invalid
        (default); otherwise keep the good ones and list the bad ones in the report.
    sort : bool
        Sort by ``time`` (default: keep the given order).
    """
    chunk = read_webhook(list(alerts), source)
    chunk.problems = [
        Problem(p.file, p.line, p.reason.replace("payload", "alert", 1)) for p in chunk.problems
    ]
    frame = frame_from_chunks([chunk], sort=sort)
    if strict and chunk.problems:
        report = frame.attrs[ATTRS_KEY]
        raise LoadError(report.summary(), report)
    return frame


def frame_from_chunks(
    chunks: Iterable[Chunk], *, since: Since | None = None, sort: bool = True
) -> pd.DataFrame:
    """Concatenate per-source chunks, filter by ``since``, sort, and attach the report."""
    chunks = list(chunks)
    frame = concat_frames([c.frame for c in chunks])
    if since is not None and len(frame):
        frame = frame.loc[frame["time"] >= since_cutoff(since)].reset_index(drop=True)
    if sort and len(frame) and not frame["time"].is_monotonic_increasing:
        frame = frame.sort_values("time", kind="stable", ignore_index=True)
    report = LoadReport(
        sources=tuple(c.source for c in chunks),
        events=len(frame),
        problems=tuple(p for c in chunks for p in c.problems),
        skipped=sum(c.skipped for c in chunks),
    )
    frame = post_load(frame, report, chunks)  # falco_lab.events.sanity: time units, duplicates
    return frame


def _read_source(source: Any, *, max_line_bytes: int, since: Since | None, options: dict) -> list[Chunk]:
    if isinstance(source, str) and source == "-":
        return [_read_bytes(sys.stdin.buffer.read(), "<stdin>", max_line_bytes)]
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        return [_read_ui(source, since, options)]
    if isinstance(source, (str, os.PathLike)):
        return _read_path(Path(source), max_line_bytes)
    if isinstance(source, (dict, list)):
        return [read_webhook(source)]
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "<stream>"))
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8", errors="surrogateescape")
        return [_read_bytes(data, name, max_line_bytes)]
    raise TypeError(f"cannot load events from a {type(source).__name__}")


def _read_ui(url: str, since: Since | None, options: dict) -> Chunk:
    from falco_lab.events.sidekick_ui import SidekickUIClient, SidekickUIError

    client_options = {k: options[k] for k in _CLIENT_OPTIONS if k in options}
    filters = {k: options[k] for k in _UI_OPTIONS if k in options}
    try:
        client = SidekickUIClient(url, **client_options)
        return client.load(since=since, **filters)
    except SidekickUIError as exc:
        raise LoadError(str(exc)) from None


def event_files(directory: Path) -> list[Path]:
    """The event files under ``directory`` (recursively, hidden ones excluded), sorted.

    Parquet files (a ``falco-lab archive`` dataset, Security Lake OCSF files) are included;
    JSON lines of OCSF records (with ``raw_data``) are read from their ``raw_data``.
    """
    found = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        name = path.name[:-3] if path.name.endswith(".gz") else path.name
        if name.endswith(EVENT_FILE_SUFFIXES) or path.name.lower().endswith(PARQUET_SUFFIXES):
            found.append(path)
    return found


def _read_path(path: Path, max_line_bytes: int) -> list[Chunk]:
    if path.is_dir():
        return [_read_file(p, max_line_bytes) for p in event_files(path)]
    return [_read_file(path, max_line_bytes)]


def _read_file(path: Path, max_line_bytes: int) -> Chunk:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return _read_archive(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < MMAP_MIN_BYTES or handle.read(2) == GZIP_MAGIC:
                handle.seek(0)
                return _read_bytes(handle.read(), str(path), max_line_bytes)
            # Large plain files are mapped, not copied: the fast path scans and parses in place.
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise LoadError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return _read_bytes(mapped, str(path), max_line_bytes)
    finally:
        try:
            mapped.close()
        except BufferError:
            pass  # a view is still referenced (e.g. by a traceback); the map goes with it


def _read_archive(path: Path) -> Chunk:
    """A Parquet file: an archive (the records its own load rejected stay in the report) or OCSF."""
    from falco_lab.events.archive import read_parquet_chunk

    return read_parquet_chunk(path)


def _read_bytes(data: Buffer, name: str, max_line_bytes: int) -> Chunk:
    try:
        data = decompress_if_gzip(data)
    except (OSError, EOFError) as exc:
        return Chunk(name, concat_frames([]), [Problem(name, None, f"corrupt gzip data: {exc}")])
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        # A JSON array of alerts or payloads (e.g. an export), on one line or many.
        document = _whole_document(data)
        if isinstance(document, list) and document and all(isinstance(d, dict) for d in document):
            return read_webhook(document, name)
    if head.startswith(b"{") and _is_ocsf(data):
        from falco_lab.events.archive import read_ocsf_json_lines

        return read_ocsf_json_lines(bytes(data), name)
    chunk = read_jsonl_bytes(data, name, max_line_bytes=max_line_bytes)
    if len(chunk.frame) == 0 and len(chunk.problems) > 1 and head.startswith(b"{"):
        # Every line bad: maybe one pretty-printed alert or payload spread over many lines.
        document = _whole_document(data)
        if isinstance(document, dict):
            return read_webhook(document, name)
    return chunk


def _is_ocsf(data: Buffer) -> bool:
    """Whether the first line is an OCSF record (JSON lines of ``falco-lab events export --format ocsf``)."""
    end = data.find(b"\n", 0, DEFAULT_MAX_LINE_BYTES)
    first = bytes(data[: end if end >= 0 else DEFAULT_MAX_LINE_BYTES])
    if b'"class_uid"' not in first or b'"raw_data"' not in first:
        return False
    from falco_lab.events.archive import is_ocsf_json_line

    return is_ocsf_json_line(first)


def _whole_document(data: Buffer) -> Any:
    try:
        return orjson.loads(bytes(data) if isinstance(data, mmap.mmap) else data)
    except orjson.JSONDecodeError:
        return None


__all__ = [
    "BadRecordsWarning",
    "EVENT_FILE_SUFFIXES",
    "event_files",
    "frame_from_alerts",
    "frame_from_chunks",
    "load_events",
]
