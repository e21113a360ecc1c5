"""Noisiest rules/pods, near-identical alerts, what-if through the rules engine."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from falco_lab.analysis.noise import output_template, similar_alerts, top_n, what_if
from falco_lab.events.schema import empty_frame
from tests.analysis.frames import alerts


def test_top_n_ranks_by_alert_count():
    df = alerts({"rule": "A"}, {"rule": "B"}, {"rule": "B"}, {"rule": "C", "priority": "Critical"})
    table = top_n(df, "rule", n=2)
    assert table["rule"].tolist() == ["B", "C"]  # ties: the more severe rule first
    assert table.iloc[0]["alerts"] == 2 and table.iloc[0]["share"] == 0.5


def test_top_n_by_pod_groups_missing_as_none():
    df = alerts({"k8s.pod.name": "web"}, {"k8s.pod.name": "web"}, {})
    assert dict(zip(*top_n(df, "pod")[["pod", "alerts"]].T.to_numpy(), strict=True)) == {
        "web": 2,
        "(none)": 1,
    }


@pytest.mark.parametrize(
    ("raw", "template"),
    [
        ("13:44:05.478445995: Critical shell pid=4242", "Critical shell pid=<n>"),
        ("container=ee97d9c4186f image=alpine", "container=<hex> image=alpine"),
        ("conn 10.0.0.1:443->198.51.100.2:80", "conn <ip>-><ip>"),
        ("pod uid 3e41dc6b-08a8-44db-bc2a-3724b18ab19a", "pod uid <uuid>"),
        ("at 2026-11-27T10:00:00.5Z", "at <time>"),
        ("k8s.ns=team-03 arch=x86_64", "k8s.ns=team-<n> arch=x86_64"),
        ("--pid-file /tmp/runc-process476728158", "--pid-file /tmp/runc-process<n>"),
    ],
)
def test_output_template_normalises_ids(raw, template):
    assert output_template(pd.Series([raw])).iloc[0] == template


def test_similar_alerts_group_near_identical_outputs():
    df = alerts(
        *[
            {"rule": "Shell", "output": f"10:00:0{i}.1: shell pid={100 + i} container=ab{i}cdef0123"}
            for i in range(5)
        ],
        {"rule": "Shell", "output": "10:00:09.1: shell spawned by cron"},
    )
    groups = similar_alerts(df)
    assert groups.attrs["groups"] == 2
    assert groups.iloc[0]["alerts"] == 5
    assert groups.iloc[0]["template"] == "shell pid=<n> container=<hex>"


def test_empty_input():
    assert top_n(empty_frame()).empty
    assert similar_alerts(empty_frame()).attrs["groups"] == 0


def test_what_if_needs_exactly_one_change():
    with pytest.raises(ValueError, match="exactly one"):
        what_if(alerts({}), exception="a", condition="b")


def _shells():
    return alerts(
        {"rule": "Shell", "proc.cmdline": "npm run build", "proc.name": "sh", "k8s.ns.name": "ci"},
        {"rule": "Shell", "proc.cmdline": "npm test", "proc.name": "sh", "k8s.ns.name": "ci"},
        {"rule": "Shell", "proc.cmdline": "bash -i", "proc.name": "bash", "k8s.ns.name": "prod"},
        {"rule": "Read", "proc.cmdline": "npm audit", "proc.name": "npm", "k8s.ns.name": "ci"},
    )


def test_what_if_exception_suppresses_matching_alerts_of_the_rule_only():
    result = what_if(_shells(), exception='proc.cmdline startswith "npm "', rules="Shell")
    assert (result.before, result.after, result.suppressed) == (4, 2, 2)
    assert result.reduction == 0.5
    assert result.kept.tolist() == [False, False, True, True]
    shell = result.by_rule.set_index("rule").loc["Shell"]
    assert (shell["before"], shell["after"]) == (3, 1)


def test_what_if_exception_on_every_rule():
    result = what_if(_shells(), exception="k8s.ns.name = ci")
    assert result.after == 1


def test_what_if_condition_replacement_keeps_only_matching_alerts():
    result = what_if(_shells(), condition="proc.name in (bash, zsh)", rules=["Shell"])
    assert result.kept.tolist() == [False, False, True, True]
    assert "replaced" in str(result) and "4 → 2 alerts" in str(result)


def test_what_if_uses_ruleset_lists():
    ruleset = SimpleNamespace(lists={"build_tools": ["npm", "sh"]}, macros={})
    result = what_if(_shells(), exception="proc.name in (build_tools)", ruleset=ruleset)
    assert result.after == 1


def test_what_if_rejects_fields_the_alerts_do_not_carry():
    with pytest.raises(ValueError, match="proc.exepath"):
        what_if(_shells(), exception='proc.exepath = "/usr/bin/npm"')


def test_what_if_reports_condition_errors_from_the_rules_engine():
    from falco_lab.rules import RuleError

    with pytest.raises(RuleError):
        what_if(_shells(), exception="proc.name = = x")


def test_what_if_on_empty_input_changes_nothing():
    result = what_if(empty_frame(), exception="proc.name = sh")
    assert (result.before, result.after, result.reduction) == (0, 0, 0.0)


def test_what_if_scoped_to_a_workload_covers_all_its_pods():
    probes = [
        {"rule": "Probe", "proc.name": "pg_isready", "k8s.pod.name": f"postgres-{i}"} for i in range(198)
    ]
    other = {"rule": "Probe", "proc.name": "pg_isready", "k8s.pod.name": "billing-db-7f9c8d6b54-x7k2p"}
    result = what_if(alerts(*probes, other), exception='proc.name = "pg_isready"', workloads="postgres")
    assert (result.suppressed, result.after) == (198, 1)
    assert result.kept.tolist()[-1] is True
    assert "in workload postgres" in result.description


def test_a_long_outputs_template_is_made_from_its_first_characters() -> None:
    from falco_lab.analysis.noise import TEMPLATE_CHARS

    head = "Shell in container cmdline=python -c " + "x" * TEMPLATE_CHARS
    first = output_template(pd.Series([f"10:00:01.5: {head} 1", f"10:00:02.5: {head} 2"], dtype="string"))
    assert first.iloc[0] == first.iloc[1] == head[:TEMPLATE_CHARS] + "\u2026"
