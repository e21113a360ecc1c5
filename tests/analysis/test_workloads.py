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
