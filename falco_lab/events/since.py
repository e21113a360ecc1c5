"""The ``since`` window, in falcosidekick-ui's grammar (``5min``, ``24h``, ``2d``, ``1y`` ...).

The UI accepts ``N`` + unit (``s|second(s)``, ``m|min|minute(s)``, ``h|hour(s)``,
``d|day(s)``, ``w|week(s)``, ``M|month(s)``, ``y|year(s)``) or plain seconds.  Here the
same strings work for every source, as do ``timedelta`` objects and absolute times.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

_UNITS: dict[str, int] = {}
for _names, _seconds in (
    (("s", "sec", "second", "seconds"), 1),
    (("m", "min", "mins", "minute", "minutes"), 60),
    (("h", "hour", "hours"), 3600),
    (("d", "day", "days"), 86400),
    (("w", "week", "weeks"), 7 * 86400),
    (("M", "month", "months"), 30 * 86400),
    (("y", "year", "years"), 365 * 86400),
):
    for _name in _names:
        _UNITS[_name] = _seconds

_SINCE = re.compile(r"^\s*(\d+)\s*([A-Za-z]*)\s*$")

Since = str | int | dt.timedelta | dt.datetime | pd.Timestamp


def since_seconds(value: str | int | dt.timedelta) -> int:
    """Length of a relative window in seconds.

    Raises
    ------
    ValueError
        For text that is not ``N`` + a known unit.
    """
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    if isinstance(value, bool):
        raise ValueError(f"invalid since value {value!r}")
    if isinstance(value, int):
        return value
    match = _SINCE.match(value)
    if not match:
        raise ValueError(f"invalid since value {value!r}: expected N plus a unit such as 5min, 24h, 2d")
    number, unit = int(match.group(1)), match.group(2)
    if not unit:
        return number
    seconds = unit_seconds(unit)
    if seconds is None:
        raise ValueError(f"invalid since unit {unit!r} in {value!r}")
    return number * seconds


def unit_seconds(unit: str) -> int | None:
    """Seconds in one ``unit`` of the grammar above (``m`` is a minute, ``M`` a month), else None."""
    seconds = _UNITS.get(unit)
    if seconds is None and len(unit) > 1:
        seconds = _UNITS.get(unit.lower())
    return seconds


def since_cutoff(value: Since, now: pd.Timestamp | None = None) -> pd.Timestamp:
    """The earliest event time kept for ``since=value`` (UTC)."""
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        stamp = pd.Timestamp(value)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    return now - pd.Timedelta(seconds=since_seconds(value))


def since_param(value: Since) -> str:
    """The ``since`` query parameter for the sidekick-ui API: always plain seconds before now.

    The text is never passed through: falcosidekick-ui 2.2.0 exits (``log.Fatalf``) on a
    unit it does not know, its units are case-sensitive, and 2.3.0 silently drops such a
    filter, while this module also accepts ``10sec``, ``5mins`` or ``2Hours``.
    """
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        delta = pd.Timestamp.now(tz="UTC") - since_cutoff(value)
        return str(max(0, int(delta.total_seconds()) + 1))
    return str(since_seconds(value))
