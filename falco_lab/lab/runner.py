"""The workshop run: ``make run``.

``python -m falco_lab.lab.runner run --out build`` executes each ``notebooks/*.ipynb`` in
simulate mode into ``build/notebooks/``, checks that ``build/report.html`` was written (by
the post-mortem notebook) during this run, and prints a one-screen summary read from the
values the notebooks recorded with :func:`falco_lab.lab.nb.record`.  The exit status is 1
when a notebook fails or the report is missing; nothing in the summary is made up: a
value that no notebook recorded is shown as "not recorded".

Before the notebooks, ``run`` tries ``falco-lab rules fetch`` (pinned, checksummed; a short
timeout) so the notebooks detect with the upstream rulesets too; when it cannot download and no
upstream ruleset is found locally, it says once ``offline: using the project's rules only``.
Likewise for the public capture notebook 2 replays (``falco-lab capture fetch``, pinned and
checksummed; :func:`prepare_capture`): offline and absent, it says so once and notebook 2 says
how to get it.
The kernels are started quietly: their own log lines (ipykernel's "running over TCP" warning,
IPython's note on an unwritable home) are not printed; a notebook's errors are, in the summary.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from falco_lab.lab.nb import cell_errors, read_records
from falco_lab.rules.fetch import FetchError, UpstreamRulesNotFound, fetch_rules, find_upstream_rules

__all__ = [
    "NotebookRun",
    "WorkshopRun",
    "main",
    "prepare_capture",
    "prepare_upstream_rules",
    "run_workshop",
    "summary_lines",
]

#: Where the workshop notebooks live, relative to the working directory: ``make run`` runs from
#: the root of a source checkout (the notebooks are not part of the installed package).
DEFAULT_NOTEBOOKS = Path("notebooks")
#: The report the post-mortem notebook writes, relative to ``--out``.
REPORT_NAME = "report.html"
#: Seconds any one cell may run.
CELL_TIMEOUT = 600
#: Seconds each upstream ruleset download may take before ``run`` goes on without it.
FETCH_TIMEOUT = 5.0
#: What ``run`` says, once, when it can neither download nor find the upstream rulesets.
OFFLINE_MESSAGE = "offline: using the project's rules only"
#: Arguments for every kernel: its own log silenced (the "running over TCP" warning, and the
#: "KeyboardInterrupt caught" error of a kernel stopped after a failing cell).  A kernel that
#: dies still shows, as the notebook's error.
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=CRITICAL",)


@dataclass(slots=True)
class NotebookRun:
    """One executed notebook."""

    name: str
    source: Path
    output: Path
    parameters: dict[str, Any]
    seconds: float = 0.0
    error: str = ""
    records: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(slots=True)
class WorkshopRun:
    """The whole ``make run``."""

    out: Path
    notebooks: list[NotebookRun]
    seconds: float
    report: Path
    report_written: bool
    report_expected: bool = True

    @property
    def ok(self) -> bool:
        report_ok = self.report_written or not self.report_expected
        return report_ok and all(n.ok for n in self.notebooks)

    def record(self, name: str) -> Any:
        """The last value any notebook recorded under ``name`` (None if none did)."""
        value = None
        for run in self.notebooks:
            if name in run.records:
                value = run.records[name]
        return value


def _parse_value(text: str) -> Any:
    """``-p name=value``: a Python literal when it parses as one, else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_parameters(items: Sequence[str]) -> dict[str, Any]:
    """Turn ``["seed=7", "mode=simulate"]`` into ``{"seed": 7, "mode": "simulate"}``."""
    parameters: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ValueError(f"parameter {item!r} is not NAME=VALUE")
        parameters[name.strip()] = _parse_value(value)
    return parameters


def prepare_upstream_rules(
    *, timeout: float = FETCH_TIMEOUT, log: Callable[[str], object] = print
) -> str | None:
    """Try ``falco-lab rules fetch``; the directory holding the upstream rulesets, or None.

    The pinned rulesets are downloaded (checksums verified) into the cache, or kept when a
    verified copy is there already.  When a download fails, the rulesets found where
    :func:`~falco_lab.rules.fetch.find_upstream_rules` looks are used; when there are none, the
    notebooks use the project's rules only and :data:`OFFLINE_MESSAGE` is logged, once.
    """
    try:
        paths = fetch_rules(timeout=timeout)
    except FetchError as exc:
        try:
            paths = find_upstream_rules()
        except UpstreamRulesNotFound:
            log(OFFLINE_MESSAGE)
            return None
        first_line = str(exc).split(". ", 1)[0]
        log(f"could not fetch the upstream rules ({first_line}); using the copies found locally")
    folders = {str(path.parent) for path in paths.values()}
    if len(folders) != 1:  # found in several places: let the notebooks look for themselves
        return None
    (folder,) = folders
    log(f"upstream rules: {', '.join(paths)} from {folder}")
    return folder


def prepare_capture(
    *,
    timeout: float = FETCH_TIMEOUT,
    log: Callable[[str], object] = print,
    url_override: dict[str, str] | None = None,
) -> Path | None:
    """Find or try to download the public capture notebook 2 replays; its path, or None.

    Looks where :func:`~falco_lab.capture.fetch.find_capture` looks; when it is not there,
    tries ``falco-lab capture fetch`` into the cache (``url_override``: a mirror, for tests).
    When that fails, logs once that the capture is absent; the notebook runs without it.
    """
    from falco_lab.capture import CaptureError
    from falco_lab.capture.fetch import CaptureNotFound, default_cache_dir, fetch, find_capture
    from falco_lab.lab.replay import ATTACK_CAPTURE

    try:
        path = find_capture(ATTACK_CAPTURE)
    except CaptureNotFound:
        try:
            (path,) = fetch([ATTACK_CAPTURE], default_cache_dir(), timeout=timeout, url_override=url_override)
        except CaptureError:
            log(f"offline: the public capture {ATTACK_CAPTURE} is absent (notebook 2 says how to fetch it)")
            return None
    log(f"public capture: {path}")
    return path


@contextmanager
def _quiet_kernel_environment(out: Path) -> Iterator[None]:
    """IPython warns on stderr when its home folder is not writable: give it one in ``out``."""
    saved = os.environ.get("IPYTHONDIR")
    default = Path(os.path.expanduser("~")) / ".ipython"
    usable = default if default.exists() else default.parent
    if saved is None and not (usable.is_dir() and os.access(usable, os.W_OK)):
        os.environ["IPYTHONDIR"] = str(out / ".ipython")
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("IPYTHONDIR", None)


def find_notebooks(directory: Path, only: Sequence[str] = ()) -> list[Path]:
    """The notebooks to run, in name order; ``only`` filters by stem or prefix (``03``)."""
    paths = sorted(p for p in directory.glob("*.ipynb") if not p.name.startswith("."))
    if only:
        paths = [p for p in paths if any(p.stem == o or p.stem.startswith(o) for o in only)]
    return paths


def run_workshop(
    out: Path,
    *,
    notebooks_dir: Path = DEFAULT_NOTEBOOKS,
    only: Sequence[str] = (),
    parameters: dict[str, Any] | None = None,
    upstream_rules_dir: str | None = None,
    mode: str = "simulate",
    log: Callable[[str], object] = print,
) -> WorkshopRun:
    """Execute the notebooks with papermill into ``out/notebooks`` and collect their records.

    Parameters
    ----------
    out
        Build directory (``build``); notebooks go to ``out/notebooks``, the report to
        ``out/report.html``.
    notebooks_dir
        Where the ``.ipynb`` files are; each runs with this as its working directory.
    only
        Run only the notebooks whose name starts with one of these.
    parameters
        Extra parameters; each is passed to the notebooks that declare it.
    upstream_rules_dir
        Passed as ``upstream_rules_dir`` to the notebooks that declare it.
    mode
        ``"simulate"`` (default) or ``"cluster"``.
    """
    import papermill

    out = out.resolve()
    target_dir = out / "notebooks"
    target_dir.mkdir(parents=True, exist_ok=True)
    report = out / REPORT_NAME
    sources = find_notebooks(notebooks_dir, only)
    if not sources:
        raise FileNotFoundError(f"{notebooks_dir}: no notebooks to run")
    offered: dict[str, Any] = {"mode": mode, "out_dir": str(out)}
    if upstream_rules_dir is not None:
        offered["upstream_rules_dir"] = str(Path(upstream_rules_dir).resolve())
    offered.update(parameters or {})
    unknown = set(parameters or {})
    started = time.time()
    runs: list[NotebookRun] = []
    with _quiet_kernel_environment(out):
        for source in sources:
            runs.append(_run_notebook(papermill, source, target_dir, offered, unknown, log))
    if unknown:
        log("warning: no notebook declares parameter(s) " + ", ".join(sorted(unknown)))
    written = report.exists() and report.stat().st_mtime >= started - 1
    expected = not only or any("report_path" in r.records for r in runs)
    return WorkshopRun(out, runs, time.time() - started, report, written, expected)


def _run_notebook(
    papermill: Any,
    source: Path,
    target_dir: Path,
    offered: dict[str, Any],
    unknown: set[str],
    log: Callable[[str], object],
) -> NotebookRun:
    """Execute one notebook; a failure is recorded in the returned run, never raised.

    ``unknown`` loses the parameter names this notebook declares.
    """
    declared = papermill.inspect_notebook(str(source))
    unknown -= set(declared)
    given = {k: v for k, v in offered.items() if k in declared}
    run = NotebookRun(source.stem, source, target_dir / source.name, given)
    log(f"running {source.name} ...")
    tick = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(run.output),
            parameters=given,
            kernel_name="python3",
            cwd=str(source.parent),
            progress_bar=False,
            execution_timeout=CELL_TIMEOUT,
            extra_arguments=list(KERNEL_ARGUMENTS),
        )
    except papermill.PapermillExecutionError as exc:
        run.error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}".strip()
    except Exception as exc:  # noqa: BLE001 - a kernel that dies must not stop the summary
        run.error = f"{type(exc).__name__}: {exc}"
    run.seconds = time.perf_counter() - tick
    if run.output.exists():
        run.records = read_records(run.output)
        write_html_copy(run.output)
        if run.ok and cell_errors(run.output):
            first = cell_errors(run.output)[0]
            run.error = f"cell {first['cell']}: {first['ename']}: {first['evalue']}"
    elif run.ok:
        run.error = "papermill wrote no output notebook"
    log(f"  {'ok' if run.ok else 'FAILED'} in {run.seconds:.1f} s" + ("" if run.ok else f": {run.error}"))
    return run


def write_html_copy(notebook: Path) -> Path:
    """An HTML copy next to an executed notebook (what a reader without Jupyter opens).

    The figures show there through their static fallbacks (:mod:`falco_lab.lab.figures`)."""
    import nbformat
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    target = notebook.with_suffix(".html")
    target.write_text(html, encoding="utf-8")
    return target


def _fmt(value: Any, missing: str = "not recorded") -> str:
    return missing if value is None else str(value)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def summary_lines(run: WorkshopRun) -> list[str]:
    """The one-screen summary, from what the notebooks recorded."""
    mode = run.record("mode") or "simulate"
    lines = [
        "",
        f"falco-lab workshop: {len(run.notebooks)} notebooks in {run.seconds:.1f} s "
        f"({mode} mode{': simulated cluster, no real cluster touched' if mode == 'simulate' else ''})",
    ]
    for nb in run.notebooks:
        status = "ok" if nb.ok else f"FAILED ({nb.error[:90]})"
        lines.append(f"  {nb.name:<28} {nb.seconds:6.1f} s  {status}")
    lines.append("")
    rules = run.record("rules_loaded")
    rules_source = run.record("rules_source")
    lines.append(f"rules:   {_fmt(rules)} rules loaded from {_fmt(rules_source, 'an unrecorded source')}")
    tests = run.record("tests")
    if isinstance(tests, dict) and tests:
        detected = sum(1 for t in tests.values() if isinstance(t, dict) and t.get("detected"))
        parts = ", ".join(
            f"{name}: {'detected' if t.get('detected') else 'NOT detected'} ({t.get('alerts', 0)} alerts)"
            for name, t in tests.items()
            if isinstance(t, dict)
        )
        lines.append(f"tests:   {detected}/{len(tests)} detected; {parts}")
    else:
        lines.append("tests:   not recorded")
    lines.append(
        f"alerts:  {_fmt(run.record('test_alerts'))} from the three tests (03); "
        f"{_fmt(run.record('events_loaded'))} events analysed (04); "
        f"{_fmt(run.record('incident_alerts'))} in the post-mortem window (05)"
    )
    findings = run.record("findings")
    if isinstance(findings, list):
        lines.append(
            f"findings: {len(findings)} in the post-mortem" + (f"; first: {findings[0]}" if findings else "")
        )
    lines.append("")
    lines.append(f"notebooks: {_relative(run.out / 'notebooks')}/ (executed .ipynb and their .html copies)")
    if run.report_written:
        size = run.report.stat().st_size
        lines.append(f"report:    {_relative(run.report)} ({size / 1024:.0f} kB) - open it in a browser")
    elif run.report_expected:
        lines.append(f"report:    {_relative(run.report)} was NOT written by this run")
    else:
        lines.append("report:    not part of this run (--only)")
    lines.append("result:    " + ("OK" if run.ok else "FAILED"))
    return lines


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m falco_lab.lab.runner", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute every notebook and print the summary")
    run.add_argument("--out", type=Path, default=Path("build"), help="build directory (default: build)")
    run.add_argument("--notebooks", type=Path, default=DEFAULT_NOTEBOOKS, help="notebooks directory")
    run.add_argument("--only", action="append", default=[], metavar="NAME", help="run only NAME (prefix ok)")
    run.add_argument("--mode", choices=("simulate", "cluster"), default="simulate")
    run.add_argument("--upstream-rules", metavar="DIR", help="directory holding upstream Falco rulesets")
    run.add_argument(
        "--fetch-rules",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="without --upstream-rules, first try `falco-lab rules fetch`, and `falco-lab capture fetch` "
        "of the capture notebook 2 replays (default: yes)",
    )
    run.add_argument(
        "--fetch-timeout",
        type=float,
        default=FETCH_TIMEOUT,
        metavar="SECONDS",
        help=f"timeout of each ruleset download (default {FETCH_TIMEOUT:g})",
    )
    run.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra notebook parameter (passed to the notebooks that declare it)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        parameters = parse_parameters(args.parameter)
        upstream = args.upstream_rules
        if upstream is None and args.fetch_rules:
            upstream = prepare_upstream_rules(timeout=args.fetch_timeout)
        if args.fetch_rules:
            prepare_capture(timeout=args.fetch_timeout)
        result = run_workshop(
            args.out,
            notebooks_dir=args.notebooks,
            only=args.only,
            parameters=parameters,
            upstream_rules_dir=upstream,
            mode=args.mode,
        )
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary_lines(result)))
    return 0 if result.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
