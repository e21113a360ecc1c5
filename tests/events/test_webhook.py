"""falcosidekick webhook payloads: the bare alert, the UI wrapper, lists and JSON text."""

from __future__ import annotations

import orjson
import pytest

from falco_lab.events import LoadError, frame_from_alerts, load_events, load_report, read_webhook
from tests.events.helpers import REMOVE, alert


def test_bare_alert_with_uuid():
    chunk = read_webhook(alert(0))
    assert chunk.frame["uuid"].tolist() == [alert(0)["uuid"]]
    assert chunk.problems == []


def test_ui_wrapper_is_unwrapped():
    chunk = read_webhook({"event": alert(1), "outputs": ["WebUI"]})
    assert chunk.frame["rule"].tolist() == [alert(1)["rule"]]


def test_list_of_payloads_from_json_bytes_reports_bad_one_by_position():
    body = orjson.dumps([alert(0), {"event": alert(1, rule=REMOVE), "outputs": []}, alert(2)])
    chunk = read_webhook(body, "hook")
    assert len(chunk.frame) == 2
    [problem] = chunk.problems
    assert (problem.file, problem.line) == ("hook", None)
    assert problem.reason == "payload 2: missing required key 'rule'"


def test_invalid_json_text_is_one_problem():
    chunk = read_webhook(b"{not json", "hook")
    assert chunk.frame.empty
    assert chunk.problems[0].reason.startswith("invalid JSON")


def test_load_events_accepts_a_payload_dict():
    frame = load_events({"event": alert(3), "outputs": ["WebUI"]})
    assert len(frame) == 1 and load_report(frame).sources == ("<webhook>",)


def test_pretty_printed_payload_file(tmp_path):
    path = tmp_path / "payload.json"
    path.write_bytes(orjson.dumps({"event": alert(4), "outputs": ["WebUI"]}, option=orjson.OPT_INDENT_2))
    frame = load_events(path)
    assert frame["uuid"].tolist() == [alert(4)["uuid"]]
    assert load_report(frame).ok


def test_frame_from_alerts_types_like_the_loaders():
    frame = frame_from_alerts([alert(2), alert(1)])
    assert frame["uuid"].tolist() == [alert(2)["uuid"], alert(1)["uuid"]]  # order kept
    assert frame["proc.pid"].dtype == "Int64"


def test_frame_from_alerts_is_strict_by_default():
    with pytest.raises(LoadError, match="alert 2: missing required key 'rule'"):
        frame_from_alerts([alert(0), alert(1, rule=REMOVE)])
