"""Response planning: label, isolate, delete; plan by default, protected namespaces left alone."""

from __future__ import annotations

import pandas as pd
import pytest

from falco_lab.cluster.response import (
    QUARANTINE_LABEL,
    QUARANTINE_POLICY,
    apply_response,
    format_plan,
    offending_pods,
    plan_frame,
    plan_response,
)
from falco_lab.priorities import PRIORITY_DTYPE


def _alerts(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {
                "time": pd.Timestamp("2026-11-27T08:00:00Z") + pd.Timedelta(seconds=i),
                "rule": rule,
                "priority": priority,
                "k8s.ns.name": ns,
                "k8s.pod.name": pod,
            }
            for i, (rule, priority, ns, pod) in enumerate(rows)
        ]
    )
    frame["priority"] = frame["priority"].astype(PRIORITY_DTYPE)
    return frame


ALERTS = _alerts(
    ("Falco Lab Container Runtime Socket Mounted", "Error", "shop", "web-1"),
    ("Falco Lab Terminal Shell In Container", "Warning", "shop", "web-1"),
    ("Falco Lab Shell Without Terminal In Container", "Notice", "shop", "api-2"),
    ("Falco Lab Sensitive Host Directory Mounted", "Warning", "kube-system", "agent-x"),
)


def test_offending_pods_group_alerts_at_or_above_the_floor():
    pods = offending_pods(ALERTS)
    assert list(zip(pods["namespace"], pods["pod"], pods["alerts"], strict=True)) == [
        ("kube-system", "agent-x", 1),
        ("shop", "web-1", 2),
    ]


def test_default_plan_labels_and_isolates_but_does_not_delete():
    plan = plan_response(ALERTS)
    assert [(a.action, a.namespace, a.pod) for a in plan] == [
        ("skip", "kube-system", "agent-x"),
        ("label", "shop", "web-1"),
        ("isolate", "shop", "web-1"),
    ]
    assert plan[1].body["metadata"]["labels"] == {QUARANTINE_LABEL: "true"}
    assert plan[2].body["spec"]["podSelector"] == {"matchLabels": {QUARANTINE_LABEL: "true"}}


def test_delete_only_when_chosen():
    plan = plan_response(ALERTS, actions=["delete"])
    assert [(a.action, a.pod) for a in plan] == [("skip", "agent-x"), ("delete", "web-1")]


def test_one_isolation_policy_per_namespace():
    plan = plan_response(ALERTS, min_priority="Notice")
    assert [a.pod for a in plan if a.action == "isolate"] == ["api-2"]
    assert [a.pod for a in plan if a.action == "label"] == ["api-2", "web-1"]


def test_unknown_action_is_rejected():
    with pytest.raises(ValueError, match="unknown actions"):
        plan_response(ALERTS, actions=["quarantine"])


def test_alerts_without_pod_fields_need_no_response():
    assert plan_response(pd.DataFrame({"rule": ["x"], "priority": ["Error"]})) == []
    assert format_plan([]) == "no pod needs a response"


def test_plan_frame_numbers_the_steps():
    frame = plan_frame(plan_response(ALERTS))
    assert list(frame["step"]) == [1, 2, 3]


def test_apply_labels_isolates_and_deletes_on_the_api(api):
    api.fake.add_namespace("shop")
    api.fake.add_pod("shop", "web-1")
    done = apply_response(api.clients(), plan_response(ALERTS, actions=["label", "isolate", "delete"]))
    assert done == [
        "skipped kube-system/agent-x: protected namespace: review by hand",
        "labelled pod shop/web-1",
        f"created networkpolicy shop/{QUARANTINE_POLICY}",
        "deleted pod shop/web-1",
    ]
    assert ("shop", QUARANTINE_POLICY) in api.fake.policies
    assert ("shop", "web-1") not in api.fake.pods


def test_apply_twice_keeps_the_existing_policy(api):
    api.fake.add_namespace("shop")
    api.fake.add_pod("shop", "web-1")
    apply_response(api.clients(), plan_response(ALERTS))
    again = apply_response(api.clients(), plan_response(ALERTS))
    assert f"networkpolicy shop/{QUARANTINE_POLICY} already in place" in again
    assert api.fake.pods[("shop", "web-1")]["metadata"]["labels"] == {QUARANTINE_LABEL: "true"}


def test_deleting_a_pod_that_is_already_gone_says_so(api):
    api.fake.add_namespace("shop")
    done = apply_response(api.clients(), plan_response(ALERTS, actions=["delete"]))
    assert "pod shop/web-1 already gone" in done


def test_isolation_survives_cleanup_of_the_test_pods(api):
    from falco_lab.cluster.pods import cleanup

    api.fake.add_namespace("shop")
    api.fake.add_pod("shop", "web-1")
    apply_response(api.clients(), plan_response(ALERTS))
    cleanup(api.clients())
    assert ("shop", QUARANTINE_POLICY) in api.fake.policies


@pytest.fixture
def responses(monkeypatch):
    """A copy of the response registry, restored after the test."""
    from falco_lab.cluster import response

    monkeypatch.setattr(response, "RESPONSES", dict(response.RESPONSES))
    return response


def test_a_registered_action_is_planned_for_each_offending_pod(responses):
    def plan(target, state):
        return [responses.Action("annotate", target.namespace, target.pod, target.reason, "annotate it")]

    responses.register_response(
        responses.ResponseAction("annotate", "annotate the pod", plan, lambda clients, a: "annotated")
    )
    planned = plan_response(ALERTS, actions=["annotate"])
    assert [(a.action, a.pod) for a in planned] == [("skip", "agent-x"), ("annotate", "web-1")]


def test_isolate_implies_the_label_it_selects_by():
    assert [a.action for a in plan_response(ALERTS, actions=["isolate"])][1:] == ["label", "isolate"]


def test_an_action_name_registered_twice_is_an_error(responses):
    with pytest.raises(responses.ResponseRegistryError, match="'label' is already registered"):
        responses.register_response(
            responses.ResponseAction("label", "again", lambda t, s: [], lambda c, a: "")
        )


def test_an_action_implying_an_unregistered_one_is_an_error(responses):
    with pytest.raises(responses.ResponseRegistryError, match="implies unregistered action\\(s\\) cordon"):
        responses.register_response(
            responses.ResponseAction("drain", "drain", lambda t, s: [], lambda c, a: "", implies=("cordon",))
        )
