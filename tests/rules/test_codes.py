"""One Code enum for Falco's LOAD_* codes."""

from __future__ import annotations

import json

import pytest

from falco_lab.rules import Code, Issue, RuleError, load_rules_text


def test_a_code_prints_and_serialises_as_falcos_text() -> None:
    assert f"{Code.ERR_VALIDATE}" == "LOAD_ERR_VALIDATE"
    assert json.dumps({"code": Code.UNUSED_MACRO}) == '{"code": "LOAD_UNUSED_MACRO"}'


def test_every_code_has_falcos_description_and_family() -> None:
    assert Code.ERR_YAML_PARSE.description == "YAML parse error"
    assert Code.UNKNOWN_KEY.description == "Unknown key in item definition"
    assert [c.value for c in Code if c.is_error] == [c.value for c in Code if c.value.startswith("LOAD_ERR_")]
    assert all(c.description for c in Code)


def test_rule_error_takes_a_code_or_its_text_and_rejects_anything_else() -> None:
    assert RuleError("LOAD_ERR_VALIDATE", "m").code is Code.ERR_VALIDATE
    assert Issue("LOAD_NO_EVTTYPE", "m").code is Code.NO_EVTTYPE  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="LOAD_ERR_TYPO"):
        RuleError("LOAD_ERR_TYPO", "m")


def test_load_results_carry_codes_whose_text_is_falcos() -> None:
    ruleset = load_rules_text("- macro: unused\n  condition: evt.type = open\n", name="t.yaml")
    (warning,) = ruleset.warnings
    assert warning.code is Code.UNUSED_MACRO
    assert str(warning).endswith("LOAD_UNUSED_MACRO Macro not referred to by any other rule/macro")
    assert warning.codedesc == "Unused macro"
