"""``falco-lab capture ...`` sub-commands.

``falco-lab capture events FILE... [--fields F,...] [--enter] --out OUT.jsonl|-`` writes one JSON
object per event (field → value; with ``--fields`` exactly those keys, ``null`` where an event has
no value; without, every field that has a value).  Exit status 0, or 1 when a capture is truncated
or corrupt (the events before the bad block are written, the error names file and byte offset),
or 2 when a file is not a capture.

``falco-lab capture fetch [NAME...] [--dir DIR] [--list]`` downloads public captures by pinned URL
and sha256 into the cache the notebooks read (:mod:`falco_lab.capture.fetch`), or into ``DIR``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Any

from falco_lab.capture.fetch import default_cache_dir, fetch, public_captures
from falco_lab.capture.load import capture_events
from falco_lab.capture.reader import CaptureError, is_capture


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``capture`` command group to the top-level parser."""
    parser = subparsers.add_parser(
        "capture",
        help="read .scap captures into Falco field values",
        description="Read .scap syscall captures.",
    )
    sub = parser.add_subparsers(dest="capture_command", metavar="SUBCOMMAND")
    sub.required = True
    events = sub.add_parser(
        "events",
        help="write the events of captures as JSON lines (field -> value)",
        description="Decode captures (plain or gzip) and write one JSON object per event.",
    )
    events.add_argument("files", nargs="+", metavar="FILE")
    events.add_argument(
        "--fields", help="comma-separated field names to keep (default: every field with a value)"
    )
    events.add_argument("--out", required=True, help="output JSON lines file, or '-' for stdout")
    events.add_argument("--enter", action="store_true", help="also write enter events (evt.dir '>')")
    events.set_defaults(handler=events_command)
    fetch = sub.add_parser(
        "fetch",
        help="download public captures by pinned URL and sha256",
        description="Download public captures (Falco's and libs' test captures) by pinned URL, checking sha256.",
    )
    fetch.add_argument(
        "names", nargs="*", metavar="NAME", help="capture file names (default: all; see --list)"
    )
    fetch.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="destination folder (default: the cache, $FALCO_LAB_CAPTURES_DIR or ~/.cache/falco-lab/captures, "
        "where the notebooks look)",
    )
    fetch.add_argument("--list", action="store_true", help="list the known captures and exit")
    fetch.set_defaults(handler=fetch_command)


def _line(row: dict[str, Any], fields: list[str] | None) -> str:
    if fields is not None:
        data = {name: row.get(name) for name in fields}
    else:
        data = {name: value for name, value in row.items() if value is not None}
    return json.dumps(data, ensure_ascii=False, default=str)


def events_command(args: argparse.Namespace) -> int:
    fields = [f.strip() for f in args.fields.split(",") if f.strip()] if args.fields else None
    for name in args.files:
        if not Path(name).is_file() or not is_capture(name):
            print(f"error: {name}: not a scap capture (checked by content)", file=sys.stderr)
            return 2
    out: IO[str] = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    status = 0
    written = 0
    try:
        for name in args.files:
            try:
                for row in capture_events(name, enter_events=args.enter):
                    out.write(_line(row, fields) + "\n")
                    written += 1
            except CaptureError as exc:
                print(f"error: {exc}", file=sys.stderr)
                status = 1
    finally:
        if out is not sys.stdout:
            out.close()
    if args.out != "-":
        print(f"wrote {written} events to {args.out}", file=sys.stderr)
    return status


def fetch_command(args: argparse.Namespace) -> int:
    registry = public_captures()
    if args.list:
        for entry in registry.values():
            print(f"{entry.name}\t{entry.what}")
        return 0
    try:
        paths = fetch(list(args.names) or list(registry), args.dir or default_cache_dir())
    except CaptureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0
