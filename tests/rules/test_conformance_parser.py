"""Every upstream libs filter-parser case (plus the two variants upstream derives from each accept case)."""

from __future__ import annotations

import pytest

from falco_lab.rules.errors import RuleError
from falco_lab.rules.frontend.parser import parse
from tests.conftest import shared_file
from tests.rules._cases import case_id, load_cases

CASES_FILE = "conformance/libs_filter_parser_cases.yaml"
_CASES = load_cases(CASES_FILE)

#: Cases the parser does not support yet, with the reason. Empty: every case passes.
#: The table is checked: an entry whose case passes makes test_unsupported_table_is_current fail.
EXPECTED_UNSUPPORTED: dict[str, str] = {}


def _variants() -> list[tuple[str, str, str, str | None]]:
    """(id, text, expect, message): each case, and for accept cases the padded and newline variants."""
    out = []
    for i, case in enumerate(_CASES):
        text, expect, message = case["input"], case["expect"], case.get("message")
        out.append((case_id(i, text), text, expect, message))
        if expect == "accept":
            out.append((case_id(i, text) + "|padded", f" {text} ", expect, None))
            out.append((case_id(i, text) + "|newlines", text.replace(" ", "\n"), expect, None))
    return out


_VARIANTS = _variants()


def _outcome(text: str) -> tuple[str, str | None]:
    try:
        parse(text)
    except RuleError as exc:
        return "reject", exc.message
    return "accept", None


def test_case_file_is_present() -> None:
    path = shared_file(CASES_FILE)
    assert len(load_cases(CASES_FILE)) == 522, path


@pytest.mark.parametrize(
    ("text", "expect", "message"), [v[1:] for v in _VARIANTS], ids=[v[0] for v in _VARIANTS]
)
def test_parser_case(request: pytest.FixtureRequest, text: str, expect: str, message: str | None) -> None:
    case = request.node.callspec.id
    if case in EXPECTED_UNSUPPORTED:
        pytest.xfail(EXPECTED_UNSUPPORTED[case])
    outcome, error = _outcome(text)
    assert outcome == expect, f"{expect} expected, got {outcome}: {error}"
    if message is not None:
        assert error == message


def test_unsupported_table_is_current() -> None:
    ids = {v[0]: v for v in _VARIANTS}
    for case, reason in EXPECTED_UNSUPPORTED.items():
        assert case in ids, f"unknown case id in EXPECTED_UNSUPPORTED: {case}"
        _, text, expect, _ = ids[case]
        assert _outcome(text)[0] != expect, f"{case} passes now; remove it from the table ({reason})"


def test_pass_rate_is_total() -> None:
    if not _VARIANTS:
        shared_file(CASES_FILE)
    passed = sum(_outcome(text)[0] == expect for _, text, expect, _ in _VARIANTS)
    assert passed == len(_VARIANTS) - len(EXPECTED_UNSUPPORTED)
