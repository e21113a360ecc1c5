"""Source attribution: k8s_audit, cloud and Falco-internal alerts mapped to what they concern."""

from __future__ import annotations

import pandas as pd
import pytest

from falco_lab.analysis.chains import attack_chains
from falco_lab.analysis.report import build_report
from falco_lab.analysis.sources import SourceKind, attribute, link_execs, register_source_kind
from tests.analysis.frames import alerts

EXEC = {
    "source": "k8s_audit",
    "rule": "Attach/Exec Pod",
    "priority": "Notice",
    "ka.user.name": "alice@example.com",
    "ka.target.namespace": "shop",
    "ka.target.name": "api-817813a48-2hwtp",
    "ka.target.resource": "pods",
    "ka.target.subresource": "exec",
    "ka.uri.param[command]": "bash",
    "tags": ["k8s", "mitre_execution", "T1609"],
}
SHELL = {
    "k8s.ns.name": "shop",
    "k8s.pod.name": "api-817813a48-2hwtp",
    "rule": "Terminal shell in container",
    "proc.cmdline": "bash",
    "tags": ["mitre_execution", "T1059"],
}
CLOUDTRAIL = {
    "source": "aws_cloudtrail",
    "rule": "Console Login Without MFA",
    "ct.user": "bob",
    "ct.name": "ConsoleLogin",
}
DROP = {
    "source": "syscall",
    "rule": "Falco internal: syscall event drop",
    "priority": "Critical",
    "hostname": "node-7",
}


def test_an_audit_alert_is_attributed_to_its_target_pod_and_actor():
    row = attribute(alerts(EXEC)).iloc[0]
    assert (row["kind"], row["namespace"], row["pod"], row["user"], row["action"]) == (
        "k8s_audit",
        "shop",
        "api-817813a48-2hwtp",
        "alice@example.com",
        "bash",
    )


def test_an_audit_alert_about_a_non_pod_resource_names_no_pod():
    row = attribute(alerts({**EXEC, "ka.target.resource": "configmaps", "ka.target.name": "cfg"})).iloc[0]
    assert row["namespace"] == "shop" and pd.isna(row["pod"])


def test_cloud_alerts_keep_their_user_and_action():
    row = attribute(alerts(CLOUDTRAIL)).iloc[0]
    assert (row["kind"], row["user"], row["action"]) == ("cloud", "bob", "ConsoleLogin")


def test_falco_internal_alerts_are_falcos_own_whatever_their_source():
    assert attribute(alerts(DROP)).iloc[0]["kind"] == "falco"


def test_a_source_value_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="already registered"):
        register_source_kind(SourceKind("mine", ("syscall",)))


def test_an_audited_exec_is_linked_to_the_shell_that_follows_in_that_pod():
    df = alerts(
        {**EXEC, "t": 0}, {**SHELL, "t": 2}, {**SHELL, "k8s.pod.name": "web-1", "t": 3}, {**SHELL, "t": 90}
    )
    links = link_execs(df)
    assert links["user"].tolist() == ["alice@example.com"]
    assert links["index"].tolist() == [1]


def test_the_chain_says_who_opened_the_shell_and_the_audit_alert_joins_the_pods_chain():
    df = alerts({**EXEC, "t": 0}, {**SHELL, "t": 2})
    (chain,) = attack_chains(df)
    assert chain.where == "shop/api-817813a48-2hwtp" and chain.alerts == 2
    assert chain.opened_by is not None and chain.opened_by["user"] == "alice@example.com"


def test_the_report_has_a_source_breakdown_and_the_exec_link():
    html = build_report(alerts({**EXEC, "t": 0}, {**SHELL, "t": 2}, CLOUDTRAIL, DROP), simulated=False)
    sources = html[html.index('<section id="sources">') :]
    assert "Who opened the shells" in sources and "alice@example.com" in sources
    assert (
        '<td class="text">k8s_audit</td>' in sources
        and '<td class="text">cloud</td>' in sources
        and '<td class="text">falco</td>' in sources
    )
    assert "Opened by</b> <code>alice@example.com</code>" in html


def test_inside_the_cache_block_one_frame_is_attributed_once() -> None:
    from falco_lab.analysis.sources import attribution_cache

    df = alerts({"rule": "r", "k8s.ns.name": "shop", "k8s.pod.name": "web-1"})
    with attribution_cache():
        first = attribute(df)
        assert attribute(df) is first
        assert attribute(df.copy()) is not first  # another frame object


def test_outside_the_cache_block_a_frame_changed_in_place_is_attributed_anew() -> None:

    df = alerts({"rule": "r", "k8s.ns.name": "shop", "k8s.pod.name": "web-1"})
    assert attribute(df)["pod"].iloc[0] == "web-1"
    df["k8s.pod.name"] = "web-2"
    assert attribute(df)["pod"].iloc[0] == "web-2"
