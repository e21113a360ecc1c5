"""Threads, file descriptors, users and containers as libsinsp keeps them, and field values.

:class:`CaptureState` starts from a capture's process, fd and user lists and applies each event
as libsinsp's parser does (clone/fork/vfork, execve, procexit, open*, socket, connect, accept,
bind, close, dup, pipe, chdir, setuid...).  :meth:`CaptureState.fields` gives the filter field
values of an event: ``evt.*``, ``proc.*``, ``thread.*``, ``user.*``, ``group.*``, ``fd.*``,
``container.*``.

Old captures store an enter and an exit event per syscall.  Falco ≥ 0.42 sees exit events only,
with the enter parameters merged in; :meth:`CaptureState.process` returns a row for each exit
event (``evt.arg.NAME`` falls back to the enter event's parameter) and for the events that have no
exit (``procexit``, ``container``, ``switch`` ...).  ``procinfo`` events update state only.
A missing value is ``None`` (libsinsp prints ``<NA>``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from falco_lab.capture.params import (
    ERRNO_NAMES,
    FLAG_TABLES,
    PPM_AF_INET,
    PPM_AF_INET6,
    PPM_AF_UNIX,
    SOCKET_FAMILIES,
    capability_names,
    decode,
    flag_names,
    printable,
    sockaddr_text,
    truncate,
)
from falco_lab.capture.reader import FdEntry, Metadata, RawEvent, ThreadEntry
from falco_lab.capture.table import EventInfo, event_table, syscall_names

__all__ = ["CaptureState", "Fd", "Thread", "container_id_from_cgroups"]

#: fd type name → (fd.type, fd.typechar)
FD_KINDS: dict[str, tuple[str, str]] = {
    "file": ("file", "f"),
    "directory": ("directory", "d"),
    "ipv4": ("ipv4", "4"),
    "ipv6": ("ipv6", "6"),
    "ipv4_server": ("ipv4", "4"),
    "ipv6_server": ("ipv6", "6"),
    "fifo": ("pipe", "p"),
    "unix": ("unix", "u"),
    "event": ("event", "e"),
    "signalfd": ("signalfd", "s"),
    "eventpoll": ("eventpoll", "l"),
    "inotify": ("inotify", "i"),
    "timerfd": ("timerfd", "t"),
    "netlink": ("netlink", "n"),
    "bpf": ("bpf", "b"),
    "userfaultfd": ("userfaultfd", "u"),
    "io_uring": ("io_uring", "r"),
    "memfd": ("memfd", "m"),
    "pidfd": ("pidfd", "P"),
    "unsupported": ("unknown", "o"),
    "unknown": ("unknown", "o"),
}
#: scap's l4 protocol numbers (``SCAP_L4_*``) in fd lists
SCAP_L4 = {2: "tcp", 3: "udp", 4: "icmp", 5: "raw"}
#: socket(2) type values → l4 protocol name when the protocol argument is 0
SOCK_TYPE_L4 = {1: "tcp", 2: "udp", 3: "raw"}
#: events after which cached process fields are recomputed
THREAD_EVENTS = frozenset(
    {"clone", "clone3", "fork", "vfork", "execve", "execveat", "procexit", "chdir", "fchdir", "setuid",
     "setgid", "setresuid", "setresgid", "setreuid", "setregid", "setsid", "container", "useradded",
     "userdeleted", "groupadded", "groupdeleted", "procinfo", "prctl", "setpgid"}
)  # fmt: skip
STATE_FLAGS: frozenset[str] = frozenset()
OPEN_EVENTS = frozenset({"open", "openat", "openat2", "creat", "open_by_handle_at"})
CLONE_THREAD = 1 << 13  # PPM_CL_CLONE_THREAD
CLONE_PARENT = 1 << 8  # PPM_CL_CLONE_PARENT
CHILD_IN_PIDNS = 1 << 29  # PPM_CL_CHILD_IN_PIDNS
O_DIRECTORY = 1 << 10
CONTAINER_ID = re.compile(
    r"(?:/docker/|docker-|crio-|cri-containerd-|/kubepods[^\n]*/|containerd-)([0-9a-f]{64})"
)
CREATES_FD = {"open", "openat", "openat2", "creat", "socket", "accept", "accept4", "dup", "dup2", "dup3", "eventfd", "eventfd2", "signalfd", "signalfd4", "timerfd_create", "inotify_init", "inotify_init1", "epoll_create", "epoll_create1", "memfd_create", "pidfd_open", "userfaultfd", "bpf", "open_by_handle_at", "fcntl", "io_uring_setup"}  # fmt: skip
NEW_FD_KIND = {
    "eventfd": ("event", ""),
    "eventfd2": ("event", ""),
    "signalfd": ("signalfd", ""),
    "signalfd4": ("signalfd", ""),
    "timerfd_create": ("timerfd", ""),
    "inotify_init": ("inotify", ""),
    "inotify_init1": ("inotify", ""),
    "epoll_create": ("eventpoll", ""),
    "epoll_create1": ("eventpoll", ""),
    "userfaultfd": ("userfaultfd", ""),
    "io_uring_setup": ("io_uring", ""),
    "bpf": ("bpf", ""),
    "pidfd_open": ("pidfd", ""),
}


def container_id_from_cgroups(cgroups: tuple[str, ...] | list[str]) -> str:
    """The 12-character container id in a thread's cgroups, or ``"host"``."""
    for entry in cgroups:
        match = CONTAINER_ID.search(entry)
        if match:
            return match.group(1)[:12]
    return "host"


@dataclass(slots=True)
class Fd:
    """An open file descriptor: ``kind`` is a key of :data:`FD_KINDS`."""

    kind: str
    name: str = ""
    l4proto: str | None = None
    sip: str | None = None
    cip: str | None = None
    sport: int | None = None
    cport: int | None = None
    is_server: bool = False
    flags: int = 0
    #: made by socket() in this capture and not connected, bound or accepted yet
    fresh: bool = False
    #: "server" (accepted, listening), "client" (connected) or None (not known)
    role: str | None = None

    @classmethod
    def from_entry(cls, entry: FdEntry) -> Fd:
        fd = cls(entry.type, entry.name, flags=entry.open_flags)
        if entry.type in ("ipv4", "ipv6", "ipv4_server", "ipv6_server"):
            from falco_lab.capture.params import _ip

            fd.l4proto = SCAP_L4.get(entry.l4proto)
            if entry.type.endswith("_server"):
                fd.sip, fd.sport, fd.is_server, fd.role = _ip(entry.sip), entry.sport, True, "server"
                fd.name = f"{fd.sip}:{fd.sport}"
            else:
                fd.sip, fd.sport = _ip(entry.sip), entry.sport
                fd.cip, fd.cport = _ip(entry.dip), entry.dport
                fd.name = f"{fd.cip}:{fd.cport}->{fd.sip}:{fd.sport}"
        return fd

    def copy(self) -> Fd:
        return Fd(
            self.kind,
            self.name,
            self.l4proto,
            self.sip,
            self.cip,
            self.sport,
            self.cport,
            self.is_server,
            self.flags,
        )


@dataclass(slots=True)
class Thread:
    tid: int
    pid: int
    ptid: int
    comm: str = ""
    exe: str = ""
    exepath: str = ""
    args: list[str] = field(default_factory=list)
    cwd: str = ""
    uid: int = 0xFFFFFFFF
    gid: int = 0xFFFFFFFF
    loginuid: int = 0xFFFFFFFF
    sid: int = -1
    vpgid: int = -1
    vtid: int = -1
    vpid: int = -1
    tty: int = 0
    cgroups: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    exe_writable: bool = False
    exe_upper_layer: bool = False
    exe_from_memfd: bool = False
    cap_inheritable: int = 0
    cap_permitted: int = 0
    cap_effective: int = 0
    fds: dict[int, Fd] = field(default_factory=dict)
    container_id: str = "host"
    placeholder: bool = False

    @classmethod
    def from_entry(cls, entry: ThreadEntry) -> Thread:
        return cls(
            tid=entry.tid,
            pid=entry.pid,
            ptid=entry.ptid,
            comm=entry.comm,
            exe=entry.exe,
            exepath=entry.exepath,
            args=list(entry.args),
            cwd=entry.cwd,
            uid=entry.uid,
            gid=entry.gid,
            loginuid=entry.loginuid,
            sid=entry.sid,
            vpgid=entry.vpgid,
            vtid=entry.vtid,
            vpid=entry.vpid,
            tty=entry.tty,
            cgroups=entry.cgroups,
            env=entry.env,
            exe_writable=entry.exe_writable,
            exe_upper_layer=entry.exe_upper_layer,
            exe_from_memfd=entry.exe_from_memfd,
            cap_inheritable=entry.cap_inheritable,
            cap_permitted=entry.cap_permitted,
            cap_effective=entry.cap_effective,
            container_id=container_id_from_cgroups(entry.cgroups),
        )


@dataclass(slots=True)
class _Enter:
    type: int
    values: dict[str, Any]
    fd: int | None


def _string_list(value: Any) -> list[str]:
    if isinstance(value, bytes):
        parts = value.split(b"\0")
        if parts and parts[-1] == b"":
            parts.pop()
        return [part.decode("utf-8", "replace") for part in parts]
    if isinstance(value, str):
        return [value]
    return [str(part) for part in value]


def _cwd_join(cwd: str, path: str) -> str:
    if not path:
        return path
    if path.startswith("/"):
        return os.path.normpath(path).replace("//", "/")
    base = cwd if cwd.endswith("/") else cwd + "/"
    joined = os.path.normpath(base + path)
    return joined.replace("//", "/")


class CaptureState:
    """The state libsinsp keeps while it reads a capture, and the field values of events.

    Parameters
    ----------
    meta
        The capture's metadata (:attr:`falco_lab.capture.reader.CaptureReader.meta`); read when
        the first event is processed, so pass the reader's live object.
    byte_order
        ``"little"`` or ``"big"``, the capture's byte order.
    merge_enter
        ``evt.arg.NAME`` of an exit event falls back to its enter event's parameter, as Falco
        ≥ 0.42 sees converted events (default).  ``False`` gives the 2022 view (exit parameters
        only), which is what ``sysdig`` prints.
    """

    def __init__(self, meta: Metadata, byte_order: str = "little", merge_enter: bool = True) -> None:
        self.meta = meta
        self.merge_enter = merge_enter
        self._syscalls = syscall_names()
        self.bo = byte_order
        self.threads: dict[int, Thread] = {}
        self.containers: dict[str, dict[str, Any]] = {}
        self._enters: dict[int, _Enter] = {}
        self._loaded = False
        #: bumped whenever a thread, user or container changes: invalidates the proc-field cache
        self._generation = 0
        self._proc_cache: dict[int, tuple[int, dict[str, Any]]] = {}
        self._local: frozenset[str] | None = None
        self._table = event_table()
        self.num = 0

    # -- set-up --------------------------------------------------------------------------
    def _load(self) -> None:
        self._loaded = True
        for tid, entry in self.meta.threads.items():
            self.threads[tid] = Thread.from_entry(entry)
        # threads of one process share the main thread's fd table
        for tid, fds in self.meta.fds.items():
            thread = self.threads.get(tid)
            if thread is None:
                continue
            for num, fd_entry in fds.items():
                thread.fds[num] = Fd.from_entry(fd_entry)
        for thread in self.threads.values():
            main = self.threads.get(thread.pid)
            if main is not None and main is not thread:
                main.fds.update(thread.fds)
                thread.fds = main.fds

    # -- helpers -------------------------------------------------------------------------
    def _local_ips(self) -> frozenset[str]:
        """Addresses of the capture's interfaces (``fd.is_server``: the server side is local)."""
        if self._local is None:
            from falco_lab.capture.params import _ip

            self._local = frozenset({"127.0.0.1", "::1"} | {_ip(i.addr) for i in self.meta.interfaces})
        return self._local

    def _values(self, event: RawEvent, info: EventInfo) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for param, raw in zip(info.params, event.params, strict=False):
            values[param.name] = decode(param.type, raw, self.bo)
        return values

    def main_thread(self, thread: Thread) -> Thread:
        return self.threads.get(thread.pid, thread)

    def parent(self, thread: Thread) -> Thread | None:
        main = self.main_thread(thread)
        if main.ptid == main.tid or main.ptid <= 0:
            return None
        parent = self.threads.get(main.ptid)
        return self.main_thread(parent) if parent is not None else None

    def ancestors(self, thread: Thread, limit: int = 64) -> list[Thread]:
        """``[self's main thread, parent, grandparent, ...]`` (cycle-safe, ``limit`` deep)."""
        chain = [self.main_thread(thread)]
        seen = {chain[0].tid}
        while len(chain) < limit:
            parent = self.parent(chain[-1])
            if parent is None or parent.tid in seen:
                break
            seen.add(parent.tid)
            chain.append(parent)
        return chain

    # -- event processing ----------------------------------------------------------------
    def process(self, event: RawEvent) -> dict[str, Any] | None:
        """Apply ``event`` to the state; its field row, or ``None`` for an enter event (kept to
        merge into its exit) or a ``procinfo`` event."""
        if not self._loaded:
            self._load()
        self.num += 1
        info = self._table[event.type]
        if info.name == "procinfo":
            return None
        values = self._values(event, info)
        if info.flags & STATE_FLAGS or info.name in THREAD_EVENTS:
            self._generation += 1
        announced = self._container(values) if info.name == "container" and info.is_enter else None
        thread = self.threads.get(event.tid)
        if thread is None and event.tid >= 0:
            # libsinsp makes an empty thread for a tid it has never seen
            thread = self.threads[event.tid] = Thread(event.tid, event.tid, -1, placeholder=True)
            self._generation += 1
        if info.is_enter:
            has_exit = event.type + 1 < len(self._table) and self._table[event.type + 1].name == info.name
            if has_exit:
                uses_fd = bool(info.flags & {"EF_USES_FD", "EF_CREATES_FD", "EF_DESTROYS_FD"})
                fd = values.get("fd") if uses_fd and isinstance(values.get("fd"), int) else None
                self._enters[event.tid] = _Enter(event.type, values, fd)
                return None
            row = self.fields(
                event, info, thread, values, {}, self._fd_of(thread, values.get("fd")), values.get("fd")
            )
            if announced is not None and row is not None:
                # the container plugin answers container.* of a container event from the container
                # it announces (m_last_container), whatever thread the event came on
                row.update(self._container_fields(announced))
            return row
        enter = self._enters.pop(event.tid, None)
        enter_values: dict[str, Any] = {}
        uses_fd = bool(info.flags & {"EF_USES_FD", "EF_CREATES_FD", "EF_DESTROYS_FD"})
        fdnum: Any = values.get("fd") if uses_fd and "fd" in values and info.name not in CREATES_FD else None
        if enter is not None and enter.type == event.type - 1:
            enter_values = enter.values
            if fdnum is None and enter.fd is not None and info.name not in CREATES_FD:
                fdnum = enter.fd
        merged = {**enter_values, **values}
        thread = self._before_fields(event, info, thread, merged)
        if info.name in CREATES_FD:
            res = merged.get("res", merged.get("fd"))
            if isinstance(res, int) and res >= 0 and thread is not None:
                self._create_fd(thread, info.name, merged, res)
                fdnum = res
            elif info.name in ("dup", "dup2", "dup3", "fcntl") or isinstance(merged.get("fd"), int):
                fdnum = merged.get("fd") if info.name not in ("open", "openat", "openat2", "creat") else None
        if info.name in ("pipe", "pipe2") and merged.get("res") == 0 and thread is not None:
            for key in ("fd1", "fd2"):
                num = merged.get(key)
                if isinstance(num, int) and num >= 0:
                    thread.fds[num] = Fd("fifo")
                    fdnum = num
        fd = self._fd_of(thread, fdnum)
        if info.name == "connect" and thread is not None and fd is not None:
            self._connect(fd, merged)
        row = self.fields(event, info, thread, values, enter_values, fd, fdnum)
        self._after_fields(event, info, thread, merged)
        return row

    def _fd_of(self, thread: Thread | None, fdnum: Any) -> Fd | None:
        if thread is None or not isinstance(fdnum, int):
            return None
        return thread.fds.get(fdnum)

    def _container(self, values: dict[str, Any]) -> str | None:
        """Remember the container a container event announces; its id, or ``None`` when unreadable."""
        raw = values.get("json")
        try:
            doc = json.loads(raw) if isinstance(raw, str) else None
        except json.JSONDecodeError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("container"), dict):
            info = doc["container"]
            cid = str(info.get("id", ""))[:12]
            if cid:
                self.containers[cid] = info
                return cid
        return None

    def _container_fields(self, container_id: str) -> dict[str, Any]:
        """``container.*`` of the container ``container_id`` ("host" for the host)."""
        container = self.containers.get(container_id, {})
        return {
            "container.id": container_id,
            "container.name": "host" if container_id == "host" else container.get("name"),
            "container.image": container.get("image"),
            "container.image.repository": container.get("imagerepo"),
            "container.image.tag": container.get("imagetag"),
            "container.privileged": container.get("privileged"),
        }

    def _before_fields(
        self, event: RawEvent, info: EventInfo, thread: Thread | None, v: dict[str, Any]
    ) -> Thread | None:
        name = info.name
        res = v.get("res")
        if name in ("clone", "fork", "vfork", "clone3") and isinstance(res, int) and res >= 0:
            return self._clone(event, thread, v, res)
        if name in ("execve", "execveat") and res == 0:
            if thread is None:
                thread = self.threads[event.tid] = Thread(event.tid, event.tid, -1, placeholder=True)
            if isinstance(v.get("pid"), int):
                thread.pid = v["pid"]
            if isinstance(v.get("ptid"), int):
                thread.ptid = v["ptid"]
            self._fill(thread, v)
            if isinstance(v.get("flags"), int):
                thread.exe_writable = bool(v["flags"] & 1)  # PPM_EXE_WRITABLE
            thread.fds = {k: f for k, f in thread.fds.items() if not (f.flags & (1 << 12))}
            return thread
        return thread

    def _fill(self, thread: Thread, v: dict[str, Any]) -> None:
        if "exe" in v:
            thread.exe = v["exe"]
        if "args" in v:
            thread.args = _string_list(v["args"])
        if "comm" in v:
            thread.comm = v["comm"]
        elif "exe" in v:
            thread.comm = os.path.basename(v["exe"])
        if "cgroups" in v:
            thread.cgroups = tuple(_string_list(v["cgroups"]))
            thread.container_id = container_id_from_cgroups(thread.cgroups)
        if "env" in v:
            thread.env = tuple(_string_list(v["env"]))
        if "tty" in v:
            thread.tty = int(v["tty"])
        if "loginuid" in v:
            thread.loginuid = int(v["loginuid"])
        if "uid" in v:
            thread.uid = int(v["uid"])
        if "gid" in v:
            thread.gid = int(v["gid"])
        if "vtid" in v:
            thread.vtid = int(v["vtid"])
        if "vpid" in v:
            thread.vpid = int(v["vpid"])
        for cap in ("cap_inheritable", "cap_permitted", "cap_effective"):
            if isinstance(v.get(cap), int):
                setattr(thread, cap, v[cap])
        if isinstance(v.get("vpgid"), int):
            thread.vpgid = v["vpgid"]
        if v.get("trusted_exepath"):
            thread.exepath = v["trusted_exepath"]
        elif isinstance(v.get("filename"), str) and v["filename"]:
            # the enter event's path, resolved against the cwd, as libsinsp does
            thread.exepath = _cwd_join(thread.cwd or "/", v["filename"])
        elif "exe" in v and v["exe"].startswith("/"):
            thread.exepath = v["exe"]

    def _clone(self, event: RawEvent, thread: Thread | None, v: dict[str, Any], res: int) -> Thread | None:
        flags = int(v.get("flags", 0) or 0)
        if res == 0:  # the child's exit
            child = self.threads.get(event.tid)
            if child is None or child.placeholder:
                pid = int(v.get("pid", event.tid))
                ptid = int(v.get("ptid", 0))
                parent = self.threads.get(ptid)
                child = Thread(event.tid, pid, ptid)
                if parent is not None:
                    child.sid, child.vpgid, child.exepath, child.tty, child.loginuid = (
                        parent.sid,
                        parent.vpgid,
                        parent.exepath,
                        parent.tty,
                        parent.loginuid,
                    )
                    child.cwd = parent.cwd
                    child.fds = (
                        parent.fds if flags & CLONE_THREAD else {k: f.copy() for k, f in parent.fds.items()}
                    )
                elif v.get("cwd"):
                    child.cwd = v["cwd"]
                self.threads[event.tid] = child
                self._fill(child, v)
            return child
        # the parent's exit: create the child if it is not there yet; a parent in a pid
        # namespace sees the child's namespaced tid, so the child's own exit creates it
        in_namespace = bool(flags & CHILD_IN_PIDNS) or (
            thread is not None and thread.vtid >= 0 and thread.vtid != thread.tid
        )
        if thread is not None and not in_namespace and res not in self.threads:
            is_thread = bool(flags & CLONE_THREAD)
            child = Thread(
                tid=res,
                pid=thread.pid if is_thread else res,
                ptid=thread.ptid if flags & CLONE_PARENT else thread.tid,
                comm=thread.comm,
                exe=thread.exe,
                exepath=thread.exepath,
                args=list(thread.args),
                cwd=thread.cwd,
                uid=thread.uid,
                gid=thread.gid,
                loginuid=thread.loginuid,
                sid=thread.sid,
                vpgid=thread.vpgid,
                tty=thread.tty,
                cgroups=thread.cgroups,
                env=thread.env,
                exe_writable=thread.exe_writable,
                cap_inheritable=thread.cap_inheritable,
                cap_permitted=thread.cap_permitted,
                cap_effective=thread.cap_effective,
                container_id=thread.container_id,
            )
            child.fds = thread.fds if is_thread else {k: f.copy() for k, f in thread.fds.items()}
            self.threads[res] = child
        if thread is not None:
            self._fill_parent(thread, v)
        return thread

    def _fill_parent(self, thread: Thread, v: dict[str, Any]) -> None:
        if "comm" in v and not thread.comm:
            thread.comm = v["comm"]

    def _create_fd(self, thread: Thread, name: str, v: dict[str, Any], res: int) -> None:
        if name in ("open", "openat", "openat2", "creat", "open_by_handle_at"):
            path = v.get("name", "")
            if name in ("openat", "openat2") and isinstance(path, str) and not path.startswith("/"):
                dirfd = v.get("dirfd")
                base = thread.cwd
                if isinstance(dirfd, int) and dirfd >= 0 and dirfd in thread.fds:
                    base = thread.fds[dirfd].name
                path = _cwd_join(base, path)
            elif isinstance(path, str):
                path = _cwd_join(thread.cwd, path)
            flags = int(v.get("flags", 0) or 0)
            kind = "directory" if flags & O_DIRECTORY else "file"
            thread.fds[res] = Fd(kind, str(path), flags=flags)
        elif name == "socket":
            domain = int(v.get("domain", 0) or 0)
            kind = {PPM_AF_INET: "ipv4", PPM_AF_INET6: "ipv6", PPM_AF_UNIX: "unix", 16: "netlink"}.get(
                domain, "unknown"
            )
            fd = Fd(kind, fresh=True)
            thread.fds[res] = fd
        elif name in ("accept", "accept4"):
            fd = Fd("ipv4")
            self._tuple_into(fd, v.get("tuple", b""), server_side=True)
            thread.fds[res] = fd
        elif name in ("dup", "dup2", "dup3", "fcntl"):
            old = v.get("fd", v.get("oldfd"))
            if name == "fcntl" and int(v.get("cmd", 0) or 0) not in (1, 2):  # F_DUPFD, F_DUPFD_CLOEXEC (ppm)
                return
            if isinstance(old, int) and old in thread.fds:
                thread.fds[res] = thread.fds[old].copy()
        elif name in NEW_FD_KIND:
            thread.fds[res] = Fd(NEW_FD_KIND[name][0])
        elif name == "memfd_create":
            thread.fds[res] = Fd("memfd", str(v.get("name", "")))

    def _tuple_into(self, fd: Fd, raw: Any, server_side: bool) -> None:
        if not isinstance(raw, bytes):
            return
        family, src, path, sport, dst, dport = sockaddr_text(raw, self.bo)
        fd.fresh = False
        if family in (PPM_AF_INET, PPM_AF_INET6):
            fd.kind = "ipv4" if family == PPM_AF_INET else "ipv6"
            if fd.l4proto is None:
                fd.l4proto = "tcp"
            fd.cip, fd.cport, fd.sip, fd.sport = src, sport, dst, dport
            fd.name = f"{src}:{sport}->{dst}:{dport}"
            fd.is_server = server_side
            fd.role = "server" if server_side else "client"
        elif family == PPM_AF_UNIX:
            fd.kind = "unix"
            fd.name = path

    def _connect(self, fd: Fd, v: dict[str, Any]) -> None:
        self._tuple_into(fd, v.get("tuple", b""), server_side=False)

    def _after_fields(
        self, event: RawEvent, info: EventInfo, thread: Thread | None, v: dict[str, Any]
    ) -> None:
        if thread is None:
            return
        name = info.name
        res = v.get("res")
        if name == "close" and res == 0:
            fd = v.get("fd")
            if isinstance(fd, int):
                thread.fds.pop(fd, None)
        elif name in ("chdir", "fchdir") and res == 0:
            if name == "chdir" and isinstance(v.get("path"), str):
                thread.cwd = _cwd_join(thread.cwd, v["path"])
            elif name == "fchdir" and isinstance(v.get("fd"), int) and v["fd"] in thread.fds:
                thread.cwd = thread.fds[v["fd"]].name
        elif name in ("setuid", "setresuid") and res == 0:
            uid = v.get("uid", v.get("euid"))
            if isinstance(uid, int) and uid != 0xFFFFFFFF:
                thread.uid = uid
        elif name in ("setgid", "setresgid") and res == 0:
            gid = v.get("gid", v.get("egid"))
            if isinstance(gid, int) and gid != 0xFFFFFFFF:
                thread.gid = gid
        elif name == "setsid" and isinstance(res, int) and res >= 0:
            thread.sid = res
        elif name == "bind" and res == 0:
            fd = self._fd_of(thread, v.get("fd"))
            addr = v.get("addr")
            if fd is not None and isinstance(addr, bytes) and addr and addr[0] in (PPM_AF_INET, PPM_AF_INET6):
                fd.is_server = True

    # -- printing -------------------------------------------------------------------------
    def render(self, info: EventInfo, index: int, value: Any, thread: Thread | None) -> tuple[str, str]:
        """``(raw, resolved)`` text of parameter ``index`` of ``info`` with ``value``."""
        param = info.params[index]
        ptype = param.type
        if ptype in ("PT_FD", "PT_FD32"):
            if value < 0:
                return str(value), ERRNO_NAMES.get(-value, "")
            fd = self._fd_of(thread, value)
            if fd is None:
                return str(value), ""
            return str(value), f"<{FD_KINDS[fd.kind][1]}>{fd.name}"
        if ptype == "PT_ERRNO":
            if value < 0:
                return str(value), ERRNO_NAMES.get(-value, "")
            return (format(value, "X") if param.fmt == "PF_HEX" else str(value)), ""
        if ptype == "PT_UID":
            user = self.meta.users.get(value)
            return str(value), user.name if user else ""
        if ptype == "PT_GID":
            group = self.meta.groups.get(value)
            return str(value), group.name if group else ""
        if ptype in ("PT_PID", "PT_PID32"):
            other = self.threads.get(value)
            return str(value), other.comm if other is not None else ""
        if ptype.startswith("PT_FLAGS") or ptype.startswith("PT_ENUMFLAGS"):
            table = FLAG_TABLES.get(f"{param.name}@{info.name}")
            if table is not None:
                return str(value), flag_names(value, table)
            if param.name == "domain":
                return str(value), SOCKET_FAMILIES.get(value, "")
            return str(value), ""
        if ptype == "PT_CHARBUF":
            return value, ""
        if ptype in ("PT_FSPATH", "PT_FSRELPATH"):
            # a relative path prints with its absolute form (against the cwd)
            if value and not value.startswith("/") and thread is not None and thread.cwd:
                return value, _cwd_join(thread.cwd, value)
            return value, ""
        if ptype == "PT_CHARBUFARRAY":
            return truncate("".join(part + "." for part in value)), ""
        if ptype == "PT_BYTEBUF":
            return printable(value), ""
        if ptype == "PT_FDLIST" and isinstance(value, bytes) and len(value) >= 2:
            count = int.from_bytes(value[:2], self.bo)  # type: ignore[arg-type]
            items = []
            for i in range(count):
                at = 2 + i * 10
                if at + 10 > len(value):
                    break
                num = int.from_bytes(value[at : at + 8], self.bo, signed=True)  # type: ignore[arg-type]
                flags = int.from_bytes(value[at + 8 : at + 10], self.bo)  # type: ignore[arg-type]
                fd = self._fd_of(thread, num)
                items.append(f"{num}:{FD_KINDS[fd.kind][1] if fd else ''}{flags}")
            return " ".join(items), ""
        if ptype == "PT_SOCKTUPLE":
            family, src, path, sport, dst, dport = sockaddr_text(value, self.bo)
            if family == PPM_AF_UNIX:
                return f"{src}->{dst} {path}", ""
            if family in (PPM_AF_INET, PPM_AF_INET6):
                return f"{src}:{sport}->{dst}:{dport}", ""
            return "NULL", ""
        if ptype == "PT_SOCKADDR":
            if isinstance(value, bytes) and value:
                family = value[0]
                if family == PPM_AF_INET and len(value) >= 7:
                    from falco_lab.capture.params import _ip

                    port = int.from_bytes(value[5:7], self.bo)  # type: ignore[arg-type]
                    return f"{_ip(value[1:5])}:{port}", ""
                if family == PPM_AF_UNIX:
                    return value[1:].split(b"\0", 1)[0].decode("utf-8", "replace"), ""
            return "NULL", ""
        if isinstance(value, int):
            if param.fmt == "PF_HEX":
                return format(value, "X"), ""
            if param.fmt == "PF_OCT":
                return (("0" + format(value, "o")) if value else "0"), ""
            return str(value), ""
        if isinstance(value, bytes):
            return value.hex(), ""
        return str(value), ""

    # -- fields ---------------------------------------------------------------------------
    def fields(
        self,
        event: RawEvent,
        info: EventInfo,
        thread: Thread | None,
        values: dict[str, Any],
        enter_values: dict[str, Any],
        fd: Fd | None,
        fdnum: Any,
    ) -> dict[str, Any]:
        """Field name → value for ``event`` (``None`` where libsinsp prints ``<NA>``)."""
        row: dict[str, Any] = {
            "evt.num": self.num,
            "evt.time": event.ts,
            "evt.rawtime": event.ts,
            "evt.cpu": event.cpu,
            "evt.type": self._syscalls[values["ID"]]
            if info.name == "syscall"
            and isinstance(values.get("ID"), int)
            and values["ID"] < len(self._syscalls)
            else info.name,
            "evt.dir": ">" if info.is_enter else "<",
            "thread.tid": event.tid,
        }
        args = []
        for index, (param, value) in enumerate(zip(info.params, values.values(), strict=False)):
            raw, resolved = self.render(info, index, value, thread)
            args.append(f"{param.name}={raw}({resolved})" if resolved else f"{param.name}={raw}")
            row[f"evt.arg.{param.name}"] = resolved or raw
            row[f"evt.arg[{index}]"] = resolved or raw
        enter_info = self._table[event.type - 1] if enter_values and self.merge_enter else None
        if enter_info is not None:
            for index, (param, value) in enumerate(
                zip(enter_info.params, enter_values.values(), strict=False)
            ):
                key = f"evt.arg.{param.name}"
                if key not in row:
                    raw, resolved = self.render(enter_info, index, value, thread)
                    row[key] = resolved or raw
        row["evt.args"] = "" if info.name == "syscall" else " ".join(args)
        if info.name in OPEN_EVENTS and not info.is_enter:
            flags = values.get("flags", enter_values.get("flags", 0))
            flags = flags if isinstance(flags, int) else 0
            row["evt.is_open_read"] = bool(flags & 1)
            row["evt.is_open_write"] = bool(flags & 2)
        else:
            row["evt.is_open_read"] = row["evt.is_open_write"] = False
        res = values.get("res") if not info.is_enter else None
        if (
            res is None
            and not info.is_enter
            and info.name in CREATES_FD
            and isinstance(values.get("fd"), int)
        ):
            res = values["fd"]
        if isinstance(res, int):
            row["evt.rawres"] = res
            row["evt.res"] = "SUCCESS" if res >= 0 else ERRNO_NAMES.get(-res, str(res))
            row["evt.failed"] = res < 0
        else:
            row["evt.rawres"] = row["evt.res"] = None
            row["evt.failed"] = False
        if thread is None:
            row.update(self._proc_fields(None))
        else:
            cached = self._proc_cache.get(thread.tid)
            if cached is None or cached[0] != self._generation:
                cached = (self._generation, self._proc_fields(thread))
                self._proc_cache[thread.tid] = cached
            row.update(cached[1])
        row.update(self._fd_fields(fd, fdnum))
        return row

    def _proc_fields(self, thread: Thread | None) -> dict[str, Any]:
        if thread is None:
            return dict.fromkeys(PROC_FIELDS) | {"container.id": "host"}
        main = self.main_thread(thread)
        chain = self.ancestors(thread, limit=8)
        parent = chain[1] if len(chain) > 1 else None
        user = self.meta.users.get(thread.uid)
        group = self.meta.groups.get(thread.gid)
        loginuser = self.meta.users.get(thread.loginuid)
        session = main
        for ancestor in chain[1:]:
            if ancestor.sid != main.sid:
                break
            session = ancestor
        row: dict[str, Any] = {
            "proc.name": thread.comm or None,
            "proc.exe": thread.exe or None,
            "proc.exepath": thread.exepath,
            "proc.args": " ".join(thread.args),
            "proc.cmdline": " ".join([thread.comm, *thread.args]) if thread.comm else None,
            "proc.pid": main.pid,
            "proc.vpid": main.vpid if main.vpid >= 0 else None,
            "proc.ppid": main.ptid,
            "proc.pname": parent.comm if parent else None,
            "proc.pexe": parent.exe if parent else None,
            "proc.pexepath": parent.exepath if parent else None,
            "proc.is_vpgid_leader": main.vpgid >= 0 and main.vpid == main.vpgid,
            "proc.is_exe_upper_layer": main.exe_upper_layer,
            "proc.is_exe_from_memfd": main.exe_from_memfd,
            "evt.hostname": self.meta.machine.hostname if self.meta.machine else None,
            "proc.pcmdline": " ".join([parent.comm, *parent.args]) if parent else None,
            "proc.sid": main.sid,
            "proc.vpgid": main.vpgid,
            "proc.sname": session.comm or None,
            "proc.tty": main.tty,
            "proc.cwd": thread.cwd if not thread.cwd or thread.cwd.endswith("/") else thread.cwd + "/",
            "proc.loginshellid": None,
            "proc.is_exe_writable": main.exe_writable,
            "thread.vtid": thread.vtid if thread.vtid >= 0 else None,
            "thread.cap_effective": capability_names(thread.cap_effective),
            "thread.cap_permitted": capability_names(thread.cap_permitted),
            "thread.cap_inheritable": capability_names(thread.cap_inheritable),
            "user.uid": thread.uid,
            "user.name": user.name if user else None,
            "user.homedir": user.home if user else None,
            "user.shell": user.shell if user else None,
            "user.loginuid": thread.loginuid if thread.loginuid != 0xFFFFFFFF else -1,
            "user.loginname": loginuser.name if loginuser else None,
            "group.gid": thread.gid,
            "group.name": group.name if group else None,
            **self._container_fields(thread.container_id),
        }
        for n in range(8):
            row[f"proc.aname[{n}]"] = chain[n].comm if n < len(chain) else None
            row[f"proc.apid[{n}]"] = chain[n].pid if n < len(chain) else None
            row[f"proc.aexepath[{n}]"] = chain[n].exepath if n < len(chain) else None
        return row

    def _fd_fields(self, fd: Fd | None, fdnum: Any) -> dict[str, Any]:
        if fd is None:
            row = dict.fromkeys(FD_FIELDS) | {"fd.num": fdnum if isinstance(fdnum, int) else None}
            if isinstance(fdnum, int) and fdnum >= 0:
                # an fd the capture never showed being opened: libsinsp prints an empty one
                row |= {"fd.name": "", "fd.directory": "/", "fd.typechar": "o"}
            return row
        kind, typechar = FD_KINDS.get(fd.kind, ("unknown", "o"))
        is_file = fd.kind in ("file", "directory")
        directory = None
        filename = None
        if is_file:
            directory = fd.name.rsplit("/", 1)[0] or "/" if "/" in fd.name else fd.name
            filename = fd.name.rsplit("/", 1)[-1]
        is_net = kind in ("ipv4", "ipv6")
        server = is_net and fd.sip in self._local_ips()
        local_is_server = fd.role == "server" if fd.role else server
        ends = [ip for ip in (fd.cip, fd.sip) if ip is not None] if is_net else []
        ports = [port for port in (fd.cport, fd.sport) if port is not None] if is_net else []
        lip = (fd.sip if local_is_server else fd.cip) if is_net else None
        rip = (fd.cip if local_is_server else fd.sip) if is_net else None
        return {
            "fd.num": fdnum,
            "fd.name": fd.name,
            "fd.type": kind,
            "fd.typechar": typechar,
            "fd.directory": directory,
            "fd.filename": filename,
            "fd.l4proto": fd.l4proto if is_net else None,
            "fd.sip": fd.sip if is_net else None,
            "fd.cip": fd.cip if is_net else None,
            "fd.sport": fd.sport if is_net else None,
            "fd.cport": fd.cport if is_net else (0 if kind == "unix" and not fd.fresh else None),
            "fd.sockfamily": "ip" if is_net else ("unix" if kind == "unix" else None),
            "fd.is_server": server if is_net else fd.is_server,
            "fd.lip": lip,
            "fd.rip": rip,
            "fd.lport": (fd.sport if local_is_server else fd.cport) if is_net else None,
            "fd.rport": (fd.cport if local_is_server else fd.sport) if is_net else None,
            "fd.nameraw": fd.name,
            "fd.connected": (not fd.fresh and bool(fd.name)) if is_net or kind == "unix" else None,
            # filter-only fields: the network fields match an address against a network; fd.ip,
            # fd.net and fd.port hold both ends (rules.fields.EITHER_SIDE_FIELDS)
            "fd.cnet": fd.cip if is_net else None,
            "fd.snet": fd.sip if is_net else None,
            "fd.lnet": lip,
            "fd.rnet": rip,
            "fd.ip": ends or None,
            "fd.net": ends or None,
            "fd.port": ports or None,
        }


PROC_FIELDS = (
    "proc.name", "proc.exe", "proc.exepath", "proc.args", "proc.cmdline", "proc.pid", "proc.vpid", "proc.ppid",
    "proc.pname", "proc.pexe", "proc.pexepath", "proc.is_vpgid_leader", "proc.is_exe_upper_layer",
    "proc.is_exe_from_memfd", "evt.hostname", "proc.pcmdline", "proc.sid", "proc.vpgid", "proc.sname", "proc.tty", "proc.cwd",
    "proc.loginshellid", "proc.is_exe_writable", "thread.vtid", "thread.cap_effective", "thread.cap_permitted",
    "thread.cap_inheritable", "user.uid", "user.name", "user.homedir",
    "user.shell", "user.loginuid", "user.loginname", "group.gid", "group.name", "container.id",
    "container.name", "container.image", "container.image.repository", "container.image.tag",
    "container.privileged",
    *(f"proc.aname[{n}]" for n in range(8)), *(f"proc.apid[{n}]" for n in range(8)),
    *(f"proc.aexepath[{n}]" for n in range(8)),
)  # fmt: skip
FD_FIELDS = (
    "fd.num", "fd.name", "fd.type", "fd.typechar", "fd.directory", "fd.filename", "fd.l4proto", "fd.sip",
    "fd.cip", "fd.sport", "fd.cport", "fd.sockfamily", "fd.is_server", "fd.lip", "fd.rip", "fd.lport",
    "fd.rport", "fd.nameraw", "fd.connected", "fd.cnet", "fd.snet", "fd.lnet", "fd.rnet", "fd.ip", "fd.net",
    "fd.port",
)  # fmt: skip
