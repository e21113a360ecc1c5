"""Every upstream rule-loader case (shared/conformance/falco_rule_loader_cases.yaml), reported by name.

Each case loads its ``rules_yaml`` and checks every fact it gives (see
``tests/rules/_loader_facts.py``: every fact is checked, including ``schema_validation``;
``UNCHECKED_FACTS`` there lists the keys that are not facts about the engine).
Cases the engine does not support are listed in ``EXPECTED_UNSUPPORTED`` with the reason; that table
is itself checked (an entry whose case passes, or an unknown name, fails the suite).
"""

from __future__ import annotations

import pytest

from tests.conftest import shared_file
from tests.rules._cases import load_cases
from tests.rules._loader_facts import UNCHECKED_FACTS, case_failures

CASES_FILE = "conformance/falco_rule_loader_cases.yaml"
_CASES = {case["name"]: case for case in load_cases(CASES_FILE)}

#: Cases not supported, with the reason. The test of such a case must fail (strict xfail).
EXPECTED_UNSUPPORTED: dict[str, str] = {}

#: Every fact key a case may carry: the ones checked by case_failures plus UNCHECKED_FACTS.
CHECKED_FACTS = {
    "load_ok",
    "compiled_condition",
    "errors_contain",
    "warnings_contain",
    "warnings_do_not_contain",
    "has_warnings",
    "enabled_rule_count",
    "rule_info",
    "schema_validation",
}


def test_case_file_is_present() -> None:
    path = shared_file(CASES_FILE)
    assert len(load_cases(CASES_FILE)) == 108, path


def test_every_fact_key_is_known() -> None:
    shared_file(CASES_FILE)
    keys = {key for case in _CASES.values() for key in case}
    assert keys <= CHECKED_FACTS | set(UNCHECKED_FACTS), keys - CHECKED_FACTS - set(UNCHECKED_FACTS)


@pytest.mark.parametrize("name", list(_CASES))
def test_loader_case(name: str) -> None:
    if name in EXPECTED_UNSUPPORTED:
        pytest.xfail(EXPECTED_UNSUPPORTED[name])
    failures = case_failures(_CASES[name])
    assert not failures, "\n".join(failures)


def test_unsupported_table_is_current() -> None:
    for name, reason in EXPECTED_UNSUPPORTED.items():
        assert name in _CASES, f"unknown case in EXPECTED_UNSUPPORTED: {name}"
        assert case_failures(_CASES[name]), f"{name} passes now; remove it from the table ({reason})"


def test_pass_rate_meets_target() -> None:
    if not _CASES:
        shared_file(CASES_FILE)
    passed = sum(not case_failures(case) for case in _CASES.values())
    assert passed == len(_CASES) - len(EXPECTED_UNSUPPORTED)
    assert passed / len(_CASES) >= 0.95
