"""Large JSON-lines inputs streamed to Parquet, block by block, so no step holds them all.

``falco-lab report`` on more JSON lines than fit in memory (1M alerts with long command
lines are 4.5 GB of text; in pandas they need three times that) does not load them:
:func:`spill_jsonl` reads each file in blocks of about ``block_bytes`` cut at line breaks,
parses every block with the loader's own parser
(:func:`~falco_lab.events.jsonl.read_jsonl_bytes`: bad lines reported with their line
number in the file, exact nanosecond times, typed output fields), applies the loader's
post-load checks (:func:`~falco_lab.events.sanity.post_load`: implausible times converted
or rejected, duplicates dropped) and writes the block's alerts as one Parquet file of the
canonical archive format (:func:`~falco_lab.events.parquet.frame_to_table`), which the
out-of-core report (:func:`falco_lab.analysis.report.archive.open_archive`) then queries
with DuckDB.  Writing a block overlaps with parsing the next one.

What differs from :func:`~falco_lab.events.load_events` (and is said here, not hidden):

* **duplicates** are dropped across blocks too: a ``uuid`` already written, or for alerts
  without ``uuid`` the same 128-bit hash of ``time``, ``rule``, ``output``, ``hostname``
  and every output field (two independent 64-bit hashes; the in-memory loader compares
  the values).  "First" is first in file order, where the in-memory loader keeps the
  first in time order; the two differ only when copies of one ``uuid`` carry different
  times.
* **time units**: whether an implausible time is rejected or kept (when *no* alert has a
  plausible time) is decided per block, not over the whole input.
* rows are not sorted (the out-of-core report sorts in its queries).
"""

from __future__ import annotations

import gzip
import mmap
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from falco_lab.events.jsonl import DEFAULT_MAX_LINE_BYTES, GZIP_MAGIC, read_jsonl_bytes
from falco_lab.events.load import EVENT_FILE_SUFFIXES, event_files, frame_from_chunks
from falco_lab.events.load_diagnostics import ATTRS_KEY, LoadError, LoadReport
from falco_lab.events.parquet import frame_to_table

__all__ = ["DEFAULT_BLOCK_BYTES", "SpillResult", "jsonl_inputs", "spill_jsonl"]

#: Bytes of JSON lines parsed at once (cut at a line break): ~100k long alerts.
DEFAULT_BLOCK_BYTES = 256 << 20
#: Smallest ``block_bytes`` accepted (tests use small blocks; real inputs the default).
MIN_BLOCK_BYTES = 1024
#: The two keys of the 128-bit duplicate hash (``pandas.util.hash_pandas_object``).
_HASH_KEYS = ("falco-lab-dup-k1", "falco-lab-dup-k2")
_UINT64 = np.uint64


@dataclass(frozen=True)
class SpillResult:
    """What :func:`spill_jsonl` wrote: the Parquet files, and the load report of the whole input."""

    files: tuple[Path, ...]
    report: LoadReport
    bytes_read: int


def jsonl_inputs(paths: Sequence[str | Path]) -> list[Path] | None:
    """The JSON-lines files ``paths`` name (directories expanded), or ``None`` if any input is not one.

    A file counts as JSON lines when its name ends in one of
    :data:`~falco_lab.events.load.EVENT_FILE_SUFFIXES` (``.gz`` too) and its first
    non-blank byte is ``{`` (a JSON array, an OCSF export or a Parquet file is not).
    """
    files: list[Path] = []
    for raw in paths:
        if not isinstance(raw, str | Path) or str(raw) == "-" or str(raw).startswith(("http://", "https://")):
            return None
        path = Path(raw)
        found = event_files(path) if path.is_dir() else [path]
        for file in found:
            name = file.name[:-3] if file.name.endswith(".gz") else file.name
            if not file.is_file() or not name.endswith(EVENT_FILE_SUFFIXES) or not _starts_json_lines(file):
                return None
            files.append(file)
    return files or None


def _starts_json_lines(path: Path) -> bool:
    try:
        with _open(path) as handle:
            head = handle.read(64 << 10).lstrip(b"\xef\xbb\xbf \t\r\n")
    except (OSError, EOFError):
        return False
    return head.startswith(b"{") and not (b'"class_uid"' in head and b'"raw_data"' in head.split(b"\n", 1)[0])


def _open(path: Path) -> IO[bytes]:
    handle = path.open("rb")
    if handle.read(2) == GZIP_MAGIC:
        handle.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    handle.seek(0)
    return handle


def _blocks(path: Path, block_bytes: int) -> Iterator[tuple[int, bytes]]:
    """``(first line number, bytes)`` of ``path`` in blocks of whole lines (the last may lack its newline)."""
    with path.open("rb") as handle:
        gzipped = handle.read(2) == GZIP_MAGIC
        size = os.fstat(handle.fileno()).st_size
        if not gzipped and size:
            yield from _plain_blocks(handle, size, block_bytes)
            return
    yield from _stream_blocks(path, block_bytes)


def _plain_blocks(handle: IO[bytes], size: int, block_bytes: int) -> Iterator[tuple[int, bytes]]:
    """Blocks of an uncompressed file: each cut found in a map, then read once (no carry copied)."""
    fd = handle.fileno()
    with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
        line, start = 1, 0
        while start < size:
            end = size if size - start <= block_bytes else mapped.rfind(b"\n", start, start + block_bytes) + 1
            if (
                end <= start
            ):  # one line longer than a block: up to its end (the parser rejects it if over-long)
                found = mapped.find(b"\n", start + block_bytes)
                end = size if found < 0 else found + 1
            block = os.pread(fd, end - start, start)
            yield line, block
            line += block.count(b"\n")
            start = end


def _stream_blocks(path: Path, block_bytes: int) -> Iterator[tuple[int, bytes]]:
    """Blocks of a gzip file, decompressed as they are read."""
    line = 1
    carry = b""
    with _open(path) as handle:
        while True:
            data = handle.read(block_bytes)
            if not data:
                break
            data = carry + data if carry else data
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data  # one line longer than a block: read on (the parser rejects it if over-long)
                continue
            block, carry = data[: cut + 1], data[cut + 1 :]
            yield line, block
            line += block.count(b"\n")
    if carry.strip():
        yield line, carry


class _Seen:
    """Alerts already written: their ``uuid``, or the 128-bit hash of the rest for alerts without one."""

    def __init__(self) -> None:
        self.uuids: set[str] = set()
        self.hashes: set[tuple[int, int]] = set()

    def repeated(self, frame: pd.DataFrame) -> np.ndarray:
        """Mask of the rows of ``frame`` seen in an earlier block; remembers the others."""
        dup = np.zeros(len(frame), dtype=bool)
        if not len(frame):
            return dup
        uuid = (
            frame["uuid"] if "uuid" in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")
        )
        has = uuid.notna().to_numpy(dtype=bool)
        if has.any():
            values = uuid[has].astype(str).tolist()
            dup[has] = [v in self.uuids for v in values]
            self.uuids.update(values)
        if (~has).any():
            keys = list(zip(*(_row_hash(frame.loc[~has], k).tolist() for k in _HASH_KEYS), strict=True))
            dup[~has] = [k in self.hashes for k in keys]
            self.hashes.update(keys)
        return dup


def _row_hash(frame: pd.DataFrame, key: str) -> np.ndarray:
    """A 64-bit hash per row over every non-null column but ``tags``/``uuid``, independent of column order.

    Columns absent from a block and null values contribute nothing, so the same alert
    hashes the same in blocks with different column sets.
    """
    total = np.zeros(len(frame), dtype=_UINT64)
    for name in frame.columns:
        if name in ("tags", "uuid") or str(name).startswith("_"):
            continue
        column = frame[name]
        present = column.notna().to_numpy(dtype=bool)
        if not present.any():
            continue
        if isinstance(column.dtype, pd.DatetimeTZDtype) or column.dtype.kind == "M":
            stamps = column.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(_UINT64)
            values: np.ndarray = pd.util.hash_array(stamps, hash_key=key[:16])
        else:
            text = column.astype("string").fillna("")
            values = pd.util.hash_pandas_object(text, index=False, hash_key=key[:16]).to_numpy(dtype=_UINT64)
        salt = pd.util.hash_array(np.array([name], dtype=object), hash_key=key[:16])[0]
        mixed = (values ^ salt) * _UINT64(0x9E3779B97F4A7C15)
        total += np.where(present, mixed, _UINT64(0))
    return total


def spill_jsonl(
    paths: Sequence[Path],
    out: str | Path,
    *,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    compression: str = "zstd",
    keep_duplicates: bool = False,
) -> SpillResult:
    """Stream the JSON-lines ``paths`` into Parquet files under ``out``, a block at a time.

    Parameters
    ----------
    paths:
        JSON-lines files (plain or gzip; see :func:`jsonl_inputs`), read in this order.
    out:
        Directory for the files (``part-NNNNN.parquet``); created if missing.
    block_bytes:
        About this many bytes are parsed at once; memory stays a few times this.
    keep_duplicates:
        Keep repeated alerts (as ``falco-lab report --keep-duplicates``).

    Returns
    -------
    SpillResult
        The files written and the :class:`LoadReport` of the whole input (problems with
        their file and line, warnings, the duplicate count); ``report.sources`` are ``paths``.

    Raises
    ------
    LoadError
        A file cannot be read (the message names it).
    """
    from falco_lab.events.sanity import keeping_duplicates

    if block_bytes < MIN_BLOCK_BYTES:
        raise ValueError(f"block_bytes must be at least {MIN_BLOCK_BYTES}, got {block_bytes}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seen = _Seen()
    report = LoadReport()
    files: list[Path] = []
    pending: Future[None] | None = None
    total = 0
    with ThreadPoolExecutor(1) as writer:
        for path in paths:
            for first_line, data in _blocks_checked(path, block_bytes):
                total += len(data)
                chunk = read_jsonl_bytes(
                    data, str(path), max_line_bytes=max_line_bytes, first_line=first_line
                )
                del data
                if keep_duplicates:
                    with keeping_duplicates():
                        frame = frame_from_chunks([chunk], sort=False)
                else:
                    frame = frame_from_chunks([chunk], sort=False)
                block_report: LoadReport = frame.attrs[ATTRS_KEY]
                if not keep_duplicates and len(frame):
                    dup = seen.repeated(frame)
                    if dup.any():
                        frame = frame.loc[~dup].reset_index(drop=True)
                        block_report = replace(
                            block_report,
                            events=len(frame),
                            duplicates=block_report.duplicates + int(dup.sum()),
                        )
                report = _merge(report, block_report)
                if len(frame):
                    frame.attrs[ATTRS_KEY] = replace(block_report, problems=())
                    target = out / f"part-{len(files):05d}.parquet"
                    table = frame_to_table(frame)
                    del frame
                    if pending is not None:
                        pending.result()
                    pending = writer.submit(pq.write_table, table, target, compression=compression)
                    files.append(target)
        if pending is not None:
            pending.result()
    report = replace(report, sources=tuple(map(str, paths)))
    return SpillResult(tuple(files), report, total)


def _blocks_checked(path: Path, block_bytes: int) -> Iterator[tuple[int, bytes]]:
    """:func:`_blocks`, with read errors as a :class:`LoadError` naming the file."""
    try:
        yield from _blocks(path, block_bytes)
    except (OSError, EOFError) as exc:
        raise LoadError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None


def _merge(report: LoadReport, block: LoadReport) -> LoadReport:
    merged = report.merged(block)
    return replace(merged, sources=report.sources)


def input_bytes(paths: Sequence[Path]) -> int:
    """Bytes the files take on disk (compressed size for ``.gz``)."""
    return sum(os.path.getsize(p) for p in paths)
