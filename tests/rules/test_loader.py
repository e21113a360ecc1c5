"""Loading like Falco: several files, define/redefine/append/override, visibility, exceptions, priorities."""

from __future__ import annotations

import io
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from falco_lab.rules import load_rules, load_rules_text
from falco_lab.rules.loading.model import RulesFile


def _load(text: str, **kwargs):
    return load_rules_text(textwrap.dedent(text), name="t.yaml", **kwargs)


def _rule(name: str, condition: str, *, output: str = "o", priority: str = "INFO", extra: str = "") -> str:
    return f"- rule: {name}\n  desc: d\n  condition: {condition}\n  output: {output}\n  priority: {priority}\n{extra}"


def _errors(rs) -> list[str]:
    return [e.message for e in rs.result.errors]


def _compiled(rs, name: str = "r") -> str:
    return rs.rule(name).expanded_condition


# ---------------------------------------------------------------------------------- inputs


def test_several_files_make_one_collection(tmp_path) -> None:
    first = tmp_path / "a.yaml"
    first.write_text(
        "- list: shells\n  items: [bash]\n" + _rule("r", "evt.type=execve and proc.name in (shells)")
    )
    second = tmp_path / "b.yaml"
    second.write_text("- list: shells\n  items: [zsh]\n  override:\n    items: append\n")
    rs = load_rules(first, second)
    assert rs.ok
    assert [r.name for r in rs.result] == [str(first), str(second)]
    assert _compiled(rs) == "(evt.type = execve and proc.name in (bash, zsh))"


def test_a_later_file_redefinition_wins() -> None:
    rs = load_rules(
        RulesFile("one.yaml", _rule("r", "evt.type=open and proc.name=cat")),
        RulesFile("two.yaml", _rule("r", "evt.type=open and proc.name=dog")),
    )
    assert rs.matches({"evt.type": "open", "proc.name": "cat"}) == []
    assert rs.matches({"evt.type": "open", "proc.name": "dog"}) == ["r"]


def test_text_streams_are_accepted_and_named() -> None:
    stream = io.StringIO(_rule("r", "evt.type=open"))
    stream.name = "notebook-cell.yaml"
    rs = load_rules(stream)
    assert rs.ok and rs.result[0].name == "notebook-cell.yaml"


def test_a_failing_file_does_not_stop_the_next_one() -> None:
    rs = load_rules(
        RulesFile("bad.yaml", "- rule: x\n  desc: d\n"), RulesFile("good.yaml", _rule("r", "evt.type=open"))
    )
    assert [r.successful for r in rs.result] == [False, True]
    assert not rs.ok


def test_the_first_error_stops_the_file_but_earlier_warnings_stay() -> None:
    rs = _load("- nonsense: 1\n- rule: x\n  desc: d\n- rule: y\n  desc: d\n")
    assert _errors(rs) == ["Item has no mapping for key 'condition'"]
    assert [w.code for w in rs.result.warnings] == ["LOAD_UNKNOWN_ITEM"]


def test_load_never_raises_on_broken_yaml() -> None:
    rs = _load("- rule: [unclosed\n")
    assert rs.result.errors[0].code == "LOAD_ERR_YAML_PARSE"


# ------------------------------------------------------------------------- YAML quirks (§1.2)


def test_scalars_stay_text() -> None:
    rs = _load(
        "- list: l\n  items: [010, on, 2001-01-01]\n" + _rule("r", "evt.type=open and proc.name in (l)")
    )
    assert _compiled(rs) == "(evt.type = open and proc.name in (010, on, 2001-01-01))"


def test_operator_scalars_in_comps_and_tag_like_desc() -> None:
    text = _rule(
        "r",
        "evt.type=open",
        extra="  exceptions:\n    - name: e\n      fields: [proc.name, fd.name]\n"
        "      comps: [=, in]\n      values: [[cat, [/a, /b]]]\n",
    ).replace("desc: d", "desc: != foo")
    rs = _load(text)
    assert rs.ok, _errors(rs)
    assert rs.rule("r").desc == "foo"
    assert _compiled(rs) == "(evt.type = open and not (proc.name = cat and fd.name in (/a, /b)))"


@pytest.mark.parametrize("word", ["yes", "No", "ON", "off", "y", "TRUE", "False"])
def test_booleans_accept_yaml_cpp_words(word: str) -> None:
    rs = _load(_rule("r", "evt.type=open", extra=f"  enabled: {word}\n"))
    assert rs.ok
    assert rs.rule("r").enabled is (word.lower() in {"yes", "on", "y", "true"})


# --------------------------------------------------------------------- priorities, tags, output


@pytest.mark.parametrize(
    ("written", "loaded"),
    [
        ("info", "Informational"),
        ("INFORMATIONAL", "Informational"),
        ("error", "Error"),
        ("Emergency", "Emergency"),
        ("DEBUG", "Debug"),
    ],
)
def test_priorities_any_case_with_info_alias(written: str, loaded: str) -> None:
    assert _load(_rule("r", "evt.type=open", priority=written)).rule("r").priority == loaded


def test_tags_are_a_sorted_set_and_output_is_trimmed() -> None:
    rs = _load(_rule("r", "evt.type=open", output="'  spaced %proc.name  '", extra="  tags: [b, a, b]\n"))
    assert rs.rule("r").tags == ("a", "b")
    assert rs.rule("r").output == "spaced %proc.name"


def test_required_engine_version_integer_means_minor() -> None:
    rs = _load("- required_engine_version: 26\n")
    assert rs.ok and rs.required_engine_version == (0, 26, 0)


def test_engine_version_is_configurable() -> None:
    rs = _load("- required_engine_version: 0.63.0\n", engine_version="0.62.0")
    assert _errors(rs) == ["Rules require engine version 0.63.0, but engine version is 0.62.0"]
    assert _load("- required_engine_version: 0.63.0\n", engine_version="0.63.0").ok


# ------------------------------------------------------------------ lists and macros (§3.4, §5.1)


def test_list_inside_list_only_when_defined_before() -> None:
    rs = _load(
        "- list: a\n  items: [open]\n- list: b\n  items: [a]\n- list: a\n  items: [b]\n"
        + _rule("r", "evt.type in (a)")
    )
    assert _errors(rs) == ["unknown event type a"]


def test_list_name_inside_a_word_is_not_replaced() -> None:
    rs = _load("- list: my_list\n  items: [x]\n" + _rule("r", "evt.type=open and fd.name in (file_my_list)"))
    assert _compiled(rs) == "(evt.type = open and fd.name in (file_my_list))"
    assert [w.code for w in rs.result.warnings] == ["LOAD_UNUSED_LIST"]


def test_one_item_list_replaces_a_bare_value() -> None:
    rs = _load(
        "- list: cat_binaries\n  items: [cat]\n" + _rule("r", "evt.type=open and proc.name=cat_binaries")
    )
    assert _compiled(rs) == "(evt.type = open and proc.name = cat)"


def test_macro_using_a_later_macro_is_an_error_even_if_unused() -> None:
    rs = _load("- macro: a\n  condition: b\n- macro: b\n  condition: evt.type=open\n")
    assert _errors(rs) == ["Undefined macro 'b' used in filter."]
    assert rs.result.errors[0].item_name == "a"


def test_rule_may_use_a_macro_defined_later() -> None:
    rs = _load(_rule("r", "m") + "- macro: m\n  condition: evt.type=open\n")
    assert rs.ok and _compiled(rs) == "evt.type = open"


def test_macro_append_is_plain_text() -> None:
    rs = _load(
        "- macro: m\n  condition: evt.type=execve\n- macro: m\n  condition: foo\n  override:\n    condition: append\n"
        + _rule("r", "m")
    )
    assert rs.result.errors[0].code == "LOAD_ERR_COMPILE_CONDITION"
    assert rs.result.errors[0].message == "unexpected token after 'execve', expecting 'or', 'and'"


def test_unused_macro_with_a_bad_field_only_warns() -> None:
    rs = _load("- macro: m\n  condition: proc.nosuchfield = 1\n")
    assert rs.ok
    assert [w.code for w in rs.result.warnings] == ["LOAD_UNUSED_MACRO"]


def test_disabled_rule_with_a_bad_field_still_fails() -> None:
    rs = _load(_rule("r", "evt.type=open and proc.nme=x", extra="  enabled: false\n"))
    assert _errors(rs) == ["filter_check called with nonexistent field proc.nme"]


# ------------------------------------------------------------------------- rules: modes (§3)


def test_append_true_ignores_enabled() -> None:
    rs = _load(
        _rule("r", "evt.type=open", extra="  enabled: false\n")
        + "- rule: r\n  condition: and proc.name=cat\n  enabled: true\n  append: true\n"
    )
    assert rs.rule("r").enabled is False
    assert _compiled(rs) == "(evt.type = open and proc.name = cat)"


def test_override_append_and_replace_in_one_item() -> None:
    rs = _load(
        _rule("r", "evt.type=open", extra="  tags: [a]\n")
        + "- rule: r\n  condition: and proc.name=cat\n  tags: [b]\n  priority: ERROR\n"
        "  override:\n    condition: append\n    tags: append\n    priority: replace\n"
    )
    rule = rs.rule("r")
    assert (rule.condition, rule.tags, rule.priority) == (
        "evt.type=open and proc.name=cat",
        ("a", "b"),
        "Error",
    )


def test_override_replace_of_a_missing_list_defines_it() -> None:
    rs = _load(
        "- list: l\n  items: [x]\n  override:\n    items: replace\n"
        + _rule("r", "evt.type=open and proc.name in (l)")
    )
    assert rs.ok and _compiled(rs) == "(evt.type = open and proc.name in (x))"


def test_unknown_source_is_not_compiled_but_kept_out_of_evaluation() -> None:
    rs = _load(_rule("r", "this is not even a condition", extra="  source: aws_cloudtrail\n"))
    assert rs.ok
    assert "r" not in rs
    assert rs.result.warnings[0].message == "Unknown source aws_cloudtrail, skipping"


def test_k8s_audit_rules_compile_when_the_plugin_is_loaded() -> None:
    text = _rule(
        "r",
        "ka.verb in (create, update) and ka.target.resource = pods",
        output="'%ka.user.name'",
        extra="  source: k8s_audit\n",
    )
    rs = _load(text, plugins={"container": "0.6.0", "k8saudit": "0.18.0"})
    assert rs.ok, _errors(rs)
    assert rs.matches({"ka.verb": "create", "ka.target.resource": "pods"}, source="k8s_audit") == ["r"]


def test_skip_if_unknown_filter_does_not_hide_other_errors() -> None:
    rs = _load(_rule("r", "evt.type=open and proc.pid contains 1", extra="  skip-if-unknown-filter: true\n"))
    assert rs.result.errors[0].code == "LOAD_ERR_COMPILE_CONDITION"


# ----------------------------------------------------------------------------- exceptions (§4)


def _exception(body: str, condition: str = "evt.type=open") -> str:
    return _rule("r", condition, extra="  exceptions:\n" + textwrap.indent(textwrap.dedent(body), "    "))


def test_exception_scalar_field_uses_in() -> None:
    rs = _load(_exception("- name: e\n  fields: proc.cmdline\n  values: [a b, c]\n"))
    assert _compiled(rs) == '(evt.type = open and not proc.cmdline in ("a b", c))'


def test_exception_value_naming_a_list_is_expanded() -> None:
    rs = _load(
        "- list: cat_cmdlines\n  items: [cat /a, cat /b]\n"
        + _exception(
            "- name: e\n  fields: [proc.name, proc.cmdline]\n  comps: [=, in]\n  values: [[cat, cat_cmdlines]]\n"
        )
    )
    assert (
        _compiled(rs)
        == '(evt.type = open and not (proc.name = cat and proc.cmdline in ("cat /a", "cat /b")))'
    )


def test_exception_with_no_values_adds_nothing() -> None:
    rs = _load(_exception("- name: e\n  fields: [proc.name]\n"))
    assert _compiled(rs) == "evt.type = open"


def test_exception_values_are_appended_to_an_existing_exception() -> None:
    rs = _load(
        _exception("- name: e\n  fields: [proc.name]\n  values: [[a]]\n")
        + "- rule: r\n  exceptions:\n    - name: e\n      values: [[b]]\n  override:\n    exceptions: append\n"
    )
    assert _compiled(rs) == "(evt.type = open and not (proc.name = a or proc.name = b))"
    assert rs.matches({"evt.type": "open", "proc.name": "b"}) == []
    assert rs.matches({"evt.type": "open", "proc.name": "c"}) == ["r"]


def test_appending_fields_to_an_existing_exception_is_an_error() -> None:
    rs = _load(
        _exception("- name: e\n  fields: [proc.name]\n  values: [[a]]\n")
        + "- rule: r\n  exceptions:\n    - name: e\n      fields: [fd.name]\n      values: [[b]]\n"
        "  override:\n    exceptions: append\n"
    )
    assert _errors(rs) == ["Can not append exception fields to existing exception, only values"]


def test_new_exception_by_append_needs_fields() -> None:
    rs = _load(
        _rule("r", "evt.type=open") + "- rule: r\n  exceptions:\n    - name: new\n      values: [[b]]\n"
        "  append: true\n"
    )
    assert _errors(rs) == ["Rule exception must have fields property with a list of fields"]
    assert (rs.result.errors[0].item_type, rs.result.errors[0].item_name) == ("exception", "new")


def test_collections_of_inputs_are_flattened_in_order() -> None:
    files = {
        "a": RulesFile("a.yaml", _rule("r", "evt.type=open")),
        "b": RulesFile("b.yaml", _rule("s", "evt.type=open")),
    }
    rs = load_rules(files.values())
    assert [r.name for r in rs.result] == ["a.yaml", "b.yaml"]
    assert rs.names == ["r", "s"]


def test_condition_syntax_errors_snippet_the_condition() -> None:
    rs = _load(_rule("r", "evt.type=open and (proc.name=cat"))
    assert rs.result.errors[0].snippet == "evt.type=open and (proc.name=cat\n" + " " * 32 + "^\n"


def test_results_render_for_notebooks_with_escaping() -> None:
    rs = _load(_rule('"<b>x</b>"', "evt.type=open and proc.nme=x"))
    assert (
        repr(rs)
        == "<RuleSet 0 rules (0 enabled), 0 macros, 0 lists from 1 file(s): 1 error(s), 0 warning(s)>"
    )
    html = rs.result._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x" not in html


# --------------------------------------------------------------------------------- robustness


_KEYS = st.sampled_from(
    [
        "rule",
        "macro",
        "list",
        "condition",
        "output",
        "desc",
        "priority",
        "items",
        "append",
        "override",
        "enabled",
        "exceptions",
        "name",
        "fields",
        "comps",
        "values",
        "source",
        "tags",
        "required_engine_version",
        "required_plugin_versions",
        "version",
        "warn_evttypes",
        "skip-if-unknown-filter",
        "capture_duration",
    ]
)
_SCALARS = st.one_of(
    st.sampled_from(
        [
            "r",
            "m",
            "l",
            "evt.type=open",
            "and proc.name=x",
            "INFO",
            "true",
            "append",
            "replace",
            "proc.name",
            "=",
            "in",
            "0.10.0",
            "",
            "%proc.name",
            "(",
            "syscall",
            "k8s_audit",
        ]
    ),
    st.text(max_size=8),
)
_VALUES = st.recursive(
    _SCALARS | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(_KEYS, _VALUES, max_size=5), max_size=5))
def test_any_rules_structure_loads_without_raising(items) -> None:
    rs = load_rules_text(yaml.safe_dump(items, default_flow_style=True), name="fuzz.yaml")
    assert rs.ok == (not rs.result.errors)
    for issue in (*rs.result.errors, *rs.result.warnings):
        assert issue.code and issue.position.name == "fuzz.yaml"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_any_text_loads_without_raising(text: str) -> None:
    rs = load_rules_text(text, name="fuzz.yaml")
    assert rs.ok == (not rs.result.errors)


def test_plugins_may_be_given_as_names() -> None:
    text = "- required_plugin_versions:\n    - name: container\n      version: 0.4.0\n" + _rule(
        "r", "ka.verb = get", extra="  source: k8s_audit\n"
    )
    rs = _load(text, plugins=["container", "k8saudit"])
    assert rs.ok and "r" in rs


def test_override_replace_sets_each_listed_key() -> None:
    rs = _load(
        _rule(
            "r",
            "evt.type != open",
            extra="  tags: [a]\n  exceptions:\n    - name: e\n      fields: [proc.name]\n"
            "      values: [[x]]\n",
        )
        + "- rule: r\n  tags: [z]\n  enabled: false\n  warn_evttypes: false\n  capture: true\n  capture_duration: 5\n"
        "  exceptions:\n    - name: f\n      fields: [fd.name]\n      values: [[/tmp]]\n"
        "  override:\n    tags: replace\n    enabled: replace\n    warn_evttypes: replace\n    capture: replace\n"
        "    capture_duration: replace\n    exceptions: replace\n"
    )
    rule = rs.rule("r")
    assert (rule.tags, rule.enabled, rule.warn_evttypes, rule.capture, rule.capture_duration) == (
        ("z",),
        False,
        False,
        True,
        5,
    )
    assert rule.exceptions == ("f",)
    assert _compiled(rs) == "(evt.type != open and not fd.name = /tmp)"
    assert "LOAD_NO_EVTTYPE" not in [w.code for w in rs.result.warnings]


def test_standalone_enabled_switches_an_earlier_rule() -> None:
    rs = _load(_rule("r", "evt.type=open", extra="  enabled: false\n") + "- rule: r\n  enabled: true\n")
    assert rs.rule("r").enabled is True
    assert [w.code for w in rs.result.warnings] == ["LOAD_DEPRECATED_ITEM"]


def test_output_and_desc_append_join_with_a_space() -> None:
    rs = _load(
        _rule("r", "evt.type=open", output="a=%proc.name")
        + "- rule: r\n  output: b=%fd.name\n  desc: more\n  override:\n    output: append\n    desc: append\n"
    )
    assert (rs.rule("r").output, rs.rule("r").desc) == ("a=%proc.name b=%fd.name", "d more")
    assert rs.rule("r").output_fields == ("proc.name", "fd.name")
