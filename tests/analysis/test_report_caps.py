"""ReportCaps: every capped table, list and figure shows exactly its cap and says how many more."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from falco_lab.analysis.findings import find_findings
from falco_lab.analysis.report import SECTIONS, ReportCaps, ReportContext, ReportOptions, parse_caps
from falco_lab.analysis.report.page import Page
from tests.analysis.frames import alerts


def _render(anchor: str, df: pd.DataFrame, **caps: int) -> Page:
    """Render the one registered section ``anchor`` of ``df`` with ``caps``."""
    page = Page("nonce")
    (registered,) = [s for s in SECTIONS if s.anchor == anchor]
    registered.render(ReportContext(df, ReportOptions(caps=ReportCaps(**caps)), page))
    return page


def _html(anchor: str, df: pd.DataFrame, **caps: int) -> str:
    return "".join(_render(anchor, df, **caps).parts)


def _table_after(html: str, heading: str) -> str:
    start = html.index(heading)
    return html[start : html.index("</table>", start)]


def _body_rows(table: str) -> int:
    return table.count("<tr>") - 1  # the header row


def _figure(page: Page, index: int) -> dict:
    return json.loads(page.figures[index][1])  # the \u003c escapes are JSON escapes


def _pods(n: int, **extra: object) -> pd.DataFrame:
    return alerts(
        *[
            {"k8s.ns.name": "shop", "k8s.pod.name": f"pod-{i:02d}", "container.id": f"c{i:02d}", **extra}
            for i in range(n)
        ]
    )


def test_summary_top_pods_shows_the_cap_and_the_rest() -> None:
    html = _html("summary", _pods(50), top_pods=10)
    assert _body_rows(_table_after(html, "Top pods")) == 10
    assert "40 more pods not shown." in html


def test_summary_top_rules_shows_the_cap_and_the_rest() -> None:
    html = _html("summary", alerts(*[{"rule": f"rule {i}"} for i in range(30)]), top_rules=10)
    assert _body_rows(_table_after(html, "Top rules")) == 10
    assert "20 more rules not shown." in html


def test_activity_rows_are_capped() -> None:
    html = _html("activity", _pods(50), activity_rows=10)
    assert _body_rows(_table_after(html, "<table")) == 10
    assert "40 more rows not shown." in html


def test_activity_names_the_cap_of_processes_and_counts_the_rest() -> None:
    df = alerts(
        *[
            {"k8s.ns.name": "shop", "k8s.pod.name": "web", "proc.name": f"p{i}", "proc.pid": i}
            for i in range(6)
        ]
    )
    html = _html("activity", df, activity_processes=2)
    assert "p5 (5), p4 (4) (+4 more)" in html


def test_users_table_is_capped() -> None:
    html = _html("sources", alerts(*[{"user.name": f"user{i}"} for i in range(30)]), source_rows=10)
    assert _body_rows(_table_after(html, "<h3>Users</h3>")) == 10
    assert "20 more rows not shown." in html


def test_attack_chains_are_capped() -> None:
    df = _pods(5, priority="Critical", tags=["mitre_execution"])
    html = _html("chains", df, chains=2)
    assert html.count('<div class="chain">') == 2
    assert "3 more pods with suspicious alerts not shown." in html


def test_chain_evidence_is_capped_per_step() -> None:
    df = alerts(
        *[
            {
                "k8s.ns.name": "shop",
                "k8s.pod.name": "web",
                "priority": "Critical",
                "tags": ["mitre_execution"],
            }
            for _ in range(9)
        ]
    )
    html = _html("chains", df, chain_evidence=4)
    assert _body_rows(_table_after(html, '<table class="evidence">')) == 4
    assert "5 more alerts of this step not shown." in html


def test_findings_are_capped() -> None:
    df = _pods(12, priority="Warning", **{"proc.cmdline": "x"})
    total = len(find_findings(df, 100))
    assert total > 1
    html = _html("findings", df, findings=1)
    assert html.count('<span class="prio"') == 1
    assert f"{total - 1} more findings not shown." in html


def test_findings_evidence_is_capped() -> None:
    df = alerts(
        *[
            {"k8s.ns.name": "shop", "k8s.pod.name": "web", "rule": f"rule {i}", "proc.cmdline": f"cmd-{i}"}
            for i in range(12)
        ]
    )
    html = _html("findings", df, findings_evidence=3)
    rare = html[html.index("12 command lines seen only once") :]
    rare = rare[: rare.index("</ul>")]
    assert rare.count("<li><code>") == 3
    assert "9 more items not shown." in rare


def test_timeline_lanes_are_capped_with_an_other_lane() -> None:
    page = _render("timeline", alerts(*[{"rule": f"rule {i:02d}"} for i in range(50)]), timeline_lanes=10)
    lanes = {y for trace in _figure(page, 1)["data"] for y in trace["y"]}
    assert len(lanes) == 10
    assert "(other 41 groups)" in lanes


def test_drilldown_folds_the_rest_into_a_more_pods_box() -> None:
    page = _render("drilldown", _pods(50), drilldown_boxes=10)
    trace = _figure(page, 0)["data"][0]
    processes = [i for i in trace["ids"] if i.count("\x1f") == 3]
    assert len(processes) == 10
    assert "(40 more pods)" in trace["labels"]


def test_drilldown_folds_other_namespaces_into_one_box() -> None:
    df = alerts(
        *[{"k8s.ns.name": f"ns-{i:02d}", "k8s.pod.name": "p", "container.id": "c"} for i in range(30)]
    )
    trace = _figure(_render("drilldown", df, drilldown_boxes=10), 0)["data"][0]
    assert [i for i in trace["ids"] if "\x1f" not in i].count("(20 more namespaces)") == 1
    assert sum(v for v, p in zip(trace["customdata"], trace["parents"], strict=True) if p == "") == 30


def test_drilldown_folds_other_containers_of_a_drawn_pod() -> None:
    df = alerts(
        *[{"k8s.ns.name": "shop", "k8s.pod.name": "web", "container.id": f"c{i:02d}"} for i in range(8)]
    )
    trace = _figure(_render("drilldown", df, drilldown_boxes=3), 0)["data"][0]
    assert "(5 more containers)" in trace["labels"]


def test_pod_stories_are_capped() -> None:
    html = _html("drilldown", _pods(50), pod_stories=3)
    assert html.count('<details class="story">') == 3
    assert "47 more pods not shown." in html


def test_pod_story_tables_are_capped() -> None:
    df = alerts(
        *[{"k8s.ns.name": "shop", "k8s.pod.name": "web", "proc.cmdline": f"cmd-{i}"} for i in range(30)]
    )
    html = _html("drilldown", df, story_rows=5)
    assert _body_rows(_table_after(html, "<h4>Commands</h4>")) == 5
    assert "25 more rows not shown." in html


def test_lineage_table_is_capped() -> None:
    df = alerts(*[{"container.id": f"c{i:02d}", "proc.pid": 100 + i, "proc.name": "sh"} for i in range(50)])
    html = _html("lineage", df, lineage_nodes=10)
    assert _body_rows(_table_after(html, "<summary>Process table</summary>")) == 10
    assert "40 more trees" in html


def test_mitre_table_is_capped() -> None:
    techniques = ["T1059", "T1611", "T1552", "T1496", "T1070", "T1105"]
    html = _html("mitre", alerts(*[{"rule": t, "tags": [t]} for t in techniques]), mitre_rows=2)
    table = _table_after(html, "Tactic / technique table")
    assert _body_rows(table) == 2
    shown = re.search(r"(\d+) more rows not shown", html)
    assert shown is not None and int(shown.group(1)) >= len(techniques) - 2


def test_noise_groups_are_capped() -> None:
    html = _html("noise", alerts(*[{"rule": f"rule {i}"} for i in range(20)]), noise_groups=5)
    assert "15 more groups not shown." in html


def test_noise_workloads_are_capped() -> None:
    df = alerts(*[{"k8s.ns.name": f"ns-{i:02d}", "k8s.pod.name": "web"} for i in range(20)])
    html = _html("noise", df, noise_workloads=5)
    assert _body_rows(_table_after(html, "<table")) == 5
    assert "15 more workloads not shown." in html


def test_aggregated_alerts_table_is_capped() -> None:
    html = _html("alerts", _pods(50), alert_rows=10)
    assert _body_rows(_table_after(html, "<table")) == 10
    assert "40 more rows not shown." in html


def test_parse_caps_overrides_one_cap() -> None:
    assert parse_caps(["pod_stories=10"]) == ReportCaps(pod_stories=10)


def test_parse_caps_names_an_unknown_cap() -> None:
    with pytest.raises(ValueError, match="unknown cap 'pods'; known caps: alert_rows"):
        parse_caps(["pods=3"])


def test_parse_caps_rejects_a_value_that_is_not_an_integer() -> None:
    with pytest.raises(ValueError, match="'ten' is not an integer"):
        parse_caps(["pod_stories=ten"])


def test_parse_caps_rejects_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        parse_caps(["pod_stories=0"])


def test_parse_caps_wants_name_equals_value() -> None:
    with pytest.raises(ValueError, match="expected NAME=N"):
        parse_caps(["pod_stories"])


def test_report_caps_reject_a_negative_cap() -> None:
    with pytest.raises(ValueError, match="report cap chains must be a positive integer"):
        ReportCaps(chains=-1)


def test_cli_rejects_an_unknown_cap_with_exit_code_2(tmp_path) -> None:
    events = tmp_path / "a.jsonl"
    events.write_text("{}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "falco_lab", "report", str(events), "--cap", "nope=3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown cap 'nope'" in proc.stderr
