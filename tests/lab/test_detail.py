"""The sidekick-UI-like event detail cards (falco_lab.lab.detail)."""

from __future__ import annotations

import pandas as pd

from falco_lab.lab.detail import event_details, unexpected_alerts


def _frame(**extra: list[object]) -> pd.DataFrame:
    base = {
        "time": pd.to_datetime(["2026-01-01T00:00:02Z", "2026-01-01T00:00:01Z"]),
        "rule": ["B", "A"],
        "priority": ["Warning", "Notice"],
        "source": ["syscall", "syscall"],
        "hostname": ["node-1", "node-1"],
        "tags": [["t1"], ["t2"]],
        "output": ["second", "first"],
        "uuid": ["u2", "u1"],
        "k8s.pod.name": ["shell-pod", "shell-pod"],
    }
    return pd.DataFrame(base | extra)


def test_each_card_is_the_first_alert_of_its_pod() -> None:
    card = event_details(_frame(), {"shell": "shell-pod"})["shell"]
    assert (card.alerts, card.output) == (2, "first")
    assert dict(card.head)["rule"] == "A"


def test_a_test_pod_without_alerts_says_so() -> None:
    card = event_details(_frame(), {"etc": "host-etc"})["etc"]
    assert not card.found
    assert "no alert from this pod" in "\n".join(card.lines())


def test_the_workshop_fields_are_shown_even_when_the_alert_lacks_them() -> None:
    card = event_details(_frame(), {"shell": "shell-pod"})["shell"]
    assert [name for name, _ in card.fields][:4] == [
        "k8s.pod.name",
        "k8s.ns.name",
        "proc.cmdline",
        "container.mounts",
    ]
    assert card.field("container.mounts") is None
    assert "<not in this alert>" in "\n".join(card.lines())


def test_other_output_fields_are_capped_with_a_count() -> None:
    extra = {f"f{i}": [str(i), str(i)] for i in range(5)}
    card = event_details(_frame(**extra), {"shell": "shell-pod"}, max_fields=2)["shell"]
    assert card.more_fields == 3
    assert "… 3 more output field(s)" in card.to_html()


def test_long_values_are_cut_with_the_count_left_out() -> None:
    card = event_details(_frame(**{"proc.cmdline": ["x" * 1000, "y" * 1000]}), {"s": "shell-pod"})["s"]
    assert "(600 more characters)" in "\n".join(card.lines())


def test_values_are_escaped_in_html() -> None:
    frame = _frame(**{"proc.cmdline": ["<img src=x onerror=alert(1)>"] * 2})
    html = event_details(frame, {"<b>shell</b>": "shell-pod"})._repr_html_()
    assert "<img" not in html and "<b>shell" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def _steps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "test": ["shell", "shell"],
            "pod": ["shell-pod", "shell-pod"],
            "namespace": ["lab", "lab"],
            "expected_rules": [["A"], ["B"]],
            "expected_upstream_rules": [[], ["Up"]],
        }
    )


def test_unexpected_alerts_are_rules_no_step_of_the_test_expects() -> None:
    alerts = _frame().assign(**{"k8s.ns.name": "lab"})
    alerts.loc[0, "rule"] = "Surprise"
    found = unexpected_alerts(_steps(), alerts)
    assert found[["test", "rule", "alerts"]].values.tolist() == [["shell", "Surprise", 1]]


def test_expected_upstream_rules_are_not_unexpected() -> None:
    alerts = _frame().assign(**{"k8s.ns.name": "lab", "rule": ["Up", "A"]})
    assert unexpected_alerts(_steps(), alerts).empty


def test_a_card_prefers_the_first_alert_of_the_rules_its_test_is_about() -> None:
    card = event_details(_frame(), {"shell": "shell-pod"}, rules={"shell": ["B"]})["shell"]
    assert card.output == "second"
