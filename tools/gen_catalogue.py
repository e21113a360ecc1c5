"""Generate the field catalogue shipped in ``falco_lab/rules/data`` from the upstream reference data.

Only facts are carried over (names, types, argument kinds, flags, event sources, event-type names);
the upstream field descriptions are deliberately left out.

Usage: ``python tools/gen_catalogue.py [--shared ../shared] [--check]``
(``--check`` exits 1 if the committed files differ from what would be generated).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "falco_lab" / "rules" / "data"
FACT_KEYS = ("name", "type", "kind", "is_list", "arg", "flags", "event_source")


def build_fields(upstream: list[dict]) -> list[dict]:
    """Facts of every upstream field, in upstream order."""
    out = []
    for item in upstream:
        fact = {key: item[key] for key in FACT_KEYS}
        fact["flags"] = list(item.get("flags", []))
        if item.get("legacy"):
            fact["legacy"] = True
        out.append(fact)
    return out


def build_evttypes(upstream: dict) -> dict:
    return {
        "event_names": sorted(upstream["event_names"]),
        "ppm_sc_names": sorted(upstream["ppm_sc_names"]),
    }


def render(obj: object) -> str:
    return json.dumps(obj, indent=1, sort_keys=False) + "\n"


def generate(shared: Path) -> dict[str, str]:
    fields = json.loads((shared / "upstream" / "fields.json").read_text(encoding="utf-8"))
    evttypes = json.loads((shared / "upstream" / "evttypes.json").read_text(encoding="utf-8"))
    return {"fields.json": render(build_fields(fields)), "evttypes.json": render(build_evttypes(evttypes))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--check", action="store_true", help="only compare with the committed files")
    args = parser.parse_args(argv)
    outputs = generate(args.shared)
    stale = [
        name
        for name, text in outputs.items()
        if not (OUT / name).exists() or (OUT / name).read_text() != text
    ]
    if args.check:
        for name in stale:
            print(f"{OUT / name} is out of date; run tools/gen_catalogue.py", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in outputs.items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
