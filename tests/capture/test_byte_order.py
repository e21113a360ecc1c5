"""Both byte orders: a capture is read in the order its section header's magic gives."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from falco_lab.capture import capture_events, is_capture
from falco_lab.capture.reader import CaptureReader


def _block(fmt: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(fmt + "II", btype, length) + body + struct.pack(fmt + "I", length)


def _capture(fmt: str) -> bytes:
    """SHB, machine info, and one V2 close exit event (res=-9, fd=7) on tid 4242."""
    shb = _block(fmt, 0x0A0D0D0A, struct.pack(fmt + "IHHq", 0x1A2B3C4D, 1, 2, -1))
    machine = _block(
        fmt, 0x201, struct.pack(fmt + "IQQ", 4, 1 << 30, 65536) + b"host-x".ljust(128, b"\0") + b"\0" * 32
    )
    params = struct.pack(fmt + "qq", -9, 7)
    header = struct.pack(fmt + "QqIHI", 1_700_000_000_123_456_789, 4242, 26 + 4 + len(params), 5, 2)
    event = _block(fmt, 0x216, struct.pack(fmt + "H", 3) + header + struct.pack(fmt + "HH", 8, 8) + params)
    return shb + machine + event


@pytest.mark.parametrize("fmt", ["<", ">"])
def test_little_and_big_endian_captures_decode_the_same(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "one.scap"
    path.write_bytes(_capture(fmt))
    reader = CaptureReader(path)
    events = list(reader)
    assert reader.meta.header is not None
    assert reader.meta.header.byte_order == ("little" if fmt == "<" else "big")
    assert reader.meta.machine is not None and reader.meta.machine.hostname == "host-x"
    assert [(e.cpu, e.ts, e.tid, e.type) for e in events] == [(3, 1_700_000_000_123_456_789, 4242, 5)]
    (row,) = list(capture_events(path))
    assert (row["evt.type"], row["evt.rawres"], row["evt.res"], row["evt.arg.fd"]) == (
        "close",
        -9,
        "EBADF",
        "7",
    )
    assert is_capture(path)
