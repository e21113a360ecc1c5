"""``falco-lab simulate``: run a scenario on a simulated EKS cluster and write the alerts it raises."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from falco_lab.errors import FalcoLabError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` sub-command to the top-level parser."""
    from falco_lab.simulate.scenario import SCENARIOS

    parser = subparsers.add_parser(
        "simulate",
        help="simulate an EKS cluster with Falco; detect with the real rules engine",
        description=(
            "Run a scenario on a SIMULATED EKS cluster (no cluster is contacted): syscall events go "
            "through the rules engine and come out as Falco 0.44 + falcosidekick JSON alerts. "
            "Without --rules, the upstream rulesets found locally, then the project's rules and its "
            "tuning of upstream lists are loaded (the project's rules alone when no upstream ruleset "
            "is found); with --rules, exactly the given files, in order."
        ),
    )
    parser.add_argument("--scenario", choices=SCENARIOS, default="workshop")
    parser.add_argument("--nodes", type=_positive_int, default=3, help="worker nodes (default 3)")
    parser.add_argument(
        "--hours",
        type=float,
        default=None,
        help="length of background activity (default: workshop 0, incident 6, background 24)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--rules",
        action="append",
        metavar="FILE",
        default=None,
        help="rules file to load (repeatable, in order)",
    )
    parser.add_argument("--upstream-dir", metavar="DIR", help="look for upstream rulesets here first")
    parser.add_argument("--start", type=_timestamp, help="simulated start time, ISO 8601 (default fixed)")
    parser.add_argument("--rule-matching", choices=("all", "first"), default="all")
    parser.add_argument(
        "--out", required=True, metavar="ALERTS.jsonl", help="write the alerts here (JSON lines)"
    )
    parser.add_argument(
        "--syscalls", metavar="EVENTS.jsonl", help="also write the syscall events (JSON lines)"
    )
    parser.add_argument(
        "--post", metavar="URL", help="also POST the alerts to a falcosidekick-compatible URL"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=run)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    """Handler of ``falco-lab simulate``."""
    from falco_lab.simulate.scenario import simulate

    try:
        result = simulate(
            args.scenario,
            nodes=args.nodes,
            hours=args.hours,
            seed=args.seed,
            rules=args.rules,
            upstream_dir=args.upstream_dir,
            start=args.start,
            rule_matching=args.rule_matching,
        )
    except (FalcoLabError, ValueError) as exc:
        print(f"falco-lab simulate: {exc}", file=sys.stderr)
        return 2
    try:
        result.write_alerts(args.out)
        if args.syscalls:
            result.write_syscalls(args.syscalls)
    except OSError as exc:
        print(f"falco-lab simulate: cannot write output: {exc}", file=sys.stderr)
        return 1
    posted = None
    if args.post:
        try:
            posted = result.post(args.post)
        except FalcoLabError as exc:
            print(f"falco-lab simulate: {exc}", file=sys.stderr)
            return 1
    summary = result.summary() | {"out": args.out, "syscalls_out": args.syscalls, "posted": posted}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(_text_summary(summary))
    return 0


def _text_summary(summary: dict) -> str:
    lines = [
        f"SIMULATED cluster {summary['context']} (not a real cluster): scenario {summary['scenario']}, "
        f"{summary['nodes']} nodes, {summary['hours']:g} h from {summary['start']}, seed {summary['seed']}",
        f"rules: {summary['rules']}",
        f"{summary['syscall_events']} syscall events -> {summary['alerts']} alerts, written to {summary['out']}",
    ]
    if summary.get("syscalls_out"):
        lines.append(f"syscall events written to {summary['syscalls_out']}")
    if summary.get("posted") is not None:
        lines.append(f"{summary['posted']} alerts POSTed")
    for incident in summary["incidents"]:
        lines.append(f"injected: {incident['name']} at {incident['at']}")
    for rule, count in summary["by_rule"].items():
        lines.append(f"  {count:6d}  {rule}")
    return "\n".join(lines)
