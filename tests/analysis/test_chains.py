"""Attack chains, routine noise and the ranking that puts the attacked pod first."""

from __future__ import annotations

import pytest

from falco_lab.analysis.chains import UNMAPPED, attack_chains, routine_mask
from falco_lab.analysis.findings import find_findings
from falco_lab.analysis.report import build_report
from tests.analysis.frames import alerts
from tests.analysis.incidents import MODES, SEEDS, incident

API = {"k8s.ns.name": "shop", "k8s.pod.name": "api-817813a48-2hwtp", "proc.name": "bash"}
PROBE = {"k8s.ns.name": "payments", "proc.cmdline": "sh -c pg_isready", "rule": "Shell", "priority": "Error"}


def test_a_probe_recurring_over_the_data_is_routine():
    df = alerts(*[{**PROBE, "k8s.pod.name": "postgres-0", "t": 60 * i} for i in range(12)])
    assert routine_mask(df).all()


def test_a_rule_recurring_in_three_pods_of_one_workload_is_routine():
    pods = ["ci-build-29923721-wtjmq", "ci-build-29923808-hsqj9", "ci-build-29923762-7sc69"]
    df = alerts(*[{"k8s.ns.name": "ci", "k8s.pod.name": p, "rule": "Package manager"} for p in pods])
    assert routine_mask(df).all()


def test_a_burst_in_one_pod_is_not_routine():
    df = alerts(*[{**API, "rule": "Shell", "t": i} for i in range(12)], {**API, "rule": "Other", "t": 3600})
    assert not routine_mask(df).any()


def test_critical_alerts_are_never_routine():
    df = alerts(
        *[{**PROBE, "k8s.pod.name": "postgres-0", "priority": "Critical", "t": 60 * i} for i in range(12)]
    )
    assert not routine_mask(df).any()


def test_patient_zero_is_the_first_suspicious_alert_and_its_process():
    df = alerts(
        {**PROBE, "k8s.pod.name": "postgres-0", "t": 0},
        *[{**PROBE, "k8s.pod.name": "postgres-0", "t": 60 * i} for i in range(1, 12)],
        {
            **API,
            "rule": "Terminal shell",
            "proc.cmdline": "bash",
            "proc.pid": 7668,
            "t": 100,
            "tags": ["mitre_execution"],
        },
        {
            **API,
            "rule": "Shadow read",
            "proc.cmdline": "cat /etc/shadow",
            "t": 200,
            "tags": ["mitre_credential_access"],
        },
    )
    (chain,) = attack_chains(df)
    assert chain.where == "shop/api-817813a48-2hwtp" and chain.workload == "shop/api"
    assert chain.patient_zero["rule"] == "Terminal shell" and chain.patient_zero["cmdline"] == "bash"
    assert chain.tactics == ("Execution", "Credential Access")


def test_steps_follow_first_appearance_and_untagged_rules_get_their_own_step():
    df = alerts(
        {**API, "rule": "A", "tags": ["mitre_discovery"], "t": 0},
        {**API, "rule": "B", "tags": [], "t": 1},
        {**API, "rule": "C", "tags": ["mitre_execution"], "t": 2},
    )
    (chain,) = attack_chains(df)
    assert [s.tactic for s in chain.steps] == ["Discovery", UNMAPPED, "Execution"]


def test_a_multi_tactic_rule_counts_under_its_latest_tactic():
    df = alerts({**API, "rule": "Reverse shell", "tags": ["mitre_execution", "mitre_command_and_control"]})
    assert attack_chains(df)[0].tactics == ("Command and Control",)


def test_more_tactics_and_rarer_rules_score_higher():
    spread = ["mitre_execution", "mitre_discovery", "mitre_credential_access", "mitre_persistence"]
    df = alerts(
        *[{**API, "rule": f"R{i}", "tags": [t], "t": i} for i, t in enumerate(spread)],
        {"k8s.ns.name": "shop", "k8s.pod.name": "web-1", "rule": "R0", "tags": ["mitre_execution"], "t": 9},
    )
    chains = attack_chains(df)
    assert [c.where for c in chains] == ["shop/api-817813a48-2hwtp", "shop/web-1"]
    assert chains[0].parts["progression"] > chains[1].parts["progression"]


def test_routine_noise_is_summarised_and_never_the_first_finding():
    df = alerts(
        *[{**PROBE, "k8s.pod.name": "postgres-0", "priority": "Error", "t": 60 * i} for i in range(30)],
        {**API, "rule": "Terminal shell", "priority": "Notice", "tags": ["mitre_execution"], "t": 90},
    )
    findings = find_findings(df)
    assert "shop/api-817813a48-2hwtp" in findings[0].title
    noise = next(f for f in findings if "routine" in f.title)
    assert noise.title.startswith("30 routine alerts") and noise.evidence == (
        "Shell in payments/postgres (30)",
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_on_the_simulated_incident_the_first_finding_names_the_attacked_pod(seed, mode):
    df, info = incident(seed, mode)
    first = find_findings(df)[0]
    assert f"{info['namespace']}/{info['pod']}" in first.title
    assert first.title.startswith("Attack chain in ")


@pytest.mark.parametrize("mode", MODES)
def test_the_report_opens_with_the_attacked_pods_chain(mode):
    df, info = incident(0, mode)
    html = build_report(df, simulated=True)
    chains = html.index('<section id="chains">')
    assert chains < html.index('<section id="summary">')
    first_chain = html[chains : html.index("</h3>", chains)]
    assert f"1. {info['namespace']}/{info['pod']}" in first_chain
    assert "Patient zero" in html[chains : html.index('<section id="summary">')]


def test_top_chains_are_the_first_of_all_chains_and_total_counts_them_all():
    rows = [
        {
            "k8s.ns.name": "shop",
            "k8s.pod.name": f"pod-{i % 7}",
            "priority": ["Critical", "Warning", "Notice"][i % 3],
            "rule": f"rule {i % 5}",
            "proc.cmdline": f"cmd {i % 4}",
            "tags": [["mitre_execution"], ["mitre_discovery"], []][i % 3],
            "t": (i * 37) % 100,
        }
        for i in range(40)
    ]
    df = alerts(*rows)
    every = attack_chains(df)
    top = attack_chains(df, top=3)
    assert [c.where for c in top] == [c.where for c in every[:3]]
    assert top.total == every.total == len(every) == 7
    assert [c.score for c in every] == sorted((c.score for c in every), reverse=True)
