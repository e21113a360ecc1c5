"""Adversarial Falco alerts: the shapes the project's own simulator never produces.

Written from scratch for the benchmarks (it imports nothing from ``falco_lab.simulate``
and nothing from the typical generator in ``bench_events``), so a loader or report tuned
on the project's own data is measured on data it was not tuned on.

What makes it adversarial (all of it valid Falco JSON, so every line must load):

* every ``container.id`` and every ``proc.pid`` distinct (a fleet of short-lived containers);
* thousands of pods (``pods``, default 5,000) over hundreds of namespaces;
* long command lines (0.3-3 KB, non-ASCII characters included);
* ``time`` with 9, 6 or 3 fractional digits or none (Falco builds differ), and
  ``evt.time`` missing from some records (old rules without it);
* old-format records: no ``source``, no ``tags``, no ``hostname``, no ``uuid``;
* priorities in any case (``WARNING``, ``info``) as older Falco / other emitters wrote them;
* duplicates: about 2% of the lines repeat an earlier line exactly (same ``uuid``),
  as an at-least-once forwarder delivers them;
* output fields that are null everywhere but near the end, and fields that only appear late.

``shape(n, seed)`` describes what was generated (stored in the benchmark JSON).
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path

import orjson

BASE_NS = 1_790_000_000_000_000_000  # 2026-09-21
_RULE_COUNT = 60
_LONG_WORDS = (
    "--config=/etc/app/conf.d/Ωmega.yaml",
    "-Dlog4j2.formatMsgNoLookups=true",
    "--ø",
    "|",
    "&&",
    "$(curl -s http://10.0.0.1:8080/x)",
    "base64 -d",
    "'quoted arg'",
    '"dq"',
    "\\\\back",
)
_PRIORITIES = (
    "Emergency",
    "ALERT",
    "critical",
    "Error",
    "WARNING",
    "notice",
    "Informational",
    "info",
    "Debug",
)


def _stamp(ns: int, digits: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if digits:
        text += "." + f"{frac:09d}"[:digits]
    return text + "Z"


def _cmdline(rng: random.Random) -> str:
    words = ["/usr/bin/java"]
    target = rng.randint(300, 3000)
    size = len(words[0])
    while size < target:
        word = rng.choice(_LONG_WORDS) + str(rng.getrandbits(24))
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


def adversarial_alert(index: int, line: int, n: int, rng: random.Random, pods: int) -> dict:
    """Alert number ``index``, written as line ``line`` of ``n`` (duplicates are added by :func:`write_adversarial`)."""
    ns = BASE_NS + index * 997_331 + rng.randint(0, 999_999)
    digits = rng.choice((9, 9, 9, 6, 3, 0))
    # time keeps what the stamp says: with fewer digits evt.time is truncated to match
    unit = 10 ** (9 - digits)
    ns -= ns % unit
    pod_index = rng.randrange(pods)
    namespace = f"tenant-{pod_index % 400:03d}"
    fields: dict[str, object] = {
        "container.id": f"{index:06x}{rng.getrandbits(24):06x}",  # distinct: the index is in it
        "container.image.repository": f"registry-{pod_index % 37}.example.com/team/app-{pod_index % 211}",
        "container.image.tag": f"v{rng.randint(0, 40)}.{rng.randint(0, 99)}",
        "container.name": f"app-{pod_index}",
        "k8s.ns.name": namespace,
        "k8s.pod.name": f"app-{pod_index}-{rng.getrandbits(20):05x}",
        "proc.pid": 1_000_000 + index,  # distinct
        "proc.ppid": rng.randint(1, 4_000_000),
        "proc.cmdline": _cmdline(rng),
        "proc.name": rng.choice(("java", "bash", "python3", "node", "sh", "curl")),
        "proc.exepath": "/usr/bin/" + rng.choice(("java", "bash", "python3", "node")),
        "user.uid": rng.choice((0, 1000, 65534, 4_294_967_295)),
        "user.name": rng.choice(("root", "app", "nobody", None)),
        "fd.name": None if rng.random() < 0.5 else f"/var/lib/app/{rng.getrandbits(32):08x}",
        "adv.late_null": rng.randint(1, 1 << 40) if line >= n - n // 20 else None,
    }
    if rng.random() < 0.9:
        fields["evt.time"] = ns
    if line >= n - 50:
        fields["adv.late_only"] = f"late-{index}"
    rule_number = index % _RULE_COUNT
    priority = rng.choice(_PRIORITIES)
    text = " ".join(f"{k}={v}" for k, v in fields.items())
    record: dict[str, object] = {
        "output": f"{_stamp(ns, 9)[11:-1]}: {priority} adversarial rule {rule_number} | {text}",
        "output_fields": fields,
        "priority": priority,
        "rule": f"Adversarial rule {rule_number:02d} ({'x' * (rule_number % 7)})",
        "time": _stamp(ns, digits),
    }
    if rng.random() < 0.85:  # newer emitters; the rest is the old format
        record["source"] = "syscall"
        record["tags"] = [f"T{1000 + rule_number}", "adversarial", f"tier_{rule_number % 4}"]
        record["hostname"] = f"node-{pod_index % 900:03d}.fleet.internal"
        record["uuid"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return record


def write_adversarial(
    path: Path, n: int, seed: int = 7, *, pods: int = 5000, duplicate_rate: float = 0.02
) -> int:
    """Write ``n`` lines (duplicates included) to ``path``; return the size in bytes."""
    rng = random.Random(seed)
    recent: list[bytes] = []
    written = 0
    with path.open("wb") as out:
        index = 0
        while written < n:
            if recent and written < n - 50 and rng.random() < duplicate_rate:
                line = rng.choice(recent)
            else:
                line = orjson.dumps(adversarial_alert(index, written, n, rng, pods)) + b"\n"
                index += 1
                if len(recent) < 1000:
                    recent.append(line)
                else:
                    recent[rng.randrange(1000)] = line
            out.write(line)
            written += 1
    return path.stat().st_size


def shape(n: int, seed: int = 7, *, pods: int = 5000, duplicate_rate: float = 0.02) -> dict:
    """What :func:`write_adversarial` generates, for the benchmark JSON."""
    return {
        "generator": "benchmarks/adversarial.py",
        "seed": seed,
        "lines": n,
        "pods": pods,
        "namespaces": min(pods, 400),
        "rules": _RULE_COUNT,
        "duplicate_rate": duplicate_rate,
        "distinct": ["container.id", "proc.pid"],
        "cmdline_bytes": [300, 3000],
        "time_fraction_digits": [9, 6, 3, 0],
        "evt_time_missing_rate": 0.1,
        "old_format_rate": 0.15,
    }
