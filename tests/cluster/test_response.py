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
    pod_facts,
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
    report = apply_response(api.clients(), plan_response(ALERTS, actions=["label", "isolate", "delete"]))
    assert report.lines == [
        "skipped kube-system/agent-x: protected namespace: review by hand",
        "labelled pod shop/web-1",
        f"created networkpolicy shop/{QUARANTINE_POLICY}",
        "deleted pod shop/web-1",
    ]
    assert report.ok and report.summary() == "3 step(s) done, 1 skipped, 0 failed"
    assert ("shop", QUARANTINE_POLICY) in api.fake.policies
    assert ("shop", "web-1") not in api.fake.pods


def test_apply_twice_keeps_the_existing_policy(api):
    api.fake.add_namespace("shop")
    api.fake.add_pod("shop", "web-1")
    apply_response(api.clients(), plan_response(ALERTS))
    again = apply_response(api.clients(), plan_response(ALERTS))
    assert f"networkpolicy shop/{QUARANTINE_POLICY} already in place" in again.lines
    assert api.fake.pods[("shop", "web-1")]["metadata"]["labels"] == {QUARANTINE_LABEL: "true"}


def test_a_pod_gone_before_apply_is_skipped_and_the_live_ones_are_still_acted_on(api):
    # the first offender (a test pod) was deleted after the run; the live pod behind it must still be labelled
    alerts = _alerts(
        ("Falco Lab Terminal Shell In Container", "Warning", "falco-lab", "falco-lab-shell"),
        ("Falco Lab Terminal Shell In Container", "Warning", "shop", "web-1"),
    )
    api.fake.add_namespace("shop")
    api.fake.add_pod("shop", "web-1")
    report = apply_response(api.clients(), plan_response(alerts))
    assert "skipped label of falco-lab/falco-lab-shell: the pod no longer exists" in report.lines
    assert "labelled pod shop/web-1" in report.lines
    assert api.fake.pods[("shop", "web-1")]["metadata"]["labels"] == {QUARANTINE_LABEL: "true"}


def test_planning_with_a_lookup_skips_gone_pods(api):
    api.fake.add_namespace("shop")
    plan = plan_response(ALERTS, lookup=pod_facts(api.clients()))
    assert [(a.action, a.pod, a.detail) for a in plan][1] == (
        "skip",
        "web-1",
        "pod no longer exists: nothing to do",
    )


def test_a_failed_step_is_reported_and_the_next_steps_run(api):
    alerts = _alerts(
        ("Falco Lab Terminal Shell In Container", "Warning", "shop", "api-1"),
        ("Falco Lab Terminal Shell In Container", "Warning", "shop", "web-1"),
    )
    api.fake.add_namespace("shop")
    api.fake.add_pod("shop", "api-1")
    api.fake.add_pod("shop", "web-1")
    api.fake.faults[("PATCH", r"/pods/api-1$")] = 403
    report = apply_response(api.clients(), plan_response(alerts, actions=["label"]))
    assert not report.ok and len(report.failures) == 1
    assert report.failures[0].startswith("FAILED label shop/api-1:") and "403" in report.failures[0]
    assert "labelled pod shop/web-1" in report.lines
    assert report.summary().startswith("1 step(s) done, 0 skipped, 1 failed:")


def test_deleting_a_pod_that_is_already_gone_says_so(api):
    api.fake.add_namespace("shop")
    report = apply_response(api.clients(), plan_response(ALERTS, actions=["delete"]))
    assert "skipped delete of shop/web-1: the pod no longer exists" in report.lines


def test_delete_of_a_deployment_pod_scales_the_deployment_to_zero(api):
    api.fake.add_namespace("shop")
    api.fake.add_workload("Deployment", "shop", "web")
    api.fake.add_replicaset("shop", "web-5d8f", deployment="web")
    api.fake.add_pod("shop", "web-1", owner=("ReplicaSet", "web-5d8f"))
    plan = plan_response(ALERTS, actions=["delete"], lookup=pod_facts(api.clients()))
    assert plan[1].detail.startswith("scale Deployment shop/web to 0 replicas")
    report = apply_response(api.clients(), plan)
    assert "scaled deployment shop/web to 0 (its pod web-1 goes with it)" in report.lines
    assert api.fake.deployments[("shop", "web")]["spec"]["replicas"] == 0
    assert ("shop", "web-1") in api.fake.pods  # the controller removes it, not falco-lab


def test_delete_of_a_statefulset_pod_scales_the_statefulset(api):
    api.fake.add_namespace("shop")
    api.fake.add_workload("StatefulSet", "shop", "redis")
    api.fake.add_pod("shop", "web-1", owner=("StatefulSet", "redis"))
    report = apply_response(
        api.clients(), plan_response(ALERTS, actions=["delete"], lookup=pod_facts(api.clients()))
    )
    assert "scaled statefulset shop/redis to 0 (its pod web-1 goes with it)" in report.lines
    assert api.fake.statefulsets[("shop", "redis")]["spec"]["replicas"] == 0


def test_delete_of_a_daemonset_pod_is_not_done_and_says_why(api):
    api.fake.add_namespace("shop")
    api.fake.add_pod("shop", "web-1", owner=("DaemonSet", "agent"))
    plan = plan_response(ALERTS, actions=["delete"], lookup=pod_facts(api.clients()))
    assert (plan[1].action, plan[1].detail) == (
        "skip",
        "not deleted: owned by DaemonSet agent, which would recreate it; isolate it, or act on the DaemonSet by hand",
    )
    apply_response(api.clients(), plan)
    assert ("shop", "web-1") in api.fake.pods


def test_eks_add_on_namespaces_are_protected_by_default():
    alerts = _alerts(("Falco Lab Terminal Shell In Container", "Warning", "amazon-cloudwatch", "cw-agent-x"))
    assert [a.action for a in plan_response(alerts)] == ["skip"]


def test_protected_namespaces_are_configurable():
    plan = plan_response(ALERTS, protected={"shop"})
    assert [(a.action, a.namespace) for a in plan] == [
        ("label", "kube-system"),
        ("isolate", "kube-system"),
        ("skip", "shop"),
    ]


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
