"""The project's rules files: structure, self-containment, fields Falco really has, post-mortem
outputs, MITRE tags; and the upstream tuning file, which only extends lists."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from falco_lab.workshop import chart, steps
from tests.conftest import shared_file

ITEMS = yaml.safe_load(chart.RULES_FILE.read_text(encoding="utf-8"))
RULES = {i["rule"]: i for i in ITEMS if "rule" in i}
MACROS = {i["macro"]: i for i in ITEMS if "macro" in i}
LISTS = {i["list"]: i for i in ITEMS if "list" in i}
TUNING = yaml.safe_load(chart.UPSTREAM_TUNING_RULES_FILE.read_text(encoding="utf-8"))
TUNING_LISTS = {i["list"]: i for i in TUNING if "list" in i}
FIELD_TOKEN = re.compile(r"\b((?:evt|proc|container|k8s|user|fd)\.[\w.]+)(?:\[([^\]]+)\])?")
CONDITION_TOKEN = re.compile(r"[^\s(),=<>!]+")
UPSTREAM = (
    "upstream/falco_rules.yaml",
    "upstream/falco-incubating_rules.yaml",
    "upstream/falco-sandbox_rules.yaml",
)


def _upstream_items() -> list[dict]:
    return [i for rel in UPSTREAM for i in yaml.safe_load(shared_file(rel).read_text(encoding="utf-8"))]


def _text_of_all_items() -> str:
    return "\n".join(str(i.get("condition", "")) + "\n" + str(i.get("output", "")) for i in ITEMS)


def test_the_four_workshop_rules_exist_with_the_names_the_tests_expect():
    # the file also holds the post-exploitation chain's rules (tests/analysis/test_project_rules.py)
    assert set(RULES) >= {
        steps.RULE_SHELL_TTY,
        steps.RULE_SHELL_NO_TTY,
        steps.RULE_RUNTIME_SOCKET,
        steps.RULE_SENSITIVE_HOST_PATH,
    }


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_has_desc_output_fields_for_a_post_mortem_and_mitre_tags(name):
    rule = RULES[name]
    assert len(rule["desc"].split()) >= 10
    for field in (
        "%k8s.pod.name",
        "%k8s.ns.name",
        "%container.image.repository",
        "%proc.cmdline",
        "%proc.pname",
    ):
        assert field in rule["output"]
    assert "%proc.aname[2]" in rule["output"]
    assert any(t.startswith("mitre_") for t in rule["tags"])
    assert any(re.fullmatch(r"T\d{4}", t) for t in rule["tags"])
    assert "falco_lab" in rule["tags"]


@pytest.mark.parametrize("name", [steps.RULE_RUNTIME_SOCKET, steps.RULE_SENSITIVE_HOST_PATH])
def test_mount_rules_show_the_mounts_and_run_on_container_start(name):
    assert "%container.mounts" in RULES[name]["output"]
    assert "falco_lab_container_started" in RULES[name]["condition"]
    assert "proc.vpid = 1" in MACROS["falco_lab_container_started"]["condition"]


def test_tty_and_no_tty_shell_rules_are_separate():
    assert "proc.tty != 0" in RULES[steps.RULE_SHELL_TTY]["condition"]
    assert "proc.tty = 0" in RULES[steps.RULE_SHELL_NO_TTY]["condition"]


def test_mount_checks_are_keyed_on_the_host_path_of_both_runtime_sockets():
    condition = MACROS["falco_lab_runtime_socket_mount"]["condition"]
    for path in ("/var/run/docker.sock", "/run/containerd/containerd.sock"):
        assert f"container.mount.dest[{path}] exists" in condition


@pytest.mark.parametrize("path", ["/", "/etc", "/root", "/var/lib/kubelet"])
def test_sensitive_directories_are_covered(path):
    assert f"container.mount.dest[{path}] exists" in MACROS["falco_lab_sensitive_host_dir_mount"]["condition"]


def test_uses_an_exception_and_an_override_append_to_an_upstream_list():
    assert any(RULES[r].get("exceptions") for r in RULES)
    appended = [name for name, item in TUNING_LISTS.items() if item.get("override") == {"items": "append"}]
    upstream_lists = {i["list"] for i in _upstream_items() if "list" in i}
    assert set(appended) & upstream_lists
    # every other append extends a list of the project's own rules file
    assert set(appended) <= upstream_lists | set(LISTS)


def test_the_project_rules_file_is_self_contained():
    # a list or macro name of upstream's would silently become a literal string without upstream
    upstream_names = {
        i.get("list") or i.get("macro") for i in _upstream_items() if "list" in i or "macro" in i
    }
    conditions = "\n".join(str(i.get("condition", "")) for i in ITEMS)
    tokens = set(CONDITION_TOKEN.findall(conditions))
    assert tokens & upstream_names == set()
    assert [i for i in ITEMS if "override" in i or "append" in i] == []
    ours = {t for t in tokens if t.startswith("falco_lab_")}
    assert ours and ours <= set(LISTS) | set(MACROS)


def test_the_tuning_file_only_extends_lists_and_defines_no_rule():
    items = [i for i in TUNING if "required_engine_version" not in i]
    assert items and all(set(i) == {"list", "items", "override"} for i in items)
    assert all(i["override"] == {"items": "append"} for i in items)


def test_the_tuning_file_loads_after_the_project_rules_file_in_rules_d_name_order():
    assert chart.CUSTOM_RULES_FILES == (chart.CUSTOM_RULES_FILE, chart.UPSTREAM_TUNING_FILE)
    assert sorted(chart.CUSTOM_RULES_FILES) == list(chart.CUSTOM_RULES_FILES)
    assert [p.name for p in chart.CUSTOM_RULES_PATHS] == list(chart.CUSTOM_RULES_FILES)
    assert all(p.is_file() for p in chart.CUSTOM_RULES_PATHS)


def test_every_field_is_a_real_falco_field():
    known = {f["name"]: f for f in json.loads(shared_file("upstream/fields.json").read_text())}
    used = FIELD_TOKEN.findall(_text_of_all_items())
    for exc in (e for r in RULES.values() for e in r.get("exceptions", [])):
        used += [(f, "") for f in exc["fields"]]
    assert used
    for name, arg in used:
        assert name in known, name
        if arg:
            assert known[name]["arg"] in ("required", "optional"), name


def test_event_types_are_real():
    names = json.loads(shared_file("upstream/evttypes.json").read_text())
    known = set(names["event_names"]) | set(names["ppm_sc_names"])
    used = set(re.findall(r"evt\.type in \(([^)]*)\)", _text_of_all_items())[0].replace(" ", "").split(","))
    assert used == {"execve", "execveat"} and used <= known
