"""Falco JSON lines (``json_output: true``) -> canonical frame, fast and without losing data.

Fast path (clean input): the input is cut at line breaks into parts
(``PARTS_PER_WORKER`` per worker thread, one thread per CPU, at most 4); on a worker each
part is scanned with numpy (every line must start with ``{``; line count; ASCII or not)
and read by single-threaded ``pyarrow.json`` with an explicit schema for the top-level
keys (``time`` parsed to ``timestamp[ns, UTC]`` by Arrow) and for the scalar output
fields typed in a head and a tail sample; fields the samples do not type (late fields,
fields ``null`` in both samples) are inferred, and the parts' tables are merged with
permissive type promotion (each part's ``output_fields`` struct rebuilt from its own
children, so no value is copied), so the null-then-int and late-field traps cannot lose
values.  A memory-mapped file's pages are given back once their part is parsed, so the
file does not stay resident beside the table.  The result is only accepted if Arrow
returned one row per line and every row passes the checks of
:func:`falco_lab.events.validate.check_alert` (vectorised in Arrow compute).  Each
part's tags are decoded on its worker while the other parts are parsed; the columns are
then converted to pandas on one thread per CPU, each Arrow column dropped once converted
(:func:`falco_lab.events.frame.columns_to_frame`).

Careful path (anything else): the lines are bisected; halves that pass the fast path
are kept as they are, and parts of at most ``_LINE_BY_LINE_MAX`` lines are decoded line
by line with ``orjson`` and checked, so every good record is kept and every bad one is
reported with its line number and the reason.

Blank lines are skipped (counted in ``LoadReport.skipped``, not as problems).  A line
longer than ``max_line_bytes`` (newline excluded) is rejected without being parsed.
Top-level keys other than the canonical ones (e.g. Falco's optional ``message``, which
repeats ``output`` without its prefix) are not kept.
"""

from __future__ import annotations

import gzip
import mmap
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from falco_lab.events.frame import columns_to_frame, concat_frames, priority_categorical, tags_lists
from falco_lab.events.load_diagnostics import Problem
from falco_lab.events.schema import empty_frame
from falco_lab.events.validate import alerts_to_frame

#: Default limit for one line.  Real alerts are a few KiB (falcosidekick truncates long
#: fields); the limit also sets Arrow's block size (half of it).
DEFAULT_MAX_LINE_BYTES = 8 << 20
#: Smallest accepted ``max_line_bytes``.
MIN_MAX_LINE_BYTES = 1024

_TOP_LEVEL = pa.schema(
    [
        ("time", pa.timestamp("ns", tz="UTC")),
        ("rule", pa.large_string()),
        ("priority", pa.string()),
        ("source", pa.large_string()),
        ("hostname", pa.large_string()),
        ("output", pa.large_string()),
        ("uuid", pa.large_string()),
        ("tags", pa.list_(pa.string())),
    ]
)
_SAMPLE_BYTES = 1 << 20
_SAMPLED_TYPES = (pa.int64(), pa.float64(), pa.bool_(), pa.string())
#: Parts of at most this many lines are checked line by line instead of being split again.
_LINE_BY_LINE_MAX = 256
_WHITESPACE = b" \t\r\n"
GZIP_MAGIC = b"\x1f\x8b"
#: Parallel parts of a large input, each parsed by single-threaded Arrow on its own
#: thread (``None``: one per CPU, at most 4).  Arrow's own block threads were measured
#: at ~1.5x the CPU time on 2 cores; independent parts cost ~1.1x and scale the same.
PARALLEL_PARTS: int | None = None
#: Threads converting the parsed columns to pandas (``None``: one per CPU, at most 4;
#: see :func:`falco_lab.events.frame.columns_to_frame`).
CONVERSION_THREADS: int | None = None
#: Fewer rows are converted on the calling thread (a pool costs more than it saves).
_MIN_THREADED_ROWS = 16_384
#: Inputs smaller than this per part are parsed in one piece.
_MIN_PART_BYTES = 8 << 20
#: Parts per worker thread of a large input (see :func:`_parts`).
PARTS_PER_WORKER = 4
_SCAN_BYTES = 1 << 20
_NEWLINE, _OPEN_BRACE = ord("\n"), ord("{")
#: Anything ``read_jsonl_bytes`` reads from: ``bytes`` or a read-only memory map.
Buffer = bytes | mmap.mmap


@dataclass
class Chunk:
    """What one source gave: the frame of good records, its problems and skipped lines."""

    source: str
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0


def decompress_if_gzip(data: Buffer) -> Buffer:
    """Return ``data`` gunzipped when it starts with the gzip magic bytes."""
    return gzip.decompress(data) if data[:2] == GZIP_MAGIC else data


def read_jsonl_bytes(
    data: Buffer,
    source: str,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    first_line: int = 1,
) -> Chunk:
    """Parse Falco JSON lines held in memory.

    Parameters
    ----------
    data : bytes or mmap.mmap
        The lines (UTF-8, ``\\n`` or ``\\r\\n`` separated; gzip is not handled here).
    source : str
        Name used in problems (a path, ``<stdin>`` ...).
    max_line_bytes : int
        Longer lines are rejected as "absurdly long" without being parsed.
    first_line : int
        Line number of the first line of ``data`` in ``source``.
    """
    if max_line_bytes < MIN_MAX_LINE_BYTES:
        raise ValueError(f"max_line_bytes must be at least {MIN_MAX_LINE_BYTES}, got {max_line_bytes}")
    if data[:3] == b"\xef\xbb\xbf":
        data = bytes(data[3:])
    end = _content_end(data)
    if end == 0:
        return Chunk(source, empty_frame(), skipped=_count_lines(data))
    tail = data[end:].split(b"\n")
    trailing_blank = max(0, len(tail) - 1 - (1 if tail[-1] == b"" else 0))
    view = memoryview(data)[:end]
    frame = fast_frame(data, end, max_line_bytes)
    if frame is not None:
        return Chunk(source, frame, skipped=trailing_blank)
    chunk = _careful(bytes(view), source, max_line_bytes, first_line)
    chunk.skipped += trailing_blank
    return chunk


def _content_end(data: Buffer) -> int:
    """Length of ``data`` without its trailing whitespace."""
    end = len(data)
    while end and data[end - 1] in _WHITESPACE:
        end -= 1
    return end


def _count_lines(data: Buffer) -> int:
    text = bytes(data)
    if not text:
        return 0
    return text.count(b"\n") + (0 if text.endswith(b"\n") else 1)


def scan_lines(data: Buffer, end: int, start: int = 0) -> tuple[int, bool] | None:
    """Scan ``data[start:end]``: ``(lines, ascii_only)`` if every line starts with ``{``, else ``None``.

    Works on ``bytes`` and on memory maps, one MiB at a time with numpy (cache-friendly,
    no copy of the input).  ``ascii_only`` spares the UTF-8 validation of the strings.
    """
    if end <= start or data[start : start + 1] != b"{":
        return None
    array = np.frombuffer(data, dtype=np.uint8, count=end)
    lines = 1
    ascii_only = True
    for offset in range(start, end, _SCAN_BYTES):
        block = array[offset : min(offset + _SCAN_BYTES, end)]
        breaks = np.flatnonzero(block == _NEWLINE)
        if len(breaks):
            following = breaks + (offset + 1)
            following = following[following < end]
            if len(following) and not (array[following] == _OPEN_BRACE).all():
                return None
            lines += len(breaks)
        ascii_only = ascii_only and int(block.max()) < 0x80
    return lines, ascii_only


def fast_frame(data: Buffer, end: int, max_line_bytes: int) -> pd.DataFrame | None:
    """The fast path over ``data[:end]``; ``None`` when it cannot prove the input clean."""
    if data[:1] != b"{":
        return None
    # A line longer than 2 * block_size always makes Arrow fail ("straddling object"),
    # so with block_size = max_line_bytes // 2 no over-long line passes this path.
    block = max_line_bytes // 2
    schema = _sampled_schema(data, end, block)
    source = memoryview(data)

    def read_part(bounds: tuple[int, int]) -> tuple[pa.Table, list[list[str]]] | None:
        scanned = scan_lines(data, bounds[1], bounds[0])
        if scanned is None:
            return None  # blank lines, or lines not starting with "{": the careful path decides
        lines, ascii_only = scanned
        part = source[bounds[0] : bounds[1]]
        table = _read(part, block, schema, validate_utf8=not ascii_only)
        if table is None and schema is not _TOP_LEVEL:  # a sampled type did not hold
            table = _read(part, block, _TOP_LEVEL, validate_utf8=not ascii_only)
        _release(data, *bounds)  # Arrow copied what it needs: the part's mapped pages can go
        # Every line starts an object and Arrow returned one row per line: row i is line i.
        if table is None or table.num_rows != lines:
            return None
        # The tags are decoded here (Python, under the GIL) while other parts are parsed;
        # the explicit schema always gives a tags column.
        return table, tags_lists(table.column("tags"))

    parts = _parts(data, end)
    if len(parts) == 1:
        results = [read_part(parts[0])]
    else:
        with ThreadPoolExecutor(min(len(parts), _workers())) as pool:  # numpy and Arrow release the GIL
            results = list(pool.map(read_part, parts))
    parsed = [r for r in results if r is not None]
    del results
    if len(parsed) != len(parts):
        return None
    tables = [table for table, _ in parsed]
    tags = [tag for _, part_tags in parsed for tag in part_tags]
    del parsed
    try:
        if len(tables) > 1:
            table = pa.concat_tables(_with_one_struct_type(tables), promote_options="permissive")
        else:
            table = tables[0]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # a field typed differently in two parts (e.g. int here, text there)
    del tables
    try:
        checked = checked_columns(table)
        if checked is None:
            return None
        columns, priority = checked
        rows = table.num_rows
        del table  # the columns are now held by ``columns`` alone, which the conversion empties
        threads = (CONVERSION_THREADS or _workers()) if rows >= _MIN_THREADED_ROWS else 1
        return columns_to_frame(columns, rows, priority=priority, workers=threads, tags=tags)
    except UnicodeDecodeError:
        return None  # invalid UTF-8 in a key (Arrow validates values, not field names): line by line decides


def _release(data: Buffer, start: int, end: int) -> None:
    """Drop the resident pages of a memory map wholly inside ``[start, end)``.

    The map is read-only and backed by the file, so a later read of those bytes (the
    careful path) faults them in again from the page cache; until then they no longer
    count in the process's memory.
    """
    if not isinstance(data, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
        return
    first = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE
    last = end // mmap.PAGESIZE * mmap.PAGESIZE
    if last > first:
        data.madvise(mmap.MADV_DONTNEED, first, last - first)


def _with_one_struct_type(tables: list[pa.Table]) -> list[pa.Table]:
    """The parts' tables with one ``output_fields`` struct type, built without copying values.

    ``concat_tables`` would cast each part's struct to the unified type, copying every
    field's values (~the file's size for 200k alerts); here each part's struct is rebuilt
    from its own children (a field it lacks is all null; only a field whose type differs
    is cast).  Raises ``ArrowTypeError`` / ``ArrowInvalid`` when a field's types cannot be
    unified (the caller falls back to the careful path).
    """
    kinds = [
        t.schema.field("output_fields").type if "output_fields" in t.column_names else None for t in tables
    ]
    structs = [k for k in kinds if k is not None and pa.types.is_struct(k)]
    if len(structs) != len(tables) or all(k == structs[0] for k in structs):
        return tables
    unified = (
        pa.unify_schemas(
            [pa.schema([pa.field("output_fields", k)]) for k in structs], promote_options="permissive"
        )
        .field("output_fields")
        .type
    )
    rebuilt = []
    for table in tables:
        chunks = []
        for chunk in table.column("output_fields").chunks:
            own = chunk.type
            children = []
            for wanted in unified:
                index = own.get_field_index(wanted.name)
                if index < 0:
                    children.append(pa.nulls(len(chunk), wanted.type))
                    continue
                child = chunk.field(index)
                children.append(child if child.type == wanted.type else child.cast(wanted.type))
            mask = chunk.is_null() if chunk.null_count else None
            chunks.append(pa.StructArray.from_arrays(children, fields=list(unified), mask=mask))
        position = table.column_names.index("output_fields")
        rebuilt.append(table.set_column(position, "output_fields", pa.chunked_array(chunks, unified)))
    return rebuilt


def _workers() -> int:
    """Threads parsing parts at once: one per CPU, at most 4."""
    return min(os.cpu_count() or 1, 4)


def _parts(data: Buffer, end: int) -> list[tuple[int, int]]:
    """Split ``[0, end)`` at line breaks into about equal parts for parallel parsing.

    By default ``PARTS_PER_WORKER`` parts per worker thread, none smaller than
    ``_MIN_PART_BYTES``: a mapped file's pages are released part by part as they are parsed.
    """
    wanted = PARALLEL_PARTS or _workers() * PARTS_PER_WORKER
    wanted = max(1, min(wanted, end // _MIN_PART_BYTES if PARALLEL_PARTS is None else wanted))
    bounds = []
    start = 0
    for k in range(1, wanted):
        cut = data.find(b"\n", max(start, end * k // wanted), end)
        if cut < 0:
            break
        bounds.append((start, cut))
        start = cut + 1
    bounds.append((start, end))
    return bounds


def _read(
    source: memoryview, block: int, schema: pa.Schema, *, validate_utf8: bool = True
) -> pa.Table | None:
    try:
        table = pj.read_json(
            pa.BufferReader(pa.py_buffer(source)),
            read_options=pj.ReadOptions(block_size=block, use_threads=False),
            parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="infer", newlines_in_values=False
            ),
        )
        if validate_utf8:
            table.validate(full=True)  # Arrow's JSON parser lets invalid UTF-8 through
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, UnicodeDecodeError):
        return None
    return table


def _sampled_schema(data: Buffer, end: int, block: int) -> pa.Schema:
    """Top-level schema plus the scalar output fields typed in a head and a tail sample."""
    if end <= 4 * _SAMPLE_BYTES:
        return _TOP_LEVEL
    head_end = data.rfind(b"\n", 0, _SAMPLE_BYTES)
    tail_start = data.find(b"\n", end - _SAMPLE_BYTES, end) + 1
    if head_end <= 0 or tail_start <= 0:
        return _TOP_LEVEL
    fields: dict[str, pa.DataType] = {}
    conflicts: set[str] = set()
    for part in (memoryview(data)[:head_end], memoryview(data)[tail_start:end]):
        table = _read(part, max(block, _SAMPLE_BYTES), _TOP_LEVEL)
        if table is None or "output_fields" not in table.column_names:
            return _TOP_LEVEL
        struct_type = table.schema.field("output_fields").type
        if not pa.types.is_struct(struct_type):
            return _TOP_LEVEL
        for child in struct_type:
            if pa.types.is_null(child.type):
                continue  # null everywhere in this sample: the other sample or inference decides
            if child.type not in _SAMPLED_TYPES:
                conflicts.add(child.name)
                continue
            kind = pa.large_string() if child.type == pa.string() else child.type
            seen = fields.setdefault(child.name, kind)
            if seen != kind:
                if {seen, kind} == {pa.int64(), pa.float64()}:
                    fields[child.name] = pa.float64()
                else:
                    conflicts.add(child.name)
    struct = pa.struct([(name, kind) for name, kind in fields.items() if name not in conflicts])
    return _TOP_LEVEL.append(pa.field("output_fields", struct))


def checked_table_frame(table: pa.Table) -> pd.DataFrame | None:
    """Canonical frame from an Arrow read, or ``None`` if any row breaks a rule."""
    checked = checked_columns(table)
    if checked is None:
        return None
    columns, priority = checked
    return columns_to_frame(columns, table.num_rows, priority=priority)


def checked_columns(table: pa.Table) -> tuple[dict[str, pa.ChunkedArray], pd.Categorical] | None:
    """The columns of an Arrow read (``time`` completed) and the priorities, or ``None`` if any row breaks a rule.

    Every check is vectorised over the whole table (no row is decoded in Python).
    """
    names = table.column_names
    if "rule" not in names or "priority" not in names or table.column("rule").null_count:
        return None
    priority, unknown = priority_categorical(table.column("priority"))
    if unknown.any():
        return None
    if "tags" in names and table.column("tags").num_chunks:
        if pc.list_flatten(table.column("tags")).null_count:
            return None
    fields_type = table.schema.field("output_fields").type if "output_fields" in names else pa.null()
    if not (pa.types.is_struct(fields_type) or pa.types.is_null(fields_type)):
        return None
    time = (
        table.column("time") if "time" in names else pa.nulls(table.num_rows, _TOP_LEVEL.field("time").type)
    )
    if time.null_count:
        if not pa.types.is_struct(fields_type) or fields_type.get_field_index("evt.time") < 0:
            return None
        evt = pc.struct_field(table.column("output_fields"), "evt.time")
        if not pa.types.is_int64(evt.type):
            return None
        # A null output_fields row yields a null evt.time here, so it stays unusable.
        time = pc.coalesce(time, pc.cast(evt, pa.timestamp("ns", tz="UTC")))
        if time.null_count:
            return None
    if pa.types.is_struct(fields_type):
        struct = table.column("output_fields")
        for i, child in enumerate(fields_type):
            if pa.types.is_struct(child.type):
                return None  # Arrow would add the other rows' keys to each object value
            if pa.types.is_floating(child.type):
                top = pc.max(pc.abs(pc.struct_field(struct, [i]))).as_py()
                if top is not None and top >= 2.0**63:
                    return None  # an integer beyond int64 that Arrow turned into a float
    columns = dict(zip(names, table.columns, strict=True))
    columns["time"] = time
    return columns, priority


def _careful(data: bytes, source: str, max_line_bytes: int, first_line: int) -> Chunk:
    """Bisection fallback: halves that read clean go fast; small dirty parts go line by line."""
    lines = data.split(b"\n")
    long_lines = {i for i, line in enumerate(lines) if len(line) > max_line_bytes}
    frames: list[pd.DataFrame] = []
    problems: list[Problem] = []
    skipped = 0
    pending = [(0, len(lines))]  # a stack of [start, stop) ranges, processed in file order
    while pending:
        start, stop = pending.pop()
        part = lines[start:stop]
        if stop - start > _LINE_BY_LINE_MAX:
            if not any(start <= i < stop for i in long_lines):
                joined = b"\n".join(part)
                end = _content_end(joined)
                frame = fast_frame(joined, end, max_line_bytes) if end else None
                if frame is not None and len(frame) == len(part):
                    frames.append(frame)
                    continue
            middle = (start + stop) // 2
            pending.extend([(middle, stop), (start, middle)])
            continue
        frame, part_problems, part_skipped = _line_by_line(part, source, first_line + start, max_line_bytes)
        frames.append(frame)
        problems.extend(part_problems)
        skipped += part_skipped
    return Chunk(source, concat_frames(frames), problems, skipped)


def _line_by_line(
    lines: list[bytes], source: str, first_line: int, max_line_bytes: int
) -> tuple[pd.DataFrame, list[Problem], int]:
    alerts: list[object] = []
    numbers: list[int] = []
    problems: list[Problem] = []
    skipped = 0
    for offset, line in enumerate(lines):
        number = first_line + offset
        if len(line) > max_line_bytes:
            problems.append(
                Problem(source, number, f"line too long: {len(line)} bytes (max_line_bytes={max_line_bytes})")
            )
            continue
        if not line.strip(_WHITESPACE):
            skipped += 1
            continue
        try:
            alerts.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            problems.append(Problem(source, number, _decode_reason(line, exc)))
            continue
        numbers.append(number)
    frame, alert_problems = alerts_to_frame(alerts, source, numbers)
    problems.extend(alert_problems)
    problems.sort(key=lambda p: p.line or 0)
    return frame, problems, skipped


def _decode_reason(line: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"invalid UTF-8: byte 0x{line[bad.start]:02x} at column {bad.start + 1}"
    text = str(exc).split(":", 1)[0]
    column = getattr(exc, "colno", None)
    if getattr(exc, "pos", None) is not None and exc.pos >= len(line.rstrip(_WHITESPACE)):
        return f"truncated JSON: {text} at column {column}"
    return f"invalid JSON: {text} at column {column}"
