"""Benchmark: ``RuleSet.evaluate`` end to end — column-wise formatting vs the per-alert reference.

Usage::

    python benchmarks/bench_evaluate.py --out DIR [--events N] [--seed S] [--repeat R] [--rules-dir PATH]

Measures, in one run and on the same data:

* **column-wise** (``RuleSet.evaluate``) end to end, ``R`` runs; and its two phases timed apart in
  ``R`` other runs: the masks (every enabled stable rule's ``Condition.mask`` with one shared
  ``FrameCache``) and the formatting (outputs and ``output_fields`` per rule over its matched rows,
  then the canonical frame built from those columns);
* **per-alert reference** (``alerts_frame(RuleSet.alerts(...))``): the same masks, one
  ``falco_alert`` dict per alert, then the events layer's validator builds the frame —
  ``max(1, R // 2)`` runs;
* that both frames are identical (``pandas.testing.assert_frame_equal``, exact).

``events_per_s`` is events / best end-to-end seconds; ``alerts_per_s_formatted`` is alerts / best
formatting seconds (the reference's formatting is derived: its best end to end minus the best masks
time). Best and median times are both in the JSON. The data are ``N`` (default 1,000,000) synthetic
syscall events drawn from ``bench_rules``' pools with benign event types added so that about 1% of
the events alert with the stable ruleset. Targets (issue 12): ≥ 1,000,000 events/s end to end and
≥ 100,000 alerts/s formatted. Writes ``DIR/evaluate.json`` with the machine's load average, the seed and the data
shape.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_common import BenchRun, comparison  # noqa: E402
from bench_rules import _POOLS  # noqa: E402

from falco_lab.rules import alerts_frame, load_rules  # noqa: E402
from falco_lab.rules.ruleset import AlertOptions  # noqa: E402

TARGET_EVENTS_PER_S = 1_000_000
TARGET_ALERTS_PER_S = 100_000
#: Benign event types added to bench_rules' pool (each this many times) to bring alerts to ~1%.
BENIGN = ("read", "write", "close", "mmap", "sendto", "recvfrom", "fstat", "futex", "epoll_wait", "lseek")
BENIGN_COPIES = 6


def synthetic_events(n: int, seed: int) -> pd.DataFrame:
    """``n`` syscall events, one column per field, values drawn from the pools (None = missing)."""
    rng = np.random.default_rng(seed)
    pools = dict(_POOLS)
    pools["evt.type"] = list(_POOLS["evt.type"]) + list(BENIGN) * BENIGN_COPIES
    columns: dict[str, Any] = {}
    for name, pool in pools.items():
        values = np.empty(len(pool), dtype=object)
        values[:] = pool
        picked = values[rng.integers(0, len(pool), size=n)]
        non_null = [v for v in pool if v is not None]
        if None not in pool and all(isinstance(v, bool) for v in non_null):
            columns[name] = picked.astype(bool)
        elif None not in pool and all(isinstance(v, int) and not isinstance(v, bool) for v in non_null):
            columns[name] = picked.astype(np.int64)
        else:
            columns[name] = picked
    start = 1_764_820_800_000_000_000  # 2025-12-04T04:00:00Z
    columns["evt.time"] = start + np.sort(rng.integers(0, 3_600 * 10**9, size=n))
    return pd.DataFrame(columns)


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Seconds of each of ``repeat`` runs of ``fn`` and the last result."""
    times: list[float] = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def _stats(times: list[float]) -> dict[str, float]:
    return {"best": round(min(times), 4), "median": round(statistics.median(times), 4)}


def bench(rules_dir: Path, n: int, seed: int, repeat: int) -> dict[str, Any]:
    ruleset = load_rules(rules_dir / "falco_rules.yaml")
    if not ruleset.ok:
        raise SystemExit(f"stable ruleset did not load: {[str(e) for e in ruleset.errors][:3]}")
    frame = synthetic_events(n, seed)
    options: AlertOptions = {"hostname": "bench-node"}
    ruleset.evaluate(frame.iloc[:1000], **options)  # compile output formats once, outside the timings

    # the two phases of RuleSet.evaluate, timed apart in the same repetitions
    mask_times: list[float] = []
    format_times: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        hits = ruleset._hits(frame, options)  # noqa: SLF001 - the masks phase of evaluate
        middle = time.perf_counter()
        hits.to_frame(options)
        mask_times.append(middle - start)
        format_times.append(time.perf_counter() - middle)
    alerts = len(hits.positions)
    phases_stamp = BenchRun.stamp({})["measured_at"]
    column_times, column_frame = _timed(lambda: ruleset.evaluate(frame, **options), repeat)
    column_stamp = BenchRun.stamp({})["measured_at"]
    reference_repeat = max(1, repeat // 2)
    reference_times, reference_frame = _timed(
        lambda: alerts_frame(ruleset.alerts(frame, **options)), reference_repeat
    )
    reference_stamp = BenchRun.stamp({})["measured_at"]
    try:
        pd.testing.assert_frame_equal(column_frame, reference_frame, check_exact=True)
        identical, difference = True, None
    except AssertionError as exc:  # reported, not hidden
        identical, difference = False, str(exc)[:500]

    best_mask, best_format = min(mask_times), min(format_times)
    best_column, best_reference = min(column_times), min(reference_times)
    events_per_s = n / best_column
    alerts_per_s = alerts / best_format
    reference_formatting = best_reference - best_mask
    return {
        "data": {
            "generator": "benchmarks/bench_evaluate.py::synthetic_events (bench_rules pools + benign event types)",
            "seed": seed,
            "events": n,
            "columns": frame.shape[1],
            "dtypes": {str(k): int(v) for k, v in frame.dtypes.astype(str).value_counts().items()},
            "alerts": alerts,
            "alert_rate": round(alerts / n, 4),
            "alerts_per_rule": column_frame["rule"].value_counts().to_dict(),
            "output_field_columns": int(column_frame.shape[1] - 8),
        },
        "ruleset": {"file": "falco_rules.yaml", "enabled_syscall_rules": len(hits.selected)},
        "column_wise": {
            "end_to_end_seconds": _stats(column_times),
            "events_per_s": round(events_per_s),
            "masks_seconds": _stats(mask_times),
            "formatting_seconds": _stats(format_times),
            "alerts_per_s_formatted": round(alerts_per_s),
            "method": (
                f"RuleSet.evaluate(frame) end to end, {repeat} runs; its two phases (masks: which rules fire; "
                f"formatting: outputs, output_fields and the canonical frame) timed apart in {repeat} other "
                "runs; rates from the best runs"
            ),
            "measured_at": [phases_stamp, column_stamp],
        },
        "per_alert_reference": {
            "end_to_end_seconds": _stats(reference_times),
            "events_per_s": round(n / best_reference),
            "formatting_seconds_derived": round(reference_formatting, 4),
            "alerts_per_s_formatted_derived": (
                round(alerts / reference_formatting) if reference_formatting > 0 else None
            ),
            "method": (
                f"alerts_frame(RuleSet.alerts(frame)), {reference_repeat} runs; formatting derived as its best "
                "end to end minus the best masks time above"
            ),
            "measured_at": reference_stamp,
        },
        "speedup_end_to_end": round(best_reference / best_column, 2),
        "identical_frames": identical,
        "difference": difference,
        "targets": {"events_per_s": TARGET_EVENTS_PER_S, "alerts_per_s_formatted": TARGET_ALERTS_PER_S},
        "meets_targets": bool(
            events_per_s >= TARGET_EVENTS_PER_S and alerts_per_s >= TARGET_ALERTS_PER_S and identical
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="RuleSet.evaluate benchmark: column-wise vs per-alert")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--rules-dir",
        type=Path,
        default=Path(os.environ.get("FALCO_LAB_SHARED", ROOT.parent / "shared")) / "upstream",
    )
    args = parser.parse_args(argv)
    run = BenchRun("evaluate")
    result = bench(args.rules_dir, args.events, args.seed, args.repeat)
    data = result.pop("data")
    report = run.result(
        {"pandas": pd.__version__, "numpy": np.__version__, **result},
        data=data,
        baseline=comparison(
            "per_alert_reference", "alerts_frame(RuleSet.alerts(frame)): one alert dict at a time, same run"
        ),
        peers=[
            comparison(
                None,
                "a general-purpose engine",
                missing="no general-purpose engine evaluates Falco rules and formats their outputs",
            )
        ],
    )
    run.write(args.out, report)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
