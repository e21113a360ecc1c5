"""``falco-lab cluster ...`` commands that need no cluster."""

from __future__ import annotations

import json

import pytest
import yaml

from falco_lab.cli import main
from falco_lab.lab import connect
from falco_lab.workshop.manifests import all_manifests


def test_manifests_prints_namespace_and_three_pods_as_multi_document_yaml(capsys):
    assert main(["cluster", "manifests"]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    assert documents == all_manifests()
    assert [d["kind"] for d in documents] == ["Namespace", "Pod", "Pod", "Pod"]


def test_manifests_for_a_docker_node(capsys):
    main(["cluster", "manifests", "--socket", "/var/run/docker.sock"])
    pods = list(yaml.safe_load_all(capsys.readouterr().out))[1:]
    assert pods[1]["spec"]["volumes"][0]["hostPath"]["path"] == "/var/run/docker.sock"


def test_install_dry_run_prints_the_command_without_cluster_or_helm(fake_helm, capsys, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/nonexistent")
    assert main(["cluster", "install", "--dry-run", "--context", "lab"]) == 0
    out = capsys.readouterr().out
    assert "helm --kube-context lab upgrade --install falco falco" in out and "--version 9.1.0" in out
    assert not fake_helm.exists()


def test_uninstall_dry_run(fake_helm, capsys):
    assert main(["cluster", "install", "--uninstall", "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == "helm uninstall falco --namespace falco --wait --timeout 10m"


def test_audit_install_needs_its_three_settings(capsys):
    assert main(["cluster", "install", "--audit", "--dry-run"]) == 2
    assert "--audit needs --region, --eks-cluster and --role-arn" in capsys.readouterr().err


def test_test_pods_dry_run_creates_nothing(capsys):
    assert main(["cluster", "test-pods", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("would create pod falco-lab/") == 3


def test_missing_kubeconfig_is_a_clear_error_not_a_traceback(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert main(["cluster", "preflight"]) == 2
    assert "falco-lab cluster preflight:" in capsys.readouterr().err


def test_respond_prints_a_plan_and_applies_nothing(tmp_path, capsys):
    alerts = tmp_path / "alerts.jsonl"
    alert = {
        "time": "2026-11-27T08:00:02.000000000Z",
        "rule": "Falco Lab Container Runtime Socket Mounted",
        "priority": "Error",
        "source": "syscall",
        "hostname": "ip-10-0-1-23",
        "output": "x",
        "tags": ["falco_lab"],
        "output_fields": {"k8s.pod.name": "web-1", "k8s.ns.name": "shop", "evt.time": 1},
    }
    alerts.write_text(json.dumps(alert) + "\n")
    assert main(["cluster", "respond", "--alerts", str(alerts)]) == 0
    out = capsys.readouterr().out
    assert "1. label   shop/web-1" in out and "2. isolate shop/web-1" in out
    assert "plan only: add --apply" in out


def test_connect_rejects_unknown_modes():
    with pytest.raises(ValueError, match="unknown mode 'eks'"):
        connect("eks")


def test_connect_simulate_gives_a_simulated_cluster():
    cluster = connect("simulate")
    assert cluster.mode == "simulate"


def _alert_file(tmp_path, *times: str):
    path = tmp_path / "alerts.jsonl"
    rows = [
        {
            "time": when,
            "rule": "Falco Lab Terminal Shell In Container",
            "priority": "Warning",
            "source": "syscall",
            "hostname": "ip-10-0-1-23",
            "output": "x",
            "tags": ["falco_lab"],
            "output_fields": {"k8s.pod.name": f"web-{i}", "k8s.ns.name": "shop", "evt.time": 1},
        }
        for i, when in enumerate(times)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_respond_since_bounds_the_alerts_of_a_file(tmp_path, capsys):
    path = _alert_file(tmp_path, "2026-11-27T08:00:00Z", "2026-11-27T10:00:00Z")
    assert main(["cluster", "respond", "--alerts", str(path), "--since", "2026-11-27T09:00Z"]) == 0
    out = capsys.readouterr().out
    assert "1 alert(s)" in out and "shop/web-1" in out and "shop/web-0" not in out


def test_respond_since_that_is_no_time_is_a_clear_error(tmp_path, capsys):
    path = _alert_file(tmp_path, "2026-11-27T08:00:00Z")
    assert main(["cluster", "respond", "--alerts", str(path), "--since", "yesterday"]) == 2
    assert "--since 'yesterday'" in capsys.readouterr().err


def _cluster_cli(monkeypatch, api):
    from falco_lab.cluster.eks import EKSCluster
    from falco_lab.cluster.helm import Helm

    monkeypatch.setattr(
        EKSCluster, "from_config", classmethod(lambda cls, **kw: cls(api.clients(), helm=Helm()))
    )


def test_respond_in_cluster_mode_without_a_recorded_test_run_asks_for_since(api, monkeypatch, capsys):
    _cluster_cli(monkeypatch, api)
    assert main(["cluster", "respond"]) == 2
    assert "no test run is recorded" in capsys.readouterr().err


def test_respond_apply_exits_1_when_a_step_failed_and_reports_the_rest(api, monkeypatch, tmp_path, capsys):
    _cluster_cli(monkeypatch, api)
    api.fake.add_namespace("shop")
    api.fake.add_pod("shop", "web-0")
    api.fake.add_pod("shop", "web-1")
    api.fake.faults[("PATCH", r"/pods/web-0$")] = 403
    path = _alert_file(tmp_path, "2026-11-27T08:00:00Z", "2026-11-27T08:00:01Z")
    code = main(["cluster", "respond", "--alerts", str(path), "--actions", "label", "--apply"])
    out = capsys.readouterr().out
    assert code == 1
    assert "labelled pod shop/web-1" in out and "FAILED label shop/web-0" in out
    assert "1 step(s) done, 0 skipped, 1 failed" in out


def test_respond_in_cluster_mode_reads_alerts_since_the_last_test_run(api, monkeypatch, capsys):
    from datetime import UTC, datetime

    from falco_lab.cluster.eks import EKSCluster
    from falco_lab.events.schema import empty_frame
    from falco_lab.workshop.manifests import LAST_RUN_ANNOTATION, NAMESPACE

    _cluster_cli(monkeypatch, api)
    api.fake.add_namespace(NAMESPACE)
    api.fake.namespaces[NAMESPACE]["metadata"]["annotations"] = {LAST_RUN_ANNOTATION: "2026-12-04T09:00:00Z"}
    asked = []
    monkeypatch.setattr(
        EKSCluster, "falco_alerts", lambda self, since=None: asked.append(since) or empty_frame()
    )
    assert main(["cluster", "respond"]) == 0
    assert asked == [datetime(2026, 12, 4, 9, 0, tzinfo=UTC)]
    assert "since the last test run, 2026-12-04T09:00:00+00:00" in capsys.readouterr().out
