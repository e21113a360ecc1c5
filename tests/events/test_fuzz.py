"""Property: corrupting lines of a valid file loses nothing else, and every corruption is reported."""

from __future__ import annotations

import io

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from falco_lab.events import load_events, load_report
from tests.events.helpers import alert

MAX_LINE = 2048


def _truncate(line: bytes, data: st.DataObject) -> bytes:
    return line[: data.draw(st.integers(1, len(line) - 1), label="cut")]


def _bad_utf8(line: bytes, data: st.DataObject) -> bytes:
    at = data.draw(st.integers(0, len(line)), label="at")
    return (
        line[:at] + data.draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"])) + line[at:]
    )


def _not_object(line: bytes, data: st.DataObject) -> bytes:
    return data.draw(st.sampled_from([b"[1, 2]", b"42", b'"text"', b"null", b"true", b"[]"]))


def _missing_key(line: bytes, data: st.DataObject) -> bytes:
    event = orjson.loads(line)
    key = data.draw(st.sampled_from(["rule", "priority", "time"]))
    event.pop(key)
    if key == "time":
        event["output_fields"].pop("evt.time")
    return orjson.dumps(event)


def _wrong_type(line: bytes, data: st.DataObject) -> bytes:
    event = orjson.loads(line)
    key, value = data.draw(
        st.sampled_from(
            [
                ("priority", 4),
                ("rule", ["x"]),
                ("tags", "shell"),
                ("tags", [1]),
                ("output_fields", "x"),
                ("source", 1.5),
                ("time", 12345),
                ("priority", "loud"),
            ]
        )
    )
    event[key] = value
    return orjson.dumps(event)


def _overlong(line: bytes, data: st.DataObject) -> bytes:
    event = orjson.loads(line)
    event["output"] = "x" * data.draw(st.integers(MAX_LINE, 3 * MAX_LINE))
    return orjson.dumps(event)


def _garbage(line: bytes, data: st.DataObject) -> bytes:
    return b"#" + data.draw(st.binary(max_size=40)).replace(b"\n", b"")


def _merged(line: bytes, data: st.DataObject) -> bytes:
    return line + line


CORRUPTIONS = [_truncate, _bad_utf8, _not_object, _missing_key, _wrong_type, _overlong, _garbage, _merged]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_file_keeps_every_valid_line_and_reports_every_bad_one(data):
    n = data.draw(st.integers(1, 30), label="lines")
    events = [alert(i) for i in range(n)]
    for i, event in enumerate(events):  # the null-then-int trap
        event["output_fields"]["proc.vpid"] = None if i < n // 2 else i
    bad = data.draw(st.sets(st.integers(0, n - 1)), label="bad")
    out: list[bytes] = []
    expected_lines: list[int] = []
    expected_uuids: list[str] = []
    for i, event in enumerate(events):
        if data.draw(st.booleans(), label="blank before"):
            out.append(data.draw(st.sampled_from([b"", b"  ", b"\r"])))
        line = orjson.dumps(event)
        if i in bad:
            line = data.draw(st.sampled_from(CORRUPTIONS), label="corruption")(line, data)
            expected_lines.append(len(out) + 1)
        else:
            expected_uuids.append(event["uuid"])
        out.append(line + (b"\r" if data.draw(st.booleans(), label="crlf") else b""))
    frame = load_events(io.BytesIO(b"\n".join(out) + b"\n"), max_line_bytes=MAX_LINE, warn=False)
    report = load_report(frame)
    assert frame["uuid"].tolist() == expected_uuids
    assert [p.line for p in report.problems] == expected_lines
    assert all(p.file == "<stream>" and p.reason for p in report.problems)
    assert report.events == len(expected_uuids)
