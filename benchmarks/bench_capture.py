"""Benchmark: reading a ≥ 1M-event scap capture into Falco field values, beside ``sysdig -r``.

Usage::

    python benchmarks/bench_capture.py --out DIR [--events N] [--source FILE.scap]

Builds an uncompressed capture of at least ``N`` events (default 1,000,000) by repeating the
event blocks of a real capture (default ``../shared/captures/falco__psp_run_as_user_0_container.scap``)
after its metadata blocks, each repetition with fresh thread ids (``+ k * 10,000,000``) and later
timestamps.  Then, each in its own subprocess so the peak RSS is its own, in the same run:

* **decode**: ``CaptureReader`` — blocks and parameters split, no state;
* **fields**: ``capture_events`` — decode + libsinsp-like state + every field of every row;
* **frame**: ``load_capture(fields=FRAME_FIELDS)`` — the same, into a DataFrame of those columns;
* **sysdig**: ``sysdig -r FILE -p '*<the FRAME_FIELDS>'`` to /dev/null, when sysdig is installed.

Writes ``DIR/capture.json``: events in the file, and per method seconds, events/s, peak RSS.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_common import BenchRun, comparison  # noqa: E402

SHARED = Path(os.environ.get("FALCO_LAB_SHARED", ROOT.parent / "shared"))
DEFAULT_SOURCE = SHARED / "captures" / "falco__psp_run_as_user_0_container.scap"
EVENT_BLOCKS = {0x204: 0, 0x8010ABCD: 0, 0x216: 0, 0x221: 0, 0x208: 4, 0x217: 4, 0x222: 4}
TID_STEP = 10_000_000
FRAME_FIELDS = (
    "evt.time", "evt.type", "evt.dir", "evt.res", "evt.args", "proc.name", "proc.pid", "proc.ppid",
    "proc.pname", "proc.cmdline", "proc.aname[2]", "user.name", "container.id", "fd.name", "fd.type",
    "fd.sip", "fd.sport", "evt.arg.flags",
)  # fmt: skip


def build(source: Path, events: int, target: Path) -> int:
    """Write a capture of at least ``events`` events to ``target``; return its event count."""
    data = source.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    offset = 0
    head = bytearray()
    blocks: list[tuple[bytes, int]] = []
    while offset < len(data):
        btype, length = struct.unpack_from("<II", data, offset)
        block = data[offset : offset + length]
        if btype in EVENT_BLOCKS:
            blocks.append((block, EVENT_BLOCKS[btype]))
        elif not blocks:
            head += block
        offset += length
    if not blocks:
        raise SystemExit(f"{source}: no event blocks")
    first = struct.unpack_from("<Q", blocks[0][0], 10 + blocks[0][1])[0]
    last = struct.unpack_from("<Q", blocks[-1][0], 10 + blocks[-1][1])[0]
    span = max(last - first, 0) + 1_000_000
    repeats = -(-events // len(blocks))
    with open(target, "wb") as out:
        out.write(head)
        for k in range(repeats):
            chunk = bytearray()
            for block, extra in blocks:
                patched = bytearray(block)
                at = 10 + extra
                ts, tid = struct.unpack_from("<Qq", patched, at)
                struct.pack_into("<Qq", patched, at, ts + k * span, tid + k * TID_STEP if tid > 0 else tid)
                chunk += patched
            out.write(chunk)
    return repeats * len(blocks)


def _child(method: str, path: str) -> None:
    sys.path.insert(0, str(ROOT))
    start = time.perf_counter()
    if method == "decode":
        from falco_lab.capture import CaptureReader

        count = sum(1 for _ in CaptureReader(path))
    elif method == "fields":
        from falco_lab.capture import capture_events

        count = sum(1 for _ in capture_events(path))
    elif method == "frame":
        from falco_lab.capture import load_capture

        count = len(load_capture(path, fields=list(FRAME_FIELDS)))
    else:
        raise SystemExit(f"unknown method {method}")
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": count, "seconds": seconds, "peak_rss_mb": rss_mb}))


def _run(method: str, path: Path, events: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, str(path)], capture_output=True, text=True, check=True
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["events_per_s"] = events / result["seconds"]
    return BenchRun.stamp(result)


def _sysdig(path: Path, events: int) -> dict[str, object] | None:
    sysdig = shutil.which("sysdig")
    if sysdig is None:
        return None
    fmt = "*" + " ".join(f"%{name}" for name in FRAME_FIELDS)
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        process = subprocess.Popen(
            [sysdig, "-r", str(path), "-p", fmt], stdout=sink, stderr=subprocess.DEVNULL
        )
        _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"sysdig failed with status {status}")
    version = subprocess.run(
        [sysdig, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return BenchRun.stamp(
        {
            "version": version,
            "seconds": seconds,
            "events_per_s": events / seconds,
            "peak_rss_mb": usage.ru_maxrss / 1024,
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, help="directory for capture.json")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    if args.out is None:
        parser.error("--out is required")
    if not args.source.is_file():
        print(f"source capture {args.source} not found (set FALCO_LAB_SHARED)", file=sys.stderr)
        return 2
    run = BenchRun("capture")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.scap"
        events = build(args.source, args.events, path)
        file_mb = path.stat().st_size / 1e6
        figures: dict[str, object] = {
            "events": events,
            "file_mb": file_mb,
            "architecture": platform.machine(),
        }
        for method in ("decode", "fields", "frame"):
            figures[method] = _run(method, path, events)
            print(f"{method}: {figures[method]}", file=sys.stderr)
        figures["sysdig"] = _sysdig(path, events)
        print(f"sysdig: {figures['sysdig']}", file=sys.stderr)
    sysdig_missing = None if figures["sysdig"] else "sysdig is not installed on this machine"
    result = run.result(
        figures,
        data={
            "generator": "benchmarks/bench_capture.py:build (the source's event blocks repeated, fresh "
            "thread ids and later timestamps per repetition)",
            "seed": None,
            "seed_note": "deterministic: no random numbers, the same source and size give the same file",
            "source": args.source.name,
            "events": events,
            "file_mb": round(file_mb, 1),
        },
        baseline=comparison("decode", "CaptureReader: blocks and parameters only, the floor of any reader"),
        peers=[comparison("sysdig", "sysdig -r FILE -p <the frame's fields> > /dev/null", sysdig_missing)],
    )
    run.write(args.out, result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
