"""The record of simulated syscall events, stored column-wise for speed.

Each recorded event is a *subject* (a process or a container: the fields shared by all
its events, see :mod:`falco_lab.simulate.fields`) plus the event's own fields.  Events
of the same shape are appended to the same column batch, so a day of activity on 20
nodes becomes a DataFrame without building one Python dict per event.

``evt.num`` is numbered per node in time order when the log is read, as Falco numbers
the events it captures on each node.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from falco_lab.simulate.fields import field_kind
from falco_lab.simulate.model import mark_simulated

_PANDAS_DTYPE = {"int": "Int64", "uint": "Int64", "bool": "boolean"}


class _Batch:
    __slots__ = ("subject", "time", "columns")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.subject: list[int] = []
        self.time: list[int] = []
        self.columns: dict[str, list] = {k: [] for k in keys}


class EventLog:
    """Append-only log of syscall events (see the module docstring)."""

    def __init__(self) -> None:
        self._subjects: list[dict] = []
        self._subject_ids: dict[int, int] = {}
        self._batches: dict[tuple[str, ...], _Batch] = {}
        self._count = 0
        self._frame: pd.DataFrame | None = None
        #: while True, :meth:`add` records nothing (state set up before capture started).
        self.paused = False

    def __len__(self) -> int:
        return self._count

    def subject(self, owner: object, context: dict) -> int:
        """Register (once) the shared fields of ``owner`` and return its subject id."""
        key = id(owner)
        sid = self._subject_ids.get(key)
        if sid is None:
            sid = len(self._subjects)
            self._subjects.append(context)
            self._subject_ids[key] = sid
        return sid

    def add(self, subject: int, time_ns: int, fields: dict) -> None:
        """Record one event of ``subject`` at ``time_ns`` with its own ``fields``."""
        if self.paused:
            return
        keys = tuple(fields)
        batch = self._batches.get(keys)
        if batch is None:
            batch = self._batches[keys] = _Batch(keys)
        batch.subject.append(subject)
        batch.time.append(time_ns)
        for key, value in fields.items():
            batch.columns[key].append(value)
        self._count += 1
        self._frame = None

    def frame(self) -> pd.DataFrame:
        """All events as one DataFrame (one column per field, missing fields NA), in time order,
        labelled simulated (``attrs["simulated"]``).

        Integer fields use pandas' nullable ``Int64`` and booleans ``boolean``, so a field
        absent from an event stays missing rather than becoming ``NaN`` or ``False``.
        Built column by column: the per-subject fields are gathered once per subject and
        spread to the events with one ``take``.
        """
        if self._frame is not None:
            return self._frame
        if not self._count:
            self._frame = mark_simulated(pd.DataFrame({"evt.num": pd.Series([], dtype="Int64")}))
            return self._frame
        batches = list(self._batches.values())
        times = np.concatenate([np.asarray(b.time, dtype=np.int64) for b in batches])
        subject_of = np.concatenate([np.asarray(b.subject, dtype=np.int64) for b in batches])
        order = np.argsort(times, kind="stable")
        subject_sorted = subject_of[order]
        columns: dict[str, object] = {}
        own_keys = list(dict.fromkeys(k for b in batches for k in b.columns))
        for key in own_keys:
            values: list = []
            for batch in batches:
                column = batch.columns.get(key)
                values.extend(column if column is not None else [None] * len(batch.time))
            columns[key] = _typed_array(key, _object_array(values)[order])
        for key, values in _gather(self._subjects, skip=columns).items():
            columns[key] = _typed_array(key, _object_array(values)[subject_sorted])
        columns["evt.rawtime"] = pd.array(times[order], dtype="Int64")
        # The rules engine reads an event's time from ``evt.time`` as integer ns (the form
        # Falco's ``output_fields`` carry), so both names hold the same number.
        columns["evt.time"] = columns["evt.rawtime"]
        hosts = pd.Series(columns["evt.hostname"])
        columns = {
            "evt.num": pd.array(hosts.groupby(hosts, sort=False).cumcount().to_numpy() + 1, dtype="Int64"),
            **columns,
        }
        frame = mark_simulated(pd.DataFrame(columns, copy=False))
        self._frame = frame
        return frame

    def records(self) -> Iterator[dict]:
        """The events as mappings ``field → value`` (missing fields absent), in time order."""
        return frame_records(self.frame())

    def write_jsonl(self, path: str | Path) -> int:
        """Write every event as one JSON object per line; return the number written."""
        count = 0
        with open(path, "wb") as out:
            for record in self.records():
                out.write(orjson.dumps(record))
                out.write(b"\n")
                count += 1
        return count


def frame_records(frame: pd.DataFrame) -> Iterator[dict]:
    """Rows of an events frame as mappings ``field → value``, missing (NA) fields left out."""
    columns = list(frame.columns)
    # pandas-stubs do not accept na_value=None, which pandas documents and this needs
    arrays = [frame[c].to_numpy(dtype=object, na_value=None) for c in columns]  # type: ignore[call-overload]
    for row in zip(*arrays, strict=True):
        yield {c: _plain(v) for c, v in zip(columns, row, strict=True) if v is not None}


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _gather(records: list[dict], skip: dict) -> dict[str, list]:
    """Column lists of ``records`` (None where a record lacks the key), one pass over the records."""
    size = len(records)
    columns: dict[str, list] = {}
    for index, record in enumerate(records):
        for key, value in record.items():
            column = columns.get(key)
            if column is None:
                if key in skip:
                    continue
                column = columns[key] = [None] * size
            column[index] = value
    return columns


def _object_array(values: list) -> np.ndarray:
    """A 1-d object array of ``values`` (tuples stay single cells, never become a second axis)."""
    return np.fromiter(values, dtype=object, count=len(values))


def _typed_array(key: str, values: np.ndarray) -> object:
    """A pandas array of the field's catalogue kind (nullable ints/booleans; text stays object)."""
    dtype = _PANDAS_DTYPE.get(field_kind(key) or "")
    if dtype is None:
        # text stays in plain object columns: no conversion to Arrow strings, and the rules
        # engine's fast path for columns of Python str applies.
        return pd.Series(values, dtype=object, copy=False)
    return pd.array(values, dtype=dtype)  # type: ignore[call-overload]  # stubs lack dtype names


__all__ = ["EventLog", "frame_records"]
