"""Invariants checked on generated inputs (hypothesis)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from falco_lab.analysis._html import label, script_json
from falco_lab.analysis.lineage import build_process_tree
from tests.analysis.frames import alerts

_alert = st.fixed_dictionaries(
    {
        "container.id": st.sampled_from(["c1", "c2"]),
        "proc.pid": st.one_of(st.none(), st.integers(1, 6)),
        "proc.ppid": st.one_of(st.none(), st.integers(1, 6)),
        "proc.cmdline": st.one_of(st.none(), st.sampled_from(["sh", "sh -c x", "curl u", "bash"])),
        "proc.pname": st.one_of(st.none(), st.sampled_from(["sh", "bash", "runc"])),
        "proc.apid[2]": st.one_of(st.none(), st.integers(1, 6)),
        "proc.aname[2]": st.one_of(st.none(), st.sampled_from(["containerd-shim", "sh"])),
        "t": st.integers(0, 100),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_alert, min_size=1, max_size=12))
def test_lineage_is_a_forest_that_counts_every_placed_alert_once(rows):
    df = alerts(*rows)
    tree = build_process_tree(df)
    placeable = sum(1 for r in rows if r["proc.pid"] is not None or r["proc.cmdline"] is not None)
    assert int(tree["alerts"].sum()) == placeable
    assert tree.attrs["unplaced_alerts"] == len(rows) - placeable
    if tree.empty:
        return
    keys = set(tree["key"])
    assert len(keys) == len(tree)
    parents = tree["parent_key"].dropna()
    assert set(parents) <= keys
    depth = dict(zip(tree["key"], tree["depth"], strict=True))
    for key, parent in zip(tree["key"], tree["parent_key"], strict=True):
        assert depth[key] == (0 if parent is None else depth[parent] + 1)


@given(st.text())
def test_script_json_never_contains_markup_and_round_trips(text):
    encoded = script_json({"v": text})
    assert not set("<>&") & set(encoded)
    assert json.loads(encoded) == {"v": text}


@given(st.text())
def test_plotly_labels_never_contain_tags(text):
    assert not set("<>\"'") & set(label(text))
