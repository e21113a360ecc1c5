"""Build the canonical events frame from Arrow tables or from Python records.

Both paths give identical dtypes for identical data:

* ``time``: ``datetime64[ns, UTC]``; ``priority``: :data:`~falco_lab.events.schema.PRIORITY_DTYPE`;
  ``rule``/``source``/``hostname``/``output``/``uuid``: ``string``; ``tags``: lists of str;
* output fields, one column each, named exactly as the field: integers ``Int64``
  (``UInt64`` beyond int64), floats ``Float64``, booleans ``boolean``, text ``string``,
  a field that is ``null`` everywhere ``object`` (``None``), mixed or nested values
  ``object`` (the values as decoded).  A field whose name collides with a base column
  is renamed ``output_fields.<name>``.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from falco_lab.events.schema import BASE_COLUMNS, empty_frame
from falco_lab.priorities import PRIORITY_DTYPE, normalize_priority

#: Environment variable with which users choose pyarrow's allocator themselves.
ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"


def choose_allocator() -> str:
    """Make pyarrow allocate with jemalloc (else the C library's ``malloc``) unless the user chose a pool.

    pyarrow's default pool (mimalloc in the wheels) hands large buffers back to the kernel
    and faults them in again: parsing 100k long alerts (453 MB) took 5.1 s here, 5.4 s of
    it system time, against 0.9-1.2 s (0.4 s system) with jemalloc or the system
    allocator, and every pandas take/filter over Arrow-backed string columns pays the
    same.  Streaming those alerts to Parquet (:mod:`falco_lab.events.spill`) took 4.4 s with
    jemalloc (1.8 s system) and 5.4 s with malloc (3.3 s system).  Called when this module
    is imported; ``ARROW_DEFAULT_MEMORY_POOL`` set in the environment (``mimalloc``,
    ``jemalloc``, ``system``) is left to pyarrow.  Returns the pool's backend name.
    """
    if ARROW_POOL_ENV not in os.environ:
        try:
            pool = pa.jemalloc_memory_pool()
        except NotImplementedError:  # a pyarrow built without jemalloc
            pool = pa.system_memory_pool()
        pa.set_memory_pool(pool)
    return pa.default_memory_pool().backend_name


choose_allocator()

_STRING = pd.StringDtype()
_TAG_SEPARATOR = "\x1f"
_TEXT_COLUMNS = ("rule", "source", "hostname", "output", "uuid")
_ARROW_TO_PANDAS = {
    pa.int8(): pd.Int64Dtype(),
    pa.int16(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): _STRING,
    pa.large_string(): _STRING,
}


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small containers.

    Allocating hundreds of thousands of lists triggers full collections that scan every
    live object; the lists built here hold only strings, so pausing is safe.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def object_array(values: Sequence[object]) -> np.ndarray:
    """1-D object array of ``values`` (``np.array`` would build 2-D from equal-length lists)."""
    return np.fromiter(values, dtype=object, count=len(values))


def field_column_name(name: str) -> str:
    """Column name of output field ``name`` (verbatim unless it collides with a base column)."""
    return f"output_fields.{name}" if name in BASE_COLUMNS else name


def priority_categorical(values: pa.ChunkedArray | pa.Array) -> tuple[pd.Categorical, np.ndarray]:
    """Map raw priority strings to :data:`PRIORITY_DTYPE`; also return a mask of unknown ones."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = (
            encoded.unify_dictionaries().combine_chunks()
            if encoded.num_chunks
            else pa.array([], pa.dictionary(pa.int32(), pa.string()))
        )
    categories = list(PRIORITY_DTYPE.categories)
    lookup = np.array(
        [
            categories.index(p) if (p := normalize_priority(v)) is not None else -1
            for v in encoded.dictionary.to_pylist()
        ]
        + [-1],
        dtype=np.int64,
    )
    indices = encoded.indices.fill_null(len(lookup) - 1).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = lookup[indices] if len(indices) else np.array([], dtype=np.int64)
    return pd.Categorical.from_codes(codes, dtype=PRIORITY_DTYPE), codes < 0


def tags_lists(values: pa.ChunkedArray | pa.Array) -> list[list[str]]:
    """``list<string>`` column -> one fresh Python list per row (null -> ``[]``).

    Alerts of one rule share their tags, so each distinct list is decoded once (from the
    tags joined with a separator nothing else contains) and copied per row, several
    times faster than ``to_pylist``.
    """
    if len(values) == 0:
        return []
    flat = pc.list_flatten(values)
    joined = pc.binary_join(values, _TAG_SEPARATOR)
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    encoded = pc.dictionary_encode(joined)
    keys = encoded.dictionary.to_pylist()
    ambiguous = "" in keys or (len(flat) and pc.any(pc.match_substring(flat, _TAG_SEPARATOR)).as_py())
    if ambiguous:  # [""] vs [], or a tag containing the separator: decode row by row
        return [list(v) if v is not None else [] for v in values.to_pylist()]
    distinct = [key.split(_TAG_SEPARATOR) for key in keys] + [[]]
    indices = encoded.indices.fill_null(len(keys)).to_numpy(zero_copy_only=False)
    with gc_paused():
        return [distinct[i].copy() for i in indices.tolist()]


def one_chunk(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """``column`` with its chunks joined into one (a no-op for an array or a single chunk).

    Readers return a chunk per parsed block (a hundred for 400 MB of JSON lines); pyarrow's
    ``take`` over such a column is ~20x slower than over one chunk (0.95 s against 0.04 s
    for 100k long ``output`` strings), and pandas takes, filters and sorts through it.
    Joining costs one copy of the column, once, at load time.
    """
    if isinstance(column, pa.ChunkedArray) and column.num_chunks > 1:
        return pa.chunked_array([column.combine_chunks()], column.type)
    return column


def arrow_column_to_series(column: pa.ChunkedArray | pa.Array, name: str) -> pd.Series:
    """One output-field column, typed as described in the module docstring.

    Text stays Arrow-backed, so its chunks are joined first (:func:`one_chunk`); numbers
    and booleans are copied into one NumPy array by the conversion itself.
    """
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        column = one_chunk(column)
    if pa.types.is_null(kind):
        return pd.Series([None] * len(column), dtype=object, name=name)
    if kind in _ARROW_TO_PANDAS:
        return column.to_pandas(types_mapper=_ARROW_TO_PANDAS.get).rename(name)
    if pa.types.is_integer(kind):
        target = pa.uint64() if pa.types.is_unsigned_integer(kind) else pa.int64()
        return pc.cast(column, target).to_pandas(types_mapper=_ARROW_TO_PANDAS.get).rename(name)
    if pa.types.is_floating(kind):
        return pc.cast(column, pa.float64()).to_pandas(types_mapper=_ARROW_TO_PANDAS.get).rename(name)
    return pd.Series(column.to_pylist(), dtype=object, name=name)


def python_column_to_series(values: list, name: str) -> pd.Series:
    """Like :func:`arrow_column_to_series` for decoded JSON values (mixed types -> ``object``)."""
    try:
        array = pa.array(values)
    except OverflowError:
        try:
            array = pa.array(values, type=pa.uint64())
        except (pa.ArrowException, OverflowError, TypeError):
            return pd.Series(values, dtype=object, name=name)
    except (pa.ArrowException, TypeError):
        return pd.Series(values, dtype=object, name=name)
    if pa.types.is_struct(array.type) or pa.types.is_list(array.type):
        return pd.Series(values, dtype=object, name=name)
    return arrow_column_to_series(array, name)


def assemble(
    base: dict[str, object],
    fields: Iterable[pd.Series],
    n_rows: int,
) -> pd.DataFrame:
    """Put base columns (``time``, ``priority`` ... already converted) and field columns together."""
    columns: dict[str, object] = {}
    template = empty_frame()
    for name in BASE_COLUMNS:
        if name in base:
            columns[name] = base[name]
        elif name == "tags":
            columns[name] = pd.Series([[] for _ in range(n_rows)], dtype=object)
        else:
            columns[name] = pd.Series(pd.NA, index=range(n_rows), dtype=template[name].dtype)
    for series in fields:
        columns[str(series.name)] = series
    frame = pd.DataFrame({k: _as_array(v) for k, v in columns.items()}, index=pd.RangeIndex(n_rows))
    return frame


def _as_array(value: object) -> object:
    if isinstance(value, pd.Series):
        return value.array if value.dtype != object else value.to_numpy()
    return value


def table_to_frame(table: pa.Table, *, priority: pd.Categorical | None = None) -> pd.DataFrame:
    """Arrow table with the raw top-level keys and an ``output_fields`` struct -> canonical frame.

    ``time`` must already be ``timestamp[ns, UTC]`` (nulls filled from ``evt.time``).
    """
    return columns_to_frame(
        dict(zip(table.column_names, table.columns, strict=True)), table.num_rows, priority=priority
    )


def columns_to_frame(
    columns: dict[str, pa.ChunkedArray],
    n_rows: int,
    *,
    priority: pd.Categorical | None = None,
    workers: int = 1,
    tags: list[list[str]] | None = None,
) -> pd.DataFrame:
    """Like :func:`table_to_frame` for a table's columns by name, which it consumes.

    ``columns`` is emptied: each Arrow column is dropped once it is converted, so when the
    caller holds no other reference to the columns, the memory of the Arrow copy of one
    column is given back as soon as its pandas copy exists (peak: the table plus a column
    or two, not two copies of the table).  With ``workers > 1`` the columns are joined and
    converted on that many threads (joining chunks and typing numbers release the GIL)
    while this thread decodes the tags.  ``tags``: the rows' tags already decoded (e.g.
    part by part while other parts were parsed), used instead of the ``tags`` column.
    """
    if priority is None and "priority" in columns:
        priority, _ = priority_categorical(columns["priority"])
    tag_column = columns.pop("tags", None)
    if tags is not None:
        if len(tags) != n_rows:
            raise ValueError(f"{len(tags)} rows of tags for {n_rows} rows")
        tag_column = None
    struct = columns.pop("output_fields", None)
    jobs: list[tuple[str, bool, pa.ChunkedArray | pa.Array]] = []  # (name, is a base column, column)
    for name in ("time", *_TEXT_COLUMNS):
        if name in columns:
            jobs.append((name, True, columns.pop(name)))
    columns.clear()
    if struct is not None and pa.types.is_struct(struct.type):
        # A null output_fields object means every field is null for that row.
        parent_valid = struct.is_valid() if struct.null_count else None
        for i, field in enumerate(struct.type):
            child = pc.struct_field(struct, [i])
            if parent_valid is not None and not pa.types.is_null(child.type):
                child = pc.if_else(parent_valid, child, pa.scalar(None, child.type))
            jobs.append((field_column_name(field.name), False, child))
            child = None
        parent_valid = None
    struct = None  # the children now hold their own buffers
    names = [(name, is_base) for name, is_base, _ in jobs]
    slots: list[pa.ChunkedArray | pa.Array | None] = [column for _, _, column in jobs]
    del jobs

    def convert(k: int) -> object:
        column, slots[k] = slots[k], None
        assert column is not None  # each column is converted once
        name, is_base = names[k]
        if not is_base:
            return arrow_column_to_series(column, name)
        if name == "time":
            return column.to_pandas()
        return one_chunk(column).to_pandas(types_mapper=_ARROW_TO_PANDAS.get)

    base: dict[str, object] = {}
    if priority is not None:
        base["priority"] = priority
    if workers > 1 and len(slots) > 1:
        # biggest first, so no thread is left alone with the largest column at the end
        order = sorted(range(len(slots)), key=lambda k: -_nbytes(slots[k]))
        with ThreadPoolExecutor(workers) as pool:
            pending = {k: pool.submit(convert, k) for k in order}
            if tag_column is not None:
                tags = tags_lists(tag_column)
            converted = {k: future.result() for k, future in pending.items()}
    else:
        if tag_column is not None:
            tags = tags_lists(tag_column)
        converted = {k: convert(k) for k in range(len(slots))}
    tag_column = None
    if tags is not None:
        base["tags"] = object_array(tags)
    fields: list[pd.Series] = []
    for k, (name, is_base) in enumerate(names):
        if is_base:
            base[name] = converted[k]
        else:
            fields.append(converted[k])  # type: ignore[arg-type]
    return assemble(base, fields, n_rows)


def _nbytes(column: pa.ChunkedArray | pa.Array | None) -> int:
    try:
        return int(column.nbytes) if column is not None else 0
    except (pa.ArrowException, TypeError):
        return 0


def records_to_frame(records: Sequence[dict], times: pd.Series) -> pd.DataFrame:
    """Validated decoded alerts (dicts) -> canonical frame; ``times`` is their parsed ``time``."""
    n = len(records)
    if n == 0:
        return empty_frame()
    base: dict[str, object] = {"time": times.reset_index(drop=True)}
    base["priority"] = pd.Categorical(
        [normalize_priority(r["priority"]) for r in records], dtype=PRIORITY_DTYPE
    )
    for name in _TEXT_COLUMNS:
        base[name] = pd.array([r.get(name) for r in records], dtype=_STRING)
    base["tags"] = object_array([list(r.get("tags") or ()) for r in records])
    order: dict[str, None] = {}
    field_dicts = [r.get("output_fields") or {} for r in records]
    for fields in field_dicts:
        for key in fields:
            if key not in order:
                order[key] = None
    series = [
        python_column_to_series([f.get(key) for f in field_dicts], field_column_name(key)) for key in order
    ]
    return assemble(base, series, n)


def _all_null_object(series: pd.Series) -> bool:
    return series.dtype == object and series.name != "tags" and not series.notna().any()


def concat_frames(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate canonical frames, keeping dtypes.

    A field missing from one frame is NA there.  A field that is all-null in one frame
    (``object`` there) takes its type from the frames where it has values, so a
    null-then-int field split over several chunks stays ``Int64``.
    """
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return empty_frame()
    if len(frames) == 1:
        return frames[0]
    order = list(dict.fromkeys(name for f in frames for name in f.columns))
    trimmed = [f.drop(columns=[c for c in f.columns if _all_null_object(f[c])]) for f in frames if len(f)]
    if not trimmed:
        return frames[0]
    result = pd.concat(trimmed, ignore_index=True, sort=False)
    for name in order:
        if name not in result.columns:
            result[name] = pd.Series([None] * len(result), dtype=object)
    result = result[order]
    result["priority"] = result["priority"].astype(PRIORITY_DTYPE)
    return result
