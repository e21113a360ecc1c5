"""Isolation says whether the cluster enforces it: VPC CNI agent, Calico, Cilium, or nobody."""

from __future__ import annotations

import pandas as pd

from falco_lab.cluster.netpol import network_policy_enforcement
from falco_lab.cluster.response import apply_response, plan_response
from falco_lab.priorities import PRIORITY_DTYPE


def _aws_node(api, *agent_args: str) -> None:
    api.fake.add_namespace("kube-system")
    api.fake.daemonsets[("kube-system", "aws-node")] = {
        "metadata": {"name": "aws-node", "namespace": "kube-system"},
        "spec": {
            "selector": {},
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "aws-node",
                            "image": "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.2",
                        },
                        {
                            "name": "aws-eks-nodeagent",
                            "image": "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon/aws-network-policy-agent:v1.1.6",
                            "args": ["--enable-ipv6=false", *agent_args],
                        },
                    ]
                }
            },
        },
    }


def _alerts() -> pd.DataFrame:
    frame = pd.DataFrame(
        [{"time": pd.Timestamp("2026-12-04T09:00Z"), "rule": "r", "priority": "Warning",
          "k8s.ns.name": "shop", "k8s.pod.name": "web-1"}]
    )  # fmt: skip
    frame["priority"] = frame["priority"].astype(PRIORITY_DTYPE)
    return frame


def test_the_vpc_cni_agent_with_network_policy_on_enforces(api):
    _aws_node(api, "--enable-network-policy=true")
    found = network_policy_enforcement(api.clients())
    assert (found.enforced, found.by, found.label) == (True, "VPC CNI", "ENFORCED")


def test_the_vpc_cni_agent_with_network_policy_off_does_not(api):
    _aws_node(api, "--enable-network-policy=false")
    found = network_policy_enforcement(api.clients())
    assert found.label == "NOT ENFORCED" and "enableNetworkPolicy" in found.detail


def test_calico_enforces(api):
    _aws_node(api)
    api.fake.daemonsets[("calico-system", "calico-node")] = {
        "metadata": {"name": "calico-node"},
        "spec": {"selector": {}, "template": {}},
    }
    assert network_policy_enforcement(api.clients()).by == "Calico"


def test_no_permission_to_look_is_unknown_not_enforced(api):
    api.fake.faults[("GET", r"/daemonsets/")] = 403
    found = network_policy_enforcement(api.clients())
    assert found.enforced is None and found.label == "ENFORCEMENT UNKNOWN" and "forbidden" in found.detail


def test_isolation_that_is_not_enforced_says_so_in_plan_and_result(api):
    _aws_node(api)
    api.fake.add_namespace("shop")
    api.fake.add_pod("shop", "web-1")
    enforcement = network_policy_enforcement(api.clients())
    plan = plan_response(_alerts(), enforcement=enforcement)
    assert "NOT ENFORCED" in plan[1].detail
    report = apply_response(api.clients(), plan)
    assert report.lines[-1].startswith(
        "created networkpolicy shop/falco-lab-quarantine; pods NOT isolated, NOT ENFORCED"
    )


def test_isolation_that_is_enforced_says_nothing_more(api):
    _aws_node(api, "--enable-network-policy=true")
    api.fake.add_namespace("shop")
    api.fake.add_pod("shop", "web-1")
    plan = plan_response(_alerts(), enforcement=network_policy_enforcement(api.clients()))
    assert apply_response(api.clients(), plan).lines[-1] == "created networkpolicy shop/falco-lab-quarantine"


def test_preflight_warns_when_isolation_would_not_be_enforced(api):
    from falco_lab.cluster.preflight import check_network_policy

    _aws_node(api)
    (row,) = check_network_policy(api.clients())
    assert row["status"] == "warn" and row["detail"].startswith("NOT ENFORCED")
