"""Compare the reader's field values with libsinsp's (sysdig's) for the same events.

The expectations are rows printed by ``sysdig -p`` (see ``tools/gen_capture_expectations.py``):
key columns ``evt.rawtime``, ``thread.tid``, ``evt.type``, ``evt.dir``, then field values as
sysdig prints them.  :func:`compare` matches events by key and counts, per field, how many values
are equal once the reader's value is printed the same way (:func:`as_sysdig`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FieldScore", "as_sysdig", "compare"]


def as_sysdig(value: Any) -> str:
    """A field value printed as ``sysdig -p`` prints it (``<NA>`` for missing)."""
    if value is None:
        return "<NA>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class FieldScore:
    """Matches and mismatches of one field; ``examples`` holds up to 5 ``(key, ours, theirs)``."""

    matched: int = 0
    total: int = 0
    examples: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.matched / self.total if self.total else 1.0


def compare(
    rows: Iterable[Mapping[str, Any]], expected: Sequence[Sequence[str]], columns: Sequence[str]
) -> tuple[dict[str, FieldScore], int]:
    """Per-field scores of ``rows`` (the reader's) against ``expected`` (sysdig's), and the
    number of expected events the reader has no row for (each counts as a miss on every field)."""
    index: dict[tuple[str, str, str, str], Mapping[str, Any]] = {}
    for row in rows:
        key = (
            as_sysdig(row.get("evt.rawtime")),
            as_sysdig(row.get("thread.tid")),
            str(row.get("evt.type")),
            str(row.get("evt.dir")),
        )
        index.setdefault(key, row)
    scores = {name: FieldScore() for name in columns[4:]}
    missing = 0
    for line in expected:
        key = (line[0], line[1], line[2], line[3])
        ours = index.get(key)
        if ours is None:
            missing += 1
        for name, theirs in zip(columns[4:], line[4:], strict=True):
            score = scores[name]
            score.total += 1
            mine = as_sysdig(ours.get(name)) if ours is not None else "<no event>"
            if mine == theirs or (name == "evt.args" and mine == theirs.removesuffix(" ")):
                score.matched += 1
            elif len(score.examples) < 5:
                score.examples.append((" ".join(key), mine, theirs))
    return scores, missing
