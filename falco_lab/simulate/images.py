"""What the simulator knows about container images: registry, users, where binaries live.

Enough of each image's file system to give processes Falco's real ``proc.exepath``
(which resolves symlinks: every busybox applet runs ``/bin/busybox``) and the right
``user.name`` for a uid.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

#: Host (AL2023 node) binaries used by the simulated node processes.
HOST_BINARIES: dict[str, str] = {
    "systemd": "/usr/lib/systemd/systemd",
    "containerd": "/usr/bin/containerd",
    "containerd-shim": "/usr/bin/containerd-shim-runc-v2",
    "runc": "/usr/sbin/runc",
    "kubelet": "/usr/bin/kubelet",
    "sshd": "/usr/sbin/sshd",
    "bash": "/usr/bin/bash",
    "sh": "/usr/bin/bash",
    "sudo": "/usr/bin/sudo",
    "journalctl": "/usr/bin/journalctl",
    "ssm-agent-worker": "/usr/bin/ssm-agent-worker",
    "dnf": "/usr/bin/python3.9",
    "logrotate": "/usr/sbin/logrotate",
}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """A container image family: how its binaries resolve and which users it knows."""

    family: str  # busybox, alpine, debian, distroless
    users: dict[int, str] = field(default_factory=lambda: {0: "root"})

    def exepath(self, argv0: str) -> str:
        """Canonical path of the executable started as ``argv0`` (symlinks resolved)."""
        name = argv0.rsplit("/", 1)[-1]
        if argv0.startswith(("/tmp/", "/dev/shm/", "./", "/var/tmp/")):
            return argv0 if argv0.startswith("/") else "/" + argv0.lstrip("./")
        if self.family in ("busybox", "alpine") and name in _BUSYBOX_APPLETS:
            return "/bin/busybox"
        if self.family == "alpine":
            return _ALPINE_PATHS.get(name, f"/usr/bin/{name}")
        if name in ("sh", "dash"):
            return "/usr/bin/dash"
        if argv0.startswith("/"):
            return _DEBIAN_CANONICAL.get(argv0, argv0)
        return _DEBIAN_PATHS.get(name, f"/usr/bin/{name}")

    def user_name(self, uid: int) -> str:
        """``user.name`` as Falco reads it from the container's ``/etc/passwd``."""
        return self.users.get(uid, str(uid))


_BUSYBOX_APPLETS = frozenset(
    "sh ash cat echo ls id whoami hostname uname sleep wget nc ps env head tail grep sed awk cp mv rm "
    "touch chmod mkdir find tar gzip vi top df du mount kill date printf test true false nslookup".split()
)
_ALPINE_PATHS = {
    "apk": "/sbin/apk",
    "curl": "/usr/bin/curl",
    "bash": "/bin/bash",
    "python3": "/usr/bin/python3.12",
}
_DEBIAN_PATHS = {
    "bash": "/usr/bin/bash",
    "nginx": "/usr/sbin/nginx",
    "apt-get": "/usr/bin/apt-get",
    "apt": "/usr/bin/apt",
    "dpkg": "/usr/bin/dpkg",
    "python3": "/usr/bin/python3.11",
    "python": "/usr/bin/python3.11",
    "gunicorn": "/usr/local/bin/gunicorn",
    "node": "/usr/local/bin/node",
    "java": "/opt/java/openjdk/bin/java",
    "postgres": "/usr/lib/postgresql/16/bin/postgres",
    "pg_isready": "/usr/lib/postgresql/16/bin/pg_isready",
    "redis-server": "/usr/local/bin/redis-server",
    "curl": "/usr/bin/curl",
    "wget": "/usr/bin/wget",
    "aws": "/usr/local/aws-cli/v2/current/dist/aws",
    "kubectl": "/usr/local/bin/kubectl",
    "pg_dump": "/usr/lib/postgresql/16/bin/pg_dump",
}
_DEBIAN_CANONICAL = {
    "/bin/sh": "/usr/bin/dash",
    "/bin/bash": "/usr/bin/bash",
    "/usr/bin/python3": "/usr/bin/python3.11",
}

_FAMILIES: dict[str, ImageInfo] = {
    "busybox": ImageInfo("busybox", {0: "root", 65534: "nobody"}),
    "alpine": ImageInfo("alpine", {0: "root", 65534: "nobody", 1000: "app"}),
    "debian": ImageInfo("debian", {0: "root", 65534: "nobody", 101: "nginx", 999: "postgres", 1000: "app"}),
}

#: Repository (without registry) → image family.
_REPOSITORY_FAMILY = {
    "library/busybox": "busybox",
    "library/alpine": "alpine",
    "falcosecurity/falco": "debian",
    "prom/node-exporter": "busybox",
}


def split_image(image: str) -> tuple[str, str, str]:
    """Normalise an image reference: ``(full image, repository, tag)`` as the container plugin reports them.

    ``busybox:1.36`` becomes ``docker.io/library/busybox:1.36`` with repository
    ``docker.io/library/busybox`` and tag ``1.36``; a missing tag is ``latest``.
    """
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = ref.rsplit(":", 1)
    else:
        repository, tag = ref, "latest"
    first = repository.split("/", 1)[0]
    if "/" not in repository:
        repository = f"docker.io/library/{repository}"
    elif "." not in first and ":" not in first and first != "localhost":
        repository = f"docker.io/{repository}"
    return f"{repository}:{tag}", repository, tag


def image_info(repository: str) -> ImageInfo:
    """The family of an image repository (debian-based unless known otherwise)."""
    path = repository.split("/", 1)[1] if "." in repository.split("/", 1)[0] else repository
    for suffix, family in _REPOSITORY_FAMILY.items():
        if path.endswith(suffix):
            return _FAMILIES[family]
    if "alpine" in path or path.endswith(("/curl", "/kubectl")):
        return _FAMILIES["alpine"]
    return _FAMILIES["debian"]


def image_digest(image: str) -> str:
    """A stable ``sha256:`` digest for an image reference (the same image always has the same digest)."""
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


__all__ = ["HOST_BINARIES", "ImageInfo", "image_digest", "image_info", "split_image"]
