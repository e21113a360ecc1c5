"""Actions on the simulated cluster and the syscall events each one emits.

:class:`Simulator` owns a :class:`~falco_lab.simulate.model.World`, a seeded random
generator and an :class:`~falco_lab.simulate.syscalls.EventLog`.  Its methods mirror
what happens on a real EKS node: creating a pod starts its containers (an
``asyncevent`` from the container plugin, then the ``execve`` of the entrypoint as vpid
1, whose parent is ``containerd-shim``); ``kubectl exec`` makes containerd start
``runc exec`` on the host, and the command runs in the container as a child of
``runc``, with ``proc.tty`` set only when a terminal was requested; processes open
files, connect out, duplicate descriptors, and exit.
"""

from __future__ import annotations

import ipaddress
import posixpath
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from falco_lab.errors import FalcoLabError
from falco_lab.simulate.commands import run_script, shell_script
from falco_lab.simulate.fields import (
    container_context,
    exe_flags_text,
    file_fields,
    open_flags_text,
    process_context,
    socket_fields,
)
from falco_lab.simulate.images import HOST_BINARIES, image_digest, image_info, split_image
from falco_lab.simulate.model import (
    NO_LOGINUID,
    PTS0,
    Container,
    Mount,
    Namespace,
    Pod,
    Process,
    Volume,
    World,
)
from falco_lab.simulate.syscalls import EventLog
from falco_lab.simulate.tools import API_SERVER_IP, ERRNO, CommandResult, run_command
from falco_lab.workshop import chart


class SimulationError(FalcoLabError, ValueError):
    """An action that cannot happen in the simulated world (unknown pod, bad manifest...)."""


class Simulator:
    """Applies actions to a :class:`World` and records the syscall events they cause.

    Parameters
    ----------
    world
        The cluster state to act on.
    seed
        Seed of every random choice (ids, ports, timings): same seed, same events.
    start_ns
        Simulated wall clock at the start, in ns since the epoch.
    """

    def __init__(self, world: World, *, seed: int, start_ns: int, log: EventLog | None = None) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.now = start_ns
        self.log = log if log is not None else EventLog()
        for node in world.nodes.values():
            self._boot_node(node.name)

    @contextmanager
    def unobserved(self) -> Iterator[None]:
        """Change the world without recording events (what happened before Falco was watching)."""
        previous = self.log.paused
        self.log.paused = True
        try:
            yield
        finally:
            self.log.paused = previous

    # ------------------------------------------------------------------ ids and time
    def hex_id(self) -> str:
        """A 64-hex-digit id (containers, sandboxes)."""
        return f"{self.rng.getrandbits(256):064x}"

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def tick(self, min_ns: int = 50_000, max_ns: int = 3_000_000) -> int:
        """Advance the clock by a small random step and return the new time."""
        self.now += self.rng.randint(min_ns, max_ns)
        return self.now

    def _time(self, at: int | None) -> int:
        if at is None:
            return self.tick()
        self.now = max(self.now, at)
        return at

    def _pid(self, node: str) -> int:
        pid = self.world.next_pid[node]
        self.world.next_pid[node] = pid + self.rng.randint(1, 40)
        return pid

    # ------------------------------------------------------------------ node set-up
    def _boot_node(self, node: str) -> None:
        self.world.next_pid.setdefault(node, 4000)
        procs: dict[str, Process] = {}

        def host(name: str, pid: int, parent: Process | None, args: tuple[str, ...] = ()) -> Process:
            proc = Process(
                pid=pid,
                vpid=pid,
                name=name,
                exe=HOST_BINARIES[name],
                exepath=HOST_BINARIES[name],
                args=args,
                cwd="/",
                uid=0,
                user="root",
                node=node,
                parent=parent,
                exe_writable=True,
                session_leader=parent is None,
            )
            procs[name] = proc
            return proc

        systemd = host("systemd", 1, None, ("--switched-root", "--system", "--deserialize=32"))
        host("containerd", 2311, systemd)
        host("kubelet", 2498, systemd, ("--config", "/etc/kubernetes/kubelet/config.json"))
        self.world.host_procs[node] = procs

    # ------------------------------------------------------------------ processes
    def _emit_exec(self, proc: Process, at: int | None) -> None:
        ctx = process_context(proc, self.world.pods, proc.node)
        sid = self.log.subject(proc, ctx)
        self.log.add(
            sid,
            self._time(at),
            {
                "evt.type": "execve",
                "evt.dir": "<",
                "evt.category": "process",
                "evt.res": "SUCCESS",
                "evt.rawres": 0,
                "evt.failed": False,
                "evt.arg.flags": exe_flags_text(proc),
            },
        )

    def spawn(
        self,
        parent: Process,
        argv: Sequence[str],
        *,
        at: int | None = None,
        container: Container | None = None,
        uid: int | None = None,
        tty: int | None = None,
        cwd: str | None = None,
        session_leader: bool = False,
        upper_layer: bool | None = None,
    ) -> Process:
        """Fork ``parent`` and execve ``argv`` (one ``execve`` event); return the new process.

        The child inherits the parent's container, user, terminal and working directory
        unless given.  Binaries under ``/tmp``, ``/dev/shm`` or ``./`` are treated as
        dropped into the container's writable layer (``proc.is_exe_upper_layer``).
        """
        if not argv:
            raise SimulationError("cannot execute an empty command")
        container = parent.container if container is None else container
        node = parent.node
        argv0 = argv[0]
        name = posixpath.basename(argv0)[:15]
        if container is not None:
            info = image_info(container.repository)
            exepath = info.exepath(argv0)
            uid = parent.uid if uid is None else uid
            user = info.user_name(uid)
            dropped = exepath.startswith(("/tmp/", "/dev/shm/", "/var/tmp/"))
            vpid = container.next_vpid
            container.next_vpid += self.rng.randint(1, 6)
        else:
            exepath = HOST_BINARIES.get(name, argv0 if argv0.startswith("/") else f"/usr/bin/{name}")
            uid = parent.uid if uid is None else uid
            user = parent.user if uid == parent.uid else ("root" if uid == 0 else f"user{uid}")
            dropped = False
            vpid = 0
        pid = self._pid(node)
        proc = Process(
            pid=pid,
            vpid=vpid or pid,
            name=name,
            exe=argv0,
            exepath=exepath,
            args=tuple(argv[1:]),
            cwd=parent.cwd if cwd is None else cwd,
            uid=uid,
            user=user,
            node=node,
            loginuid=parent.loginuid,
            tty=parent.tty if tty is None else tty,
            parent=parent,
            container=container,
            start_ns=self.now,
            exe_upper_layer=dropped if upper_layer is None else upper_layer,
            exe_writable=uid == 0 or dropped,
            session_leader=session_leader,
        )
        if container is not None:
            self.world.container_procs.setdefault(container.full_id, []).append(proc)
        self._emit_exec(proc, at)
        return proc

    def fork(self, parent: Process, *, uid: int | None = None) -> Process:
        """``clone`` without ``execve`` (a worker of a pre-forking server): no event, same image."""
        container = parent.container
        uid = parent.uid if uid is None else uid
        user = image_info(container.repository).user_name(uid) if container is not None else parent.user
        vpid = 0
        if container is not None:
            vpid = container.next_vpid
            container.next_vpid += 1
        pid = self._pid(parent.node)
        child = Process(
            pid=pid,
            vpid=vpid or pid,
            name=parent.name,
            exe=parent.exe,
            exepath=parent.exepath,
            args=parent.args,
            cwd=parent.cwd,
            uid=uid,
            user=user,
            node=parent.node,
            loginuid=parent.loginuid,
            tty=parent.tty,
            parent=parent,
            container=container,
            start_ns=self.now,
            exe_upper_layer=parent.exe_upper_layer,
            exe_writable=uid == 0,
        )
        if container is not None:
            self.world.container_procs.setdefault(container.full_id, []).append(child)
        return child

    def _event(self, proc: Process, at: int | None, fields: dict) -> None:
        sid = self.log.subject(proc, process_context(proc, self.world.pods, proc.node))
        self.log.add(sid, self._time(at), fields)

    def open_file(
        self,
        proc: Process,
        path: str,
        *,
        write: bool = False,
        create: bool = False,
        trunc: bool = False,
        append: bool = False,
        at: int | None = None,
    ) -> int:
        """``openat`` of ``path``; return the fd, or ``-errno`` when the open fails."""
        flags = {"O_CLOEXEC"}
        if write:
            flags.add("O_WRONLY")
            flags.update(
                name for name, on in (("O_CREAT", create), ("O_TRUNC", trunc), ("O_APPEND", append)) if on
            )
        else:
            flags.add("O_RDONLY")
        error = self._open_error(proc, path, write)
        fields = {
            "evt.type": "openat",
            "evt.dir": "<",
            "evt.category": "file",
            "evt.arg.name": path,
            "evt.arg.flags": open_flags_text(flags),
            "evt.arg.mode": "0644" if create else "0",
            "evt.is_open_read": not write,
            "evt.is_open_write": write,
            "evt.is_open_exec": False,
            "evt.is_open_create": bool(create and write),
            **file_fields(path),
        }
        if error:
            fields |= {
                "evt.res": error,
                "evt.rawres": -ERRNO[error],
                "evt.failed": True,
                "fd.num": -1,
                "evt.arg.fd": f"-{ERRNO[error]}({error})",
            }
            self._event(proc, at, fields)
            return -ERRNO[error]
        fd = proc.next_fd
        proc.next_fd += 1
        proc.fds[fd] = "file"
        fields |= {
            "evt.res": "SUCCESS",
            "evt.rawres": fd,
            "evt.failed": False,
            "fd.num": fd,
            "evt.arg.fd": f"{fd}(<f>{path})",
        }
        self._event(proc, at, fields)
        return fd

    def _open_error(self, proc: Process, path: str, write: bool) -> str | None:
        container = proc.container
        if container is None:
            return None
        if not write:
            if proc.uid != 0 and path in ("/etc/shadow", "/etc/gshadow", "/etc/sudoers"):
                return "EACCES"
            return None
        writable_mounts = [m.dest for m in container.mounts if m.rdwr]
        in_writable_mount = any(path == d or path.startswith(d.rstrip("/") + "/") for d in writable_mounts)
        readonly_mount = any(
            path.startswith(m.dest.rstrip("/") + "/") or path == m.dest
            for m in container.mounts
            if not m.rdwr
        )
        if readonly_mount:
            return "EROFS"
        if container.read_only_root and not in_writable_mount:
            return "EROFS"
        if (
            proc.uid != 0
            and not path.startswith(("/tmp/", "/var/tmp/", "/dev/shm/"))
            and not in_writable_mount
        ):
            return "EACCES"
        return None

    def connect(
        self,
        proc: Process,
        remote_ip: str,
        remote_port: int,
        *,
        at: int | None = None,
        nonblocking: bool = False,
        server_name: str | None = None,
    ) -> int:
        """``connect`` of a new TCP socket to ``remote_ip:remote_port``; return its fd.

        ``server_name`` is the DNS name Falco resolves for ``fd.sip.name`` (the API
        server's ClusterIP always resolves to ``kubernetes.default.svc.cluster.local``).
        """
        local_ip = "127.0.0.1" if remote_ip.startswith("127.") else self._local_ip(proc)
        local_port = self.rng.randint(32768, 60999)
        fd = proc.next_fd
        proc.next_fd += 1
        proc.fds[fd] = "ipv4"
        res = "EINPROGRESS" if nonblocking else "SUCCESS"
        fields = {
            "evt.type": "connect",
            "evt.dir": "<",
            "evt.category": "net",
            "evt.res": res,
            "evt.rawres": -ERRNO["EINPROGRESS"] if nonblocking else 0,
            "evt.failed": nonblocking,
            "fd.num": fd,
            "evt.arg.fd": str(fd),
            "evt.arg.tuple": f"{local_ip}:{local_port}->{remote_ip}:{remote_port}",
            **socket_fields(local_ip, local_port, remote_ip, remote_port),
        }
        if remote_ip == API_SERVER_IP:
            server_name = "kubernetes.default.svc.cluster.local"
        if server_name:
            fields["fd.sip.name"] = server_name
        self._event(proc, at, fields)
        proc.fds[fd] = fields["fd.name"]
        return fd

    def dup2(self, proc: Process, oldfd: int, newfd: int, *, at: int | None = None) -> None:
        """``dup2(oldfd, newfd)``: the fd fields are those of ``oldfd`` (a socket in a reverse shell)."""
        name = proc.fds.get(oldfd)
        if name is None:
            raise SimulationError(f"process {proc.pid} has no fd {oldfd}")
        fields = {
            "evt.type": "dup2",
            "evt.dir": "<",
            "evt.category": "file",
            "evt.res": "SUCCESS",
            "evt.rawres": newfd,
            "evt.failed": False,
            "evt.arg.res": str(newfd),
            "evt.arg.oldfd": str(oldfd),
            "evt.arg.newfd": str(newfd),
            "fd.num": oldfd,
        }
        if "->" in name:
            local, remote = name.split("->")
            lip, lport = local.rsplit(":", 1)
            rip, rport = remote.rsplit(":", 1)
            fields |= socket_fields(lip, int(lport), rip, int(rport))
        else:
            fields |= file_fields(name)
        self._event(proc, at, fields)

    def chmod(self, proc: Process, path: str, mode: str, *, at: int | None = None) -> None:
        """``fchmodat`` of ``path`` to the octal ``mode`` text (e.g. ``0755``)."""
        self._event(
            proc,
            at,
            {
                "evt.type": "fchmodat",
                "evt.dir": "<",
                "evt.category": "file",
                "evt.res": "SUCCESS",
                "evt.rawres": 0,
                "evt.failed": False,
                "evt.arg.filename": path,
                "evt.arg.mode": mode,
            },
        )

    def exit(self, proc: Process, status: int = 0, *, at: int | None = None) -> None:
        """``procexit`` of ``proc``."""
        self._event(
            proc,
            at,
            {
                "evt.type": "procexit",
                "evt.dir": ">",
                "evt.category": "process",
                "evt.arg.status": str(status),
            },
        )

    def _local_ip(self, proc: Process) -> str:
        if proc.container is not None and not proc.container.host_network:
            return proc.container.ip
        return self.world.nodes[proc.node].ip

    # ------------------------------------------------------------------ Falco
    def install_falco(self, *, at: int | None = None, rules_files: Sequence[str] = ()) -> None:
        """Install Falco: one DaemonSet pod per node, falcosidekick and its UI (state only).

        Falco does not see its own start, so installing emits no syscall events; it sees
        what happens from ``falco.installed_ns`` on.  Installing again is an upgrade.
        """
        falco = self.world.falco
        self.world.namespaces.setdefault(
            "falco", Namespace("falco", {"kubernetes.io/metadata.name": "falco"})
        )
        falco.rules_files = tuple(rules_files)
        if falco.installed:  # an upgrade: same pods, Falco has been watching since the first install
            return
        falco.installed = True
        falco.installed_ns = self._time(at)
        falco.sidekick_replicas, falco.ui_replicas = chart.replica_counts()  # as values.yaml sets them
        for node in self.world.nodes:
            suffix = "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
            falco.daemonset_pods[node] = f"falco-{suffix}"

    # ------------------------------------------------------------------ pods
    def schedule(self, manifest: Mapping) -> str:
        """The node a pod goes to: its ``nodeName`` if set, else the node with the fewest pods."""
        wanted = manifest.get("spec", {}).get("nodeName")
        if wanted:
            if wanted not in self.world.nodes:
                raise SimulationError(f"pod manifest names unknown node {wanted!r}")
            return wanted
        return min(self.world.nodes.values(), key=lambda n: (len(n.pods), n.name)).name

    def create_pod(self, manifest: Mapping, *, node: str | None = None, at: int | None = None) -> Pod:
        """Create a pod from its manifest and start its containers (events: see the module doc)."""
        metadata = manifest.get("metadata") or {}
        spec = manifest.get("spec") or {}
        name = metadata.get("name")
        if manifest.get("kind", "Pod") != "Pod" or not name or not spec.get("containers"):
            raise SimulationError("a pod manifest needs kind Pod, metadata.name and spec.containers")
        namespace = metadata.get("namespace") or "default"
        key = f"{namespace}/{name}"
        existing = self.world.pods.get(key)
        if existing is not None and existing.phase != "Deleted":
            raise SimulationError(f'pods "{name}" already exists in namespace {namespace}')
        self.world.namespaces.setdefault(
            namespace, Namespace(namespace, {"kubernetes.io/metadata.name": namespace})
        )
        node_name = node or self.schedule(manifest)
        volumes = [_volume(v) for v in spec.get("volumes") or []]
        pod = Pod(
            name=name,
            namespace=namespace,
            uid=self.new_uuid(),
            node=node_name,
            labels=dict(metadata.get("labels") or {}),
            manifest=dict(manifest),
            volumes=volumes,
            security_context=dict(spec.get("securityContext") or {}),
            sandbox_id=self.hex_id(),
            ip=self._pod_ip(node_name) if not spec.get("hostNetwork") else self.world.nodes[node_name].ip,
            created_ns=self._time(at),
        )
        self.world.pods[key] = pod
        self.world.nodes[node_name].pods.append(key)
        shim = self._shim(pod)
        for index, cspec in enumerate(spec["containers"]):
            container = self._container(pod, cspec, spec, volumes, index)
            pod.containers.append(container)
            self.start_container(pod, container, shim)
        pod.phase = "Running"
        return pod

    def _pod_ip(self, node: str) -> str:
        base = ipaddress.IPv4Address(self.world.nodes[node].ip)
        return str(ipaddress.IPv4Address((int(base) & 0xFFFF0000) | self.rng.randint(0x0100, 0xFEFE)))

    def _shim(self, pod: Pod) -> Process:
        procs = self.world.host_procs[pod.node]
        shim = Process(
            pid=self._pid(pod.node),
            vpid=0,
            name="containerd-shim",
            exe="/usr/bin/containerd-shim-runc-v2",
            exepath="/usr/bin/containerd-shim-runc-v2",
            args=(
                "-namespace",
                "k8s.io",
                "-id",
                pod.sandbox_id,
                "-address",
                "/run/containerd/containerd.sock",
            ),
            cwd=f"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{pod.sandbox_id}",
            uid=0,
            user="root",
            node=pod.node,
            parent=procs["systemd"],
            exe_writable=True,
            session_leader=True,
        )
        shim.vpid = shim.pid
        procs[f"shim:{pod.key}"] = shim
        return shim

    def _container(
        self, pod: Pod, cspec: Mapping, spec: Mapping, volumes: list[Volume], index: int
    ) -> Container:
        image, repository, tag = split_image(str(cspec.get("image") or ""))
        security = dict(spec.get("securityContext") or {}) | dict(cspec.get("securityContext") or {})
        by_name = {v.name: v for v in volumes}
        mounts = []
        for vm in cspec.get("volumeMounts") or []:
            volume = by_name.get(vm.get("name"))
            if volume is None:
                raise SimulationError(f"volumeMount {vm.get('name')!r} of pod {pod.key} names no volume")
            readonly = bool(vm.get("readOnly"))
            mounts.append(
                Mount(
                    source=_volume_source(volume, pod),
                    dest=vm["mountPath"],
                    mode="ro" if readonly else "",
                    rdwr=not readonly,
                    host_path=volume.kind == "hostPath",
                )
            )
        mounts.append(Mount(f"/var/lib/kubelet/pods/{pod.uid}/etc-hosts", "/etc/hosts"))
        mounts.append(
            Mount(
                f"/var/lib/kubelet/pods/{pod.uid}/containers/{cspec.get('name')}/{self.rng.getrandbits(32):08x}",
                "/dev/termination-log",
            )
        )
        if spec.get("automountServiceAccountToken", True) is not False:
            mounts.append(
                Mount(
                    f"/var/lib/kubelet/pods/{pod.uid}/volumes/kubernetes.io~projected/kube-api-access-"
                    f"{self.rng.getrandbits(20):05x}",
                    "/var/run/secrets/kubernetes.io/serviceaccount",
                    mode="ro",
                    rdwr=False,
                )
            )
        command = tuple(str(a) for a in (cspec.get("command") or []) + (cspec.get("args") or []))
        return Container(
            full_id=self.hex_id(),
            name=str(cspec.get("name") or f"c{index}"),
            image=image,
            repository=repository,
            tag=tag,
            image_digest=image_digest(image),
            pod_key=pod.key,
            node=pod.node,
            mounts=tuple(mounts),
            privileged=bool(security.get("privileged", False)),
            host_network=bool(spec.get("hostNetwork", False)),
            host_pid=bool(spec.get("hostPID", False)),
            host_ipc=bool(spec.get("hostIPC", False)),
            run_as_user=int(security.get("runAsUser", 0)),
            read_only_root=bool(security.get("readOnlyRootFilesystem", False)),
            command=command or ("/docker-entrypoint.sh",),
            ip=pod.ip,
        )

    def start_container(
        self, pod: Pod, container: Container, shim: Process, *, at: int | None = None
    ) -> Process:
        """The container plugin's ``container_added`` async event, then the entrypoint's execve as vpid 1."""
        container.start_ns = self._time(at)
        container.running = True
        ctx = {"evt.hostname": pod.node, "evt.source": "syscall"} | container_context(container, pod)
        sid = self.log.subject(container, ctx)
        self.log.add(
            sid,
            container.start_ns,
            {
                "evt.type": "asyncevent",
                "evt.dir": ">",
                "evt.is_async": True,
                "evt.asynctype": "container_added",
            },
        )
        return self.spawn(
            shim,
            container.command,
            container=container,
            uid=container.run_as_user,
            tty=0,
            cwd="/",
            session_leader=True,
            upper_layer=False,
        )

    def entrypoint(self, container: Container) -> Process:
        """The vpid-1 process of a running container."""
        procs = self.world.container_procs.get(container.full_id)
        if not procs:
            raise SimulationError(f"container {container.id} has no processes")
        return procs[0]

    def delete_pod(self, pod: Pod, *, at: int | None = None) -> None:
        """Stop every container (SIGTERM to vpid 1: ``procexit``) and mark the pod deleted."""
        for container in pod.containers:
            if container.running:
                for proc in self.world.container_procs.get(container.full_id, [])[:1]:
                    self.exit(proc, 143, at=at)
                container.running = False
        pod.phase = "Deleted"
        node = self.world.nodes[pod.node]
        if pod.key in node.pods:
            node.pods.remove(pod.key)
        self.world.host_procs[pod.node].pop(f"shim:{pod.key}", None)

    # ------------------------------------------------------------------ exec
    def exec_in_container(
        self,
        pod: Pod,
        command: Sequence[str],
        *,
        tty: bool = False,
        container: Container | None = None,
        typed: Sequence[str] = (),
        at: int | None = None,
    ) -> tuple[Process, CommandResult]:
        """``kubectl exec [-it] POD -- COMMAND``: ``runc exec`` on the host, COMMAND inside.

        ``typed`` are lines typed into an interactive shell (with a TTY), run one by one.
        Returns the exec'd process and what it printed.
        """
        if pod.phase != "Running":
            raise SimulationError(f"pod {pod.key} is not running (phase {pod.phase})")
        container = container or pod.containers[0]
        shim = self.world.host_procs[pod.node].get(f"shim:{pod.key}")
        if shim is None:
            raise SimulationError(f"pod {pod.key} has no containerd-shim")
        runc = self.spawn(
            shim,
            [
                "runc",
                "--root",
                "/run/containerd/runc/k8s.io",
                "--log",
                f"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{container.full_id}/log.json",
                "--log-format",
                "json",
                "exec",
                "--process",
                f"/tmp/runc-process{self.rng.getrandbits(32)}",
                *(["--console-socket", f"/tmp/pty{self.rng.getrandbits(32)}/pty.sock"] if tty else []),
                "--detach",
                "--pid-file",
                f"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{container.full_id}/{self.new_uuid()}.pid",
                container.full_id,
            ],
            at=at,
        )
        proc = self.spawn(
            runc,
            list(command),
            container=container,
            uid=container.run_as_user,
            tty=PTS0 if tty else 0,
            cwd="/",
            session_leader=True,
            upper_layer=False,
        )
        proc.loginuid = NO_LOGINUID
        result = CommandResult()
        script = shell_script(proc)
        if script is not None:
            result = run_script(self, proc, script)
        else:
            result = run_command(self, proc)
        for line in typed:
            step = run_script(self, proc, line)
            result = CommandResult(result.stdout + step.stdout, result.stderr + step.stderr, step.exit_code)
        return proc, result

    def run_script(self, shell: Process, script: str) -> CommandResult:
        """Run ``script`` in ``shell`` (see :func:`falco_lab.simulate.commands.run_script`)."""
        return run_script(self, shell, script)


# ---------------------------------------------------------------------- helpers
def _volume(spec: Mapping) -> Volume:
    name = str(spec.get("name") or "")
    if "hostPath" in spec:
        host_path = spec["hostPath"] or {}
        return Volume(name, "hostPath", host_path.get("path"), host_path.get("type", ""))
    for kind in ("emptyDir", "configMap", "secret", "projected", "persistentVolumeClaim", "downwardAPI"):
        if kind in spec:
            return Volume(name, kind)
    return Volume(name, "unknown")


def _volume_source(volume: Volume, pod: Pod) -> str:
    if volume.kind == "hostPath" and volume.host_path:
        return volume.host_path
    plugin = {
        "emptyDir": "kubernetes.io~empty-dir",
        "configMap": "kubernetes.io~configmap",
        "secret": "kubernetes.io~secret",
        "projected": "kubernetes.io~projected",
        "persistentVolumeClaim": "kubernetes.io~csi",
        "downwardAPI": "kubernetes.io~downward-api",
    }.get(volume.kind, "kubernetes.io~unknown")
    return f"/var/lib/kubelet/pods/{pod.uid}/volumes/{plugin}/{volume.name}"


__all__ = ["SimulationError", "Simulator"]
