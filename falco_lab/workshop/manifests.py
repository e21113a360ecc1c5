"""Kubernetes manifests of the workshop, built in code as plain dicts.

The three classic Falco tests run in their own namespace, :data:`NAMESPACE`, in pods
that are *not* privileged, drop every capability, run as ``nobody`` with resource
limits and a deadline, and only sleep:

* :data:`SHELL_POD` - a sleeping busybox; test 1 execs a shell in it (with and
  without a TTY);
* :data:`RUNTIME_SOCKET_POD` - mounts the container-runtime socket from the host.
  EKS nodes (AL2023, Bottlerocket, AL2 for Kubernetes >= 1.25) run containerd
  without Docker, so the default host path is :data:`CONTAINERD_SOCKET`, which
  exists as a socket on every such node and lets the pod start (a ``Socket``
  hostPath on ``/var/run/docker.sock`` would stay in ``ContainerCreating``);
* :data:`HOST_ETC_POD` - mounts the host's ``/etc`` read-only.

Everything the project creates carries :data:`PROJECT_LABELS`, so
``Cluster.cleanup`` can find it with :data:`PROJECT_SELECTOR`.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Mapping, Sequence

#: Namespace that holds every test pod (and nothing else).
NAMESPACE = "falco-lab"

#: The test image, the one place it is pinned: busybox 1.37.0 (the maintained release line;
#: 1.36.1 no longer is), by the digest of its multi-arch index (x86_64 and Graviton nodes),
#: so every node runs the same bytes.  ``IfNotPresent`` pulls it once per node.
IMAGE_TAG = "docker.io/library/busybox:1.37.0"
IMAGE_DIGEST = "sha256:bdf57e528e45e4433820e045b29b4597825a1c9e38353532d90a01445013f82e"
IMAGE = f"{IMAGE_TAG}@{IMAGE_DIGEST}"

#: Labels on every object falco-lab creates.
PROJECT_LABELS: dict[str, str] = {
    "app.kubernetes.io/part-of": "falco-lab",
    "app.kubernetes.io/managed-by": "falco-lab",
}
#: Label selector matching :data:`PROJECT_LABELS` (used by cleanup).
PROJECT_SELECTOR = ",".join(f"{key}={value}" for key, value in PROJECT_LABELS.items())

#: Namespace annotation: when the last run of the workshop tests started (ISO 8601, UTC).
#: ``falco-lab cluster respond`` reads it as the default start of its alert window.
LAST_RUN_ANNOTATION = "falco-lab/last-test-run"

#: Label naming the workshop test a pod belongs to.
TEST_LABEL = "falco-lab/test"

#: Test ids (values of :data:`TEST_LABEL`).
TEST_SHELL = "shell-in-container"
TEST_RUNTIME_SOCKET = "runtime-socket-mount"
TEST_HOST_ETC = "host-etc-mount"
TESTS: tuple[str, ...] = (TEST_SHELL, TEST_RUNTIME_SOCKET, TEST_HOST_ETC)

#: Pod names.
SHELL_POD = "falco-lab-shell"
RUNTIME_SOCKET_POD = "falco-lab-runtime-socket"
HOST_ETC_POD = "falco-lab-host-etc"
POD_NAMES: tuple[str, ...] = (SHELL_POD, RUNTIME_SOCKET_POD, HOST_ETC_POD)
#: Test id -> pod name.
POD_FOR_TEST: dict[str, str] = dict(zip(TESTS, POD_NAMES, strict=True))

#: Host paths of the container-runtime sockets the rules know about.
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
DOCKER_SOCKET = "/var/run/docker.sock"
#: The host directory mounted by test 3.
HOST_ETC = "/etc"
#: Where the host's /etc appears inside the test pod (the rules key on the *host* path).
HOST_ETC_MOUNT_PATH = "/host/etc"

#: After this long kubelet stops a test pod (phase Failed, reason DeadlineExceeded) even if
#: cleanup never ran; the Pod object itself stays until it is deleted (``cleanup``).
ACTIVE_DEADLINE_SECONDS = 3600
#: ``sleep`` as PID 1 ignores SIGTERM; do not wait the default 30 s on delete.
TERMINATION_GRACE_SECONDS = 1

RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "10m", "memory": "16Mi"},
    "limits": {"cpu": "100m", "memory": "32Mi"},
}


def _labels(test: str | None = None) -> dict[str, str]:
    labels = dict(PROJECT_LABELS)
    if test is not None:
        labels[TEST_LABEL] = test
    return labels


def namespace_manifest(name: str = NAMESPACE) -> dict:
    """The test namespace.

    Pod Security Admission is set to ``privileged`` for *enforce* only: the
    ``baseline`` level forbids hostPath volumes, which tests 2 and 3 need. The
    pods themselves stay unprivileged (see :func:`pod_manifests`).
    """
    labels = _labels()
    labels["pod-security.kubernetes.io/enforce"] = "privileged"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"falco-lab/purpose": "Falco workshop test pods; safe to delete"},
        },
    }


def _pod(
    name: str,
    test: str,
    *,
    namespace: str,
    description: str,
    volume: Mapping[str, object] | None = None,
    mount: Mapping[str, object] | None = None,
) -> dict:
    container: dict = {
        "name": "busybox",
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sleep", str(ACTIVE_DEADLINE_SECONDS)],
        "resources": copy.deepcopy(RESOURCES),
        "securityContext": {
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    spec: dict = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "containers": [container],
    }
    if volume is not None and mount is not None:
        container["volumeMounts"] = [dict(mount)]
        spec["volumes"] = [dict(volume)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": _labels(test),
            "annotations": {"falco-lab/description": description},
        },
        "spec": spec,
    }


def shell_pod_manifest(namespace: str = NAMESPACE) -> dict:
    """Test 1: a sleeping busybox to exec a shell into."""
    return _pod(
        SHELL_POD,
        TEST_SHELL,
        namespace=namespace,
        description="Test 1: a shell is exec'd into this pod, once with a TTY and once without.",
    )


def runtime_socket_pod_manifest(namespace: str = NAMESPACE, *, socket: str = CONTAINERD_SOCKET) -> dict:
    """Test 2: a pod with the host's container-runtime socket mounted.

    Parameters
    ----------
    socket
        Host path of the socket. The default, containerd's socket, exists on every
        EKS node; pass :data:`DOCKER_SOCKET` only on nodes that really run Docker
        (the ``Socket`` type check keeps the pod from starting elsewhere, instead
        of silently creating a directory on the node).
    """
    return _pod(
        RUNTIME_SOCKET_POD,
        TEST_RUNTIME_SOCKET,
        namespace=namespace,
        description=f"Test 2: mounts the host's container-runtime socket {socket}.",
        volume={"name": "runtime-socket", "hostPath": {"path": socket, "type": "Socket"}},
        mount={"name": "runtime-socket", "mountPath": socket, "readOnly": True},
    )


def host_etc_pod_manifest(namespace: str = NAMESPACE) -> dict:
    """Test 3: a pod with the host's ``/etc`` mounted read-only at ``/host/etc``."""
    return _pod(
        HOST_ETC_POD,
        TEST_HOST_ETC,
        namespace=namespace,
        description="Test 3: mounts the host's /etc (read-only) at /host/etc.",
        volume={"name": "host-etc", "hostPath": {"path": HOST_ETC, "type": "Directory"}},
        mount={"name": "host-etc", "mountPath": HOST_ETC_MOUNT_PATH, "readOnly": True},
    )


def pod_manifests(namespace: str = NAMESPACE, *, socket: str = CONTAINERD_SOCKET) -> list[dict]:
    """The three test pods, in test order (shell, runtime socket, host /etc)."""
    return [
        shell_pod_manifest(namespace),
        runtime_socket_pod_manifest(namespace, socket=socket),
        host_etc_pod_manifest(namespace),
    ]


def all_manifests(namespace: str = NAMESPACE, *, socket: str = CONTAINERD_SOCKET) -> list[dict]:
    """Namespace first, then the three test pods: what ``falco-lab cluster manifests`` prints."""
    return [namespace_manifest(namespace), *pod_manifests(namespace, socket=socket)]


def host_paths(manifest: Mapping) -> list[str]:
    """Host paths a pod manifest mounts (``spec.volumes[*].hostPath.path``), in order."""
    volumes = manifest.get("spec", {}).get("volumes", []) or []
    return [v["hostPath"]["path"] for v in volumes if isinstance(v, Mapping) and "hostPath" in v]


def render_yaml(namespace: str = NAMESPACE, *, socket: str = CONTAINERD_SOCKET) -> str:
    """:func:`all_manifests` as multi-document YAML (``kubectl apply -f`` reads it)."""
    import yaml

    return yaml.safe_dump_all(all_manifests(namespace, socket=socket), sort_keys=False)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m falco_lab.workshop.manifests``: print the manifests; needs PyYAML only."""
    parser = argparse.ArgumentParser(
        prog="python -m falco_lab.workshop.manifests",
        description="Print the test namespace and the three test pods as YAML (no cluster needed).",
    )
    parser.add_argument("--namespace", default=NAMESPACE, help=f"default: {NAMESPACE}")
    parser.add_argument(
        "--socket", default=CONTAINERD_SOCKET, help=f"host socket of test 2 (default: {CONTAINERD_SOCKET})"
    )
    args = parser.parse_args(argv)
    sys.stdout.write(render_yaml(args.namespace, socket=args.socket))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
