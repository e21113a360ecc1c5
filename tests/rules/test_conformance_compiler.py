"""Every upstream libs filter-compiler case: compile outcomes, warning counts, and evaluation results.

The ``c.*`` mock fields of the upstream test are declared as extra fields: ``c.true``, ``c.false``,
``c.singlequote`` and ``c.doublequote`` are strings, ``c.buffer`` a byte buffer. Upstream's
``c.true`` "always matches" and ``c.false`` "never matches"; every ``run`` case compares them with
``=1`` only, so the event ``{"c.true": "1", "c.false": "0", ...}`` reproduces that exactly.
Each ``run`` case is checked both per event and through the vectorised ``mask``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from falco_lab.rules.compiler.compile import compile_condition
from falco_lab.rules.errors import RuleError
from falco_lab.rules.fields import FieldInfo
from tests.conftest import shared_file
from tests.rules._cases import case_id, load_cases

CASES_FILE = "conformance/libs_filter_compiler_cases.yaml"
_CASES = load_cases(CASES_FILE)
_IDS = [case_id(i, f"{c['test']}:{c['expr']}", 70) for i, c in enumerate(_CASES)]

MOCK_FIELDS = {
    name: FieldInfo(name, ltype, kind, False, "none", frozenset(), "any")
    for name, ltype, kind in [
        ("c.true", "CHARBUF", "string"),
        ("c.false", "CHARBUF", "string"),
        ("c.buffer", "BYTEBUF", "bytes"),
        ("c.singlequote", "CHARBUF", "string"),
        ("c.doublequote", "CHARBUF", "string"),
    ]
}
MOCK_EVENT = {
    "c.true": "1",
    "c.false": "0",
    "c.singlequote": "hello 'quoted'",
    "c.doublequote": 'hello "quoted"',
}

#: Cases not supported yet, with the reason. Empty: every case passes (checked below).
EXPECTED_UNSUPPORTED: dict[str, str] = {}


def _failure(case: dict) -> str | None:
    """None if the case behaves as upstream says, else what differs."""
    try:
        condition = compile_condition(case["expr"], extra_fields=MOCK_FIELDS)
    except RuleError as exc:
        if case["kind"] == "compile" and case.get("expect_fail"):
            expected = case.get("message")
            # upstream prints libs messages with the compiler's "filter error: " prefix; the Falco
            # loader (and we) report the bare message
            if expected is not None and exc.message != expected.removeprefix("filter error: "):
                return f"message {exc.message!r} != {expected!r}"
            return None
        return f"unexpected error: {exc}"
    if case["kind"] == "compile":
        if case.get("expect_fail"):
            return "compiled, but upstream rejects it"
        expected_warnings = case.get("expected_warnings")
        if expected_warnings is not None:
            got = [m for code, m in condition.warnings if code == "LOAD_COMPILE_CONDITION"]
            if len(got) != expected_warnings:
                return f"{len(got)} warnings {got}, expected {expected_warnings}"
        return None
    per_event = condition.matches(MOCK_EVENT)
    vectorised = bool(condition.mask(pd.DataFrame([MOCK_EVENT])).iloc[0])
    if per_event != case["result"] or vectorised != case["result"]:
        return f"matches={per_event} mask={vectorised}, expected {case['result']}"
    return None


def test_case_file_is_present() -> None:
    path = shared_file(CASES_FILE)
    assert len(load_cases(CASES_FILE)) == 366, path


@pytest.mark.parametrize("case", _CASES, ids=_IDS)
def test_compiler_case(request: pytest.FixtureRequest, case: dict) -> None:
    case_name = request.node.callspec.id
    if case_name in EXPECTED_UNSUPPORTED:
        pytest.xfail(EXPECTED_UNSUPPORTED[case_name])
    assert _failure(case) is None, _failure(case)


def test_unsupported_table_is_current() -> None:
    by_id = dict(zip(_IDS, _CASES, strict=True))
    for name, reason in EXPECTED_UNSUPPORTED.items():
        assert name in by_id, f"unknown case id {name}"
        assert _failure(by_id[name]) is not None, f"{name} passes now; remove it from the table ({reason})"


def test_pass_rate_meets_target() -> None:
    if not _CASES:
        shared_file(CASES_FILE)
    passed = sum(_failure(case) is None for case in _CASES)
    assert passed == len(_CASES) - len(EXPECTED_UNSUPPORTED)
    assert passed / len(_CASES) >= 0.95
