"""``columns_to_frame``: Arrow columns of a JSON read -> canonical frame, consuming its input."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from pandas.testing import assert_frame_equal

from falco_lab.events.frame import columns_to_frame, table_to_frame

_TIME = pa.timestamp("ns", tz="UTC")


def _chunked_table(chunks: int = 3, rows: int = 4) -> pa.Table:
    """A read of ``chunks`` blocks: text, ints with nulls, a null output_fields row, tags."""
    parts = []
    for c in range(chunks):
        base = c * rows
        fields = [
            None
            if base + i == 1
            else {
                "proc.pid": None if (base + i) % 3 == 0 else base + i,
                "proc.name": f"p{base + i}",
                "ok": i % 2 == 0,
            }
            for i in range(rows)
        ]
        parts.append(
            pa.table(
                {
                    "time": pa.array([1_780_000_000_000_000_000 + base + i for i in range(rows)], _TIME),
                    "rule": pa.array([f"rule {base + i}" for i in range(rows)], pa.large_string()),
                    "priority": pa.array(["Warning"] * rows),
                    "output": pa.array([f"out {base + i}" for i in range(rows)], pa.large_string()),
                    "tags": pa.array(
                        [["a", "b"] if i % 2 else [] for i in range(rows)], pa.list_(pa.string())
                    ),
                    "output_fields": pa.array(
                        fields,
                        pa.struct(
                            [("proc.pid", pa.int64()), ("proc.name", pa.large_string()), ("ok", pa.bool_())]
                        ),
                    ),
                }
            )
        )
    return pa.concat_tables(parts)


def test_columns_to_frame_empties_the_mapping_it_is_given():
    table = _chunked_table()
    columns = dict(zip(table.column_names, table.columns, strict=True))
    columns_to_frame(columns, table.num_rows)
    assert columns == {}


@pytest.mark.parametrize("workers", [2, 4])
def test_threaded_conversion_gives_the_frame_of_the_sequential_one(workers):
    table = _chunked_table()
    sequential = table_to_frame(table)
    threaded = columns_to_frame(
        dict(zip(table.column_names, table.columns, strict=True)), 12, workers=workers
    )
    assert_frame_equal(threaded, sequential)
    assert threaded["proc.pid"].dtype == "Int64"
    assert threaded["proc.pid"].isna().tolist() == [
        True,
        True,
        False,
        True,
        False,
        False,
        True,
        False,
        False,
        True,
        False,
        False,
    ]
    assert threaded["proc.name"].iloc[1] is pd.NA  # the row whose output_fields is null
    assert threaded["tags"].tolist()[:2] == [[], ["a", "b"]]


def test_text_columns_come_out_as_one_arrow_chunk():
    table = _chunked_table(chunks=5)
    assert table.column("output").num_chunks == 5
    frame = columns_to_frame(dict(zip(table.column_names, table.columns, strict=True)), 20, workers=2)
    for name in ("output", "rule", "proc.name"):
        assert frame[name].array.__arrow_array__().num_chunks == 1, name


def test_tags_decoded_beforehand_are_used_instead_of_the_tags_column():
    table = _chunked_table(chunks=1, rows=2)
    given = [["x"], []]
    frame = columns_to_frame(dict(zip(table.column_names, table.columns, strict=True)), 2, tags=given)
    assert frame["tags"].tolist() == [["x"], []]


def test_tags_decoded_beforehand_must_have_one_entry_per_row():
    table = _chunked_table(chunks=1, rows=2)
    with pytest.raises(ValueError, match="1 rows of tags for 2 rows"):
        columns_to_frame(dict(zip(table.column_names, table.columns, strict=True)), 2, tags=[["x"]])
