"""``falco-lab`` command line: one sub-command group per concern.

Each concern package exposes ``register(subparsers)`` in its own ``cli`` module; the
group's handlers receive the parsed ``argparse.Namespace`` and return an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: sub-command name -> module providing ``register(subparsers)``.
COMMANDS: dict[str, str] = {
    "events": "falco_lab.events.cli",
    "archive": "falco_lab.events.archive",
    "rules": "falco_lab.rules.cli",
    "capture": "falco_lab.capture.cli",
    "simulate": "falco_lab.simulate.cli",
    "cluster": "falco_lab.lab.cli",
    "report": "falco_lab.analysis.cli",
    "iocs": "falco_lab.analysis.iocs_cli",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose sub-commands reject unknown arguments themselves.

    argparse hands a sub-command's unrecognised arguments back to the top-level parser, which
    then prints the top-level usage; here the sub-command that was given them prints its own.
    Every sub-command parser is of this class (``add_subparsers`` uses the parent's class).
    """

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and self._subparsers is None:  # a leaf: these are meant for this command
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="falco-lab",
        description="Falco runtime security workshop kit: rules, simulation, cluster and analysis tools.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in dict.fromkeys(COMMANDS.values()):
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
