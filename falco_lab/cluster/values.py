"""``values.yaml``: load it, check its keys, and generate its ``customRules`` block.

The project's rules files (:data:`chart.CUSTOM_RULES_PATHS`: its own rules, then the tuning of
upstream items) are the single source of truth; ``values.yaml`` carries a copy of each under
``customRules`` so that Helm can ship them to Falco's ``rules.d``.  Regenerate the copies with::

    python -m falco_lab.cluster.values --write

``--check`` (and the test suite) fails when they have drifted apart.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from falco_lab.cluster.chart_keys import ValuesProblem, check_values
from falco_lab.workshop import chart
from falco_lab.workshop.interface import ClusterError

_TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def load_values(path: Path | str = chart.VALUES_FILE) -> dict:
    """Parse a values file; errors name the file and line."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ClusterError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise ClusterError(f"{path}:1:1: a values file must be a mapping")
    return data


def read_custom_rules(paths: Sequence[Path | str] = chart.CUSTOM_RULES_PATHS) -> dict[str, str]:
    """``customRules`` as the files give it: file name -> text, in the order given."""
    files: dict[str, str] = {}
    for path in map(Path, paths):
        if path.name in files:
            raise ClusterError(f"{path}: two customRules files named {path.name!r}")
        files[path.name] = path.read_text(encoding="utf-8")
    return files


def custom_rules_block(files: Mapping[str, str]) -> str:
    """The ``customRules:`` block that embeds each file (name -> text) verbatim as a literal scalar."""
    lines = ["customRules:"]
    for file_name, rules_text in files.items():
        if "\t" in rules_text:
            raise ClusterError(f"{file_name}: tabs cannot be embedded in a YAML block scalar")
        body = rules_text if rules_text.endswith("\n") else rules_text + "\n"
        lines.append(f"  {file_name}: |")
        lines += [f"    {line}" if line.strip() else "" for line in body.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def render_values(values_text: str, files: Mapping[str, str]) -> str:
    """``values_text`` with its top-level ``customRules`` block replaced (or appended) by ``files``."""
    lines = values_text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("customRules:")), None)
    block = custom_rules_block(files)
    if start is None:
        sep = "" if values_text.endswith("\n") or not values_text else "\n"
        return values_text + sep + "\n" + block
    end = start + 1
    while end < len(lines) and not _TOP_LEVEL_KEY.match(lines[end]):
        end += 1
    # keep comment/blank lines that belong to the next top-level key
    while end > start + 1 and lines[end - 1].startswith("#"):
        end -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def drift(values: dict, files: Mapping[str, str]) -> list[str]:
    """Differences between ``values['customRules']`` and the rules files (empty when in sync).

    ``files`` maps each customRules file name to the text it must carry, in the order
    Falco must load them; as Falco reads ``rules.d`` in file-name order, names that do
    not sort in that order are a problem too.
    """
    rules = values.get("customRules")
    if not isinstance(rules, dict):
        return ["values has no customRules mapping"]
    problems = []
    if set(rules) != set(files):
        problems.append(f"customRules keys {sorted(rules)} != {sorted(files)}")
    if list(files) != sorted(files):
        problems.append(
            f"customRules files {list(files)} would not load in that order: Falco reads rules.d in name order"
        )
    for name, text in files.items():
        if name in rules and rules[name] != text:
            problems.append(
                f"customRules[{name!r}] differs from {name}: run `python -m falco_lab.cluster.values --write`"
            )
    return problems


def check_project_values(
    values_path: Path | str = chart.VALUES_FILE,
    rules_paths: Sequence[Path | str] = chart.CUSTOM_RULES_PATHS,
) -> list[str]:
    """Every problem of the project's values file: unknown keys and customRules drift."""
    values = load_values(values_path)
    problems: list[str] = [f"{values_path}: {p}" for p in check_values(values)]
    problems += [f"{values_path}: {p}" for p in drift(values, read_custom_rules(rules_paths))]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m falco_lab.cluster.values",
        description="Generate or check values.yaml's customRules from the project's rules files.",
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="rewrite the customRules block in place")
    group.add_argument("--check", action="store_true", help="exit 1 on unknown keys or drift")
    parser.add_argument("--values", type=Path, default=chart.VALUES_FILE)
    parser.add_argument(
        "--rules",
        type=Path,
        action="append",
        metavar="FILE",
        help="a customRules file (repeatable, in load order; default: the project's rules files)",
    )
    args = parser.parse_args(argv)
    rules_paths = args.rules or list(chart.CUSTOM_RULES_PATHS)
    if args.write:
        text = render_values(args.values.read_text(encoding="utf-8"), read_custom_rules(rules_paths))
        args.values.write_text(text, encoding="utf-8")
        print(f"wrote customRules of {args.values} from " + ", ".join(map(str, rules_paths)))
        return 0
    problems = check_project_values(args.values, rules_paths)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


__all__ = [
    "ValuesProblem",
    "check_project_values",
    "check_values",
    "custom_rules_block",
    "drift",
    "load_values",
    "read_custom_rules",
    "render_values",
]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
