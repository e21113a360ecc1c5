"""helm calls against a fake ``helm`` on PATH that records its arguments."""

from __future__ import annotations

import shlex

import pytest

from falco_lab.cluster.helm import Helm, audit_set_strings
from falco_lab.cluster.preflight import check_helm
from falco_lab.workshop import chart
from falco_lab.workshop.interface import ClusterError


def _calls(log) -> list[list[str]]:
    if not log.exists():
        return []
    return [call.strip("\n").split("\n") for call in log.read_text().split("---\n") if call.strip()]


def test_install_runs_upgrade_install_with_the_pinned_chart_and_wait(fake_helm):
    out = Helm(kube_context="lab-eks").install()
    (call,) = _calls(fake_helm)
    assert call[:6] == ["--kube-context", "lab-eks", "upgrade", "--install", "falco", "falco"]
    assert call[call.index("--version") + 1] == chart.CHART_VERSION
    assert call[call.index("--repo") + 1] == chart.CHART_REPO
    assert "--wait" in call and call[call.index("--timeout") + 1] == "10m"
    assert call[call.index("--values") + 1] == str(chart.VALUES_FILE)
    assert "Happy Helming" in out


def test_dry_run_prints_the_exact_command_and_runs_nothing(fake_helm):
    line = Helm(kube_context="lab-eks").install(dry_run=True)
    assert _calls(fake_helm) == []
    assert shlex.split(line)[0] == "helm"
    assert shlex.split(line)[1:] == ["--kube-context", "lab-eks", *Helm().install_args()]


def test_uninstall_waits(fake_helm):
    Helm().uninstall()
    assert _calls(fake_helm) == [["uninstall", "falco", "--namespace", "falco", "--wait", "--timeout", "10m"]]


def test_failed_helm_raises_with_its_message(fake_helm, monkeypatch):
    monkeypatch.setenv("FAKE_HELM_MODE", "fail")
    with pytest.raises(ClusterError, match=r"(?s)helm failed \(exit 1\).*context deadline exceeded"):
        Helm().install()


def test_hanging_helm_is_killed_after_the_timeout(fake_helm, monkeypatch):
    monkeypatch.setenv("FAKE_HELM_MODE", "hang")
    with pytest.raises(ClusterError, match="helm timed out after 1 s"):
        Helm(timeout=1).install()


def test_missing_helm_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ClusterError, match="helm not found on PATH"):
        Helm().version()


def test_version_is_parsed(fake_helm):
    assert Helm().version() == (3, 16, 2)


def test_old_helm_fails_preflight(fake_helm, monkeypatch):
    monkeypatch.setenv("FAKE_HELM_VERSION", "v3.8.0+gabc")
    (row,) = check_helm(Helm())
    assert row["status"] == "fail" and "3.8.0" in row["detail"]


def test_helm_4_passes_preflight(fake_helm, monkeypatch):
    monkeypatch.setenv("FAKE_HELM_VERSION", "v4.1.4+g0000")
    (row,) = check_helm(Helm())
    assert row["status"] == "ok" and "helm 4.1.4" in row["detail"]


def test_status_of_a_missing_release_is_none(fake_helm):
    assert Helm().status() is None


def test_status_of_a_failed_release_warns_in_preflight(fake_helm, monkeypatch):
    from falco_lab.cluster.preflight import check_release

    monkeypatch.setenv("FAKE_HELM_STATUS", "failed")
    assert Helm().status() == "failed"
    (row,) = check_release(Helm())
    assert row["status"] == "warn" and "failed" in row["detail"]


def test_audit_release_fills_the_placeholders_with_set_string(fake_helm):
    sets = audit_set_strings(
        region="eu-west-1", eks_cluster="lab", role_arn="arn:aws:iam::123456789012:role/audit"
    )
    Helm().install(release=chart.AUDIT_RELEASE, values=[chart.AUDIT_VALUES_FILE], set_string=sets)
    (call,) = _calls(fake_helm)
    pairs = [call[i + 1] for i, a in enumerate(call) if a == "--set-string"]
    assert pairs == [
        "falco.plugins[0].init_config.region=eu-west-1",
        "falco.plugins[0].open_params=lab",
        r"serviceAccount.annotations.eks\.amazonaws\.com/role-arn=arn:aws:iam::123456789012:role/audit",
    ]
    assert call[2] == "falco-k8saudit"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"region": "Europe", "eks_cluster": "lab", "role_arn": "arn:aws:iam::123456789012:role/a"},
        {
            "region": "eu-west-1",
            "eks_cluster": "lab; rm -rf /",
            "role_arn": "arn:aws:iam::123456789012:role/a",
        },
        {"region": "eu-west-1", "eks_cluster": "lab", "role_arn": "AKIAEXAMPLE"},
    ],
    ids=["region", "cluster", "role"],
)
def test_audit_placeholders_are_validated(kwargs):
    with pytest.raises(ClusterError):
        audit_set_strings(**kwargs)
