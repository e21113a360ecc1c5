"""libsinsp's own filter engine as a reference: Debian's ``sysdig`` (0.29.3, libs of March 2022).

``sysdig -r CAPTURE -p %evt.num FILTER`` prints the number of every event of the capture that
satisfies ``FILTER``, evaluated by libsinsp's filter compiler after its state engine parsed the
event (as Falco evaluates rules).  :func:`matching_events` runs many filters on one capture with
few sysdig runs: it evaluates the disjunction of a group of filters and splits a group only when
the disjunction matches something (most rules match nothing), so every rule's set is still what
libsinsp's filter engine returns for that rule's own filter.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.conftest import required_tool

#: The version the expectations of the tests were made with (``sysdig --version``).
SYSDIG_VERSION = "sysdig version 0.29.3"
#: Longest filter handed to one sysdig run (Linux limits one argument to 128 KiB).
MAX_FILTER_CHARS = 60_000


class SysdigError(Exception):
    """sysdig rejected a filter (the message is sysdig's)."""


def sysdig() -> str:
    """Path of ``sysdig``; fails on CI (``CI=true``) and skips elsewhere when it is not installed."""
    return required_tool(
        ("sysdig",),
        "sysdig is not installed (apt-get install sysdig): libsinsp is the reference of this test",
    )


def version(binary: str) -> str:
    """What ``sysdig --version`` prints (stripped)."""
    return subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def run_filter(binary: str, capture: Path, text: str) -> frozenset[int]:
    """Numbers (``evt.num``) of the events of ``capture`` that satisfy the filter ``text``.

    Raises
    ------
    SysdigError
        When sysdig cannot compile the filter (unknown field or operator, syntax it predates).
    """
    result = subprocess.run(
        [binary, "-r", str(capture), "-p", "%evt.num", text], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SysdigError((result.stderr or result.stdout).strip().splitlines()[0])
    return frozenset(int(token) for token in result.stdout.split())


def compile_errors(binary: str, capture: Path, filters: Mapping[str, str]) -> dict[str, str]:
    """name → sysdig's message, for each filter sysdig cannot compile (one run per filter)."""
    errors: dict[str, str] = {}
    for name, text in filters.items():
        try:
            run_filter(binary, capture, text)
        except SysdigError as exc:
            errors[name] = str(exc)
    return errors


def _batches(names: Sequence[str], filters: Mapping[str, str]) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for name in names:
        length = len(filters[name]) + 6
        if batches[-1] and size + length > MAX_FILTER_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(name)
        size += length
    return [batch for batch in batches if batch]


def matching_events(binary: str, capture: Path, filters: Mapping[str, str]) -> dict[str, frozenset[int]]:
    """name → numbers of the events of ``capture`` each filter matches (filters must compile).

    A group's disjunction ``(f1) or (f2) ...`` matches exactly the union of its members' events, so
    a group whose disjunction matches nothing gives every member the empty set; otherwise the group
    is halved until single filters remain, each run on its own.
    """

    def solve(names: list[str]) -> dict[str, frozenset[int]]:
        text = filters[names[0]] if len(names) == 1 else " or ".join(f"({filters[n]})" for n in names)
        hits = run_filter(binary, capture, text)
        if not hits or len(names) == 1:
            return dict.fromkeys(names, hits)
        half = len(names) // 2
        return solve(names[:half]) | solve(names[half:])

    out: dict[str, frozenset[int]] = {}
    for batch in _batches(list(filters), filters):
        out.update(solve(batch))
    return out
