"""Benchmark ``make run``: the whole workshop (every notebook, simulate mode) end to end.

Writes ``DIR/run.json``.  Measures, in the same run:

* the workshop: ``python -m falco_lab.lab.runner run --out <tmp>`` as a subprocess, wall time
  (what ``make run`` costs after set-up; target <= 90 s on the 2-core reference machine);
* the baseline: papermill executing an *empty* notebook once per workshop notebook, i.e.
  the fixed cost of kernels and papermill alone, which no notebook content can go under.

Usage: ``python benchmarks/bench_run.py --out build/bench``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_common import BenchRun, comparison  # noqa: E402

TARGET_SECONDS = 90.0


def _empty_notebook(path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    notebook.cells.append(nbformat.v4.new_code_cell("mode = 'simulate'", metadata={"tags": ["parameters"]}))
    nbformat.write(notebook, path)


def baseline(count: int, work: Path) -> float:
    """Seconds for papermill to execute ``count`` empty notebooks, one after the other."""
    source = work / "empty.ipynb"
    _empty_notebook(source)
    start = time.perf_counter()
    for index in range(count):
        papermill.execute_notebook(
            str(source), str(work / f"empty-{index}.ipynb"), kernel_name="python3", progress_bar=False
        )
    return time.perf_counter() - start


def workshop(out: Path, only: list[str], upstream_rules: Path | None = None) -> tuple[float, int, str]:
    """Seconds, exit status and output of ``python -m falco_lab.lab.runner run --out out [--only N]...``."""
    start = time.perf_counter()
    selection = [arg for name in only for arg in ("--only", name)]
    if upstream_rules is not None:
        selection += ["--upstream-rules", str(upstream_rules)]
    proc = subprocess.run(
        [sys.executable, "-m", "falco_lab.lab.runner", "run", "--out", str(out), *selection],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - start, proc.returncode, proc.stdout + proc.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for run.json")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only these notebooks (the runner's --only; a smoke run, not the target)",
    )
    parser.add_argument(
        "--upstream-rules",
        type=Path,
        metavar="DIR",
        help="the runner's --upstream-rules (default: the runner fetches or finds them itself)",
    )
    args = parser.parse_args(argv)
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.only:
        notebooks = [p for p in notebooks if any(p.stem.startswith(name) for name in args.only)]
    run = BenchRun("run")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base_seconds = baseline(len(notebooks), work)
        baseline_stamp = BenchRun.stamp({})["measured_at"]
        run_seconds, status, output = workshop(work / "build", args.only, args.upstream_rules)
        run_stamp = BenchRun.stamp({})["measured_at"]
        per_notebook = {}
        for line in output.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0][:2].isdigit() and parts[2] == "s":
                per_notebook[parts[0]] = float(parts[1])
    everything = not args.only
    result = run.result(
        {
            "what": "python -m falco_lab.lab.runner run (simulate mode), wall time"
            + ("" if everything else f" - only {', '.join(args.only)} (smoke run, not the target)"),
            "seconds": round(run_seconds, 2),
            "measured_at": run_stamp,
            "exit_status": status,
            "per_notebook_seconds": per_notebook,
            "baseline": {
                "what": f"papermill executing an empty notebook x {len(notebooks)}",
                "seconds": round(base_seconds, 2),
                "measured_at": baseline_stamp,
            },
            "overhead_over_baseline_seconds": round(run_seconds - base_seconds, 2),
            "ratio_to_baseline": round(run_seconds / base_seconds, 2) if base_seconds else None,
            "target_seconds": TARGET_SECONDS,
            "meets_target": everything and status == 0 and run_seconds <= TARGET_SECONDS,
        },
        data={
            "generator": "the workshop notebooks in simulate mode (falco_lab.simulate)",
            "seed": None,
            "seed_note": "each notebook fixes its own simulator seeds; the runner takes none",
            "notebooks": len(notebooks),
            "names": [p.stem for p in notebooks],
        },
        baseline=comparison("baseline", "papermill executing an empty notebook once per workshop notebook"),
        peers=[
            comparison(
                None,
                "a general-purpose runner",
                missing="papermill is both the runner used and the baseline's; no other peer applies",
            )
        ],
    )
    run.write(args.out, result)
    print(json.dumps(result, indent=2))
    if status != 0:
        print(output[-3000:], file=sys.stderr)
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
