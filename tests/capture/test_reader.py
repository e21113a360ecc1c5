"""The block reader: every shared capture reads, metadata lists decode, bad input fails clearly."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from falco_lab.capture.reader import CaptureError, CaptureReader, is_capture
from tests.capture._files import CAPTURES, capture

#: (events stored, threads in the process list) per shared capture, counted by this reader
#: and cross-checked against sysdig (events = printed events + procinfo events).
EXPECTED = {
    "falco__cat_write.scap": (345, 73),
    "falco__connect_localhost.scap": (374, 184),
    "falco__open-multiple-files.scap": (1272, 128),
    "falco__ping_sendto.scap": (1526, 136),
    "falco__psp_privileged.scap": (2059, 100),
    "falco__psp_run_as_user_0_container.scap": (4143, 124),
    "falco__psp_run_as_user_65534_container.scap": (241, 126),
    "falco__psp_write_tmp_test.scap": (229, 124),
    "falco__syscall.scap": (368, 229),
    "libs__sample.scap": (572, 94),
}


@pytest.mark.parametrize("name", CAPTURES)
def test_every_shared_capture_reads_to_the_end(name: str) -> None:
    reader = CaptureReader(capture(name))
    events = sum(1 for _ in reader)
    assert (events, len(reader.meta.threads)) == EXPECTED[name]
    assert reader.meta.header is not None and reader.meta.header.byte_order == "little"


def test_old_capture_blocks_are_v1_events_and_v6_process_list() -> None:
    reader = CaptureReader(capture("falco__cat_write.scap"))
    first_exec = next(e for e in reader if e.info.name == "execve" and not e.info.is_enter)
    assert reader.meta.block_types[0x212] == 1 and reader.meta.block_types[0x204] > 0
    assert first_exec.tid == 20072
    assert first_exec.params[1].rstrip(b"\0") == b"cat"


def test_new_capture_metadata_lists() -> None:
    reader = CaptureReader(capture("libs__sample.scap"))
    list(reader)
    meta = reader.meta
    assert meta.machine is not None and meta.machine.hostname == "ubuntu2204.localdomain"
    assert meta.block_types[0x215] == 1 and meta.block_types[0x218] == 94
    assert meta.users[0].name == "root" and meta.groups[0].name == "root"
    assert any(i.name == "lo" and i.addr == bytes([127, 0, 0, 1]) for i in meta.interfaces)
    kinds = Counter(fd.type for fds in meta.fds.values() for fd in fds.values())
    assert kinds["file"] > 0 and kinds["unix"] > 0


def test_uncompressed_capture_reads_the_same_as_gzip(tmp_path: Path) -> None:
    plain = tmp_path / "plain.scap"
    plain.write_bytes(gzip.decompress(capture("falco__syscall.scap").read_bytes()))
    a = [(e.ts, e.tid, e.type, e.params) for e in CaptureReader(capture("falco__syscall.scap"))]
    b = [(e.ts, e.tid, e.type, e.params) for e in CaptureReader(plain)]
    assert a == b and is_capture(plain)


def test_truncated_capture_keeps_events_before_and_names_the_offset(tmp_path: Path) -> None:
    data = gzip.decompress(capture("falco__cat_write.scap").read_bytes())
    cut = tmp_path / "cut.scap"
    cut.write_bytes(data[: len(data) - 10])
    reader = CaptureReader(cut)
    seen = []
    with pytest.raises(CaptureError) as info:
        for event in reader:
            seen.append(event)
    assert len(seen) == 344
    assert info.value.offset < len(data) and "truncated" in str(info.value) and str(cut) in str(info.value)


def test_corrupt_length_is_reported_with_its_offset(tmp_path: Path) -> None:
    data = bytearray(gzip.decompress(capture("falco__syscall.scap").read_bytes()))
    header_len = int.from_bytes(data[4:8], "little")
    data[header_len + 4 : header_len + 8] = (7).to_bytes(4, "little")
    bad = tmp_path / "bad.scap"
    bad.write_bytes(bytes(data))
    with pytest.raises(CaptureError, match=f"byte {header_len}: block type 0x201: impossible length 7"):
        list(CaptureReader(bad))


def test_not_a_capture(tmp_path: Path) -> None:
    text = tmp_path / "events.scap"
    text.write_text('{"rule": "x"}\n')
    assert not is_capture(text)
    with pytest.raises(CaptureError, match="not a scap capture"):
        list(CaptureReader(text))
