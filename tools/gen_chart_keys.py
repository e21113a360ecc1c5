"""Generate the chart facts falco-lab checks values files against, from the chart itself.

Reads the ``falcosecurity/falco`` chart (default ``../shared/upstream/charts/falco``): its
``Chart.yaml`` (name, version, dependencies) and the ``values.yaml`` of the chart and of
each sub-chart in ``charts/`` (whose keys sit under the dependency's name or alias), and
writes ``falco_lab/cluster/data/chart_keys.json``:

* ``keys`` - every key path the defaults define (as lists of names, mappings walked);
* ``free`` - the paths of free-form mappings, whose keys are the user's (a mapping whose
  default is empty, e.g. ``nodeSelector: {}``, ``customRules: {}``, and mappings named
  ``annotations``, ``labels``, ``requests`` or ``limits``), plus Helm's ``global``.

Only key names are carried, never the chart's values or templates.

Usage: ``python tools/gen_chart_keys.py [--chart DIR] [--check]``; ``--check`` exits 1 when
the packaged file differs from what the chart gives (the test suite runs the same check).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHART = ROOT.parent / "shared" / "upstream" / "charts" / "falco"
OUT = ROOT / "falco_lab" / "cluster" / "data" / "chart_keys.json"
#: Mappings whose keys are free-form wherever they appear.
FREE_NAMES = frozenset({"annotations", "labels", "requests", "limits"})


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SystemExit(f"{path}: not valid YAML: {exc}") from exc


def _walk(values: Mapping[str, Any], prefix: tuple[str, ...], keys: set, free: set) -> None:
    for name, value in values.items():
        path = (*prefix, str(name))
        keys.add(path)
        if isinstance(value, Mapping):
            if not value or str(name) in FREE_NAMES:
                free.add(path)
            else:
                _walk(value, path, keys, free)


def chart_facts(chart: Path) -> dict[str, Any]:
    """The facts of the chart at ``chart`` (see the module docstring)."""
    meta = _load(chart / "Chart.yaml")
    keys: set[tuple[str, ...]] = set()
    free: set[tuple[str, ...]] = {("global",)}
    keys.add(("global",))
    _walk(_load(chart / "values.yaml") or {}, (), keys, free)
    subcharts = {}
    for dep in meta.get("dependencies") or []:
        prefix = str(dep.get("alias") or dep["name"])
        sub = chart / "charts" / dep["name"]
        if not (sub / "values.yaml").is_file():
            raise SystemExit(f"{sub}: sub-chart {dep['name']} is not unpacked next to the chart")
        subcharts[prefix] = str(_load(sub / "Chart.yaml")["version"])
        free.discard((prefix,))  # its keys are the sub-chart's defaults, not free
        keys.add((prefix,))
        _walk(_load(sub / "values.yaml") or {}, (prefix,), keys, free)
    return {
        "chart": meta["name"],
        "version": str(meta["version"]),
        "app_version": str(meta.get("appVersion", "")),
        "subcharts": dict(sorted(subcharts.items())),
        "keys": [list(k) for k in sorted(keys)],
        "free": [list(k) for k in sorted(free)],
    }


def render(facts: dict[str, Any]) -> str:
    return json.dumps(facts, indent=0, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="the unpacked falco chart")
    parser.add_argument("--check", action="store_true", help="exit 1 when the packaged file is out of date")
    args = parser.parse_args(argv)
    text = render(chart_facts(args.chart))
    if args.check:
        if not OUT.is_file() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date; run python tools/gen_chart_keys.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
