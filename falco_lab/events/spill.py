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

import contextlib
import gzip
import mmap
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from falco_lab.events.jsonl import DEFAULT_MAX_LINE_BYTES, GZIP_MAGIC, read_jsonl_bytes
from falco_lab.events.load import EVENT_FILE_SUFFIXES, event_files, frame_from_chunks
from falco_lab.events.load_diagnostics import ATTRS_KEY, LoadError, LoadReport
from falco_lab.events.parquet import frame_to_table

__all__ = ["DEFAULT_BLOCK_BYTES", "SpillResult", "jsonl_inputs", "spill_jsonl"]

#: Bytes of JSON lines parsed at once (cut at a line break): ~100k long alerts.
DEFAULT_BLOCK_BYTES = 256 << 20
#: Bytes per block when workers parse blocks in parallel (each holds a few times this).
PARALLEL_BLOCK_BYTES = 128 << 20
#: At most this many worker processes.
MAX_WORKERS = 4
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
    """``path`` for reading, decompressed when it is gzip."""
    return gzip.open(path, "rb") if _gzipped(path) else path.open("rb")  # type: ignore[return-value]


def _gzipped(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _blocks(path: Path, block_bytes: int) -> Iterator[tuple[int, bytes]]:
    """``(first line number, bytes)`` of ``path`` in blocks of whole lines (the last may lack its newline).

    An uncompressed file is cut where :func:`_plain_cuts` says (the cuts the worker
    processes get too) and each block read once; a gzip file is decompressed as it is read.
    """
    if _gzipped(path):
        yield from _stream_blocks(path, block_bytes)
        return
    line = 1
    with path.open("rb") as handle:
        for start, end in _plain_cuts(path, block_bytes):
            block = os.pread(handle.fileno(), end - start, start)
            yield line, block
            line += block.count(b"\n")


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


@dataclass(frozen=True)
class _Keys:
    """What decides whether a block's alerts were seen before: per row its ``uuid`` (or ``None``),
    and for the rows without one, in order, the 128-bit hash of the rest."""

    uuids: list[str | None]
    hashes: list[tuple[int, int]]


def _block_keys(frame: pd.DataFrame) -> _Keys:
    if "uuid" not in frame.columns:
        uuids: list[str | None] = [None] * len(frame)
    else:
        uuids = [None if v is None or v is pd.NA else str(v) for v in frame["uuid"].astype(object).tolist()]
    missing = np.fromiter((u is None for u in uuids), dtype=bool, count=len(uuids))
    hashes: list[tuple[int, int]] = []
    if missing.any():
        rest = frame.loc[missing]
        hashes = list(zip(*(_row_hash(rest, k).tolist() for k in _HASH_KEYS), strict=True))
    return _Keys(uuids, hashes)


class _Seen:
    """Alerts already written: their ``uuid``, or the 128-bit hash of the rest for alerts without one."""

    def __init__(self) -> None:
        self.uuids: set[str] = set()
        self.hashes: set[tuple[int, int]] = set()

    def repeated(self, keys: _Keys) -> np.ndarray:
        """Mask of the rows whose keys were seen in an earlier block; remembers the others."""
        dup = np.zeros(len(keys.uuids), dtype=bool)
        hashes = iter(keys.hashes)
        for i, uuid in enumerate(keys.uuids):
            if uuid is not None:
                dup[i] = uuid in self.uuids
                self.uuids.add(uuid)
            else:
                key = next(hashes)
                dup[i] = key in self.hashes
                self.hashes.add(key)
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
    block_bytes: int | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    compression: str = "zstd",
    keep_duplicates: bool = False,
    workers: int | None = None,
) -> SpillResult:
    """Stream the JSON-lines ``paths`` into Parquet files under ``out``, a block at a time.

    Parameters
    ----------
    paths:
        JSON-lines files (plain or gzip; see :func:`jsonl_inputs`), read in this order.
    out:
        Directory for the files (``part-NNNNN.parquet``, in input order); created if missing.
    block_bytes:
        About this many bytes are parsed at once (default :data:`DEFAULT_BLOCK_BYTES`, or
        :data:`PARALLEL_BLOCK_BYTES` per worker); memory stays a few times this per worker.
    keep_duplicates:
        Keep repeated alerts (as ``falco-lab report --keep-duplicates``).
    workers:
        Processes parsing blocks at once (default: one per CPU, at most
        :data:`MAX_WORKERS`, when every file is uncompressed and there are several blocks;
        else 1, in this process).  Whichever it is, the result is the same: duplicates are
        decided in block order by this process.

    Returns
    -------
    SpillResult
        The files written and the :class:`LoadReport` of the whole input (problems with
        their file and line, warnings, the duplicate count); ``report.sources`` are ``paths``.

    Raises
    ------
    LoadError
        A file cannot be read, or a worker failed (the message names the file).
    """
    out = Path(out)
    plain = all(not _gzipped(p) for p in paths)
    total = input_bytes(paths)
    if workers is None:
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if plain else 1
    size = block_bytes or (PARALLEL_BLOCK_BYTES if workers > 1 else DEFAULT_BLOCK_BYTES)
    if size < MIN_BLOCK_BYTES:
        raise ValueError(f"block_bytes must be at least {MIN_BLOCK_BYTES}, got {size}")
    out.mkdir(parents=True, exist_ok=True)
    settings = _Settings(max_line_bytes, compression, keep_duplicates)
    if workers > 1 and plain and total > 2 * size:
        result = _spill_parallel(paths, out, size, settings, workers)
    else:
        result = _spill_here(paths, out, size, settings)
    return replace(result, report=replace(result.report, sources=tuple(map(str, paths))))


@dataclass(frozen=True)
class _Settings:
    max_line_bytes: int
    compression: str
    keep_duplicates: bool


def _parse_block(data: bytes, source: str, first_line: int, settings: _Settings) -> pd.DataFrame:
    """One block through the loader: parsed, times checked, duplicates inside it dropped."""
    from falco_lab.events.sanity import keeping_duplicates

    chunk = read_jsonl_bytes(data, source, max_line_bytes=settings.max_line_bytes, first_line=first_line)
    with keeping_duplicates() if settings.keep_duplicates else contextlib.nullcontext():
        return frame_from_chunks([chunk], sort=False)


def _drop(frame: pd.DataFrame, dup: np.ndarray | None) -> tuple[pd.DataFrame, LoadReport]:
    """``frame`` without the rows ``dup`` marks, and its load report counting them."""
    report: LoadReport = frame.attrs[ATTRS_KEY]
    if dup is not None and dup.any():
        frame = frame.loc[~dup].reset_index(drop=True)
        report = replace(report, events=len(frame), duplicates=report.duplicates + int(dup.sum()))
    return frame, report


def _table(frame: pd.DataFrame, report: LoadReport) -> pa.Table:
    frame.attrs[ATTRS_KEY] = replace(report, problems=())  # the problems are in the spill's report
    return frame_to_table(frame)


def _spill_here(paths: Sequence[Path], out: Path, size: int, settings: _Settings) -> SpillResult:
    """Blocks parsed in this process, one after the other; writing one overlaps parsing the next."""
    seen = _Seen()
    report = LoadReport()
    files: list[Path] = []
    pending: Future[None] | None = None
    total = 0
    with ThreadPoolExecutor(1) as writer:
        for path in paths:
            for first_line, data in _blocks_checked(path, size):
                total += len(data)
                frame = _parse_block(data, str(path), first_line, settings)
                del data
                dup = None if settings.keep_duplicates else seen.repeated(_block_keys(frame))
                frame, block_report = _drop(frame, dup)
                report = _merge(report, block_report)
                if len(frame):
                    target = out / f"part-{len(files):05d}.parquet"
                    table = _table(frame, block_report)
                    del frame
                    if pending is not None:
                        pending.result()
                    pending = writer.submit(pq.write_table, table, target, compression=settings.compression)
                    files.append(target)
        if pending is not None:
            pending.result()
    return SpillResult(tuple(files), report, total)


def _plain_cuts(path: Path, size: int) -> list[tuple[int, int]]:
    """``(start, end)`` of the blocks of an uncompressed file, cut after a line break."""
    cuts = []
    with path.open("rb") as handle:
        length = os.fstat(handle.fileno()).st_size
        if not length:
            return []
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            start = 0
            while start < length:
                end = length if length - start <= size else mapped.rfind(b"\n", start, start + size) + 1
                if end <= start:
                    found = mapped.find(b"\n", start + size)
                    end = length if found < 0 else found + 1
                cuts.append((start, end))
                start = end
    return cuts


def serve(read_fd: int, write_fd: int) -> None:
    """A spill worker (``python -m falco_lab.events.spill_worker R W``): settings, then tasks, over two pipes.

    For each task: parse the block, send its keys, wait for the verdict (which rows were
    seen in earlier blocks), write the rest.  Errors are sent back, never raised here.
    """
    tasks, results = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    settings: _Settings = tasks.recv()
    try:
        while (task := tasks.recv()) is not None:
            index, path, start, end, target = task
            with open(path, "rb") as handle:
                data = os.pread(handle.fileno(), end - start, start)
            lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            frame = _parse_block(data, path, 1, settings)  # line numbers shifted by the parent
            del data
            keys = None if settings.keep_duplicates else _block_keys(frame)
            results.send(("keys", index, lines, keys))
            frame, report = _drop(frame, tasks.recv())
            if len(frame):
                pq.write_table(_table(frame, report), target, compression=settings.compression)
            results.send(("done", index, report, bool(len(frame))))
    except EOFError:
        return  # the parent went away
    except Exception as exc:  # the parent raises it as a LoadError naming the files
        results.send(("error", f"{type(exc).__name__}: {exc}"))


@dataclass
class _Worker:
    """A worker process and the two ends of its pipes."""

    process: subprocess.Popen[bytes]
    tasks: Connection
    results: Connection

    @classmethod
    def start(cls, settings: _Settings) -> _Worker:
        to_child, from_parent = os.pipe()
        from_child, to_parent = os.pipe()
        process = subprocess.Popen(
            [sys.executable, "-m", "falco_lab.events.spill_worker", str(to_child), str(to_parent)],
            pass_fds=(to_child, to_parent),
        )
        os.close(to_child)
        os.close(to_parent)
        worker = cls(process, Connection(from_parent, readable=False), Connection(from_child, writable=False))
        worker.tasks.send(settings)
        return worker

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.tasks.send(None)
        self.tasks.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.results.close()


def _spill_parallel(
    paths: Sequence[Path], out: Path, size: int, settings: _Settings, workers: int
) -> SpillResult:
    """Blocks parsed by ``workers`` processes; duplicates decided here, in block order."""
    tasks: list[tuple[Path, int, int]] = []
    for path in paths:
        try:
            cuts = _plain_cuts(path, size)
        except OSError as exc:
            raise LoadError(f"{path}: cannot read: {exc.strerror or exc}") from None
        tasks.extend((path, start, end) for start, end in cuts)
    seen = _Seen()
    keys: dict[int, tuple[int, _Keys | None]] = {}
    lines: dict[int, int] = {}
    reports: dict[int, LoadReport] = {}
    written: dict[int, bool] = {}
    owner: dict[int, _Worker] = {}
    queue = iter(enumerate(tasks))
    verdict = 0
    pool: list[_Worker] = []
    try:
        for _ in range(min(workers, len(tasks))):
            pool.append(_Worker.start(settings))
            _give(pool[-1], queue, out, owner)
        busy = {id(w.results): w for w in pool}
        while busy:
            for ready in wait([w.results for w in busy.values()]):
                worker = busy[id(ready)]
                try:
                    message: tuple[Any, ...] = worker.results.recv()
                except (EOFError, OSError):
                    code = worker.process.poll()
                    raise LoadError(
                        f"{', '.join(map(str, paths))}: a spill worker ended unexpectedly (exit code {code}; "
                        "out of memory? try a smaller block or --in-memory)"
                    ) from None
                if message[0] == "error":
                    raise LoadError(f"{', '.join(map(str, paths))}: {message[1]}")
                if message[0] == "keys":
                    _, index, count, block_keys = message
                    keys[index] = (count, block_keys)
                    while verdict in keys:
                        count, decided = keys.pop(verdict)
                        owner[verdict].tasks.send(None if decided is None else seen.repeated(decided))
                        lines[verdict] = count
                        verdict += 1
                else:
                    _, index, report, has_rows = message
                    reports[index] = report
                    written[index] = has_rows
                    if not _give(worker, queue, out, owner):
                        del busy[id(ready)]
    finally:
        for worker in pool:
            worker.stop()
    report = LoadReport()
    offset, previous = 0, None
    for index, (path, _start, _end) in enumerate(tasks):
        offset = 0 if path != previous else offset
        previous = path
        block = reports[index]
        shifted = tuple(replace(p, line=p.line + offset) if p.line is not None else p for p in block.problems)
        report = _merge(report, replace(block, problems=shifted))
        offset += lines[index]
    files = tuple(_target(out, i) for i in range(len(tasks)) if written[i])
    return SpillResult(files, report, sum(end - start for _, start, end in tasks))


def _target(out: Path, index: int) -> Path:
    return out / f"part-{index:05d}.parquet"


def _give(
    worker: _Worker, queue: Iterator[tuple[int, tuple[Path, int, int]]], out: Path, owner: dict[int, _Worker]
) -> bool:
    """Send the next task to ``worker``; ``False`` when there is none left."""
    task = next(queue, None)
    if task is None:
        return False
    index, (path, start, end) = task
    owner[index] = worker
    worker.tasks.send((index, str(path), start, end, str(_target(out, index))))
    return True


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
