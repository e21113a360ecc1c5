"""Explanations: which sub-conditions were true, false or missing."""

from __future__ import annotations

from falco_lab.rules.compiler.compile import compile_condition

CONDITION = "evt.type = execve and (proc.name in (sh, bash) or proc.pname = sshd) and not container.id = host"


def explanation(event: dict):
    return compile_condition(CONDITION).explain(event)


def test_result_matches_the_decision() -> None:
    event = {"evt.type": "execve", "proc.name": "sh", "container.id": "abc"}
    assert explanation(event).result is True
    assert compile_condition(CONDITION).matches(event)


def test_false_check_is_reported_false() -> None:
    root = explanation({"evt.type": "open"}).root
    assert root.children[0].status == "false"


def test_missing_field_is_reported_missing() -> None:
    root = explanation({"evt.type": "execve", "proc.name": "sh"}).root
    negated = root.children[2]
    assert negated.kind == "not" and negated.children[0].status == "missing"


def test_short_circuited_nodes_are_marked() -> None:
    root = explanation({"evt.type": "open", "proc.name": "sh"}).root
    assert root.children[0].evaluated and not root.children[1].evaluated


def test_check_carries_field_and_value() -> None:
    check = explanation({"evt.type": "execve"}).root.children[0]
    assert (check.field, check.value, check.text) == ("evt.type", "execve", "evt.type = execve")


def test_text_rendering_is_indented() -> None:
    lines = str(explanation({"evt.type": "execve", "proc.name": "zsh"})).splitlines()
    assert lines[0].startswith("✘ FALSE")
    assert lines[2].startswith("  ") and lines[3].startswith("    ") and "proc.name in (sh, bash)" in lines[3]


def test_to_dict_is_nested() -> None:
    data = explanation({"evt.type": "execve"}).to_dict()
    assert data["result"] is False and data["tree"]["children"][0]["status"] == "true"


def test_to_frame_has_one_row_per_node() -> None:
    frame = explanation({"evt.type": "execve"}).to_frame()
    assert list(frame.columns[:4]) == ["depth", "kind", "macro", "text"]
    assert len(frame) == 7 and frame["depth"].max() == 2


def test_parts_from_macros_are_labelled() -> None:
    condition = compile_condition(
        "spawned and shell", macros={"spawned": "evt.type = execve", "shell": "proc.name in (sh, bash)"}
    )
    result = condition.explain({"evt.type": "execve", "proc.name": "zsh"})
    assert [c.macro for c in result.root.children] == ["spawned", "shell"]
    assert "(macro shell)" in str(result)


def test_html_rendering_escapes_event_values() -> None:
    rendered = compile_condition("proc.cmdline contains x").explain(
        {"proc.cmdline": "<script>alert(1)</script>"}
    )
    markup = rendered._repr_html_()
    assert "<script>" not in markup and "&lt;script&gt;" in markup
