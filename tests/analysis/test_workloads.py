"""Pod names normalised to their workload for noise grouping."""

from __future__ import annotations

import pandas as pd
import pytest

from falco_lab.analysis.fields import group_values
from falco_lab.analysis.noise import top_n
from falco_lab.analysis.workloads import workload_names, workload_of
from tests.analysis.frames import alerts


@pytest.mark.parametrize(
    ("pod", "workload"),
    [
        ("api-817813a48-2hwtp", "api"),  # Deployment: ReplicaSet hash + random suffix
        ("coredns-5d78c9869d-8zq2x", "coredns"),
        ("ci-build-29923721-wtjmq", "ci-build"),  # CronJob: scheduled minute + random suffix
        ("backup-x7k2p", "backup"),  # Job or DaemonSet: random suffix
        ("postgres-0", "postgres"),  # StatefulSet ordinal
        ("nginx-proxy", "nginx-proxy"),  # a word with vowels is not a random suffix
        ("web", "web"),
    ],
)
def test_pod_names_map_to_their_workload(pod, workload):
    assert workload_of(pod) == workload


def test_missing_pod_names_stay_missing():
    names = workload_names(pd.Series(["api-817813a48-2hwtp", pd.NA], dtype="string"))
    assert names.iloc[0] == "api" and pd.isna(names.iloc[1])


def test_198_alerts_of_one_probe_in_several_pods_are_one_workload_group():
    pods = ["postgres-7c9d8f6b5-bcdf2", "postgres-7c9d8f6b5-wxz29", "postgres-7c9d8f6b5-k2m4n"]
    df = alerts(*[{"k8s.ns.name": "payments", "k8s.pod.name": pods[i % 3]} for i in range(198)])
    assert group_values(df, "workload").unique().tolist() == ["payments/postgres"]
    table = top_n(df, "workload")
    assert table["workload"].tolist() == ["payments/postgres"] and table["alerts"].tolist() == [198]


def test_the_sql_workload_is_the_python_one() -> None:
    import random

    from falco_lab.analysis.workloads import workload_sql
    from falco_lab.events.archive_sql import connect

    rng = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"
    pods = [
        "api-817813a48-2hwtp", "coredns-5d78c9869d-8zq2x", "ci-build-29923721-wtjmq", "backup-x7k2p",
        "postgres-0", "nginx-proxy", "web", "a-bcdefg-hjklm", "a-bcdefg1-hjklm", "x-1234567890a-bbbbb",
        "db-12345", "db-1234", "-bcdfg", "two--x7k2p", "Ωmega-x7k2p", None,
        *("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))) for _ in range(2000)),
    ]  # fmt: skip
    frame = pd.DataFrame({"pod": pd.array(pods, dtype="string")})
    con = connect()
    con.register("pods", frame)
    ours = [row[0] for row in con.sql(f"SELECT {workload_sql('pod')} FROM pods").fetchall()]
    expected = workload_names(frame["pod"]).astype(object).where(frame["pod"].notna(), None).tolist()
    assert ours == expected


def test_the_vectorised_names_are_workload_of_each() -> None:
    import random

    rng = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-Ω"
    pods = [
        "api-817813a48-2hwtp", "a-bcdefg-hjklm", "a-bcdefg1-hjklm", "postgres-0", "db-12345", "-bcdfg", "web",
        *("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))) for _ in range(3000)),
    ]  # fmt: skip
    got = workload_names(pd.Series(pods, dtype="string")).tolist()
    assert got == [workload_of(p) for p in pods]
