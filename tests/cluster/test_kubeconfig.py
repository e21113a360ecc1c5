"""Building clients from a kubeconfig: the context name is shown, credentials never are."""

from __future__ import annotations

import pytest
import yaml

from falco_lab.cluster.eks import EKSCluster
from falco_lab.cluster.kube import load_clients
from falco_lab.workshop.interface import ClusterError

TOKEN = "k8s-aws-v1.super-secret-token"


def _kubeconfig(path, current="lab-eks"):
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": current,
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {"server": "https://127.0.0.1:6443", "insecure-skip-tls-verify": True},
                    }
                ],
                "users": [{"name": "u", "user": {"token": TOKEN}}],
                "contexts": [
                    {"name": "lab-eks", "context": {"cluster": "c", "user": "u"}},
                    {"name": "other", "context": {"cluster": "c", "user": "u"}},
                ],
            }
        )
    )
    return str(path)


def test_current_context_is_used_and_named(tmp_path):
    clients = load_clients(kubeconfig=_kubeconfig(tmp_path / "config"))
    assert (clients.context, clients.host) == ("lab-eks", "https://127.0.0.1:6443")


def test_explicit_context(tmp_path):
    assert load_clients(kubeconfig=_kubeconfig(tmp_path / "config"), context="other").context == "other"


def test_unknown_context_lists_the_known_ones(tmp_path):
    with pytest.raises(
        ClusterError, match=r"kube context 'prod' not found in the kubeconfig \(contexts: lab-eks, other\)"
    ):
        load_clients(kubeconfig=_kubeconfig(tmp_path / "config"), context="prod")


def test_missing_kubeconfig_explains_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ClusterError, match="aws eks update-kubeconfig"):
        load_clients(kubeconfig=str(tmp_path / "nope"))


def test_kubeconfig_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", _kubeconfig(tmp_path / "config", current="other"))
    assert load_clients().context == "other"


def test_helm_gets_the_same_kubeconfig_and_context(tmp_path):
    path = _kubeconfig(tmp_path / "config")
    cluster = EKSCluster.from_config(kubeconfig=path, context="other")
    assert cluster.helm.install(dry_run=True).startswith(
        f"helm --kubeconfig {path} --kube-context other upgrade"
    )


def test_token_is_not_shown(tmp_path):
    cluster = EKSCluster.from_config(kubeconfig=_kubeconfig(tmp_path / "config"))
    assert TOKEN not in repr(cluster) and TOKEN not in str(cluster.context)
    assert cluster.helm.kube_context == "lab-eks"
