"""fd.ip, fd.net and fd.port match either end of a connection; ``!=`` needs both ends to differ (libs)."""

from __future__ import annotations

import pandas as pd
import pytest

from falco_lab.rules import compile_condition

CONNECTION = {"evt.type": "connect", "fd.ip": ["10.0.0.5", "127.0.0.1"], "fd.net": ["10.0.0.5", "127.0.0.1"],
              "fd.port": [47192, 80]}  # fmt: skip

CASES = {
    'fd.net in ("127.0.0.1/24")': True,
    "fd.net = 10.0.0.0/8": True,
    "fd.net != 127.0.0.0/8": False,  # one end is in it
    "fd.net != 192.168.0.0/16": True,  # neither end is
    "fd.ip = 127.0.0.1": True,
    "fd.ip != 127.0.0.1": False,
    "fd.ip != 1.2.3.4": True,
    "fd.port = 80": True,
    "fd.port != 80": False,
    "fd.port < 100": True,
    "fd.port > 50000": False,
    "fd.port in (22, 80)": True,
}


@pytest.mark.parametrize("condition", list(CASES))
def test_either_end_per_event_and_per_frame(condition: str) -> None:
    compiled = compile_condition(condition)
    assert compiled.matches(CONNECTION) is CASES[condition]
    frame = pd.DataFrame([CONNECTION, {"evt.type": "open"}])
    assert compiled.mask(frame).tolist() == [CASES[condition], False]


def test_a_listening_socket_has_one_end() -> None:
    listening = {"evt.type": "accept", "fd.ip": ["0.0.0.0"], "fd.port": [80]}
    assert compile_condition("fd.ip != 0.0.0.0").matches(listening) is False
    assert compile_condition("fd.port = 80").matches(listening) is True
