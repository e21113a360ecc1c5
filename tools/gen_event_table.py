"""Generate ``falco_lab/capture/data/event_table.json`` from ``../shared/upstream/event_table.json``.

The scap event table (event id → name, direction, flags, parameter names and types) is a fact
of libs; the capture reader carries it as generated data.  Run from the repository root::

    python tools/gen_event_table.py [--source ../shared/upstream/event_table.json] [--check]

``--check`` exits 1 when the committed file differs from what the tool makes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FALCO_LAB_SHARED", ROOT.parent / "shared"))
DEFAULT_SOURCE = SHARED / "upstream" / "event_table.json"
TARGET = ROOT / "falco_lab" / "capture" / "data" / "event_table.json"


def render(source: dict[str, Any]) -> str:
    """The package's event table text for the upstream ``source`` document.

    One line per event, sorted by id: ``[id, code, name, dir, flags, [[param, type, fmt], ...]]``.
    """
    events = sorted(source["events"], key=lambda event: int(event["id"]))
    ids = [int(event["id"]) for event in events]
    if ids != list(range(len(ids))):
        raise ValueError("event ids are not 0..N-1 without gaps")
    lines = [
        json.dumps(
            [
                int(event["id"]),
                event["code"],
                event["name"],
                event["dir"],
                list(event["flags"]),
                [[p["name"], p["type"], p["fmt"]] for p in event["params"]],
            ],
            separators=(",", ":"),
        )
        for event in events
    ]
    header = json.dumps({"generated_by": "tools/gen_event_table.py", "source": source["source"]})
    return '{"meta": ' + header + ',\n"events": [\n' + ",\n".join(lines) + "\n]}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render(json.loads(args.source.read_text(encoding="utf-8")))
    if args.check:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} is stale: run tools/gen_event_table.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
