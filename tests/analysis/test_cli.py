"""``falco-lab report``: loading, filters, exports, errors."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from falco_lab.analysis import cli


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="falco-lab")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


def _alert(
    minute: int, ns: str, pod: str, rule: str = "Terminal shell in container", priority: str = "Notice"
):
    return {
        "time": f"2026-11-27T10:{minute:02d}:00.000000000Z",
        "rule": rule,
        "priority": priority,
        "source": "syscall",
        "hostname": "ip-10-0-1-2.eu-west-1.compute.internal",
        "tags": ["container", "mitre_execution", "T1059"],
        "output": f"10:{minute:02d}:00.000000000: {priority} shell in {pod}",
        "output_fields": {
            "k8s.ns.name": ns,
            "k8s.pod.name": pod,
            "container.id": f"c-{pod}",
            "proc.pid": 100 + minute,
            "proc.cmdline": f"sh -c step{minute}",
        },
    }


@pytest.fixture
def events_file(tmp_path):
    rows = [
        _alert(0, "shop", "web"),
        _alert(10, "shop", "db"),
        _alert(20, "ci", "runner"),
        _alert(30, "shop", "web", "Read sensitive file untrusted", "Warning"),
    ]
    path = tmp_path / "alerts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _exported(tmp_path, events_file, *options: str) -> pd.DataFrame:
    csv = tmp_path / "out.csv"
    assert (
        _main(["report", str(events_file), "-o", str(tmp_path / "r.html"), "--csv", str(csv), *options]) == 0
    )
    return pd.read_csv(csv)


def test_report_writes_html_with_every_alert(tmp_path, events_file, capsys):
    assert _main(["report", str(events_file), "-o", str(tmp_path / "r.html")]) == 0
    assert "4 of 4 alerts" in capsys.readouterr().out
    assert "All 4 alerts" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_namespace_filter(tmp_path, events_file):
    assert sorted(_exported(tmp_path, events_file, "--namespace", "shop")["k8s.pod.name"]) == [
        "db",
        "web",
        "web",
    ]


def test_pod_filter_is_repeatable(tmp_path, events_file):
    kept = _exported(tmp_path, events_file, "--pod", "db", "--pod", "runner")["k8s.pod.name"]
    assert sorted(kept) == ["db", "runner"]


def test_since_is_inclusive_and_until_exclusive(tmp_path, events_file):
    kept = _exported(
        tmp_path, events_file, "--since", "2026-11-27T10:10:00Z", "--until", "2026-11-27T10:30:00Z"
    )
    assert kept["k8s.pod.name"].tolist() == ["db", "runner"]


def test_since_as_duration_counts_back_from_last_alert(tmp_path, events_file):
    assert _exported(tmp_path, events_file, "--since", "15m")["k8s.pod.name"].tolist() == ["runner", "web"]


def test_filters_combine(tmp_path, events_file):
    kept = _exported(
        tmp_path,
        events_file,
        "--namespace",
        "shop",
        "--since",
        "2026-11-27T10:05:00",
        "--min-priority",
        "Warning",
    )
    assert kept["rule"].tolist() == ["Read sensitive file untrusted"]


def test_filter_that_removes_everything_gives_no_events_report(tmp_path, events_file, capsys):
    assert _main(["report", str(events_file), "-o", str(tmp_path / "r.html"), "--pod", "nope"]) == 0
    assert "no events matched" in capsys.readouterr().out
    assert "No events: the input is empty" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_parquet_export_is_read_back_by_the_report(tmp_path, events_file, capsys):
    parquet = tmp_path / "cut.parquet"
    assert (
        _main(
            [
                "report",
                str(events_file),
                "-o",
                str(tmp_path / "a.html"),
                "--pod",
                "web",
                "--parquet",
                str(parquet),
            ]
        )
        == 0
    )
    assert _main(["report", str(parquet), "-o", str(tmp_path / "b.html")]) == 0
    assert "2 of 2 alerts" in capsys.readouterr().out.splitlines()[-1]


def test_parquet_archive_still_reports_the_records_its_load_rejected(tmp_path, events_file, capsys):
    with events_file.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    parquet = tmp_path / "cut.parquet"
    assert _main(["report", str(events_file), "-o", str(tmp_path / "a.html"), "--parquet", str(parquet)]) == 0
    capsys.readouterr()
    out = tmp_path / "b.html"
    assert _main(["report", str(parquet), "-o", str(out)]) == 0
    assert f"{events_file}:5:" in capsys.readouterr().err
    assert "1 input record was rejected while loading" in out.read_text(encoding="utf-8")


def test_parquet_and_json_lines_are_merged_in_time_order(tmp_path, events_file, capsys):
    parquet = tmp_path / "late.parquet"
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps(_alert(5, "shop", "cache")) + "\n", encoding="utf-8")
    assert _main(["report", str(events_file), "-o", str(tmp_path / "a.html"), "--parquet", str(parquet)]) == 0
    csv = tmp_path / "merged.csv"
    assert _main(["report", str(parquet), str(later), "-o", str(tmp_path / "b.html"), "--csv", str(csv)]) == 0
    assert "5 of 5 alerts" in capsys.readouterr().out.splitlines()[-2]
    assert pd.read_csv(csv)["k8s.pod.name"].tolist() == ["web", "cache", "db", "runner", "web"]


def test_missing_parquet_archive_is_a_clear_error(tmp_path, capsys):
    assert _main(["report", str(tmp_path / "gone.parquet"), "-o", str(tmp_path / "r.html")]) == 1
    assert "gone.parquet" in capsys.readouterr().err


def test_bad_time_is_a_clear_error(tmp_path, events_file, capsys):
    assert (
        _main(["report", str(events_file), "-o", str(tmp_path / "r.html"), "--since", "yesterday-ish"]) == 2
    )
    assert "cannot read 'yesterday-ish' as a time" in capsys.readouterr().err


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    assert _main(["report", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "r.html")]) == 1
    assert "nope.jsonl" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_incident_marks_and_title(tmp_path, events_file):
    out = tmp_path / "r.html"
    assert (
        _main(
            [
                "report",
                str(events_file),
                "-o",
                str(out),
                "--title",
                "Shop <breach>",
                "--incident",
                "breach=2026-11-27T10:05:00Z",
                "--simulated",
            ]
        )
        == 0
    )
    text = out.read_text(encoding="utf-8")
    assert "<h1>Shop &lt;breach&gt;</h1>" in text and "SIMULATED DATA" in text
    assert '"text":"breach"' in text


def test_rules_option_adds_coverage_view(tmp_path, events_file):
    from tests.conftest import shared_file

    out = tmp_path / "r.html"
    rules = shared_file("upstream/falco_rules.yaml")
    assert _main(["report", str(events_file), "-o", str(out), "--rules", str(rules)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Coverage of the loaded rules" in text and "Escape to Host" in text


def test_what_if_exception_is_reported(tmp_path, events_file, capsys):
    out = tmp_path / "r.html"
    assert (
        _main(
            [
                "report",
                str(events_file),
                "-o",
                str(out),
                "--what-if-exception",
                "k8s.ns.name = ci",
                "--what-if-rule",
                "Terminal shell in container",
            ]
        )
        == 0
    )
    assert "4 → 3 alerts (1 suppressed, 25.0% fewer)" in capsys.readouterr().out
    assert "What if: exception [k8s.ns.name = ci] on Terminal shell in container" in out.read_text(
        encoding="utf-8"
    )


def test_what_if_with_bad_condition_is_a_clear_error(tmp_path, events_file, capsys):
    assert (
        _main(
            [
                "report",
                str(events_file),
                "-o",
                str(tmp_path / "r.html"),
                "--what-if-exception",
                "proc.name = = sh",
            ]
        )
        == 2
    )
    assert "--what-if-exception" in capsys.readouterr().err


def test_report_on_upstream_example_alerts(tmp_path, capsys):
    from tests.conftest import shared_file

    out = tmp_path / "r.html"
    assert _main(["report", str(shared_file("upstream/falco_events_examples.jsonl")), "-o", str(out)]) == 0
    assert "3 of 3 alerts" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert "Terminal shell in container" in text and "Write below binary dir" in text
    # those rules print proc.name/cmdline but no proc.pid: processes are placed by command line
    assert "touch /bin/hack" in text[text.index('<section id="lineage">') :]


def test_empty_events_file_says_there_are_no_alerts_and_exits_non_zero(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "r.html"
    assert _main(["report", str(empty), "-o", str(out), "--csv", str(tmp_path / "e.csv")]) == 1
    captured = capsys.readouterr()
    assert f"falco-lab report: no alerts in {empty}" in captured.err
    assert "0 of 0 alerts — no events matched" in captured.out
    assert "No events: the input is empty" in out.read_text(encoding="utf-8")


def test_bad_records_are_reported_and_good_ones_kept(tmp_path, events_file, capsys):
    with events_file.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    out = tmp_path / "r.html"
    assert _main(["report", str(events_file), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"{events_file}:5:" in captured.err
    assert "4 of 4 alerts" in captured.out
    assert "1 input record was rejected while loading" in out.read_text(encoding="utf-8")


def _twice(tmp_path, events_file, *options: str) -> pd.DataFrame:
    csv = tmp_path / "twice.csv"
    argv = ["report", str(events_file), str(events_file), "-o", str(tmp_path / "r.html"), "--csv", str(csv)]
    assert _main([*argv, *options]) == 0
    return pd.read_csv(csv)


def test_the_same_file_twice_is_reported_once_with_its_duplicates_counted(tmp_path, events_file):
    # the alerts carry no uuid: duplicates are the same time, rule, output and hostname
    assert len(_twice(tmp_path, events_file)) == 4
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "4 duplicate alerts dropped" in html


def test_keep_duplicates_keeps_both_copies(tmp_path, events_file):
    assert len(_twice(tmp_path, events_file, "--keep-duplicates")) == 8


def test_what_if_workload_covers_every_pod_of_the_workload(tmp_path, capsys):
    rows = [_alert(i, "shop", f"web-7f9c8d6b54-{s}") for i, s in enumerate(("x7k2p", "b2c4d", "zz9qq"))]
    rows.append(_alert(5, "shop", "db-0"))
    events = tmp_path / "alerts.jsonl"
    events.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    argv = ["report", str(events), "-o", str(tmp_path / "r.html"), "--what-if-exception", "proc.pid > 0"]
    assert _main([*argv, "--what-if-workload", "web"]) == 0
    assert "4 → 1 alerts (3 suppressed, 75.0% fewer)" in capsys.readouterr().out


def test_report_reads_the_triage_file_next_to_the_events(tmp_path, events_file):
    from falco_lab.analysis.triage import chain_id, mark

    mark(events_file, chain_id("shop/db"), "false_positive", "the DBA's shell", who="alice")
    out = tmp_path / "r.html"
    assert _main(["report", str(events_file), "-o", str(out)]) == 0
    assert "the DBA&#x27;s shell" in out.read_text(encoding="utf-8")


def test_report_takes_a_triage_file_by_option(tmp_path, events_file):
    from falco_lab.analysis.triage import mark

    notes = tmp_path / "case" / "notes.json"
    mark(events_file, "some-uuid", "confirmed", "seen in the SIEM", triage_file=notes)
    out = tmp_path / "r.html"
    assert _main(["report", str(events_file), "-o", str(out), "--triage", str(notes)]) == 0
    assert "seen in the SIEM" in out.read_text(encoding="utf-8")


def test_an_invalid_triage_file_is_a_clear_error(tmp_path, events_file, capsys):
    bad = tmp_path / "bad.triage.json"
    bad.write_text('{"marks": [\n {"target": "u1", "status": "maybe"}\n]}\n', encoding="utf-8")
    assert _main(["report", str(events_file), "-o", str(tmp_path / "r.html"), "--triage", str(bad)]) == 1
    assert f"{bad}:2: status 'maybe'" in capsys.readouterr().err
