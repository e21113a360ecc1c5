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
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

ROOT = Path(__file__).resolve().parents[1]
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


def workshop(out: Path) -> tuple[float, int, str]:
    """Seconds, exit status and output of ``python -m falco_lab.lab.runner run --out out``."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "falco_lab.lab.runner", "run", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - start, proc.returncode, proc.stdout + proc.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for run.json")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base_seconds = baseline(len(notebooks), work)
        run_seconds, status, output = workshop(work / "build")
        per_notebook = {}
        for line in output.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0][:2].isdigit() and parts[2] == "s":
                per_notebook[parts[0]] = float(parts[1])
    result = {
        "benchmark": "run",
        "what": "python -m falco_lab.lab.runner run (all notebooks, simulate mode), wall time",
        "notebooks": len(notebooks),
        "seconds": round(run_seconds, 2),
        "exit_status": status,
        "per_notebook_seconds": per_notebook,
        "baseline": {
            "what": f"papermill executing an empty notebook x {len(notebooks)}",
            "seconds": round(base_seconds, 2),
        },
        "overhead_over_baseline_seconds": round(run_seconds - base_seconds, 2),
        "ratio_to_baseline": round(run_seconds / base_seconds, 2) if base_seconds else None,
        "target_seconds": TARGET_SECONDS,
        "meets_target": status == 0 and run_seconds <= TARGET_SECONDS,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        },
    }
    path = args.out / "run.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if status != 0:
        print(output[-3000:], file=sys.stderr)
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
