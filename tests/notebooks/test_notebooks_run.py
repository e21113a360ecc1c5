"""Each workshop notebook, executed by papermill with small parameters, records what it found.

One papermill run per notebook and parameter set (module-scoped fixtures); the tests then
assert on the values the notebook recorded with ``falco_lab.nb.record``.  Notebooks that
pick rulesets run twice: with the upstream rulesets of ``../shared/upstream`` and with an
empty directory (the project's own rules alone).
"""

from __future__ import annotations

import json
from pathlib import Path

import papermill
import pytest

from falco_lab.lab.figures import missing_fallbacks
from falco_lab.lab.nb import cell_errors, read_records
from falco_lab.rules import load_rules
from falco_lab.simulate.detect import PROJECT_RULES
from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SMALL = {"nodes": 2, "hours": 0.5}


def _execute(name: str, workdir: Path, **parameters) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    output = workdir / f"{name}.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / f"{name}.ipynb"),
        str(output),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(NOTEBOOKS),
        progress_bar=False,
        execution_timeout=300,
    )
    assert cell_errors(output) == []
    assert missing_fallbacks(json.loads(output.read_text(encoding="utf-8"))) == [], (
        "figures without a static fallback"
    )
    return read_records(output)


@pytest.fixture(scope="module")
def upstream_dir() -> str:
    return str(shared_file("upstream/falco_rules.yaml").parent)


@pytest.fixture(scope="module")
def install(tmp_path_factory, upstream_dir) -> dict:
    return _execute(
        "01_install_falco", tmp_path_factory.mktemp("nb01"), upstream_rules_dir=upstream_dir, nodes=2
    )


@pytest.fixture(scope="module")
def rules_upstream(tmp_path_factory, upstream_dir) -> dict:
    # one simulated hour: long enough for package installs, which the what-if's new rule catches
    return _execute(
        "02_rules_and_macros", tmp_path_factory.mktemp("nb02"), upstream_rules_dir=upstream_dir, nodes=2
    )


@pytest.fixture(scope="module")
def rules_own(tmp_path_factory) -> dict:
    return _execute(
        "02_rules_and_macros", tmp_path_factory.mktemp("nb02own"), use_upstream_rules=False, **SMALL
    )


@pytest.fixture(scope="module")
def tests_upstream(tmp_path_factory, upstream_dir) -> dict:
    return _execute("03_trigger_test_pods", tmp_path_factory.mktemp("nb03"), upstream_rules_dir=upstream_dir)


@pytest.fixture(scope="module")
def tests_own(tmp_path_factory) -> dict:
    return _execute("03_trigger_test_pods", tmp_path_factory.mktemp("nb03own"), use_upstream_rules=False)


@pytest.fixture(scope="module")
def install_own(tmp_path_factory) -> dict:
    return _execute("01_install_falco", tmp_path_factory.mktemp("nb01own"), use_upstream_rules=False, nodes=2)


@pytest.fixture(scope="module")
def analysis_own(tmp_path_factory) -> dict:
    return _execute(
        "04_analyze_events", tmp_path_factory.mktemp("nb04own"), use_upstream_rules=False, **SMALL
    )


@pytest.fixture(scope="module")
def analysis(tmp_path_factory, upstream_dir) -> dict:
    return _execute(
        "04_analyze_events", tmp_path_factory.mktemp("nb04"), upstream_rules_dir=upstream_dir, **SMALL
    )


@pytest.fixture(scope="module")
def postmortem_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("nb05")


@pytest.fixture(scope="module")
def postmortem(postmortem_dir, upstream_dir) -> dict:
    return _execute(
        "05_incident_postmortem", postmortem_dir, upstream_rules_dir=upstream_dir, out_dir=str(postmortem_dir),
        namespace="shop", **SMALL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def postmortem_own(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("nb05own")
    return _execute("05_incident_postmortem", out, use_upstream_rules=False, out_dir=str(out), **SMALL)


def test_install_with_the_project_rules_alone_is_ready(install_own) -> None:
    assert install_own["ready"] is True


def test_analysis_with_the_project_rules_alone_shows_every_test_in_detail(analysis_own) -> None:
    assert analysis_own["events_loaded"] > 0
    assert all(card["found"] for card in analysis_own["event_details"].values())


def test_install_shows_extra_output_and_falcoctl_values_the_chart_knows(install) -> None:
    assert install["extra_values_problems"] == []


def test_following_alerts_live_shows_the_alerts_of_the_command_run_meanwhile(tests_upstream) -> None:
    assert tests_upstream["followed"] > 0


RULES = ["upstream_rules_dir", "use_upstream_rules"]
EXPECTED_PARAMETERS = {
    "01_install_falco": ["mode", "values_path", "dry_run", *RULES, "nodes", "seed"],
    "02_rules_and_macros": ["mode", *RULES, "seed", "nodes", "hours"],
    "03_trigger_test_pods": ["mode", *RULES, "nodes", "seed", "timeout", "dry_run"],
    "04_analyze_events": ["mode", *RULES, "events_path", "since", "seed", "nodes", "hours"],
    "05_incident_postmortem": [
        "mode", *RULES, "events_path", "since", "until", "namespace", "pod", "out_dir", "seed", "nodes", "hours",
        "capture_path",
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMETERS))
def test_parameter_names(name: str) -> None:
    params = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    assert list(params) == EXPECTED_PARAMETERS[name]
    assert params["mode"]["default"] == '"simulate"'


# --- 01 ---------------------------------------------------------------------------------------


def test_install_runs_in_simulate_mode(install) -> None:
    assert install["mode"] == "simulate"


def test_install_preflight_passes_on_the_simulated_cluster(install) -> None:
    assert install["preflight"] == {
        "checks": 6,
        "failed": 0,
    }  # 2 nodes: context, version, 2 nodes, helm, rules


def test_install_shows_the_values_blocks(install) -> None:
    assert {"driver", "collectors", "falco", "falcosidekick", "customRules"} <= set(install["values_blocks"])


def test_install_ends_ready(install) -> None:
    assert install["ready"] is True


# --- 02 ---------------------------------------------------------------------------------------


def test_rules_deliberate_mistake_is_reported_at_its_line(rules_upstream) -> None:
    mistake = rules_upstream["mistake"]
    assert mistake["file"] == "my_rules.yaml"
    assert mistake["line"] == 9  # the rule's condition line, which holds the typo
    assert mistake["column"] in (14, 44)  # the start of the condition (Falco's own choice) or the typo itself
    assert mistake["code"] == "LOAD_ERR_COMPILE_CONDITION"
    assert "container.idd" in mistake["message"]


def test_rules_say_the_upstream_rulesets_were_used(rules_upstream) -> None:
    assert (
        rules_upstream["rules_source"]
        == "upstream stable + incubating + sandbox rulesets and the project's rules"
    )
    assert rules_upstream["rules_loaded"] > 4


def test_rules_with_own_rules_alone_say_so_and_still_find_the_mistake(rules_own) -> None:
    assert rules_own["rules_source"].startswith("the project's own rules alone")
    assert rules_own["rules_loaded"] == len(load_rules(PROJECT_RULES).rules)
    assert (rules_own["mistake"]["line"], rules_own["mistake"]["code"]) == (9, "LOAD_ERR_COMPILE_CONDITION")


def test_rules_what_if_adds_and_removes_alerts(rules_upstream) -> None:
    whatif = rules_upstream["whatif"]
    assert whatif["events"] > 0
    assert whatif["removed"] > 0 and whatif["added"] > 0
    assert whatif["after"] == whatif["before"] + whatif["added"] - whatif["removed"]


def test_rules_what_if_shows_the_probe_noise_the_project_exception_removes_with_own_rules(rules_own) -> None:
    assert rules_own["whatif"]["removed"] > 0


def test_rules_disabling_the_noisiest_rule_removes_its_alerts(rules_upstream) -> None:
    disabled = rules_upstream["disabled"]
    assert disabled["rule"] and disabled["removed"] > 0


# --- 03 ---------------------------------------------------------------------------------------


def test_all_three_tests_detected_with_upstream_rules(tests_upstream) -> None:
    tests = tests_upstream["tests"]
    assert sorted(tests) == ["host-etc-mount", "runtime-socket-mount", "shell-in-container"]
    assert all(t["detected"] for t in tests.values())
    assert tests_upstream["test_alerts"] > 0


def test_upstream_rules_fire_for_the_tests(tests_upstream) -> None:
    tests = tests_upstream["tests"]
    assert "Terminal shell in container" in tests["shell-in-container"]["rules"]
    assert "Launch Sensitive Mount Container" in tests["host-etc-mount"]["rules"]


def test_all_three_tests_detected_with_own_rules_alone(tests_own) -> None:
    tests = tests_own["tests"]
    assert all(t["detected"] for t in tests.values())
    rules = {rule for t in tests.values() for rule in t["rules"]}
    assert rules and all(rule.startswith("Falco Lab ") for rule in rules)


def test_cleanup_removes_the_test_namespace(tests_upstream) -> None:
    assert tests_upstream["cleanup"] == ["namespace/falco-lab"]


# --- 04 ---------------------------------------------------------------------------------------


def test_analysis_shows_an_event_detail_card_for_each_test(analysis) -> None:
    cards = analysis["event_details"]
    assert len(cards) == 3 and all(card["found"] for card in cards.values())
    assert "/etc" in (cards["3. host /etc mounted"]["mounts"] or "")


def test_unexpected_alerts_include_the_sandbox_mount_rule_on_every_pod(tests_upstream) -> None:
    assert "Launch Sensitive Mount Container" in tests_upstream["unexpected"]


def test_analysis_loads_events(analysis) -> None:
    assert analysis["events_loaded"] > 0


def test_rules_replay_of_the_attacker_session_fires_the_typed_command_rule(rules_upstream) -> None:
    assert rules_upstream["replay"] == {
        "capture": "falco__psp_run_as_user_0_container.scap",
        "available": True,
        "fired": ["Lab Command Typed In Container"],
    }


def test_rules_without_the_capture_say_so_and_run_to_the_end(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FALCO_LAB_CAPTURES_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))  # the kernel inherits it
    records = _execute("02_rules_and_macros", tmp_path / "nb", use_upstream_rules=False, **SMALL)
    assert records["replay"]["available"] is False and records["replay"]["fired"] == []
    assert records["disabled"]["rule"]  # the cells after the replay ran


# --- 05 ---------------------------------------------------------------------------------------


def test_postmortem_shows_what_the_alerting_process_did_in_a_capture(tmp_path) -> None:
    from falco_lab.capture import load_capture
    from falco_lab.rules import RulesFile

    scap = shared_file("captures/falco__psp_run_as_user_0_container.scap")
    events = load_capture(scap)
    rule = """\
- rule: Shell forks in a container
  desc: bash in a container starts a process
  condition: evt.type = clone and proc.name = bash and container.id != host and evt.rawres > 0
  output: bash forked (vpid=%proc.vpid cmdline=%proc.cmdline)
  priority: WARNING
"""
    alerts = load_rules(RulesFile("r.yaml", rule)).alerts(events, hostname="ubuntu")
    alerts_path = tmp_path / "alerts.jsonl"
    alerts_path.write_text("".join(json.dumps(a) + "\n" for a in alerts), encoding="utf-8")
    records = _execute(
        "05_incident_postmortem", tmp_path / "nb", events_path=str(alerts_path), capture_path=str(scap),
        out_dir=str(tmp_path),
    )  # fmt: skip
    assert records["capture_processes"] == 1
    assert '<td class="text">32052 ls</td>' in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_postmortem_writes_the_report(postmortem, postmortem_dir) -> None:
    assert Path(postmortem["report_path"]) == (postmortem_dir / "report.html").resolve()
    assert (postmortem_dir / "report.html").stat().st_size > 10_000


def test_postmortem_window_keeps_the_namespace_filter(postmortem) -> None:
    assert 0 < postmortem["incident_alerts"] < postmortem["alerts_total"]
    assert postmortem["story_pod"].startswith("shop/")


def test_postmortem_lists_no_blind_spot_where_falco_reported_none(postmortem) -> None:
    assert postmortem["blind_spots"] == 0


def test_postmortem_leads_with_the_attacked_pod_with_upstream_rules(postmortem) -> None:
    assert postmortem["chains"][0].startswith("shop/api-")


def test_postmortem_leads_with_the_attacked_pod_with_the_project_rules_alone(postmortem_own) -> None:
    assert postmortem_own["chains"][0].startswith("shop/api-")


def test_postmortem_case_work_marks_a_false_positive_shown_in_the_report(postmortem, postmortem_dir) -> None:
    assert (postmortem["triage_marks"], postmortem["false_positives"]) == (2, 1)
    assert (postmortem_dir / "case.triage.json").is_file()
    report = (postmortem_dir / "report.html").read_text(encoding="utf-8")
    assert "1 confirmed, 1 false positive" in report and '<span class="mark"' in report


def test_postmortem_finds_the_injected_chain(postmortem) -> None:
    assert any("Critical" in finding for finding in postmortem["findings"])
    assert postmortem["lineage_processes"] > 0


def test_cluster_mode_without_a_kubeconfig_stops_at_connect_with_the_fix(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    output = tmp_path / "01.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        papermill.execute_notebook(
            str(NOTEBOOKS / "01_install_falco.ipynb"), str(output), parameters={"mode": "cluster"},
            kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False, execution_timeout=120,
        )  # fmt: skip
    assert failure.value.ename == "ClusterError"
    assert len(failure.value.traceback) == 1  # one clear message, no traceback
    assert "aws eks update-kubeconfig" in failure.value.evalue
    assert "SIMULATE MODE" not in output.read_text()
