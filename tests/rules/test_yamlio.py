"""YAML read the way Falco reads it: text scalars, positions, yaml-cpp booleans and error texts."""

from __future__ import annotations

import pytest

from falco_lab.rules.errors import RuleError
from falco_lab.rules.loading import yamlio
from falco_lab.rules.loading.yamlio import (
    MappingNode,
    ScalarNode,
    compose_documents,
    decode_bool,
    decode_int,
    get,
    is_null,
    position_of,
)


@pytest.fixture(autouse=True, params=["libyaml", "pure-python"])
def composer(request, monkeypatch):
    """Every test runs with libyaml (used when available) and with the pure-Python fallback."""
    if request.param == "pure-python":
        monkeypatch.setattr(yamlio, "_TextComposer", yamlio._PyTextComposer)
    elif yamlio._TextComposer is yamlio._PyTextComposer:
        pytest.skip("PyYAML has no libyaml here: only the pure-Python composer exists")
    return request.param


def test_both_composers_give_the_same_tree() -> None:
    text = "- rule: a\n  desc: >\n    folded\n    text\n  tags: [x, 'y']\n- list: l\n  items: []\n"

    def shape(node):
        mark = (node.start_mark.line, node.start_mark.column, node.start_mark.index)
        if isinstance(node, ScalarNode):
            return (node.value, bool(node.style), mark)
        if isinstance(node, MappingNode):
            return [(shape(k), shape(v)) for k, v in node.value]
        return [shape(n) for n in node.value]

    fast = [shape(d) for d in compose_documents(text, "f")]
    original = yamlio._TextComposer
    try:
        yamlio._TextComposer = yamlio._PyTextComposer
        slow = [shape(d) for d in compose_documents(text, "f")]
    finally:
        yamlio._TextComposer = original
    assert fast == slow


def _item(text: str) -> MappingNode:
    (doc,) = compose_documents(text, "f.yaml")
    return doc.value[0]


@pytest.mark.parametrize("scalar", ["010", "0x1F", "on", "2001-01-01", "=", "1.0e3", "~x"])
def test_every_scalar_stays_the_text_written(scalar: str) -> None:
    value = get(_item(f"- k: {scalar}\n"), "k")[1]
    assert isinstance(value, ScalarNode) and value.value == scalar


def test_a_plain_scalar_starting_with_bang_is_a_tag() -> None:
    assert get(_item("- desc: != foo\n"), "desc")[1].value == "foo"


def test_positions_are_one_based_with_a_zero_based_offset() -> None:
    item = _item("# c\n- rule: x\n  desc: y\n")
    assert position_of(item, "f.yaml").__str__() == "f.yaml:2:3"
    desc = get(item, "desc")[1]
    assert (position_of(desc, "f.yaml").line, position_of(desc, "f.yaml").column) == (3, 9)
    assert position_of(desc, "f.yaml").offset == 22


def test_duplicate_keys_first_one_wins() -> None:
    assert get(_item("- k: first\n  k: second\n"), "k")[1].value == "first"


@pytest.mark.parametrize(
    ("text", "null"),
    [("", True), ("~", True), ("null", True), ("NULL", True), ("''", False), ("'null'", False), ("x", False)],
)
def test_null_values(text: str, null: bool) -> None:
    assert is_null(get(_item(f"- k: {text}\n"), "k")[1]) is null


def test_several_documents_and_empty_ones() -> None:
    docs = compose_documents("- a: 1\n---\n---\n- b: 2\n", "f")
    assert [is_null(d) for d in docs] == [False, True, False]


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("true", True),
        ("Yes", True),
        ("ON", True),
        ("y", True),
        ("false", False),
        ("NO", False),
        ("Off", False),
        ("n", False),
        ("tRUE", None),
        ("1", None),
        ("", None),
    ],
)
def test_yaml_cpp_booleans(word: str, value) -> None:
    assert decode_bool(word) is value


def test_integers_are_decimal_only() -> None:
    assert decode_int("10000", unsigned=True) == 10000
    assert decode_int("-1") == -1
    assert decode_int("-1", unsigned=True) is None
    assert decode_int("0x10") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- rule: a: b\n", "yaml-cpp: error at line 1, column 10: illegal map value"),
        ("- [a, b\n", "yaml-cpp: error at line 2, column 1: end of sequence flow not found"),
    ],
)
def test_parse_errors_use_yaml_cpp_texts(text: str, message: str) -> None:
    with pytest.raises(RuleError) as info:
        compose_documents(text, "f.yaml")
    assert info.value.code == "LOAD_ERR_YAML_PARSE"
    assert info.value.message == message
    assert info.value.position.name == "f.yaml"
