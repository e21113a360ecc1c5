"""A live rule playground: edit a rule, see its errors, its alerts, why it fires, what it changes.

The playground loads the rules a notebook already uses (``base_paths``) followed by the
attendee's text, as Falco would load one more file, and shows four things:

* **validation**: every error and warning of the edited file at its line and column, with
  the line itself and a caret under the column (Falco's own codes and messages);
* **alerts**: the alerts the edited file's rules raise on a recorded event set;
* **explain**: the explain tree of one rule for one event (why it fires, or not);
* **what-if**: per rule, the alerts before and after the change on the same event set.

The logic is :func:`run` (pure: text in, :class:`PlaygroundResult` out) and
:meth:`PlaygroundResult.to_html` (a static render, every value escaped).  The interactive
part, :func:`playground`, wraps them in ipywidgets when a live front end is there; its
output also carries the static render, so an executed notebook opened where widgets do not
run (papermill, nbconvert HTML, GitHub) still shows what the playground showed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from falco_lab.lab.nb import compare_rulesets, is_missing, table
from falco_lab.rules import LoadIssue, RuleSet, RulesFile, load_rules

__all__ = [
    "DEFAULT_MAX_ALERTS",
    "DEFAULT_MAX_EVENTS",
    "Playground",
    "PlaygroundResult",
    "playground",
    "run",
]

#: Alerts shown in the alerts table before an explicit "N more".
DEFAULT_MAX_ALERTS = 20
#: Events offered for the explain view (matching ones first, then non-matching of the same type).
DEFAULT_MAX_EVENTS = 10

_ALERT_COLUMNS = ("time", "rule", "priority", "output")


@dataclass(frozen=True, slots=True)
class EventChoice:
    """An event the explain view can use: its row in the recorded set and whether the rule fires."""

    row: int
    fires: bool
    label: str


@dataclass(slots=True)
class PlaygroundResult:
    """What the playground shows for one version of the edited text.

    Attributes
    ----------
    name
        The edited file's name (as positions name it).
    text
        The edited text.
    issues
        Errors and warnings of the edited file, in load order.
    other_errors
        Errors of the other files (there should be none; they are counted, not hidden).
    rules
        Rules the edited text defines or changes (their names, in evaluation order).
    alerts
        Alerts of those rules on the recorded events (``time``, ``rule``, ``priority``,
        ``output``), capped at ``max_alerts`` rows; ``alerts_total`` is the full count.
    effect
        Per rule, alerts before and after the change (:func:`compare_rulesets` columns), only
        rules whose alerts change; ``None`` when the edited text does not load.
    explain_rule, explain_event, explanation
        The rule and event explained (an :class:`EventChoice`), and the explain tree.
    events
        Events offered for the explain view.
    """

    name: str
    text: str
    issues: list[LoadIssue]
    other_errors: int = 0
    rules: list[str] = field(default_factory=list)
    alerts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(_ALERT_COLUMNS)))
    alerts_total: int = 0
    effect: pd.DataFrame | None = None
    explain_rule: str | None = None
    explain_event: EventChoice | None = None
    explanation: Any = None
    events: list[EventChoice] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the edited text loads without error (warnings allowed)."""
        return self.other_errors == 0 and not any(i.code.startswith("LOAD_ERR") for i in self.issues)

    @property
    def errors(self) -> list[LoadIssue]:
        return [i for i in self.issues if i.code.startswith("LOAD_ERR")]

    @property
    def warnings(self) -> list[LoadIssue]:
        return [i for i in self.issues if not i.code.startswith("LOAD_ERR")]

    def issue_lines(self) -> list[str]:
        """Each issue as ``file:line:col: CODE message``, the offending line and a caret."""
        lines = self.text.splitlines()
        out: list[str] = []
        for issue in self.issues:
            out.append(f"{issue.position}: {issue.code} {issue.message}")
            if 1 <= issue.position.line <= len(lines):
                source = lines[issue.position.line - 1]
                out.append(f"    {source}")
                out.append("    " + " " * max(issue.position.column - 1, 0) + "^")
        return out

    def to_html(self) -> str:
        """A static render of the result: every text from the rules or the events is escaped."""
        parts = ['<div class="falco-lab-playground">']
        status = "loads" if self.ok else f"does not load: {len(self.errors)} error(s)"
        parts.append(
            f"<p><b>{escape(self.name)}</b> {escape(status)}, {len(self.warnings)} warning(s); "
            f"rules defined or changed: {escape(', '.join(self.rules) or '(none)')}</p>"
        )
        if self.issues:
            parts.append("<pre>" + escape("\n".join(self.issue_lines())) + "</pre>")
        if self.other_errors:
            parts.append(f"<p>{self.other_errors} error(s) in the other rules files.</p>")
        if self.ok:
            parts.append(f"<h4>Alerts on the recorded events: {self.alerts_total:,}</h4>")
            if len(self.alerts):
                parts.append(_table_html(self.alerts))
                hidden = self.alerts_total - len(self.alerts)
                if hidden > 0:
                    parts.append(f"<p>… {hidden:,} more alert(s) not shown.</p>")
            if self.explanation is not None and self.explain_event is not None:
                verdict = "fires" if self.explain_event.fires else "does not fire"
                parts.append(
                    f"<h4>Why {escape(str(self.explain_rule))} {verdict} on event "
                    f"{escape(self.explain_event.label)}</h4>"
                )
                parts.append("<pre>" + escape("\n".join(self.explanation.lines())) + "</pre>")
            if self.effect is not None:
                parts.append("<h4>What the change does (before → after)</h4>")
                parts.append(
                    _table_html(self.effect) if len(self.effect) else "<p>No rule's alerts change.</p>"
                )
        parts.append("</div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def _table_html(frame: pd.DataFrame) -> str:
    """The whole frame (the playground caps its rows itself) as the notebooks' tables show one."""
    return table(frame, max_rows=len(frame))._repr_html_()


def _changed_rules(base: RuleSet, changed: RuleSet) -> list[str]:
    out = []
    for rule in changed:
        if rule.name not in base:
            out.append(rule.name)
            continue
        old = base.rule(rule.name)
        if (old.expanded_condition, old.output, old.enabled, old.priority, old.tags) != (
            rule.expanded_condition,
            rule.output,
            rule.enabled,
            rule.priority,
            rule.tags,
        ):
            out.append(rule.name)
    return out


def _event_label(events: pd.DataFrame, row: int) -> str:
    record = events.iloc[row]
    bits = [f"#{row}"]
    for key in ("evt.type", "proc.name", "proc.cmdline", "k8s.pod.name"):
        if key in events.columns and not is_missing(record[key]):
            bits.append(f"{key}={record[key]}")
    return " ".join(bits)


def _event_dict(events: pd.DataFrame, row: int) -> dict[str, Any]:
    """One recorded event as the per-event evaluators take it: missing fields are absent."""
    return {str(k): v for k, v in events.iloc[row].items() if not is_missing(v)}


def _choices(rule_set: RuleSet, rule: str, events: pd.DataFrame, limit: int) -> list[EventChoice]:
    compiled = rule_set.rule(rule)
    if compiled.compiled is None or events.empty:
        return []
    mask = compiled.compiled.mask(events).to_numpy(dtype=bool, na_value=False)
    fires = [int(i) for i in mask.nonzero()[0][:limit]]
    same_type = ~mask
    if compiled.evttypes is not None and "evt.type" in events.columns:
        same_type &= events["evt.type"].isin(sorted(compiled.evttypes)).to_numpy(dtype=bool, na_value=False)
    quiet = [int(i) for i in same_type.nonzero()[0][: max(limit - len(fires), 1)]]
    return [EventChoice(r, True, _event_label(events, r)) for r in fires] + [
        EventChoice(r, False, _event_label(events, r)) for r in quiet
    ]


def run(
    text: str,
    base_paths: Sequence[str | Path | RulesFile],
    events: pd.DataFrame,
    *,
    name: str = "my_rules.yaml",
    explain_rule: str | None = None,
    explain_row: int | None = None,
    max_alerts: int = DEFAULT_MAX_ALERTS,
    max_events: int = DEFAULT_MAX_EVENTS,
    base: RuleSet | None = None,
) -> PlaygroundResult:
    """Load ``base_paths`` then ``text`` and compute what the playground shows.

    Parameters
    ----------
    text
        The edited rules file (YAML).
    base_paths
        The rules files loaded before it, in order (the notebook's choice).
    events
        The recorded syscall events (one column per field), e.g. a simulated hour.
    name
        The edited file's name in positions.
    explain_rule, explain_row
        The rule and the event (row of ``events``) to explain; by default the first rule the
        text defines or changes, and its first matching event (else its first event of the
        same type, to show why it does not fire).
    max_alerts, max_events
        Caps of the alerts table and of the events offered for the explain view.
    base
        ``load_rules(*base_paths)`` if the caller has it already (saves a load per keystroke).

    Returns
    -------
    PlaygroundResult
        Never raises for problems in ``text``: they are its ``issues``.
    """
    if base is None:
        base = load_rules(*base_paths)
    changed = load_rules(*base_paths, RulesFile(name, text))
    issues = [i for i in (*changed.errors, *changed.warnings) if i.position.name == name]
    issues.sort(key=lambda i: (i.position.line, i.position.column))
    other_errors = sum(1 for i in changed.errors if i.position.name != name)
    result = PlaygroundResult(name=name, text=text, issues=issues, other_errors=other_errors)
    if not result.ok:
        return result
    result.rules = _changed_rules(base, changed)
    if result.rules and not events.empty:
        alerts = changed.evaluate(events)
        mine = alerts[alerts["rule"].astype(str).isin(result.rules)]
        result.alerts_total = len(mine)
        result.alerts = mine.loc[:, list(_ALERT_COLUMNS)].head(max_alerts).reset_index(drop=True)
    result.effect = _effect(base, changed, events)
    rule = explain_rule if explain_rule in changed else (result.rules[0] if result.rules else None)
    if rule is not None and not events.empty:
        result.explain_rule = rule
        result.events = _choices(changed, rule, events, max_events)
        chosen = next((c for c in result.events if c.row == explain_row), None)
        if chosen is None and explain_row is not None and 0 <= explain_row < len(events):
            condition = changed.rule(rule).compiled
            one = events.iloc[[explain_row]]
            fires = condition is not None and bool(condition.mask(one).fillna(False).iloc[0])
            chosen = EventChoice(explain_row, fires, _event_label(events, explain_row))
        if chosen is None and result.events:
            chosen = result.events[0]
        if chosen is not None:
            result.explain_event = chosen
            result.explanation = changed.explain(rule, _event_dict(events, chosen.row))
    return result


def _effect(base: RuleSet, changed: RuleSet, events: pd.DataFrame) -> pd.DataFrame:
    effect = compare_rulesets(base, changed, events)
    return effect[(effect["added"] > 0) | (effect["removed"] > 0)].reset_index(drop=True)


class Playground:
    """The interactive playground: a text area, an explain chooser and the live result.

    Displayed in JupyterLab it is an ipywidgets box; its output bundle also carries the
    static HTML of the current result, which front ends without widgets show instead.
    """

    def __init__(
        self,
        text: str,
        base_paths: Sequence[str | Path | RulesFile],
        events: pd.DataFrame,
        *,
        name: str = "my_rules.yaml",
        runner: Callable[..., PlaygroundResult] = run,
    ) -> None:
        self.base_paths = list(base_paths)
        self.events = events
        self.name = name
        self._run = runner
        self._base = load_rules(*self.base_paths)
        self.result = self._run(text, self.base_paths, events, name=name, base=self._base)
        self._widget: Any = None

    def update(self, text: str, *, explain_rule: str | None = None, explain_row: int | None = None) -> None:
        """Recompute for a new text (and optionally another rule/event to explain)."""
        self.result = self._run(
            text,
            self.base_paths,
            self.events,
            name=self.name,
            explain_rule=explain_rule,
            explain_row=explain_row,
            base=self._base,
        )

    def widget(self) -> Any:
        """The ipywidgets box (built on first use)."""
        if self._widget is None:
            self._widget = _build_widget(self)
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/html": self.result.to_html(), "text/plain": _plain(self.result)}
        widget = self.widget()
        if widget is not None:
            view = widget._repr_mimebundle_(include=include, exclude=exclude) or {}
            bundle.update({k: v for k, v in view.items() if k != "text/plain"})
        return bundle


def _plain(result: PlaygroundResult) -> str:
    head = f"{result.name}: {'loads' if result.ok else 'does not load'}"
    return "\n".join([head, *result.issue_lines(), f"alerts: {result.alerts_total}"])


def _build_widget(pg: Playground) -> Any:
    try:
        import ipywidgets as widgets
    except ImportError:  # the static render is all there is
        return None
    area = widgets.Textarea(
        value=pg.result.text,
        layout=widgets.Layout(width="100%", height="14em"),
        continuous_update=True,
    )
    rule_choice = widgets.Dropdown(description="rule", options=pg.result.rules, value=pg.result.explain_rule)
    event_choice = widgets.Dropdown(description="event", options=_event_options(pg.result))
    view = widgets.HTML(value=pg.result.to_html())
    busy = {"on": False}

    def refresh(_: Any = None) -> None:
        if busy["on"]:
            return
        busy["on"] = True
        try:
            rule = rule_choice.value if rule_choice.value in pg.result.rules else None
            pg.update(area.value, explain_rule=rule, explain_row=event_choice.value)
            rule_choice.options = pg.result.rules
            rule_choice.value = pg.result.explain_rule
            event_choice.options = _event_options(pg.result)
            event_choice.value = pg.result.explain_event.row if pg.result.explain_event else None
            view.value = pg.result.to_html()
        finally:
            busy["on"] = False

    area.observe(refresh, names="value")
    rule_choice.observe(refresh, names="value")
    event_choice.observe(refresh, names="value")
    return widgets.VBox([area, widgets.HBox([rule_choice, event_choice]), view])


def _event_options(result: PlaygroundResult) -> list[tuple[str, int]]:
    return [(("fires: " if c.fires else "quiet: ") + c.label[:80], c.row) for c in result.events]


def playground(
    text: str,
    base_paths: Sequence[str | Path | RulesFile],
    events: pd.DataFrame | Mapping[str, Any],
    *,
    name: str = "my_rules.yaml",
) -> Playground:
    """A live rule playground over ``events`` with the rules of ``base_paths`` loaded first.

    Display the returned object (last expression of a cell).  In JupyterLab it is live: edit
    the text and the errors, alerts, explain tree and what-if follow.  Elsewhere (papermill,
    nbconvert HTML) its output is the static render of ``text``.
    """
    frame = events if isinstance(events, pd.DataFrame) else pd.DataFrame(events)
    return Playground(text, base_paths, frame, name=name)
