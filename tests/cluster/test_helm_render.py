"""The values files rendered by a real ``helm template`` with the real chart 9.1.0 from ../shared.

What Falco, falcosidekick and the UI will actually get, not what the values files say:
the engine, the rules files and their order, the http output, the custom rules
ConfigMap, the UI's credentials, Redis without a volume claim, and no hostPath that
would make kubelet create a stray directory on an EKS node.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from falco_lab.cluster.helm import audit_set_strings
from falco_lab.workshop import chart
from tests.conftest import shared_file

#: Untyped hostPaths the chart mounts that exist on every EKS node (AL2023, Bottlerocket).
NODE_DIRECTORIES = {"/boot", "/lib/modules", "/usr", "/etc", "/sys/kernel", "/proc", "/dev"}
#: The containerd socket on AL2023 and Bottlerocket.
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"


def _render(helm, release: str, values, *set_strings: str) -> list[dict]:
    chart_dir = shared_file("upstream/charts/falco/Chart.yaml").parent
    command = [str(helm), "template", release, str(chart_dir), "--namespace", chart.FALCO_NAMESPACE]
    command += ["--values", str(values)]
    for pair in set_strings:
        command += ["--set-string", pair]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


@pytest.fixture(scope="module")
def main_release(real_helm) -> list[dict]:
    return _render(real_helm, chart.RELEASE, chart.VALUES_FILE)


@pytest.fixture(scope="module")
def audit_release(real_helm) -> list[dict]:
    pairs = audit_set_strings(
        region="eu-west-1", eks_cluster="workshop", role_arn="arn:aws:iam::123456789012:role/falco-audit"
    )
    return _render(
        real_helm, chart.AUDIT_RELEASE, chart.AUDIT_VALUES_FILE, *(f"{k}={v}" for k, v in pairs.items())
    )


def _one(docs: list[dict], kind: str, name: str) -> dict:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def _falco_yaml(docs: list[dict], release: str = chart.RELEASE) -> dict:
    return yaml.safe_load(_one(docs, "ConfigMap", release)["data"]["falco.yaml"])


def test_the_real_helm_is_3_10_or_newer(real_helm):
    from tests.cluster.real_helm import helm_version

    assert helm_version(real_helm) >= (3, 10, 0)


def test_falco_runs_the_modern_ebpf_engine(main_release):
    assert _falco_yaml(main_release)["engine"]["kind"] == "modern_ebpf"


def test_rules_files_load_in_the_projects_order(main_release):
    assert tuple(_falco_yaml(main_release)["rules_files"]) == chart.RULES_FILES


def test_alerts_go_to_falcosidekick_over_http_as_json(main_release):
    config = _falco_yaml(main_release)
    assert config["json_output"] is True
    assert config["http_output"]["enabled"] is True
    assert config["http_output"]["url"] == f"http://{chart.RELEASE}-falcosidekick:2801"
    _one(main_release, "Service", f"{chart.RELEASE}-falcosidekick")


def test_the_custom_rules_configmap_carries_the_project_rules_files(main_release):
    rules = _one(main_release, "ConfigMap", f"{chart.RELEASE}-rules")
    assert sorted(rules["data"]) == sorted(chart.CUSTOM_RULES_FILES)
    for path in chart.CUSTOM_RULES_PATHS:
        # the chart's template drops the final newline; the text is otherwise the file's
        assert rules["data"][path.name].rstrip("\n") == path.read_text(encoding="utf-8").rstrip("\n")
    daemonset = _one(main_release, "DaemonSet", chart.DAEMONSET)
    mounts = daemonset["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"mountPath": "/etc/falco/rules.d", "name": "rules-volume"} in mounts


def test_the_ui_reads_its_credentials_from_the_secret_and_runs_2_3_0(main_release):
    ui = _one(main_release, "Deployment", chart.UI_DEPLOYMENT)
    container = ui["spec"]["template"]["spec"]["containers"][0]
    assert {"secretRef": {"name": chart.UI_SECRET}} in container["envFrom"]
    assert container["image"].endswith("/falcosidekick-ui:2.3.0")
    assert "admin:admin" not in yaml.safe_dump(main_release)


def test_redis_keeps_its_data_without_a_volume_claim(main_release):
    redis = _one(main_release, "StatefulSet", chart.REDIS_STATEFULSET)
    assert "volumeClaimTemplates" not in redis["spec"]


def test_no_hostpath_makes_kubelet_create_a_stray_directory(main_release):
    daemonset = _one(main_release, "DaemonSet", chart.DAEMONSET)
    host_paths = [v["hostPath"] for v in daemonset["spec"]["template"]["spec"]["volumes"] if "hostPath" in v]
    untyped = {h["path"] for h in host_paths if not h.get("type")}
    assert untyped - NODE_DIRECTORIES - {CONTAINERD_SOCKET} == set()
    assert "/run/host-containerd/containerd.sock" not in {h["path"] for h in host_paths}
    assert CONTAINERD_SOCKET in untyped


def test_the_container_plugin_watches_only_the_containerd_socket_of_eks_nodes(main_release):
    (plugin,) = [p for p in _falco_yaml(main_release)["plugins"] if p["name"] == "container"]
    sockets = [
        socket
        for engine in plugin["init_config"]["engines"].values()
        if engine.get("enabled")
        for socket in engine.get("sockets", [])
    ]
    assert sockets == [CONTAINERD_SOCKET]


def test_the_daemonset_stays_off_windows_nodes(main_release):
    daemonset = _one(main_release, "DaemonSet", chart.DAEMONSET)
    assert daemonset["spec"]["template"]["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}


def test_the_audit_release_is_one_plugin_only_replica_feeding_the_main_sidekick(audit_release):
    kinds = {d["kind"] for d in audit_release}
    assert "DaemonSet" not in kinds
    deployment = _one(audit_release, "Deployment", chart.AUDIT_RELEASE)
    assert deployment["spec"]["replicas"] == 1
    config = _falco_yaml(audit_release, chart.AUDIT_RELEASE)
    assert config["load_plugins"] == ["k8saudit-eks", "json"]
    assert config["plugins"][0]["init_config"]["region"] == "eu-west-1"
    assert config["plugins"][0]["open_params"] == "workshop"
    assert config["http_output"]["url"].startswith(
        f"http://{chart.RELEASE}-falcosidekick.{chart.FALCO_NAMESPACE}.svc"
    )
    account = _one(audit_release, "ServiceAccount", chart.AUDIT_RELEASE)
    assert (
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        == "arn:aws:iam::123456789012:role/falco-audit"
    )
    volumes = deployment["spec"]["template"]["spec"].get("volumes", [])
    # the chart still mounts /proc into the plugin-only Falco; no socket, nothing that may not exist
    assert {v["hostPath"]["path"] for v in volumes if "hostPath" in v} <= NODE_DIRECTORIES


def test_a_configured_helm_older_than_3_10_is_refused_with_the_reason(tmp_path, monkeypatch):
    from tests.cluster.real_helm import HelmUnavailable, find_or_install_helm

    old = tmp_path / "helm"
    old.write_text("#!/bin/sh\necho v3.9.4+g1234\n")
    old.chmod(0o755)
    monkeypatch.setenv("FALCO_LAB_HELM", str(old))
    with pytest.raises(HelmUnavailable, match="older than helm 3.10"):
        find_or_install_helm()
