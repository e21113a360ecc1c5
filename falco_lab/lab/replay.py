"""Replay a public capture (a real recorded session) through rules, for the workshop notebooks.

:func:`replay_capture` finds the capture where :func:`falco_lab.capture.fetch.find_capture`
looks (``dir=``, ``$FALCO_LAB_CAPTURES_DIR``, the ``falco-lab capture fetch`` cache), reads it with
:func:`falco_lab.capture.load_capture`, evaluates the rules on it and returns a :class:`Replay`:
the rules that fired (a table) and :meth:`Replay.explain` for a rule that stayed silent.  When
the capture is not there (offline, a fresh clone) the replay says so plainly and how to get it,
and every method still answers (with empty tables), so a notebook runs to the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from falco_lab.capture import load_capture
from falco_lab.capture.fetch import CaptureNotFound, find_capture, public_captures
from falco_lab.lab.nb import is_missing
from falco_lab.rules import RuleSet

__all__ = ["ATTACK_CAPTURE", "FIRED_COLUMNS", "Replay", "replay_capture"]

#: The most attack-like of the public captures: ``docker exec`` of a root bash into a running
#: nginx container, which then runs ``ls`` (plus the host's own noise: sshd, dockerd, ...).
ATTACK_CAPTURE = "falco__psp_run_as_user_0_container.scap"
#: Columns of :attr:`Replay.fired`.
FIRED_COLUMNS = ("rule", "priority", "alerts", "first", "process", "command", "container")


@dataclass(slots=True)
class Replay:
    """The result of :func:`replay_capture`.

    Attributes
    ----------
    name:
        The capture's name in the registry (:func:`falco_lab.capture.fetch.public_captures`).
    message:
        One plain sentence: what was replayed, or that the capture is absent and how to get it.
    path:
        The local file, or ``None`` when absent.
    events:
        The capture's events (one column per field); empty when absent.
    alerts:
        The alerts, as :meth:`RuleSet.evaluate` returns them; empty when absent.
    fired:
        One row per rule that fired (:data:`FIRED_COLUMNS`), most alerts first.
    """

    name: str
    message: str
    path: Path | None = None
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)
    fired: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(FIRED_COLUMNS)))

    @property
    def available(self) -> bool:
        return self.path is not None

    def event_for(self, ruleset: RuleSet, rule: str) -> dict[str, Any] | None:
        """The first event of the capture of a type ``rule`` looks at (one in a container if any).

        ``None`` when the capture is absent or has no event of those types.
        """
        if self.events.empty or "evt.type" not in self.events.columns:
            return None
        types = ruleset.rule(rule).evttypes
        rows = self.events[self.events["evt.type"].isin(types)] if types else self.events
        if rows.empty:
            return None
        in_container = rows[rows.get("container.id", pd.Series(index=rows.index, dtype=object)) != "host"]
        row = (in_container if not in_container.empty else rows).iloc[0]
        return {str(k): v for k, v in row.items() if not is_missing(v)}

    def explain(self, ruleset: RuleSet, rule: str) -> str:
        """Why ``rule`` did or did not fire on :meth:`event_for` (the explain tree, as text)."""
        if not self.available:
            return self.message
        event = self.event_for(ruleset, rule)
        if event is None:
            return f"{self.name} has no event of the types {rule!r} looks at: it could not fire."
        head = (
            f"{rule!r} on event {event.get('evt.num')} ({event.get('evt.type')} by {event.get('proc.name')}, "
            f"command line {event.get('proc.cmdline')!r}, container {event.get('container.id')}):"
        )
        return head + "\n" + str(ruleset.explain(rule, event))


def _fired(alerts: pd.DataFrame) -> pd.DataFrame:
    if alerts.empty:
        return pd.DataFrame(columns=list(FIRED_COLUMNS))
    rows = []
    for rule, group in alerts.groupby(alerts["rule"].astype(str), sort=False):
        first = group.iloc[0]
        rows.append(
            {
                "rule": rule,
                "priority": str(first["priority"]),
                "alerts": len(group),
                "first": first["time"],
                "process": first.get("proc.name"),
                "command": first.get("proc.cmdline"),
                "container": first.get("container.id"),
            }
        )
    return pd.DataFrame(rows, columns=list(FIRED_COLUMNS)).sort_values(
        "alerts", ascending=False, kind="stable"
    )


def replay_capture(name: str, ruleset: RuleSet, *, dir: str | Path | None = None) -> Replay:
    """Replay the public capture ``name`` through ``ruleset``.

    The alerts carry the capture's host name (``evt.hostname``), as the recording machine's
    Falco would print it.

    Raises
    ------
    falco_lab.capture.CaptureError
        When the local copy is truncated or corrupt (it passed its checksum, so this is a bug).
    """
    what = public_captures()[name].what if name in public_captures() else name
    try:
        path = find_capture(name, dir)
    except CaptureNotFound as exc:
        return Replay(name, f"Not replayed: {exc}.")
    events = load_capture(path)
    hosts = events["evt.hostname"].dropna() if "evt.hostname" in events.columns else pd.Series(dtype=object)
    alerts = ruleset.evaluate(events, hostname=str(hosts.iloc[0]) if len(hosts) else None)
    fired = _fired(alerts)
    message = (
        f"Replayed {name} ({what}): {len(events):,} events, {len(alerts):,} alert(s) from "
        f"{len(fired):,} of {len(ruleset.rules):,} rules."
    )
    return Replay(name, message, path, events, alerts, fired)
