"""Field values of simulated syscall events, in Falco's names and value forms.

A simulated event is a mapping ``field name → value`` using the names of Falco's field
catalogue (``evt.type``, ``proc.aname[2]``, ``container.mount.dest[/etc]``...).  Values are
typed by the field's catalogue type: numbers for ``INT*``/``UINT*``/``ABSTIME`` fields,
``bool`` for ``BOOL``, text for ``CHARBUF`` (including the rendered flag text Falco
prints for ``evt.arg.flags``).  A field that Falco could not extract is simply absent.

The fields that only depend on the process (its ``proc.*``, ``user.*``, ``container.*``
and ``k8s.*`` fields) are computed once per process: :func:`process_context`.

Known simplifications
---------------------
* ``container.mount.*[KEY]`` is emitted for the exact host paths of hostPath mounts;
  glob keys (``container.mount.dest[/proc*]``) are not resolved.  A key that matches no
  mount has no value, as with the container plugin: the plugin sets no value and Falco's
  filter check then treats the field as missing, so upstream's
  ``not container.mount.dest[X] in ("<NA>","N/A")`` is *true* for containers without
  that mount (the sandbox rule "Launch Sensitive Mount Container" therefore fires on
  every container start of a non-excepted image; the project's rules use
  ``exists and not ... in (...)`` instead).
* ``thread.cap_*``, ``proc.env`` and the ``fd.*`` fields of pipes and unix sockets are
  not simulated; checks on them see a missing value.
"""

from __future__ import annotations

import posixpath

from falco_lab.simulate.model import Container, Pod, Process

#: How many ancestors get ``proc.aname[N]`` / ``proc.apid[N]`` fields.
MAX_ANCESTORS = 7

#: ``evt.arg.flags`` text of open(2) flags, in the order Falco's flag table renders them.
_OPEN_FLAG_ORDER = (
    "O_LARGEFILE",
    "O_DIRECTORY",
    "O_DIRECT",
    "O_TRUNC",
    "O_SYNC",
    "O_NONBLOCK",
    "O_EXCL",
    "O_DSYNC",
    "O_APPEND",
    "O_CREAT",
    "O_RDWR",
    "O_WRONLY",
    "O_RDONLY",
    "O_CLOEXEC",
)

#: Catalogue kind of every field the simulator emits outside the per-argument families
#: (``proc.aname[N]`` and friends are resolved by :func:`field_kind`).
FIELD_KINDS: dict[str, str] = {
    # event
    "evt.num": "uint",
    "evt.rawtime": "uint",
    # evt.time is text in the catalogue; events carry it as integer ns, the form the rules
    # engine reads alert times from and Falco's output_fields print (see syscalls.EventLog).
    "evt.time": "uint",
    "evt.type": "string",
    "evt.dir": "string",
    "evt.category": "string",
    "evt.res": "string",
    "evt.rawres": "int",
    "evt.failed": "bool",
    "evt.hostname": "string",
    "evt.source": "string",
    "evt.is_async": "bool",
    "evt.asynctype": "string",
    "evt.is_open_read": "bool",
    "evt.is_open_write": "bool",
    "evt.is_open_exec": "bool",
    "evt.is_open_create": "bool",
    "evt.arg.flags": "string",
    "evt.arg.name": "string",
    "evt.arg.filename": "string",
    "evt.arg.path": "string",
    "evt.arg.mode": "string",
    "evt.arg.fd": "string",
    "evt.arg.res": "string",
    "evt.arg.addr": "string",
    "evt.arg.tuple": "string",
    "evt.arg.newfd": "string",
    "evt.arg.oldfd": "string",
    "evt.arg.request": "string",
    "evt.arg.pid": "string",
    "evt.arg.status": "string",
    # fd
    "fd.num": "int",
    "fd.type": "string",
    "fd.typechar": "string",
    "fd.name": "string",
    "fd.nameraw": "string",
    "fd.directory": "string",
    "fd.filename": "string",
    "fd.cip": "ipaddr",
    "fd.sip": "ipaddr",
    "fd.lip": "ipaddr",
    "fd.rip": "ipaddr",
    "fd.cport": "uint",
    "fd.sport": "uint",
    "fd.lport": "uint",
    "fd.rport": "uint",
    "fd.l4proto": "string",
    "fd.sockfamily": "string",
    "fd.is_server": "bool",
    "fd.connected": "bool",
    "fd.name_changed": "bool",
    "fd.sip.name": "string",
    # process / thread
    "proc.pid": "int",
    "proc.vpid": "int",
    "proc.ppid": "int",
    "proc.pvpid": "int",
    "proc.sid": "int",
    "proc.sname": "string",
    "proc.vpgid": "int",
    "proc.vpgid.name": "string",
    "proc.name": "string",
    "proc.exe": "string",
    "proc.exepath": "string",
    "proc.cmdline": "string",
    "proc.aname": "string",  # without index: every ancestor's name, as a tuple (parent first)
    "proc.args": "string",
    "proc.cmdnargs": "uint",
    "proc.cwd": "string",
    "proc.tty": "uint",
    "proc.pname": "string",
    "proc.pexe": "string",
    "proc.pexepath": "string",
    "proc.pcmdline": "string",
    "proc.is_exe_upper_layer": "bool",
    "proc.is_exe_writable": "bool",
    "proc.is_exe_from_memfd": "bool",
    "proc.pidns_init_start_ts": "uint",
    "thread.tid": "int",
    "thread.vtid": "int",
    "thread.ismain": "bool",
    # user / group
    "user.uid": "uint",
    "user.name": "string",
    "user.loginuid": "int",
    "user.loginname": "string",
    "group.gid": "uint",
    # container plugin
    "container.id": "string",
    "container.full_id": "string",
    "container.name": "string",
    "container.image": "string",
    "container.image.id": "string",
    "container.image.repository": "string",
    "container.image.tag": "string",
    "container.image.digest": "string",
    "container.type": "string",
    "container.privileged": "bool",
    "container.mounts": "string",
    "container.host_pid": "bool",
    "container.host_network": "bool",
    "container.host_ipc": "bool",
    "container.ip": "string",
    "container.start_ts": "uint",
    "k8s.pod.name": "string",
    "k8s.ns.name": "string",
    "k8s.pod.uid": "string",
    "k8s.pod.id": "string",
    "k8s.pod.sandbox_id": "string",
    "k8s.pod.full_sandbox_id": "string",
    "k8s.pod.labels": "string",
    "k8s.pod.ip": "string",
}

#: Argument families: ``name[arg]`` fields and their kinds.
_ARG_FAMILY_KINDS = {
    "proc.aname": "string",
    "proc.apid": "int",
    "proc.aexepath": "string",
    "container.mount.dest": "string",
    "container.mount.source": "string",
    "container.mount.mode": "string",
    "k8s.pod.label": "string",
}


def field_kind(name: str) -> str | None:
    """The catalogue kind (string, int, uint, bool, ipaddr) of a field this module emits."""
    kind = FIELD_KINDS.get(name)
    if kind is None and name.endswith("]") and "[" in name:
        kind = _ARG_FAMILY_KINDS.get(name[: name.index("[")])
    return kind


def open_flags_text(flags: set[str] | frozenset[str]) -> str:
    """Render open(2) flags the way Falco prints ``evt.arg.flags`` (``O_WRONLY|O_CREAT`` style)."""
    unknown = set(flags) - set(_OPEN_FLAG_ORDER)
    if unknown:
        raise ValueError(f"unknown open flags: {sorted(unknown)}")
    rendered = [f for f in _OPEN_FLAG_ORDER if f in flags]
    return "|".join(rendered) if rendered else "O_NONE"


def exe_flags_text(proc: Process) -> str:
    """``evt.arg.flags`` of an execve exit event (the ``exe_flags`` of the rules' outputs)."""
    parts = []
    if proc.exe_writable:
        parts.append("EXE_WRITABLE")
    if proc.exe_upper_layer:
        parts.append("EXE_UPPER_LAYER")
    elif proc.container is not None:
        parts.append("EXE_LOWER_LAYER")
    return "|".join(parts) if parts else "0"


def pod_label_text(labels: dict[str, str]) -> str:
    """``k8s.pod.labels``: ``key:value`` pairs joined by ``", "`` (sorted by key, as a std::map)."""
    return ", ".join(f"{k}:{v}" if v else k for k, v in sorted(labels.items()))


def container_context(container: Container, pod: Pod | None) -> dict:
    """The ``container.*`` and ``k8s.*`` fields of every event of ``container``.

    ``container.mount.dest[SOURCE]`` is keyed by the host source path (the plugin looks
    mounts up by source); ``container.mount.source[DEST]`` by destination.  A key that
    names no mount is absent, exactly as the container plugin returns no value for it.
    Keyed fields are emitted for hostPath mounts only (the kubelet's per-pod paths such
    as ``/var/lib/kubelet/pods/<uid>/etc-hosts`` would give every pod its own column);
    all mounts are in ``container.mounts``.  Computed once per container.
    """
    if container.context is not None:
        return container.context
    ctx: dict = {
        "container.id": container.id,
        "container.full_id": container.full_id,
        "container.name": container.name,
        "container.image": container.image,
        "container.image.id": container.image_digest.removeprefix("sha256:")[:12],
        "container.image.repository": container.repository,
        "container.image.tag": container.tag,
        "container.image.digest": container.image_digest,
        "container.type": container.cgroup_type,
        "container.privileged": container.privileged,
        "container.mounts": ",".join(m.text() for m in container.mounts),
        "container.host_pid": container.host_pid,
        "container.host_network": container.host_network,
        "container.host_ipc": container.host_ipc,
        "container.ip": container.ip,
        "container.start_ts": container.start_ns,
    }
    for mount in container.mounts:
        if mount.host_path:
            ctx.setdefault(f"container.mount.dest[{mount.source}]", mount.dest)
            ctx.setdefault(f"container.mount.source[{mount.dest}]", mount.source)
    if pod is not None:
        ctx.update(
            {
                "k8s.pod.name": pod.name,
                "k8s.ns.name": pod.namespace,
                "k8s.pod.uid": pod.uid,
                "k8s.pod.id": pod.uid,
                "k8s.pod.sandbox_id": pod.sandbox_id[:12],
                "k8s.pod.full_sandbox_id": pod.sandbox_id,
                "k8s.pod.labels": pod_label_text(pod.labels),
                "k8s.pod.ip": pod.ip,
            }
        )
        for key, value in pod.labels.items():
            ctx[f"k8s.pod.label[{key}]"] = value
    container.context = ctx
    return ctx


def process_context(proc: Process, pods: dict[str, Pod], hostname: str) -> dict:
    """Every process-dependent field of ``proc``'s events (cached on the process)."""
    if proc.context is not None:
        return proc.context
    parent = proc.parent
    ctx: dict = {
        "evt.hostname": hostname,
        "evt.source": "syscall",
        "proc.pid": proc.pid,
        "proc.vpid": proc.vpid,
        "proc.ppid": proc.ppid,
        "thread.tid": proc.pid,
        "thread.vtid": proc.vpid,
        "thread.ismain": True,
        "proc.name": proc.name,
        "proc.exe": proc.exe,
        "proc.exepath": proc.exepath,
        "proc.cmdline": proc.cmdline,
        "proc.args": " ".join(proc.args),
        "proc.cmdnargs": len(proc.args),
        "proc.cwd": proc.cwd,
        "proc.tty": proc.tty,
        "proc.is_exe_upper_layer": proc.exe_upper_layer,
        "proc.is_exe_writable": proc.exe_writable,
        "proc.is_exe_from_memfd": False,
        "user.uid": proc.uid,
        "user.name": proc.user,
        "user.loginuid": proc.loginuid,
        "group.gid": proc.uid,
        "proc.aname[0]": proc.name,
        "proc.apid[0]": proc.pid,
    }
    if proc.loginuid >= 0:
        ctx["user.loginname"] = proc.user
    if parent is not None:
        ctx.update(
            {
                "proc.pname": parent.name,
                "proc.pexe": parent.exe,
                "proc.pexepath": parent.exepath,
                "proc.pcmdline": parent.cmdline,
                "proc.pvpid": parent.vpid if parent.container is proc.container else 0,
            }
        )
    ancestors = proc.ancestors()
    ctx["proc.aname"] = tuple(a.name for a in ancestors)  # no index: "any ancestor" checks
    for depth, ancestor in enumerate(ancestors[:MAX_ANCESTORS], start=1):
        ctx[f"proc.aname[{depth}]"] = ancestor.name
        ctx[f"proc.apid[{depth}]"] = ancestor.pid
        ctx[f"proc.aexepath[{depth}]"] = ancestor.exepath
    leader = _session_leader(proc)
    ctx["proc.sid"] = leader.pid
    ctx["proc.sname"] = leader.name
    ctx["proc.vpgid"] = leader.vpid
    ctx["proc.vpgid.name"] = leader.name
    if proc.container is not None:
        container = proc.container
        ctx.update(container_context(container, pods.get(container.pod_key)))
        ctx["proc.pidns_init_start_ts"] = container.start_ns
    else:
        ctx["container.id"] = "host"
        ctx["container.name"] = "host"
    proc.context = ctx
    return ctx


def _session_leader(proc: Process) -> Process:
    """The nearest process, itself included, that started a session (``proc.sid``)."""
    chain = [proc, *proc.ancestors()]
    for candidate in chain:
        if candidate.session_leader:
            return candidate
    return chain[-1]


def file_fields(path: str) -> dict:
    """``fd.*`` fields of a regular file descriptor on ``path``."""
    directory, filename = posixpath.split(path)
    return {
        "fd.type": "file",
        "fd.typechar": "f",
        "fd.name": path,
        "fd.nameraw": path,
        "fd.directory": directory or "/",
        "fd.filename": filename,
    }


def socket_fields(
    local_ip: str, local_port: int, remote_ip: str, remote_port: int, proto: str = "tcp"
) -> dict:
    """``fd.*`` fields of a connected IPv4 client socket (this side is the client)."""
    return {
        "fd.type": "ipv4",
        "fd.typechar": "4",
        "fd.sockfamily": "ip",
        "fd.l4proto": proto,
        "fd.name": f"{local_ip}:{local_port}->{remote_ip}:{remote_port}",
        "fd.cip": local_ip,
        "fd.cport": local_port,
        "fd.sip": remote_ip,
        "fd.sport": remote_port,
        "fd.lip": local_ip,
        "fd.lport": local_port,
        "fd.rip": remote_ip,
        "fd.rport": remote_port,
        "fd.is_server": False,
        "fd.connected": True,
        "fd.name_changed": False,
    }


__all__ = [
    "FIELD_KINDS",
    "MAX_ANCESTORS",
    "container_context",
    "exe_flags_text",
    "field_kind",
    "file_fields",
    "open_flags_text",
    "pod_label_text",
    "process_context",
    "socket_fields",
]
