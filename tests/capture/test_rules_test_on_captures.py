"""`falco-lab rules test --events` takes a scap capture, recognised by content, not by name."""

from __future__ import annotations

import json
import shutil

from falco_lab.cli import main
from tests.conftest import shared_file

CAT_RULE = """\
- rule: Cat execs
  desc: cat runs
  condition: evt.type = execve and proc.name = cat
  output: cat ran (pid=%proc.pid cmdline=%proc.cmdline)
  priority: WARNING
"""


def test_a_capture_with_any_name_gives_falcos_json_alerts(tmp_path, capsys) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(CAT_RULE, encoding="utf-8")
    events = tmp_path / "events.bin"
    shutil.copy(shared_file("captures/falco__cat_write.scap"), events)
    assert main(["rules", "test", str(rules), "--events", str(events), "--json"]) == 0
    alerts = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["rule"], a["output_fields"]["proc.cmdline"]) for a in alerts] == [
        ("Cat execs", "cat /dev/null")
    ]


def test_a_truncated_capture_is_an_error_naming_the_file(tmp_path, capsys) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(CAT_RULE, encoding="utf-8")
    events = tmp_path / "events.scap"
    events.write_bytes(shared_file("captures/falco__cat_write.scap").read_bytes()[:300])
    assert main(["rules", "test", str(rules), "--events", str(events)]) == 1
    assert f"error: {events}: byte" in capsys.readouterr().err
