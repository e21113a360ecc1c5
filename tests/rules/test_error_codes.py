"""One test per error and warning code of rules-language §9, with inline rules files.

Each checks the code, Falco's message, the item type and name the problem is reported against, and
the 1-based line and column in the file.
"""

from __future__ import annotations

import textwrap

import pytest

from falco_lab.rules import load_rules, load_rules_text
from falco_lab.rules.loading.result import ERROR_CODES, WARNING_CODES

RULE = """\
- rule: r
  desc: d
  condition: {condition}
  output: {output}
  priority: INFO
"""


def _load(text: str, **kwargs):
    return load_rules_text(textwrap.dedent(text), name="t.yaml", **kwargs)


def _only_error(text: str, **kwargs):
    ruleset = _load(text, **kwargs)
    assert not ruleset.ok
    assert len(ruleset.result.errors) == 1, [str(e) for e in ruleset.result.errors]
    return ruleset.result.errors[0]


def _warning(text: str, code: str, **kwargs):
    ruleset = _load(text, **kwargs)
    assert ruleset.ok, [str(e) for e in ruleset.result.errors]
    found = [w for w in ruleset.result.warnings if w.code == code]
    assert len(found) == 1, [str(w) for w in ruleset.result.warnings]
    return found[0]


def _where(issue) -> tuple[str, str, int, int]:
    return issue.item_type, issue.item_name, issue.line, issue.column


# ------------------------------------------------------------------------------------------ errors


def test_load_err_file_read(tmp_path) -> None:
    missing = tmp_path / "nope.yaml"
    ruleset = load_rules(missing)
    (error,) = ruleset.result.errors
    assert error.code == "LOAD_ERR_FILE_READ"
    assert error.message.startswith(f"Could not read file {missing}")
    assert error.file == str(missing)


def test_load_err_yaml_parse() -> None:
    error = _only_error("- rule: a: b\n")
    assert error.code == "LOAD_ERR_YAML_PARSE"
    assert error.message == "yaml-cpp: error at line 1, column 10: illegal map value"
    assert (error.line, error.column) == (1, 10)


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("just text\n", "Rules content is not yaml", ("rules content", "", 1, 1)),
        ("a: b\n", "Rules content is not yaml array of objects", ("rules content", "", 1, 1)),
        (
            "- [1, 2]\n",
            "Unexpected element type. Each element should be a yaml associative array.",
            ("rules content item", "", 1, 3),
        ),
        (
            "- rule: r\n  desc: d\n  condition: evt.type=open\n  priority: INFO\n",
            "Item has no mapping for key 'output'",
            ("rule", "r", 1, 3),
        ),
        ("- macro: m\n  condition:\n", "Mapping for key 'condition' is empty", ("macro", "m", 1, 3)),
        ("- macro: m\n  condition: [a]\n", "Value is not a scalar value", ("macro", "m", 2, 14)),
        ("- macro: m\n  condition: ''\n", "Value must be non-empty", ("macro", "m", 2, 14)),
        ("- list: l\n  items: a\n", "Value is not a sequence", ("list", "l", 2, 10)),
        ("- list: l\n  items: [[a]]\n", "sequence value is not scalar", ("list", "l", 2, 10)),
        (
            RULE.format(condition="evt.type=open", output="x") + "  enabled: maybe\n",
            "Can't decode YAML scalar value",
            ("rule", "r", 6, 12),
        ),
        (
            RULE.format(condition="evt.type=open", output="x").replace("INFO", "warn"),
            "Invalid priority",
            ("rule", "r", 5, 13),
        ),
        (
            "- required_engine_version: seven\n",
            "Unable to parse engine version 'seven' as a semver string. Expected \"x.y.z\" semver format.",
            ("required_engine_version", "", 1, 3),
        ),
        (
            RULE.format(condition="evt.type=open", output="x") + "  exceptions: {a: b}\n",
            "Rule exceptions must be a sequence",
            ("rule", "r", 6, 15),
        ),
        (
            RULE.format(condition="evt.type=open", output="x") + "  exceptions: [a]\n",
            "Rule exception must be a mapping",
            ("rule", "r", 6, 16),
        ),
        (
            RULE.format(condition="evt.type=open", output="x")
            + "  exceptions:\n    - name: e\n      fields: [proc.name]\n      values: x\n",
            "Rule exception values must be a sequence",
            ("exception", "e", 9, 15),
        ),
        (
            RULE.format(condition="evt.type=open", output="x")
            + "- rule: r\n  source: syscall\n  override:\n    source: replace\n",
            "Key 'source' cannot be replaced",
            ("rule", "r", 9, 5),
        ),
        (
            RULE.format(condition="evt.type=open", output="x")
            + "- rule: r\n  condition: and proc.name=x\n  override:\n    condition: merge\n",
            "Invalid override operation for key 'condition': 'merge'. Allowed values are: append replace ",
            ("rule", "r", 9, 16),
        ),
        (
            "- required_plugin_versions: container\n",
            "Value of required_plugin_versions must be a sequence",
            ("required plugin versions", "", 1, 29),
        ),
    ],
)
def test_load_err_yaml_validate(text: str, message: str, where: tuple[str, str, int, int]) -> None:
    error = _only_error(text)
    assert error.code == "LOAD_ERR_YAML_VALIDATE"
    assert error.message == message
    assert _where(error) == where


def test_load_err_compile_condition_points_into_the_condition() -> None:
    error = _only_error(RULE.format(condition="evt.type=open and proc.nme=cat", output="x"))
    assert error.code == "LOAD_ERR_COMPILE_CONDITION"
    assert error.message == "filter_check called with nonexistent field proc.nme"
    assert _where(error) == ("rule", "r", 3, 32)  # the unknown field itself


def test_load_err_compile_condition_syntax_error_position() -> None:
    error = _only_error(RULE.format(condition="evt.type=open and (proc.name=cat", output="x"))
    assert error.code == "LOAD_ERR_COMPILE_CONDITION"
    assert error.message == "expected a ')' token"
    assert _where(error) == ("rule", "r", 3, 46)  # just past the end of the condition, where ')' is missing
    expression = error.locations[-1]
    assert expression.item_type == "condition expression"
    assert expression.position.name == '"evt.type=open and..."'


def test_load_err_compile_output() -> None:
    error = _only_error(RULE.format(condition="evt.type=open", output="x %not_a_real_field y"))
    assert error.code == "LOAD_ERR_COMPILE_OUTPUT"
    assert error.message == "unknown filter: not_a_real_field"
    assert _where(error) == ("rule", "r", 4, 11)


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        (
            RULE.format(condition="evt.type=open and undefined_macro", output="x"),
            "Undefined macro 'undefined_macro' used in filter.",
            ("rule", "r", 1, 3),
        ),
        (
            "- required_engine_version: 0.99.0\n",
            "Rules require engine version 0.99.0, but engine version is 0.62.0",
            ("required_engine_version", "", 1, 3),
        ),
        (
            "- list: l\n  items: [a]\n  override:\n    items: append\n",
            "List uses 'append' or 'override.items: append' but no list by that name already exists",
            ("list", "l", 1, 3),
        ),
        (
            "- rule: r\n  enabled: false\n",
            "Rule has 'enabled' key but no rule by that name already exists",
            ("rule", "r", 1, 3),
        ),
        (
            RULE.format(condition="evt.type=open", output="x") + "- rule: r\n  append: true\n",
            "Appended rule must have exceptions or condition property",
            ("rule", "r", 6, 3),
        ),
        (
            RULE.format(condition="evt.type=open", output="x")
            + "  exceptions:\n    - name: ex1\n      fields: [proc.name, fd.filename]\n      comps: [=]\n",
            "Fields and comps lists must have equal length",
            ("exception", "ex1", 7, 7),
        ),
        (
            RULE.format(condition="evt.type=open", output="x")
            + "  exceptions:\n    - name: ex1\n      fields: [proc.name, fd.filename]\n      comps: [=, no-comp]\n",
            "'no-comp' is not a supported comparison operator",
            ("exception", "ex1", 7, 7),
        ),
        (
            RULE.format(condition="evt.type=open", output="x")
            + "  exceptions:\n    - name: ex1\n      fields: [proc.nme]\n",
            "'proc.nme' is not a supported filter field",
            ("exception", "ex1", 7, 7),
        ),
        (
            RULE.format(condition="evt.type=open", output="x")
            + "  exceptions:\n    - name: ex1\n      fields: [proc.name, fd.name]\n      values: [[a]]\n",
            "Fields and values lists must have equal length",
            ("exception", "ex1", 7, 7),
        ),
        (
            RULE.format(condition="evt.type=open", output="x")
            + "  exceptions:\n    - name: ex1\n      fields: proc.name\n      values: [[a, b]]\n",
            "Expected values array to contain a list of strings",
            ("exception", "ex1", 7, 7),
        ),
        (
            "- required_plugin_versions:\n    - name: container\n      version: latest\n",
            "Invalid required version 'latest' for plugin 'container'",
            ("required plugin versions", "", 2, 7),
        ),
    ],
)
def test_load_err_validate(text: str, message: str, where: tuple[str, str, int, int]) -> None:
    error = _only_error(text)
    assert error.code == "LOAD_ERR_VALIDATE"
    assert error.message == message
    assert _where(error) == where


def test_load_err_validate_macro_loop_is_reported_on_the_redefined_macro() -> None:
    error = _only_error(
        "- macro: a\n  condition: evt.type=open\n- macro: b\n  condition: a\n- macro: a\n  condition: b\n"
    )
    assert error.code == "LOAD_ERR_VALIDATE"
    assert error.message.startswith("reference loop in macro '")
    assert _where(error) == ("macro", "a", 5, 3)  # the last definition replaced the first


def test_extension_codes_are_catalogued_but_never_produced() -> None:
    # Falco's extension items (LOAD_ERR_EXTENSION / LOAD_WARNING_EXTENSION) have no rules-file syntax here.
    assert ERROR_CODES["LOAD_ERR_EXTENSION"] == "Error in extension item"
    assert WARNING_CODES["LOAD_WARNING_EXTENSION"] == "Warning in extension item"


# ---------------------------------------------------------------------------------------- warnings


def test_load_unknown_source() -> None:
    warning = _warning(
        RULE.format(condition="ka.verb = GET", output="x") + "  source: aws_cloudtrail\n",
        "LOAD_UNKNOWN_SOURCE",
    )
    assert warning.message == "Unknown source aws_cloudtrail, skipping"
    assert _where(warning) == ("rule", "r", 1, 3)


def test_load_unsafe_na_check() -> None:
    text = (
        RULE.format(condition='ka.user.name = "<NA>"', output="user=%ka.user.name") + "  source: k8s_audit\n"
    )
    warning = _warning(text, "LOAD_UNSAFE_NA_CHECK", plugins={"k8saudit": "0.18.0", "json": "0.7.0"})
    assert warning.message == ""
    assert _where(warning) == ("rule", "r", 1, 3)


def test_load_no_evttype() -> None:
    warning = _warning(RULE.format(condition="evt.type != execve", output="x"), "LOAD_NO_EVTTYPE")
    assert (
        warning.message
        == "Rule matches too many evt.type values. This has a significant performance penalty."
    )
    assert _where(warning) == ("rule", "r", 1, 3)


def test_load_unknown_filter_skips_the_rule() -> None:
    text = (
        RULE.format(condition="evt.type=some_invalid_event", output="x") + "  skip-if-unknown-filter: true\n"
    )
    warning = _warning(text, "LOAD_UNKNOWN_FILTER")
    assert warning.message == "unknown event type some_invalid_event"
    assert "r" not in _load(text)


def test_load_unused_macro_and_load_unused_list() -> None:
    text = "- macro: m\n  condition: evt.type=open\n- list: l\n  items: [a]\n"
    macro = _warning(text, "LOAD_UNUSED_MACRO")
    assert (macro.message, _where(macro)) == (
        "Macro not referred to by any other rule/macro",
        ("macro", "m", 1, 3),
    )
    lst = _warning(text, "LOAD_UNUSED_LIST")
    assert (lst.message, _where(lst)) == ("List not referred to by any other rule/macro", ("list", "l", 3, 3))


def test_load_unknown_item() -> None:
    warning = _warning("- something: else\n", "LOAD_UNKNOWN_ITEM")
    assert warning.message == "Unknown top level item"
    assert _where(warning) == ("rules content item", "", 1, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            RULE.format(condition="evt.type=open", output="x")
            + "- rule: r\n  condition: and proc.name=x\n  append: true\n",
            "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.",
        ),
        (
            RULE.format(condition="evt.type=open", output="x") + "- rule: r\n  enabled: false\n",
            "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry "
            "under the 'override' key (i.e. 'enabled: replace').",
        ),
        (
            RULE.format(condition="evt.type=open", output="x %container.info"),
            "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container "
            "plugin will automatically add required fields to the output message.",
        ),
        (
            RULE.format(condition="evt.type=open", output="dir=%evt.dir"),
            "usage of deprecated field 'evt.dir' has been detected in the rule output",
        ),
    ],
)
def test_load_deprecated_item(text: str, message: str) -> None:
    warning = _warning(text, "LOAD_DEPRECATED_ITEM")
    assert warning.message == message
    assert warning.item_type == "rule" and warning.item_name == "r"


def test_load_append_no_values() -> None:
    text = (
        RULE.format(condition="evt.type=open", output="x")
        + "  exceptions:\n    - name: e\n      fields: [proc.name]\n      values: [[a]]\n"
        + "- rule: r\n  exceptions:\n    - name: e\n  override:\n    exceptions: append\n"
    )
    warning = _warning(text, "LOAD_APPEND_NO_VALUES")
    assert warning.message == "Overriding/appending exception with no values"
    assert _where(warning) == ("exception", "e", 12, 7)


def test_load_exception_name_not_unique() -> None:
    text = RULE.format(condition="evt.type=open", output="x") + (
        "  exceptions:\n    - name: e\n      fields: [proc.name]\n      values: [[a]]\n"
        "    - name: e\n      fields: [proc.name]\n      values: [[b]]\n"
    )
    warning = _warning(text, "LOAD_EXCEPTION_NAME_NOT_UNIQUE")
    assert warning.message == "Multiple definitions of exception 'e' in the same rule"
    assert (warning.line, warning.column) == (10, 7)


def test_load_invalid_macro_name() -> None:
    text = "- macro: test-macro\n  condition: evt.type=open\n" + RULE.format(
        condition="evt.type=open", output="x"
    )
    warning = _warning(text, "LOAD_INVALID_MACRO_NAME")
    assert warning.message == (
        "Macro has an invalid name. Macro names should match a regular expression: [a-zA-Z]+[a-zA-Z0-9_]*"
    )
    assert _where(warning) == ("macro", "test-macro", 1, 3)


def test_load_invalid_list_name() -> None:
    warning = _warning("- list: 'bad list'\n  items: [a]\n", "LOAD_INVALID_LIST_NAME")
    assert warning.message == (
        "List has an invalid name. List names should match a regular expression: [^()\"'[:space:]=,]+"
    )
    assert _where(warning) == ("list", "bad list", 1, 3)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            "evt.type=open and proc.name = proc.pname",
            "'proc.pname' may be a valid field misused as a const string value",
        ),
        (
            "evt.type=open and proc.name regex 'abc'",
            "regex check with 'abc' may be optimized with simpler operators such as '=', 'contains', 'startswith', "
            "'endswith'",
        ),
    ],
)
def test_load_compile_condition_warning(condition: str, message: str) -> None:
    warning = _warning(RULE.format(condition=condition, output="x"), "LOAD_COMPILE_CONDITION")
    assert warning.message == message
    assert _where(warning) == ("rule", "r", 1, 3)


def test_load_unknown_key() -> None:
    warning = _warning(
        RULE.format(condition="evt.type=open", output="x") + "  typo_field: 1\n", "LOAD_UNKNOWN_KEY"
    )
    assert warning.message == "Unknown key 'typo_field'. The key will be ignored."
    assert _where(warning) == ("rule", "r", 6, 3)


def test_every_code_has_a_test() -> None:
    tested = [name for name in globals() if name.startswith("test_load_")]
    covered = {code for code in (*ERROR_CODES, *WARNING_CODES) if any(code.lower() in t for t in tested)}
    assert covered >= set(ERROR_CODES) - {"LOAD_ERR_EXTENSION"}
    assert covered >= set(WARNING_CODES) - {"LOAD_WARNING_EXTENSION"}


def test_compile_error_in_a_rule_using_macros_points_at_the_rule_text() -> None:
    error = _only_error(
        "- macro: m\n  condition: evt.type=open\n"
        + RULE.format(condition="m and container.idd != host", output="x")
    )
    assert error.message == "filter_check called with nonexistent field container.idd"
    assert (error.line, error.column) == (5, 20)


def test_compile_error_inside_a_macro_points_at_the_rule_condition() -> None:
    error = _only_error(
        "- macro: m\n  condition: proc.nme=x\n" + RULE.format(condition="evt.type=open and m", output="x")
    )
    assert error.message == "filter_check called with nonexistent field proc.nme"
    assert (error.item_type, error.item_name, error.line, error.column) == ("rule", "r", 5, 14)
