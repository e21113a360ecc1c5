"""What every benchmark JSON carries, so that no figure can outlive the run that measured it.

A benchmark opens a :class:`BenchRun` before it generates its data, stamps each figure it
measures (:meth:`BenchRun.stamp` adds ``measured_at``, UTC, when the figure was taken) and
writes its JSON with :meth:`BenchRun.write`, which adds:

* ``run``: ``started_at``, ``finished_at`` (UTC) and ``seconds``;
* ``machine``: CPUs, Python, platform, the load average (1, 5, 15 min) before and after;
* ``data``: the generator, its seed (``None`` with a ``seed_note`` when the data are not
  random) and the data's shape, as the benchmark states them;
* ``compared_with``: the ``baseline`` (the naive way, usually pandas) and the ``peers``
  (DuckDB, polars, sysdig ...), each naming the key of its figures in the JSON, or
  ``missing`` saying why it was not measured in this run.

``tests/test_benchmarks.py`` runs every ``benchmarks/bench_*.py`` at a small size and checks
this schema with :func:`check_result`, which ``make bench``'s JSONs also pass.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def now() -> str:
    """The current UTC time, ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def load_average() -> list[float] | None:
    """The machine's 1, 5 and 15 minute load averages (``None`` where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


class TreeMemory:
    """Peak resident memory of this process and all its descendants together, sampled.

    ``ru_maxrss`` counts one process; a command that starts workers (the out-of-core report
    streams JSON lines with worker processes) uses their memory too.  A thread reads
    ``/proc/<pid>/status`` (``VmRSS``) of the process tree every ``interval`` seconds and
    keeps the largest sum.  Linux only; elsewhere :attr:`peak_mb` is ``None``.

    >>> with TreeMemory() as tree:  # doctest: +SKIP
    ...     run()
    >>> tree.peak_mb  # doctest: +SKIP
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_kb = 0
        self._stop = False
        self._thread: Any = None

    @staticmethod
    def _rss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    @staticmethod
    def _children(pid: int) -> list[int]:
        found = []
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                    found.extend(int(c) for c in handle.read().split())
        except OSError:
            pass
        return found

    def sample(self) -> int:
        """The tree's resident memory now, in KiB (and the peak updated)."""
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            total += self._rss_kb(pid)
            todo.extend(self._children(pid))
        self.peak_kb = max(self.peak_kb, total)
        return total

    def _run(self) -> None:
        import time

        while not self._stop:
            self.sample()
            time.sleep(self.interval)

    def __enter__(self) -> TreeMemory:
        import threading

        if os.path.isdir("/proc/self/task"):
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join()

    @property
    def peak_mb(self) -> float | None:
        return round(self.peak_kb / 1024, 1) if self._thread is not None else None


def comparison(key: str | None, what: str, missing: str | None = None) -> dict[str, Any]:
    """One baseline or peer: the JSON key of its figures, what it is, or why it is missing."""
    entry: dict[str, Any] = {"key": key, "what": what}
    if missing is not None:
        entry["missing"] = missing
    return entry


class BenchRun:
    """One benchmark run: its start, its stamps, and the JSON it writes.

    Parameters
    ----------
    name : str
        The benchmark's name; the JSON is ``DIR/<name>.json``.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.started_at = now()
        self.load_before = load_average()

    @staticmethod
    def stamp(figure: dict[str, Any]) -> dict[str, Any]:
        """``figure`` with ``measured_at`` set to now (call it right after measuring)."""
        figure["measured_at"] = now()
        return figure

    def result(
        self,
        figures: dict[str, Any],
        *,
        data: dict[str, Any],
        baseline: dict[str, Any] | None,
        peers: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """The benchmark's JSON: the run's header, then ``figures``.

        ``baseline`` is ``None`` only where no naive way exists (then say why with
        :func:`comparison` instead, ``key=None``).
        """
        header = ("benchmark", "run", "machine", "data", "compared_with")
        clash = sorted(set(figures) & set(header))
        if clash:
            raise ValueError(f"{self.name}: figures may not use the header keys {clash}")
        return {
            "benchmark": self.name,
            "run": {
                "started_at": self.started_at,
                "finished_at": now(),
                "seconds": round(
                    (datetime.now(UTC) - datetime.fromisoformat(self.started_at)).total_seconds(), 1
                ),
            },
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "load_average_before": self.load_before,
                "load_average_after": load_average(),
            },
            "data": data,
            "compared_with": {"baseline": baseline, "peers": peers},
            **figures,
        }

    def write(self, out: Path, result: dict[str, Any]) -> Path:
        """Write ``result`` (checked by :func:`check_result`) to ``out/<name>.json``."""
        problems = check_result(result)
        if problems:
            raise ValueError(f"{self.name} benchmark JSON is incomplete: {'; '.join(problems)}")
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{self.name}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


def stamps(node: Any) -> list[str]:
    """Every ``measured_at`` value anywhere in a benchmark JSON."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "measured_at":
                found.extend(value if isinstance(value, list) else [value])
            else:
                found.extend(stamps(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(stamps(value))
    return found


def check_result(result: dict[str, Any]) -> list[str]:
    """What a benchmark JSON lacks (empty when complete).

    Checks: the run's start and end, the load average, the data's generator, seed and
    shape, at least one stamped figure and every stamp within the run, and a baseline
    and peers each pointing at stamped figures of this JSON or saying why they are missing.
    """
    problems: list[str] = []
    try:
        started = datetime.fromisoformat(result["run"]["started_at"])
        finished = datetime.fromisoformat(result["run"]["finished_at"])
    except (KeyError, TypeError, ValueError):
        return ["no run.started_at / run.finished_at"]
    if finished < started:
        problems.append("run finished before it started")
    machine = result.get("machine") or {}
    for key in ("load_average_before", "load_average_after"):
        if key not in machine:
            problems.append(f"no machine.{key}")
    data = result.get("data") or {}
    if not data.get("generator"):
        problems.append("no data.generator")
    if "seed" not in data or (data["seed"] is None and not data.get("seed_note")):
        problems.append("no data.seed (or seed_note saying why there is none)")
    if len(set(data) - {"generator", "seed", "seed_note"}) == 0:
        problems.append("no data shape")
    found = stamps({k: v for k, v in result.items() if k != "run"})
    if not found:
        problems.append("no figure carries measured_at")
    for stamp in found:
        try:
            moment = datetime.fromisoformat(stamp)
        except (TypeError, ValueError):
            problems.append(f"measured_at {stamp!r} is no time")
            continue
        if not started <= moment <= finished:
            problems.append(f"figure measured at {stamp}, outside the run {started} .. {finished}")
    compared = result.get("compared_with") or {}
    entries = [("baseline", compared.get("baseline"))] + [("peer", p) for p in compared.get("peers", [])]
    if compared.get("baseline") is None:
        problems.append("no compared_with.baseline")
    if "peers" not in compared:
        problems.append("no compared_with.peers")
    for role, entry in entries:
        if entry is None:
            continue
        if entry.get("missing"):
            continue
        key = entry.get("key")
        if key not in result:
            problems.append(f"{role} {entry.get('what')!r} names no figures of this JSON ({key!r})")
        elif not stamps(result[key]):
            problems.append(f"{role} figures {key!r} carry no measured_at")
    return problems
