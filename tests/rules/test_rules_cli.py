"""`falco-lab rules ...` through falco_lab.cli.main."""

from __future__ import annotations

import json

import pytest

from falco_lab.cli import main

GOOD = """\
- rule: Shell
  desc: a shell ran
  condition: evt.type = execve and proc.name in (bash, sh)
  output: shell %proc.name by %user.name
  priority: WARNING
  tags: [shell]
"""
BAD = """\
- rule: Bad
  desc: d
  condition: evt.type = execve and proc.nme = x
  output: o
  priority: INFO
"""
WARN = GOOD + "- macro: unused\n  condition: evt.type = open\n"


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, text in {"good": GOOD, "bad": BAD, "warn": WARN}.items():
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(text)
    return paths


def test_validate_ok(files, capsys) -> None:
    assert main(["rules", "validate", str(files["good"])]) == 0
    assert capsys.readouterr().out == f"{files['good']}: Ok\n"


def test_validate_invalid_prints_file_line_col_code_message(files, capsys) -> None:
    assert main(["rules", "validate", str(files["good"]), str(files["bad"])]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{files['good']}: Ok",
        f"{files['bad']}: Invalid",
        f"{files['bad']}:3:36: LOAD_ERR_COMPILE_CONDITION filter_check called with nonexistent field proc.nme",
    ]


def test_validate_ok_with_warnings(files, capsys) -> None:
    assert main(["rules", "validate", str(files["warn"])]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{files['warn']}: Ok, with warnings",
        f"{files['warn']}:7:3: LOAD_UNUSED_MACRO Macro not referred to by any other rule/macro",
    ]


def test_validate_json_is_falcos_shape(files, capsys) -> None:
    assert main(["rules", "validate", "--json", str(files["bad"])]) == 1
    document = json.loads(capsys.readouterr().out)
    (result,) = document["falco_load_results"]
    assert set(result) == {"name", "successful", "errors", "warnings"}
    assert result["successful"] is False
    (error,) = result["errors"]
    assert set(error) == {"code", "codedesc", "message", "context"}
    assert error["codedesc"] == "Error compiling condition"
    assert set(error["context"]) == {"locations", "snippet"}
    rule_location = error["context"]["locations"][1]
    assert rule_location == {
        "item_type": "rule",
        "item_name": "Bad",
        "position": {"name": str(files["bad"]), "line": 0, "column": 2, "offset": 2},
    }


def test_list_shows_rules(files, capsys) -> None:
    assert main(["rules", "list", str(files["good"])]) == 0
    out = capsys.readouterr().out
    assert "Shell" in out and "Warning" in out and "1 rules, 0 macros, 0 lists" in out


def test_describe_shows_expanded_condition(files, capsys) -> None:
    assert main(["rules", "describe", "Shell", str(files["good"]), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["condition_compiled"] == "(evt.type = execve and proc.name in (bash, sh))"
    assert info["output_fields"] == ["proc.name", "user.name"]
    assert info["evttypes"] == ["execve"]


def test_describe_unknown_rule_fails(files, capsys) -> None:
    assert main(["rules", "describe", "Nope", str(files["good"])]) == 1
    assert "no rule named 'Nope'" in capsys.readouterr().err


def test_commands_on_invalid_rules_fail_with_the_problems(files, capsys) -> None:
    assert main(["rules", "list", str(files["bad"])]) == 1
    assert "nonexistent field proc.nme" in capsys.readouterr().err


def test_test_prints_falco_json_alerts(files, tmp_path, capsys) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"evt.type": "execve", "proc.name": "bash", "user.name": "root", "evt.time": 1000000000000000000}\n'
        '{"evt.type": "execve", "proc.name": "ls"}\n'
    )
    assert (
        main(["rules", "test", str(files["good"]), "--events", str(events), "--json", "--hostname", "h"]) == 0
    )
    (line,) = capsys.readouterr().out.splitlines()
    alert = json.loads(line)
    assert alert["rule"] == "Shell" and alert["hostname"] == "h"
    assert alert["output"].startswith("01:46:40.000000000: Warning shell bash by root container_id=<NA>")
    assert line.startswith('{"hostname":"h","output":')


def test_test_prints_text_lines_and_reports_bad_lines(files, tmp_path, capsys) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"evt.type": "execve", "proc.name": "sh", "evt.time": 0}\n[1, 2]\n{oops\n')
    assert main(["rules", "test", str(files["good"]), "--events", str(events)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("00:00:00.000000000: Warning shell sh by <NA>")
    assert captured.err.splitlines() == [
        f"{events}:2:1: expected a JSON object (field -> value), got list",
        f"{events}:3:2: invalid JSON: Expecting property name enclosed in double quotes",
    ]


def test_plugins_enable_other_sources(tmp_path, capsys) -> None:
    rules = tmp_path / "audit.yaml"
    rules.write_text(
        "- rule: A\n  desc: d\n  condition: ka.verb = get\n  output: v=%ka.verb\n  priority: INFO\n"
        "  source: k8s_audit\n"
    )
    assert main(["rules", "validate", str(rules)]) == 0
    assert "LOAD_UNKNOWN_SOURCE Unknown source k8s_audit, skipping" in capsys.readouterr().out
    assert (
        main(["rules", "validate", str(rules), "--plugin", "container", "--plugin", "k8saudit=0.18.0"]) == 0
    )
    assert capsys.readouterr().out == f"{rules}: Ok\n"
