"""Post-load sanity: implausible times converted or rejected, duplicate alerts dropped.

``load_events`` calls :func:`post_load` once every source is read and concatenated:

* **time units** - an alert's ``time`` comes from its ``time`` text or, without one,
  from ``output_fields["evt.time"]`` read as nanoseconds.  An ``evt.time`` written in
  seconds, milliseconds or microseconds then lands in 1970.  Every alert whose time is
  outside :data:`PLAUSIBLE` is looked at: when its ``evt.time`` read in s, ms or µs (the
  unit its magnitude gives) is plausible, the time is converted and the load report
  carries a warning naming the source, the unit and an example; otherwise the alert is
  rejected as a :class:`~falco_lab.events.load_diagnostics.Problem` naming the source and
  the value - unless no alert of the load has a plausible time (synthetic events, old
  replays): then they are kept and the report warns.  No alert is silently placed
  decades away.
* **duplicates** - the same alert read twice (one file loaded twice, an export and the
  live UI overlapping) is dropped, keeping the first: same ``uuid``; alerts without a
  ``uuid`` when ``time``, ``rule``, ``output``, ``hostname`` and every output field are
  all equal.  The load
  report counts them (``duplicates``).  Inside :func:`keeping_duplicates` they are kept.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from falco_lab.events.load_diagnostics import ATTRS_KEY, LoadReport, Problem

__all__ = ["PLAUSIBLE", "UNITS", "keeping_duplicates", "post_load"]

#: Times outside this window are not believed (Falco 0.x did not exist before 2016).
PLAUSIBLE: tuple[pd.Timestamp, pd.Timestamp] = (
    pd.Timestamp("2000-01-01", tz="UTC"),
    pd.Timestamp("2100-01-01", tz="UTC"),
)

#: (unit name, nanoseconds per unit, smallest magnitude of a plausible value in that unit).
UNITS: tuple[tuple[str, int, float], ...] = (
    ("nanoseconds", 1, 9.4e17),
    ("microseconds", 1_000, 9.4e14),
    ("milliseconds", 1_000_000, 9.4e11),
    ("seconds", 1_000_000_000, 9.4e8),
)

#: Examples named per source in a warning or rejection.
MAX_EXAMPLES = 3

_KEEP = contextvars.ContextVar("falco_lab_keep_duplicates", default=False)


@contextlib.contextmanager
def keeping_duplicates() -> Iterator[None]:
    """Within this block, ``load_events`` keeps duplicate alerts (they are still counted as 0)."""
    token = _KEEP.set(True)
    try:
        yield
    finally:
        _KEEP.reset(token)


def _unit_of(value: float) -> tuple[str, int] | None:
    magnitude = abs(value)
    for name, ns, smallest in UNITS:
        if magnitude >= smallest:
            return name, ns
    return None


def _label(frame: pd.DataFrame, i: int) -> str:
    """How a message names the i-th alert: its uuid, else its rule."""
    uuid = frame["uuid"].iloc[i] if "uuid" in frame.columns else None
    rule = frame["rule"].iloc[i]
    return f"uuid {uuid}" if isinstance(uuid, str) else f"rule {rule!r}"


def _classify(frame: pd.DataFrame) -> list[tuple[int, str | None, pd.Timestamp | None]]:
    """(row position, unit or None, converted time or None) of every implausible time."""
    times = frame["time"]
    bad = ((times < PLAUSIBLE[0]) | (times >= PLAUSIBLE[1])).fillna(False).to_numpy(dtype=bool)
    if not bad.any():
        return []
    raw = (
        frame["evt.time"]
        if "evt.time" in frame.columns
        else pd.Series([None] * len(frame), index=frame.index)
    )
    numeric = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    exact = raw.to_numpy(dtype=object)
    out: list[tuple[int, str | None, pd.Timestamp | None]] = []
    for i in map(int, np.flatnonzero(bad)):
        unit = None if np.isnan(numeric[i]) else _unit_of(numeric[i])
        stamp = None
        if unit is not None and unit[1] != 1:
            stamp = pd.Timestamp(int(exact[i]) * unit[1], unit="ns", tz="UTC")
            if not PLAUSIBLE[0] <= stamp < PLAUSIBLE[1]:
                stamp = None
        out.append((i, unit[0] if stamp is not None and unit is not None else None, stamp))
    return out


def _messages(frame: pd.DataFrame, source: str) -> tuple[list[str], list[Problem]]:
    converted: dict[str, list[str]] = {}
    problems = []
    raw = frame["evt.time"] if "evt.time" in frame.columns else None
    for i, unit, _stamp in _classify(frame):
        value = "missing" if raw is None or pd.isna(raw.iloc[i]) else str(raw.iloc[i])
        if unit is None:
            problems.append(
                Problem(
                    source,
                    None,
                    f"implausible time: {_label(frame, i)} has time {frame['time'].iloc[i]:%Y-%m-%d} and "
                    f"evt.time {value}, which no unit (s, ms, µs, ns) puts between "
                    f"{PLAUSIBLE[0]:%Y} and {PLAUSIBLE[1]:%Y}",
                )
            )
        else:
            converted.setdefault(unit, []).append(f"{_label(frame, i)} evt.time={value}")
    warnings = [
        f"{source}: {len(examples)} alert(s) had evt.time in {unit}, converted "
        f"(e.g. {'; '.join(examples[:MAX_EXAMPLES])})"
        for unit, examples in converted.items()
    ]
    return warnings, problems


def _fix_times(frame: pd.DataFrame, reject: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` with its convertible times converted, and the mask of the rows to keep.

    No row is taken out here (that would copy every column): the caller takes the kept
    rows once, together with the other selections.
    """
    keep = np.ones(len(frame), dtype=bool)
    found = _classify(frame)
    if not found:
        return frame, keep
    fixed = frame["time"].copy()
    for i, _unit, stamp in found:
        if stamp is None:
            keep[i] = not reject
        else:
            fixed.iloc[i] = stamp
    return frame.assign(time=fixed), keep


def _duplicates(frame: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    """Which of the rows at ``positions`` (in that order) repeat an earlier one of them.

    Only the columns the test needs are taken: ``uuid``, and for the rows without one, the
    other columns of those rows alone.
    """
    if "uuid" in frame.columns:
        uuid = frame["uuid"].take(positions).reset_index(drop=True)
    else:
        uuid = pd.Series(pd.NA, index=range(len(positions)), dtype="string")
    has_uuid = uuid.notna().to_numpy()
    dup = np.zeros(len(positions), dtype=bool)
    if has_uuid.any():
        dup[has_uuid] = uuid[has_uuid].duplicated(keep="first").to_numpy()
    if (~has_uuid).any():
        # time, rule, output, hostname - and every output field, so two events that differ
        # only in a field the output text does not show are not merged
        key = [c for c in frame.columns if c not in ("tags", "uuid") and not c.startswith("_")]
        rest = frame[key].take(positions[~has_uuid]).astype("string").fillna("\x00")
        dup[~has_uuid] = rest.duplicated(keep="first").to_numpy()
    return dup


def post_load(
    frame: pd.DataFrame,
    report: LoadReport,
    chunks: Sequence[object] = (),
    order: np.ndarray | None = None,
) -> pd.DataFrame:
    """Fix or reject implausible times, drop duplicates, and attach the updated report.

    Parameters
    ----------
    frame:
        The concatenated frame of all sources (sorted or not).
    report:
        The report built so far; the returned frame carries it with the warnings,
        rejections and duplicate count added and ``events`` updated.
    chunks:
        The per-source chunks (objects with ``source`` and ``frame``) the frame was built
        from, so warnings and rejections name their source.
    order:
        Row positions in the order the result must have (e.g. a stable sort by ``time``);
        duplicates are judged in that order ("first" is first in it).  ``None``: the
        frame's order.  The kept rows are taken from ``frame`` once, in this order.

    Returns
    -------
    pandas.DataFrame
        The frame without rejected and duplicate rows (index reset), with the report in
        ``attrs["load_report"]``.
    """
    if len(frame):
        warnings: list[str] = []
        problems: list[Problem] = []
        parts = [(str(getattr(c, "source", "?")), getattr(c, "frame", None)) for c in chunks]
        # Reject only against the rest of the data: when no alert at all has a plausible
        # time (synthetic events of a test, a replay of old data) they are kept, with a warning.
        converted = {i: s for i, _u, s in _classify(frame) if s is not None}
        times = frame["time"]
        plausible = ((times >= PLAUSIBLE[0]) & (times < PLAUSIBLE[1])).fillna(False).to_numpy(dtype=bool)
        reject = bool(plausible.any() or converted)
        for source, part in parts if parts else [("<alerts>", frame)]:
            if isinstance(part, pd.DataFrame) and len(part) and "time" in part.columns:
                found_warnings, found_problems = _messages(part, source)
                warnings += found_warnings
                if reject:
                    problems += found_problems
                elif found_problems:
                    warnings.append(
                        f"{source}: {len(found_problems)} alert(s) have times outside {PLAUSIBLE[0]:%Y}-"
                        f"{PLAUSIBLE[1]:%Y} and no alert has a plausible time: kept as they are "
                        f"(first: {found_problems[0].reason.removeprefix('implausible time: ')})"
                    )
        frame, keep = _fix_times(frame, reject)
        positions = np.arange(len(frame)) if order is None else np.asarray(order, dtype=np.int64)
        positions = positions[keep[positions]]
        dup = _duplicates(frame, positions)
        dropped = 0 if _KEEP.get() else int(dup.sum())
        if dropped:
            positions = positions[~dup]
        if len(positions) != len(frame) or (positions != np.arange(len(frame))).any():
            frame = frame.take(positions)
        frame = frame.reset_index(drop=True)
        report = replace(
            report,
            events=len(frame),
            problems=report.problems + tuple(problems),
            warnings=report.warnings + tuple(warnings),
            duplicates=report.duplicates + dropped,
        )
    elif order is not None:
        frame = frame.take(order).reset_index(drop=True)
    frame.attrs[ATTRS_KEY] = report
    return frame
