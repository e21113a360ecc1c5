"""Small helpers the workshop notebooks use: recorded values, plotly set-up, the mode banner.

``record(name, value)`` stores a JSON-able value in the executed notebook, out of the
reader's sight: an empty display output whose *metadata* carries the value
(``{"falco_lab": {"name": name, "value": value}}``), the way scrapbook's ``glue`` did
(scrapbook is unmaintained) but with nothing drawn on the page.  ``read_records(path)``
reads them back from an executed notebook: the tests, the ``make run`` summary and the
benchmark use it.

``setup(mode)`` makes plotly output deterministic for nbval (the ``plotly_mimetype``
renderer stores figures as JSON, with no random ``<div id>``) and shows the mode banner.

:func:`rules_choice` turns the notebooks' rules parameters into the files to load (and says
which, plainly); :func:`compare_rulesets` is the what-if of a rules change on recorded events.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from falco_lab.errors import FalcoLabError
from falco_lab.workshop.interface import MODES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from falco_lab.rules import RuleSet
    from falco_lab.simulate.detect import RulesChoice

__all__ = [
    "MODES",
    "RECORD_KEY",
    "NotebookRecordError",
    "YamlBlock",
    "banner",
    "cell_errors",
    "compare_rulesets",
    "figure_summary",
    "is_missing",
    "read_records",
    "record",
    "rules_choice",
    "setup",
    "table",
    "yaml_blocks",
    "yaml_item",
]

#: Output-metadata key under which a recorded value carries its name.
RECORD_KEY = "falco_lab"

#: The plotly renderer used in notebooks: the live figure plus a static fallback
#: (:mod:`falco_lab.lab.figures`).
PLOTLY_RENDERER = "falco_lab"


# tqdm.auto (used for progress bars on long event pulls) warns in every notebook when
# ipywidgets is not installed, then falls back to a text bar; the warning is not actionable
# for a workshop attendee.  Notebooks import this module first.
warnings.filterwarnings("ignore", message="IProgress not found", category=Warning)


class NotebookRecordError(FalcoLabError, ValueError):
    """A value cannot be recorded, or a notebook's records cannot be read."""


def _check_json(name: str, value: Any) -> Any:
    """Return ``value`` as plain JSON data (round-tripped), or raise with a clear reason."""
    if not isinstance(name, str) or not name:
        raise NotebookRecordError(f"record name must be a non-empty string, got {name!r}")
    try:
        text = json.dumps(value, allow_nan=False, sort_keys=False)
    except (TypeError, ValueError) as exc:
        raise NotebookRecordError(
            f"record {name!r}: value of type {type(value).__name__} is not JSON-able ({exc}); "
            "convert it first (int(), float(), str(), list(), dict())"
        ) from None
    return json.loads(text)


def record(name: str, value: Any) -> None:
    """Store ``value`` under ``name`` in the running notebook's outputs.

    Parameters
    ----------
    name : str
        Name the value is read back by (``read_records(path)[name]``).
    value : JSON-able
        ``None``, bool, int, finite float, str, or lists / dicts (str keys) of those.

    Raises
    ------
    NotebookRecordError
        If ``value`` is not JSON-able (NaN and infinities included).
    """
    from IPython.display import display

    data = _check_json(name, value)
    # nothing to see: empty HTML and text; the value travels in the output's metadata
    display(
        {"text/html": "", "text/plain": ""}, raw=True, metadata={RECORD_KEY: {"name": name, "value": data}}
    )


def _load_notebook(notebook: str | os.PathLike[str] | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(notebook, Mapping):
        return notebook
    path = Path(notebook)
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise NotebookRecordError(f"{path}: no such notebook") from None
    except json.JSONDecodeError as exc:
        raise NotebookRecordError(f"{path}:{exc.lineno}:{exc.colno}: not a notebook ({exc.msg})") from None


def _outputs(nb: Mapping[str, Any]):
    for index, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []) or []:
            yield index, output


def read_records(notebook: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """All values recorded with :func:`record` in an executed notebook, by name.

    Parameters
    ----------
    notebook : path or notebook mapping
        An executed ``.ipynb`` file (or its parsed JSON).

    Returns
    -------
    dict
        name -> value, in the order recorded; a name recorded twice keeps the last value.
    """
    nb = _load_notebook(notebook)
    records: dict[str, Any] = {}
    for _index, output in _outputs(nb):
        meta = output.get("metadata") or {}
        tag = meta.get(RECORD_KEY)
        if not isinstance(tag, Mapping) or "name" not in tag or "value" not in tag:
            continue
        records[str(tag["name"])] = tag["value"]
    return records


def cell_errors(notebook: str | os.PathLike[str] | Mapping[str, Any]) -> list[dict[str, Any]]:
    """The error outputs of a notebook: ``[{"cell": index, "ename": ..., "evalue": ...}]``."""
    nb = _load_notebook(notebook)
    return [
        {"cell": index, "ename": output.get("ename", ""), "evalue": output.get("evalue", "")}
        for index, output in _outputs(nb)
        if output.get("output_type") == "error"
    ]


def setup(mode: str) -> None:
    """Prepare a workshop notebook: deterministic plotly output, pandas display, the mode banner.

    Parameters
    ----------
    mode : {"simulate", "cluster"}
        The notebook's ``mode`` parameter.

    Raises
    ------
    ValueError
        For any other mode, naming the accepted ones.
    """
    import pandas as pd

    from falco_lab.lab import figures

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    figures.register()
    _short_project_errors()
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_columns", 12)
    pd.set_option("display.width", 200)
    banner(mode)


def _short_project_errors() -> None:
    """In a notebook, the project's own errors (a missing kubeconfig, a bad parameter ...)
    show as one clear line instead of a traceback; the cell still fails, so papermill and
    ``make run`` report it.  Other exceptions keep their traceback (they are bugs)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> list[str]:
        # an error output like any other (papermill and make run see the ename), minus the traceback
        stb = [f"\x1b[31m{etype.__name__}\x1b[0m: {value}"]
        shell._showtraceback(etype, value, stb)
        return stb

    shell.set_custom_exc((FalcoLabError,), handler)


def is_missing(value: Any) -> bool:
    """True for a missing field value (None, NaN, pandas' NA/NaT); lists and arrays are values."""
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


#: Rows :func:`table` shows before "N more rows".
TABLE_ROWS = 20


class Table:
    """A frame shown whole-text: chosen columns, cells wrapped (never cut), rows capped."""

    def __init__(self, frame: pd.DataFrame, columns: list[str] | None, max_rows: int) -> None:
        chosen = [c for c in (columns or list(frame.columns)) if c in frame.columns]
        self.frame = frame.loc[:, chosen]
        self.max_rows = max_rows

    @property
    def hidden(self) -> int:
        return max(len(self.frame) - self.max_rows, 0)

    def _repr_html_(self) -> str:
        shown = self.frame.head(self.max_rows)
        head = "".join(f'<th style="white-space:nowrap">{_escape(str(c))}</th>' for c in shown.columns)
        body = "".join(
            "<tr>"
            + "".join(
                f'<td style="text-align:left;white-space:pre-wrap;word-break:break-word;min-width:7em">{_escape(_cell(v))}</td>'
                for v in row
            )
            + "</tr>"
            for row in shown.itertuples(index=False)
        )
        more = f"<p>… {self.hidden:,} more row(s) not shown.</p>" if self.hidden else ""
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"

    def __repr__(self) -> str:
        text = self.frame.head(self.max_rows).to_string(index=False, max_colwidth=None)
        return text + (f"\n… {self.hidden:,} more row(s) not shown." if self.hidden else "")


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def table(frame: pd.DataFrame, columns: list[str] | None = None, *, max_rows: int = TABLE_ROWS) -> Table:
    """Show ``frame`` for reading: only ``columns`` (in that order; missing ones are skipped),
    every cell's full text wrapped in place, at most ``max_rows`` rows then "N more rows".
    Values are escaped (alerts carry attacker-controlled text)."""
    return Table(frame, columns, max_rows)


def _banner_text(mode: str) -> tuple[str, str]:
    if mode == "simulate":
        title = "SIMULATE MODE"
        body = (
            "No cluster is touched. A simulated EKS cluster (falco_lab.simulate) produces "
            "syscall-level events and the project's rules engine turns them into alerts in "
            'Falco\'s JSON format. Set mode = "cluster" in the parameters cell to use a real cluster.'
        )
    else:
        title = "CLUSTER MODE"
        body = (
            "This notebook talks to the Kubernetes cluster of your current kubeconfig context "
            "(shown below, never the credentials)."
        )
    return title, body


def banner(mode: str) -> None:
    """Display a one-line banner saying which mode the notebook runs in."""
    from IPython.display import display

    title, body = _banner_text(mode)
    colour = "#8a5a00" if mode == "simulate" else "#1f5f99"
    html = (
        f'<div style="border-left:6px solid {colour};padding:6px 10px;background:#fafafa">'
        f"<b>{title}</b> &mdash; {_escape(body)}</div>"
    )
    display({"text/html": html, "text/plain": f"[{title}] {body}"}, raw=True)


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number):
        return None
    return int(number) if number.is_integer() else round(number, 6)


def figure_summary(fig: Any) -> dict[str, Any]:
    """A small, plotly-version-independent summary of a figure, for checks and records.

    Returns ``{"title": str, "traces": [{"name", "type", "points", "total"}]}`` where
    ``points`` is the number of data points and ``total`` the sum of the numeric values
    (``y`` for bars drawn vertically, ``x`` for horizontal ones, ``values`` for pies,
    ``z`` for heatmaps; ``None`` when there is nothing numeric).
    """
    layout_title = fig.layout.title.text if fig.layout.title is not None else None
    traces = []
    for trace in fig.data:
        kind = trace.type
        if kind == "pie":
            values = trace.values
        elif kind == "heatmap":
            values = [v for row in (trace.z or []) for v in (row or [])]
        elif getattr(trace, "orientation", None) == "h":
            values = trace.x
        else:
            values = getattr(trace, "y", None)
            if values is None:
                values = getattr(trace, "x", None)
        values = list(values) if values is not None else []
        numbers = [n for n in (_number(v) for v in values) if n is not None]
        total = sum(numbers) if numbers else None
        if isinstance(total, float):
            total = round(total, 6)
        traces.append({"name": trace.name, "type": kind, "points": len(values), "total": total})
    return {"title": layout_title, "traces": traces}


@dataclass(frozen=True, slots=True)
class YamlBlock:
    """One top-level key of a YAML file, as written: its comment lines and its text."""

    key: str
    line: int
    comment: str
    text: str

    def preview(self, max_lines: int = 30) -> str:
        """The block's text, cut after ``max_lines`` lines with a note saying how many are left."""
        lines = self.text.splitlines()
        if len(lines) <= max_lines:
            return self.text
        rest = len(lines) - max_lines
        return "\n".join([*lines[:max_lines], f"    ... ({rest} more lines of {self.key})"])


_TOP_LEVEL_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*)\s*:")


def yaml_blocks(text: str) -> list[YamlBlock]:
    """Split YAML text at its top-level keys, keeping the comments written just above each.

    Used to show ``values.yaml`` block by block from the file itself.  ``line`` is the
    1-based line of the key; ``comment`` the comment lines directly above it (without
    ``#``); ``text`` the comment and the block, trailing blank lines removed.
    """
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _TOP_LEVEL_KEY.match(line)]
    blocks = []
    for number, start in enumerate(starts):
        first = start
        while first > 0 and lines[first - 1].startswith("#"):
            first -= 1
        if number > 0:
            first = max(first, starts[number - 1] + 1)
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        while end > start + 1 and lines[end - 1].startswith("#") and number + 1 < len(starts):
            end -= 1
        body = lines[first:end]
        while body and not body[-1].strip():
            body.pop()
        comment = "\n".join(line.lstrip("#").strip() for line in lines[first:start])
        key_match = _TOP_LEVEL_KEY.match(lines[start])
        assert key_match is not None  # start lines are the ones this pattern matched above
        key = key_match.group("key")
        blocks.append(YamlBlock(key=key, line=start + 1, comment=comment, text="\n".join(body)))
    return blocks


def yaml_item(text: str, kind: str, name: str) -> str:
    """The text of one ``- <kind>: <name>`` item of a rules file, as written.

    The item runs to the next top-level ``- `` item; comment lines that introduce the next
    item are left out.

    Raises
    ------
    KeyError
        When there is no such item.
    """
    lines = text.splitlines()
    header = re.compile(rf"^- {re.escape(kind)}:\s*(?P<q>[\"']?){re.escape(name)}(?P=q)\s*$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        raise KeyError(f"no '- {kind}: {name}' item in the text")
    end = start + 1
    while end < len(lines) and not lines[end].startswith("- "):
        end += 1
    body = lines[start:end]
    while body and (not body[-1].strip() or body[-1].startswith("#")):
        body.pop()
    return "\n".join(body)


def rules_choice(upstream_rules_dir: str = "", use_upstream_rules: bool = True) -> RulesChoice:
    """The rules files a notebook loads in simulate mode, with a plain description.

    Parameters
    ----------
    upstream_rules_dir
        A directory holding upstream rulesets (looked in first); ``""`` looks in the usual
        places only (``$FALCO_LAB_RULES_DIR``, the ``falco-lab rules fetch`` cache, ...).
    use_upstream_rules
        False loads the project's own rules alone, even when upstream rulesets are around.

    Returns
    -------
    falco_lab.simulate.detect.RulesChoice
        ``paths`` in load order and ``description`` (say it in the notebook).
    """
    from falco_lab.simulate.detect import PROJECT_RULES, RulesChoice, choose_rules

    if not use_upstream_rules:
        return RulesChoice(
            [PROJECT_RULES],
            "the project's own rules alone (falco-lab_rules.yaml; upstream rulesets switched off "
            "with use_upstream_rules = False)",
            ["stable", "incubating", "sandbox"],
        )
    return choose_rules(None, upstream_dir=upstream_rules_dir or None)


#: Columns of :func:`compare_rulesets`.
COMPARE_COLUMNS: tuple[str, ...] = ("rule", "before", "after", "added", "removed")


def compare_rulesets(before: RuleSet, after: RuleSet, events: Any) -> pd.DataFrame:
    """What a rules change does to the alerts of a recorded event set: per rule, before and after.

    Both rulesets evaluate ``events`` (syscall-level events, one column per field); an
    alert is identified by its rule and its event's time, so ``added`` counts alerts only
    the new rules raise and ``removed`` those only the old rules raised.

    Parameters
    ----------
    before, after : falco_lab.rules.RuleSet
        The rules as they are, and with the change.
    events : pandas.DataFrame or iterable of mappings
        The recorded events.

    Returns
    -------
    pandas.DataFrame
        Columns ``rule``, ``before``, ``after``, ``added``, ``removed``; most changed first.
    """
    from collections import Counter, defaultdict

    import pandas as pd

    def by_rule(ruleset) -> dict[str, Counter]:
        alerts = ruleset.evaluate(events)
        out: dict[str, Counter] = defaultdict(Counter)
        for rule, when in zip(alerts["rule"].astype(str), alerts["time"], strict=True):
            out[rule][when] += 1
        return out

    old, new = by_rule(before), by_rule(after)
    rows = []
    for rule in sorted(set(old) | set(new)):
        was, now = old.get(rule, Counter()), new.get(rule, Counter())
        rows.append(
            {
                "rule": rule,
                "before": sum(was.values()),
                "after": sum(now.values()),
                "added": sum((now - was).values()),
                "removed": sum((was - now).values()),
            }
        )
    table = pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))
    order = (table["added"] + table["removed"]).sort_values(ascending=False, kind="stable").index
    return table.loc[order].reset_index(drop=True)
