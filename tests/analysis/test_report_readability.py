"""Report readability: cell kinds, header wrapping, clamped text, the alert JSON, the filter box."""

from __future__ import annotations

import json
import re
from html import unescape

import pandas as pd

from falco_lab.analysis.report import ReportCaps, build_report
from falco_lab.analysis.report.page import _CSS, FILTER_JS, cell_kind, html_table
from falco_lab.analysis.report.sections.alerts import falco_json
from tests.analysis.frames import alerts


def _alerts_section(html: str) -> str:
    start = html.index('<section id="alerts">')
    return html[start : html.index("</section>", start)]


def test_numbers_and_times_get_their_own_cell_class():
    frame = pd.DataFrame(
        {"alerts": [1234], "share": [0.5], "last_seen": [pd.Timestamp("2026-01-01", tz="UTC")]}
    )
    table = html_table(frame)
    assert '<td class="num">1,234</td>' in table and '<td class="num">50.0%</td>' in table
    assert '<td class="time">2026-01-01 00:00:00.000Z</td>' in table
    assert cell_kind(pd.NaT, "first_seen") == "time" and cell_kind("x", "rule") == "text"


def test_css_keeps_numbers_and_times_on_one_line_and_headers_whole():
    rules = {sel.strip(): body for sel, body in re.findall(r"([^{}]+)\{([^}]*)\}", _CSS)}
    assert "white-space:nowrap" in rules["td.num"] and "white-space:nowrap" in rules["td.time"]
    assert "word-break:normal" in rules["th"] and "overflow-wrap:normal" in rules["th"]
    assert not any("break-all" in body or "break-word" in body for sel, body in rules.items() if "th" in sel)


def test_long_text_is_clamped_with_the_full_text_on_hover():
    long = "curl " + "x" * 280
    table = html_table(pd.DataFrame({"cmdline": [long + " <b>"]}))
    assert f'<div class="clamp" tabindex="0" title="{long} &lt;b&gt;">{long} &lt;b&gt;</div>' in table


def test_each_listed_alert_has_its_falco_json_one_click_away():
    df = alerts({"k8s.pod.name": "web", "proc.pid": 7, "output": "</pre><script>x()</script>"})
    section = _alerts_section(build_report(df))
    pre = re.search(r'<details class="raw"><summary>JSON</summary><pre>(.*?)</pre></details>', section, re.S)
    doc = json.loads(unescape(pre.group(1)))
    assert doc["output"] == "</pre><script>x()</script>" and doc["output_fields"] == {
        "k8s.pod.name": "web",
        "proc.pid": 7,
    }
    assert "<script>x()" not in section


def test_alert_json_leaves_out_fields_the_alert_does_not_carry():
    df = alerts({"proc.name": "sh"}, {"fd.name": "/etc/shadow"})
    first, second = (json.loads(text) for text in falco_json(df))
    assert first["output_fields"] == {"proc.name": "sh"} and second["output_fields"] == {
        "fd.name": "/etc/shadow"
    }
    assert first["time"] == "2026-11-27T10:00:00.000000000Z"


def test_alert_json_is_bounded():
    (text,) = falco_json(alerts({"output": "y" * 10_000}), limit=500)
    assert len(text) < 600 and text.endswith("more characters")


def test_aggregated_report_shows_json_only_for_the_rows_listed():
    df = alerts(*[{"rule": f"R{i % 3}"} for i in range(50)])
    section = _alerts_section(build_report(df, caps=ReportCaps(alert_rows=10)))
    assert section.count('<details class="raw">') == 10


def test_filter_script_runs_under_the_nonce_and_reads_text_only():
    html = build_report(alerts({}))
    nonce = re.search(r"'nonce-([^']+)'", html).group(1)
    assert f'<script nonce="{nonce}">{FILTER_JS}</script>' in html
    assert "textContent" in FILTER_JS and "innerHTML" not in FILTER_JS and "fetch" not in FILTER_JS
    assert '<input type="search"' not in html  # the script makes the boxes: no dead box without JS
