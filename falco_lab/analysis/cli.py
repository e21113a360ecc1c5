"""``falco-lab report``: write the self-contained post-mortem report for alert files."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pandas as pd

from falco_lab.analysis.fields import GROUPINGS, filter_alerts
from falco_lab.analysis.noise import what_if
from falco_lab.analysis.report import ReportCaps, ReportOptions, export_alerts, parse_caps, write_report
from falco_lab.priorities import PRIORITIES

#: JSON lines of at least this many bytes are reported out of core (``--in-memory`` to load
#: them whole): in memory a report needs about five times its input (5.5 GB for 900 MB).
OUT_OF_CORE_BYTES = 512 << 20

__all__ = ["register", "run_report"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-command to the top-level ``falco-lab`` parser."""
    parser = subparsers.add_parser(
        "report",
        help="write a self-contained HTML post-mortem report of Falco alerts",
        description="Load alerts (Falco JSON lines, falcosidekick exports, Parquet), filter them and write one "
        "HTML file with summary, timeline, process lineage, drill-down, MITRE ATT&CK view, findings and the "
        "alerts table. The file embeds plotly.js and works offline.",
    )
    parser.add_argument("events", nargs="+", metavar="EVENTS", help="alert files or directories")
    parser.add_argument("-o", "--output", default="report.html", type=Path, help="HTML file to write")
    parser.add_argument(
        "--since", help="keep alerts at or after T (ISO 8601, or 30m/2h/1d before the last alert)"
    )
    parser.add_argument(
        "--until", help="keep alerts before T (ISO 8601, or a duration before the last alert)"
    )
    parser.add_argument("--namespace", action="append", metavar="NS", help="keep this namespace (repeatable)")
    parser.add_argument(
        "--pod", action="append", metavar="POD", help="keep this pod, POD or NAMESPACE/POD (repeatable)"
    )
    parser.add_argument("--rule", action="append", metavar="RULE", help="keep this rule (repeatable)")
    parser.add_argument("--min-priority", choices=PRIORITIES, help="keep alerts of this priority or worse")
    parser.add_argument("--title", default="Falco incident post-mortem", help="report title")
    parser.add_argument("--group-by", default="rule", choices=list(GROUPINGS), help="timeline lanes")
    parser.add_argument(
        "--incident",
        action="append",
        metavar="LABEL=TIME",
        help="mark an incident time on the timelines (repeatable)",
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="alerts listed one per row before aggregating (= --cap alert_rows=N)",
    )
    parser.add_argument(
        "--cap",
        action="append",
        default=[],
        metavar="NAME=N",
        help="override one size cap of the report, e.g. pod_stories=10 (repeatable; names: "
        + ", ".join(f.name for f in fields(ReportCaps))
        + ")",
    )
    parser.add_argument(
        "--rules",
        action="append",
        metavar="RULES.yaml",
        help="rules file(s) whose ATT&CK tags give the detection coverage view (repeatable)",
    )
    parser.add_argument(
        "--what-if-exception",
        metavar="CONDITION",
        help="show how many alerts a proposed exception (Falco condition) would suppress",
    )
    parser.add_argument(
        "--what-if-rule",
        action="append",
        metavar="RULE",
        help="rule(s) the what-if exception applies to (default: every rule; repeatable)",
    )
    parser.add_argument(
        "--what-if-workload",
        action="append",
        metavar="WORKLOAD",
        help="workload(s) the what-if exception applies to, covering all their pods (default: all; repeatable)",
    )
    parser.add_argument(
        "--triage",
        action="append",
        type=Path,
        metavar="FILE",
        help="case-work marks to show (repeatable; default: each events file's <events>.triage.json, if any)",
    )
    parser.add_argument(
        "--collected-at",
        metavar="TIME",
        help="when the alerts were collected, ISO 8601 (default: the newest input file's modification time)",
    )
    parser.add_argument(
        "--keep-duplicates",
        action="store_true",
        help="keep alerts loaded twice (default: drop them and count them in the load report)",
    )
    parser.add_argument(
        "--capture",
        action="append",
        metavar="FILE.scap",
        help="a syscall capture of the incident (repeatable): the report shows what each alerting process did",
    )
    parser.add_argument(
        "--capture-window",
        default="30,60",
        metavar="BEFORE,AFTER",
        help="seconds before and after each alert shown from the capture (default: 30,60)",
    )
    parser.add_argument("--csv", type=Path, metavar="PATH", help="also export the filtered alerts as CSV")
    parser.add_argument(
        "--parquet", type=Path, metavar="PATH", help="also export the filtered alerts as Parquet"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--in-memory",
        action="store_true",
        help="load every alert into memory (default: a report over Parquet files only, or over JSON lines "
        f"of {OUT_OF_CORE_BYTES >> 20} MiB or more, runs its aggregations as DuckDB queries, out of core)",
    )
    where.add_argument(
        "--out-of-core",
        action="store_true",
        help="stream JSON lines into temporary Parquet files and report out of core, whatever their size",
    )
    parser.add_argument(
        "--spill-dir",
        type=Path,
        metavar="DIR",
        help="where an out-of-core report over JSON lines puts its temporary Parquet files (default: the "
        "system's temporary directory; removed afterwards)",
    )
    parser.add_argument(
        "--print-sql",
        action="store_true",
        help="print the SQL statements the out-of-core report ran (for Athena/Trino over the same files)",
    )
    sim = parser.add_mutually_exclusive_group()
    sim.add_argument(
        "--simulated",
        dest="simulated",
        action="store_true",
        default=None,
        help="show the simulated-data banner (default: detect from the alerts)",
    )
    sim.add_argument("--not-simulated", dest="simulated", action="store_false", help="never show the banner")
    parser.set_defaults(handler=run_report)


def _incidents(values: list[str] | None) -> dict[str, pd.Timestamp]:
    out: dict[str, pd.Timestamp] = {}
    for value in values or []:
        name, sep, when = value.partition("=")
        if not sep:
            name, when = when or name, name
        stamp = pd.Timestamp(when.strip())
        out[name.strip() or when] = (
            stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        )
    return out


def _load(paths: list[str], keep_duplicates: bool = False) -> pd.DataFrame:
    """Alerts of every source (JSON lines, exports, Parquet archives) with ``load_events``.

    Sorted by time; the load report, which also carries the bad records a Parquet archive's
    own load rejected, is in ``df.attrs["load_report"]`` (problems are printed, not warned).
    """
    import contextlib

    from falco_lab.events import load_events
    from falco_lab.events.sanity import keeping_duplicates

    with keeping_duplicates() if keep_duplicates else contextlib.nullcontext():
        return load_events(*paths, warn=False)


def _load_triage(events: list[str], given: list[Path] | None) -> list[Any]:
    """The marks of ``--triage`` files, or of the triage file next to each events file."""
    from falco_lab.analysis.triage import load_triage, triage_path

    if given:
        paths = list(given)
    else:
        paths = [triage_path(e) for e in events if e != "-" and "://" not in e]
        paths = [p for p in paths if p.is_file()]
    marks: list[Any] = []
    for path in paths:
        marks.extend(load_triage(path))
        print(f"falco-lab report: case notes from {path}")
    return marks


def _load_rules(paths: list[str] | None) -> Any:
    if not paths:
        return None
    from falco_lab.rules import load_rules

    ruleset = load_rules(paths)
    for error in getattr(ruleset, "errors", ()) or ():
        print(f"falco-lab report: rules: {error}", file=sys.stderr)
    return ruleset


def _print_load_problems(df: pd.DataFrame, limit: int = 10) -> None:
    """Tell on stderr which input records were rejected (file:line: reason); the report lists them too."""
    from falco_lab.events.load_diagnostics import ATTRS_KEY

    _print_report_problems(df.attrs.get(ATTRS_KEY), limit)


def _print_report_problems(report: Any, limit: int = 10) -> None:
    """:func:`_print_load_problems` for a load report."""
    problems = list(getattr(report, "problems", ()))
    if report is None or not problems:
        return
    print(f"falco-lab report: {report.summary()}", file=sys.stderr)
    for problem in problems[:limit]:
        print(f"  {problem}", file=sys.stderr)
    if len(problems) > limit:
        print(f"  ... {len(problems) - limit} more (listed in the report)", file=sys.stderr)


def _capture_window(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        before, after = (float(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"--capture-window {text!r}: expected BEFORE,AFTER in seconds (e.g. 30,60)"
        ) from None
    if before < 0 or after < 0:
        raise ValueError(f"--capture-window {text!r}: seconds must not be negative")
    return before, after


def _load_captures(paths: list[str] | None) -> pd.DataFrame | None:
    """The events of the captures, concatenated; ``None`` without any."""
    if not paths:
        return None
    from falco_lab.capture import is_capture, load_capture

    frames = []
    for path in paths:
        if not Path(path).is_file() or not is_capture(path):
            raise ValueError(f"--capture {path}: not a scap capture (checked by content)")
        frames.append(load_capture(path))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def run_report(args: argparse.Namespace) -> int:
    """Handler of ``falco-lab report``: load, filter, write the report (and exports)."""
    from falco_lab.errors import FalcoLabError  # root of the loaders' errors

    try:
        caps = _caps(args)
    except ValueError as exc:
        print(f"falco-lab report: {exc}", file=sys.stderr)
        return 2
    if not args.in_memory:
        from falco_lab.analysis.report.archive import is_archive_input

        if is_archive_input(args.events):
            return run_archive_report(args, caps)
        streamed = _streamed_inputs(args)
        if streamed is not None:
            return run_streamed_report(args, caps, *streamed)
    try:
        df = _load(list(args.events), keep_duplicates=args.keep_duplicates)
        ruleset = _load_rules(args.rules)
        triage = _load_triage(list(args.events), args.triage)
        window = _capture_window(args.capture_window)
        capture = _load_captures(args.capture)
    except (OSError, FalcoLabError, ValueError) as exc:
        print(f"falco-lab report: {exc}", file=sys.stderr)
        return 1
    _print_load_problems(df)
    try:
        incidents = _incidents(args.incident)
        selected = filter_alerts(df, **_filters(args))
    except ValueError as exc:
        print(f"falco-lab report: {exc}", file=sys.stderr)
        return 2
    what_ifs = []
    if args.what_if_exception:
        try:
            result = what_if(
                selected,
                exception=args.what_if_exception,
                rules=args.what_if_rule,
                ruleset=ruleset,
                workloads=args.what_if_workload,
            )
        except (ValueError, FalcoLabError) as exc:
            print(f"falco-lab report: --what-if-exception: {exc}", file=sys.stderr)
            return 2
        print(result)
        what_ifs.append(result)
    filters = _filters_shown(args)
    options = ReportOptions(
        title=args.title,
        simulated=args.simulated,
        ref_times=incidents or None,
        group_by=args.group_by,
        caps=caps,
        sources=list(args.events),
        filters=filters,
        rules=ruleset,
        what_ifs=what_ifs,
        triage=triage,
        collected_at=args.collected_at,
        capture=capture,
        capture_window=window,
    )
    path = write_report(selected, args.output, options)
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): {len(selected):,} of {len(df):,} alerts"
        + (" — no events matched: the report says so" if selected.empty else "")
    )
    for target in (args.csv, args.parquet):
        if target is not None:
            export_alerts(selected, target)
            print(f"wrote {target}: {len(selected):,} alerts")
    if df.empty:
        # nothing to report on is a failure for scripts, even though the report says so too
        print(f"falco-lab report: no alerts in {', '.join(map(str, args.events))}", file=sys.stderr)
        return 1
    return 0


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    """The filter options of the command line, as ``filter_alerts``/``open_archive`` keywords."""
    names = ("since", "until", "namespace", "pod", "rule", "min_priority")
    return {name: getattr(args, name) for name in names}


def _filters_shown(args: argparse.Namespace) -> dict[str, str]:
    """The filters given on the command line, as the report header shows them."""
    return {
        k.replace("_", "-"): ", ".join(v) if isinstance(v, list) else str(v)
        for k, v in _filters(args).items()
        if v
    }


#: Options that need every alert in memory, refused out of core.
_IN_MEMORY_ONLY = (
    ("what_if_exception", "--what-if-exception"),
    ("csv", "--csv"),
    ("parquet", "--parquet"),
    ("keep_duplicates", "--keep-duplicates"),
)


def _caps(args: argparse.Namespace) -> ReportCaps:
    """The report's caps from ``--max-rows`` and every ``--cap NAME=N`` (ValueError when invalid)."""
    return parse_caps(
        [*(["alert_rows=" + str(args.max_rows)] if args.max_rows is not None else []), *args.cap]
    )


def _needs_memory(args: argparse.Namespace, *, streamed: bool) -> list[str]:
    """The flags given that need every alert in memory (streamed JSON lines keep ``--keep-duplicates``)."""
    return [
        flag
        for name, flag in _IN_MEMORY_ONLY
        if getattr(args, name, None) and not (streamed and name == "keep_duplicates")
    ]


def _streamed_inputs(args: argparse.Namespace) -> tuple[list[Path], int] | None:
    """The JSON-lines files to stream out of core and their size, or ``None`` to load the inputs in memory.

    Streamed: every input is a JSON-lines file (or a directory of them) and together they
    take :data:`OUT_OF_CORE_BYTES` or more, or ``--out-of-core`` is given.  Options that
    need every alert in memory keep a large input in memory, and say so.
    """
    from falco_lab.events.spill import input_bytes, jsonl_inputs

    try:
        files = jsonl_inputs(list(args.events))
    except OSError:
        return None  # the in-memory loader names the file that cannot be read
    if files is None:
        if args.out_of_core:
            print(
                "falco-lab report: --out-of-core: not every input is a JSON-lines file; loading in memory",
                file=sys.stderr,
            )
        return None
    size = input_bytes(files)
    if not args.out_of_core and size < OUT_OF_CORE_BYTES:
        return None
    refused = _needs_memory(args, streamed=True)
    if refused:
        print(
            f"falco-lab report: {', '.join(refused)} need(s) every alert in memory: loading "
            f"{size / 1e9:.2f} GB of JSON lines in memory",
            file=sys.stderr,
        )
        return None
    return files, size


def run_streamed_report(args: argparse.Namespace, caps: ReportCaps, files: list[Path], size: int) -> int:
    """``falco-lab report`` over large JSON lines: streamed into temporary Parquet, then out of core.

    See :mod:`falco_lab.events.spill` (what the stream keeps of the loader's guarantees)
    and :func:`run_archive_report`.  The temporary files are removed afterwards.
    """
    import tempfile

    from falco_lab.errors import FalcoLabError
    from falco_lab.events.spill import spill_jsonl

    if args.spill_dir is not None:
        args.spill_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="falco-lab-spill-", dir=args.spill_dir) as tmp:
        try:
            result = spill_jsonl(files, Path(tmp), keep_duplicates=args.keep_duplicates)
        except (OSError, FalcoLabError) as exc:
            print(f"falco-lab report: {exc}", file=sys.stderr)
            return 1
        if not result.files:
            _print_report_problems(result.report)
            print(f"falco-lab report: no alerts in {', '.join(map(str, args.events))}", file=sys.stderr)
            return 1
        return run_archive_report(
            args,
            caps,
            paths=[Path(tmp)],
            load_report=result.report,
            streamed_from=(tuple(map(str, files)), size),
        )


def run_archive_report(
    args: argparse.Namespace,
    caps: ReportCaps | None = None,
    *,
    paths: list[Path] | None = None,
    load_report: Any = None,
    streamed_from: tuple[tuple[str, ...], int] | None = None,
) -> int:
    """``falco-lab report`` over Parquet files only: aggregations as DuckDB queries, out of core.

    See :mod:`falco_lab.analysis.report.archive`.  A file that is not alerts is an error
    naming it (exit 1); an archive with no alert left after the filters writes a report
    that says so and exits 1, as the in-memory path does.  ``paths`` (default: the
    inputs), ``load_report`` and ``streamed_from`` are given by :func:`run_streamed_report`.
    """
    from falco_lab.analysis.report.archive import open_archive
    from falco_lab.errors import FalcoLabError

    refused = _needs_memory(args, streamed=streamed_from is not None)
    if refused:
        print(
            f"falco-lab report: {', '.join(refused)} need(s) every alert in memory; add --in-memory "
            "to load the Parquet archive into memory",
            file=sys.stderr,
        )
        return 2
    try:
        archive = open_archive(list(paths or args.events), **_filters(args))
        if load_report is not None:
            archive.load_report = load_report
        archive.streamed_from = streamed_from
        ruleset = _load_rules(args.rules)
        triage = _load_triage(list(args.events), args.triage)
        capture = _load_captures(args.capture)
        window = _capture_window(args.capture_window)
        incidents = _incidents(args.incident)
        total = archive.total
    except (OSError, FalcoLabError) as exc:
        print(f"falco-lab report: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"falco-lab report: {exc}", file=sys.stderr)
        return 2
    options = ReportOptions(
        title=args.title,
        simulated=args.simulated,
        ref_times=incidents or None,
        group_by=args.group_by,
        caps=caps if caps is not None else ReportCaps(),
        sources=list(args.events),
        filters=_filters_shown(args),
        rules=ruleset,
        collected_at=args.collected_at,
        triage=triage,
        capture=capture,
        capture_window=window,
    )
    _print_report_problems(archive.load_report)
    path = write_report(archive, args.output, options)
    everything = archive.unfiltered_total() if archive.cache.get("filtered") else total
    how = "streamed from JSON lines into " if streamed_from is not None else ""
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): {total:,} of {everything:,} alerts, out of core "
        f"({how}{len(archive.files):,} Parquet file(s); {archive.materialised:,} candidate rows and "
        f"{archive.story_rows:,} pod-story rows materialised)"
        + (" — no events matched: the report says so" if not total else "")
    )
    if args.print_sql:
        for statement in archive.statements():
            print(statement.rstrip(";") + ";")
    if not everything:
        print(f"falco-lab report: no alerts in {', '.join(map(str, args.events))}", file=sys.stderr)
        return 1
    return 0
