"""Benchmark: Falco JSON lines -> canonical pandas frame.

Usage::

    python benchmarks/bench_events.py --out DIR [--size N] [--seed S] [--repeat R]

Generates ``N`` realistic Falco alerts (mixed rules and output fields, with the two
traps of real data: a field that is ``null`` in the first half of the file and an
integer afterwards, and a field that only appears in the last lines), then loads the
file twice in the same run, each method in its own subprocess so peak RSS is fair:

* **baseline**: ``pandas.read_json(lines=True)`` plus a straightforward normalisation
  of ``output_fields`` (one column per field) and the obvious typing of ``time``;
* **falco_lab**: ``falco_lab.events.load_events``.

* **peers**: DuckDB ``read_json`` (to an Arrow table) and polars ``read_ndjson``, the
  general-purpose readers the issue measures against; for each, whether it kept the
  traps' values (a peer that drops them is fast on wrong data) or failed.

The same four methods also run on the **adversarial** set of ``benchmarks/adversarial.py``
(distinct container ids and pids, thousands of pods, long command lines, odd time
formats, duplicates), at ``--adversarial-size`` lines.

Everything is measured in this run: every figure carries ``measured_at`` (UTC, when
the subprocess that measured it finished), the JSON carries ``run.started_at`` and
``run.finished_at``, the load average, and each data set's generator, seed and shape
(``tests/events/test_bench_events.py`` checks the stamps on a tiny run).

Writes ``DIR/events.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import adversarial  # noqa: E402  - the adversarial generator next to this file
from bench_common import BenchRun, comparison, now  # noqa: E402

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
        (
            "evt.type",
            "evt.arg.flags",
            "proc.exepath",
            "proc.cmdline",
            "proc.name",
            "proc.pname",
            "proc.tty",
            "user.loginuid",
            "user.name",
            "user.uid",
            "proc.vpid",
        ),
    ),
    (
        "Read sensitive file untrusted",
        "Warning",
        ["T1555", "filesystem", "host", "container", "maturity_stable", "mitre_credential_access"],
        "Sensitive file opened for reading by non-trusted program",
        (
            "evt.type",
            "fd.name",
            "file",
            "gparent",
            "ggparent",
            "gggparent",
            "proc.aname[2]",
            "proc.aname[3]",
            "proc.cmdline",
            "proc.name",
            "proc.pid",
            "user.name",
            "user.uid",
            "proc.vpid",
        ),
    ),
    (
        "Drop and execute new binary in container",
        "Critical",
        ["PCI_DSS_11.5.1", "TA0003", "container", "maturity_stable", "mitre_persistence", "process"],
        "Executing binary not part of base image",
        (
            "evt.type",
            "proc.exe",
            "proc.exepath",
            "proc.cmdline",
            "proc.name",
            "proc.pname",
            "proc.sname",
            "proc.tty",
            "user.loginuid",
            "user.name",
            "evt.res",
            "proc.is_exe_upper_layer",
        ),
    ),
    (
        "Contact K8S API Server From Container",
        "Notice",
        ["T1565", "container", "k8s", "maturity_stable", "mitre_discovery", "network"],
        "Unexpected connection to K8s API Server from container",
        (
            "connection",
            "evt.type",
            "fd.cip",
            "fd.cport",
            "fd.sip",
            "fd.sport",
            "proc.cmdline",
            "proc.name",
            "user.name",
            "user.uid",
            "proc.vpid",
        ),
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

    return load_events(path, warn=False)


def duckdb_loader(path: Path):
    """DuckDB's ``read_json`` with its defaults, materialised as an Arrow table."""
    import duckdb

    return duckdb.connect().read_json(str(path)).to_arrow_table()


def duckdb_schema_loader(path: Path):
    """The floor of "DuckDB with an explicit schema": what it costs before any of our checks.

    A schema from DuckDB's own sample (first 20,480 rows) with ``time`` read as text (so its
    nanoseconds survive), one read with those columns, and a key check over every line
    (the distinct keys of ``output_fields``, so a field first seen after the sample is
    detected).  Not counted: the second read such a detection needs, typing null-in-sample
    fields, bad-line reporting, and the pandas frame - so a real loader on this engine is
    slower than this figure.
    """
    import duckdb

    con = duckdb.connect()
    quoted = "'" + str(path).replace("'", "''") + "'"
    described = con.sql(f"DESCRIBE SELECT * FROM read_json({quoted}, format='newline_delimited')").fetchall()
    columns = {name: ("VARCHAR" if name == "time" else kind) for name, kind, *_ in described}
    spec = ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items())
    table = con.sql(
        f"SELECT * FROM read_json({quoted}, format='newline_delimited', columns={{{spec}}})"
    ).to_arrow_table()
    keys = con.sql(
        f"SELECT DISTINCT unnest(json_keys(json, '$.output_fields')) FROM read_ndjson_objects({quoted})"
    ).fetchall()
    sampled = set(table.schema.field("output_fields").type.names) if "output_fields" in columns else set()
    table = table.replace_schema_metadata({"unsampled_keys": str(len({k for (k,) in keys} - sampled))})
    return table


#: JSON types (``json_type``) a value may have for each DuckDB column type, in the strict floor.
_STRICT_JSON_TYPES = {
    "BIGINT": ("BIGINT", "UBIGINT"),
    "UBIGINT": ("BIGINT", "UBIGINT"),
    "DOUBLE": ("DOUBLE", "BIGINT", "UBIGINT"),
    "BOOLEAN": ("BOOLEAN",),
    "VARCHAR": ("VARCHAR",),
}


def duckdb_strict_loader(path: Path):
    """The floor of "DuckDB with load_events' type guarantees", all in DuckDB (no pandas frame).

    DuckDB's ``read_json`` with explicit columns converts silently (``1.5`` read as BIGINT
    gives 1, ``"2"`` gives 2, ``true`` gives 1, a number read as VARCHAR gives its text, an
    output field it was not told about is dropped), so a loader with our guarantees on
    DuckDB has to look at each value's JSON type.  This does that in one query: each line's
    keys and output fields transformed to JSON values, every value's ``json_type`` checked
    against the type DuckDB's own sample gives (a field typed NULL there is kept as raw
    JSON), the values cast, and each row's output-field keys compared with the sampled ones.
    Mismatches are counted, not reported by line (``type_mismatch_rows``,
    ``keys_after_the_sample``): no second read, no pandas frame, ``time`` left as text.
    """
    import json

    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    con = duckdb.connect()
    quoted = "'" + str(path).replace("'", "''") + "'"
    sampled = con.sql(
        f"SELECT * FROM read_json({quoted}, format='newline_delimited') LIMIT 0"
    ).to_arrow_table()
    field_types: dict[str, str] = {}
    if "output_fields" in sampled.column_names and pa.types.is_struct(
        sampled.schema.field("output_fields").type
    ):
        for child in sampled.schema.field("output_fields").type:
            field_types[child.name] = _duckdb_type_name(child.type)

    def sql_text(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def ident(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def typed(expr: str, target: str) -> tuple[str, str]:
        """(value cast to target, its type check) of a JSON expression."""
        if target not in _STRICT_JSON_TYPES:
            return expr, "TRUE"  # typed NULL in the sample: raw JSON, not checked
        allowed = ", ".join(sql_text(t) for t in (*_STRICT_JSON_TYPES[target], "NULL"))
        value = f"({expr})->>'$'" if target == "VARCHAR" else f"CAST({expr} AS {target})"
        return value, f"({expr} IS NULL OR json_type({expr}) IN ({allowed}))"

    top = ("time", "rule", "priority", "source", "hostname", "output", "uuid")
    shape = {name: "JSON" for name in (*top, "tags", "output_fields")}
    inner = {name: "JSON" for name in field_types}
    selects, checks = [], []
    for name in top:
        value, check = typed(f"r.{ident(name)}", "VARCHAR")
        selects.append(f"{value} AS {ident(name)}")
        checks.append(check)
    selects.append("CAST(r.tags AS VARCHAR[]) AS tags")
    checks.append("(r.tags IS NULL OR json_type(r.tags) = 'ARRAY')")
    packed = []
    for name, target in field_types.items():
        value, check = typed(f"o.{ident(name)}", target)
        packed.append(f"{ident(name)} := {value}")
        checks.append(check)
    known = sql_text(json.dumps(list(field_types)))
    query = f"""
        WITH lines AS (
            SELECT json_transform(json, {sql_text(json.dumps(shape))}) AS r FROM read_ndjson_objects({quoted})
        ), fields AS (
            SELECT r, json_transform(r.output_fields, {sql_text(json.dumps(inner))}) AS o FROM lines
        )
        SELECT {", ".join(selects)},
               {f"struct_pack({', '.join(packed)})" if packed else "NULL"} AS output_fields,
               NOT ({" AND ".join(checks)}) AS type_mismatch,
               r.output_fields IS NOT NULL
                   AND NOT list_has_all({known}::VARCHAR[], json_keys(r.output_fields)) AS late_keys
        FROM fields
    """
    table = con.sql(query).to_arrow_table()
    mismatches = int(pc.sum(table.column("type_mismatch")).as_py() or 0)
    late = int(pc.sum(table.column("late_keys")).as_py() or 0)
    table = table.drop_columns(["type_mismatch", "late_keys"])
    return table.replace_schema_metadata({"unsampled_keys": str(late), "type_mismatch_rows": str(mismatches)})


def _duckdb_type_name(kind) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_unsigned_integer(kind):
        return "UBIGINT"
    if pa.types.is_integer(kind):
        return "BIGINT"
    if pa.types.is_floating(kind):
        return "DOUBLE"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "VARCHAR"
    return "JSON"


def polars_loader(path: Path):
    """polars' ``read_ndjson`` with its defaults."""
    import polars

    return polars.read_ndjson(path)


def _peer_counts(table, fields: tuple[str, ...]) -> tuple[int, int, dict]:
    """(rows, columns, non-null count of each trap field) of a peer's Arrow table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    counts = {}
    struct = table.column("output_fields") if "output_fields" in table.column_names else None
    kind = struct.type if struct is not None else pa.null()
    for name in fields:
        if pa.types.is_struct(kind) and kind.get_field_index(name) >= 0:
            child = pc.struct_field(struct, name)
            counts[name] = int(len(child) - child.null_count)
        else:
            counts[name] = 0
    width = table.num_columns - 1 + (kind.num_fields if pa.types.is_struct(kind) else 0)
    return table.num_rows, width, counts


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


_LOADERS = {
    "baseline": baseline,
    "falco_lab": falco_lab_loader,
    "duckdb": duckdb_loader,
    "polars": polars_loader,
    "duckdb_schema": duckdb_schema_loader,
    "duckdb_strict": duckdb_strict_loader,
}
#: Trap fields of each data set: (appears only late, null until late).
TRAPS = {"typical": ("custom.late_field", "proc.vpid"), "adversarial": ("adv.late_only", "adv.late_null")}


def run_method(method: str, path: Path, fingerprint: bool, data: str = "typical") -> dict:
    import resource

    import pandas  # noqa: F401  - imports are not part of loading, for any method

    if method == "falco_lab":
        import falco_lab.events  # noqa: F401
    elif method in ("duckdb", "duckdb_schema", "duckdb_strict"):
        import duckdb  # noqa: F401
    elif method == "polars":
        import polars  # noqa: F401
    late, late_null = TRAPS[data]
    loader = _LOADERS[method]
    stages = _timed_stages() if method == "falco_lab" else None
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    frame = loader(path)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = _peak_rss_mb()
    common = {
        "method": method,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak,
        "measured_at": now(),
        **({"stages": _stage_split(stages, seconds)} if stages is not None else {}),
    }
    if method in PEERS:
        table = frame.to_arrow() if method == "polars" else frame
        rows, columns, counts = _peer_counts(table, (late, late_null))
        dtypes = {"time": str(table.schema.field("time").type)}
        if pa_struct_has(table, late_null):
            dtypes[late_null] = str(table.schema.field("output_fields").type.field(late_null).type)
        return {
            **common,
            "rows": rows,
            "columns": columns,
            "dtypes": dtypes,
            "late_field_values": counts[late],
            "vpid_values": counts[late_null],
            "fingerprint": None,
            **(
                {"keys_after_the_sample": int(table.schema.metadata[b"unsampled_keys"])}
                if method in ("duckdb_schema", "duckdb_strict")
                else {}
            ),
            **(
                {"type_mismatch_rows": int(table.schema.metadata[b"type_mismatch_rows"])}
                if method == "duckdb_strict"
                else {}
            ),
        }
    dtypes = {c: str(frame[c].dtype) for c in ("time", "priority", late_null, late) if c in frame}
    return {
        **common,
        "rows": int(len(frame)),
        "columns": int(frame.shape[1]),
        "dtypes": dtypes,
        "late_field_values": int(frame[late].notna().sum()) if late in frame else 0,
        "vpid_values": int(frame[late_null].notna().sum()) if late_null in frame else 0,
        "fingerprint": _fingerprint(frame) if fingerprint else None,
    }


#: Stages of load_events timed in the falco_lab run: (module, function, stage name).
_STAGES = (
    ("falco_lab.events.jsonl", "_sampled_schema", "schema_sample"),
    ("falco_lab.events.jsonl", "checked_columns", "checks"),
    ("falco_lab.events.jsonl", "columns_to_frame", "to_pandas"),
    ("falco_lab.events.load", "post_load", "post_load"),
)


def _timed_stages() -> dict[str, float]:
    """Wrap the stages of ``load_events`` after parsing to add their wall time to the returned dict.

    Each wrapper adds two clock reads per call (a handful of calls per load).
    """
    import importlib

    spent: dict[str, float] = {}
    for module_name, function, stage in _STAGES:
        module = importlib.import_module(module_name)
        original = getattr(module, function)

        def timed(*args, _original=original, _stage=stage, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_stage] = spent.get(_stage, 0.0) + time.perf_counter() - start

        setattr(module, function, timed)
    return spent


def _stage_split(spent: dict[str, float], total: float) -> dict[str, float]:
    """Wall seconds per stage; ``scan_and_parse`` is the rest (reading, the parallel Arrow parse, merging parts)."""
    split = {stage: round(spent.get(stage, 0.0), 3) for _, _, stage in _STAGES}
    split["scan_and_parse"] = round(total - sum(spent.values()), 3)
    return split


def pa_struct_has(table, name: str) -> bool:
    import pyarrow as pa

    if "output_fields" not in table.column_names:
        return False
    kind = table.schema.field("output_fields").type
    return pa.types.is_struct(kind) and kind.get_field_index(name) >= 0


class MethodFailed(RuntimeError):
    """A method's subprocess failed (a peer may crash on data it cannot read)."""


def _subprocess(method: str, path: Path, fingerprint: bool, data: str = "typical") -> dict:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, __file__, "--method", method, "--file", str(path), "--data", data]
        + (["--fingerprint"] if fingerprint else []),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = next(
            (line for line in reversed(lines) if "Error" in line or "Exception" in line),
            lines[-1] if lines else "",
        )
        raise MethodFailed(f"{method} failed with status {done.returncode}: {reason.strip()[:300]}")
    for line in done.stdout.splitlines():
        if line.startswith(_RESULT_PREFIX):
            return json.loads(line[len(_RESULT_PREFIX) :])
    raise RuntimeError(f"{method} printed no result:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def _same_data(base: dict, ours: dict) -> tuple[bool, list[str]]:
    """Compare fingerprints; ``uuid``-sorted, every column of the baseline must match ours."""
    differences = []
    if base["fingerprint"]["rows"] != ours["fingerprint"]["rows"]:
        differences.append(f"rows {base['fingerprint']['rows']} != {ours['fingerprint']['rows']}")
    base_cols, our_cols = set(base["fingerprint"]["columns"]), set(ours["fingerprint"]["columns"])
    if base_cols != our_cols:
        differences.append(
            f"columns differ: baseline only {sorted(base_cols - our_cols)}, "
            f"ours only {sorted(our_cols - base_cols)}"
        )
    for name in sorted(base_cols & our_cols):
        if base["fingerprint"]["digests"][name] != ours["fingerprint"]["digests"][name]:
            differences.append(f"values differ in column {name!r}")
    return not differences, differences


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
        "measured_at": [r["measured_at"] for r in runs],
        "rows": best["rows"],
        "columns": best["columns"],
        "dtypes": best["dtypes"],
        "trap_values": {"late_field": best["late_field_values"], "null_then_value": best["vpid_values"]},
        **{k: best[k] for k in ("keys_after_the_sample", "type_mismatch_rows", "stages") if k in best},
    }


_DESCRIPTIONS = {
    "baseline": "pandas.read_json(lines=True) + pandas.json_normalize(output_fields) + to_datetime(time)",
    "falco_lab": "falco_lab.events.load_events(path)",
    "duckdb": "duckdb.connect().read_json(path).to_arrow_table() (defaults)",
    "polars": "polars.read_ndjson(path) (defaults)",
    "duckdb_schema": "DuckDB read_json with explicit columns from its sample (time as text) + a key check "
    "of every line's output_fields (json_keys); the floor of that design, no pandas frame",
    "duckdb_strict": "DuckDB with load_events' type guarantees: every value's JSON type checked against "
    "DuckDB's sampled type and every row's output_fields keys against the sampled keys, in one query "
    "(mismatches counted, not reported by line; no pandas frame)",
}
METHODS = ("baseline", "falco_lab", "duckdb", "polars", "duckdb_schema", "duckdb_strict")
PEERS = ("duckdb", "polars", "duckdb_schema", "duckdb_strict")
#: Which engine load_events uses on JSON lines, and why (stored in the JSON).
ENGINE = {
    "engine": "pyarrow.json: single-threaded readers on 4 parts per core, one thread per core, with an "
    "explicit schema (top-level keys, time parsed to timestamp[ns, UTC]; scalar output fields typed from a "
    "head and a tail sample); a memory-mapped file's pages released part by part; the parsed columns "
    "checked with Arrow compute and converted to pandas on one thread per core, each Arrow column dropped "
    "once converted; bad input bisected down to orjson line by line",
    "why": "pyarrow.json is the fastest reader measured here that keeps the guarantees.  With an explicit "
    'schema it rejects a value of the wrong JSON type (1.5, "2" or true for an integer, a number for a '
    "string, a repeated key), so no line is reinterpreted and every bad one goes to the line-by-line "
    "check, and it parses time to exact nanoseconds.  The peers' defaults lose data on Falco's traps: "
    "DuckDB's read_json samples 20,480 rows, so a field null there is typed NULL and its later values are "
    "dropped, a field that only appears later is dropped, and time is cut to microseconds; polars' "
    "read_ndjson panics on the null-then-int field.  DuckDB with explicit columns converts silently "
    '(1.5 -> 1, "2" -> 2, true -> 1, a number -> its text, an output field it was not told about '
    "dropped); duckdb_schema is that floor with a key check, duckdb_strict the floor of DuckDB with our "
    "type guarantees (every value's JSON type and every row's keys checked in one query): compare "
    "vs_duckdb_schema and vs_duckdb_strict.  What is left of the gap to read_json's defaults is "
    "pyarrow.json's parse itself: falco_lab.stages splits our wall time (scan_and_parse against "
    "checks, to_pandas, post_load) and cpu_seconds compares total CPU with the peers'.",
}


def measure(path: Path, data: str, repeat: int, compare: bool) -> dict:
    """Run every method ``repeat`` times, alternating, each in a fresh process."""
    runs: dict[str, list[dict]] = {m: [] for m in METHODS}
    failures: dict[str, str] = {}
    path.read_bytes()  # warm the page cache so no method pays the first disk read
    for attempt in range(max(1, repeat)):
        for method in METHODS:
            if method in failures:
                continue
            try:
                runs[method].append(
                    _subprocess(method, path, fingerprint=compare and attempt == 0, data=data)
                )
            except MethodFailed as exc:
                if method in ("baseline", "falco_lab"):
                    raise
                failures[method] = str(exc)
    megabytes = path.stat().st_size / 1e6
    result: dict = {"file_mb": round(megabytes, 1)}
    for method in METHODS:
        if runs[method]:
            result[method] = _summary(runs[method], megabytes, _DESCRIPTIONS[method])
        else:
            result[method] = {
                "method": _DESCRIPTIONS[method],
                "failed": failures[method],
                "measured_at": [now()],
            }
    ours = result["falco_lab"]
    result["speedup"] = round(result["baseline"]["seconds"] / ours["seconds"], 2)
    result["median_speedup"] = round(result["baseline"]["median_seconds"] / ours["median_seconds"], 2)
    result["memory_ratio"] = round(ours["peak_rss_mb"] / result["baseline"]["peak_rss_mb"], 3)
    for peer in PEERS:
        if "seconds" in result[peer]:
            time_ratio = ours["seconds"] / result[peer]["seconds"]
            memory_ratio = ours["peak_rss_mb"] / result[peer]["peak_rss_mb"]
            result[f"vs_{peer}"] = {
                "time_ratio": round(time_ratio, 2),
                "median_time_ratio": round(ours["median_seconds"] / result[peer]["median_seconds"], 2),
                "cpu_time_ratio": round(ours["cpu_seconds"] / result[peer]["cpu_seconds"], 2),
                "memory_ratio": round(memory_ratio, 3),
                "kept_trap_values": result[peer]["trap_values"] == result["baseline"]["trap_values"],
                "time_target_missed_by_percent": round(max(0.0, time_ratio - 1.0) * 100, 1),
                "memory_target_missed_by_percent": round(max(0.0, memory_ratio / 1.5 - 1.0) * 100, 1),
            }
    if compare:
        result["same_data"], result["differences"] = _same_data(runs["baseline"][0], runs["falco_lab"][0])
    return result


def _peer_verdicts(data: dict) -> dict[str, str]:
    """One line per peer of a data set: the issue's target (time <= 1.0x, memory <= 1.5x) met or missed."""
    verdicts = {}
    for peer in PEERS:
        figure = data.get(f"vs_{peer}")
        if figure is None:
            verdicts[peer] = f"not compared: {data[peer].get('failed', 'no figure')}"[:300]
            continue
        met = figure["time_ratio"] <= 1.0 and figure["memory_ratio"] <= 1.5
        verdicts[peer] = (
            f"{'met' if met else 'missed'}: time {figure['time_ratio']}x "
            f"(median {figure['median_time_ratio']}x, cpu {figure['cpu_time_ratio']}x), "
            f"peak memory {figure['memory_ratio']}x"
        )
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="directory for events.json")
    parser.add_argument(
        "--size", "--events", dest="events", type=int, default=200_000, help="typical alerts (default 200000)"
    )
    parser.add_argument(
        "--adversarial-size",
        type=int,
        default=None,
        help="adversarial lines (default: size / 10; 0 skips the set)",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="generator seed (typical; adversarial uses seed + 1)"
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs per method, alternating (best is reported)"
    )
    parser.add_argument("--method", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", choices=tuple(TRAPS), default="typical", help=argparse.SUPPRESS)
    parser.add_argument("--fingerprint", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.method:
        print(_RESULT_PREFIX + json.dumps(run_method(args.method, args.file, args.fingerprint, args.data)))
        return 0
    if args.out is None:
        parser.error("--out DIR is required")
    adversarial_size = args.events // 10 if args.adversarial_size is None else args.adversarial_size
    run = BenchRun("events")
    sets: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench_events_") as tmp:
        path = Path(tmp) / "alerts.jsonl"
        write_alerts(path, args.events, seed=args.seed)
        typical = measure(path, "typical", args.repeat, compare=True)
        typical["data"] = {
            "generator": "benchmarks/bench_events.py:write_alerts",
            "seed": args.seed,
            "lines": args.events,
            "rules": len(_RULES) + 1,
            "namespaces": len(_NAMESPACES),
            "traps": list(TRAPS["typical"]),
        }
        sets["typical"] = typical
        path.unlink()
        if adversarial_size:
            adv_path = Path(tmp) / "adversarial.jsonl"
            adversarial.write_adversarial(adv_path, adversarial_size, seed=args.seed + 1)
            sets["adversarial"] = measure(adv_path, "adversarial", args.repeat, compare=False)
            sets["adversarial"]["data"] = {
                **adversarial.shape(adversarial_size, seed=args.seed + 1),
                "traps": list(TRAPS["adversarial"]),
            }
    typical = sets["typical"]
    same = bool(typical["same_data"])
    peer_figures = [typical[f"vs_{k}"] for k in ("duckdb", "polars") if f"vs_{k}" in typical]
    figures = {
        "events": args.events,
        "repeat": max(1, args.repeat),
        "loader": ENGINE,
        **sets,
        "targets": {
            "speedup_at_least": TARGET_SPEEDUP,
            "memory_ratio_at_most": TARGET_MEMORY_RATIO,
            "vs_peers_time_ratio_at_most": 1.0,
            "vs_peers_memory_ratio_at_most": 1.5,
        },
        "meets_targets": bool(
            same
            and typical["speedup"] >= TARGET_SPEEDUP
            and typical["memory_ratio"] <= TARGET_MEMORY_RATIO
            and all(
                typical[k]["time_ratio"] <= 1.0 and typical[k]["memory_ratio"] <= 1.5
                for k in ("vs_duckdb", "vs_polars")
                if k in typical
            )
        ),
        "notes": "seconds: best wall time of `repeat` alternating runs, each in a fresh process "
        "(file in page cache, imports excluded), median_seconds their median (on a shared "
        "machine the two differ a lot); cpu_seconds: least user+sys time of the runs; "
        "peak_rss_mb: highest ru_maxrss of those runs; measured_at: when each run ended (UTC); "
        "same_data compares every column value (sorted by uuid) between the baseline and ours; "
        "trap_values: non-null values each method kept in the late-only and null-until-late fields; "
        "a peer's time ratio is ours / theirs (<= 1 means we are at least as fast); "
        "*_missed_by_percent: how far that ratio is above its target (0 when met); "
        "falco_lab.stages: wall seconds of load_events' stages in its best run (scan_and_parse is the rest: "
        "reading, the parallel Arrow parse and merging parts); keys_after_the_sample, type_mismatch_rows: "
        "what the DuckDB floors found and would have to read again or report.",
    }
    figures["loader"] = {
        **ENGINE,
        "peer_targets_met": bool(peer_figures)
        and all(f["time_ratio"] <= 1.0 and f["memory_ratio"] <= 1.5 for f in peer_figures),
        "worst_time_target_miss_percent": max(
            (f["time_target_missed_by_percent"] for f in peer_figures), default=None
        ),
        "worst_memory_target_miss_percent": max(
            (f["memory_target_missed_by_percent"] for f in peer_figures), default=None
        ),
        "peer_targets": {name: _peer_verdicts(data) for name, data in sets.items()},
    }
    result = run.result(
        figures,
        data={
            "generator": "benchmarks/bench_events.py:write_alerts (typical), "
            "benchmarks/adversarial.py:write_adversarial (adversarial)",
            "seed": args.seed,
            "sets": {name: data["data"] for name, data in sets.items()},
        },
        baseline=comparison("typical", "baseline: " + _DESCRIPTIONS["baseline"]),
        peers=[comparison("typical", f"{k}: {_DESCRIPTIONS[k]}") for k in PEERS],
    )
    run.write(args.out, result)
    for name, data in sets.items():
        line = {k: data.get(k) for k in ("speedup", "memory_ratio", "vs_duckdb", "vs_polars", "same_data")}
        print(name, json.dumps(line))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
