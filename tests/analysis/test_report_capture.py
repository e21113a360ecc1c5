"""The report's "What the processes did" section, from a real capture given next to the alerts."""

from __future__ import annotations

import json

import pandas as pd

from falco_lab.analysis.report import build_report
from falco_lab.capture import load_capture
from falco_lab.cli import main
from falco_lab.rules import RulesFile, load_rules
from tests.capture._files import capture

NAME = "falco__psp_run_as_user_0_container.scap"
RULE = """\
- rule: Shell forks in a container
  desc: bash in a container starts a process
  condition: evt.type = clone and proc.name = bash and container.id != host and evt.rawres > 0
  output: bash forked (vpid=%proc.vpid cmdline=%proc.cmdline)
  priority: WARNING
"""


def _replay() -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, object]]]:
    events = load_capture(capture(NAME))
    rules = load_rules(RulesFile("rules.yaml", RULE))
    host = str(events["evt.hostname"].dropna().iloc[0])
    return events, rules.evaluate(events, hostname=host), list(rules.alerts(events, hostname=host))


def test_with_a_capture_the_report_lists_the_child_the_alerting_shell_started() -> None:
    events, alerts, _ = _replay()
    html = build_report(alerts, capture=events)
    part = html.split('<section id="capture-activity">', 1)[1].split("</section>", 1)[0]
    assert '<td class="text">child</td><td class="text">32052 ls</td>' in part
    assert '<a href="#capture-activity">' in html


def test_without_a_capture_the_section_and_its_link_are_left_out() -> None:
    _, alerts, _ = _replay()
    html = build_report(alerts)
    assert 'id="capture-activity"' not in html and "#capture-activity" not in html


def test_names_from_the_capture_are_escaped() -> None:
    events, alerts, _ = _replay()
    hostile = events.assign(
        **{
            "proc.cmdline": events["proc.cmdline"].where(
                events["proc.pid"] != 32052, "<img src=x onerror=alert(1)>"
            )
        }
    )
    html = build_report(alerts, capture=hostile)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_falco_lab_report_takes_capture_files(tmp_path, capsys) -> None:
    _, _, alerts = _replay()
    events = tmp_path / "alerts.jsonl"
    events.write_text("".join(json.dumps(a) + "\n" for a in alerts), encoding="utf-8")
    out = tmp_path / "report.html"
    code = main(
        ["report", str(events), "--capture", str(capture(NAME)), "--capture-window", "1,1", "-o", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    assert '<td class="text">32052 ls</td>' in out.read_text(encoding="utf-8")


def test_a_capture_argument_that_is_no_capture_is_an_error_naming_it(tmp_path, capsys) -> None:
    _, _, alerts = _replay()
    events = tmp_path / "alerts.jsonl"
    events.write_text("".join(json.dumps(a) + "\n" for a in alerts), encoding="utf-8")
    code = main(["report", str(events), "--capture", str(events), "-o", str(tmp_path / "r.html")])
    assert code == 1
    assert f"--capture {events}: not a scap capture" in capsys.readouterr().err
