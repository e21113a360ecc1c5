"""Checks the facts of one rule-loader conformance case (shared/conformance/falco_rule_loader_cases.yaml).

Kept apart from the test module so that the same checks can report a pass rate.
"""

from __future__ import annotations

from typing import Any

from falco_lab.rules import RuleSet, load_rules_text

#: Keys of a case that are not facts about the engine (not checked), and why.
UNCHECKED_FACTS = {
    "untranslated_assertions": "a count of upstream assertions that could not be expressed as data",
    "source": "provenance of the case",
    "name": "case name",
    "rules_yaml": "the input itself",
}

_RULE_INFO_KEYS = {
    "condition": "condition",
    "output": "output",
    "description": "desc",
    "priority": "priority",
    "capture": "capture",
}


def load_case(case: dict[str, Any]) -> RuleSet:
    return load_rules_text(case["rules_yaml"], name=f"{case['name']}.yaml")


def case_failures(case: dict[str, Any], ruleset: RuleSet | None = None) -> list[str]:
    """Every fact of ``case`` that the engine gets wrong (empty list: the case passes)."""
    rs = ruleset if ruleset is not None else load_case(case)
    errors = [e.message for e in rs.result.errors]
    warnings = [w.message for w in rs.result.warnings]
    failures: list[str] = []
    if rs.ok != case["load_ok"]:
        failures.append(f"load_ok: expected {case['load_ok']}, got {rs.ok} (errors: {errors})")
    for name, expected in (case.get("compiled_condition") or {}).items():
        if name not in rs:
            failures.append(f"compiled_condition: rule {name!r} not compiled")
        elif rs.rule(name).expanded_condition != expected:
            failures.append(
                f"compiled_condition[{name}]: expected {expected!r}, got {rs.rule(name).expanded_condition!r}"
            )
    for text in case.get("errors_contain") or ():
        if not any(text in e for e in errors):
            failures.append(f"errors_contain: {text!r} not in {errors}")
    for text in case.get("warnings_contain") or ():
        if not any(text in w for w in warnings):
            failures.append(f"warnings_contain: {text!r} not in {warnings}")
    for text in case.get("warnings_do_not_contain") or ():
        if any(text in w for w in warnings):
            failures.append(f"warnings_do_not_contain: {text!r} found in {warnings}")
    if "has_warnings" in case and bool(warnings) != case["has_warnings"]:
        failures.append(f"has_warnings: expected {case['has_warnings']}, got {warnings}")
    if "enabled_rule_count" in case:
        count = len(rs.enabled_rules)
        if count != case["enabled_rule_count"]:
            failures.append(f"enabled_rule_count: expected {case['enabled_rule_count']}, got {count}")
    if "schema_validation" in case:
        status = rs.result[0].schema_validation
        if status != case["schema_validation"]:
            failures.append(
                f"schema_validation: expected {case['schema_validation']}, got {status} ({rs.result[0].schema_problems})"
            )
    info = case.get("rule_info")
    if info:
        if len(rs.rules) != 1:
            failures.append(f"rule_info: expected one loaded rule, got {rs.names}")
        else:
            rule = rs.rules[0]
            for key, expected in info.items():
                actual = getattr(rule, _RULE_INFO_KEYS[key])
                if actual != expected:
                    failures.append(f"rule_info[{key}]: expected {expected!r}, got {actual!r}")
    return failures
