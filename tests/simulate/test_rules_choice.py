"""Which rules files a simulation loads, and how it says so."""

from __future__ import annotations

import pytest

from falco_lab.rules.fetch import UpstreamRulesNotFound
from falco_lab.simulate import SimulationError
from falco_lab.simulate import detect as detection
from tests.conftest import shared_file


def test_given_rules_are_loaded_exactly_in_order() -> None:
    sandbox, stable = (
        shared_file("upstream/falco-sandbox_rules.yaml"),
        shared_file("upstream/falco_rules.yaml"),
    )
    choice = detection.choose_rules([sandbox, stable])
    assert choice.paths == [sandbox, stable]
    assert choice.description == "the given rules files: falco-sandbox_rules.yaml, falco_rules.yaml"


def test_default_is_upstream_in_helm_order_then_project_rules(tmp_path) -> None:
    for name in ("falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"):
        (tmp_path / name).write_text(shared_file(f"upstream/{name}").read_text())
    choice = detection.choose_rules(upstream_dir=tmp_path)
    assert [p.name for p in choice.paths] == [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
        "falco-lab_rules.yaml",
        "falco-lab_upstream-tuning.yaml",
    ]
    assert choice.paths[-2:] == [detection.PROJECT_RULES, detection.UPSTREAM_TUNING]
    assert choice.description.startswith("upstream stable + incubating + sandbox")


def test_the_default_choice_with_upstream_loads_with_no_errors(tmp_path) -> None:
    for name in ("falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"):
        (tmp_path / name).write_text(shared_file(f"upstream/{name}").read_text())
    ruleset = detection.load_ruleset(detection.choose_rules(upstream_dir=tmp_path))
    assert ruleset.errors == [] and ruleset.warnings == []
    assert "busybox" in ruleset.lists["shell_binaries"]  # the tuning was applied


def test_without_the_stable_ruleset_the_tuning_is_left_out(monkeypatch, tmp_path) -> None:
    sandbox = tmp_path / "falco-sandbox_rules.yaml"
    sandbox.write_text("")

    def sandbox_only(upstream_dir=None, rulesets=()):
        if list(rulesets) != ["sandbox"]:
            raise UpstreamRulesNotFound("not here")
        return {"sandbox": sandbox}

    monkeypatch.setattr(detection, "find_upstream_rules", sandbox_only)
    choice = detection.choose_rules()
    assert choice.paths == [sandbox, detection.PROJECT_RULES]
    assert choice.missing == ["stable", "incubating"]


def test_without_upstream_rules_it_says_so(monkeypatch) -> None:
    def nothing(*args, **kwargs):
        raise UpstreamRulesNotFound("none here")

    monkeypatch.setattr(detection, "find_upstream_rules", nothing)
    choice = detection.choose_rules()
    assert choice.paths == [detection.PROJECT_RULES]
    assert choice.missing == ["stable", "incubating", "sandbox"]
    assert "project's rules only" in choice.description
    assert "no upstream ruleset found" in choice.description


def test_without_upstream_rules_the_project_rules_load_alone_cleanly(monkeypatch) -> None:
    def nothing(*args, **kwargs):
        raise UpstreamRulesNotFound("none here")

    monkeypatch.setattr(detection, "find_upstream_rules", nothing)
    ruleset = detection.load_ruleset(detection.choose_rules())
    assert ruleset.ok and ruleset.errors == [] and ruleset.warnings == []
    assert "Falco Lab Terminal Shell In Container" in ruleset.names


def test_given_rules_are_never_completed_with_the_tuning_file() -> None:
    choice = detection.choose_rules([detection.PROJECT_RULES])
    assert choice.paths == [detection.PROJECT_RULES]
    assert detection.load_ruleset(choice).errors == []


def test_rules_that_do_not_load_are_an_error_with_file_and_line(tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("- list: x\n  items: [a\n")
    with pytest.raises(SimulationError, match=r"broken\.yaml:\d+:\d+"):
        detection.load_ruleset(detection.choose_rules([broken]))
