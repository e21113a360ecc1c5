"""``falco-lab rules``: validate, list, describe and test rules files; fetch the upstream rulesets.

``validate`` behaves like ``falco -V``: every file is loaded, in order, into one engine; each gets
``FILE: Ok`` (``Ok, with warnings``) or ``FILE: Invalid`` and one ``file:line:col: CODE message`` line
per problem; ``--json`` prints Falco's ``{"falco_load_results": [...]}``.  Exit 0 when every file
loads, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from falco_lab.capture import CaptureError, capture_events, is_capture
from falco_lab.priorities import PRIORITIES, normalize_priority
from falco_lab.rules.fetch import FetchError, UpstreamRulesNotFound, fetch_rules, find_upstream_rules
from falco_lab.rules.loading.loader import load_rules
from falco_lab.rules.output.format import alert_json
from falco_lab.rules.ruleset import RuleSet

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``rules`` command group to the top-level parser."""
    parser = subparsers.add_parser("rules", help="validate, describe and test Falco rules files")
    sub = parser.add_subparsers(dest="rules_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("validate", help="check rules files like `falco -V`")
    p.add_argument("files", nargs="+", metavar="FILE")
    _plugin_option(p)
    p.add_argument("--json", action="store_true", help="print Falco's JSON load results")
    p.set_defaults(handler=_validate)

    p = sub.add_parser("list", help="list the rules of rules files")
    p.add_argument("files", nargs="+", metavar="FILE")
    _plugin_option(p)
    p.set_defaults(handler=_list)

    p = sub.add_parser("describe", help="expanded condition, output fields and event types of a rule")
    p.add_argument("rule", metavar="RULE")
    p.add_argument("files", nargs="+", metavar="FILE")
    _plugin_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_describe)

    p = sub.add_parser("test", help="evaluate rules over syscall-level events (JSON lines) and print alerts")
    p.add_argument("files", nargs="+", metavar="FILE")
    _plugin_option(p)
    p.add_argument(
        "--events", required=True, metavar="EVENTS.jsonl", help="one JSON object (field -> value) per line"
    )
    p.add_argument(
        "--json", action="store_true", help="print Falco's JSON alerts (default: Falco's text lines)"
    )
    p.add_argument("--rule-matching", choices=("all", "first"), default="all")
    p.add_argument("--min-priority", choices=PRIORITIES, type=_priority, default=None)
    p.add_argument("--hostname", default=None)
    p.add_argument("--source", default="syscall", help="event source of the events (default: syscall)")
    p.set_defaults(handler=_test)

    p = sub.add_parser("fetch", help="download the pinned upstream rulesets (stable, incubating, sandbox)")
    p.add_argument("--dir", default=None, help="target directory (default: the falco-lab cache)")
    p.add_argument("--base-url", default=None, help="download from this base URL instead of GitHub")
    p.add_argument("--force", action="store_true", help="download even if a verified copy is present")
    p.set_defaults(handler=_fetch)


def _plugin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugin",
        action="append",
        metavar="NAME[=VERSION]",
        help="a loaded plugin (repeatable; default: container). k8saudit enables source k8s_audit",
    )


def _plugins(args: argparse.Namespace) -> dict[str, str | None] | None:
    if not getattr(args, "plugin", None):
        return None
    out: dict[str, str | None] = {}
    for spec in args.plugin:
        name, _, version = spec.partition("=")
        out[name.strip()] = version.strip() or None
    return out


def _priority(text: str) -> str:
    name = normalize_priority(text)
    if name is None:
        raise argparse.ArgumentTypeError(f"unknown priority {text!r}")
    return name


def _load(args: argparse.Namespace) -> RuleSet:
    return load_rules(*args.files, plugins=_plugins(args))


def _report_failure(ruleset: RuleSet) -> None:
    for result in ruleset.result:
        if not result.successful:
            print(result.summary(), file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    ruleset = _load(args)
    if args.json:
        print(ruleset.result.to_json())
    else:
        for result in ruleset.result:
            status = (
                "Invalid" if not result.successful else ("Ok, with warnings" if result.warnings else "Ok")
            )
            print(f"{result.name}: {status}")
            for line in result.lines():
                print(line)
    for hint in _undefined_macro_hints(ruleset, [Path(f) for f in args.files]):
        print(hint, file=sys.stderr)
    return 0 if ruleset.ok else 1


_UNDEFINED_MACRO = re.compile(r"^Undefined macro '([^']+)' used in filter\.$")
#: At most this many undefined macros get a hint; the rest are counted.
_MAX_HINTS = 5


def _macros_defined_in(path: Path) -> set[str]:
    """Names of the macros a rules file defines (empty when it does not parse as a list)."""
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return set()
    if not isinstance(items, list):
        return set()
    return {str(item["macro"]) for item in items if isinstance(item, dict) and "macro" in item}


def _undefined_macro_hints(ruleset: RuleSet, files: list[Path]) -> list[str]:
    """For each undefined macro: load the file that defines it first (naming it when known).

    Falco loads files in the order given, and a macro must be defined before it is used; the
    usual cause is a file that uses the upstream macros (``spawned_process``, ...) validated
    without ``falco_rules.yaml`` in front of it.  The given files and the upstream rulesets
    found locally are searched for a definition.
    """
    names: list[str] = []
    for result in ruleset.result:
        for issue in result.errors:
            match = _UNDEFINED_MACRO.match(issue.message)
            if match and match.group(1) not in names:
                names.append(match.group(1))
    if not names:
        return []
    try:
        upstream = list(find_upstream_rules().values())
    except UpstreamRulesNotFound:
        upstream = []
    homes: dict[str, Path] = {}
    for candidate in [*files, *upstream]:
        for name in _macros_defined_in(candidate) & set(names):
            homes.setdefault(name, candidate)
    hints = []
    for name in names[:_MAX_HINTS]:
        home = homes.get(name)
        if home is None:
            hints.append(
                f"hint: macro {name!r} is not defined before it is used; Falco loads files in the order "
                "given: put the file that defines it first (the upstream macros are in falco_rules.yaml: "
                "`falco-lab rules fetch`)"
            )
        else:
            order = [str(home), *(str(f) for f in files if f != home)]
            hints.append(
                f"hint: macro {name!r} is defined in {home}; Falco loads files in the order given: "
                f"load that file first: falco-lab rules validate {' '.join(order)}"
            )
    if len(names) > _MAX_HINTS:
        hints.append(f"hint: ... and {len(names) - _MAX_HINTS} more undefined macros")
    return hints


def _list(args: argparse.Namespace) -> int:
    ruleset = _load(args)
    if not ruleset.ok:
        _report_failure(ruleset)
        return 1
    width = max((len(r.name) for r in ruleset.rules), default=4)
    print(f"{'RULE':<{width}}  {'PRIORITY':<13}  {'SOURCE':<9}  {'ENABLED':<7}  TAGS")
    for r in ruleset.rules:
        enabled = "yes" if r.enabled else "no"
        print(f"{r.name:<{width}}  {r.priority:<13}  {r.source:<9}  {enabled:<7}  {','.join(r.tags)}")
    print(f"{len(ruleset.rules)} rules, {len(ruleset.macros)} macros, {len(ruleset.lists)} lists")
    return 0


def _describe(args: argparse.Namespace) -> int:
    ruleset = _load(args)
    if not ruleset.ok:
        _report_failure(ruleset)
        return 1
    if args.rule not in ruleset:
        print(f"error: no rule named {args.rule!r} in {', '.join(args.files)}", file=sys.stderr)
        return 1
    info = ruleset.describe(args.rule)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    evttypes = info["evttypes"]
    print(f"rule:        {info['name']}")
    print(f"priority:    {info['priority']}    source: {info['source']}    enabled: {info['enabled']}")
    print(f"tags:        {', '.join(info['tags'])}")
    print(f"condition:   {info['condition'].strip()}")
    print(f"expanded:    {info['condition_compiled']}")
    print(f"output:      {info['output']}")
    print(f"fields:      {', '.join(info['output_fields'])}")
    print(f"event types: {'(all)' if evttypes is None else ', '.join(evttypes)}")
    return 0


def _read_events(path: Path, problems: list[str]) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{number}:{exc.colno}: invalid JSON: {exc.msg}")
                continue
            if not isinstance(event, dict):
                problems.append(
                    f"{path}:{number}:1: expected a JSON object (field -> value), got {type(event).__name__}"
                )
                continue
            yield event


def _test(args: argparse.Namespace) -> int:
    ruleset = _load(args)
    if not ruleset.ok:
        _report_failure(ruleset)
        return 1
    events_path = Path(args.events)
    if not events_path.is_file():
        print(f"error: events file {events_path} not found", file=sys.stderr)
        return 1
    problems: list[str] = []
    # the format is decided by the content, never the name: a scap capture or JSON lines
    events = capture_events(events_path) if is_capture(events_path) else _read_events(events_path, problems)
    alerts = ruleset.alerts(
        events,
        min_priority=args.min_priority,
        rule_matching=args.rule_matching,
        hostname=args.hostname,
        source=args.source,
    )
    try:
        for alert in alerts:
            print(alert_json(alert) if args.json else alert["output"])
    except CaptureError as exc:  # the alerts of every event before the bad block were printed
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _fetch(args: argparse.Namespace) -> int:
    try:
        paths = fetch_rules(args.dir, base_url=args.base_url, force=args.force)
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for key, path in paths.items():
        print(f"{key}: {path}")
    return 0
