"""The manifests falco-lab creates: valid for Kubernetes 1.30-1.35, safe, and what the tests need."""

from __future__ import annotations

import kubernetes_validate
import pytest

from falco_lab.cluster.eks import ui_secret_manifest
from falco_lab.cluster.response import quarantine_policy
from falco_lab.workshop import manifests as m

#: Kubernetes minor versions whose OpenAPI schemas the manifests must satisfy (all
#: shipped offline by kubernetes-validate, which carries 1.25-1.37).
K8S_VERSIONS = ("1.30", "1.31", "1.32", "1.33", "1.34", "1.35")

ALL = {
    "namespace": m.namespace_manifest(),
    "shell pod": m.shell_pod_manifest(),
    "runtime socket pod": m.runtime_socket_pod_manifest(),
    "docker socket pod": m.runtime_socket_pod_manifest(socket=m.DOCKER_SOCKET),
    "host etc pod": m.host_etc_pod_manifest(),
    "quarantine policy": quarantine_policy("shop"),
    "ui secret": ui_secret_manifest("not-a-real-password"),
}


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("name", sorted(ALL))
def test_manifest_validates_strictly_against_the_openapi_schema(name, version):
    assert kubernetes_validate.validate(ALL[name], version, strict=True) == version


def test_a_typo_fails_schema_validation():
    pod = m.shell_pod_manifest()
    pod["spec"]["containers"][0]["resource"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="'resource' was unexpected"):
        kubernetes_validate.validate(pod, "1.35", strict=True)


@pytest.mark.parametrize("pod", m.pod_manifests(), ids=lambda p: p["metadata"]["name"])
def test_test_pods_are_unprivileged_limited_sleeping_busybox_in_the_lab_namespace(pod):
    container = pod["spec"]["containers"][0]
    assert pod["metadata"]["namespace"] == m.NAMESPACE
    assert container["image"].startswith("docker.io/library/busybox:")
    assert container["command"][0] == "sleep"
    sc = container["securityContext"]
    assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["runAsNonRoot"] is True
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert pod["spec"].get("hostPID") is None and pod["spec"].get("hostNetwork") is None
    assert pod["spec"]["activeDeadlineSeconds"] > 0


@pytest.mark.parametrize("manifest", m.all_manifests(), ids=lambda p: p["kind"] + "/" + p["metadata"]["name"])
def test_every_object_carries_the_project_labels(manifest):
    labels = manifest["metadata"]["labels"]
    assert {k: labels[k] for k in m.PROJECT_LABELS} == m.PROJECT_LABELS


def test_pods_name_their_test():
    assert [p["metadata"]["labels"][m.TEST_LABEL] for p in m.pod_manifests()] == list(m.TESTS)


def test_runtime_socket_pod_mounts_containerd_socket_that_exists_on_eks_nodes():
    pod = m.runtime_socket_pod_manifest()
    volume = pod["spec"]["volumes"][0]["hostPath"]
    assert volume == {"path": "/run/containerd/containerd.sock", "type": "Socket"}
    assert m.host_paths(pod) == ["/run/containerd/containerd.sock"]


def test_host_etc_pod_mounts_the_host_etc_read_only():
    pod = m.host_etc_pod_manifest()
    assert m.host_paths(pod) == ["/etc"]
    mount = pod["spec"]["containers"][0]["volumeMounts"][0]
    assert mount["readOnly"] is True and mount["mountPath"] == "/host/etc"


def test_shell_pod_mounts_nothing_from_the_host():
    assert m.host_paths(m.shell_pod_manifest()) == []


def test_manifests_are_fresh_copies():
    first = m.shell_pod_manifest()
    first["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "8"
    assert m.shell_pod_manifest()["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "100m"


def test_other_namespace_is_used_everywhere():
    assert {p["metadata"]["namespace"] for p in m.pod_manifests("lab2")} == {"lab2"}
    assert m.namespace_manifest("lab2")["metadata"]["name"] == "lab2"


def test_every_test_pod_runs_the_one_image_pinned_by_digest():
    images = {c["image"] for p in m.pod_manifests() for c in p["spec"]["containers"]}
    assert images == {m.IMAGE}
    assert m.IMAGE.startswith("docker.io/library/busybox:1.37.0@sha256:") and len(m.IMAGE_DIGEST) == 71
