"""``falco-lab events ...`` sub-commands.

``falco-lab events summary PATH... [--json] [--strict]`` loads the events (files,
directories, ``-`` for stdin, or sidekick-ui URLs) and prints counts by priority, rule
and source plus the rejected records.  With ``--json`` it prints exactly one object::

    {"events": N, "bad_records": M, "by_priority": {...}, "by_rule": {...},
     "by_source": {...}, "problems": [{"file": ..., "line": ..., "reason": ...}, ...]}

(``problems`` capped at :data:`MAX_PROBLEMS`).  Exit status: 0, or 1 with ``--strict``
when a record was rejected, or 2 when a source cannot be read.

``falco-lab events export EVENTS... --format ocsf|ecs|jsonl|parquet -o PATH`` writes the
alerts for a SIEM (:mod:`falco_lab.events.export`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

import pandas as pd

from falco_lab.events.export import FORMATS as EXPORT_FORMATS
from falco_lab.events.load import load_events
from falco_lab.events.load_diagnostics import LoadError, load_report
from falco_lab.priorities import PRIORITIES

#: At most this many problems are printed.
MAX_PROBLEMS = 100
_NONE = "(none)"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``events`` command group to the top-level parser."""
    parser = subparsers.add_parser(
        "events",
        help="load and summarise Falco / falcosidekick events",
        description="Load and summarise Falco / falcosidekick events.",
    )
    sub = parser.add_subparsers(dest="events_command", metavar="SUBCOMMAND")
    sub.required = True
    summary = sub.add_parser(
        "summary",
        help="count events by priority, rule and source; list bad records",
        description="Load Falco JSON lines (files, .gz, directories, '-' for stdin) or a "
        "falcosidekick-ui URL and summarise them.",
    )
    summary.add_argument("paths", nargs="+", metavar="PATH", help="file, directory, '-' or http(s) URL")
    summary.add_argument("--json", action="store_true", help="print one JSON object")
    summary.add_argument("--strict", action="store_true", help="exit with status 1 if any record is bad")
    summary.add_argument("--since", help="only events in this window, e.g. 24h, 5min, 2d")
    summary.set_defaults(handler=summary_command)
    export = sub.add_parser(
        "export",
        help="write alerts as OCSF (Security Lake), ECS (Elastic), Falco JSON lines or a Parquet archive",
        description="Load alerts and write them for a SIEM: --format ocsf (OCSF Security Finding as "
        "falcosidekick's AWS Security Lake output writes it: Parquet when PATH ends in .parquet, JSON lines "
        "otherwise), ecs (Elastic Common Schema NDJSON), jsonl (Falco's alert JSON) or parquet (the "
        "falco-lab archive format).",
    )
    export.add_argument("paths", nargs="+", metavar="EVENTS", help="file, directory, '-' or http(s) URL")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="output format")
    export.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="file to write ('-': stdout, line formats)"
    )
    export.add_argument(
        "--keep-duplicates", action="store_true", help="keep alerts loaded twice (default: drop them)"
    )
    export.set_defaults(handler=export_command)


def _counts(values: pd.Series) -> dict[str, int]:
    counts = values.astype("string").fillna(_NONE).value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {str(k): int(v) for k, v in ordered}


def summarize(frame: pd.DataFrame) -> dict[str, object]:
    """The ``--json`` object for a loaded frame."""
    report = load_report(frame)
    present = frame["priority"].astype(str).value_counts()
    return {
        "events": int(len(frame)),
        "bad_records": report.bad_records,
        "by_priority": {p: int(present[p]) for p in PRIORITIES if p in present.index},
        "by_rule": _counts(frame["rule"]),
        "by_source": _counts(frame["source"]),
        "problems": [p.to_dict() for p in report.problems[:MAX_PROBLEMS]],
    }


def _print_text(summary: dict, skipped: int, out: TextIO) -> None:
    def table(title: str, counts: dict[str, int]) -> None:
        print(f"{title}:", file=out)
        if not counts:
            print("  (none)", file=out)
        width = max((len(k) for k in counts), default=0)
        for key, value in counts.items():
            print(f"  {key:<{width}}  {value:>8}", file=out)

    line = f"events: {summary['events']}    bad records: {summary['bad_records']}"
    if skipped:
        line += f"    skipped lines: {skipped}"
    print(line, file=out)
    table("by priority", summary["by_priority"])
    table("by rule", summary["by_rule"])
    table("by source", summary["by_source"])
    problems = summary["problems"]
    if problems:
        shown = (
            f"first {len(problems)} of {summary['bad_records']}"
            if summary["bad_records"] > len(problems)
            else "all"
        )
        print(f"problems ({shown}):", file=out)
        for p in problems:
            where = p["file"] if p["line"] is None else f"{p['file']}:{p['line']}"
            print(f"  {where}: {p['reason']}", file=out)


def summary_command(args: argparse.Namespace) -> int:
    """Handler of ``falco-lab events summary``."""
    try:
        frame = load_events(*args.paths, warn=False, since=args.since, progress=False)
    except (LoadError, ValueError) as exc:
        print(f"falco-lab events summary: {exc}", file=sys.stderr)
        return 2
    summary = summarize(frame)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_text(summary, load_report(frame).skipped, sys.stdout)
    return 1 if args.strict and summary["bad_records"] else 0


def export_command(args: argparse.Namespace) -> int:
    """Handler of ``falco-lab events export``: exit 0, 1 (nothing loaded or unwritable) or 2 (bad input)."""
    import contextlib

    from falco_lab.events.export import export_events
    from falco_lab.events.sanity import keeping_duplicates

    try:
        with keeping_duplicates() if args.keep_duplicates else contextlib.nullcontext():
            frame = load_events(*args.paths, warn=False, progress=False)
    except (LoadError, ValueError) as exc:
        print(f"falco-lab events export: {exc}", file=sys.stderr)
        return 2
    report = load_report(frame)
    for problem in report.problems[:MAX_PROBLEMS]:
        print(f"falco-lab events export: skipped {problem}", file=sys.stderr)
    if len(report.problems) > MAX_PROBLEMS:
        print(f"falco-lab events export: ... {len(report.problems) - MAX_PROBLEMS} more", file=sys.stderr)
    if frame.empty:
        print(f"falco-lab events export: no alerts in {', '.join(args.paths)}", file=sys.stderr)
        return 1
    try:
        written = export_events(frame, args.output, args.format)
    except ValueError as exc:
        print(f"falco-lab events export: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # the reader of stdout went away: falco-lab's main ends quietly
    except OSError as exc:
        print(f"falco-lab events export: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(frame):,} alert(s) to {args.output} ({written})", file=sys.stderr)
    return 0
