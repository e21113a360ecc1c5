"""Parquet archives of the canonical frame, with an exact round trip.

Kept exactly: column names (dots and brackets), ``time`` as ``datetime64[ns, UTC]``,
``priority`` as :data:`~falco_lab.events.schema.PRIORITY_DTYPE` (all eight categories,
ordered), ``tags`` as lists of str, nullable ``Int64``/``UInt64``/``Float64``/``boolean``/
``string`` fields, all-null fields, and mixed-type ``object`` fields (stored as JSON text
and decoded on read).  The :class:`~falco_lab.events.load_diagnostics.LoadReport` travels in the
file's metadata and comes back in ``df.attrs["load_report"]``.
"""

from __future__ import annotations

import json
import os
from typing import Any, cast

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from falco_lab.events.frame import object_array, tags_lists
from falco_lab.events.load_diagnostics import ATTRS_KEY, LoadReport, Problem
from falco_lab.priorities import PRIORITY_DTYPE

_META_JSON_COLUMNS = b"falco_lab.json_columns"
_META_REPORT = b"falco_lab.load_report"


def _needs_json(series: pd.Series) -> bool:
    """Object columns (mixed or nested values) are stored as JSON text, unless all null."""
    return bool(series.notna().any())


def to_parquet(frame: pd.DataFrame, path: str | os.PathLike, *, compression: str = "zstd") -> None:
    """Write a canonical events frame to ``path``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The output of ``load_events`` (or any canonical frame).
    compression : str
        Parquet codec (``zstd``, ``snappy``, ``gzip``, ``none``).
    """
    pq.write_table(frame_to_table(frame), path, compression=compression)


def frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """The Arrow table :func:`to_parquet` writes (metadata included), for writers of many files."""
    data = frame.copy(deep=False)
    data.attrs = {}
    json_columns = [
        c for c in data.columns if c != "tags" and data[c].dtype == object and _needs_json(data[c])
    ]
    for name in json_columns:
        data[name] = pd.array(
            [
                None if _isna(v) else orjson.dumps(v, option=orjson.OPT_NON_STR_KEYS).decode()
                for v in data[name]
            ],
            dtype="string",
        )
    if "tags" in data.columns:
        data["tags"] = pd.Series(
            [list(t) if isinstance(t, (list, tuple)) else [] for t in data["tags"]], dtype=object
        )
    table = pa.Table.from_pandas(data, preserve_index=False)
    if "tags" in table.column_names:
        index = table.column_names.index("tags")
        table = table.set_column(index, "tags", table.column("tags").cast(pa.list_(pa.string())))
    metadata = dict(table.schema.metadata or {})
    metadata[_META_JSON_COLUMNS] = json.dumps(json_columns).encode()
    report = frame.attrs.get(ATTRS_KEY)
    if isinstance(report, LoadReport):
        metadata[_META_REPORT] = orjson.dumps(report.to_dict())
    return table.replace_schema_metadata(metadata)


def _isna(value: object) -> bool:
    return value is None or (not isinstance(value, (list, dict, tuple)) and bool(pd.isna(cast(Any, value))))


def read_parquet(path: str | os.PathLike, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a file written by :func:`to_parquet` back into the canonical frame."""
    return table_to_canonical(pq.read_table(path, columns=columns))


def table_to_canonical(table: pa.Table) -> pd.DataFrame:
    """A table as :func:`frame_to_table` built it -> the canonical frame."""
    metadata = table.schema.metadata or {}
    json_columns = json.loads(metadata.get(_META_JSON_COLUMNS, b"[]"))
    tags = tags_lists(table.column("tags")) if "tags" in table.column_names else None
    frame = table.to_pandas()
    if tags is not None:
        frame["tags"] = object_array(tags)
    if "priority" in frame.columns:
        frame["priority"] = frame["priority"].astype(PRIORITY_DTYPE)
    for name in json_columns:
        if name in frame.columns:
            frame[name] = object_array([None if pd.isna(v) else orjson.loads(v) for v in frame[name]])
    frame.attrs = {}
    if _META_REPORT in metadata:
        raw = orjson.loads(metadata[_META_REPORT])
        frame.attrs[ATTRS_KEY] = LoadReport(
            sources=tuple(raw["sources"]),
            events=raw["events"],
            problems=tuple(Problem(p["file"], p["line"], p["reason"]) for p in raw["problems"]),
            skipped=raw["skipped"],
        )
    return frame
