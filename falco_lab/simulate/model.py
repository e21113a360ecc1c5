"""The world model of simulate mode: a small, explicit EKS cluster as typed dataclasses.

cluster (:class:`World`) → nodes (:class:`Node`) → namespaces (:class:`Namespace`) →
pods (:class:`Pod`, built from the same manifests cluster mode applies) → containers
(:class:`Container`, with mounts as Falco's container plugin reports them) → processes
(:class:`Process`, with the ancestry ``proc.aname[N]`` / ``proc.apid[N]`` walk).

Everything here is state; what happens to it (and the syscall events that follow) lives
in :mod:`falco_lab.simulate.actions`.  Nothing in this model talks to a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from falco_lab.events.schema import SIMULATED_ATTR
from falco_lab.rules.output.format import event_time_ns

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Context name of every simulated cluster: shown wherever a real kube context would be.
SIMULATED_CONTEXT = "simulated-eks"

#: ``proc.tty`` of the first pseudo-terminal (``/dev/pts/0``: major 136, minor 0).
PTS0 = 136 << 8

#: ``user.loginuid`` of processes without a login session (every container process).
NO_LOGINUID = -1


@dataclass(slots=True)
class Node:
    """One EKS worker node (an EC2 instance running kubelet and containerd)."""

    name: str  # EKS node name == hostname, e.g. ip-10-0-12-34.eu-west-1.compute.internal
    ip: str
    zone: str
    instance_type: str
    ami_family: str  # AL2023, Bottlerocket, AL2
    kernel: str
    arch: str = "x86_64"
    container_runtime: str = "containerd://1.7.27"
    kubelet_version: str = "v1.32.9-eks-113cf36"
    pods: list[str] = field(default_factory=list)  # "namespace/name" keys

    @property
    def hostname(self) -> str:
        """``evt.hostname`` / the alert's ``hostname`` (Falco uses the node name on EKS)."""
        return self.name


@dataclass(slots=True)
class Namespace:
    """A Kubernetes namespace."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Volume:
    """One pod volume; ``kind`` is the volume source (``hostPath``, ``emptyDir``, ``configMap``...)."""

    name: str
    kind: str
    host_path: str | None = None
    host_path_type: str | None = None  # "", Directory, Socket, File, DirectoryOrCreate...


@dataclass(frozen=True, slots=True)
class Mount:
    """A container mount as the container plugin stores it (``container.mount*`` fields)."""

    source: str  # path on the host
    dest: str  # path inside the container
    mode: str = ""  # "ro" for read-only bind mounts, "" otherwise (as CRI reports it)
    rdwr: bool = True
    propagation: str = "rprivate"
    host_path: bool = False  # from a hostPath volume (the mounts rules look up by source path)

    def text(self) -> str:
        """The ``source:dest:mode:rdwr:propagation`` form used by ``container.mounts``."""
        return f"{self.source}:{self.dest}:{self.mode}:{'true' if self.rdwr else 'false'}:{self.propagation}"


@dataclass(slots=True)
class Container:
    """A running (or exited) container of a pod."""

    full_id: str  # 64 hex digits (``container.full_id``)
    name: str
    image: str  # as written in the pod spec, normalised with its registry
    repository: str
    tag: str
    image_digest: str
    pod_key: str  # "namespace/name"
    node: str
    mounts: tuple[Mount, ...] = ()
    privileged: bool = False
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    run_as_user: int = 0
    read_only_root: bool = False
    command: tuple[str, ...] = ()
    ip: str = ""
    start_ns: int = 0
    cgroup_type: str = "containerd"
    next_vpid: int = 1
    running: bool = False
    #: cached field context (filled lazily by :mod:`falco_lab.simulate.fields`).
    context: dict | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        """The 12-character short id Falco reports as ``container.id``."""
        return self.full_id[:12]


@dataclass(slots=True)
class Pod:
    """A pod scheduled on a node, created from a manifest (a plain dict)."""

    name: str
    namespace: str
    uid: str
    node: str
    labels: dict[str, str]
    manifest: dict
    volumes: list[Volume]
    security_context: dict
    sandbox_id: str  # full 64-hex id of the pause (sandbox) container
    ip: str
    containers: list[Container] = field(default_factory=list)
    phase: str = "Pending"
    created_ns: int = 0

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(slots=True)
class Process:
    """A process (thread group leader) as Falco's thread table sees it.

    ``pid`` is the host pid, ``vpid`` the pid inside the container's pid namespace (equal
    to ``pid`` on the host).  ``parent`` is the parent in the *host* view, so the
    ancestors of a shell exec'd into a container are ``runc``, ``containerd-shim``,
    ``systemd`` – as real Falco reports them.
    """

    pid: int
    vpid: int
    name: str  # comm: at most 15 characters
    exe: str  # argv[0]
    exepath: str  # full path of the executable
    args: tuple[str, ...]
    cwd: str
    uid: int
    user: str
    node: str
    loginuid: int = NO_LOGINUID
    tty: int = 0
    parent: Process | None = None
    container: Container | None = None
    start_ns: int = 0
    exe_upper_layer: bool = False
    exe_writable: bool = False
    session_leader: bool = False  # started a session (setsid): pid 1, an entrypoint, an exec'd command
    env: tuple[str, ...] = ()
    fds: dict[int, str] = field(default_factory=dict)  # fd number -> fd.type ("file", "ipv4", ...)
    next_fd: int = 3
    #: cached field context (filled lazily by :mod:`falco_lab.simulate.fields`).
    context: dict | None = field(default=None, repr=False)

    @property
    def ppid(self) -> int:
        return self.parent.pid if self.parent is not None else 0

    @property
    def cmdline(self) -> str:
        """``proc.cmdline``: the process name followed by its arguments."""
        return " ".join((self.name, *self.args)) if self.args else self.name

    def ancestors(self) -> list[Process]:
        """Parent, grandparent, ... up to (and including) the host's pid 1."""
        chain: list[Process] = []
        proc = self.parent
        while proc is not None and len(chain) < 64:
            chain.append(proc)
            proc = proc.parent
        return chain


@dataclass(slots=True)
class FalcoInstall:
    """Falco as installed by the Helm chart: a DaemonSet pod per node, falcosidekick and its UI."""

    installed: bool = False
    chart_version: str = "9.1.0"
    falco_version: str = "0.44.1"
    driver: str = "modern_ebpf"
    sidekick_replicas: int = 1
    ui_replicas: int = 1
    daemonset_pods: dict[str, str] = field(default_factory=dict)  # node name -> pod name
    installed_ns: int = 0
    rules_files: tuple[str, ...] = ()


@dataclass(slots=True)
class World:
    """The whole simulated cluster.  ``context`` always says it is simulated."""

    name: str
    region: str
    kubernetes_version: str
    nodes: dict[str, Node]
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    pods: dict[str, Pod] = field(default_factory=dict)
    falco: FalcoInstall = field(default_factory=FalcoInstall)
    context: str = SIMULATED_CONTEXT
    #: per-node host processes (systemd, containerd, containerd-shim per pod, kubelet...).
    host_procs: dict[str, dict[str, Process]] = field(default_factory=dict)
    #: processes of each container by container full id (vpid 1 first).
    container_procs: dict[str, list[Process]] = field(default_factory=dict)
    next_pid: dict[str, int] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        """Always true: a reminder, for every display, that this is not a real cluster."""
        return True

    def node_names(self) -> list[str]:
        return list(self.nodes)

    def pod(self, name: str, namespace: str) -> Pod | None:
        return self.pods.get(f"{namespace}/{name}")


def mark_simulated(frame: pd.DataFrame) -> pd.DataFrame:
    """Label ``frame`` as simulated data and return it.

    Sets ``frame.attrs["simulated"] = True`` (:data:`~falco_lab.events.schema.SIMULATED_ATTR`),
    which the charts (titles end in "(simulated)") and the report's banner
    (:func:`falco_lab.analysis.fields.is_simulated`) read.  pandas carries ``attrs`` through
    filtering and most other operations.
    """
    frame.attrs[SIMULATED_ATTR] = True
    return frame


def start_time_ns(when: datetime) -> int:
    """Nanoseconds since the epoch of a simulation's start time (a naive time is UTC).

    Raises
    ------
    ValueError
        When ``when`` is not a time.
    """
    ns = event_time_ns(when)
    if ns is None:
        raise ValueError(f"not a start time: {when!r}")
    return ns


__all__ = [
    "NO_LOGINUID",
    "PTS0",
    "SIMULATED_CONTEXT",
    "Container",
    "FalcoInstall",
    "Mount",
    "Namespace",
    "Node",
    "Pod",
    "Process",
    "Volume",
    "World",
    "mark_simulated",
]
