"""Benchmark: alerts -> ``falco-lab archive`` Parquet dataset -> the report's aggregations.

Usage::

    python benchmarks/bench_archive.py --out DIR [--size N] [--seed S]

Generates ``N`` typical alerts (``bench_events.write_alerts``), then, each step in its own
process (so peak RSS is the step's own):

* **archive**: ``falco_lab.events.archive.archive_events`` into a day/host dataset;
* **duckdb**: ``ArchiveQueries`` summary, namespace/pod top-20 with "N more", 1-minute
  timeline and noise groups, out of core;
* **baseline**: ``load_events(archive)`` into pandas and the same aggregations with
  ``groupby`` (what the report does in memory today).

Writes ``DIR/archive.json``; every figure has ``measured_at`` within ``run``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import BenchRun, comparison  # noqa: E402

_PREFIX = "BENCH-RESULT "


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(name: str, source: Path, archive: Path) -> dict:
    import pandas  # noqa: F401

    import falco_lab.events  # noqa: F401

    start = time.perf_counter()
    detail: dict = {}
    if name == "archive":
        from falco_lab.events.archive import archive_events

        result = archive_events([source], archive)
        detail = {"written": result.written, "files": len(result.files)}
    elif name == "duckdb":
        from falco_lab.events.archive_sql import ArchiveQueries

        queries = ArchiveQueries(archive)
        summary = queries.summary()
        pods = queries.counts(["k8s.ns.name", "k8s.pod.name"], limit=20)
        timeline = queries.timeline(60)
        noise = queries.noise(20)
        detail = {
            "alerts": int(summary["alerts"].iloc[0]),
            "pod_rows": len(pods),
            "timeline_rows": len(timeline),
            "noise_rows": len(noise),
        }
    else:
        from falco_lab.events import load_events

        frame = load_events(archive, warn=False)
        pods = frame.groupby(["k8s.ns.name", "k8s.pod.name"], dropna=False).size().nlargest(20)
        timeline = frame.groupby([frame["time"].dt.floor("60s"), "priority"], observed=True).size()
        noise = (
            frame.groupby(["rule", "container.image.repository", "proc.name"], dropna=False)
            .size()
            .nlargest(20)
        )
        detail = {
            "alerts": len(frame),
            "pod_rows": len(pods),
            "timeline_rows": len(timeline),
            "noise_rows": len(noise),
        }
    return BenchRun.stamp(
        {
            "step": name,
            "seconds": round(time.perf_counter() - start, 3),
            "peak_rss_mb": round(_peak_mb(), 1),
            **detail,
        }
    )


def _run(name: str, source: Path, archive: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, __file__, "--step", name, "--file", str(source), "--archive", str(archive)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{name} failed: {done.stderr[-2000:]}")
    return json.loads(
        next(line for line in done.stdout.splitlines() if line.startswith(_PREFIX))[len(_PREFIX) :]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--size", type=int, default=100_000, help="alerts (default 100000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--step", choices=("archive", "duckdb", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--archive", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        print(_PREFIX + json.dumps(step(args.step, args.file, args.archive)))
        return 0
    if args.out is None:
        parser.error("--out DIR is required")
    import bench_events

    run = BenchRun("archive")
    with tempfile.TemporaryDirectory(prefix="bench_archive_") as tmp:
        source, archive = Path(tmp) / "alerts.jsonl", Path(tmp) / "archive"
        size = bench_events.write_alerts(source, args.size, seed=args.seed)
        steps = {name: _run(name, source, archive) for name in ("archive", "duckdb", "baseline")}
        archive_mb = sum(p.stat().st_size for p in archive.rglob("*.parquet")) / 1e6
    result = run.result(
        {
            **steps,
            "duckdb_vs_baseline": {
                "time_ratio": round(steps["duckdb"]["seconds"] / steps["baseline"]["seconds"], 3),
                "memory_ratio": round(steps["duckdb"]["peak_rss_mb"] / steps["baseline"]["peak_rss_mb"], 3),
            },
            "notes": "each step in a fresh process (imports excluded from seconds, included in peak_rss_mb); "
            "target in issue 12 is 10M alerts -> report <= 180 s, <= 4 GB; this run's size is in data.alerts",
        },
        data={
            "generator": "benchmarks/bench_events.py:write_alerts",
            "seed": args.seed,
            "alerts": args.size,
            "jsonl_mb": round(size / 1e6, 1),
            "archive_mb": round(archive_mb, 1),
        },
        baseline=comparison("baseline", "load_events(archive) into pandas + groupby aggregations"),
        peers=[
            comparison(
                None,
                "a general-purpose engine",
                missing="the measured method (duckdb) is itself DuckDB queries over the files",
            )
        ],
    )
    run.write(args.out, result)
    print(json.dumps({k: result[k] for k in ("data", "duckdb_vs_baseline")}))
    for name in steps:
        print(name, steps[name]["seconds"], "s", steps[name]["peak_rss_mb"], "MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
