"""RuleSet: which rules fire, in which order, as alerts and as the canonical events frame."""

from __future__ import annotations

import pandas as pd
import pytest

from falco_lab.events import load_events
from falco_lab.events.sanity import keeping_duplicates
from falco_lab.events.schema import BASE_COLUMNS
from falco_lab.priorities import PRIORITY_DTYPE
from falco_lab.rules import alert_json, load_rules_text

RULES = """\
- macro: spawned
  condition: evt.type in (execve, execveat)
- rule: Shell
  desc: a shell ran
  condition: spawned and proc.name in (bash, sh)
  output: shell %proc.name (user=%user.name tty=%proc.tty)
  priority: WARNING
  tags: [shell, mitre_execution]
- rule: Any exec
  desc: any program ran
  condition: spawned
  output: exec %proc.name
  priority: debug
- rule: Disabled
  desc: never fires
  condition: spawned
  output: x
  priority: CRITICAL
  enabled: false
- rule: Audit
  desc: other source
  condition: ka.verb = GET
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
"""
BASH = {"evt.type": "execve", "proc.name": "bash", "user.name": "root", "proc.tty": 34816, "evt.time": 10**18}
LS = {"evt.type": "execve", "proc.name": "ls", "user.name": "root", "evt.time": 10**18 + 5}
OPEN = {"evt.type": "openat", "proc.name": "bash", "evt.time": 10**18 + 9}


@pytest.fixture(scope="module")
def ruleset():
    rs = load_rules_text(RULES, plugins={"container": "0.6.0", "k8saudit": "0.18.0"})
    assert rs.ok, rs.result
    return rs


def test_rules_keep_load_order_and_attributes(ruleset) -> None:
    assert ruleset.names == ["Shell", "Any exec", "Disabled", "Audit"]
    shell = ruleset.rule("Shell")
    assert (shell.priority, shell.tags, shell.source, shell.enabled) == (
        "Warning",
        ("mitre_execution", "shell"),
        "syscall",
        True,
    )
    assert shell.evttypes == frozenset({"execve", "execveat"})
    assert ruleset.rule("Disabled").enabled is False


def test_matches_in_load_order_skipping_disabled_rules(ruleset) -> None:
    assert ruleset.matches(BASH) == ["Shell", "Any exec"]
    assert ruleset.matches(LS) == ["Any exec"]
    assert ruleset.matches(OPEN) == []


def test_rule_matching_first_stops_at_the_first_rule(ruleset) -> None:
    assert ruleset.matches(BASH, rule_matching="first") == ["Shell"]


def test_min_priority_drops_less_severe_rules(ruleset) -> None:
    assert ruleset.matches(BASH, min_priority="notice") == ["Shell"]
    assert ruleset.matches(LS, min_priority="Warning") == []


def test_source_selects_the_rules_of_that_source(ruleset) -> None:
    assert ruleset.matches({"ka.verb": "GET"}, source="k8s_audit") == ["Audit"]
    assert ruleset.matches({"ka.verb": "GET"}) == []


def test_bad_arguments_are_rejected(ruleset) -> None:
    with pytest.raises(ValueError, match="rule_matching"):
        ruleset.matches(BASH, rule_matching="some")
    with pytest.raises(ValueError, match="unknown priority"):
        ruleset.matches(BASH, min_priority="warn")
    with pytest.raises(KeyError, match="no rule named 'Nope'"):
        ruleset.rule("Nope")


def test_alerts_are_falco_json_in_event_order(ruleset) -> None:
    alerts = list(ruleset.alerts([BASH, OPEN, LS], hostname="node-1"))
    assert [(a["rule"], a["priority"]) for a in alerts] == [
        ("Shell", "Warning"),
        ("Any exec", "Debug"),
        ("Any exec", "Debug"),
    ]
    assert alerts[0]["output"] == (
        "01:46:40.000000000: Warning shell bash (user=root tty=34816) container_id=<NA> container_name=<NA> "
        "container_image_repository=<NA> container_image_tag=<NA> k8s_pod_name=<NA> k8s_ns_name=<NA>"
    )
    assert alerts[0]["tags"] == ["mitre_execution", "shell"]


def test_evaluate_gives_the_canonical_frame(ruleset) -> None:
    frame = ruleset.evaluate([BASH, LS], hostname="node-1")
    assert list(frame.columns[: len(BASE_COLUMNS)]) == list(BASE_COLUMNS)
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    assert frame["priority"].dtype == PRIORITY_DTYPE
    assert frame["rule"].tolist() == ["Shell", "Any exec", "Any exec"]
    assert frame["proc.name"].tolist() == ["bash", "bash", "ls"]
    assert frame["evt.time"].tolist() == [10**18, 10**18, 10**18 + 5]
    assert frame["uuid"].isna().all()


def test_frame_input_gives_the_same_alerts_as_mappings(ruleset) -> None:
    events = [BASH, OPEN, LS, {**BASH, "proc.tty": None}]
    from_dicts = ruleset.evaluate(events, hostname="h")
    from_frame = ruleset.evaluate(pd.DataFrame(events), hostname="h")
    pd.testing.assert_frame_equal(from_frame, from_dicts)


def test_evaluate_frame_equals_the_same_alerts_loaded_from_jsonl(ruleset, tmp_path) -> None:
    # in time order (load_events sorts by time), and no two alerts alike (load_events drops duplicates)
    events = [BASH, {**BASH, "proc.tty": None, "evt.time": BASH["evt.time"] + 1}, LS, OPEN]
    path = tmp_path / "alerts.jsonl"
    path.write_text(
        "".join(alert_json(a) + "\n" for a in ruleset.alerts(events, hostname="h")), encoding="utf-8"
    )
    frame = ruleset.evaluate(events, hostname="h")
    assert str(frame["proc.tty"].dtype) == "Int64"
    with keeping_duplicates():  # the two shells differ only in a field the output does not print
        loaded = load_events(path)
    pd.testing.assert_frame_equal(frame, loaded)


def test_frame_input_with_first_matching(ruleset) -> None:
    frame = ruleset.evaluate(pd.DataFrame([BASH, LS]), rule_matching="first", hostname="h")
    assert frame["rule"].tolist() == ["Shell", "Any exec"]


def test_no_alert_gives_an_empty_canonical_frame(ruleset) -> None:
    frame = ruleset.evaluate([OPEN])
    assert frame.empty
    assert list(frame.columns) == list(BASE_COLUMNS)


def test_describe_shows_expanded_condition_fields_and_event_types(ruleset) -> None:
    info = ruleset.describe("Shell")
    assert info["condition_compiled"] == "(evt.type in (execve, execveat) and proc.name in (bash, sh))"
    assert info["output_fields"] == ["proc.name", "user.name", "proc.tty"]
    assert info["evttypes"] == ["execve", "execveat"]


def test_explain_tells_which_check_failed(ruleset) -> None:
    explanation = ruleset.explain("Shell", LS)
    assert "proc.name in (bash, sh)" in str(explanation)


def test_redefinition_keeps_the_place_of_the_first_definition() -> None:
    text = RULES + "- rule: Shell\n  desc: d\n  condition: spawned\n  output: o\n  priority: ERROR\n"
    rs = load_rules_text(text, plugins={"container": "0.6.0", "k8saudit": "0.18.0"})
    assert rs.names[0] == "Shell"
    assert rs.matches(LS, rule_matching="first") == ["Shell"]


def test_rules_frame_lists_rules_in_order(ruleset) -> None:
    frame = ruleset.rules_frame()
    assert frame["rule"].tolist() == ["Shell", "Any exec", "Disabled", "Audit"]
    assert frame["enabled"].tolist() == [True, True, False, True]
    assert frame["priority"].tolist() == ["Warning", "Debug", "Critical", "Informational"]
    assert frame.loc[0, "evttypes"] == ["execve", "execveat"]
    assert frame.loc[3, "evttypes"] is None
