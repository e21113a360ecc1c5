"""Textual list substitution (§5.1) and item quoting (§4.3), one behaviour per test."""

from __future__ import annotations

import pytest

from falco_lab.rules.compiler.compile import compile_condition
from falco_lab.rules.errors import RuleError
from falco_lab.rules.frontend.lists import quote_item, substitute_lists


def test_list_in_brackets_is_replaced() -> None:
    text, used = substitute_lists("proc.name in (shells)", {"shells": ["sh", "bash"]})
    assert text == "proc.name in ( sh, bash )"
    assert used == {"shells"}


def test_quoted_name_is_not_replaced() -> None:
    assert substitute_lists('proc.name = "shells"', {"shells": ["sh"]}) == ('proc.name = "shells"', set())


def test_name_inside_a_longer_word_is_not_replaced() -> None:
    assert substitute_lists("fd.name in (file_my_list)", {"my_list": ["x"]})[1] == set()


def test_one_item_list_works_bare() -> None:
    condition = compile_condition("proc.name=cat_binaries", lists={"cat_binaries": ["cat"]})
    assert condition.matches({"proc.name": "cat"})


def test_two_item_list_bare_is_a_parse_error() -> None:
    with pytest.raises(RuleError, match="unexpected token after"):
        compile_condition("proc.name in cat_binaries", lists={"cat_binaries": ["cat", "dog"]})


def test_list_in_the_middle_of_other_values() -> None:
    text, _ = substitute_lists("proc.name in (ls, cat_binaries, ps)", {"cat_binaries": ["cat"]})
    assert compile_condition(text).text == "proc.name in (ls, cat, ps)"


def test_empty_list_removes_a_comma() -> None:
    text, _ = substitute_lists("proc.name in (a, empty)", {"empty": []})
    assert compile_condition(text).text == "proc.name in (a)"


def test_empty_list_alone_gives_an_empty_list() -> None:
    condition = compile_condition("proc.name in (empty)", lists={"empty": []})
    assert condition.text == "proc.name in ()"
    assert not condition.matches({"proc.name": "x"})


def test_items_with_spaces_are_quoted() -> None:
    condition = compile_condition("proc.cmdline in (cmds)", lists={"cmds": ["sh -c ls", "top"]})
    assert condition.matches({"proc.cmdline": "sh -c ls"})


def test_already_quoted_item_goes_in_as_is() -> None:
    items = ['"sh -c node -e \\"require(\'nan\')\\""']
    condition = compile_condition("proc.cmdline in (cmds)", lists={"cmds": items})
    assert condition.matches({"proc.cmdline": "sh -c node -e \"require('nan')\""})


def test_lists_apply_in_order() -> None:
    text, used = substitute_lists("proc.name in (a)", {"a": ["b"], "b": ["c"]})
    assert compile_condition(text).text == "proc.name in (c)"
    assert used == {"a", "b"}


def test_lists_apply_to_macros_too() -> None:
    condition = compile_condition("m", lists={"l": ["sh"]}, macros={"m": "proc.name in (l)"})
    assert condition.text == "proc.name in (sh)"


def test_quote_item_leaves_plain_items() -> None:
    assert quote_item("bash") == "bash"


def test_quote_item_wraps_items_with_spaces() -> None:
    assert quote_item("curl 127.0.0.1") == '"curl 127.0.0.1"'


def test_quote_item_does_not_escape() -> None:
    assert quote_item("'a b'") == "'a b'"
