"""Compile-time behaviour: macro expansion, type and value checks, warnings, event types."""

from __future__ import annotations

import pytest

from falco_lab.rules.compiler.compile import compile_ast, compile_condition
from falco_lab.rules.errors import RuleError
from falco_lab.rules.frontend.parser import parse
from falco_lab.rules.frontend.syntax import Identifier, to_text
from falco_lab.rules.resolvers.macros import expand_macros


def error_of(condition: str, **kwargs) -> RuleError:
    with pytest.raises(RuleError) as info:
        compile_condition(condition, **kwargs)
    return info.value


# ---------------------------------------------------------------- macros (§5.7)


def test_macro_is_expanded() -> None:
    condition = compile_condition("spawned and proc.name = sh", macros={"spawned": "evt.type = execve"})
    assert condition.text == "(evt.type = execve and proc.name = sh)"


def test_nested_macros_are_expanded() -> None:
    macros = {"a": "b or proc.name = x", "b": "evt.type = open"}
    assert compile_condition("a", macros=macros).text == "(evt.type = open or proc.name = x)"


def test_appended_macro_keeps_its_own_node() -> None:
    macros = {"interactive": "(proc.name = a or proc.name = b) or proc.name = ssh"}
    assert (
        compile_condition("interactive", macros=macros).text
        == "((proc.name = a or proc.name = b) or proc.name = ssh)"
    )


def test_undefined_macro() -> None:
    error = error_of("evt.type = open and nope")
    assert (error.code, error.message) == ("LOAD_ERR_VALIDATE", "Undefined macro 'nope' used in filter.")


def test_macro_loop() -> None:
    with pytest.raises(RuleError) as info:
        expand_macros(Identifier("a"), {"a": parse("b"), "b": parse("a")})
    assert (info.value.code, info.value.message) == ("LOAD_ERR_VALIDATE", "reference loop in macro 'a'")


def test_expand_macros_without_references_returns_the_tree() -> None:
    tree = parse("proc.name = a")
    assert expand_macros(tree, {}) is tree


def test_compile_ast_refuses_a_macro_reference() -> None:
    with pytest.raises(RuleError, match="Undefined macro 'm'"):
        compile_ast(parse("m"))


# ---------------------------------------------------------------- checks (§6)


def test_unknown_field() -> None:
    assert error_of("proc.nme = x").message == "filter_check called with nonexistent field proc.nme"


def test_numeric_operator_on_string_is_rejected() -> None:
    assert error_of("fd.num contains 1").message == "'contains' operator not supported for numeric filters"


def test_bcontains_on_string_is_rejected() -> None:
    assert error_of("fd.name bcontains 41").message == "'bcontains' operator not supported for string filters"


def test_list_field_accepts_only_list_operators() -> None:
    error = error_of("ka.user.groups = x", source="k8s_audit")
    assert error.message == "'=' operator not supported list filters"


def test_invalid_number() -> None:
    assert error_of("fd.num = 0x10").message == "0x10 is not a valid number"


def test_double_accepts_integers_only() -> None:
    assert error_of("thread.cpu = 1.0").message == "1.0 is not a valid number"


def test_port_accepts_service_names() -> None:
    assert compile_condition("fd.sport = http").matches({"fd.sport": 80})


def test_boolean_value() -> None:
    assert error_of("evt.is_io = yes").message == "unrecognized boolean value yes"


def test_ip_address_value() -> None:
    assert "127.0.0.0/8" in error_of("fd.sip = 127.0.0.0/8").message


def test_unknown_event_type() -> None:
    assert error_of("evt.type = some_invalid_event").message == "unknown event type some_invalid_event"


def test_bcontains_needs_hex() -> None:
    error = error_of("evt.buffer bcontains 12g4")
    assert error.message == "bcontains and bstartswith operator support hex strings only"


def test_invalid_regex() -> None:
    assert error_of("fd.name regex '('").message.startswith("invalid regex pattern: ")


def test_transformer_type_check() -> None:
    assert (
        error_of("tolower(fd.num) = 1").message
        == "field type 'INT64' is not supported by 'tolower' transformer"
    )


def test_transformer_argument_is_rejected() -> None:
    assert (
        error_of("toupper(fd.name)[x] = foo").message
        == "transformer 'toupper' does not support field arguments"
    )


def test_no_transformer_flag() -> None:
    assert "does not support transformers" in error_of("tolower(proc.aname) = x").message


def test_no_rhs_flag() -> None:
    assert "cannot be compared against another field" in error_of("proc.name = val(proc.aname)").message


def test_getopt_is_reported_as_unsupported() -> None:
    assert "not supported by falco-lab yet" in error_of('getopt(proc.args, "nt:")[t] = x').message


def test_join_needs_a_list() -> None:
    assert error_of('join("-", fd.name) = x').message == "join() second argument must be a list"


def test_concat_needs_strings() -> None:
    assert error_of("concat(fd.name, proc.pid) = x").message == "concat() arguments must be strings"


# ---------------------------------------------------------------- warnings


def test_field_used_as_constant_warns() -> None:
    warnings = compile_condition("proc.name = proc.pname").warnings
    assert warnings == (
        ("LOAD_COMPILE_CONDITION", "'proc.pname' may be a valid field misused as a const string value"),
    )


def test_transformer_used_as_constant_warns() -> None:
    warnings = compile_condition("proc.name = 'toupper( proc.pname)'").warnings
    assert (
        warnings[0][1]
        == "'toupper( proc.pname)' may be a valid field transformer misused as a const string value"
    )


def test_simple_regex_warns() -> None:
    assert "may be optimized" in compile_condition("proc.name regex '^bash$'").warnings[0][1]


def test_real_regex_does_not_warn() -> None:
    assert compile_condition("proc.name regex 'ba.h'").warnings == ()


def test_unsafe_na_check_warns() -> None:
    condition = compile_condition("ka.user.name = <NA>", source="k8s_audit")
    assert condition.warnings == (("LOAD_UNSAFE_NA_CHECK", ""),)


def test_evt_dir_is_deprecated() -> None:
    assert compile_condition("evt.dir = <").warnings[0][0] == "LOAD_DEPRECATED_ITEM"


# ---------------------------------------------------------------- event types and attributes


def test_event_types_of_a_restricted_condition() -> None:
    condition = compile_condition("evt.type in (open, openat) and proc.name = cat")
    assert condition.evttypes == frozenset({"open", "openat"})


def test_event_types_of_an_inequality_are_almost_all() -> None:
    condition = compile_condition("evt.type != execve")
    assert condition.evttypes is not None and "execve" not in condition.evttypes
    assert condition.evttype_count > 100


def test_negation_is_pushed_down() -> None:
    condition = compile_condition("not (evt.type != open or proc.name = x)")
    assert condition.evttypes == frozenset({"open"})


def test_unrestricted_condition_has_no_event_types() -> None:
    assert compile_condition("proc.name = cat").evttypes is None


def test_contradiction_has_an_empty_set() -> None:
    assert compile_condition("evt.type = open and evt.type = close").evttypes == frozenset()


def test_fields_used() -> None:
    assert compile_condition("proc.aname[2] = a and evt.arg.flags contains X").fields == (
        "proc.aname[2]",
        "evt.arg.flags",
    )


def test_canonical_text_of_compile_ast() -> None:
    tree = parse("evt.type=open and proc.name in (a,b)")
    assert compile_ast(tree).text == to_text(tree) == "(evt.type = open and proc.name in (a, b))"


def test_evt_num_zero_matches_no_event_type() -> None:
    assert compile_condition("evt.num = 0").evttypes == frozenset()


def test_negated_never_true_placeholder_keeps_the_restriction() -> None:
    condition = compile_condition("evt.type = open and not never_true", macros={"never_true": "(evt.num=0)"})
    assert condition.evttypes == frozenset({"open"})


def test_syscall_type_restricts_event_types_too() -> None:
    assert compile_condition("syscall.type = execve").evttypes == frozenset({"execve"})
