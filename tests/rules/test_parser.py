"""Unit tests of the condition parser and the canonical text form (one behaviour each)."""

from __future__ import annotations

import pytest

from falco_lab.rules.errors import RuleError
from falco_lab.rules.frontend.parser import parse
from falco_lab.rules.frontend.syntax import (
    And,
    BinaryCheck,
    Field,
    Identifier,
    ListValue,
    Not,
    Or,
    Transformer,
    UnaryCheck,
    Val,
    Value,
    collect_fields,
    collect_identifiers,
    to_text,
    walk,
)


def test_and_binds_tighter_than_or() -> None:
    assert to_text(parse("a and b or c")) == "((a and b) or c)"


def test_or_then_and_groups_right() -> None:
    assert to_text(parse("a or b and c")) == "(a or (b and c))"


def test_chains_are_nary() -> None:
    tree = parse("a and b and c")
    assert isinstance(tree, And) and len(tree.children) == 3


def test_brackets_nest_nodes() -> None:
    assert to_text(parse("a and (b and c)")) == "(a and (b and c))"


def test_brackets_around_one_check_leave_no_trace() -> None:
    assert parse("((proc.name = x))") == parse("proc.name = x")


def test_consecutive_nots_cancel() -> None:
    assert parse("not not a") == Identifier("a")


def test_bracketed_nots_nest() -> None:
    assert parse("not (not a)") == Not(Not(Identifier("a")))


def test_not_glued_to_a_name_is_part_of_the_field() -> None:
    tree = parse("notproc.name=cat")
    assert isinstance(tree, BinaryCheck) and tree.left == Field("notproc.name")


def test_binary_check_shape() -> None:
    assert parse("proc.name = bash") == BinaryCheck(Field("proc.name"), "=", Value("bash"))


def test_field_argument_bare_and_quoted() -> None:
    assert parse("proc.aname[2] = x").left == Field("proc.aname", "2")
    assert parse('k8s.pod.label["app"] = x').left == Field("k8s.pod.label", "app")


def test_exists_needs_no_blank() -> None:
    assert parse("(a.b exists)") == UnaryCheck(Field("a.b"))


def test_list_values() -> None:
    assert parse("proc.name in (a, \"b c\", 'd')").right == ListValue(("a", "b c", "d"))


def test_empty_list() -> None:
    assert parse("proc.name in ()").right == ListValue(())


def test_bare_identifier_after_in_is_a_single_value() -> None:
    assert parse("proc.name in shells").right == Value("shells")


def test_transformer_on_the_left() -> None:
    tree = parse("tolower(proc.name) = bash")
    assert tree.left == Transformer("tolower", (Field("proc.name"),))


def test_val_on_the_right() -> None:
    assert parse("proc.name = val(proc.pname)").right == Val(Field("proc.pname"))


def test_modifier_with_list() -> None:
    tree = parse("proc.name startswith anyof (a, b)")
    assert tree.modifier == "anyof" and tree.right == ListValue(("a", "b"))


def test_modifier_word_alone_is_a_value() -> None:
    assert parse("proc.name == oneof or fd.name exists").children[0].right == Value("oneof")


def test_quoted_escapes() -> None:
    assert parse(r'proc.name = "a\"b\tc\\d"').right == Value('a"b\tc\\d')


def test_single_quote_escape_in_double_quotes_is_an_error() -> None:
    with pytest.raises(RuleError, match=r"invalid \\' escape in \"-quoted string"):
        parse(r'proc.name = "a\'b"')


def test_unsupported_escape() -> None:
    with pytest.raises(RuleError, match=r"unsupported string escape sequence: \\q"):
        parse(r'proc.name = "a\qb"')


def test_empty_input_message() -> None:
    with pytest.raises(RuleError) as info:
        parse("")
    assert info.value.message == "filter input string is empty"
    assert info.value.code == "LOAD_ERR_COMPILE_CONDITION"


def test_trailing_token_message() -> None:
    with pytest.raises(RuleError) as info:
        parse("evt.type=execve foo")
    assert info.value.message == "unexpected token after 'execve', expecting 'or', 'and'"


def test_bad_operator_message_lists_operators() -> None:
    with pytest.raises(RuleError) as info:
        parse("proc.name ~ x")
    assert info.value.message.startswith("expected a valid check operator: one of 'exists', '<=', '<'")
    assert "'regex', 'intersects', 'in', 'pmatch'" in info.value.message


def test_missing_bracket_message() -> None:
    with pytest.raises(RuleError, match="expected a '\\)' token"):
        parse("(a.b = 1")


def test_error_position_is_where_parsing_stopped() -> None:
    with pytest.raises(RuleError) as info:
        parse("a.b = 1 and\n  c.d ~ 2")
    position = info.value.position
    assert (position.line, position.column, position.offset) == (2, 7, 18)


def test_carriage_return_counts_as_a_line_break() -> None:
    with pytest.raises(RuleError) as info:
        parse("a.b = 1\r\n)")
    assert info.value.position.line == 3


def test_node_positions() -> None:
    tree = parse("a.b = 1 or\n  c.d exists")
    second = tree.children[1]
    assert (second.pos.line, second.pos.column, second.pos.offset) == (2, 3, 13)


def test_depth_limit() -> None:
    with pytest.raises(RuleError, match="exceeded max depth limit of 20"):
        parse("(" * 10 + "a" + ")" * 10, max_depth=20)


def test_deep_nesting_within_falco_limit_parses() -> None:
    assert parse("(" * 150 + "a.b exists" + ")" * 150) == UnaryCheck(Field("a.b"))


def test_canonical_text_escapes_values() -> None:
    assert to_text(parse("proc.cmdline = 'a \"b\"'")) == 'proc.cmdline = "a \\"b\\""'


def test_canonical_text_keeps_operator_as_written() -> None:
    assert to_text(parse("proc.name==x and proc.name=y")) == "(proc.name == x and proc.name = y)"


def test_canonical_text_of_transformer() -> None:
    assert to_text(parse("toupper( proc.name ) = X")) == "toupper(proc.name) = X"


def test_collect_identifiers_in_order() -> None:
    assert collect_identifiers(parse("b and (a or b) and not c")) == ["b", "a", "c"]


def test_collect_fields_keeps_arguments() -> None:
    assert collect_fields(parse("proc.aname[2] = x or tolower(fd.name) = y")) == ["proc.aname[2]", "fd.name"]


def test_walk_visits_every_node() -> None:
    kinds = [type(n).__name__ for n in walk(parse("a or not b.c exists"))]
    assert kinds == ["Or", "Identifier", "Not", "UnaryCheck", "Field"]


def test_or_node_type() -> None:
    assert isinstance(parse("a or b"), Or)
