"""Case work in the report: the case notes, labels, false positives set aside from the chains."""

from __future__ import annotations

import re

from falco_lab.analysis.report import build_report
from falco_lab.analysis.triage import Mark, chain_id
from tests.analysis.frames import alerts

SHELL = {
    "rule": "Terminal shell in container",
    "priority": "Critical",
    "k8s.ns.name": "shop",
    "container.id": "c1",
    "proc.name": "bash",
    "tags": ["mitre_execution", "T1059"],
}


def _incident():
    return alerts(
        {**SHELL, "k8s.pod.name": "api", "proc.pid": 10, "proc.cmdline": "bash -i", "uuid": "u-api"},
        {
            **SHELL,
            "k8s.pod.name": "admin",
            "proc.pid": 20,
            "proc.cmdline": "bash -l",
            "uuid": "u-admin",
            "t": 5,
        },
    )


def _section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}">')
    return html[start : html.index("</section>", start)]


def test_case_notes_list_every_mark_with_its_note_escaped():
    marks = [Mark("u-admin", "false_positive", "on-call <b>exec</b>", who="alice"), Mark("nope", "triaged")]
    notes = _section(build_report(_incident(), triage=marks), "case-notes")
    assert "on-call &lt;b&gt;exec&lt;/b&gt;" in notes and "alice" in notes
    rows = re.findall(r"<tr>(.*?)</tr>", notes, re.S)[1:]
    assert [">yes<" in r for r in rows] == [True, False]  # the unknown uuid is "not in this data"


def test_without_marks_the_case_notes_say_how_to_make_them():
    assert "No case notes" in _section(build_report(_incident()), "case-notes")


def test_a_false_positive_alert_is_set_aside_from_the_chains_with_a_note():
    chains = _section(
        build_report(_incident(), triage=[Mark("u-admin", "false_positive", "admin")]), "chains"
    )
    assert "shop/api" in chains and "<h3>2." not in chains
    assert "Set aside as false positives" in chains and "1 alert marked false positive" in chains


def test_a_false_positive_chain_is_listed_in_the_note_not_dropped():
    mark = Mark(chain_id("shop/admin"), "false_positive", "the admin's maintenance shell")
    chains = _section(build_report(_incident(), triage=[mark]), "chains")
    assert "<h3>2." not in chains
    assert "<code>chain:shop/admin</code> (1 alerts): the admin&#x27;s maintenance shell" in chains


def test_a_confirmed_chain_is_labelled_in_its_heading():
    chains = _section(
        build_report(_incident(), triage=[Mark(chain_id("shop/api"), "confirmed", "x")]), "chains"
    )
    heading = next(h for h in re.findall(r"<h3>(.*?)</h3>", chains) if "shop/api" in h)
    assert '<span class="mark" title="x">confirmed</span>' in heading


def test_marked_alerts_are_labelled_in_the_alerts_table():
    table = _section(build_report(_incident(), triage=[Mark("u-admin", "false_positive", "probe")]), "alerts")
    assert '<tr class="marked-false_positive">' in table and "false_positive: probe" in table
    assert table.count("<tr class=") == 1


def test_findings_show_their_id_and_label():
    html = build_report(_incident())
    ids = re.findall(r'<code class="id">(finding:[0-9a-f]{8})</code>', _section(html, "findings"))
    assert ids
    marked = build_report(_incident(), triage=[Mark(ids[0], "triaged", "looked at it")])
    assert '<span class="mark" title="looked at it">triaged</span>' in _section(marked, "findings")
