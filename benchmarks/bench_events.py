"""Benchmark: Falco JSON lines -> canonical pandas frame.

Usage::

    python benchmarks/bench_events.py --out DIR [--events N]

Generates ``N`` realistic Falco alerts (mixed rules and output fields, with the two
traps of real data: a field that is ``null`` in the first half of the file and an
integer afterwards, and a field that only appears in the last lines), then loads the
file twice in the same run, each method in its own subprocess so peak RSS is fair:

* **baseline**: ``pandas.read_json(lines=True)`` plus a straightforward normalisation
  of ``output_fields`` (one column per field) and the obvious typing of ``time``;
* **falco_lab**: ``falco_lab.events.load_events``.

Writes ``DIR/events.json`` with seconds, MB/s and peak RSS for both, the speed-up and
memory ratio, and whether both frames hold the same data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

#: Speed-up and memory targets from the issue.
TARGET_SPEEDUP = 10.0
TARGET_MEMORY_RATIO = 1.5

_BASE_NS = 1_780_000_000_000_000_000  # 2026-05-28T...Z

_CONTAINER_FIELDS = (
    "container.id",
    "container.image.repository",
    "container.image.tag",
    "container.name",
    "k8s.ns.name",
    "k8s.pod.name",
)

#: (rule, priority, tags, message, rule-specific output fields)
_RULES = (
    (
        "Terminal shell in container",
        "Notice",
        ["T1059", "container", "maturity_stable", "mitre_execution", "shell"],
        "A shell was spawned in a container with an attached terminal",
        ("evt.type", "evt.arg.flags", "proc.exepath", "proc.cmdline", "proc.name", "proc.pname",
         "proc.tty", "user.loginuid", "user.name", "user.uid", "proc.vpid"),
    ),
    (
        "Read sensitive file untrusted",
        "Warning",
        ["T1555", "filesystem", "host", "container", "maturity_stable", "mitre_credential_access"],
        "Sensitive file opened for reading by non-trusted program",
        ("evt.type", "fd.name", "file", "gparent", "ggparent", "gggparent", "proc.aname[2]",
         "proc.aname[3]", "proc.cmdline", "proc.name", "proc.pid", "user.name", "user.uid", "proc.vpid"),
    ),
    (
        "Drop and execute new binary in container",
        "Critical",
        ["PCI_DSS_11.5.1", "TA0003", "container", "maturity_stable", "mitre_persistence", "process"],
        "Executing binary not part of base image",
        ("evt.type", "proc.exe", "proc.exepath", "proc.cmdline", "proc.name", "proc.pname",
         "proc.sname", "proc.tty", "user.loginuid", "user.name", "evt.res", "proc.is_exe_upper_layer"),
    ),
    (
        "Contact K8S API Server From Container",
        "Notice",
        ["T1565", "container", "k8s", "maturity_stable", "mitre_discovery", "network"],
        "Unexpected connection to K8s API Server from container",
        ("connection", "evt.type", "fd.cip", "fd.cport", "fd.sip", "fd.sport", "proc.cmdline",
         "proc.name", "user.name", "user.uid", "proc.vpid"),
    ),
)

_LATE_RULE = (
    "Custom rare rule",
    "Error",
    ["custom", "maturity_incubating"],
    "A rarely firing custom rule matched",
    ("evt.type", "proc.cmdline", "proc.name", "custom.late_field"),
)

_NAMES = ("bash", "sh", "cat", "curl", "python3", "nginx", "kubectl", "apt", "touch", "nc")
_NAMESPACES = ("default", "payments", "kube-system", "monitoring", "falco-lab-tests", "web")


def _value(field: str, rng: random.Random, index: int, n: int) -> object:
    if field == "proc.vpid":
        return None if index < n // 2 else rng.randint(1, 4_000_000)
    if field in ("proc.tty", "user.uid", "proc.pid", "user.loginuid", "fd.cport", "fd.sport"):
        return rng.choice((0, 34816, 1000, -1, 443, 6443, rng.randint(1, 65535)))
    if field == "proc.is_exe_upper_layer":
        return rng.random() < 0.5
    if field.startswith("proc.aname") or field in ("proc.name", "proc.pname", "proc.sname"):
        return rng.choice(_NAMES) if rng.random() > 0.05 else None
    if field == "evt.type":
        return rng.choice(("execve", "openat", "open", "connect"))
    if field in ("fd.cip", "fd.sip"):
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return f"{field.rsplit('.', 1)[-1]}-{rng.randint(0, 9999)}"


def make_alert(index: int, n: int, rng: random.Random) -> dict:
    """One realistic Falco 0.44 JSON alert (as forwarded by falcosidekick, with ``uuid``)."""
    rule, priority, tags, message, fields = _LATE_RULE if index >= n - 10 else _RULES[index % len(_RULES)]
    ns = _BASE_NS + index * 1_000_003 + rng.randint(0, 999)
    secs, frac = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"
    output_fields: dict[str, object] = {"evt.time": ns}
    for field in fields:
        output_fields[field] = _value(field, rng, index, n)
    pod = f"web-{rng.randint(0, 40)}-{rng.randint(1000, 9999)}"
    output_fields.update(
        {
            "container.id": f"{rng.getrandbits(48):012x}",
            "container.image.repository": rng.choice(("docker.io/library/nginx", "public.ecr.aws/x/app")),
            "container.image.tag": rng.choice(("1.27", "latest", "3.4.1")),
            "container.name": pod.split("-")[0],
            "k8s.ns.name": rng.choice(_NAMESPACES),
            "k8s.pod.name": pod,
        }
    )
    text = " ".join(f"{k.replace('.', '_')}={'<NA>' if v is None else v}" for k, v in output_fields.items())
    clock = time.strftime("%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}"
    return {
        "hostname": f"ip-10-0-{index % 7}-{index % 3 + 10}.eu-west-1.compute.internal",
        "output": f"{clock}: {priority} {message} | {text}",
        "output_fields": output_fields,
        "priority": priority,
        "rule": rule,
        "source": "syscall",
        "tags": tags,
        "time": stamp,
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    }


def write_alerts(path: Path, n: int, seed: int = 42) -> int:
    """Write ``n`` alerts as JSON lines to ``path``; return the file size in bytes."""
    rng = random.Random(seed)
    with path.open("wb") as out:
        for index in range(n):
            out.write(orjson.dumps(make_alert(index, n, rng)) + b"\n")
    return path.stat().st_size


# --------------------------------------------------------------------------------------
# The two methods, each run in its own process by ``--method``.

_RESULT_PREFIX = "BENCH-RESULT "


def _peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def baseline(path: Path):
    """``pandas.read_json(lines=True)`` + ``json_normalize(output_fields)`` + obvious typing."""
    import pandas as pd

    frame = pd.read_json(path, lines=True)
    fields = pd.json_normalize(frame.pop("output_fields").tolist())
    frame = frame.join(fields)
    frame["time"] = pd.to_datetime(frame["time"], format="ISO8601", utc=True)
    return frame


def falco_lab_loader(path: Path):
    from falco_lab.events import load_events

    return load_events(path)


def _fingerprint(frame) -> dict:
    """Order-independent summary of every value, to compare the two frames."""
    import hashlib

    import pandas as pd

    frame = frame.sort_values("uuid", kind="stable").reset_index(drop=True)
    digests = {}
    for name in sorted(frame.columns):
        column = frame[name]
        if name == "time":
            values = column.dt.tz_convert("UTC").astype("int64").astype(str)
        elif name == "tags":
            values = column.map(lambda t: "\x1f".join(t))
        elif name == "priority":
            values = column.astype(str)
        else:
            def canonical(v):
                if v is None or (not isinstance(v, (list, dict)) and pd.isna(v)):
                    return "<NA>"
                if isinstance(v, float) and v.is_integer():
                    return str(int(v))  # the baseline turns int columns with nulls into floats
                return str(v)

            values = column.astype(object).map(canonical)
        digests[name] = hashlib.sha256("\n".join(values).encode("utf-8", "surrogatepass")).hexdigest()
    return {
        "rows": int(len(frame)),
        "columns": sorted(frame.columns),
        "digests": digests,
    }


def run_method(method: str, path: Path, fingerprint: bool) -> dict:
    import resource

    import pandas  # noqa: F401  - imports are not part of loading, for either method

    if method == "falco_lab":
        import falco_lab.events  # noqa: F401
    loader = {"baseline": baseline, "falco_lab": falco_lab_loader}[method]
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    frame = loader(path)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = _peak_rss_mb()
    dtypes = {c: str(frame[c].dtype) for c in ("time", "priority", "proc.vpid", "custom.late_field") if c in frame}
    return {
        "method": method,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak,
        "rows": int(len(frame)),
        "columns": int(frame.shape[1]),
        "dtypes": dtypes,
        "late_field_values": int(frame["custom.late_field"].notna().sum()) if "custom.late_field" in frame else 0,
        "vpid_values": int(frame["proc.vpid"].notna().sum()) if "proc.vpid" in frame else 0,
        "fingerprint": _fingerprint(frame) if fingerprint else None,
    }


def _subprocess(method: str, path: Path, fingerprint: bool) -> dict:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, __file__, "--method", method, "--file", str(path)]
        + (["--fingerprint"] if fingerprint else []),
        capture_output=True, text=True, env=env, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{method} failed with status {done.returncode}:\n{done.stderr[-3000:]}")
    for line in done.stdout.splitlines():
        if line.startswith(_RESULT_PREFIX):
            return json.loads(line[len(_RESULT_PREFIX):])
    raise RuntimeError(f"{method} printed no result:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def _same_data(base: dict, ours: dict) -> tuple[bool, list[str]]:
    """Compare fingerprints; ``uuid``-sorted, every column of the baseline must match ours."""
    differences = []
    if base["fingerprint"]["rows"] != ours["fingerprint"]["rows"]:
        differences.append(f"rows {base['fingerprint']['rows']} != {ours['fingerprint']['rows']}")
    base_cols, our_cols = set(base["fingerprint"]["columns"]), set(ours["fingerprint"]["columns"])
    if base_cols != our_cols:
        differences.append(f"columns differ: baseline only {sorted(base_cols - our_cols)}, "
                           f"ours only {sorted(our_cols - base_cols)}")
    for name in sorted(base_cols & our_cols):
        if base["fingerprint"]["digests"][name] != ours["fingerprint"]["digests"][name]:
            differences.append(f"values differ in column {name!r}")
    return not differences, differences


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _summary(runs: list[dict], megabytes: float, method: str) -> dict:
    best = min(runs, key=lambda r: r["seconds"])
    return {
        "method": method,
        "seconds": round(best["seconds"], 3),
        "median_seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "cpu_seconds": round(min(r["cpu_seconds"] for r in runs), 3),
        "mb_per_s": round(megabytes / best["seconds"], 1),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        "all_seconds": [round(r["seconds"], 3) for r in runs],
        "all_cpu_seconds": [round(r["cpu_seconds"], 3) for r in runs],
        "rows": best["rows"],
        "columns": best["columns"],
        "dtypes": best["dtypes"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="directory for events.json")
    parser.add_argument("--events", type=int, default=200_000, help="number of alerts (default 200000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method, alternating (best is reported)")
    parser.add_argument("--method", choices=("baseline", "falco_lab"), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fingerprint", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.method:
        print(_RESULT_PREFIX + json.dumps(run_method(args.method, args.file, args.fingerprint)))
        return 0
    if args.out is None:
        parser.error("--out DIR is required")
    args.out.mkdir(parents=True, exist_ok=True)
    load_before = _load_average()
    runs: dict[str, list[dict]] = {"baseline": [], "falco_lab": []}
    with tempfile.TemporaryDirectory(prefix="bench_events_") as tmp:
        path = Path(tmp) / "alerts.jsonl"
        size = write_alerts(path, args.events)
        path.read_bytes()  # warm the page cache so neither method pays the first disk read
        for attempt in range(max(1, args.repeat)):
            for method in ("baseline", "falco_lab"):
                runs[method].append(_subprocess(method, path, fingerprint=attempt == 0))
    megabytes = size / 1e6
    base_first, ours_first = runs["baseline"][0], runs["falco_lab"][0]
    same, differences = _same_data(base_first, ours_first)
    base = _summary(runs["baseline"], megabytes,
                    "pandas.read_json(lines=True) + pandas.json_normalize(output_fields) + to_datetime(time)")
    ours = _summary(runs["falco_lab"], megabytes, "falco_lab.events.load_events(path)")
    speedup = base["seconds"] / ours["seconds"]
    memory_ratio = ours["peak_rss_mb"] / base["peak_rss_mb"]
    result = {
        "benchmark": "events",
        "events": args.events,
        "file_mb": round(megabytes, 1),
        "repeat": max(1, args.repeat),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "load_average_before": load_before,
                    "load_average_after": _load_average()},
        "baseline": base,
        "falco_lab": ours,
        "speedup": round(speedup, 2),
        "median_speedup": round(base["median_seconds"] / ours["median_seconds"], 2),
        "cpu_time_ratio": round(base["cpu_seconds"] / ours["cpu_seconds"], 2),
        "memory_ratio": round(memory_ratio, 3),
        "same_data": same,
        "differences": differences,
        "traps": {
            "late_field_rows": {"baseline": base_first["late_field_values"], "falco_lab": ours_first["late_field_values"]},
            "null_then_int_rows": {"baseline": base_first["vpid_values"], "falco_lab": ours_first["vpid_values"]},
        },
        "targets": {"speedup_at_least": TARGET_SPEEDUP, "memory_ratio_at_most": TARGET_MEMORY_RATIO},
        "meets_targets": bool(same and speedup >= TARGET_SPEEDUP and memory_ratio <= TARGET_MEMORY_RATIO),
        "notes": "seconds: best wall time of `repeat` alternating runs, each in a fresh process "
                 "(file in page cache, imports excluded), median_seconds their median (on a shared "
                 "machine the two differ a lot); cpu_seconds: least user+sys time of the runs; "
                 "peak_rss_mb: highest ru_maxrss of those runs; "
                 "same_data compares every column value (sorted by uuid) between the two frames.",
    }
    (args.out / "events.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("speedup", "median_speedup", "cpu_time_ratio", "memory_ratio",
                                             "same_data", "meets_targets")}))
    print(f"baseline {base['seconds']} s ({base['mb_per_s']} MB/s, {base['peak_rss_mb']} MB peak); "
          f"falco_lab {ours['seconds']} s ({ours['mb_per_s']} MB/s, {ours['peak_rss_mb']} MB peak)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
