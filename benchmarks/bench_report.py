"""Benchmark: the post-mortem report for a million alerts.

Usage::

    python benchmarks/bench_report.py --out DIR [--alerts N] [--adversarial N] [--baseline-sample N] [--smoke]

Generates ``N`` (default 1,000,000) synthetic alerts directly in the canonical events
frame (realistic mix: namespaces, pods, containers, process trees with ancestor
fields and recycled pids, ~40 rules with ATT&CK tags, Falco-like outputs), stores them
as Parquet, and in the same run measures, each in its own subprocess so that peak RSS
is the measured step's own:

* **falco_lab**: the ``falco-lab report alerts.parquet -o report.html`` command (load with
  the events package's Parquet reader, filter, build and write the report), timed end to
  end, with its peak RSS and the HTML size (the load alone is also timed, first);
* **baseline** (naive approach, on a sample): one plotly marker per alert
  (``plotly.express.scatter``) plus ``DataFrame.to_html`` of every alert, written with
  ``fig.write_html(include_plotlyjs=True)``; its time and size per alert are also
  extrapolated to ``N``.

Next to this typical case, the **adversarial** case (``--adversarial N``, default as
many as ``--alerts``; 0 skips it) runs the same ``falco-lab report`` command on the JSON lines of
:mod:`adversarial` (written from scratch: every container id and pid distinct, 5,000 pods,
0.3-3 KB command lines, old-format records, duplicates), measuring time, peak RSS, HTML
size and how long headless Chromium (``/usr/bin/chromium --headless --dump-dom``, which
returns once the page has loaded and its scripts, plotly's included, have run) takes to
open the HTML; with the same pandas-only baseline on a sample.  Each measured step
records the load average before and after it (the machine is shared).

Writes ``DIR/report.json`` with the figures and whether the targets (≤ 60 s, ≤ 4 GB,
HTML ≤ 20 MB, Chromium ≤ 10 s) are met.  ``--smoke`` runs tiny sizes (for the tests).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0
TARGET_RSS_MB = 4096.0
TARGET_HTML_MB = 20.0
TARGET_CHROMIUM_SECONDS = 10.0

_RULES = [
    # (rule, priority, tags)
    (
        "Terminal shell in container",
        "Notice",
        ["maturity_stable", "container", "shell", "mitre_execution", "T1059"],
    ),
    (
        "Drop and execute new binary in container",
        "Critical",
        ["maturity_stable", "container", "process", "mitre_persistence", "TA0003", "PCI_DSS_11.5.1"],
    ),
    (
        "Read sensitive file untrusted",
        "Warning",
        ["maturity_stable", "host", "container", "filesystem", "mitre_credential_access", "T1555"],
    ),
    (
        "Contact K8S API Server From Container",
        "Notice",
        ["maturity_stable", "container", "network", "k8s", "mitre_discovery", "T1565"],
    ),
    (
        "Netcat Remote Code Execution in Container",
        "Warning",
        ["maturity_stable", "container", "network", "process", "mitre_execution", "T1059"],
    ),
    (
        "Run shell untrusted",
        "Notice",
        ["maturity_stable", "host", "container", "process", "shell", "mitre_execution", "T1059.004"],
    ),
    (
        "Clear Log Activities",
        "Warning",
        [
            "maturity_stable",
            "host",
            "container",
            "filesystem",
            "mitre_defense_evasion",
            "T1070",
            "NIST_800-53_AU-10",
        ],
    ),
    (
        "Create Symlink Over Sensitive Files",
        "Warning",
        ["maturity_stable", "host", "container", "filesystem", "mitre_credential_access", "T1555"],
    ),
    (
        "Packet socket created in container",
        "Notice",
        ["maturity_stable", "container", "network", "mitre_credential_access", "T1557.002"],
    ),
    (
        "Search Private Keys or Passwords",
        "Warning",
        [
            "maturity_stable",
            "host",
            "container",
            "process",
            "filesystem",
            "mitre_credential_access",
            "T1552.001",
        ],
    ),
    (
        "Fileless execution via memfd_create",
        "Critical",
        ["maturity_stable", "host", "container", "process", "mitre_defense_evasion", "T1620"],
    ),
    (
        "Write below binary dir",
        "Error",
        ["maturity_incubating", "host", "container", "filesystem", "mitre_persistence", "T1543"],
    ),
    (
        "Launch Privileged Container",
        "Informational",
        ["maturity_incubating", "container", "cis", "mitre_execution", "T1610"],
    ),
    (
        "Outbound Connection to C2 Servers",
        "Warning",
        ["maturity_sandbox", "host", "container", "network", "mitre_command_and_control", "TA0011"],
    ),
    (
        "Detect crypto miners using the Stratum protocol",
        "Critical",
        ["maturity_sandbox", "host", "container", "process", "mitre_impact", "T1496"],
    ),
    (
        "Debugfs Launched in Privileged Container",
        "Warning",
        ["maturity_sandbox", "container", "cis", "process", "mitre_privilege_escalation", "T1611"],
    ),
]
# plus generic, noisy rules so there are ~40 rules in total
_RULES += [
    (
        f"Custom rule {i:02d}",
        ["Debug", "Informational", "Notice", "Warning"][i % 4],
        [
            "falco_lab",
            "container",
            ["mitre_discovery", "mitre_execution", "mitre_collection"][i % 3],
            ["T1613", "T1609", "T1005"][i % 3],
        ],
    )
    for i in range(24)
]

_BINARIES = [
    "bash",
    "sh",
    "curl",
    "wget",
    "nc",
    "python3",
    "cat",
    "ls",
    "find",
    "apt-get",
    "java",
    "node",
    "nginx",
    "xmrig",
    "chmod",
    "rm",
    "ssh",
    "kubectl",
    "dd",
    "ps",
]


def generate(n: int, seed: int = 7):
    """``n`` synthetic alerts as a canonical events frame (vectorised, a few seconds for 1M)."""
    import numpy as np
    import pandas as pd

    from falco_lab.priorities import PRIORITY_DTYPE

    rng = np.random.default_rng(seed)
    n_pods = 400
    namespaces = np.array([f"team-{i:02d}" for i in range(20)] + ["kube-system", "default", "falco"])
    pod_ns = namespaces[rng.integers(0, len(namespaces), n_pods)]
    pod_names = np.array([f"app-{i:03d}-{rng.integers(16**5):05x}" for i in range(n_pods)])
    pod_node = np.array(
        [f"ip-10-0-{i % 12}-{10 + i % 200}.eu-west-1.compute.internal" for i in range(n_pods)]
    )
    containers = np.array([f"{rng.integers(16**12):012x}" for _ in range(n_pods * 2)])

    # rules: heavy-tailed (a few noisy rules dominate)
    weights = 1.0 / np.arange(1, len(_RULES) + 1) ** 1.1
    rule_idx = rng.choice(len(_RULES), size=n, p=weights / weights.sum())
    pod_w = 1.0 / np.arange(1, n_pods + 1) ** 0.8
    pod_idx = rng.choice(n_pods, size=n, p=pod_w / pod_w.sum())
    cont_idx = pod_idx * 2 + rng.integers(0, 2, n)
    # processes: ~60 per container; pids recycled (same pid, other binary) within a container
    proc_slot = rng.integers(0, 60, n)
    pid = 1000 + (cont_idx * 37 + proc_slot * 13) % 30000
    binary = (proc_slot + cont_idx + (rng.random(n) < 0.02)) % len(_BINARIES)
    ppid = 900 + (cont_idx * 37 + proc_slot // 6) % 30000
    gpid = 800 + (cont_idx * 37) % 30000

    start = pd.Timestamp("2026-11-26T00:00:00Z").value
    times = np.sort(start + rng.integers(0, 24 * 3600 * 10**9, n))
    rules = np.array([r[0] for r in _RULES], dtype=object)
    prios = np.array([r[1] for r in _RULES], dtype=object)
    tags = [r[2] for r in _RULES]
    bins = np.array(_BINARIES, dtype=object)
    args = np.array(
        [
            "-c id",
            "-i",
            "http://198.51.100.7/x.sh",
            "-l 4444",
            "/etc/shadow",
            "-la /root",
            "--donate-level 1",
            "+x /tmp/run",
        ],
        dtype=object,
    )
    cmd = pd.Series(bins[binary]) + " " + pd.Series(args[(proc_slot + binary) % len(args)])
    pod_s = pd.Series(pod_names[pod_idx])
    ns_s = pd.Series(pod_ns[pod_idx])
    cont_s = pd.Series(containers[cont_idx])
    files = pd.Series(
        np.array(
            [
                "/etc/shadow",
                "/root/.ssh/id_rsa",
                "/usr/bin/evil",
                "/var/log/syslog",
                "/tmp/x",
                "10.0.3.4:40000->203.0.113.9:3333",
            ],
            dtype=object,
        )[rule_idx % 6]
    )
    clock = pd.Series(pd.to_datetime(times, utc=True)).dt.strftime("%H:%M:%S.%f")
    rule_s = pd.Series(rules[rule_idx])
    output = (
        clock
        + "000: "
        + pd.Series(prios[rule_idx])
        + " "
        + rule_s
        + " (user=root pid="
        + pd.Series(pid).astype(str)
        + " cmdline="
        + cmd
        + " file="
        + files
        + " container_id="
        + cont_s
        + " k8s.ns="
        + ns_s
        + " k8s.pod="
        + pod_s
        + ")"
    )
    df = pd.DataFrame({
        "time": pd.to_datetime(times, utc=True).astype("datetime64[ns, UTC]"),
        "rule": rule_s.astype("string"),
        "priority": pd.Categorical(prios[rule_idx], dtype=PRIORITY_DTYPE),
        "source": pd.Series(["syscall"] * n, dtype="string"),
        "hostname": pd.Series(pod_node[pod_idx], dtype="string"),
        "tags": pd.Series([tags[i] for i in rule_idx], dtype=object),
        "output": output.astype("string"),
        "uuid": pd.Series([f"{i:032x}" for i in range(n)], dtype="string"),
        "container.id": cont_s.astype("string"),
        "k8s.ns.name": ns_s.astype("string"),
        "k8s.pod.name": pod_s.astype("string"),
        # like upstream rules, a third of the rules print no pids (lineage then links by name)
        "proc.pid": pd.Series(pid, dtype="Int64").where(rule_idx % 3 != 0),
        "proc.ppid": pd.Series(ppid, dtype="Int64").where(rule_idx % 3 != 0),
        "proc.name": pd.Series(bins[binary], dtype="string"),
        "proc.cmdline": cmd.astype("string"),
        "proc.pname": pd.Series(np.where(proc_slot % 6 == 0, "containerd-shim", "bash"), dtype="string"),
        "proc.apid[2]": gpid.astype("int64"),
        "proc.aname[2]": pd.Series(["containerd-shim"] * n, dtype="string"),
        "fd.name": files.astype("string"),
        "user.name": pd.Series(["root"] * n, dtype="string"),
    })  # fmt: skip
    return df


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _child_report(parquet: str, html: str) -> dict:
    """``falco-lab report ALERTS -o report.html``, timed end to end (load + report)."""
    import argparse
    import contextlib
    import io

    from falco_lab.analysis import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(
        ["report", parquet, "-o", html, "--title", "Benchmark: synthetic alerts", "--simulated"]
    )
    from bench_common import TreeMemory

    t0 = time.perf_counter()
    with TreeMemory() as tree, contextlib.redirect_stdout(io.StringIO()) as said:
        code = args.handler(args)
    seconds = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"report failed with exit code {code}")
    from plotly.offline import get_plotlyjs

    own = round(_peak_rss_mb(), 1)
    return {
        "alerts": int(said.getvalue().split(" of ")[1].split()[0].replace(",", "")),
        "how": said.getvalue().split("alerts, ", 1)[1].split(";")[0]
        if "out of core" in said.getvalue()
        else "in memory",
        "total_s": round(seconds, 2),
        # the larger of this process's own peak and the sampled peak of it and its workers together
        "peak_rss_mb": max(own, tree.peak_mb or 0.0),
        "peak_rss_mb_this_process": own,
        "peak_rss_mb_process_tree_sampled": tree.peak_mb,
        "html_mb": round(os.path.getsize(html) / 1e6, 2),
        "of_which_plotly_js_mb": round(len(get_plotlyjs().encode()) / 1e6, 2),
    }


def _child_baseline(parquet: str, html: str, sample: int) -> dict:
    import pandas as pd
    import plotly.express as px

    if parquet.endswith(".parquet"):
        df = pd.read_parquet(parquet).head(sample)
    else:  # JSON lines: pandas' own reader, output fields flattened
        raw = pd.read_json(parquet, lines=True, nrows=sample, dtype=False)
        fields = pd.json_normalize(raw.pop("output_fields").tolist(), max_level=0)
        df = pd.concat([raw, fields], axis=1)
        df["time"] = pd.to_datetime(df["time"], utc=True, format="ISO8601")
    t0 = time.perf_counter()
    fig = px.scatter(
        df, x="time", y="rule", color="priority", hover_data=["k8s.pod.name", "proc.cmdline", "output"]
    )
    body = fig.to_html(include_plotlyjs=True, full_html=False) + df.to_html()
    Path(html).write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    t1 = time.perf_counter()
    return {
        "alerts": len(df),
        "seconds": round(t1 - t0, 2),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "html_mb": round(os.path.getsize(html) / 1e6, 2),
    }


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _run_child(*argv: str) -> dict:
    command = [sys.executable, __file__, "--out", str(Path(argv[1]).parent), "--child", *argv]
    before = _load_average()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {argv[0]} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**result, "load_average_before": before, "load_average_after": _load_average()}


def chromium_open_seconds(html: Path, timeout: float = 300.0) -> dict:
    """Seconds headless Chromium takes to load ``html`` and run its scripts (``--dump-dom``).

    ``--dump-dom`` prints the DOM once the page's load event has fired, so the time covers
    parsing, plotly.js and every ``Plotly.newPlot``.  The DOM must contain the plotted
    SVGs (``main-svg``), else the figures did not render and the result says so.
    """
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return {"seconds": None, "error": "chromium is not installed (apt-get install chromium)"}
    with tempfile.TemporaryDirectory(prefix="bench_chromium_") as profile:
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--dump-dom", html.resolve().as_uri(),
        ]  # fmt: skip
        t0 = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"seconds": None, "error": f"did not open within {timeout:.0f} s"}
        seconds = time.perf_counter() - t0
    figures = done.stdout.count('class="main-svg"')
    out: dict = {"seconds": round(seconds, 2), "rendered_svg_layers": figures}
    if done.returncode != 0 or not figures:
        out["error"] = f"exit code {done.returncode}, {figures} plotted SVG layers: {done.stderr[-300:]}"
    return out


def _adversarial_case(n: int, tmp: Path, sample: int, seed: int) -> dict:
    """The adversarial case: ``falco-lab report`` on :mod:`adversarial` JSON lines, then Chromium."""
    import adversarial

    source = tmp / "adversarial.jsonl"
    t0 = time.perf_counter()
    size = adversarial.write_adversarial(source, n, seed)
    gen_s = time.perf_counter() - t0
    html = tmp / "adversarial.html"
    ours = _with_chromium(_run_child("report", str(source), str(html)), html)
    base = _run_child("baseline", str(source), str(tmp / "adversarial_naive.html"), str(sample))
    return {
        "data": {
            **adversarial.shape(n, seed),
            "jsonl_mb": round(size / 1e6, 1),
            "generate_s": round(gen_s, 1),
        },
        "falco_lab": ours,
        "baseline_naive": _naive(
            base, n, "pandas.read_json(lines=True) on a sample + plotly.express.scatter + DataFrame.to_html"
        ),
        "meets_targets": _meets_targets(ours),
    }


def _with_chromium(ours: dict, html: Path) -> dict:
    """``ours`` with the time headless Chromium took to open ``html`` (and the load average before)."""
    before = _load_average()
    return {**ours, "chromium_open": {**chromium_open_seconds(html), "load_average_before": before}}


def _naive(base: dict, alerts: int, method: str) -> dict:
    """The naive baseline's figures on its sample, extrapolated linearly to ``alerts``."""
    scale = alerts / max(base["alerts"], 1)
    return {
        **base,
        "method": method,
        "extrapolated_seconds": round(base["seconds"] * scale, 1),
        "extrapolated_html_mb": round(base["html_mb"] * scale, 1),
    }


def _meets_targets(ours: dict) -> bool:
    """Time, peak memory, HTML size and Chromium's open time all within the issue's targets."""
    chromium_s = ours["chromium_open"].get("seconds")
    return (
        ours["total_s"] <= TARGET_SECONDS
        and ours["peak_rss_mb"] <= TARGET_RSS_MB
        and ours["html_mb"] <= TARGET_HTML_MB
        and chromium_s is not None
        and chromium_s <= TARGET_CHROMIUM_SECONDS
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="directory for report.json")
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument(
        "--adversarial",
        type=int,
        default=None,
        help="adversarial alerts (default: as many as --alerts; 0: skip)",
    )
    parser.add_argument("--baseline-sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the tests")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        result = _child_report(*rest) if kind == "report" else _child_baseline(rest[0], rest[1], int(rest[2]))
        print(json.dumps(result))
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_common import BenchRun, comparison

    if args.smoke:
        args.alerts, args.adversarial, args.baseline_sample = 2_000, 2_000, 500
    if args.adversarial is None:
        args.adversarial = args.alerts
    run = BenchRun("report")
    with tempfile.TemporaryDirectory(prefix="bench_report_") as tmp:
        parquet = str(Path(tmp) / "alerts.parquet")
        t0 = time.perf_counter()
        from falco_lab.events import to_parquet

        to_parquet(generate(args.alerts, args.seed), parquet)
        gen_s = time.perf_counter() - t0
        ours = BenchRun.stamp(_run_child("report", parquet, str(Path(tmp) / "report.html")))
        base = BenchRun.stamp(
            _run_child("baseline", parquet, str(Path(tmp) / "naive.html"), str(args.baseline_sample))
        )
        parquet_mb = os.path.getsize(parquet) / 1e6
        ours = _with_chromium(ours, Path(tmp) / "report.html")
        adversarial_case = (
            _adversarial_case(args.adversarial, Path(tmp), args.baseline_sample, args.seed)
            if args.adversarial
            else None
        )
    figures = {
        "alerts": args.alerts,
        "generate_s": round(gen_s, 1),
        "parquet_mb": round(parquet_mb, 1),
        "falco_lab": ours,
        "baseline_naive": _naive(
            base, args.alerts, "plotly.express.scatter (one marker per alert) + DataFrame.to_html"
        ),
        "targets": {
            "seconds": TARGET_SECONDS,
            "peak_rss_mb": TARGET_RSS_MB,
            "html_mb": TARGET_HTML_MB,
            "chromium_open_s": TARGET_CHROMIUM_SECONDS,
        },
        "adversarial": adversarial_case,
    }
    figures["meets_targets"] = _meets_targets(ours) and (
        adversarial_case is None or adversarial_case["meets_targets"]
    )
    result = run.result(
        figures,
        data={
            "generator": "benchmarks/bench_report.py:generate",
            "seed": args.seed,
            "alerts": args.alerts,
            "adversarial": {"generator": "benchmarks/adversarial.py", "alerts": args.adversarial},
        },
        baseline=comparison("baseline_naive", "plotly.express.scatter + DataFrame.to_html on a sample"),
        peers=[comparison(None, "a general-purpose tool", missing="none writes a Falco post-mortem report")],
    )
    run.write(args.out, result)
    print(json.dumps(result, indent=2))
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
