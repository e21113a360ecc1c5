"""What alerting processes did, from real captures: alerts made by replaying the capture through
rules, checked against what libsinsp (sysdig, ``tests/capture/data``) shows for the same pid."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from falco_lab.analysis.capture_activity import activity_rows, capture_activity
from falco_lab.capture import load_capture
from falco_lab.rules import RulesFile, load_rules
from tests.capture._files import capture

SYSDIG = Path(__file__).parents[1] / "capture" / "data" / "sysdig_expectations.json.gz"


def _sysdig_rows(name: str) -> list[dict[str, str]]:
    data = json.loads(gzip.decompress(SYSDIG.read_bytes()))
    return [dict(zip(data["columns"], row, strict=True)) for row in data["files"][name]]


def _replay(name: str, rules_text: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The capture's events and the alerts the rules raise on them (host name: the capture's)."""
    events = load_capture(capture(name))
    rules = load_rules(RulesFile("rules.yaml", rules_text))
    assert rules.ok, rules.result
    host = str(events["evt.hostname"].dropna().iloc[0])
    return events, rules.evaluate(events, hostname=host)


CAT_RULE = """\
- rule: Cat runs
  desc: cat is executed
  condition: evt.type = execve and proc.name = cat
  output: cat ran (pid=%proc.pid cmdline=%proc.cmdline)
  priority: WARNING
"""

BASH_RULE = """\
- rule: Shell forks in a container
  desc: bash in a container starts a process
  condition: evt.type = clone and proc.name = bash and container.id != host and evt.rawres > 0
  output: bash forked (vpid=%proc.vpid cmdline=%proc.cmdline)
  priority: WARNING
"""

CONNECT_RULE = """\
- rule: Connects
  desc: any connect
  condition: evt.type = connect
  output: connect (pid=%proc.pid)
  priority: NOTICE
"""


def test_the_files_of_an_alerting_process_are_those_sysdig_shows_it_opening() -> None:
    events, alerts = _replay("falco__cat_write.scap", CAT_RULE)
    (process,) = capture_activity(alerts, events).processes
    opened = {
        row["fd.name"]
        for row in _sysdig_rows("falco__cat_write.scap")
        if row["evt.type"] in ("open", "openat")
        and row["proc.pid"] == str(process.pid)
        and int(row["evt.rawres"]) >= 0
    }
    assert opened and {f.name for f in process.files} == opened


def test_open_flags_are_libsinsps_flag_names() -> None:
    events, alerts = _replay("falco__cat_write.scap", CAT_RULE)
    (process,) = capture_activity(alerts, events).processes
    flags = {
        row["fd.name"]: tuple(row["evt.arg.flags"].split("|"))
        for row in _sysdig_rows("falco__cat_write.scap")
        if row["evt.type"] == "open" and row["proc.pid"] == str(process.pid)
    }
    assert {f.name: f.flags for f in process.files} == flags


def test_a_process_found_by_its_pid_in_a_container_lists_the_child_it_started() -> None:
    name = "falco__psp_run_as_user_0_container.scap"
    events, alerts = _replay(name, BASH_RULE)
    assert "proc.pid" not in alerts.columns  # the rule prints the vpid only: matched by container and vpid
    (process,) = capture_activity(alerts, events).processes
    children = {
        (int(row["proc.pid"]), row["proc.exe"])
        for row in _sysdig_rows(name)
        if row["evt.type"] == "execve" and row["proc.ppid"] == str(process.pid)
    }
    assert children == {(32052, "ls")}
    assert [(c.pid, c.name, c.cmdline) for c in process.children] == [(32052, "ls", "ls")]


def test_a_connection_is_listed_with_its_tuple_and_protocol() -> None:
    events, alerts = _replay("falco__connect_localhost.scap", CONNECT_RULE)
    (process,) = capture_activity(alerts, events).processes
    assert [(c.evt_type, c.name, c.l4proto) for c in process.connections] == [
        ("connect", "127.0.0.1:47192->127.0.0.1:80", "tcp")
    ]


def test_the_window_leaves_out_what_happened_before_it() -> None:
    events, alerts = _replay("falco__cat_write.scap", CAT_RULE)
    opened = events[events["fd.name"] == "/usr/lib/locale/locale-archive"]
    at = pd.Timestamp(int(opened["evt.time"].iloc[0]), unit="ns", tz="UTC")
    (process,) = capture_activity(alerts.assign(time=at), events, before=0, after=60).processes
    assert [f.name for f in process.files] == ["/usr/lib/locale/locale-archive", "/dev/null"]


def test_an_alert_outside_the_window_of_every_event_is_unmatched() -> None:
    events, alerts = _replay("falco__cat_write.scap", CAT_RULE)
    late = alerts.assign(time=alerts["time"] + pd.Timedelta(hours=1))
    activity = capture_activity(late, events)
    assert (activity.processes, activity.unmatched) == ([], 1)


def test_an_alert_from_another_host_is_counted_as_such() -> None:
    events, alerts = _replay("falco__cat_write.scap", CAT_RULE)
    activity = capture_activity(alerts.assign(hostname="elsewhere"), events)
    assert (activity.processes, activity.unmatched, activity.other_host) == ([], 1, 1)
    assert len(capture_activity(alerts.assign(hostname="elsewhere"), events, match_host=False).processes) == 1


def test_an_alert_naming_no_process_is_unplaced() -> None:
    events, alerts = _replay("falco__cat_write.scap", CAT_RULE)
    activity = capture_activity(alerts.drop(columns=["proc.pid"]).assign(**{"proc.cmdline": None}), events)
    assert (activity.processes, activity.unplaced) == ([], 1)


def test_a_recycled_pid_under_another_name_is_not_the_alerting_process() -> None:
    events, alerts = _replay("falco__cat_write.scap", CAT_RULE)
    activity = capture_activity(alerts.assign(**{"proc.name": "nginx"}), events)
    assert (activity.processes, activity.unmatched) == ([], 1)


def test_lists_are_capped_with_the_number_left_out() -> None:
    events, alerts = _replay("falco__cat_write.scap", CAT_RULE)
    (process,) = capture_activity(alerts, events, max_items=1).processes
    assert (len(process.files), process.files_more) == (1, 3)
    rows = activity_rows(capture_activity(alerts, events, max_items=1))
    assert rows["what"].tolist()[-1] == "… 3 more"


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        capture_activity(pd.DataFrame(), pd.DataFrame(), before=-1)


def test_alerting_processes_are_capped_with_the_number_left_out() -> None:
    events, alerts = _replay("falco__cat_write.scap", CAT_RULE)
    three = pd.concat([alerts] * 3, ignore_index=True)
    activity = capture_activity(three, events, max_processes=1)
    assert (len(activity.processes), activity.processes_more) == (1, 2)
