"""Benchmark: ``extract_iocs`` on the adversarial alerts, next to ``load_events`` of the same file.

Usage::

    python benchmarks/bench_iocs.py --out DIR [--size N] [--seed S]

Generates ``N`` adversarial lines (``benchmarks/adversarial.py``: long command lines with a
URL and an IP in them, every ``fd.name`` distinct, thousands of pods, ~2 KB of output text
per alert), then in this one process measures:

* **load**: ``load_events(file)`` (the peer: what every command pays first);
* **iocs**: ``extract_iocs(frame)`` - output fields and output text, default caps (1,000 rows);
* **iocs_all**: the same without the row cap (every indicator materialised);
* **iocs_fields_only**: ``extract_iocs(frame, output_text=False)``, default caps.

Writes ``DIR/iocs.json`` (seconds, alerts, indicators found, peak RSS, data shape); every
figure has ``measured_at`` within ``run``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import adversarial  # noqa: E402  - the adversarial generator next to this file


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for iocs.json")
    parser.add_argument("--size", type=int, default=100_000, help="adversarial lines (default 100,000)")
    parser.add_argument("--seed", type=int, default=43)
    args = parser.parse_args(argv)

    from falco_lab.analysis.iocs import IocLimits, extract_iocs
    from falco_lab.events import load_events

    args.out.mkdir(parents=True, exist_ok=True)
    result: dict = {"run": {"started_at": _now()}, "data": adversarial.shape(args.size, seed=args.seed)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "adversarial.jsonl"
        result["data"]["bytes"] = adversarial.write_adversarial(path, args.size, seed=args.seed)
        start = time.perf_counter()
        frame = load_events(path, warn=False)
        result["load"] = {"seconds": round(time.perf_counter() - start, 3), "alerts": len(frame)}
        result["load"]["measured_at"] = _now()
    result["data"]["output_text_bytes"] = int(frame["output"].str.len().sum())
    runs = (("iocs", True, IocLimits()), ("iocs_all", True, IocLimits(max_rows=None)))
    for name, text, limits in (*runs, ("iocs_fields_only", False, IocLimits())):
        start = time.perf_counter()
        iocs = extract_iocs(frame, limits=limits, output_text=text)
        result[name] = {
            "seconds": round(time.perf_counter() - start, 3),
            "indicators": len(iocs),
            "found": iocs.attrs["iocs_total"],
            "by_type": {str(k): int(v) for k, v in iocs["type"].value_counts().items()},
            "measured_at": _now(),
        }
    result["peak_rss_mb"] = round(_peak_mb(), 1)
    result["run"]["finished_at"] = _now()
    (args.out / "iocs.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("load", "iocs", "iocs_all", "iocs_fields_only", "peak_rss_mb")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
