"""The upstream rulesets (../shared/upstream) load with zero errors, alone and combined."""

from __future__ import annotations

import pytest

from falco_lab.rules import load_rules
from tests.conftest import shared_file

STABLE = "upstream/falco_rules.yaml"
INCUBATING = "upstream/falco-incubating_rules.yaml"
SANDBOX = "upstream/falco-sandbox_rules.yaml"

# (files, lists, macros, rules) as counted in rules-language.md §13
COMBINATIONS = {
    "stable": ((STABLE,), 49, 87, 25),
    "stable+incubating": ((STABLE, INCUBATING), 83, 157, 56),
    "stable+sandbox": ((STABLE, SANDBOX), 95, 258, 62),
    "all-three": ((STABLE, INCUBATING, SANDBOX), None, None, 93),
}


@pytest.mark.parametrize("combo", list(COMBINATIONS))
def test_combination_loads_without_errors(combo: str) -> None:
    files, lists, macros, rules = COMBINATIONS[combo]
    ruleset = load_rules(*(shared_file(f) for f in files))
    assert ruleset.ok, "\n".join(str(e) for e in ruleset.result.errors)
    assert [r.successful for r in ruleset.result] == [True] * len(files)
    assert len(ruleset.rules) == rules
    if lists is not None:
        assert (len(ruleset.lists), len(ruleset.macros)) == (lists, macros)


def test_every_stable_rule_compiles_with_event_types() -> None:
    ruleset = load_rules(shared_file(STABLE))
    assert all(r.compiled is not None for r in ruleset.rules)
    assert all(r.evttypes for r in ruleset.rules), [r.name for r in ruleset.rules if not r.evttypes]
    assert {r.priority for r in ruleset.rules} <= {"Critical", "Warning", "Notice", "Informational"}


def test_sandbox_disabled_rules_are_loaded_but_not_enabled() -> None:
    ruleset = load_rules(shared_file(STABLE), shared_file(SANDBOX))
    assert len(ruleset.rules) - len(ruleset.enabled_rules) == 12


def test_stable_requirements_are_recorded() -> None:
    ruleset = load_rules(shared_file(STABLE))
    assert ruleset.required_engine_version == (0, 57, 0)
    assert [(p.name, p.version) for p in ruleset.plugin_requirements] == [("container", "0.4.0")]


def test_missing_container_plugin_fails_the_requirement() -> None:
    ruleset = load_rules(shared_file(STABLE), plugins={})
    assert not ruleset.ok
    error = ruleset.result.errors[0]
    assert error.message == "Plugin requirement not satisfied, must load one of: container (>= 0.4.0)"
    assert error.line == 31


def test_old_container_plugin_is_incompatible() -> None:
    ruleset = load_rules(shared_file(STABLE), plugins={"container": "0.3.1"})
    assert [e.message for e in ruleset.result.errors] == [
        "Plugin 'container' version '0.3.1' is not compatible with required plugin version '0.4.0'"
    ]
