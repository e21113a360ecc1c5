"""load_capture: a frame of field columns that the rules engine takes as it is."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from falco_lab.capture import CaptureError, is_capture, load_capture
from falco_lab.rules import compile_condition, load_rules_text
from tests.capture._files import capture

RULES = """\
- rule: Write below tmp in a container
  desc: a container process opens a file for writing under /tmp
  condition: evt.type in (open, openat) and container.id != host and fd.name startswith /tmp/ and evt.arg.flags contains O_WRONLY
  output: "%proc.name wrote %fd.name in %container.id (flags=%evt.arg.flags user=%user.name)"
  priority: WARNING
- rule: Connect to localhost port 80
  desc: an outbound TCP connection to port 80
  condition: evt.type = connect and fd.l4proto = tcp and fd.sport = 80
  output: "connect %fd.name"
  priority: NOTICE
"""


def test_columns_are_field_names_with_integer_times() -> None:
    frame = load_capture(capture("falco__psp_run_as_user_0_container.scap"))
    assert {"evt.type", "proc.name", "fd.name", "container.id", "evt.arg.fd"} <= set(frame.columns)
    assert str(frame["evt.time"].dtype) == "Int64" and int(frame["evt.time"].min()) > 10**18
    assert len(frame) == 2441


def test_fields_option_keeps_those_columns_in_order() -> None:
    frame = load_capture(capture("falco__syscall.scap"), fields=["proc.name", "evt.type", "no.such.field"])
    assert list(frame.columns) == ["proc.name", "evt.type", "no.such.field"]
    assert frame["no.such.field"].isna().all()


def test_ruleset_evaluate_fires_on_a_capture() -> None:
    ruleset = load_rules_text(RULES, plugins={"container": "0.6.0"})
    assert ruleset.ok, ruleset.result
    write = ruleset.evaluate(load_capture(capture("falco__psp_write_tmp_test.scap")), hostname="h")
    assert write["rule"].tolist() == ["Write below tmp in a container"]
    assert "bash wrote /tmp/test in 697956520d89" in write["output"].iloc[0]
    connect = ruleset.evaluate(load_capture(capture("falco__connect_localhost.scap")), hostname="h")
    assert connect["rule"].tolist() == ["Connect to localhost port 80"]


def test_explain_takes_a_capture_row() -> None:
    ruleset = load_rules_text(RULES, plugins={"container": "0.6.0"})
    rows = load_capture(capture("falco__psp_run_as_user_0_container.scap")).to_dict("records")
    opened = next(row for row in rows if row["evt.type"] == "open" and row["container.id"] != "host")
    why = ruleset.explain("Write below tmp in a container", opened)
    assert why.result is False
    failed = [
        (node.field, node.value) for node in why.root.children if node.result is False and node.evaluated
    ]
    assert failed == [("fd.name", "/etc/ld.so.cache")]


def test_condition_mask_takes_the_frame() -> None:
    frame = load_capture(capture("falco__open-multiple-files.scap"))
    mask = compile_condition("evt.type = open and fd.directory = /tmp").mask(frame)
    assert int(mask.sum()) == 13


def test_truncated_capture_keeps_the_events_before(tmp_path: Path) -> None:
    data = gzip.decompress(capture("falco__open-multiple-files.scap").read_bytes())
    cut = tmp_path / "cut.scap"
    cut.write_bytes(data[: len(data) - 100])
    with pytest.raises(CaptureError) as info:
        load_capture(cut)
    kept = info.value.frame
    lenient = load_capture(cut, strict=False)
    assert len(kept) == len(lenient) > 0 and "byte" in lenient.attrs["capture_error"]
    assert is_capture(cut)
