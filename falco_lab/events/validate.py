"""Check decoded Falco alerts one by one and turn the good ones into the canonical frame.

This is the careful path shared by every loader that sees individual alerts (the
per-line fallback of the JSON-lines reader, webhook payloads, the sidekick-ui API):
each record is either kept or reported with a reason, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from falco_lab.events.frame import records_to_frame
from falco_lab.events.load_diagnostics import Problem
from falco_lab.priorities import normalize_priority

#: Keys an alert must carry (``time`` may instead come from ``output_fields["evt.time"]``).
REQUIRED_KEYS: tuple[str, ...] = ("time", "rule", "priority")
_OPTIONAL_TEXT = ("source", "hostname", "output", "uuid")


def json_type_name(value: object) -> str:
    """The JSON name of a decoded value's type (``object``, ``array``, ``string`` ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _evt_time_ns(alert: dict) -> int | None:
    fields = alert.get("output_fields")
    if isinstance(fields, dict):
        value = fields.get("evt.time")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def check_alert(alert: object) -> str | None:
    """Return why ``alert`` is not a usable Falco alert, or ``None`` if it is.

    Checks the shape only; the ``time`` text is parsed (vectorised) by :func:`alerts_to_frame`.
    """
    if not isinstance(alert, dict):
        return f"JSON {json_type_name(alert)} is not an object"
    for key in ("rule", "priority"):
        value = alert.get(key)
        if value is None:
            return f"missing required key '{key}'"
        if not isinstance(value, str):
            return f"key '{key}' must be a string, got {json_type_name(value)}"
    if normalize_priority(alert["priority"]) is None:
        return f"unknown priority {alert['priority'][:80]!r}"
    time = alert.get("time")
    if time is None:
        if _evt_time_ns(alert) is None:
            return "missing required key 'time' (and no output_fields['evt.time'])"
    elif not isinstance(time, str):
        return f"key 'time' must be a string, got {json_type_name(time)}"
    for key in _OPTIONAL_TEXT:
        value = alert.get(key)
        if value is not None and not isinstance(value, str):
            return f"key '{key}' must be a string, got {json_type_name(value)}"
    tags = alert.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        return "key 'tags' must be a list of strings"
    fields = alert.get("output_fields")
    if fields is not None and not isinstance(fields, dict):
        return f"key 'output_fields' must be an object, got {json_type_name(fields)}"
    return None


def parse_times(alerts: Sequence[dict]) -> tuple[pd.Series, list[str | None]]:
    """Parse each alert's ``time`` (falling back to ``output_fields["evt.time"]`` in ns).

    Returns the ``datetime64[ns, UTC]`` series and, per alert, ``None`` or why its time
    is unusable.
    """
    texts = pd.Series([a.get("time") for a in alerts], dtype=object)
    parsed = pd.to_datetime(texts, format="ISO8601", utc=True, errors="coerce")
    parsed = (
        parsed.astype("datetime64[ns, UTC]") if len(parsed) else pd.Series([], dtype="datetime64[ns, UTC]")  # type: ignore[assignment]
    )
    reasons: list[str | None] = [None] * len(alerts)
    missing = parsed.isna().to_numpy()
    if missing.any():
        values = parsed.to_numpy(copy=True)
        for i in map(int, missing.nonzero()[0]):
            ns = _evt_time_ns(alerts[i])
            if ns is not None:
                try:
                    values[i] = pd.Timestamp(ns, unit="ns", tz="UTC").as_unit("ns")
                    continue
                except (OverflowError, ValueError):
                    pass
            text = alerts[i].get("time")
            reasons[i] = "missing required key 'time'" if text is None else f"invalid time {text[:60]!r}"
        parsed = pd.Series(values, dtype="datetime64[ns, UTC]")
    return parsed.reset_index(drop=True), reasons


def alerts_to_frame(
    alerts: Sequence[object],
    file: str,
    lines: Sequence[int | None] | None = None,
    labels: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate decoded alerts; return the canonical frame of the good ones and the problems.

    Parameters
    ----------
    alerts : sequence
        Decoded JSON values, ideally Falco alert objects.
    file : str
        Source name for problems.
    lines : sequence of int, optional
        Line number of each alert in ``file`` (problems carry it).
    labels : sequence of str, optional
        Prefix for a problem's reason when there are no lines (e.g. ``"page 3, event 7"``).
    """
    problems: list[tuple[int, Problem]] = []
    good: list[dict] = []
    good_pos: list[int] = []
    for i, alert in enumerate(alerts):
        reason = check_alert(alert)
        if reason is None:
            good.append(alert)  # type: ignore[arg-type]
            good_pos.append(i)
        else:
            problems.append((i, _problem(file, i, reason, lines, labels)))
    times, time_reasons = parse_times(good)
    if any(time_reasons):
        keep = [j for j, r in enumerate(time_reasons) if r is None]
        for j, r in enumerate(time_reasons):
            if r is not None:
                problems.append((good_pos[j], _problem(file, good_pos[j], r, lines, labels)))
        good = [good[j] for j in keep]
        times = times.iloc[keep]
        problems.sort(key=lambda item: item[0])
    return records_to_frame(good, times), [p for _, p in problems]


def _problem(
    file: str, index: int, reason: str, lines: Sequence[int | None] | None, labels: Sequence[str] | None
) -> Problem:
    line = lines[index] if lines is not None else None
    if labels is not None and line is None:
        reason = f"{labels[index]}: {reason}"
    return Problem(file, line, reason)
