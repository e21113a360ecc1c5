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
