"""``falco-lab iocs EVENTS... [--format json|csv|stix] [-o PATH]``: indicators of compromise for a SIEM.

Formats (written to ``-o PATH``, or to standard output):

* ``json`` (default): one object ``{"alerts": N, "total": T, "shown": S, "more": M,
  "indicators": [...]}`` with the columns of :func:`~falco_lab.analysis.iocs.extract_iocs`
  per indicator (times ISO 8601 with nanoseconds);
* ``csv``: one row per indicator, list columns joined with ``"; "``, every text cell that a
  spreadsheet would evaluate prefixed with ``'`` (as ``falco-lab report --csv``); when
  indicators were left out, the count is printed on standard error;
* ``stix``: a STIX 2.1 bundle (:func:`~falco_lab.analysis.stix.stix_bundle`).

Exit status: 0; 1 when the events cannot be loaded or hold no alert; 2 for a bad option.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path
from typing import TextIO

import pandas as pd

from falco_lab.analysis._html import defuse_formula
from falco_lab.analysis.iocs import IOC_COLUMNS, IocLimits, extract_iocs, ioc_records, iocs_more

__all__ = ["FORMATS", "iocs_command", "register", "write_iocs"]

FORMATS: tuple[str, ...] = ("json", "csv", "stix")
_LIST_SEPARATOR = "; "


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``falco-lab iocs``."""
    parser = subparsers.add_parser(
        "iocs",
        help="extract indicators of compromise (IPs, domains, URLs, files, images, hashes, users)",
        description="Load alerts (JSON lines, directories, Parquet archives, Security Lake OCSF Parquet) and "
        "list the indicators of compromise in their output fields and output text, each with first/last "
        "seen, count, pods and rules: as JSON, CSV or a STIX 2.1 bundle.",
    )
    parser.add_argument("events", nargs="+", metavar="EVENTS", help="file, directory or '-'")
    parser.add_argument("--format", choices=FORMATS, default="json", help="output format (default: json)")
    parser.add_argument("-o", "--output", type=Path, metavar="PATH", help="file to write (default: stdout)")
    parser.add_argument(
        "--max-rows",
        type=int,
        default=IocLimits().max_rows,
        metavar="N",
        help="indicators listed, the most severe first (default: %(default)s; 0: all)",
    )
    parser.add_argument(
        "--fields-only", action="store_true", help="read output fields only, not the output text"
    )
    parser.add_argument(
        "--keep-duplicates",
        action="store_true",
        help="keep alerts loaded twice (default: drop them, as the report does)",
    )
    parser.set_defaults(handler=iocs_command)


def write_iocs(iocs: pd.DataFrame, fmt: str, out: TextIO, *, alerts: int) -> None:
    """Write the indicators to ``out`` in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        records = ioc_records(iocs)
        document = {
            "alerts": alerts,
            "total": len(records) + iocs_more(iocs),
            "shown": len(records),
            "more": iocs_more(iocs),
            "indicators": records,
        }
        out.write(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    elif fmt == "csv":
        table = pd.DataFrame(ioc_records(iocs), columns=list(IOC_COLUMNS))
        for name in ("ports", "pods", "rules", "sources"):
            table[name] = table[name].map(lambda items: _LIST_SEPARATOR.join(map(str, items)))
        for name in table.columns:  # non-text cells pass through unchanged
            table[name] = table[name].map(defuse_formula)
        table.to_csv(out, index=False, lineterminator="\n")
    elif fmt == "stix":
        from falco_lab.analysis.stix import stix_bundle

        out.write(json.dumps(stix_bundle(iocs), ensure_ascii=False, indent=1) + "\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def iocs_command(args: argparse.Namespace) -> int:
    """Handler of ``falco-lab iocs``."""
    from falco_lab.errors import FalcoLabError
    from falco_lab.events import load_events, load_report
    from falco_lab.events.sanity import keeping_duplicates

    if args.max_rows < 0:
        print("falco-lab iocs: --max-rows must be 0 (all) or more", file=sys.stderr)
        return 2
    try:
        with keeping_duplicates() if args.keep_duplicates else contextlib.nullcontext():
            df = load_events(*args.events, warn=False)
    except (OSError, FalcoLabError, ValueError) as exc:
        print(f"falco-lab iocs: {exc}", file=sys.stderr)
        return 1
    report = load_report(df)
    if report.problems:
        print(f"falco-lab iocs: {report.summary()}", file=sys.stderr)
        for problem in report.problems[:10]:
            print(f"  {problem}", file=sys.stderr)
        if len(report.problems) > 10:
            print(f"  ... {len(report.problems) - 10} more", file=sys.stderr)
    if df.empty:
        print(f"falco-lab iocs: no alerts in {', '.join(map(str, args.events))}", file=sys.stderr)
        return 1
    limits = IocLimits(max_rows=args.max_rows or None)
    iocs = extract_iocs(df, limits=limits, output_text=not args.fields_only)
    buffer = io.StringIO()
    write_iocs(iocs, args.format, buffer, alerts=len(df))
    if args.output is None:
        sys.stdout.write(buffer.getvalue())
    else:
        try:
            args.output.write_text(buffer.getvalue(), encoding="utf-8")
        except OSError as exc:
            print(f"falco-lab iocs: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"wrote {args.output}: {len(iocs):,} indicator(s) from {len(df):,} alert(s)", file=sys.stderr)
    if iocs_more(iocs):
        print(
            f"falco-lab iocs: {iocs_more(iocs):,} more indicator(s) not listed (raise --max-rows, 0 for all)",
            file=sys.stderr,
        )
    return 0
