"""``falco-lab simulate``: files, summary, errors, and POSTing to a falcosidekick-compatible URL."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest

from falco_lab.cli import main
from tests.conftest import serve_http, shared_file


@pytest.fixture(scope="module")
def rules_args() -> list[str]:
    return [
        "--rules",
        str(shared_file("upstream/falco_rules.yaml")),
        "--rules",
        str(shared_file("upstream/falco-sandbox_rules.yaml")),
    ]


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_workshop_writes_alerts_and_says_simulated(tmp_path, rules_args, capsys) -> None:
    out = tmp_path / "alerts.jsonl"
    assert main(["simulate", "--scenario", "workshop", *rules_args, "--out", str(out)]) == 0
    alerts = _lines(out)
    assert {a["rule"] for a in alerts} == {"Terminal shell in container", "Launch Sensitive Mount Container"}
    assert all("uuid" in a for a in alerts)
    printed = capsys.readouterr().out
    assert printed.startswith("SIMULATED cluster simulated-eks")
    assert f"-> {len(alerts)} alerts" in printed


def test_syscalls_file_holds_one_event_per_line(tmp_path, rules_args) -> None:
    out, syscalls = tmp_path / "a.jsonl", tmp_path / "s.jsonl"
    assert main(["simulate", *rules_args, "--out", str(out), "--syscalls", str(syscalls)]) == 0
    events = _lines(syscalls)
    assert {"asyncevent", "execve", "procexit"} <= {e["evt.type"] for e in events}
    assert all(isinstance(e["evt.num"], int) for e in events)


def test_json_summary(tmp_path, rules_args, capsys) -> None:
    out = tmp_path / "a.jsonl"
    assert main(["simulate", *rules_args, "--seed", "3", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["simulated"], summary["seed"], summary["alerts"]) == (True, 3, len(_lines(out)))


def test_missing_rules_file_is_a_clear_error(tmp_path, capsys) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["simulate", "--rules", str(missing), "--out", str(tmp_path / "a.jsonl")]) == 2
    assert f"rules file(s) not found: {missing}" in capsys.readouterr().err


def test_broken_rules_file_names_file_and_line(tmp_path, capsys) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("- rule: x\n  desc: d\n  condition: proc.name =\n  output: o\n  priority: INFO\n")
    assert main(["simulate", "--rules", str(broken), "--out", str(tmp_path / "a.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "rules did not load" in err and "broken.yaml:" in err


def test_zero_nodes_is_refused(tmp_path) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--nodes", "0", "--out", str(tmp_path / "a.jsonl")])


class _Sidekick(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_post_sends_falco_alerts_to_a_sidekick_url(tmp_path, rules_args) -> None:
    _Sidekick.received = []
    with serve_http(_Sidekick) as server:
        url = f"http://127.0.0.1:{server.server_port}"
        out = tmp_path / "a.jsonl"
        assert main(["simulate", *rules_args, "--out", str(out), "--post", url]) == 0
    sent = _Sidekick.received
    assert len(sent) == len(_lines(out))
    for alert in sent:
        assert {"output", "output_fields", "priority", "rule", "time"} <= set(alert)
        assert "uuid" not in alert  # falcosidekick adds its own


def test_alerts_file_loads_cleanly_with_the_events_loader(tmp_path, rules_args) -> None:
    from falco_lab.events import load_events, load_report

    out = tmp_path / "a.jsonl"
    assert (
        main(
            [
                "simulate",
                "--scenario",
                "incident",
                "--hours",
                "0.3",
                "--nodes",
                "2",
                *rules_args,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    frame = load_events(out)
    assert len(frame) == len(_lines(out))
    assert load_report(frame).bad_records == 0
    assert frame["uuid"].notna().all()
    assert (frame["simulated"] == "true").all()
