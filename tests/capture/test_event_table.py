"""The packaged event table is what tools/gen_event_table.py makes from the upstream table."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from falco_lab.capture.table import event_table
from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[2]


def _tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_event_table", ROOT / "tools" / "gen_event_table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_packaged_table_equals_what_the_tool_makes_from_shared() -> None:
    source = json.loads(shared_file("upstream/event_table.json").read_text(encoding="utf-8"))
    packaged = (ROOT / "falco_lab" / "capture" / "data" / "event_table.json").read_text(encoding="utf-8")
    assert _tool().render(source) == packaged


def test_table_is_indexed_by_id_and_keeps_old_versions() -> None:
    table = event_table()
    assert len(table) == 454
    assert (table[3].name, table[3].direction) == ("open", "exit")
    assert [p.name for p in table[3].params][:2] == ["fd", "name"]
    assert any("EF_OLD_VERSION" in info.flags for info in table)
