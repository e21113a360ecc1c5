"""Follow Falco's alerts live, like ``kubectl logs -f`` on the Falco pods, in either mode.

:func:`follow_alerts` asks the cluster for its alerts every ``poll`` seconds
(:meth:`~falco_lab.workshop.interface.Cluster.falco_alerts`: the Falco pods' logs through
the kubernetes client in cluster mode, the simulated Falco in simulate mode), prints each
new one as it arrives, and stops after ``seconds`` or ``max_alerts``, whichever comes
first.  Everything it prints is bounded, and it returns what it saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd

from falco_lab.workshop.interface import Cluster

__all__ = ["alert_line", "follow_alerts"]

#: Characters of an alert's output line printed before it is cut.
MAX_LINE = 240


def alert_line(row: pd.Series) -> str:
    """One alert as Falco's log line shows it: time, priority, output (cut at :data:`MAX_LINE`)."""
    output = str(row.get("output", ""))
    if len(output) > MAX_LINE:
        output = output[:MAX_LINE] + f"… ({len(output) - MAX_LINE} more characters)"
    return f"{row['time']:%H:%M:%S}Z {row['priority']}: {output}"


def _key(row: pd.Series) -> tuple[object, ...]:
    return (row["time"], row.get("rule"), row.get("hostname"), row.get("output"))


def follow_alerts(
    cluster: Cluster,
    *,
    seconds: float = 30.0,
    poll: float = 2.0,
    max_alerts: int = 20,
    since: datetime | None = None,
    on_alert: Callable[[str], None] = print,
    between_polls: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> pd.DataFrame:
    """Print new alerts as they arrive, for ``seconds`` or until ``max_alerts`` were shown.

    Parameters
    ----------
    cluster
        Either mode's cluster.
    seconds, poll
        How long to follow, and how often to ask.
    max_alerts
        Stop after this many alerts (the rest are counted, not printed).
    since
        Only alerts from this time on (default: now, so only what happens while following).
    on_alert
        Called with each alert's line (``print`` in a notebook).
    between_polls
        Called with the poll number after each poll (simulate mode uses it to act while
        following; a real cluster is acted on from a terminal).
    sleep, clock
        For tests.

    Returns
    -------
    pandas.DataFrame
        The alerts shown, in the canonical events frame; ``attrs["not_shown"]`` counts the
        alerts that arrived after ``max_alerts``.
    """
    start = since or datetime.now(UTC)
    seen: set[tuple[object, ...]] = set()
    shown: list[pd.Series] = []
    not_shown = 0
    deadline = clock() + seconds
    polls = 0
    while True:
        alerts = cluster.falco_alerts(since=start)
        for _, row in alerts.sort_values("time", kind="stable").iterrows():
            key = _key(row)
            if key in seen:
                continue
            seen.add(key)
            if len(shown) < max_alerts:
                shown.append(row)
                on_alert(alert_line(row))
            else:
                not_shown += 1
        polls += 1
        if len(shown) >= max_alerts or clock() >= deadline:
            break
        if between_polls is not None:
            between_polls(polls)
        sleep(min(poll, max(deadline - clock(), 0)))
    if not_shown:
        on_alert(f"… {not_shown} more alert(s) not shown (max_alerts={max_alerts})")
    frame = pd.DataFrame(shown).reset_index(drop=True) if shown else pd.DataFrame(columns=["time", "rule"])
    frame.attrs["not_shown"] = not_shown
    return frame
