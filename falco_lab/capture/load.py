"""Captures as rows of field values and as DataFrames.

:func:`capture_events` streams one ``dict`` (field name → value) per event; :func:`load_capture`
builds a :class:`pandas.DataFrame` whose columns are field names, chunk by chunk, so a large
capture never holds one Python object per event for all of it at once (only per chunk).  Both
take exactly the frames/rows :meth:`falco_lab.rules.RuleSet.evaluate` and ``Condition.mask``
take: ``evt.time`` is integer nanoseconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from falco_lab.capture.reader import CaptureError, CaptureReader
from falco_lab.capture.state import CaptureState

__all__ = ["CHUNK_ROWS", "capture_events", "load_capture"]

#: Rows per DataFrame chunk in :func:`load_capture`.
CHUNK_ROWS = 65536


def capture_events(
    path: str | Path, *, merge_enter: bool = True, enter_events: bool = False
) -> Iterator[dict[str, Any]]:
    """Field rows of the events of the capture at ``path``, in order.

    Exit events (with their enter event's parameters merged, unless ``merge_enter=False``) and
    events that have no exit; ``enter_events=True`` adds a row for enter events too (``evt.dir``
    ``>``), as captures of old drivers hold them.

    Raises
    ------
    CaptureError
        When a block is truncated or corrupt; every row before it has been yielded.
    """
    reader = CaptureReader(path)
    state: CaptureState | None = None
    for event in reader:
        if state is None:
            header = reader.meta.header
            state = CaptureState(
                reader.meta, header.byte_order if header else "little", merge_enter=merge_enter
            )
        row = state.process(event)
        if row is None and enter_events and event.info.is_enter and event.info.name != "procinfo":
            thread = state.threads.get(event.tid)
            row = state.fields(event, event.info, thread, state._values(event, event.info), {}, None, None)
        if row is not None:
            yield row


def load_capture(
    path: str | Path,
    *,
    fields: Sequence[str] | None = None,
    merge_enter: bool = True,
    strict: bool = True,
) -> pd.DataFrame:
    """The events of a capture as a DataFrame, one column per field name.

    Parameters
    ----------
    fields
        Keep only these columns (in this order; a field no event has is a column of nulls).
    merge_enter
        See :class:`falco_lab.capture.state.CaptureState`.
    strict
        On a truncated or corrupt block, raise (``True``) or return the events before it with
        the error in ``frame.attrs["capture_error"]`` (``False``).

    Raises
    ------
    CaptureError
        If ``strict`` and the capture is truncated or corrupt; ``error.frame`` holds the frame of
        every event before the bad block.
    """
    chunks: list[pd.DataFrame] = []
    rows: list[dict[str, Any]] = []
    error: CaptureError | None = None
    try:
        keep = list(fields) if fields is not None else None
        for row in capture_events(path, merge_enter=merge_enter):
            rows.append(row if keep is None else {name: row.get(name) for name in keep})
            if len(rows) >= CHUNK_ROWS:
                chunks.append(_frame(rows, fields))
                rows = []
    except CaptureError as exc:
        error = exc
    if rows or not chunks:
        chunks.append(_frame(rows, fields))
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    if error is not None:
        if strict:
            error.frame = frame
            raise error
        frame.attrs["capture_error"] = str(error)
    return frame


#: Integer fields that may be missing: nullable ``Int64`` columns rather than floats.
INT_FIELDS = (
    "evt.num", "evt.time", "evt.rawtime", "evt.cpu", "evt.rawres", "thread.tid", "thread.vtid",
    "proc.pid", "proc.vpid", "proc.ppid", "proc.sid", "proc.tty", "user.uid", "user.loginuid",
    "group.gid", "fd.num", "fd.sport", "fd.cport", "fd.lport", "fd.rport",
    *(f"proc.apid[{n}]" for n in range(8)),
)  # fmt: skip


def _frame(rows: list[dict[str, Any]], fields: Sequence[str] | None) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    if fields is not None:
        frame = frame.reindex(columns=list(fields))
    for name in INT_FIELDS:
        if name in frame.columns:
            frame[name] = frame[name].astype("Int64")
    return frame
