"""Write what libsinsp (Debian's ``sysdig``) prints for the shared captures, as test data.

For every shared capture (``../shared/captures``) the tool runs
``sysdig -r FILE -p '*%evt.rawtime...'`` with the fields of :data:`FIELDS`, keeps the exit
events (and ``procexit``/``container``, which have no exit), caps each file at
:data:`CAP` rows (all state-changing events kept first), and writes
``tests/capture/data/sysdig_expectations.json.gz`` (gzip, deterministic).  ``tests/capture/test_fidelity.py`` compares
the reader's values with it, and re-generates it when ``sysdig`` is installed.

    python tools/gen_capture_expectations.py [--out FILE] [--check]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FALCO_LAB_SHARED", ROOT.parent / "shared"))
TARGET = ROOT / "tests" / "capture" / "data" / "sysdig_expectations.json.gz"
SEP = "|#|"
CAP = 5000
#: the key fields first, then the compared ones
KEY = ("evt.rawtime", "thread.tid", "evt.type", "evt.dir")
FIELDS = (
    "evt.args", "evt.rawres", "evt.res", "evt.failed",
    "proc.name", "proc.exe", "proc.cmdline", "proc.args", "proc.pid", "proc.ppid", "proc.vpid",
    "proc.pname", "proc.pcmdline", "proc.aname[2]", "proc.aname[3]", "proc.apid[2]", "proc.sname",
    "proc.tty", "proc.cwd", "user.uid", "user.name", "group.gid", "group.name",
    "container.id", "container.name", "container.image",
    "fd.num", "fd.name", "fd.directory", "fd.filename", "fd.type", "fd.typechar", "fd.l4proto",
    "fd.sip", "fd.cip", "fd.sport", "fd.cport", "fd.sockfamily", "fd.is_server",
    "evt.arg.fd", "evt.arg.name", "evt.arg.flags", "evt.arg.res", "evt.arg.tuple",
    "evt.cpu", "evt.is_open_read", "evt.is_open_write", "proc.exepath", "proc.sid", "proc.vpgid",
    "proc.is_exe_writable", "thread.vtid", "user.loginuid", "user.loginname", "user.homedir", "user.shell",
    "container.image.repository", "container.image.tag", "container.privileged", "fd.lip", "fd.rip",
)  # fmt: skip
STATEFUL = {"clone", "fork", "vfork", "execve", "open", "openat", "socket", "connect", "accept", "accept4",
            "bind", "close", "dup", "dup2", "pipe", "procexit", "container", "chdir", "setuid"}  # fmt: skip


def sysdig_version(sysdig: str) -> str:
    return subprocess.run([sysdig, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def run(sysdig: str, capture: Path) -> list[list[str]]:
    """The rows sysdig prints for ``capture`` (key fields then :data:`FIELDS`), capped."""
    fmt = "*" + SEP.join(f"%{name}" for name in (*KEY, *FIELDS))
    out = subprocess.run(
        [sysdig, "-r", str(capture), "-p", fmt, "evt.dir=< or evt.type in (procexit, container)"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TZ": "UTC"},
        errors="replace",
    ).stdout
    rows = [line.split(SEP) for line in out.splitlines() if line.count(SEP) == len(KEY) + len(FIELDS) - 1]
    keep = [row for row in rows if row[2] in STATEFUL][:CAP]
    rest = [row for row in rows if row[2] not in STATEFUL][: max(CAP - len(keep), 0)]
    chosen = {id(row) for row in keep + rest}
    return [row for row in rows if id(row) in chosen]


def build(sysdig: str) -> dict[str, Any]:
    captures = sorted((SHARED / "captures").glob("*.scap"))
    return {
        "generated_by": "tools/gen_capture_expectations.py",
        "sysdig": sysdig_version(sysdig),
        "columns": [*KEY, *FIELDS],
        "files": {capture.name: run(sysdig, capture) for capture in captures},
    }


def render(doc: dict[str, Any]) -> str:
    head = {k: v for k, v in doc.items() if k != "files"}
    parts = [json.dumps(head)[:-1] + ', "files": {']
    files = []
    for name, rows in doc["files"].items():
        body = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
        files.append(json.dumps(name) + ": [\n" + body + "\n]")
    return parts[0] + "\n" + ",\n".join(files) + "\n}}\n"


def read_text(path: Path) -> str:
    """The expectations text of ``path`` (gzip-compressed JSON)."""
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=TARGET)
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = parser.parse_args(argv)
    sysdig = shutil.which("sysdig")
    if sysdig is None:
        print("sysdig is not installed (apt-get install sysdig)", file=sys.stderr)
        return 2
    text = render(build(sysdig))
    if args.check:
        return 0 if read_text(args.out) == text else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
