"""What each alerting process did around its alerts, read from a syscall capture.

Given the alerts (a canonical events frame) and a capture loaded with
:func:`falco_lab.capture.load_capture` (one column per Falco field), :func:`capture_activity`
finds, for each alert, the process it names in the capture and lists what that process did in a
window around the alert (default 30 s before to 60 s after): the files it opened (``fd.name``
with the open flags), its network and unix-socket connections, and the children it started
(clone/fork then execve: child pid, exe, command line).  Every list is capped, with the number
left out.

Matching an alert to a capture process
--------------------------------------
* ``container.id``: when the alert has one, the capture rows must have the same;
* the process: ``proc.pid`` when the alert has it, else ``proc.vpid`` (the pid inside the
  container), else every process of that ``proc.name`` (and ``proc.cmdline``, when given) in
  the container; when the alert gives both a pid and a name, the capture must show that pid
  under that name in the window (a recycled pid is another process);
* the host: when ``match_host`` and both the alert's ``hostname`` and the capture's
  ``evt.hostname`` are known, they must be equal;
* the time: the window around the alert's ``time``.

An alert that names no process (no pid, vpid or name) cannot be placed and is counted in
:attr:`CaptureActivity.unplaced`; an alert whose process is not in the capture is counted in
:attr:`CaptureActivity.unmatched`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CaptureActivity",
    "Child",
    "Connection",
    "FileOpen",
    "ProcessActivity",
    "activity_rows",
    "capture_activity",
]

#: Event types whose exit event opens a file descriptor on a path.
OPEN_TYPES = frozenset({"open", "openat", "openat2", "creat", "open_by_handle_at"})
#: Event types that make or accept a connection, or send to an address.
CONNECT_TYPES = frozenset({"connect", "accept", "accept4", "sendto", "sendmsg", "bind", "listen"})
#: Socket fd types (``fd.typechar``): IPv4, IPv6, unix.
SOCKET_TYPECHARS = frozenset({"4", "6", "u"})
#: The capture columns this module reads.
USED_COLUMNS = (
    "evt.time", "evt.type", "evt.hostname", "evt.arg.flags", "container.id", "proc.pid", "proc.vpid", "proc.ppid",
    "proc.name", "proc.exe", "proc.cmdline", "fd.name", "fd.num", "fd.typechar", "fd.l4proto",
)  # fmt: skip
#: Open flags that mean the file was opened to be changed.
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")


@dataclass(frozen=True, slots=True)
class FileOpen:
    """A file the process opened in the window (all opens of one path folded into one)."""

    name: str
    flags: tuple[str, ...]
    first_seen: pd.Timestamp
    opens: int
    written: bool


@dataclass(frozen=True, slots=True)
class Connection:
    """A connection (or send, bind, listen) of the process, folded by endpoint and call."""

    evt_type: str
    name: str
    l4proto: str
    first_seen: pd.Timestamp
    count: int


@dataclass(frozen=True, slots=True)
class Child:
    """A process the alerting process started (its ``proc.ppid``), with its latest program."""

    pid: int
    name: str
    exe: str
    cmdline: str
    first_seen: pd.Timestamp


@dataclass(slots=True)
class ProcessActivity:
    """What one alerting process did around one alert.

    ``files_more``, ``connections_more`` and ``children_more`` count the items left out by
    the cap.
    """

    alert_time: pd.Timestamp
    rule: str
    host: str
    container_id: str
    pid: int
    name: str
    cmdline: str
    start: pd.Timestamp
    end: pd.Timestamp
    events: int
    files: list[FileOpen] = field(default_factory=list)
    files_more: int = 0
    connections: list[Connection] = field(default_factory=list)
    connections_more: int = 0
    children: list[Child] = field(default_factory=list)
    children_more: int = 0


@dataclass(slots=True)
class CaptureActivity:
    """The result of :func:`capture_activity`.

    Attributes
    ----------
    processes:
        One entry per (alert, matched process), in alert order, capped at ``max_processes``.
    processes_more:
        Entries left out by that cap.
    unplaced:
        Alerts that name no process (no ``proc.pid``, ``proc.vpid`` or ``proc.name``).
    unmatched:
        Alerts whose process is not in the capture within the window.
    other_host:
        Of ``unmatched``, the alerts whose process is in the capture but on another host name
        (the alert's ``hostname`` is not the capture's ``evt.hostname``; pass
        ``match_host=False`` when the two name one machine differently).
    before, after:
        The window, in seconds before and after each alert.
    """

    processes: list[ProcessActivity]
    processes_more: int
    unplaced: int
    unmatched: int
    before: float
    after: float
    other_host: int = 0


def _value(row: pd.Series, name: str) -> object:
    value = row.get(name) if name in row.index else None
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    text = str(value)
    return None if text in ("", "<NA>") else value


def _times(capture: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(capture["evt.time"].astype("int64"), unit="ns", utc=True)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _text(value: Any) -> str:
    return "" if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)) else str(value)


def _files(rows: pd.DataFrame, times: pd.Series, cap: int) -> tuple[list[FileOpen], int]:
    kind = _column(rows, "evt.type").astype(str)
    fd_num = pd.to_numeric(_column(rows, "fd.num"), errors="coerce")
    opened = (
        kind.isin(OPEN_TYPES).to_numpy()
        & (fd_num >= 0).to_numpy()
        & _column(rows, "fd.name").notna().to_numpy()
    )
    firsts: dict[str, pd.Timestamp] = {}
    opens: dict[str, int] = {}
    flags: dict[str, list[str]] = {}
    for name, raw, when in zip(
        rows["fd.name"][opened].astype(str),
        _column(rows, "evt.arg.flags")[opened],
        times.reindex(rows.index)[opened],
        strict=True,
    ):
        firsts.setdefault(name, when)
        opens[name] = opens.get(name, 0) + 1
        known = flags.setdefault(name, [])
        known.extend(f for f in _text(raw).split("|") if f and f not in known)
    files = [
        FileOpen(
            name, tuple(flags[name]), firsts[name], opens[name], any(f in WRITE_FLAGS for f in flags[name])
        )
        for name in firsts
    ]
    files.sort(key=lambda f: (not f.written, f.first_seen, f.name))
    return files[:cap], max(len(files) - cap, 0)


def _connections(rows: pd.DataFrame, times: pd.Series, cap: int) -> tuple[list[Connection], int]:
    kind = _column(rows, "evt.type").astype(str)
    typechar = _column(rows, "fd.typechar").astype(str)
    picked = kind.isin(CONNECT_TYPES).to_numpy() & typechar.isin(SOCKET_TYPECHARS).to_numpy()
    firsts: dict[tuple[str, str, str], pd.Timestamp] = {}
    counts: dict[tuple[str, str, str], int] = {}
    for evt_type, name, proto, when in zip(
        kind[picked],
        _column(rows, "fd.name")[picked],
        _column(rows, "fd.l4proto")[picked],
        times.reindex(rows.index)[picked],
        strict=True,
    ):
        key = (evt_type, _text(name), _text(proto))
        firsts.setdefault(key, when)
        counts[key] = counts.get(key, 0) + 1
    connections = [Connection(*key, firsts[key], counts[key]) for key in firsts]
    connections.sort(key=lambda c: (c.first_seen, c.name))
    return connections[:cap], max(len(connections) - cap, 0)


def _children(capture: pd.DataFrame, times: pd.Series, pid: int, cap: int) -> tuple[list[Child], int]:
    ppid = pd.to_numeric(_column(capture, "proc.ppid"), errors="coerce")
    own = pd.to_numeric(_column(capture, "proc.pid"), errors="coerce")
    # a row without proc.ppid/proc.pid (a container event's, a thread libsinsp never saw) is no child
    rows = capture[
        (ppid == pid).fillna(False).to_numpy(dtype=bool) & (own != pid).fillna(False).to_numpy(dtype=bool)
    ]
    children = []
    for child_pid, group in rows.groupby(pd.to_numeric(rows["proc.pid"]), sort=False):
        last = group.iloc[-1]
        children.append(
            Child(
                int(child_pid),
                _text(_value(last, "proc.name")),
                _text(_value(last, "proc.exe")),
                _text(_value(last, "proc.cmdline")),
                times.reindex(group.index).iloc[0],
            )
        )
    children.sort(key=lambda c: (c.first_seen, c.pid))
    return children[:cap], max(len(children) - cap, 0)


@dataclass(frozen=True, slots=True)
class _Columns:
    """The capture's matching columns, converted once (not once per alert)."""

    pids: pd.Series
    vpids: pd.Series
    text: dict[str, pd.Series]
    host_missing: pd.Series

    def window(self, lo: int, hi: int) -> _Columns:
        """The rows ``lo:hi``."""
        return _Columns(
            self.pids.iloc[lo:hi],
            self.vpids.iloc[lo:hi],
            {name: column.iloc[lo:hi] for name, column in self.text.items()},
            self.host_missing.iloc[lo:hi],
        )

    @classmethod
    def of(cls, capture: pd.DataFrame) -> _Columns:
        names = ("container.id", "evt.hostname", "proc.name", "proc.cmdline")
        return cls(
            pd.to_numeric(capture["proc.pid"], errors="coerce"),
            pd.to_numeric(_column(capture, "proc.vpid"), errors="coerce"),
            {name: _column(capture, name).astype(str) for name in names},
            _column(capture, "evt.hostname").isna(),
        )


def _process(
    cols: _Columns, scope: pd.Series, pid: object, vpid: object, name: object, cmdline: object
) -> pd.Series:
    """Rows in ``scope`` of the process an alert names (see the module docstring)."""
    if pid is not None:
        who = cols.pids == int(str(pid))
    elif vpid is not None:
        who = cols.vpids == int(str(vpid))
    else:
        who = cols.text["proc.name"] == str(name)
        if cmdline is not None:
            who &= cols.text["proc.cmdline"] == str(cmdline)
    who = scope & who.fillna(False).astype(bool)
    if name is not None and (pid is not None or vpid is not None):
        named = who & (cols.text["proc.name"] == str(name))
        who &= cols.pids.isin(cols.pids[named].dropna().unique())
    return who


def capture_activity(
    alerts: pd.DataFrame,
    capture: pd.DataFrame,
    *,
    before: float = 30.0,
    after: float = 60.0,
    max_items: int = 20,
    max_processes: int = 50,
    match_host: bool = True,
) -> CaptureActivity:
    """What each alerting process did around each alert, from the events of ``capture``.

    Parameters
    ----------
    alerts:
        Canonical events frame (``time``, ``rule``, ``hostname`` and the output fields:
        ``container.id``, ``proc.pid``, ``proc.vpid``, ``proc.name``, ``proc.cmdline``).
    capture:
        A capture as :func:`falco_lab.capture.load_capture` gives it (``evt.time`` in
        nanoseconds, ``proc.pid``, ``proc.ppid``, ``fd.name`` ...); several captures may be
        concatenated.
    before, after:
        The window around each alert, in seconds (both ≥ 0).
    max_items:
        Files, connections and children listed per process (the rest counted).
    max_processes:
        (alert, process) entries listed (the rest counted).
    match_host:
        Require the alert's ``hostname`` to equal the capture's ``evt.hostname`` when both
        are known.

    Returns
    -------
    CaptureActivity

    Raises
    ------
    ValueError
        For a negative window or cap, or a capture without ``evt.time`` / ``proc.pid``.
    """
    if before < 0 or after < 0:
        raise ValueError(f"the window must not be negative (before={before}, after={after})")
    if max_items < 0 or max_processes < 0:
        raise ValueError("max_items and max_processes must not be negative")
    missing = [c for c in ("evt.time", "proc.pid") if c not in capture.columns]
    if missing and not capture.empty:
        raise ValueError(f"the capture frame has no {', '.join(missing)} column: load it with load_capture")
    result = CaptureActivity([], 0, 0, 0, before, after)
    if alerts.empty:
        return result
    if capture.empty:
        result.unmatched = len(alerts)
        return result
    # only the columns read (copies stay small), sorted by time so a window is a slice
    capture = capture[[c for c in USED_COLUMNS if c in capture.columns]]
    capture = (
        capture[capture["evt.time"].notna()].sort_values("evt.time", kind="stable").reset_index(drop=True)
    )
    all_times = _times(capture)
    times_ns = all_times.astype("int64").to_numpy()
    all_cols = _Columns.of(capture)
    entries: list[ProcessActivity] = []
    for _, alert in alerts.iterrows():
        pid, vpid, name = _value(alert, "proc.pid"), _value(alert, "proc.vpid"), _value(alert, "proc.name")
        if pid is None and vpid is None and name is None:
            result.unplaced += 1
            continue
        when = pd.Timestamp(alert["time"])
        when = when.tz_localize("UTC") if when.tzinfo is None else when
        start, end = when - pd.Timedelta(seconds=before), when + pd.Timedelta(seconds=after)
        lo, hi = (
            int(np.searchsorted(times_ns, start.value, "left")),
            int(np.searchsorted(times_ns, end.value, "right")),
        )
        part, times, cols = capture.iloc[lo:hi], all_times.iloc[lo:hi], all_cols.window(lo, hi)
        pids = cols.pids
        scope = pd.Series(True, index=part.index)
        container = _value(alert, "container.id")
        if container is not None:
            scope &= cols.text["container.id"] == str(container)
        host = _value(alert, "hostname")
        any_host = scope
        if match_host and host is not None and "evt.hostname" in part.columns:
            scope = scope & (cols.host_missing | (cols.text["evt.hostname"] == str(host)))
        who = _process(cols, scope, pid, vpid, name, _value(alert, "proc.cmdline"))
        matched = sorted(int(p) for p in pids[who].dropna().unique())
        if not matched:
            result.unmatched += 1
            if any_host is not scope and _process(cols, any_host, pid, vpid, name, None).any():
                result.other_host += 1
            continue
        for process in matched:
            if len(entries) >= max_processes:  # counted, not computed
                result.processes_more += 1
                continue
            rows = part[who & (pids == process)]
            last = rows.iloc[-1]
            files, files_more = _files(rows, times, max_items)
            connections, connections_more = _connections(rows, times, max_items)
            window = part[scope]
            children, children_more = _children(window, times, process, max_items)
            entries.append(
                ProcessActivity(
                    alert_time=when,
                    rule=_text(_value(alert, "rule")),
                    host=_text(_value(last, "evt.hostname")) or _text(host),
                    container_id=_text(_value(last, "container.id")),
                    pid=process,
                    name=_text(_value(last, "proc.name")),
                    cmdline=_text(_value(last, "proc.cmdline")),
                    start=start,
                    end=end,
                    events=len(rows),
                    files=files,
                    files_more=files_more,
                    connections=connections,
                    connections_more=connections_more,
                    children=children,
                    children_more=children_more,
                )
            )
    result.processes = entries
    return result


#: Columns of :func:`activity_rows`.
ROW_COLUMNS = (
    "alert_time",
    "rule",
    "container_id",
    "pid",
    "process",
    "kind",
    "what",
    "detail",
    "first_seen",
    "count",
)


def activity_rows(activity: CaptureActivity) -> pd.DataFrame:
    """One row per file, connection or child (and one "N more" row per capped list).

    Columns :data:`ROW_COLUMNS`; ``kind`` is ``file``, ``connection`` or ``child``; a process
    that did none of these has one row of kind ``none``.
    """
    rows: list[dict[str, object]] = []
    for p in activity.processes:
        base = {"alert_time": p.alert_time, "rule": p.rule, "container_id": p.container_id, "pid": p.pid,
                "process": p.name}  # fmt: skip
        for f in p.files:
            rows.append(base | {"kind": "file", "what": f.name, "detail": ("written " if f.written else "read ")
                                + "|".join(f.flags), "first_seen": f.first_seen, "count": f.opens})  # fmt: skip
        for c in p.connections:
            rows.append(base | {"kind": "connection", "what": c.name, "detail": f"{c.evt_type} {c.l4proto}".strip(),
                                "first_seen": c.first_seen, "count": c.count})  # fmt: skip
        for ch in p.children:
            rows.append(base | {"kind": "child", "what": f"{ch.pid} {ch.exe or ch.name}", "detail": ch.cmdline,
                                "first_seen": ch.first_seen, "count": 1})  # fmt: skip
        for kind, more in (
            ("file", p.files_more),
            ("connection", p.connections_more),
            ("child", p.children_more),
        ):
            if more:
                rows.append(base | {"kind": kind, "what": f"… {more:,} more", "detail": "", "first_seen": pd.NaT,
                                    "count": more})  # fmt: skip
        if not (p.files or p.connections or p.children):
            rows.append(base | {"kind": "none", "what": "no file, connection or child in the window",
                                "detail": "", "first_seen": pd.NaT, "count": 0})  # fmt: skip
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))
