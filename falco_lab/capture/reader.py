"""Read the scap capture format (``.scap``, plain or gzip-compressed), block by block.

A capture is a sequence of blocks ``[type u32][total length u32][body][padding][total length u32]``:
a section header (whose magic gives the byte order), then machine info, interface, user,
process and fd lists, then event blocks.  Every block version libs has written is read:
process lists V1–V9, fd lists V1–V2, interface and user lists V1–V2, event blocks V1 (no
parameter count in the header, computed from the lengths as libs does), V2, with flags
(EVF) and large payload variants.  Unknown block types are skipped, as libs does.

The reader streams: :meth:`CaptureReader.blocks` yields one decoded block at a time and keeps
nothing but the metadata lists.  A truncated or corrupt block raises :class:`CaptureError`
naming the file, the byte offset of the block (in the uncompressed stream) and the reason;
every event yielded before it stays valid.
"""

from __future__ import annotations

import gzip
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from falco_lab.capture.table import EventInfo, event_table
from falco_lab.errors import FalcoLabError

__all__ = [
    "CaptureError",
    "CaptureReader",
    "FdEntry",
    "Group",
    "Interface",
    "MachineInfo",
    "RawEvent",
    "SectionHeader",
    "ThreadEntry",
    "User",
    "is_capture",
]

SHB = 0x0A0D0D0A
SHB_MAGIC = 0x1A2B3C4D
MI = {0x201, 0x8002ABCD}
PL_VERSIONS = {
    0x202: 1, 0x8000ABCD: 1, 0x207: 2, 0x8013ABCD: 2, 0x209: 3, 0x8014ABCD: 3,
    0x210: 4, 0x211: 5, 0x212: 6, 0x213: 7, 0x214: 8, 0x215: 9,
}  # fmt: skip
FDL = {0x203: 1, 0x8001ABCD: 1, 0x218: 2}
IL = {0x205: 1, 0x8011ABCD: 1, 0x219: 2}
UL = {0x206: 1, 0x8012ABCD: 1, 0x220: 2}
#: event block type -> (has nparams in header, has flags, large)
EV = {
    0x204: (False, False), 0x8010ABCD: (False, False), 0x208: (False, True),
    0x216: (True, False), 0x217: (True, True), 0x221: (True, False), 0x222: (True, True),
}  # fmt: skip

#: scap fd types (``scap_fd_type``), by number → name used by the state.
FD_TYPES = {
    0: "unknown", 1: "file", 2: "directory", 3: "ipv4", 4: "ipv6", 5: "ipv4_server",
    6: "ipv6_server", 7: "fifo", 8: "unix", 9: "event", 10: "unsupported", 11: "signalfd",
    12: "eventpoll", 13: "inotify", 14: "timerfd", 15: "netlink", 16: "file", 17: "bpf",
    18: "userfaultfd", 19: "io_uring", 20: "memfd", 21: "pidfd",
}  # fmt: skip
MAX_BLOCK = 1 << 28


class CaptureError(FalcoLabError):
    """A capture file cannot be read: names the file, the byte offset and the reason.

    ``offset`` is counted in the uncompressed stream (the same as the file offset for a plain
    capture); ``events_read`` is how many events were read before it.
    """

    def __init__(self, path: str, offset: int, reason: str, events_read: int = 0) -> None:
        self.path = path
        self.offset = offset
        self.reason = reason
        self.events_read = events_read
        #: set by :func:`falco_lab.capture.load_capture`: the frame of the events before the error
        self.frame: Any = None
        super().__init__(f"{path}: byte {offset}: {reason} (after {events_read} events)")


@dataclass(frozen=True, slots=True)
class SectionHeader:
    major: int
    minor: int
    byte_order: str  # "little" or "big"
    offset: int


@dataclass(frozen=True, slots=True)
class MachineInfo:
    num_cpus: int
    memory_bytes: int
    max_event_size: int
    hostname: str
    boot_ts: int = 0


@dataclass(slots=True)
class ThreadEntry:
    """A process-list entry (``scap_threadinfo``); fields absent from old versions keep defaults."""

    tid: int
    pid: int
    ptid: int
    comm: str
    exe: str
    args: tuple[str, ...]
    cwd: str
    uid: int
    gid: int
    sid: int = -1
    vpgid: int = -1
    exepath: str = ""
    fdlimit: int = 0
    flags: int = 0
    env: tuple[str, ...] = ()
    vtid: int = -1
    vpid: int = -1
    cgroups: tuple[str, ...] = ()
    root: str = ""
    pidns_init_start_ts: int = 0
    tty: int = 0
    loginuid: int = 0xFFFFFFFF
    exe_writable: bool = False
    cap_inheritable: int = 0
    cap_permitted: int = 0
    cap_effective: int = 0
    exe_upper_layer: bool = False
    exe_from_memfd: bool = False


@dataclass(slots=True)
class FdEntry:
    """An fd-list entry (``scap_fdinfo``): ``type`` is a name of :data:`FD_TYPES`."""

    fd: int
    ino: int
    type: str
    name: str = ""
    sip: bytes = b""
    dip: bytes = b""
    sport: int = 0
    dport: int = 0
    l4proto: int = 0
    open_flags: int = 0
    source: int = 0
    destination: int = 0


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    family: str  # "ipv4" / "ipv6"
    addr: bytes
    netmask: bytes


@dataclass(frozen=True, slots=True)
class User:
    uid: int
    gid: int
    name: str
    home: str
    shell: str


@dataclass(frozen=True, slots=True)
class Group:
    gid: int
    name: str


@dataclass(slots=True)
class RawEvent:
    """One event as stored: ``params`` are the raw parameter bytes in table order."""

    offset: int
    cpu: int
    ts: int
    tid: int
    type: int
    flags: int
    params: list[bytes]

    @property
    def info(self) -> EventInfo:
        return event_table()[self.type]


@dataclass
class Metadata:
    """Everything a capture says about the machine before (and between) its events."""

    header: SectionHeader | None = None
    machine: MachineInfo | None = None
    threads: dict[int, ThreadEntry] = field(default_factory=dict)
    fds: dict[int, dict[int, FdEntry]] = field(default_factory=dict)
    interfaces: list[Interface] = field(default_factory=list)
    users: dict[int, User] = field(default_factory=dict)
    groups: dict[int, Group] = field(default_factory=dict)
    block_types: dict[int, int] = field(default_factory=dict)


def is_capture(path: str | Path) -> bool:
    """Whether ``path`` holds a scap capture, judged by its content (never by its name).

    True for a plain file starting with the section header block, or a gzip file whose
    uncompressed stream does.  False for anything else, including unreadable gzip data.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if head == b"\x1f\x8b":
                with gzip.GzipFile(fileobj=handle) as unzipped:
                    first = unzipped.read(12)
            else:
                first = handle.read(12)
    except (OSError, EOFError, gzip.BadGzipFile):
        return False
    if len(first) < 12:
        return False
    return first[:4] == b"\x0a\x0d\x0d\x0a" and first[8:12] in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d")


class _Cursor:
    """Little helper over one block body: typed reads with bounds checks."""

    __slots__ = ("data", "pos", "end", "bo")

    def __init__(self, data: bytes, bo: str) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.bo = bo

    def remaining(self) -> int:
        return self.end - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise ValueError(f"needs {n} bytes at +{self.pos}, block has {self.end - self.pos} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u(self, n: int) -> int:
        return int.from_bytes(self.take(n), self.bo)  # type: ignore[arg-type]

    def i(self, n: int) -> int:
        return int.from_bytes(self.take(n), self.bo, signed=True)  # type: ignore[arg-type]

    def string(self) -> str:
        return _text(self.take(self.u(2)))


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _strings(raw: bytes) -> tuple[str, ...]:
    if not raw:
        return ()
    parts = raw.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return tuple(part.decode("utf-8", "replace") for part in parts)


class CaptureReader:
    """Stream the blocks of one capture file.

    Use as an iterator over :class:`RawEvent` (``for event in CaptureReader(path)``); the
    metadata lists are in :attr:`meta`, filled as their blocks are read (all of them come
    before the first event in every capture libs writes).

    Raises
    ------
    CaptureError
        On a truncated or corrupt block, or a file that is not a capture.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.meta = Metadata()
        self.events_read = 0
        self._bo = "little"
        self._fmt = "<"

    # -- opening -------------------------------------------------------------------------
    def _open(self) -> BinaryIO:
        try:
            raw = open(self.path, "rb")  # noqa: SIM115 - closed by the caller
        except OSError as exc:
            raise CaptureError(self.path, 0, f"cannot open: {exc.strerror}") from exc
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            return io.BufferedReader(gzip.GzipFile(fileobj=raw), buffer_size=1 << 20)
        raw.seek(0)
        return raw

    def __iter__(self) -> Iterator[RawEvent]:
        with self._open() as stream:
            yield from self._events(stream)

    def _read(self, stream: BinaryIO, n: int, offset: int, what: str) -> bytes:
        try:
            data = stream.read(n)
        except (EOFError, OSError, gzip.BadGzipFile) as exc:
            raise CaptureError(
                self.path,
                offset,
                f"{what}: compressed stream is corrupt or truncated ({exc})",
                self.events_read,
            ) from exc
        if len(data) != n:
            raise CaptureError(
                self.path,
                offset,
                f"{what}: truncated, needs {n} bytes, file has {len(data)}",
                self.events_read,
            )
        return data

    def _events(self, stream: BinaryIO) -> Iterator[RawEvent]:
        offset = 0
        first = True
        table = event_table()
        while True:
            try:
                head = stream.read(8)
            except (EOFError, OSError, gzip.BadGzipFile) as exc:
                raise CaptureError(
                    self.path,
                    offset,
                    f"block header: compressed stream is corrupt or truncated ({exc})",
                    self.events_read,
                ) from exc
            if not head:
                if first:
                    raise CaptureError(self.path, 0, "empty file: not a scap capture")
                return
            if len(head) < 8:
                raise CaptureError(
                    self.path,
                    offset,
                    f"block header: truncated, needs 8 bytes, file has {len(head)}",
                    self.events_read,
                )
            if first:
                if head[:4] != b"\x0a\x0d\x0d\x0a":
                    raise CaptureError(
                        self.path, 0, "not a scap capture: no section header block at the start"
                    )
                magic = self._read(stream, 4, offset + 8, "section header")
                if magic == b"\x4d\x3c\x2b\x1a":
                    self._bo, self._fmt = "little", "<"
                elif magic == b"\x1a\x2b\x3c\x4d":
                    self._bo, self._fmt = "big", ">"
                else:
                    raise CaptureError(self.path, 8, f"section header: bad byte-order magic {magic.hex()}")
                length = int.from_bytes(head[4:], self._bo)  # type: ignore[arg-type]
                body = magic + self._read(stream, max(length - 12, 0), offset + 12, "section header")
                first = False
                btype = SHB
            else:
                btype, length = struct.unpack(self._fmt + "II", head)
                if btype == SHB:
                    # a concatenated section: its magic may change the byte order
                    magic = self._read(stream, 4, offset + 8, "section header")
                    self._bo, self._fmt = ("little", "<") if magic == b"\x4d\x3c\x2b\x1a" else ("big", ">")
                    length = int.from_bytes(head[4:], self._bo)  # type: ignore[arg-type]
                    body = magic + self._read(stream, max(length - 12, 0), offset + 12, "section header")
                else:
                    if length < 12 or length > MAX_BLOCK or length % 4:
                        raise CaptureError(
                            self.path,
                            offset,
                            f"block type {btype:#x}: impossible length {length}",
                            self.events_read,
                        )
                    body = self._read(stream, length - 8, offset + 8, f"block type {btype:#x}")
            if len(body) + 8 < 12:
                raise CaptureError(
                    self.path, offset, f"block type {btype:#x}: impossible length {length}", self.events_read
                )
            trailer = int.from_bytes(body[-4:], self._bo)  # type: ignore[arg-type]
            if trailer != length:
                raise CaptureError(
                    self.path,
                    offset,
                    f"block type {btype:#x}: length {length} in header, {trailer} in trailer",
                    self.events_read,
                )
            body = body[:-4]
            self.meta.block_types[btype] = self.meta.block_types.get(btype, 0) + 1
            try:
                if btype in EV:
                    event = self._event(body, btype, offset, table)
                    if event is not None:
                        self.events_read += 1
                        yield event
                else:
                    self._metadata(body, btype, offset)
            except (ValueError, struct.error, IndexError) as exc:
                raise CaptureError(
                    self.path, offset, f"block type {btype:#x}: corrupt ({exc})", self.events_read
                ) from exc
            offset += length

    # -- metadata blocks -----------------------------------------------------------------
    def _metadata(self, body: bytes, btype: int, offset: int) -> None:
        c = _Cursor(body, self._bo)
        if btype == SHB:
            c.take(4)
            major, minor = c.u(2), c.u(2)
            self.meta.header = SectionHeader(major, minor, self._bo, offset)
            if major > 1:
                raise ValueError(f"scap format major version {major} is newer than this reader (1)")
        elif btype in MI:
            cpus, memory, max_event = c.u(4), c.u(8), c.u(8)
            hostname = _text(c.take(min(128, c.remaining())))
            boot = c.u(8) if c.remaining() >= 8 else 0
            self.meta.machine = MachineInfo(cpus, memory, max_event, hostname, boot)
        elif btype in PL_VERSIONS:
            self._proclist(c, PL_VERSIONS[btype])
        elif btype in FDL:
            self._fdlist(c, FDL[btype])
        elif btype in IL:
            self._iflist(c, IL[btype])
        elif btype in UL:
            self._userlist(c, UL[btype])
        # other block types: skipped, as libs does

    def _proclist(self, c: _Cursor, version: int) -> None:
        while c.remaining() >= 4:
            start = c.pos
            sub_len = c.u(4) if version >= 9 else 0
            tid, pid, ptid = c.i(8), c.i(8), c.i(8)
            sid = c.i(8) if version >= 6 else -1
            vpgid = c.i(8) if version >= 8 else -1
            comm, exe = c.string(), c.string()
            exepath = c.string() if version >= 7 else ""
            args = _strings(c.take(c.u(2)))
            cwd = c.string()
            fdlimit, flags, uid, gid = c.u(8), c.u(4), c.u(4), c.u(4)
            entry = ThreadEntry(
                tid, pid, ptid, comm, exe, args, cwd, uid, gid, sid, vpgid, exepath, fdlimit, flags
            )
            if version >= 2:
                c.take(4 * 3 + 8 * 2)  # vmsize, vmrss, vmswap, pfmajor, pfminor
                if version >= 3:
                    entry.env = _strings(c.take(c.u(2)))
                if version >= 4:
                    entry.vtid, entry.vpid = c.i(8), c.i(8)
                    entry.cgroups = _strings(c.take(c.u(2)))
                    if version >= 5:
                        entry.root = c.string()
            if sub_len:
                end = start + sub_len
                read = c.pos - start
                if sub_len - read > 29:  # libs >= 0.10: pidns_init_start_ts and tty come first
                    if c.pos + 8 <= end:
                        entry.pidns_init_start_ts = c.u(8)
                    if c.pos + 4 <= end:
                        entry.tty = c.u(4)
                if c.pos + 4 <= end:
                    entry.loginuid = c.u(4)
                if c.pos + 1 <= end:
                    entry.exe_writable = bool(c.u(1))
                for name in ("cap_inheritable", "cap_permitted", "cap_effective"):
                    if c.pos + 8 <= end:
                        setattr(entry, name, c.u(8))
                if c.pos + 1 <= end:
                    entry.exe_upper_layer = bool(c.u(1))
                for _ in range(3):  # exe_ino, exe_ino_ctime, exe_ino_mtime
                    if c.pos + 8 <= end:
                        c.u(8)
                if c.pos + 1 <= end:
                    entry.exe_from_memfd = bool(c.u(1))
                if c.pos > end:
                    raise ValueError(f"process entry {tid} longer than its length {sub_len}")
                c.pos = end
            self.meta.threads[tid] = entry

    def _fdlist(self, c: _Cursor, version: int) -> None:
        tid = c.i(8)
        fds = self.meta.fds.setdefault(tid, {})
        while c.remaining() >= 4:
            start = c.pos
            sub_len = c.u(4) if version >= 2 else 0
            fd, ino, kind = c.i(8), c.u(8), c.u(1)
            entry = FdEntry(fd, ino, FD_TYPES.get(kind, "unsupported"))
            if kind == 3:
                entry.sip, entry.dip, entry.sport, entry.dport, entry.l4proto = (
                    c.take(4),
                    c.take(4),
                    c.u(2),
                    c.u(2),
                    c.u(1),
                )
            elif kind == 5:
                entry.sip, entry.sport, entry.l4proto = c.take(4), c.u(2), c.u(1)
            elif kind == 4:
                entry.sip, entry.dip, entry.sport, entry.dport, entry.l4proto = (
                    c.take(16),
                    c.take(16),
                    c.u(2),
                    c.u(2),
                    c.u(1),
                )
            elif kind == 6:
                entry.sip, entry.sport, entry.l4proto = c.take(16), c.u(2), c.u(1)
            elif kind == 8:
                entry.source, entry.destination = c.u(8), c.u(8)
                entry.name = c.string()
            elif kind == 16:
                entry.open_flags = c.u(4)
                entry.name = c.string()
            elif kind in FD_TYPES and kind != 0:
                entry.name = c.string()
            elif kind not in FD_TYPES:
                entry.name = f"unknown-type:[{kind}]"
            if sub_len:
                if c.pos - start > sub_len:
                    raise ValueError(f"fd entry {fd} of thread {tid} longer than its length {sub_len}")
                c.pos = start + sub_len
            fds[fd] = entry

    def _iflist(self, c: _Cursor, version: int) -> None:
        self.meta.interfaces = []
        while c.remaining() >= 4:
            start = c.pos
            entry_len = c.u(4) + 4 if version >= 2 else 0
            kind, namelen = c.u(2), c.u(2)
            if kind in (1, 3):  # IPV4, IPV4_NOLINKSPEED
                addr, mask = c.take(4), c.take(4)
                c.take(4)
                if kind == 1:
                    c.take(8)
                family = "ipv4"
            elif kind in (2, 4):
                addr, mask = c.take(16), c.take(16)
                c.take(16)
                if kind == 2:
                    c.take(8)
                family = "ipv6"
            else:
                raise ValueError(f"unknown interface type {kind}")
            name = _text(c.take(namelen))
            self.meta.interfaces.append(Interface(name, family, addr, mask))
            if entry_len:
                c.pos = start + entry_len

    def _userlist(self, c: _Cursor, version: int) -> None:
        while c.remaining() >= 4:
            start = c.pos
            sub_len = c.u(4) if version >= 2 else 0
            kind = c.u(1)
            if kind == 0:  # USERBLOCK_TYPE_USER
                uid, gid = c.u(4), c.u(4)
                self.meta.users[uid] = User(uid, gid, c.string(), c.string(), c.string())
            else:
                gid = c.u(4)
                self.meta.groups[gid] = Group(gid, c.string())
            if sub_len:
                c.pos = start + sub_len

    # -- event blocks --------------------------------------------------------------------
    def _event(self, body: bytes, btype: int, offset: int, table: tuple[EventInfo, ...]) -> RawEvent | None:
        has_nparams, has_flags = EV[btype]
        fmt = self._fmt
        cpu = struct.unpack_from(fmt + "H", body, 0)[0]
        pos = 2
        flags = 0
        if has_flags:
            flags = struct.unpack_from(fmt + "I", body, pos)[0]
            pos += 4
        if has_nparams:
            ts, tid, evlen, etype, nparams = struct.unpack_from(fmt + "QqIHI", body, pos)
            hdr = 26
        else:
            ts, tid, evlen, etype = struct.unpack_from(fmt + "QqIH", body, pos)
            hdr = 22
            nparams = -1
        if etype >= len(table):
            return None  # an event newer than this table: libs skips it too
        info = table[etype]
        lsize = 4 if info.large_payload else 2
        start = pos + hdr
        end = pos + evlen
        if not has_nparams and info.code in ("PPME_NOTIFICATION_E", "PPME_INFRASTRUCTURE_EVENT_E"):
            end -= 3
        if evlen < hdr or end > len(body):
            raise ValueError(f"event length {evlen} does not fit its block ({len(body)} bytes)")
        if nparams < 0:
            nparams = self._count_params(body, start, end, len(info.params), lsize)
        lfmt = fmt + ("I" if lsize == 4 else "H") * nparams
        lens = struct.unpack_from(lfmt, body, start)
        vpos = start + lsize * nparams
        params = []
        for ln in lens:
            params.append(body[vpos : vpos + ln])
            vpos += ln
        if vpos > end:
            raise ValueError(f"parameters of event {info.name} overrun the event ({vpos - end} bytes)")
        return RawEvent(offset, cpu, ts, tid, etype, flags, params)

    def _count_params(self, body: bytes, start: int, end: int, table_n: int, lsize: int) -> int:
        letter = "I" if lsize == 4 else "H"
        for n in range(table_n, -1, -1):
            vpos = start + n * lsize
            if vpos > end:
                continue
            total = vpos + sum(struct.unpack_from(self._fmt + letter * n, body, start))
            if total < end:
                raise ValueError("cannot compute the parameter count of a V1 event: lengths too short")
            if total == end:
                return n
        raise ValueError("cannot compute the parameter count of a V1 event")
