"""The falcosidekick UI's event-detail view, for the alerts of the workshop's test pods.

In the falcosidekick UI, clicking an event opens its details: rule, priority, source,
hostname, time, tags, the output line and every output field.  :func:`event_details`
builds the same view from the canonical events frame, one card per workshop test (the
first alert raised in that test's pod), so the notebook shows in simulate mode what the
attendee sees in the UI in cluster mode, and in cluster mode what the UI showed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import pandas as pd

from falco_lab.events.schema import BASE_COLUMNS
from falco_lab.lab.nb import is_missing

__all__ = [
    "DETAIL_FIELDS",
    "UNEXPECTED_COLUMNS",
    "EventDetail",
    "EventDetails",
    "event_details",
    "unexpected_alerts",
]

#: The output fields the workshop points at, shown first in every card (missing ones say so).
DETAIL_FIELDS: tuple[str, ...] = ("k8s.pod.name", "k8s.ns.name", "proc.cmdline", "container.mounts")
#: A value longer than this is cut, with the number of characters left out.
MAX_VALUE_CHARS = 400
#: Output fields shown per card after the :data:`DETAIL_FIELDS`, before "N more".
MAX_FIELDS = 24

_HEAD = ("time", "rule", "priority", "source", "hostname", "tags")


def _text(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return None if is_missing(value) else str(value)


def _cut(text: str) -> str:
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return f"{text[:MAX_VALUE_CHARS]}… ({len(text) - MAX_VALUE_CHARS:,} more characters)"


@dataclass(frozen=True, slots=True)
class EventDetail:
    """One test's card: the alert's head, output and fields (or why there is none)."""

    test: str
    pod: str
    alerts: int
    head: tuple[tuple[str, str], ...] = ()
    output: str = ""
    fields: tuple[tuple[str, str | None], ...] = ()
    more_fields: int = 0

    @property
    def found(self) -> bool:
        return self.alerts > 0

    def field(self, name: str) -> str | None:
        """The value of output field ``name`` in this card (None when the alert has none)."""
        return dict(self.fields).get(name)

    def lines(self) -> list[str]:
        title = f"{self.test}: pod {self.pod}"
        if not self.found:
            return [title, "  no alert from this pod in the events"]
        out = [f"{title} ({self.alerts:,} alert(s); the first one)"]
        out += [f"  {k:<17} {v}" for k, v in self.head]
        out.append(f"  {'output':<17} {_cut(self.output)}")
        for name, value in self.fields:
            out.append(f"  {name:<17} {_cut(value) if value is not None else '<not in this alert>'}")
        if self.more_fields:
            out.append(f"  … {self.more_fields} more output field(s)")
        return out

    def to_html(self) -> str:
        if not self.found:
            return (
                f"<div><h4>{escape(self.test)}: pod <code>{escape(self.pod)}</code></h4>"
                "<p>No alert from this pod in the events.</p></div>"
            )
        rows = [(k, v) for k, v in self.head] + [("output", _cut(self.output))]
        rows += [(k, _cut(v) if v is not None else "<not in this alert>") for k, v in self.fields]
        body = "".join(
            f'<tr><th style="text-align:left;white-space:nowrap">{escape(k)}</th>'
            f'<td style="white-space:pre-wrap;word-break:break-word">{escape(v)}</td></tr>'
            for k, v in rows
        )
        more = f"<p>… {self.more_fields} more output field(s)</p>" if self.more_fields else ""
        return (
            f"<div><h4>{escape(self.test)}: pod <code>{escape(self.pod)}</code> "
            f"({self.alerts:,} alert(s); the first one)</h4><table>{body}</table>{more}</div>"
        )


@dataclass(frozen=True, slots=True)
class EventDetails:
    """The cards of every test, in the order given."""

    cards: tuple[EventDetail, ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator[EventDetail]:
        return iter(self.cards)

    def __len__(self) -> int:
        return len(self.cards)

    def __getitem__(self, test: str) -> EventDetail:
        for card in self.cards:
            if card.test == test:
                return card
        raise KeyError(f"no card for test {test!r}; tests: {', '.join(c.test for c in self.cards)}")

    def __str__(self) -> str:
        return "\n\n".join("\n".join(card.lines()) for card in self.cards)

    def _repr_html_(self) -> str:
        return "".join(card.to_html() for card in self.cards)


def event_details(
    events: pd.DataFrame,
    pods: Mapping[str, str] | Sequence[tuple[str, str]],
    *,
    fields: Sequence[str] = DETAIL_FIELDS,
    max_fields: int = MAX_FIELDS,
    rules: Mapping[str, Sequence[str]] | None = None,
) -> EventDetails:
    """The falcosidekick UI's event detail of the first alert of each test pod.

    Parameters
    ----------
    events
        Canonical events frame (:mod:`falco_lab.events.schema`), any source.
    pods
        Test name → pod name, in the order to show (e.g. the workshop's three tests).
    fields
        Output fields shown first in every card, present or not.
    max_fields
        Further output fields of the alert shown, before "N more".
    rules
        Test name → the rules that test is about: its card shows the first alert of those
        rules when there is one (else the pod's first alert, whatever rule raised it).
    """
    items = list(pods.items()) if isinstance(pods, Mapping) else list(pods)
    has_pod = "k8s.pod.name" in events.columns
    ordered = events.sort_values("time", kind="stable") if "time" in events.columns else events
    cards = []
    for test, pod in items:
        rows = ordered[ordered["k8s.pod.name"].astype("string") == pod] if has_pod else ordered.iloc[0:0]
        if rows.empty:
            cards.append(EventDetail(test=test, pod=pod, alerts=0))
            continue
        preferred = rows[rows["rule"].astype(str).isin(list((rules or {}).get(test, ())))]
        first = (preferred if len(preferred) else rows).iloc[0]
        head = tuple((k, _text(first[k]) or "") for k in _HEAD if k in rows.columns)
        extra = [
            c
            for c in rows.columns
            if c not in BASE_COLUMNS and c not in fields and _text(first[c]) is not None
        ]
        shown = [(name, _text(first[name]) if name in rows.columns else None) for name in fields]
        shown += [(name, _text(first[name])) for name in extra[:max_fields]]
        cards.append(
            EventDetail(
                test=test,
                pod=pod,
                alerts=len(rows),
                head=head,
                output=_text(first.get("output")) or "",
                fields=tuple(shown),
                more_fields=max(len(extra) - max_fields, 0),
            )
        )
    return EventDetails(tuple(cards))


#: Columns of :func:`unexpected_alerts`.
UNEXPECTED_COLUMNS: tuple[str, ...] = ("test", "pod", "rule", "alerts", "first")


def unexpected_alerts(steps: pd.DataFrame, alerts: pd.DataFrame) -> pd.DataFrame:
    """Rules that fired in a test's pod although no step of that test expects them.

    Parameters
    ----------
    steps
        ``falco_lab.workshop.run_workshop_tests`` output (``test``, ``pod``, ``namespace``,
        ``expected_rules``, ``expected_upstream_rules`` per step).
    alerts
        Canonical events frame of the run.

    Returns
    -------
    pandas.DataFrame
        One row per (test, rule): ``alerts`` (count) and ``first`` (time of the first one),
        in test order, then by rule.  Empty when every alert was expected.
    """
    rows: list[dict[str, Any]] = []
    if not {"k8s.pod.name", "k8s.ns.name"} <= set(alerts.columns):
        return pd.DataFrame(columns=list(UNEXPECTED_COLUMNS))
    for test, group in steps.groupby("test", sort=False):
        pod, namespace = group["pod"].iloc[0], group["namespace"].iloc[0]
        expected = {
            r for column in ("expected_rules", "expected_upstream_rules") for rs in group[column] for r in rs
        }
        mine = alerts[(alerts["k8s.pod.name"] == pod) & (alerts["k8s.ns.name"] == namespace)]
        for rule, hits in mine.groupby(mine["rule"].astype(str), sort=True):
            if rule not in expected:
                rows.append(
                    {"test": test, "pod": pod, "rule": rule, "alerts": len(hits), "first": hits["time"].min()}
                )
    return pd.DataFrame(rows, columns=list(UNEXPECTED_COLUMNS))
