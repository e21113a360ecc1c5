"""The saved upstream alert examples load with the right values."""

from __future__ import annotations

import pandas as pd

from falco_lab.events import load_events, load_report
from tests.conftest import shared_file


def test_upstream_examples_load_completely():
    path = shared_file("upstream/falco_events_examples.jsonl")
    frame = load_events(path)
    report = load_report(frame)
    assert report.ok and report.events == 3
    assert frame["rule"].tolist() == [
        "Terminal shell in container",
        "Write below binary dir",
        "Terminal shell in container",
    ]
    assert frame["priority"].astype(str).tolist() == ["Notice", "Error", "Critical"]


def test_upstream_example_values_and_types():
    frame = load_events(shared_file("upstream/falco_events_examples.jsonl"))
    latest = frame.iloc[-1]
    assert latest["time"] == pd.Timestamp("2023-05-25T13:44:05.478445995Z")
    assert latest["tags"] == ["container", "mitre_execution", "shell"]
    assert latest["hostname"] == "falco-xczjd"
    assert latest["proc.cmdline"] == "sh -c clear; (bash || ash || sh)"
    assert frame["proc.tty"].dtype == "Int64" and latest["proc.tty"] == 34816
    assert latest["user.loginuid"] == -1
    assert latest["evt.time"] == 1685022245478445995
    # The oldest example has no source/hostname and a null parent name.
    oldest = frame.iloc[0]
    assert pd.isna(oldest["source"]) and pd.isna(oldest["hostname"]) and pd.isna(oldest["proc.pname"])
