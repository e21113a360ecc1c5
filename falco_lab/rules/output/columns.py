"""Column-wise alert formatting: each rule's outputs and ``output_fields`` over all its matched rows.

The per-alert formatter (:meth:`OutputFormat.render`, :meth:`OutputFormat.values`,
:func:`~falco_lab.rules.output.format.falco_alert`) is the reference: this module gives the same
strings and values byte for byte, but works a column at a time:

- the events that alerted (:class:`Events`) are read once per field, for all rules;
- each ``%field`` is rendered (text and JSON value) once per event for all rules that print it —
  plain text and integers at C speed (:func:`~falco_lab.rules.output.format.render_values`), other
  values once per distinct value with the reference's own
  :func:`~falco_lab.rules.output.format.render_value` / :func:`~falco_lab.rules.output.format.json_value`;
- each rule (:class:`Rows`) takes its rows' texts and joins them, one ``str.join`` per alert, and
  the alert times are formatted with ``numpy.datetime_as_string``.

The one difference: events without ``evt.time`` get the current time read once per call here, and
once per alert by the reference.
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
from falco_lab.events.frame import object_array
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
    NA,
    OutputFormat,
    OutputToken,
    datetime_ns,
    event_time_ns,
    format_time,
    json_kind,
    json_value,
    json_values,
    render_value,
    render_values,
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
        self._events = events
        # the frame's columns by name (a later duplicate wins, as in the per-event dicts)
        self._series: dict[str, pd.Series[Any]] = {
            name: series
            for name, series in (frame.items() if frame is not None else ())
            if isinstance(name, str)
        }
        self._columns: dict[str, list[Any]] = {}
        self._texts: dict[tuple[str, int | None], list[str]] = {}
        self._types: dict[str, set[type]] = {}
        self._na_texts: dict[str, list[str]] = {}
        self._json_arrays: dict[tuple[str, str], ObjectArray] = {}
        self._time_ns: npt.NDArray[np.int64] | None = None
        self._clock: list[str] | None = None

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
        series = self._series.get(key)
        if series is None:
            return [None] * n
        if isinstance(series.dtype, np.dtype):
            raw: list[Any] = series.to_numpy()[self.positions].tolist()
            if series.dtype.kind in "iub":  # Python ints/bools already, never missing
                if n:
                    self._types[key] = {bool if series.dtype.kind == "b" else int}
                return raw
            return Column(raw, cell_value).values()
        taken = series.array.take(self.positions)
        if isinstance(series.dtype, pd.StringDtype):
            return self._read_strings(key, taken)
        return Column(taken.tolist(), cell_value).values()

    def _read_strings(self, key: str, taken: pd.api.extensions.ExtensionArray) -> list[Any]:
        """A text column: str or missing (None, what cell_value gives); its texts (``<NA>``) too."""
        codes, distinct = taken.factorize(use_na_sentinel=True)  # missing → -1: the last entry below
        uniques: list[Any] = np.asarray(distinct, dtype=object).tolist()
        self._na_texts[key] = np.array([*uniques, NA], dtype=object)[codes].tolist()  # as render_value prints
        self._types[key] = {str, type(None)}
        strings: list[Any] = np.array([*uniques, None], dtype=object)[codes].tolist()
        return strings

    def types(self, key: str) -> set[type]:
        """The Python types of field ``key``'s values (None's type included), cached."""
        types = self._types.get(key)
        if types is None:
            types = self._types[key] = set(map(type, self.column(key)))
        return types

    def texts(self, token: OutputToken) -> list[str]:
        """A plain ``%field`` token's text for every alerting event (rendered once per event)."""
        key = (token.key, token.width)
        texts = self._texts.get(key)
        if texts is None:
            values = self.column(token.key)
            plain = self._na_texts.get(token.key)  # a text column: its texts came with it
            if plain is not None and token.width is None:
                texts = plain
            else:
                texts = _texts(token, values, self.types(token.key))
            self._texts[key] = texts
        return texts

    def json(self, token: OutputToken) -> ObjectArray:
        """A plain ``%field`` token's ``output_fields`` value for every alerting event."""
        key = (token.key, json_kind(token))
        values = self._json_arrays.get(key)
        if values is None:
            values = self._json_arrays[key] = object_array(
                _json(token, self.column(token.key), self.types(token.key))
            )
        return values

    def time_ns(self) -> npt.NDArray[np.int64]:
        """Each alerting event's time (``evt.time``; the current time, read once, when missing)."""
        if self._time_ns is None:
            raw = self.column("evt.time")
            converted = raw if self.types("evt.time") == {int} else Column(raw).map(event_time_ns)
            if any(v is None for v in converted):
                now = datetime_ns(datetime.now(UTC))
                converted = [now if v is None else v for v in converted]
            try:
                self._time_ns = np.array(converted, dtype=np.int64)
            except OverflowError:
                bad = next(v for v in converted if not -(2**63) <= v < 2**63)
                raise FalcoLabError(
                    f"evt.time {bad} is outside the nanosecond timestamps pandas can hold"
                ) from None
        return self._time_ns

    def clock(self) -> list[str]:
        """Each alerting event's time as the ``output`` prefix prints it (``HH:MM:SS.nnnnnnnnn``)."""
        if self._clock is None:
            self._clock = format_clock_iso(self.time_ns())[0]
        return self._clock

    def rows(self, where: npt.NDArray[np.int64]) -> Rows:
        """Some of the events: ``where`` indexes :attr:`positions`."""
        return Rows(self, where)


class Rows:
    """Some alerting events (one rule's): each token's texts and values taken from :class:`Events`."""

    def __init__(self, events: Events, where: npt.NDArray[np.int64]) -> None:
        self._events = events
        self._where_array = where
        self._where = where.tolist()
        self.n = len(self._where)
        self._transformed: dict[str, list[Any]] = {}

    def values(self, key: str) -> list[Any]:
        """The values of field ``key`` for the rows (None where missing)."""
        return self._take(self._events.column(key))

    def _take(self, union: list[Any]) -> list[Any]:
        return list(map(union.__getitem__, self._where))

    def _token_values(self, token: OutputToken) -> list[Any]:
        """A transformer token's value for every row (what :meth:`OutputToken.value` gives)."""
        values = self._transformed.get(token.key)
        if values is None:
            keys = _operand_keys(token.operand) if token.operand is not None else [token.key]
            columns = {key: self.values(key) for key in keys}
            values = [token.value({key: columns[key][i] for key in keys}) for i in range(self.n)]
            self._transformed[token.key] = values
        return values

    def texts(self, token: OutputToken) -> list[str]:
        """The token's text (width applied) for every row."""
        if token.operand is None:
            return self._take(self._events.texts(token))
        return _texts(token, self._token_values(token))

    def json(self, token: OutputToken) -> ObjectArray:
        """The token's ``output_fields`` value for every row."""
        if token.operand is None:
            taken: ObjectArray = self._events.json(token)[self._where_array]
            return taken
        return object_array(_json(token, self._token_values(token)))

    def time_ns(self) -> npt.NDArray[np.int64]:
        """Each row's time in ns (see :meth:`Events.time_ns`)."""
        return self._events.time_ns()[self._where_array]

    def clock(self) -> list[str]:
        """Each row's time as the ``output`` prefix prints it."""
        return self._take(self._events.clock())


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


def _texts(token: OutputToken, values: list[Any], types: set[type] | None = None) -> list[str]:
    """:func:`render_value` of each value, width applied: C-speed for plain text and ints, else once
    per distinct value."""
    texts = render_values(token, values, types)
    if texts is None:
        texts = Column(values).map(partial(render_value, token))
    width = token.width
    if width is None:
        return texts
    return [text[:width].ljust(width) for text in texts]


def _json(token: OutputToken, values: list[Any], types: set[type] | None = None) -> list[Any]:
    """:func:`json_value` of each value, as :func:`_texts` renders them."""
    out = json_values(token, values, types)
    return out if out is not None else Column(values).map(partial(json_value, token))


def _concat(pieces: list[str | list[str]], n: int) -> list[str]:
    """Row-wise concatenation of literal strings and per-row string lists (one join per row)."""
    columns = [repeat(piece, n) if isinstance(piece, str) else piece for piece in pieces if piece != ""]
    if not columns:
        return [""] * n
    return list(map("".join, zip(*columns, strict=True)))


def _message_pieces(fmt: OutputFormat, rows: Rows) -> list[str | list[str]]:
    return [part if isinstance(part, str) else rows.texts(part) for part in fmt.parts]


def _fields(fmt: OutputFormat, rows: Rows, into: dict[str, npt.NDArray[Any]]) -> None:
    for token in fmt.tokens:
        into[token.key] = rows.json(token)


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
        ``output_fields`` key → one JSON value per alert (an array; ``evt.time`` included), keys sorted.
    """

    output: ObjectArray
    time_ns: npt.NDArray[np.int64]
    fields: dict[str, npt.NDArray[Any]]


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
    if time_ns is None:
        ns, clock = rows.time_ns(), rows.clock()
    else:
        ns = np.full(rows.n, time_ns, dtype=np.int64)
        clock = format_clock_iso(ns)[0]
    pieces: list[str | list[str]] = [clock, f": {priority} ", *_message_pieces(fmt, rows)]
    fields: dict[str, npt.NDArray[Any]] = {}
    _fields(fmt, rows, fields)
    if extra is not None:
        pieces += [" ", *_message_pieces(extra, rows)]
        _fields(extra, rows, fields)
    fields["evt.time"] = ns
    output = np.empty(rows.n, dtype=object)
    output[:] = _concat(pieces, rows.n)
    return AlertBlock(output=output, time_ns=ns, fields=dict(sorted(fields.items())))
