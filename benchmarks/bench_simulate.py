"""Benchmark: simulate one day of a 20-node EKS cluster and detect with the real rules.

Usage::

    python benchmarks/bench_simulate.py --out DIR [--nodes 20] [--hours 24] [--seed 0]
        [--rules FILE]... [--sample 5000]

Measures, in one run:

* **generation**: the background workload played on the world model (syscall events
  per second), and building the events frame from the log;
* **detection, vectorised**: ``falco_lab.simulate.detect.detect`` (``RuleSet.alerts`` on the
  frame, node by node) over every event (events evaluated per second);
* **baseline, per event**: ``RuleSet.matches`` called on each event of a random sample
  (mappings, the simple way), in the same run, on the same ruleset;

and checks that both ways agree on which rules fire for the sampled events.  Rules: the
upstream rulesets found locally plus the project's rules, or exactly ``--rules``.

Writes ``DIR/simulate.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_common import BenchRun, comparison  # noqa: E402

from falco_lab.simulate import Simulator, build_world  # noqa: E402
from falco_lab.simulate import workloads as wl  # noqa: E402
from falco_lab.simulate.detect import choose_rules, detect, load_ruleset  # noqa: E402
from falco_lab.simulate.scenario import DEFAULT_START  # noqa: E402
from falco_lab.simulate.syscalls import frame_records  # noqa: E402

_NS = 1_000_000_000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(nodes: int, hours: float, seed: int, rules: list[str] | None, sample: int) -> dict:
    choice = choose_rules(rules)
    t0 = time.perf_counter()
    ruleset = load_ruleset(choice)
    load_s = time.perf_counter() - t0

    start_ns = int(DEFAULT_START.timestamp()) * _NS
    load_before = os.getloadavg()[0]
    c0 = time.process_time()
    t0 = time.perf_counter()
    world = build_world(nodes, seed=seed)
    sim = Simulator(world, seed=seed, start_ns=start_ns - 3600 * _NS)
    fleet = wl.deploy_fleet(sim, region=world.region)
    sim.now = start_ns
    wl.background(sim, fleet, start_ns=start_ns, hours=hours).run(sim)
    generate_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame = sim.log.frame()
    frame_s = time.perf_counter() - t0
    generate_cpu = time.process_time() - c0
    events = len(frame)

    c0 = time.process_time()
    t0 = time.perf_counter()
    alerts = detect(frame, ruleset)
    detect_s = time.perf_counter() - t0
    detect_cpu = time.process_time() - c0
    detect_stamp = BenchRun.stamp({})["measured_at"]

    rng = random.Random(seed)
    positions = sorted(rng.sample(range(events), min(sample, events)))
    sub = frame.iloc[positions].reset_index(drop=True)
    sampled = list(frame_records(sub))
    c0 = time.process_time()
    t0 = time.perf_counter()
    per_event = [ruleset.matches(event) for event in sampled]
    baseline_s = time.perf_counter() - t0
    baseline_cpu = time.process_time() - c0
    baseline_stamp = BenchRun.stamp({})["measured_at"]

    # agreement: the vectorised path on the sampled rows must fire the same rules per event
    vectorised: dict[int, list[str]] = {}
    for alert in detect(sub, ruleset):
        vectorised.setdefault(alert["output_fields"]["evt.time"], []).append(alert["rule"])
    per_event_by_time: dict[int, list[str]] = {}
    for event, fired in zip(sampled, per_event, strict=True):
        if fired:
            per_event_by_time.setdefault(event["evt.time"], []).extend(fired)
    agree = {k: sorted(v) for k, v in vectorised.items()} == {
        k: sorted(v) for k, v in per_event_by_time.items()
    }

    vector_rate = events / detect_s if detect_s else float("inf")
    baseline_rate = len(sampled) / baseline_s if baseline_s else float("inf")
    return {
        "benchmark": "simulate",
        "simulated": True,
        "python": platform.python_version(),
        "architecture": platform.machine(),
        "nodes": nodes,
        "hours": hours,
        "seed": seed,
        "rules": choice.description,
        "rules_files": [str(p) for p in choice.paths],
        "enabled_rules": len(ruleset.enabled_rules),
        "rules_load_seconds": round(load_s, 3),
        "syscall_events": events,
        "alerts": len(alerts),
        "generate_seconds": round(generate_s, 3),
        "frame_seconds": round(frame_s, 3),
        "generated_events_per_second": round(events / (generate_s + frame_s)),
        "generate_cpu_seconds": round(generate_cpu, 3),
        "detect_seconds": round(detect_s, 3),
        "evaluated_events_per_second": round(vector_rate),
        "detect_cpu_seconds": round(detect_cpu, 3),
        "measured_at": detect_stamp,
        "end_to_end_seconds": round(generate_s + frame_s + detect_s, 3),
        "baseline": {
            "method": "RuleSet.matches per event (mappings), same ruleset",
            "sample_events": len(sampled),
            "seconds": round(baseline_s, 3),
            "evaluated_events_per_second": round(baseline_rate),
            "cpu_seconds": round(baseline_cpu, 3),
            "measured_at": baseline_stamp,
        },
        "speedup_vs_baseline": round(vector_rate / baseline_rate, 2) if baseline_rate else None,
        "sample_agreement": agree,
        "peak_rss_mb": round(_rss_mb(), 1),
        "load_average_at_start": round(load_before, 2),
        "note": "wall-clock figures depend on machine load (2 shared cores); cpu_seconds are this process only",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules", action="append", default=None)
    parser.add_argument("--sample", type=int, default=5000)
    args = parser.parse_args(argv)
    bench_run = BenchRun("simulate")
    figures = run(args.nodes, args.hours, args.seed, args.rules, args.sample)
    figures.pop("benchmark")
    result = bench_run.result(
        figures,
        data={
            "generator": "falco_lab.simulate: build_world + deploy_fleet + background workload",
            "seed": args.seed,
            "nodes": args.nodes,
            "hours": args.hours,
            "syscall_events": figures["syscall_events"],
            "per_event_sample": args.sample,
        },
        baseline=comparison("baseline", "RuleSet.matches per event on a sample (mappings), same run"),
        peers=[
            comparison(
                None,
                "a general-purpose engine",
                missing="no general-purpose engine evaluates Falco rules over simulated syscalls",
            )
        ],
    )
    path = bench_run.write(args.out, result)
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return 0 if result["sample_agreement"] else 1


if __name__ == "__main__":
    sys.exit(main())
