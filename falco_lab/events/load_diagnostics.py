"""What a load kept and what it rejected: :class:`LoadReport` and :class:`Problem`.

``load_events`` stores the report in ``DataFrame.attrs["load_report"]``.  pandas
propagates ``attrs`` through copies, slicing, boolean filtering, ``head``/``tail``,
``sort_values`` and column selection; operations that build a *new* frame from several
inputs (``merge``, ``groupby(...).agg``, ``pd.concat`` of frames with different
reports) may drop it, so keep a reference early: ``report = load_report(df)``.
The report is immutable and is shared, not deep-copied, when pandas copies ``attrs``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from falco_lab.errors import FalcoLabError

#: Key of the report in ``DataFrame.attrs``.
ATTRS_KEY = "load_report"


@dataclass(frozen=True)
class Problem:
    """One rejected input record.

    Attributes
    ----------
    file : str
        The source: a path, ``<stdin>``, a URL (credentials never included) or a pod.
    line : int | None
        1-based line number in that source (``None`` when the source has no lines,
        e.g. the n-th event of an API page; then ``reason`` says which one).
    reason : str
        Why the record was rejected, in plain words.
    """

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.reason}"

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class LoadReport:
    """Summary of one ``load_events`` call.

    Attributes
    ----------
    sources : tuple of str
        Every source read, in order (directories expanded to their files).
    events : int
        Records loaded into the frame.
    problems : tuple of Problem
        Every rejected record (nothing is capped here).
    skipped : int
        Lines deliberately ignored and not counted as bad: blank lines, and Falco's own
        log lines in pod logs.
    warnings : tuple of str
        Records kept but changed, each message naming its source (e.g. an ``evt.time``
        in microseconds converted; see :mod:`falco_lab.events.sanity`).
    duplicates : int
        Alerts dropped because an identical one was already loaded (same ``uuid``, or
        same time, rule, output and hostname).
    """

    sources: tuple[str, ...] = ()
    events: int = 0
    problems: tuple[Problem, ...] = field(default=())
    skipped: int = 0
    warnings: tuple[str, ...] = field(default=())
    duplicates: int = 0

    @property
    def bad_records(self) -> int:
        return len(self.problems)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __deepcopy__(self, memo: dict) -> LoadReport:
        # Immutable: pandas deep-copies ``attrs`` on every operation, sharing is safe and cheap.
        return self

    def reasons(self) -> Counter[str]:
        """Count problems by reason kind (the text before the first colon)."""
        return Counter(p.reason.split(":", 1)[0] for p in self.problems)

    def summary(self) -> str:
        """One clear sentence: what loaded, what was rejected and where to look."""
        text = f"loaded {self.events} event(s) from {len(self.sources)} source(s)"
        if self.skipped:
            text += f", skipped {self.skipped} non-event line(s)"
        if self.duplicates:
            text += f", dropped {self.duplicates} duplicate alert(s)"
        if self.warnings:
            text += f"; {len(self.warnings)} warning(s), first: {self.warnings[0]}"
        if not self.problems:
            return text + "; no bad records"
        first = self.problems[0]
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.reasons().most_common(3))
        return (
            f"{text}; rejected {self.bad_records} bad record(s) ({kinds}); first: {first}"
            f" (see load_report(df).problems)"
        )

    def __str__(self) -> str:
        return self.summary()

    def merged(self, other: LoadReport) -> LoadReport:
        """The report of loading ``self``'s sources, then ``other``'s."""
        return LoadReport(
            sources=self.sources + other.sources,
            events=self.events + other.events,
            problems=self.problems + other.problems,
            skipped=self.skipped + other.skipped,
            warnings=self.warnings + other.warnings,
            duplicates=self.duplicates + other.duplicates,
        )

    def to_dict(self, max_problems: int | None = None) -> dict[str, object]:
        problems = self.problems if max_problems is None else self.problems[:max_problems]
        return {
            "sources": list(self.sources),
            "events": self.events,
            "bad_records": self.bad_records,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
            "warnings": list(self.warnings),
            "problems": [p.to_dict() for p in problems],
        }


def load_report(frame: pd.DataFrame) -> LoadReport:
    """Return the :class:`LoadReport` attached to a frame by ``load_events``.

    Raises
    ------
    KeyError
        If the frame carries no report (it was built elsewhere, or an operation such as
        ``merge`` dropped ``attrs``).
    """
    try:
        return frame.attrs[ATTRS_KEY]
    except KeyError:
        raise KeyError(
            "this DataFrame carries no load report; keep `report = load_report(df)` right after "
            "load_events(), before merges or aggregations that drop DataFrame.attrs"
        ) from None


class LoadError(FalcoLabError):
    """Raised by ``load_events(strict=True)`` when any record is bad, or when a source
    cannot be read at all.  ``report`` holds everything known at that point."""

    def __init__(self, message: str, report: LoadReport | None = None) -> None:
        super().__init__(message)
        self.report = report
