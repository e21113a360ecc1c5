"""Fuzzing: no input makes the parser or the compiler raise anything but RuleError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from falco_lab.rules.compiler.compile import compile_condition
from falco_lab.rules.errors import RuleError
from falco_lab.rules.frontend.lists import substitute_lists
from falco_lab.rules.frontend.parser import parse

_PIECES = [
    "proc.name",
    "fd.name",
    "evt.type",
    "fd.num",
    "proc.aname[2]",
    "evt.arg.flags",
    " ",
    "\n",
    "\t",
    "(",
    ")",
    "[",
    "]",
    ",",
    "=",
    "==",
    "!=",
    "<",
    ">=",
    "and",
    "or",
    "not",
    "not(",
    "in",
    "exists",
    "contains",
    "startswith",
    "glob",
    "pmatch",
    "regex",
    "bcontains",
    "'",
    '"',
    "\\",
    "\\x",
    "val(",
    "tolower(",
    "b64(",
    "len(",
    "join(",
    "oneof",
    "anyof",
    "0x1f",
    "-1",
    "1e+5",
    "a",
    "open",
    "\0",
    "\b",
    "é",
]


def _assert_only_rule_errors(text: str) -> None:
    try:
        parse(text)
    except RuleError:
        pass
    try:
        compile_condition(text, lists={"open": ["a b", ""]}, macros={"a": "proc.name = a"})
    except RuleError:
        pass


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_random_text_raises_only_rule_errors(text: str) -> None:
    _assert_only_rule_errors(text)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_token_soup_raises_only_rule_errors(text: str) -> None:
    _assert_only_rule_errors(text)


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=40),
    st.dictionaries(st.sampled_from(["a", "open", "x y"]), st.lists(st.text(max_size=5))),
)
def test_list_substitution_never_fails(text: str, lists: dict) -> None:
    result, used = substitute_lists(text, lists)
    assert isinstance(result, str) and used <= set(lists)


def test_very_deep_nesting_is_a_rule_error() -> None:
    try:
        parse("(" * 5000 + "a" + ")" * 5000)
    except RuleError as exc:
        assert exc.message == "exceeded max depth limit of 1000"
    else:  # pragma: no cover
        raise AssertionError("expected a depth error")


_ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.lists(st.one_of(st.text(max_size=4), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
_CONDITIONS = [
    "proc.name = a or proc.name < 5 or proc.name icontains A or proc.name glob 'a*' or proc.name pmatch (/a)",
    "proc.name regex 'a.*' or proc.name in (a, b) or proc.name endswith x or tolower(proc.name) contains q",
    "fd.num >= 0 or fd.num in (1, 2) or evt.num != 3 or thread.cpu > 1 or fd.sport = http",
    "evt.is_open_read = true or fd.sip = 10.0.0.1 or fd.net in (10.0.0.0/8) or evt.buffer bcontains 41",
    "proc.aname = sshd or proc.aname[2] startswith s or len(proc.name) > 1 or b64(proc.cmdline) exists",
    "proc.name = val(proc.pname) or fd.num < val(proc.pid) or basename(fd.name) = x",
    "evt.rawarg.res < 0 or evt.rawarg.res = abc or concat(proc.name, fd.name) = ab",
]


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            sorted(
                {
                    "proc.name",
                    "proc.pname",
                    "fd.num",
                    "evt.num",
                    "thread.cpu",
                    "fd.sport",
                    "evt.is_open_read",
                    "fd.sip",
                    "fd.net",
                    "evt.buffer",
                    "proc.aname",
                    "proc.aname[2]",
                    "proc.cmdline",
                    "proc.pid",
                    "fd.name",
                    "evt.rawarg.res",
                }
            )
        ),
        _ANY_VALUE,
    )
)
def test_any_event_values_evaluate_without_errors(event: dict) -> None:
    for text in _CONDITIONS:
        condition = compile_condition(text)
        assert condition.matches(event) in (True, False)
        condition.explain(event)
