"""Column-wise alert formatting: one rule's outputs and ``output_fields`` over all its matched rows.

The per-alert formatter (:meth:`OutputFormat.render`, :meth:`OutputFormat.values`,
:func:`~falco_lab.rules.output.format.falco_alert`) is the reference: this module gives the same
strings and values byte for byte, but works a column at a time:

- each ``%field`` is read as one column of the matched rows (:class:`Rows`);
- each distinct value of that column is rendered (text and JSON value) once, with the reference's
  own :func:`~falco_lab.rules.output.format.render_value` / :func:`~falco_lab.rules.output.format.json_value`;
- the texts are assembled with numpy object-array concatenation (one C loop per part), and the
  alert times are formatted with ``numpy.datetime_as_string``.

The one difference: an event without ``evt.time`` gets the current time, read once per block here
and once per alert by the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from falco_lab.errors import FalcoLabError
from falco_lab.rules.evaluators.values import cell_value
from falco_lab.rules.ir import (
    ConstOperand,
    FieldOperand,
    ListOperand,
    MultiOperand,
    Operand,
    TransformOperand,
)
from falco_lab.rules.output.format import (
    OutputFormat,
    OutputToken,
    datetime_ns,
    event_time_ns,
    format_time,
    json_value,
    render_value,
    suggested_format,
)

__all__ = ["AlertBlock", "Column", "Events", "Rows", "format_block", "format_clock_iso"]

ObjectArray = npt.NDArray[np.object_]

#: Times numpy formats like :func:`format_time` (from the epoch on); earlier ones go value by value.
_NS_MIN = 0


class Column:
    """One field's values for some rows, factorised: ``uniques`` (distinct values) and ``codes``.

    Values are distinct by (type, value), so ``1``, ``1.0`` and ``True`` stay apart as the
    formatter renders them differently; unhashable values (lists) get one entry per row.
    """

    __slots__ = ("codes", "uniques")

    def __init__(self, raw: list[Any], clean: Callable[[Any], Any] | None = None) -> None:
        # one type: the values themselves are the keys; several: (type, value), so 1 != True here
        typed = len(set(map(type, raw))) > 1
        keys: list[Any] = list(zip(map(type, raw), raw, strict=True)) if typed else raw
        try:
            index = {key: i for i, key in enumerate(dict.fromkeys(keys))}
        except TypeError:  # unhashable values: no factorising
            self.codes: list[int] = list(range(len(raw)))
            self.uniques: list[Any] = raw if clean is None else [clean(v) for v in raw]
            return
        self.codes = list(map(index.__getitem__, keys))
        uniques = [key[1] for key in index] if typed else list(index)
        self.uniques = uniques if clean is None else [clean(v) for v in uniques]

    def values(self) -> list[Any]:
        """One value per row."""
        return self.map_uniques(self.uniques)

    def map(self, fn: Callable[[Any], Any]) -> list[Any]:
        """``[fn(v) for v in self.values()]``, calling ``fn`` once per distinct value."""
        return self.map_uniques([fn(v) for v in self.uniques])

    def map_uniques(self, results: list[Any]) -> list[Any]:
        """Spread one result per distinct value over the rows."""
        return list(map(results.__getitem__, self.codes))


class Events:
    """The events that alerted, read a column at a time as the per-alert path reads single events.

    Parameters
    ----------
    positions
        Which rows alerted (indices into ``frame`` or ``events``), ascending; each column is read
        once for all of them, and each rule takes its rows from there (:meth:`rows`).
    frame
        A frame of events (one column per field): cells are read as :func:`cell_value` reads them
        (NaN/NA → None, numpy scalars → Python), exactly what ``RuleSet.alerts`` gives each event.
    events
        Or a sequence of event mappings, read as they are (``event.get(key)``).
    """

    def __init__(
        self,
        positions: npt.NDArray[np.int64],
        *,
        frame: pd.DataFrame | None = None,
        events: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        if (frame is None) == (events is None):
            raise TypeError("give exactly one of frame= or events=")
        self.positions = positions
        self._frame = frame
        self._events = events
        self._columns: dict[str, list[Any]] = {}

    def column(self, key: str) -> list[Any]:
        """The values of field ``key`` for every alerting event (None where missing), cached."""
        values = self._columns.get(key)
        if values is None:
            values = self._columns[key] = self._read(key)
        return values

    def _read(self, key: str) -> list[Any]:
        n = len(self.positions)
        if self._events is not None:
            events = self._events
            return [events[i].get(key) for i in self.positions.tolist()]
        frame = self._frame
        if frame is None or key not in frame.columns:
            return [None] * n
        series = frame[key]
        if isinstance(series, pd.DataFrame):  # duplicated column name: the per-event dict keeps the last
            series = series.iloc[:, -1]
        if isinstance(series.dtype, np.dtype):
            raw: list[Any] = series.to_numpy()[self.positions].tolist()
            if series.dtype.kind in "iub":  # Python ints/bools already, never missing
                return raw
            return Column(raw, cell_value).values()
        taken = series.array.take(self.positions)
        if isinstance(series.dtype, pd.StringDtype):  # str or missing: None is what cell_value gives
            strings: list[Any] = taken.to_numpy(dtype=object, na_value=None).tolist()
            return strings
        return Column(taken.tolist(), cell_value).values()

    def rows(self, where: npt.NDArray[np.int64]) -> Rows:
        """Some of the events: ``where`` indexes :attr:`positions`."""
        return Rows(self, where)


class Rows:
    """Some alerting events (one rule's), each field a factorised :class:`Column`."""

    def __init__(self, events: Events, where: npt.NDArray[np.int64]) -> None:
        self._events = events
        self._where = where.tolist()
        self.n = len(self._where)
        self._columns: dict[str, Column] = {}

    def column(self, key: str) -> Column:
        """The values of field ``key`` for the rows (None where missing), factorised and cached."""
        column = self._columns.get(key)
        if column is None:
            values = self._events.column(key)
            column = self._columns[key] = Column(list(map(values.__getitem__, self._where)))
        return column


def _operand_keys(operand: Operand | ConstOperand | ListOperand) -> list[str]:
    if isinstance(operand, FieldOperand):
        return [operand.key]
    if isinstance(operand, TransformOperand):
        return _operand_keys(operand.inner)
    if isinstance(operand, MultiOperand):
        return [k for a in operand.args for k in _operand_keys(a)]
    if isinstance(operand, ListOperand):
        return [k for item in operand.items for k in _operand_keys(item)]
    return []


def _token_column(token: OutputToken, rows: Rows) -> Column:
    """The token's value for every row (what :meth:`OutputToken.value` gives for each event)."""
    if token.operand is None:
        return rows.column(token.key)
    keys = _operand_keys(token.operand)
    columns = {key: rows.column(key).values() for key in keys}
    return Column([token.value({key: columns[key][i] for key in keys}) for i in range(rows.n)])


def _texts(token: OutputToken, column: Column) -> list[str]:
    width = token.width

    def render(value: Any) -> str:
        text = render_value(token, value)
        return text if width is None else text[:width].ljust(width)

    return column.map(render)


def _concat(pieces: list[str | list[str]], n: int) -> list[str]:
    """Row-wise concatenation of literal strings and per-row string lists (one join per row)."""
    columns = [repeat(piece, n) if isinstance(piece, str) else piece for piece in pieces if piece != ""]
    if not columns:
        return [""] * n
    return list(map("".join, zip(*columns, strict=True)))


def _message_pieces(fmt: OutputFormat, values: dict[str, Column]) -> list[str | list[str]]:
    pieces: list[str | list[str]] = []
    for part in fmt.parts:
        if isinstance(part, str):
            pieces.append(part)
        else:
            pieces.append(_texts(part, values[part.key]))
    return pieces


def _fields(fmt: OutputFormat, values: dict[str, Column], into: dict[str, list[Any]]) -> None:
    for token in fmt.tokens:
        into[token.key] = values[token.key].map(partial(json_value, token))


def _time_ns(rows: Rows, time_ns: int | None) -> npt.NDArray[np.int64]:
    if time_ns is not None:
        return np.full(rows.n, time_ns, dtype=np.int64)
    converted = rows.column("evt.time").map(event_time_ns)
    if any(v is None for v in converted):
        now = datetime_ns(datetime.now(UTC))
        converted = [now if v is None else v for v in converted]
    try:
        return np.array(converted, dtype=np.int64)
    except OverflowError:
        bad = next(v for v in converted if not -(2**63) <= v < 2**63)
        raise FalcoLabError(f"evt.time {bad} is outside the nanosecond timestamps pandas can hold") from None


def format_clock_iso(ns: npt.NDArray[np.int64]) -> tuple[list[str], list[str]]:
    """``(clock, iso)`` of each time, as :func:`~falco_lab.rules.output.format.format_time` gives them."""
    if len(ns) and bool((ns >= _NS_MIN).all()):
        text: list[str] = np.datetime_as_string(ns.astype("datetime64[ns]"), unit="ns").tolist()
        return [t[11:] for t in text], [t + "Z" for t in text]
    pairs = [format_time(value) for value in ns.tolist()]
    return [clock for _, clock in pairs], [iso for iso, _ in pairs]


@dataclass(slots=True)
class AlertBlock:
    """One rule's alerts over its matched rows: what :func:`falco_alert` gives, column-wise.

    Attributes
    ----------
    output
        Falco's ``output`` text of each alert (``clock: Priority message [suggested fields]``).
    time_ns
        Each alert's time in ns since the epoch (``evt.time``).
    fields
        ``output_fields`` key → one JSON value per alert (``evt.time`` included), keys sorted.
    """

    output: ObjectArray
    time_ns: npt.NDArray[np.int64]
    fields: dict[str, list[Any]]


def format_block(
    fmt: OutputFormat,
    rows: Rows,
    *,
    priority: str,
    source: str = "syscall",
    suggested_fields: bool = True,
    time_ns: int | None = None,
) -> AlertBlock:
    """Format one rule's alerts for all of ``rows`` at once (see the module docstring).

    Arguments as in :func:`~falco_lab.rules.output.format.falco_alert`; the result's ``output`` and
    ``fields`` equal, alert by alert, the reference's ``output`` and ``output_fields``.
    """
    extra = suggested_format(source) if suggested_fields else None
    values: dict[str, Column] = {}
    for token in (*fmt.tokens, *(extra.tokens if extra is not None else ())):
        if token.key not in values:
            values[token.key] = _token_column(token, rows)
    ns = _time_ns(rows, time_ns)
    clock, _ = format_clock_iso(ns)
    pieces: list[str | list[str]] = [clock, f": {priority} ", *_message_pieces(fmt, values)]
    fields: dict[str, list[Any]] = {}
    _fields(fmt, values, fields)
    if extra is not None:
        pieces += [" ", *_message_pieces(extra, values)]
        _fields(extra, values, fields)
    fields["evt.time"] = ns.tolist()
    output = np.empty(rows.n, dtype=object)
    output[:] = _concat(pieces, rows.n)
    return AlertBlock(output=output, time_ns=ns, fields=dict(sorted(fields.items())))
