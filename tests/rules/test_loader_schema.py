"""The schema check Falco records for each rules file (ok/failed) without changing the load."""

from __future__ import annotations

import pytest

from falco_lab.rules import load_rules, load_rules_text
from tests.conftest import shared_file

RULE = "- rule: r\n  desc: d\n  condition: evt.type=open\n  output: o\n  priority: {priority}\n"


def _result(text: str):
    rs = load_rules_text(text, name="s.yaml")
    return rs, rs.result[0]


def test_a_valid_file_is_ok() -> None:
    _, result = _result(RULE.format(priority="INFO"))
    assert (result.schema_validation, result.schema_problems) == ("ok", [])


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("  typo_field: 1\n", "item: key 'typo_field' is not allowed"),
        ('  enabled: "yes"\n', "item: value of 'enabled' has the wrong type"),
        ("  capture_duration: soon\n", "item: value of 'capture_duration' has the wrong type"),
        ("  override:\n    priority: merge\n", "item: value of 'override' has the wrong type"),
    ],
)
def test_schema_failures_are_recorded_with_a_reason(extra: str, reason: str) -> None:
    rs, result = _result(RULE.format(priority="INFO") + extra)
    assert result.schema_validation == "failed"
    assert [(p.line, text) for p, text in result.schema_problems] == [(1, reason)]


def test_lower_case_priority_loads_but_fails_the_schema() -> None:
    rs, result = _result(RULE.format(priority="info"))
    assert rs.ok and rs.rule("r").priority == "Informational"
    assert result.schema_validation == "failed"


def test_a_known_key_of_another_item_kind_passes() -> None:
    _, result = _result("- list: l\n  items: [a]\n  priority: INFO\n")
    assert result.schema_validation == "ok"


def test_unparsable_yaml_has_no_schema_status() -> None:
    _, result = _result("- rule: [\n")
    assert result.schema_validation is None


def test_upstream_stable_ruleset_passes() -> None:
    assert load_rules(shared_file("upstream/falco_rules.yaml")).result[0].schema_validation == "ok"
