"""Capture rows carry libsinsp's filter-only fd fields, so conditions on them work on captures."""

from __future__ import annotations

from falco_lab.capture import capture_events
from falco_lab.rules import compile_condition
from tests.capture._files import capture


def _connect() -> dict[str, object]:
    rows = [r for r in capture_events(capture("falco__connect_localhost.scap")) if r["evt.type"] == "connect"]
    assert len(rows) == 1
    return rows[0]


def test_a_connection_has_both_ends_and_each_side_network() -> None:
    row = _connect()
    assert (row["fd.ip"], row["fd.net"], row["fd.port"]) == (["127.0.0.1", "127.0.0.1"],) * 2 + ([47192, 80],)
    assert (row["fd.cnet"], row["fd.snet"], row["fd.lnet"], row["fd.rnet"]) == ("127.0.0.1",) * 4


def test_falcos_localhost_connect_condition_fires_on_the_capture() -> None:
    # the condition of Falco's test rule detect_connect_using_in.yaml (a netmask with the in operator)
    row = _connect()
    assert compile_condition('evt.type = connect and fd.net in ("127.0.0.1/24")').matches(row)
    assert compile_condition("fd.snet in (127.0.0.0/8) and fd.port = 80").matches(row)
    assert not compile_condition("fd.net != 127.0.0.0/8").matches(row)


def test_a_file_has_none_of_them() -> None:
    row = next(r for r in capture_events(capture("falco__cat_write.scap")) if r["evt.type"] == "open")
    assert all(row[name] is None for name in ("fd.ip", "fd.net", "fd.port", "fd.cnet", "fd.snet"))
