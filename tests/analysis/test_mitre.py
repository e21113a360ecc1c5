"""ATT&CK mapping of rule tags, matrix and coverage."""

from __future__ import annotations

from types import SimpleNamespace

import yaml

from falco_lab.analysis.mitre import (
    NO_TECHNIQUE,
    coverage,
    coverage_figure,
    matrix_figure,
    mitre_matrix,
    mitre_summary,
    parse_tags,
    tactics,
    technique,
)
from falco_lab.events.schema import empty_frame
from tests.analysis.frames import alerts
from tests.conftest import shared_file

UPSTREAM = (
    "upstream/falco_rules.yaml",
    "upstream/falco-incubating_rules.yaml",
    "upstream/falco-sandbox_rules.yaml",
)


def _upstream_rules() -> list[SimpleNamespace]:
    rules = []
    for rel in UPSTREAM:
        for item in yaml.safe_load(shared_file(rel).read_text(encoding="utf-8")):
            if isinstance(item, dict) and "rule" in item:
                rules.append(
                    SimpleNamespace(
                        name=item["rule"], tags=set(item.get("tags", [])), enabled=item.get("enabled", True)
                    )
                )
    return rules


def test_parse_tags_reads_tactic_and_technique():
    parsed = parse_tags(["maturity_stable", "container", "shell", "mitre_execution", "T1059"])
    assert parsed.tactics == ("execution",)
    assert parsed.techniques == ("T1059",)
    assert parsed.unknown == ()


def test_parse_tags_reads_tactic_ids_and_subtechniques():
    parsed = parse_tags(["TA0004", "t1548.001"])
    assert parsed.tactics == ("privilege_escalation",)
    assert parsed.techniques == ("T1548.001",)


def test_parse_tags_reports_unknown_attack_looking_tags():
    assert parse_tags(["mitre_teleportation", "T9999"]).unknown == ("mitre_teleportation", "T9999")


def test_tactics_are_in_matrix_order():
    assert [t.id for t in tactics()][:4] == ["TA0043", "TA0042", "TA0001", "TA0002"]
    assert tactics()[-1].name == "Impact"


def test_subtechnique_full_name_includes_parent():
    assert technique("T1059.004").full_name == "Command and Scripting Interpreter: Unix Shell"


def test_every_upstream_mitre_tag_maps_to_a_known_tactic_or_technique():
    rules = _upstream_rules()
    assert len(rules) == 93
    unknown = {tag for rule in rules for tag in parse_tags(rule.tags).unknown}
    assert unknown == set()


def test_upstream_tags_give_expected_mapping_for_terminal_shell():
    rule = next(r for r in _upstream_rules() if r.name == "Terminal shell in container")
    assert parse_tags(rule.tags).pairs() == [("execution", "T1059")]


def test_upstream_tactic_id_tags_are_mapped():
    mapped = {t for r in _upstream_rules() for t in parse_tags(r.tags).tactics}
    # TA0010 (Exfiltration) and TA0043 (Reconnaissance) appear in upstream only as ids or mitre_ tags
    assert {"exfiltration", "reconnaissance", "command_and_control"} <= mapped


def test_coverage_of_upstream_rules_lists_their_techniques():
    rules = _upstream_rules()
    cov = coverage(rules)
    tagged = {t for r in rules if r.enabled for t in parse_tags(r.tags).techniques}
    assert set(cov["technique"]) == tagged
    assert (cov["status"] == "detectable").all()
    t1611 = cov.set_index("technique").loc["T1611"]
    assert t1611["n_rules"] >= 2 and "Escape to Host" == t1611["name"]


def test_coverage_marks_seen_and_unruled_techniques():
    rules = [
        SimpleNamespace(name="Shell", tags={"mitre_execution", "T1059"}),
        SimpleNamespace(name="Disc", tags={"mitre_discovery", "T1613"}),
    ]
    df = alerts(
        {"rule": "Shell", "tags": ["mitre_execution", "T1059"]},
        {"rule": "Other", "tags": ["mitre_privilege_escalation", "T1611"]},
    )
    status = coverage(rules, df).set_index("technique")["status"].to_dict()
    assert status == {"T1059": "seen", "T1613": "detectable", "T1611": "seen, no loaded rule"}


def test_coverage_skips_disabled_rules():
    rules = [SimpleNamespace(name="Off", tags={"T1059"}, enabled=False)]
    assert coverage(rules).empty


def test_matrix_counts_alerts_per_technique_and_tactic():
    df = alerts(
        {"rule": "A", "tags": ["mitre_execution", "T1059"]},
        {"rule": "A", "tags": ["mitre_execution", "T1059"]},
        {"rule": "B", "tags": ["mitre_persistence"]},
        {"rule": "C", "tags": ["container"]},
    )
    matrix = mitre_matrix(df)
    assert list(matrix.columns) == ["Execution", "Persistence"]
    assert matrix.loc["T1059 Command and Scripting Interpreter", "Execution"] == 2
    assert matrix.loc[NO_TECHNIQUE, "Persistence"] == 1


def test_technique_goes_under_its_own_tactic_when_rule_names_several():
    pairs = parse_tags(["mitre_persistence", "mitre_privilege_escalation", "T1611"]).pairs()
    assert pairs == [("privilege_escalation", "T1611"), ("persistence", NO_TECHNIQUE)]


def test_summary_keeps_rules_and_times():
    df = alerts(
        {"rule": "A", "tags": ["mitre_execution", "T1059"], "t": 5},
        {"rule": "B", "tags": ["mitre_execution", "T1059"], "t": 9},
    )
    row = mitre_summary(df).iloc[0]
    assert (row["tactic_id"], row["alerts"], row["rules"]) == ("TA0002", 2, "A, B")
    assert (row["last_seen"] - row["first_seen"]).total_seconds() == 4


def test_tags_stored_as_comma_string_are_read():
    df = alerts({"tags": "mitre_execution,T1059"})
    assert mitre_summary(df)["technique"].tolist() == ["T1059"]


def test_empty_input_gives_empty_views():
    assert mitre_summary(empty_frame()).empty
    assert mitre_matrix(empty_frame()).empty
    assert "No ATT&CK tags" in matrix_figure(empty_frame()).layout.annotations[0].text
    assert "No ATT&CK technique" in coverage_figure(coverage([])).layout.annotations[0].text


def test_coverage_of_a_loaded_ruleset_matches_its_yaml_tags():
    from falco_lab.rules import load_rules

    path = shared_file("upstream/falco_rules.yaml")
    ruleset = load_rules(path)
    assert ruleset.ok
    expected = {
        t
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))
        if "rule" in item and item.get("enabled", True)
        for t in parse_tags(item.get("tags", [])).techniques
    }
    assert set(coverage(ruleset)["technique"]) == expected
