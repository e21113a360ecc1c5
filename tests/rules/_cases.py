"""Loading of the shared conformance case files (shared by the conformance test modules)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import SHARED


def load_cases(relative: str) -> list[dict]:
    """The cases of ``../shared/<relative>``, or [] when the file is absent.

    Each conformance module also has a test that calls ``shared_file`` for the same file, so an absent
    file is reported (skipped with its path, or failed on CI) instead of silently giving no tests.
    """
    path = Path(SHARED) / relative
    if not path.exists():
        return []
    return yaml.safe_load(path.read_text(encoding="utf-8")) or []


def case_id(index: int, text: str, width: int = 60) -> str:
    shown = text.encode("unicode_escape").decode("ascii")
    if len(shown) > width:
        shown = shown[: width - 3] + "..."
    return f"{index:03d}:{shown}"
