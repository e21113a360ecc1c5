"""values.yaml and values-k8saudit-eks.yaml: chart-9.x keys only, the settings the workshop needs."""

from __future__ import annotations

import pytest

from falco_lab.cluster.chart_keys import check_values, iter_keys
from falco_lab.cluster.values import (
    check_project_values,
    drift,
    load_values,
    main,
    read_custom_rules,
    render_values,
)
from falco_lab.workshop import chart

VALUES = load_values(chart.VALUES_FILE)
AUDIT = load_values(chart.AUDIT_VALUES_FILE)
RULES_TEXT = chart.RULES_FILE.read_text(encoding="utf-8")
TUNING_TEXT = chart.UPSTREAM_TUNING_RULES_FILE.read_text(encoding="utf-8")
CUSTOM_RULES = read_custom_rules()


@pytest.mark.parametrize("key", sorted(iter_keys(VALUES)))
def test_every_values_key_is_a_chart_9_key(key):
    problems = [p for p in check_values(VALUES) if p.key == key]
    assert problems == []


@pytest.mark.parametrize("key", sorted(iter_keys(AUDIT)))
def test_every_audit_values_key_is_a_chart_9_key(key):
    problems = [p for p in check_values(AUDIT) if p.key == key]
    assert problems == []


def test_unknown_key_fails():
    (problem,) = check_values({"falco": {"json_outptu": True}})
    assert (
        problem.key == "falco.json_outptu"
        and "not a key of chart falco 9.1.0 or its sub-charts" in problem.message
    )


def test_original_workshop_keys_are_explained():
    problems = {
        p.key: p.message for p in check_values({"ebpf": {"enabled": True}, "auditLog": {"enabled": True}})
    }
    assert "driver.kind: modern_ebpf" in problems["ebpf"]
    assert "k8saudit-eks" in problems["auditLog"]


def test_keys_removed_in_chart_9_fail():
    problems = check_values({"driver": {"kind": "ebpf", "ebpf": {"path": "x"}}})
    assert [p.key for p in problems] == ["driver.ebpf", "driver.kind"]


def test_unknown_subtree_is_reported_once():
    assert [p.key for p in check_values({"auditLog": {"enabled": True, "dynamicBackend": {"x": 1}}})] == [
        "auditLog"
    ]


def test_driver_is_modern_ebpf():
    assert VALUES["driver"] == {
        "enabled": True,
        "kind": "modern_ebpf",
        "modernEbpf": {"leastPrivileged": False},
    }


def test_container_plugin_watches_containerd_and_not_docker():
    engines = VALUES["collectors"]["containerEngine"]["engines"]
    assert engines["cri"] == {"enabled": True, "sockets": ["/run/containerd/containerd.sock"]}
    assert engines["docker"]["enabled"] is False and engines["podman"]["enabled"] is False


def test_rules_artifacts_are_pinned_and_listed_in_load_order():
    refs = VALUES["falcoctl"]["config"]["artifact"]["install"]["refs"]
    assert tuple(refs) == chart.RULES_REFS
    assert all(ref.count(".") == 2 for ref in refs)  # exact tags, not floating majors
    assert VALUES["falcoctl"]["artifact"]["follow"]["enabled"] is False
    assert tuple(VALUES["falco"]["rules_files"]) == chart.RULES_FILES


def test_custom_rules_directory_is_read_after_the_three_upstream_rulesets():
    # customRules are mounted at /etc/falco/rules.d; the tuning file needs upstream lists loaded first
    files = VALUES["falco"]["rules_files"]
    upstream = [
        f"/etc/falco/{name}"
        for name in ("falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml")
    ]
    assert files[-1] == "/etc/falco/rules.d"
    assert all(files.index(path) < files.index("/etc/falco/rules.d") for path in upstream)


def test_every_rule_matches_and_output_is_json():
    assert VALUES["falco"]["rule_matching"] == "all"
    assert VALUES["falco"]["json_output"] is True


def test_ui_credentials_come_from_a_secret_not_admin_admin():
    webui = VALUES["falcosidekick"]["webui"]
    assert webui["existingSecret"] == chart.UI_SECRET
    assert "user" not in webui
    assert "admin:admin" not in chart.VALUES_FILE.read_text()


def test_services_are_cluster_internal_and_redis_has_no_volume_claim():
    sidekick = VALUES["falcosidekick"]
    assert sidekick["service"]["type"] == "ClusterIP"
    assert sidekick["webui"]["service"]["type"] == "ClusterIP"
    assert sidekick["webui"]["redis"]["storageEnabled"] is False


def test_audit_release_is_a_single_plugin_only_replica_feeding_the_main_sidekick():
    assert AUDIT["driver"]["enabled"] is False and AUDIT["collectors"]["enabled"] is False
    assert AUDIT["controller"] == {"kind": "deployment", "deployment": {"replicas": 1}}
    assert AUDIT["falco"]["load_plugins"] == ["k8saudit-eks", "json"]
    assert AUDIT["falco"]["http_output"]["url"].startswith(
        f"http://{chart.SIDEKICK_DEPLOYMENT}.{chart.FALCO_NAMESPACE}."
    )


def test_custom_rules_are_the_project_rules_file_verbatim():
    assert drift(VALUES, CUSTOM_RULES) == []
    assert VALUES["customRules"][chart.CUSTOM_RULES_FILE] == RULES_TEXT


def test_custom_rules_carry_the_upstream_tuning_file_verbatim():
    assert list(CUSTOM_RULES) == [chart.CUSTOM_RULES_FILE, chart.UPSTREAM_TUNING_FILE]
    assert VALUES["customRules"] == {
        chart.CUSTOM_RULES_FILE: RULES_TEXT,
        chart.UPSTREAM_TUNING_FILE: TUNING_TEXT,
    }


def test_project_values_check_passes():
    assert check_project_values() == []


def test_drift_is_detected():
    problems = drift(
        VALUES, {**CUSTOM_RULES, chart.CUSTOM_RULES_FILE: RULES_TEXT.replace("WARNING", "NOTICE", 1)}
    )
    assert len(problems) == 1 and "--write" in problems[0]


def test_drift_of_the_tuning_file_is_detected():
    problems = drift(VALUES, {**CUSTOM_RULES, chart.UPSTREAM_TUNING_FILE: TUNING_TEXT + "# changed\n"})
    assert len(problems) == 1 and chart.UPSTREAM_TUNING_FILE in problems[0] and "--write" in problems[0]


def test_a_missing_tuning_file_in_values_is_detected():
    values = {**VALUES, "customRules": {chart.CUSTOM_RULES_FILE: RULES_TEXT}}
    (problem,) = drift(values, CUSTOM_RULES)
    assert "customRules keys" in problem and chart.UPSTREAM_TUNING_FILE in problem


def test_files_that_would_load_out_of_order_are_a_problem():
    swapped = {"zz_first.yaml": RULES_TEXT, "aa_second.yaml": TUNING_TEXT}
    values = {"customRules": dict(swapped)}
    (problem,) = drift(values, swapped)
    assert "name order" in problem


def test_render_is_idempotent_and_keeps_the_rest():
    text = chart.VALUES_FILE.read_text()
    assert render_values(text, CUSTOM_RULES) == text


def test_render_replaces_only_custom_rules(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(
        "tty: true\ncustomRules:\n  old.yaml: |\n    - list: x\n      items: []\n# next\nfalco:\n  priority: debug\n"
    )
    rules = tmp_path / "falco-lab_rules.yaml"
    rules.write_text("- list: a\n  items: [b]\n\n- macro: m\n  condition: (a)\n")
    assert main(["--write", "--values", str(values), "--rules", str(rules)]) == 0
    data = load_values(values)
    assert data["customRules"] == {chart.CUSTOM_RULES_FILE: rules.read_text()}
    assert data["tty"] is True and data["falco"] == {"priority": "debug"}
    assert "# next" in values.read_text()


def test_write_embeds_every_given_rules_file_in_order(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("tty: true\n")
    first, second = tmp_path / "a_rules.yaml", tmp_path / "b_tuning.yaml"
    first.write_text("- list: a\n  items: [b]\n")
    second.write_text("- list: a\n  items: [c]\n  override:\n    items: append\n")
    assert main(["--write", "--values", str(values), "--rules", str(first), "--rules", str(second)]) == 0
    assert list(load_values(values)["customRules"].items()) == [
        ("a_rules.yaml", first.read_text()),
        ("b_tuning.yaml", second.read_text()),
    ]
    assert main(["--check", "--values", str(values), "--rules", str(first), "--rules", str(second)]) == 0


def test_check_command_fails_on_drift(tmp_path, capsys):
    values = tmp_path / "values.yaml"
    values.write_text(
        render_values(
            chart.VALUES_FILE.read_text(),
            {**CUSTOM_RULES, chart.CUSTOM_RULES_FILE: RULES_TEXT + "# changed\n"},
        )
    )
    assert main(["--check", "--values", str(values)]) == 1
    assert "differs" in capsys.readouterr().err


def test_bad_yaml_names_file_and_line(tmp_path):
    bad = tmp_path / "v.yaml"
    bad.write_text("a: 1\nb: [unclosed\n")
    from falco_lab.workshop.interface import ClusterError

    with pytest.raises(ClusterError, match=r"v\.yaml:3:1: not valid YAML"):
        load_values(bad)
