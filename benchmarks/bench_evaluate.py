"""Benchmark: ``RuleSet.evaluate`` end to end — column-wise formatting vs the per-alert reference.

Usage::

    python benchmarks/bench_evaluate.py --out DIR [--events N] [--seed S] [--repeat R] [--rules-dir PATH]

Measures, in one run and on the same data:

* **masks**: which rules fire (every enabled stable rule's ``Condition.mask`` with one shared
  ``FrameCache``, as ``RuleSet.evaluate`` does it) — best of ``R``;
* **column-wise** (``RuleSet.evaluate``): masks + outputs and ``output_fields`` formatted per rule
  over its matched rows + the canonical frame built from those columns — best of ``R``;
* **per-alert reference** (``alerts_frame(RuleSet.alerts(...))``): the same masks, one
  ``falco_alert`` dict per alert, then the events layer's validator builds the frame — best of
  ``max(1, R // 2)``;
* that both frames are identical (``pandas.testing.assert_frame_equal``, exact).

``events_per_s`` is events / end-to-end seconds; ``alerts_per_s_formatted`` is alerts / (end-to-end
seconds − masks seconds). The data are ``N`` (default 1,000,000) synthetic syscall events drawn
from ``bench_rules``' pools with benign event types added so that about 1% of the events alert
with the stable ruleset. Targets (issue 12): ≥ 1,000,000 events/s end to end and ≥ 100,000 alerts/s
formatted. Writes ``DIR/evaluate.json`` with the machine's load average, the seed and the data
shape.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
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

from bench_rules import _POOLS  # noqa: E402

from falco_lab.rules import RuleSet, alerts_frame, load_rules  # noqa: E402

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


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _masks(ruleset: RuleSet, frame: pd.DataFrame) -> int:
    selected = ruleset._selected(None, "syscall")  # noqa: SLF001 - the engine's own rule selection
    positions, _ = ruleset._frame_hits(frame, selected, "all")  # noqa: SLF001 - masks only, as evaluate
    return len(positions)


def bench(rules_dir: Path, n: int, seed: int, repeat: int) -> dict[str, Any]:
    ruleset = load_rules(rules_dir / "falco_rules.yaml")
    if not ruleset.ok:
        raise SystemExit(f"stable ruleset did not load: {[str(e) for e in ruleset.errors][:3]}")
    frame = synthetic_events(n, seed)
    options: dict[str, Any] = {"hostname": "bench-node"}
    ruleset.evaluate(frame.iloc[:1000], **options)  # compile output formats once, outside the timings

    mask_seconds, alerts = _best(lambda: _masks(ruleset, frame), repeat)
    column_seconds, column_frame = _best(lambda: ruleset.evaluate(frame, **options), repeat)
    reference_seconds, reference_frame = _best(
        lambda: alerts_frame(ruleset.alerts(frame, **options)), max(1, repeat // 2)
    )
    try:
        pd.testing.assert_frame_equal(column_frame, reference_frame, check_exact=True)
        identical, difference = True, None
    except AssertionError as exc:  # reported, not hidden
        identical, difference = False, str(exc)[:500]

    def rates(seconds: float) -> dict[str, Any]:
        formatting = seconds - mask_seconds
        return {
            "seconds": round(seconds, 4),
            "events_per_s": round(n / seconds),
            "formatting_seconds": round(formatting, 4),
            "alerts_per_s_formatted": round(alerts / formatting) if formatting > 0 else None,
        }

    column = rates(column_seconds)
    reference = rates(reference_seconds)
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
        "ruleset": {
            "file": "falco_rules.yaml",
            "enabled_syscall_rules": len(ruleset._selected(None, "syscall")),
        },  # noqa: SLF001
        "masks": {"seconds": round(mask_seconds, 4), "events_per_s": round(n / mask_seconds)},
        "column_wise": {**column, "method": f"RuleSet.evaluate(frame); best of {repeat}"},
        "per_alert_reference": {
            **reference,
            "method": f"alerts_frame(RuleSet.alerts(frame)); best of {max(1, repeat // 2)}",
        },
        "speedup_end_to_end": round(reference_seconds / column_seconds, 2),
        "speedup_formatting": (
            round((reference_seconds - mask_seconds) / (column_seconds - mask_seconds), 1)
            if column_seconds > mask_seconds
            else None
        ),
        "identical_frames": identical,
        "difference": difference,
        "targets": {"events_per_s": TARGET_EVENTS_PER_S, "alerts_per_s_formatted": TARGET_ALERTS_PER_S},
        "meets_targets": bool(
            column["events_per_s"] >= TARGET_EVENTS_PER_S
            and (column["alerts_per_s_formatted"] or 0) >= TARGET_ALERTS_PER_S
            and identical
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
    load_before = os.getloadavg()
    started = dt.datetime.now(dt.UTC)
    result = bench(args.rules_dir, args.events, args.seed, args.repeat)
    report = {
        "benchmark": "evaluate",
        "measured_at": started.isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        **result,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "evaluate.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
