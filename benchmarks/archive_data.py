"""A large ``falco-lab archive`` dataset written in chunks, without holding the alerts in pandas.

Each chunk of ``chunk`` alerts is built column-wise with numpy and pyarrow (no Python loop
per alert) and written as one Parquet file per host under ``OUT/day=YYYY-MM-DD/host=H/``,
the layout :func:`falco_lab.events.archive.archive_events` writes.  Peak memory is one
chunk, whatever ``n``.

Shape (:func:`shape` returns it for the benchmark JSON): ``n`` alerts over 7 days, 24
hosts, 60 namespaces, 2,400 pods of 480 deployments (5 pods each, Kubernetes-style names),
one container per pod, 40 rules whose counts follow a Zipf law (the frequent ones Notice,
Informational, Warning or Debug, the 4 rarest Error; ATT&CK tags), 36 process names, command lines with a random argument (about
``n / 4`` distinct), distinct pids and uuids, and one post-exploitation chain in one pod
(7 rare Critical/Warning rules, a few alerts each, on day 5).  Seeded: same ``seed``, same
files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

START_NS = 1_795_000_000_000_000_000  # 2026-11-18
SPAN_NS = 7 * 86_400 * 10**9
HOSTS = 24
NAMESPACES = 60
DEPLOYMENTS = 480
PODS_PER_DEPLOYMENT = 5
RULES = 40
_TACTICS = ("execution", "persistence", "privilege_escalation", "defense_evasion", "credential_access",
            "discovery", "lateral_movement", "collection", "command_and_control", "exfiltration")  # fmt: skip
_PROCS = tuple(f"proc{i}" for i in range(30)) + ("sh", "bash", "curl", "python3", "java", "node")
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
#: The post-exploitation chain: (rule, priority, tactic) in order.
CHAIN = (
    ("Bench Terminal Shell In Container", "Warning", "execution"),
    ("Bench Read Sensitive File", "Warning", "credential_access"),
    ("Bench Discovery Commands", "Notice", "discovery"),
    ("Bench Reverse Shell", "Critical", "command_and_control"),
    ("Bench Drop And Execute Binary", "Critical", "persistence"),
    ("Bench Clear Log Activities", "Warning", "defense_evasion"),
    ("Bench Outbound To Rare Address", "Critical", "exfiltration"),
)
CHAIN_ALERTS_PER_RULE = 3


def shape(n: int, seed: int, chunk: int) -> dict:
    """What :func:`write_archive` generates, for the benchmark JSON."""
    return {
        "generator": "benchmarks/archive_data.py:write_archive",
        "seed": seed,
        "alerts": n,
        "chunk": chunk,
        "days": SPAN_NS // (86_400 * 10**9),
        "hosts": HOSTS,
        "namespaces": NAMESPACES,
        "pods": DEPLOYMENTS * PODS_PER_DEPLOYMENT,
        "rules": RULES + len(CHAIN),
        "rule_counts": "Zipf (s=1.1) over 40 rules, plus one 7-rule post-exploitation chain in one pod",
        "distinct": "pids and uuids per alert; command lines about n/4",
    }


def _names(rng: np.random.Generator) -> dict[str, np.ndarray]:
    deployments = np.array([f"svc{i}" for i in range(DEPLOYMENTS)], dtype=object)
    hashes = ["".join(rng.choice(list("0123456789abcdef"), 9)) for _ in range(DEPLOYMENTS)]
    pods, pod_ns, pod_host, containers, images = [], [], [], [], []
    for d in range(DEPLOYMENTS):
        for _ in range(PODS_PER_DEPLOYMENT):
            pods.append(f"{deployments[d]}-{hashes[d]}-{''.join(rng.choice(list(_SAFE), 5))}")
            pod_ns.append(f"ns{d % NAMESPACES}")
            pod_host.append(f"ip-10-0-{int(rng.integers(0, HOSTS))}-1.eu-west-1.compute.internal")
            containers.append("".join(rng.choice(list("0123456789abcdef"), 12)))
            images.append(f"registry.example/{deployments[d]}")
    rules = np.array([f"Bench Rule {i:02d}" for i in range(RULES)], dtype=object)
    # the frequent rules are the mild ones (Notice ... Debug, some Warning); the rarest reach Error
    prio = np.array(
        [("Notice", "Informational", "Warning", "Debug", "Error")[min(i // 9, 4)] for i in range(RULES)],
        dtype=object,
    )
    tags = [["container", f"mitre_{_TACTICS[i % len(_TACTICS)]}", f"T{1000 + i}"] for i in range(RULES)]
    return {
        "pods": np.array(pods, dtype=object),
        "pod_ns": np.array(pod_ns, dtype=object),
        "pod_host": np.array(pod_host, dtype=object),
        "containers": np.array(containers, dtype=object),
        "images": np.array(images, dtype=object),
        "rules": rules,
        "prio": prio,
        "tags": np.array(tags, dtype=object),
    }


def _take(values: np.ndarray, index: np.ndarray) -> pa.Array:
    return pa.array(values).take(pa.array(index))


def _chunk(start: int, size: int, n: int, names: dict, rng: np.random.Generator) -> pa.Table:
    index = np.arange(start, start + size)
    times = START_NS + (index * (SPAN_NS // n)) + rng.integers(0, SPAN_NS // n + 1, size)
    weights = 1.0 / np.arange(1, RULES + 1) ** 1.1
    rule = rng.choice(RULES, size, p=weights / weights.sum())
    pod = rng.integers(0, len(names["pods"]), size)
    proc = rng.integers(0, len(_PROCS), size)
    pid = rng.integers(1000, 4_000_000, size)
    arg = rng.integers(0, max(n // 4, 1), size)
    time_arr = pa.array(times, pa.timestamp("ns", tz="UTC"))
    procs = _take(np.array(_PROCS, dtype=object), proc)
    cmdline = pc.binary_join_element_wise(procs, pc.cast(pa.array(arg), pa.string()), " --job=")
    pods, ns = _take(names["pods"], pod), _take(names["pod_ns"], pod)
    rules = _take(names["rules"], rule)
    containers = _take(names["containers"], pod)
    clock = pc.strftime(time_arr, "%H:%M:%S")
    output = pc.binary_join_element_wise(
        clock, ": ", rules, " (user=root command=", cmdline, " pid=", pc.cast(pa.array(pid), pa.string()),
        " container_id=", containers, " k8s.ns=", ns, " k8s.pod=", pods, ")", "",
    )  # fmt: skip
    return pa.table(
        {
            "time": time_arr,
            "rule": rules,
            "priority": _take(names["prio"], rule),
            "source": pa.array(["syscall"] * size),
            "hostname": _take(names["pod_host"], pod),
            "tags": pa.array(list(names["tags"][rule]), pa.list_(pa.string())),
            "output": output,
            "uuid": pc.binary_join_element_wise("bench-", pc.cast(pa.array(index), pa.string()), ""),
            "k8s.ns.name": ns,
            "k8s.pod.name": pods,
            "container.id": containers,
            "container.image.repository": _take(names["images"], pod),
            "proc.name": procs,
            "proc.cmdline": cmdline,
            "proc.pid": pa.array(pid, pa.int64()),
            "user.name": pa.array(["root"] * size),
        }
    )


def _chain(names: dict) -> pa.Table:
    """The post-exploitation chain in one pod, on day 5."""
    pod = 7
    rows = []
    at = START_NS + 5 * 86_400 * 10**9
    for r, (rule, priority, tactic) in enumerate(CHAIN):
        for k in range(CHAIN_ALERTS_PER_RULE):
            rows.append((at + (r * 60 + k) * 10**9, rule, priority, tactic, r * 10 + k))
    size = len(rows)
    return pa.table(
        {
            "time": pa.array([x[0] for x in rows], pa.timestamp("ns", tz="UTC")),
            "rule": [x[1] for x in rows],
            "priority": [x[2] for x in rows],
            "source": ["syscall"] * size,
            "hostname": [names["pod_host"][pod]] * size,
            "tags": pa.array([["container", f"mitre_{x[3]}"] for x in rows], pa.list_(pa.string())),
            "output": [f"{x[1]} (chain step {x[4]})" for x in rows],
            "uuid": [f"chain-{x[4]}" for x in rows],
            "k8s.ns.name": [names["pod_ns"][pod]] * size,
            "k8s.pod.name": [names["pods"][pod]] * size,
            "container.id": [names["containers"][pod]] * size,
            "container.image.repository": [names["images"][pod]] * size,
            "proc.name": ["sh"] * size,
            "proc.cmdline": [f"sh -c step{x[4]}" for x in rows],
            "proc.pid": pa.array([90_000 + x[4] for x in rows], pa.int64()),
            "user.name": ["www-data"] * size,
        }
    )


def _write(table: pa.Table, out: Path, number: int) -> int:
    """One file per (day, host) of ``table``; returns the number of files."""
    days = pc.strftime(table.column("time"), "%Y-%m-%d")
    keys = pc.binary_join_element_wise(days, table.column("hostname"), "|")
    files = 0
    for key in pc.unique(keys).to_pylist():
        day, host = key.split("|")
        part = table.filter(pc.equal(keys, key))
        folder = out / f"day={day}" / f"host={host}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, folder / f"part-bench-{number:05d}.parquet", compression="zstd")
        files += 1
    return files


def write_archive(out: Path, n: int, seed: int = 42, chunk: int = 1_000_000) -> int:
    """Write ``n`` alerts (plus the chain's) under ``out``; returns the number of files."""
    rng = np.random.default_rng(seed)
    names = _names(rng)
    files = _write(_chain(names), out, 0)
    for number, start in enumerate(range(0, n, chunk), 1):
        files += _write(_chunk(start, min(chunk, n - start), n, names, rng), out, number)
    return files
