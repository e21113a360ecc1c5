"""The report opened in a real headless Chromium: attacker strings show as text and never run.

Chromium comes from Debian's package (``/usr/bin/chromium``; ``make test`` installs it
on CI).  Outside CI a missing browser skips these tests with a message saying so; on
CI (``CI=true``) it fails them.
"""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pytest

from falco_lab.analysis._html import script_json
from falco_lab.analysis.report import write_report
from falco_lab.analysis.triage import Mark
from falco_lab.events.load_diagnostics import LoadReport, Problem
from tests.analysis.frames import alerts
from tests.conftest import required_tool

# Each payload, if it ran, would leave a trace in the DOM: a changed <title>, an attribute
# on <body>, or an element with id "xss-ran".
SCRIPT = "<script>document.title='pwned';document.body.setAttribute('data-xss','script')</script>"
IMG = "</script><img src=x onerror=\"document.body.setAttribute('data-xss','img')\">"
SVG = "<svg onload=\"var d=document.createElement('div');d.id='xss-ran';document.body.appendChild(d)\">"
TITLE = "Post-mortem <script>document.title='pwned'</script>"


def _chromium() -> str:
    return required_tool(
        ("chromium", "chromium-browser"),
        "Chromium is not installed (apt-get install chromium; make test installs it on CI)",
    )


def _dump_dom(html_path, profile) -> str:
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", html_path.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name == "id" and value)


def _ids(dom: str) -> set[str]:
    """The ids of the elements of the DOM (an id inside an attribute's text is not one)."""
    parser = _Ids()
    parser.feed(dom)
    return parser.ids


def _hostile_alerts():
    row = {"k8s.ns.name": "shop", "container.id": "c1", "proc.ppid": 1, "tags": ["mitre_execution", "T1059"]}
    df = _runtime_alerts(row)
    extra = alerts(
        {  # an audited exec into the hostile pod, by a hostile user name, with a hostile command
            "source": "k8s_audit",
            "rule": "Attach/Exec Pod",
            "ka.user.name": SCRIPT,
            "ka.target.namespace": "shop",
            "ka.target.name": IMG,
            "ka.target.resource": "pods",
            "ka.target.subresource": "exec",
            "ka.uri.param[command]": SVG,
            "t": -1,
        },
        {"source": "aws_cloudtrail", "rule": "Cloud", "ct.user": IMG, "ct.name": SVG, "t": 2},
        {"rule": "Falco internal: syscall event drop", "hostname": SVG, "priority": "Critical", "t": 3},
    )
    merged = pd.concat([df, extra], ignore_index=True).sort_values("time", ignore_index=True)
    merged.attrs["load_report"] = LoadReport(
        sources=(IMG,), events=len(merged), problems=(Problem(IMG, 1, SVG),), warnings=(SCRIPT,), duplicates=1
    )
    return merged


def _runtime_alerts(row):
    return alerts(
        {
            **row,
            "k8s.pod.name": IMG,
            "proc.pid": 10,
            "proc.name": "sh",
            "proc.cmdline": SCRIPT,
            "rule": SVG,
            "output": IMG,
            "priority": "Critical",
        },
        {
            **row,
            "k8s.pod.name": "web",
            "proc.pid": 11,
            "proc.pname": SVG,
            "proc.cmdline": IMG,
            "fd.name": SCRIPT,
            "output": SCRIPT,
            "t": 5,
        },
    )


@pytest.mark.parametrize("csp", [True, False], ids=["with-csp", "escaping-alone"])
def test_injected_markup_shows_as_text_and_never_runs(tmp_path, csp):
    html_path = write_report(_hostile_alerts(), tmp_path / "report.html", title=TITLE, csp=csp)
    dom = _dump_dom(html_path, tmp_path / "profile")
    title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert title == "Post-mortem &lt;script&gt;document.title='pwned'&lt;/script&gt;"
    assert re.search(r"<body[^>]*>", dom).group(0) == "<body>"
    assert "xss-ran" not in _ids(dom)
    assert "<img" not in dom and "<svg onload" not in dom
    # the payloads are there, as text, in the alerts table
    assert "&lt;/script&gt;&lt;img src=x onerror=\"document.body.setAttribute('data-xss','img')\"&gt;" in dom
    assert (
        "&lt;script&gt;document.title='pwned';document.body.setAttribute('data-xss','script')&lt;/script&gt;"
        in dom
    )
    # and plotly drew the charts, with the payloads as literal label text
    assert dom.count('class="main-svg"') >= 5
    assert re.search(r"<text[^>]*>&lt;/script&gt;&lt;img src=x", dom)
    # every section that shows alert-derived text got the payloads and kept them as text
    for section in ("chains", "activity", "sources", "findings", "iocs", "noise"):
        start = dom.index(f'<section id="{section}">')
        body = dom[start : dom.index("</section>", start)]
        assert "&lt;script&gt;" in body or "&lt;img src=x" in body or "&lt;svg onload" in body, section
    for text in ("Who opened the shells", "Blind spots", "Opened by", "Loading changed the data"):
        assert text in dom
    # an indicator whose value is an attacker's string (the audited user) is a text cell of the IOC table
    iocs = dom[dom.index('<section id="iocs">') :]
    iocs = iocs[: iocs.index("</section>")]
    assert '<td class="text">user</td><td class="text">&lt;script&gt;document.title=\'pwned\'' in iocs


def _drive(html_path, steps: str) -> None:
    """Append a script (with the report's own nonce) that acts as the reader: it runs last."""
    text = html_path.read_text(encoding="utf-8")
    nonce = re.search(r'<script nonce="([^"]+)">', text).group(1)
    driver = f'<script nonce="{nonce}">(function(){{{steps}}})();</script>'
    html_path.write_text(text.replace("</body>", driver + "</body>"), encoding="utf-8")


def _type_into_filters(*texts: str) -> str:
    """JS that types each text, in turn, into every filter box (an ``input`` event each time)."""
    return (
        f"var texts={script_json(list(texts))};"
        "document.querySelectorAll('.filter input').forEach(function(box){"
        "texts.forEach(function(t){box.value=t;box.dispatchEvent(new Event('input'));});});"
    )


@pytest.mark.parametrize("csp", [True, False], ids=["with-csp", "escaping-alone"])
def test_opened_json_and_typed_filters_keep_attacker_strings_as_text(tmp_path, csp):
    df = _hostile_alerts()
    marks = [Mark(str(df["uuid"].iloc[0]), "false_positive", note=SVG, who=IMG)]
    html_path = write_report(df, tmp_path / "report.html", title=TITLE, csp=csp, triage=marks)
    _drive(
        html_path,
        "document.querySelectorAll('details').forEach(function(d){d.open=true;});"
        + _type_into_filters(IMG, SVG, SCRIPT),
    )
    dom = _dump_dom(html_path, tmp_path / "profile")
    assert re.search(r"<title>(.*?)</title>", dom, re.S).group(1).startswith("Post-mortem &lt;script&gt;")
    assert re.search(r"<body[^>]*>", dom).group(0) == "<body>"
    assert "xss-ran" not in _ids(dom)
    assert "<img" not in dom and "<svg onload" not in dom
    # the JSON views were opened and show the payloads as text
    opened = re.findall(r'<details class="raw" open="">.*?<pre>(.*?)</pre>', dom, re.S)
    assert opened and any("&lt;/script&gt;&lt;img src=x" in pre for pre in opened)
    # the filter ran on the typed payload: its count says how many rows still match
    assert re.search(r'<div class="filter"><input[^>]*><span>\d+ of \d+ rows</span></div>', dom)
    notes = dom[dom.index('<section id="case-notes">') :]
    assert "&lt;svg onload" in notes[: notes.index("</section>")]


def test_the_filter_box_hides_rows_that_do_not_match(tmp_path):
    df = alerts(*({"k8s.pod.name": pod, "k8s.ns.name": "shop"} for pod in ("web", "db", "cache", "db")))
    html_path = write_report(df, tmp_path / "report.html")
    _drive(html_path, _type_into_filters("DB"))
    dom = _dump_dom(html_path, tmp_path / "profile")
    section = dom[dom.index('<section id="alerts">') :]
    table = section[section.index("<tbody>") : section.index("</tbody>")]
    rows = re.findall(r"<tr([^>]*)>(.*?)</tr>", table, re.S)
    shown = sorted(
        re.search(r'<td class="text">(web|db|cache)</td>', body).group(1)
        for attrs, body in rows
        if "hidden" not in attrs
    )
    assert len(rows) == 4 and shown == ["db", "db"]
    assert "<span>2 of 4 rows</span>" in section
