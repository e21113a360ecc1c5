"""Small builders of Falco alerts for the events tests (Falco 0.44 JSON shape)."""

from __future__ import annotations

import orjson

BASE_NS = 1_783_000_000_123_456_789  # 2026-07-02T...Z


def iso(ns: int) -> str:
    """Falco's ``time`` text for ``ns`` nanoseconds since the epoch."""
    import datetime as dt

    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:09d}Z"


def alert(i: int = 0, **overrides: object) -> dict:
    """A realistic alert number ``i`` (distinct time, uuid, pid); keys can be overridden or removed."""
    ns = BASE_NS + i * 1_000_000_007
    event = {
        "hostname": f"ip-10-0-1-{i % 3 + 10}.ec2.internal",
        "output": f"12:00:00.000000000: Notice A shell was spawned in a container | proc_pid={1000 + i}",
        "output_fields": {
            "container.id": f"{i:012x}",
            "evt.time": ns,
            "k8s.ns.name": "default" if i % 2 else "payments",
            "k8s.pod.name": f"web-{i % 5}",
            "proc.aname[2]": "containerd-shim",
            "proc.cmdline": f"bash -c echo {i}",
            "proc.pid": 1000 + i,
            "proc.tty": 34816,
        },
        "priority": ("Notice", "Warning", "Critical")[i % 3],
        "rule": ("Terminal shell in container", "Read sensitive file untrusted")[i % 2],
        "source": "syscall",
        "tags": ["T1059", "container", "maturity_stable", "mitre_execution", "shell"][: 3 + i % 3],
        "time": iso(ns),
        "uuid": f"00000000-0000-4000-8000-{i:012d}",
    }
    for key, value in overrides.items():
        if value is REMOVE:
            event.pop(key, None)
        else:
            event[key] = value
    return event


REMOVE = object()


def jsonl(alerts: list[dict]) -> bytes:
    """Alerts as JSON lines (each line ends with a newline)."""
    return b"".join(orjson.dumps(a) + b"\n" for a in alerts)
