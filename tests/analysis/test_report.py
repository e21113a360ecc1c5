"""The self-contained HTML report and the alert exports."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from falco_lab.analysis._html import script_json
from falco_lab.analysis.report import ReportCaps, build_report, export_alerts, write_report
from falco_lab.events.schema import empty_frame
from tests.analysis.frames import alerts

PAYLOADS = ("<script>alert(1)</script>", "</script><img src=x onerror=alert(1)>")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html_text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html_text)
    return parser.tags


def _incident():
    return alerts(
        {
            "rule": "Terminal shell in container",
            "priority": "Notice",
            "k8s.ns.name": "shop",
            "k8s.pod.name": "web",
            "container.id": "c1",
            "proc.pid": 10,
            "proc.ppid": 1,
            "proc.name": "bash",
            "proc.cmdline": "bash -i",
            "tags": ["mitre_execution", "T1059"],
        },
        {
            "rule": "Read sensitive file",
            "priority": "Warning",
            "k8s.ns.name": "shop",
            "k8s.pod.name": "web",
            "container.id": "c1",
            "proc.pid": 11,
            "proc.ppid": 10,
            "proc.name": "cat",
            "proc.cmdline": "cat /etc/shadow",
            "fd.name": "/etc/shadow",
            "tags": ["mitre_credential_access", "T1555"],
            "t": 5,
        },
    )


def test_report_is_one_offline_document_with_plotly_once():
    text = build_report(_incident())
    tags = _tags(text)
    assert not [t for t, a in tags if t in ("link", "iframe", "img", "object", "embed")]
    assert not [a for t, a in tags if t == "script" and "src" in a]
    hrefs = [a.get("href") for t, a in tags if t == "a"]
    assert all(h.startswith("#") for h in hrefs)
    assert text.count("Plotly.newPlot") >= 5
    assert len(re.findall(r"plotly\.js v\d", text)) == 1  # the bundle's licence header: embedded once


def test_report_forbids_network_and_foreign_scripts_by_csp():
    text = build_report(_incident())
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = [a for t, a in _tags(text) if t == "script" and a.get("type") != "application/json"]
    assert scripts and all(a.get("nonce") == nonce for a in scripts)


def test_report_has_every_section():
    text = build_report(_incident())
    for anchor in ("summary", "findings", "timeline", "drilldown", "lineage", "mitre", "noise", "alerts"):
        assert f'<section id="{anchor}">' in text
    assert "Command and Scripting Interpreter" in text
    assert "cat /etc/shadow" in text


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("field", ["proc.cmdline", "k8s.pod.name", "rule", "output", "fd.name"])
def test_event_strings_never_appear_unescaped(field, payload):
    row = {
        "k8s.pod.name": "web",
        "proc.pid": 5,
        "proc.cmdline": "sh",
        "tags": ["mitre_execution", "T1059"],
        field: payload,
    }
    text = build_report(alerts(row, {**row, "t": 3}), title=payload)
    assert payload not in text
    assert "<img" not in text
    assert len(re.findall(r"</script", text, re.IGNORECASE)) == text.count("<script")


def test_script_json_cannot_close_a_script_element():
    encoded = script_json({"x": "</script><!-- & -->"})
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert encoded == '{"x":"\\u003c/script\\u003e\\u003c!-- \\u0026 --\\u003e"}'


def test_empty_input_says_no_events():
    text = build_report(empty_frame())
    assert "No events: the input is empty or the filters removed every alert." in text
    assert "Plotly.newPlot" not in text


def test_simulated_banner_follows_the_flag():
    assert "SIMULATED DATA" in build_report(_incident(), simulated=True)
    assert "SIMULATED DATA" not in build_report(_incident(), simulated=False)


def test_simulated_banner_detected_from_sidekick_custom_field():
    df = alerts({"simulated": "true"})
    assert "SIMULATED DATA" in build_report(df)


def test_large_input_is_aggregated_in_the_alerts_table():
    df = alerts(
        *[
            {"rule": f"R{i % 3}", "k8s.pod.name": f"p{i % 2}", "output": f"alert number {i}"}
            for i in range(60)
        ]
    )
    text = build_report(df, caps=ReportCaps(alert_rows=10))
    alerts_section = text[text.index('<section id="alerts">') :]
    assert "60 alerts exceed the limit of 10 rows" in alerts_section
    alerts_section = alerts_section[: alerts_section.index("</section>")]
    assert "(6 groups)" in alerts_section
    assert alerts_section.count("<tr>") == (1 + 6) + (1 + 10)  # aggregated groups + the 10 most severe alerts


def test_small_input_lists_every_alert():
    text = build_report(_incident())
    section = text[text.index('<section id="alerts">') :]
    assert "All 2 alerts" in section and section.count("<tr>") == 3


def test_unknown_option_is_an_error():
    with pytest.raises(TypeError, match="unknown report option 'colour'"):
        build_report(_incident(), colour="red")


def test_write_report_writes_utf8_file(tmp_path):
    path = write_report(_incident(), tmp_path / "r.html", title="Über")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_write_report_creates_missing_folders(tmp_path):
    path = write_report(_incident(), tmp_path / "build" / "nested" / "r.html")
    assert path.is_file()


def test_coverage_section_needs_rules(tmp_path):
    from types import SimpleNamespace

    rules = [
        SimpleNamespace(name="Shell", tags={"mitre_execution", "T1059"}),
        SimpleNamespace(name="Discovery", tags={"mitre_discovery", "T1613"}),
    ]
    text = build_report(_incident(), rules=rules)
    assert "Coverage of the loaded rules" in text and "Container and Resource Discovery" in text
    assert "No rules were given" in build_report(_incident())


def test_export_csv_joins_tags(tmp_path):
    path = export_alerts(_incident(), tmp_path / "a.csv")
    back = pd.read_csv(path)
    assert back["tags"].tolist() == ["mitre_execution,T1059", "mitre_credential_access,T1555"]
    assert back["proc.cmdline"].tolist() == ["bash -i", "cat /etc/shadow"]


def test_export_parquet_round_trips(tmp_path):
    from falco_lab.events import read_parquet

    df = _incident()
    back = read_parquet(export_alerts(df, tmp_path / "a.parquet"))
    assert back["tags"].map(list).tolist() == df["tags"].tolist()
    assert back["time"].tolist() == df["time"].tolist()
    assert back["priority"].tolist() == ["Notice", "Warning"]


def test_export_rejects_other_formats(tmp_path):
    with pytest.raises(ValueError, match="use .csv or .parquet"):
        export_alerts(_incident(), tmp_path / "a.xlsx")


def test_export_csv_defuses_spreadsheet_formulas(tmp_path):
    df = alerts({"proc.cmdline": '=HYPERLINK("http://x")', "output": "-2+3"}, {"proc.cmdline": "sh -c id"})
    back = pd.read_csv(export_alerts(df, tmp_path / "a.csv"))
    assert back["proc.cmdline"].tolist() == ['\'=HYPERLINK("http://x")', "sh -c id"]
    assert back["output"].tolist()[0] == "'-2+3"


def test_aggregated_table_keeps_alerts_without_priority_or_rule():
    df = alerts(
        *[{"rule": None if i % 2 else "R", "priority": None if i % 3 else "Notice"} for i in range(12)]
    )
    section = build_report(df, caps=ReportCaps(alert_rows=5))
    section = section[section.index('<section id="alerts">') :]
    groups = re.search(r"\((\d+) groups\)", section).group(1)
    assert groups == "4"
