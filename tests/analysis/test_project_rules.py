"""The project's own rules detect every step of the simulated incident chain, with ATT&CK tags ATT&CK agrees with."""

from __future__ import annotations

import pytest
import yaml

from falco_lab.analysis.mitre import parse_tags, technique
from falco_lab.simulate.detect import PROJECT_RULES
from tests.analysis.incidents import SEEDS, incident

RULES = {i["rule"]: i for i in yaml.safe_load(PROJECT_RULES.read_text(encoding="utf-8")) if "rule" in i}

#: Each step the attacker types (falco_lab.simulate.incidents.post_exploitation) and the rule that sees it.
CHAIN = {
    "kubectl exec -it ... -- bash": "Falco Lab Terminal Shell In Container",
    "id / uname -a": "Falco Lab Discovery Command In Interactive Session",
    "curl ... -o /tmp/kworkerd (download a tool)": "Falco Lab Tool Downloaded Into Container",
    "cat /etc/shadow": "Falco Lab Password File Read In Container",
    "echo ... >> /etc/crontab (write below /etc)": "Falco Lab Cron Entry Written In Container",
    "cat .../serviceaccount/token": "Falco Lab Service Account Token Read From Shell",
    "curl https://kubernetes.default.svc/...": "Falco Lab API Server Contacted From Shell",
    "outbound connection to the attacker": "Falco Lab Outbound Connection From Shell",
    "/tmp/kworkerd runs (not in the image)": "Falco Lab Binary Not In Image Executed",
    "reverse shell: socket on stdin/stdout": "Falco Lab Network Socket On Standard Streams",
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("step", sorted(CHAIN))
def test_every_step_of_the_chain_is_detected_in_the_attacked_pod_by_the_project_rules_alone(seed, step):
    df, info = incident(seed, "project")
    hits = df[df["rule"] == CHAIN[step]]
    assert (hits["k8s.pod.name"] == info["pod"]).any(), f"{step}: no {CHAIN[step]!r} alert in {info['pod']}"


@pytest.mark.parametrize("seed", SEEDS)
def test_the_simulated_clusters_benign_probes_raise_no_project_alert(seed):
    # the postgres readiness probe ("sh -c pg_isready ...") is tuned by the exec_probes exception;
    # what remains outside the attacked pod are people's terminal sessions (an engineer debugging)
    df, info = incident(seed, "project")
    elsewhere = df[df["k8s.pod.name"] != info["pod"]]
    without_terminal = elsewhere[elsewhere["proc.tty"].astype("Int64").fillna(0) == 0]
    assert without_terminal.empty, without_terminal[["rule", "k8s.pod.name", "proc.cmdline"]].to_string()


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_technique_tag_is_listed_by_attack_under_one_of_the_rules_tactics(name):
    tags = parse_tags(RULES[name]["tags"])
    assert tags.tactics and tags.techniques and not tags.unknown
    for tech in tags.techniques:
        info = technique(tech) or technique(tech.split(".")[0])
        assert info is not None, tech
        assert set(info.tactics) & set(tags.tactics), f"{tech} is not under {tags.tactics} in ATT&CK"


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_tactic_tag_is_backed_by_a_technique_attack_lists_under_it(name):
    tags = parse_tags(RULES[name]["tags"])
    covered = {
        t for tech in tags.techniques for t in (technique(tech) or technique(tech.split(".")[0])).tactics
    }
    assert set(tags.tactics) <= covered


def test_mount_rules_are_escape_to_host_and_deploy_container_under_attacks_tactics():
    for name in ("Falco Lab Container Runtime Socket Mounted", "Falco Lab Sensitive Host Directory Mounted"):
        tags = parse_tags(RULES[name]["tags"])
        assert set(tags.techniques) == {"T1611", "T1610"}
        assert set(tags.tactics) == {"privilege_escalation", "execution"}
