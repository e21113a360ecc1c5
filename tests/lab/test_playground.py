"""The rule playground's logic, without a browser (falco_lab.lab.playground)."""

from __future__ import annotations

import pandas as pd
import pytest

from falco_lab.lab.playground import PlaygroundResult, playground, run
from falco_lab.rules import RulesFile

BASE = RulesFile(
    "base.yaml",
    """\
- macro: spawned
  condition: evt.type in (execve, execveat)
- list: shells
  items: [bash, sh]
- rule: Shell
  desc: a shell
  condition: spawned and proc.name in (shells)
  output: shell %proc.cmdline
  priority: WARNING
""",
)

RULE = """\
- rule: Curl
  desc: curl runs
  condition: spawned and proc.name = curl
  output: curl ran %proc.cmdline
  priority: NOTICE
"""


def _events(*names: str, cmdline: str = "x") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "evt.type": ["execve"] * len(names),
            "proc.name": list(names),
            "proc.cmdline": [f"{n} {cmdline}" for n in names],
            "evt.time": pd.array([10**18 + i for i in range(len(names))], dtype="Int64"),
        }
    )


def test_an_error_is_shown_at_its_line_and_column_with_a_caret() -> None:
    result = run(RULE.replace("proc.name = curl", "proc.nme = curl"), [BASE], _events("curl"))
    assert not result.ok
    assert result.issue_lines()[0].startswith("my_rules.yaml:3:")
    assert "LOAD_ERR_COMPILE_CONDITION" in result.issue_lines()[0]
    assert result.issue_lines()[1].strip() == "condition: spawned and proc.nme = curl"
    assert result.issue_lines()[2].index("^") == result.issue_lines()[1].index("proc.nme")


def test_a_text_with_errors_shows_no_alerts_and_no_what_if() -> None:
    result = run("- rule: [", [BASE], _events("curl"))
    assert (result.ok, result.alerts_total, result.effect) == (False, 0, None)


def test_the_edited_rules_alerts_on_the_recorded_events() -> None:
    result = run(RULE, [BASE], _events("bash", "curl", "curl"))
    assert result.rules == ["Curl"]
    assert result.alerts["rule"].tolist() == ["Curl", "Curl"]
    assert result.alerts["output"].str.contains("curl ran curl x").all()


def test_the_alerts_table_is_capped_and_says_how_many_more() -> None:
    result = run(RULE, [BASE], _events(*["curl"] * 5), max_alerts=2)
    assert (len(result.alerts), result.alerts_total) == (2, 5)
    assert "3 more alert(s) not shown" in result.to_html()


def test_the_explain_view_defaults_to_the_first_event_the_rule_fires_on() -> None:
    result = run(RULE, [BASE], _events("bash", "curl"))
    assert result.explain_event is not None
    assert (result.explain_event.row, result.explain_event.fires) == (1, True)
    assert result.explanation


def test_the_explain_view_shows_why_a_rule_does_not_fire_when_it_never_does() -> None:
    result = run(RULE, [BASE], _events("bash", "ls"))
    assert result.explain_event is not None
    assert result.explain_event.fires is False
    assert not result.explanation
    assert any("proc.name = curl" in line for line in result.explanation.lines())


def test_a_chosen_event_is_explained() -> None:
    result = run(RULE, [BASE], _events("curl", "ls"), explain_row=1)
    assert result.explain_event is not None
    assert (result.explain_event.row, result.explain_event.fires) == (1, False)


def test_the_what_if_lists_only_rules_whose_alerts_change() -> None:
    disable_shell = RULE + "- rule: Shell\n  enabled: false\n  override:\n    enabled: replace\n"
    result = run(disable_shell, [BASE], _events("bash", "curl"))
    assert result.effect is not None
    assert sorted(result.effect["rule"]) == ["Curl", "Shell"]
    assert result.effect.set_index("rule").loc["Shell", "removed"] == 1


def test_warnings_of_the_edited_file_are_shown_without_blocking() -> None:
    result = run(RULE + "- macro: unused_one\n  condition: proc.name = x\n", [BASE], _events("curl"))
    assert result.ok
    assert [w.code for w in result.warnings] == ["LOAD_UNUSED_MACRO"]


def test_the_static_render_escapes_event_values() -> None:
    result = run(RULE, [BASE], _events("curl", cmdline="<script>alert(1)</script>"))
    html = result.to_html()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_output_bundle_carries_the_static_render_for_front_ends_without_widgets() -> None:
    bundle = playground(RULE, [BASE], _events("curl"))._repr_mimebundle_()
    assert "Alerts on the recorded events: 1" in bundle["text/html"]


def test_editing_the_text_area_updates_the_view() -> None:
    pytest.importorskip("ipywidgets", reason="ipywidgets is a dependency; this checks the live widget")
    pg = playground(RULE, [BASE], _events("curl", "wget"))
    box = pg.widget()
    area, view = box.children[0], box.children[2]
    area.value = RULE.replace("proc.name = curl", "proc.name = wget")
    assert isinstance(pg.result, PlaygroundResult)
    assert "wget x" in view.value
    area.value = RULE.replace("proc.name", "proc.nme")
    assert "LOAD_ERR_COMPILE_CONDITION" in view.value
