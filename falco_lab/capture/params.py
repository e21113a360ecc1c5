"""Decode event parameters and print them the way libsinsp does.

Values decode by ``PT_*`` type: integers by their stored width, paths and strings up to their
NUL, string arrays on NULs, socket addresses and tuples to ``ip:port`` text, fd lists to
``(fd, flags)`` pairs.  :func:`render` gives a parameter's printed form as a pair
``(raw, resolved)``: ``evt.args`` shows ``raw(resolved)``, ``evt.arg.NAME`` shows the resolved
form when there is one (``O_RDONLY``, ``EINPROGRESS``, ``<f>/etc/passwd``), else the raw one.
"""

from __future__ import annotations

import errno
import ipaddress
from typing import Any

__all__ = ["ERRNO_NAMES", "decode", "flag_names", "sockaddr_text"]

SIGNED = {"PT_INT8", "PT_INT16", "PT_INT32", "PT_INT64", "PT_FD", "PT_PID", "PT_ERRNO", "PT_FD32", "PT_PID32"}
STRINGS = {"PT_CHARBUF", "PT_FSPATH", "PT_FSRELPATH"}
INTEGERS = SIGNED | {
    "PT_UINT8", "PT_UINT16", "PT_UINT32", "PT_UINT64", "PT_UID", "PT_GID", "PT_SYSCALLID",
    "PT_FLAGS8", "PT_FLAGS16", "PT_FLAGS32", "PT_ENUMFLAGS8", "PT_ENUMFLAGS16", "PT_ENUMFLAGS32",
    "PT_MODE", "PT_SIGTYPE", "PT_RELTIME", "PT_ABSTIME", "PT_PORT", "PT_SIGSET",
}  # fmt: skip

#: errno number → name (``ENOENT``), from the platform's errno table.
ERRNO_NAMES: dict[int, str] = dict(errno.errorcode) | {
    512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND", 515: "ENOIOCTLCMD", 516: "ERESTART_RESTARTBLOCK",
}  # fmt: skip

#: libs' scap flag values (``PPM_O_*``, ``PPM_AF_*``) and the names Falco prints for them, in
#: the order Falco tests them.  Facts of libs' ``driver/ppm_events_public.h`` / ``flags_table.c``.
FILE_FLAGS: tuple[tuple[str, int], ...] = (
    ("O_LARGEFILE", 1 << 11), ("O_DIRECTORY", 1 << 10), ("O_DIRECT", 1 << 9), ("O_TRUNC", 1 << 8),
    ("O_SYNC", 1 << 7), ("O_NONBLOCK", 1 << 6), ("O_EXCL", 1 << 5), ("O_DSYNC", 1 << 4),
    ("O_APPEND", 1 << 3), ("O_CREAT", 1 << 2), ("O_RDWR", 3), ("O_WRONLY", 1 << 1),
    ("O_RDONLY", 1 << 0), ("O_CLOEXEC", 1 << 12), ("O_NONE", 0), ("O_TMPFILE", 1 << 13),
)  # fmt: skip
CLONE_FLAGS: tuple[tuple[str, int], ...] = tuple(
    (name, 1 << bit)
    for bit, name in enumerate(
        (
            "CLONE_FILES", "CLONE_FS", "CLONE_IO", "CLONE_NEWIPC", "CLONE_NEWNET", "CLONE_NEWNS",
            "CLONE_NEWPID", "CLONE_NEWUTS", "CLONE_PARENT", "CLONE_PARENT_SETTID", "CLONE_PTRACE",
            "CLONE_SIGHAND", "CLONE_SYSVSEM", "CLONE_THREAD", "CLONE_UNTRACED", "CLONE_VM",
            "CLONE_INVERTED", "NAME_CHANGED", "CLOSED", "ACTIVE", "CLONE_NEWUSER", "PIPE_SRC", "PIPE_DST",
            "CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID", "CLONE_SETTLS", "CLONE_STOPPED", "CLONE_VFORK",
            "CLONE_NEWCGROUP", "CHILD_IN_PIDNS",
        )
    )
) + (("CLONE_NONE", 0),)  # fmt: skip
#: Linux capability numbers → names (``CAP_CHOWN`` is 0), as ``thread.cap_*`` print them.
CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)  # fmt: skip


def capability_names(mask: int) -> str:
    """``CAP_CHOWN CAP_KILL ...`` for a capability bit mask (unknown bits as ``CAP_<n>``)."""
    return " ".join(
        CAPABILITIES[bit] if bit < len(CAPABILITIES) else f"CAP_{bit}" for bit in range(64) if mask >> bit & 1
    )


SOCKET_FAMILIES: dict[int, str] = {
    0: "AF_UNSPEC",
    1: "AF_LOCAL",
    2: "AF_INET",
    10: "AF_INET6",
    16: "AF_NETLINK",
    17: "AF_PACKET",
}
#: parameter (event name, param name) → flag table
FLAG_TABLES: dict[str, tuple[tuple[str, int], ...]] = {
    "flags@open": FILE_FLAGS, "flags@openat": FILE_FLAGS, "flags@openat2": FILE_FLAGS, "flags@creat": FILE_FLAGS,
    "flags@clone": CLONE_FLAGS, "flags@fork": CLONE_FLAGS, "flags@vfork": CLONE_FLAGS, "flags@clone3": CLONE_FLAGS,
}  # fmt: skip

PPM_AF_UNIX, PPM_AF_INET, PPM_AF_INET6 = 1, 2, 10


def flag_names(value: int, table: tuple[tuple[str, int], ...]) -> str:
    """``O_RDONLY|O_CLOEXEC`` for ``value`` by ``table``, testing entries in order and
    clearing the bits each match takes; the zero entry names zero."""
    if value == 0:
        return next((name for name, bits in table if bits == 0), "")
    names = []
    rest = value
    for name, bits in table:
        if bits and rest & bits == bits:
            names.append(name)
            rest &= ~bits
    return "|".join(names)


def _ip(raw: bytes) -> str:
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    mapped = ipaddress.IPv6Address(raw)
    return str(mapped.ipv4_mapped) if mapped.ipv4_mapped else str(mapped)


def sockaddr_text(raw: bytes, bo: str) -> tuple[int, str, str, int, str, int]:
    """Decode a ``PT_SOCKTUPLE``: (family, src ip, path-or-empty, src port, dst ip, dst port).

    For ``AF_UNIX`` the src/dst ips are the kernel pointers in hex and the path comes third.
    """
    if not raw:
        return (0, "", "", 0, "", 0)
    family = raw[0]
    if family == PPM_AF_INET and len(raw) >= 13:
        return (
            family,
            _ip(raw[1:5]),
            "",
            int.from_bytes(raw[5:7], bo),  # type: ignore[arg-type]
            _ip(raw[7:11]),
            int.from_bytes(raw[11:13], bo),  # type: ignore[arg-type]
        )
    if family == PPM_AF_INET6 and len(raw) >= 37:
        return (
            family,
            _ip(raw[1:17]),
            "",
            int.from_bytes(raw[17:19], bo),  # type: ignore[arg-type]
            _ip(raw[19:35]),
            int.from_bytes(raw[35:37], bo),  # type: ignore[arg-type]
        )
    if family == PPM_AF_UNIX and len(raw) >= 17:
        src = int.from_bytes(raw[1:9], bo)  # type: ignore[arg-type]
        dst = int.from_bytes(raw[9:17], bo)  # type: ignore[arg-type]
        path = raw[17:].split(b"\0", 1)[0].decode("utf-8", "replace")
        return (family, f"{src:x}", path, 0, f"{dst:x}", 0)
    return (family, "", "", 0, "", 0)


def decode(ptype: str, raw: bytes, bo: str) -> Any:
    """The Python value of one parameter (``int``, ``str``, ``list[str]``, ``bytes``, ...)."""
    if ptype in INTEGERS:
        if not raw:
            return 0
        return int.from_bytes(raw, bo, signed=ptype in SIGNED)  # type: ignore[arg-type]
    if ptype in STRINGS:
        return raw.split(b"\0", 1)[0].decode("utf-8", "replace")
    if ptype == "PT_CHARBUFARRAY":
        parts = raw.split(b"\0")
        if parts and parts[-1] == b"":
            parts.pop()
        return [part.decode("utf-8", "replace") for part in parts]
    if ptype in ("PT_IPV4ADDR", "PT_IPV6ADDR"):
        return _ip(raw) if len(raw) in (4, 16) else ""
    return raw


def printable(raw: bytes, limit: int = 80) -> str:
    """A byte buffer as libsinsp prints it: printable ASCII kept, the rest as ``.``."""
    return truncate("".join(chr(b) if 32 <= b < 127 else "." for b in raw[: limit + 1]), limit)


def truncate(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters, the last three being ``...`` when it is cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
