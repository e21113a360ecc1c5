"""The since window in the UI's grammar."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from falco_lab.events.since import since_cutoff, since_param, since_seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5min", 300),
        ("24h", 86400),
        ("2d", 172800),
        ("1w", 604800),
        ("3M", 3 * 30 * 86400),
        ("1y", 365 * 86400),
        ("90", 90),
        ("10s", 10),
        ("2 hours", 7200),
        ("15m", 900),
    ],
)
def test_since_seconds(text, seconds):
    assert since_seconds(text) == seconds


def test_invalid_since_is_rejected():
    with pytest.raises(ValueError, match="invalid since"):
        since_seconds("soon")


def test_cutoff_of_absolute_time_is_utc():
    assert since_cutoff(dt.datetime(2026, 1, 1, 12)) == pd.Timestamp("2026-01-01T12:00Z")


def test_param_is_always_plain_seconds():
    assert since_param("24h") == "86400"
    assert since_param(dt.timedelta(minutes=5)) == "300"


@pytest.mark.parametrize(
    ("text", "seconds"), [("10sec", "10"), ("5mins", "300"), ("2Hours", "7200"), (" 3 d ", "259200")]
)
def test_units_the_ui_would_crash_on_are_sent_as_seconds(text, seconds):
    # falcosidekick-ui 2.2.0 calls log.Fatalf on "sec", "mins" or "Hours"; seconds it always parses
    assert since_param(text) == seconds
