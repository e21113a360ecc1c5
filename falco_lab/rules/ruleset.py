"""A loaded collection of rules: which rules fire for an event, alerts, explanations.

A :class:`RuleSet` is what :func:`~falco_lab.rules.loading.loader.load_rules` returns.  Rules are kept in
Falco's evaluation order (the order of their first definition).  Events are mappings field → value
(``proc.aname[2]``, ``evt.arg.flags`` and ``k8s.pod.label[app]`` keys included); an absent key or
``None`` is a missing value.  Frames (one column per field) are evaluated vectorised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack, cast

import numpy as np
import pandas as pd

from falco_lab.errors import FalcoLabError
from falco_lab.events.load_diagnostics import ATTRS_KEY, LoadError, LoadReport
from falco_lab.events.validate import alerts_to_frame
from falco_lab.priorities import PRIORITIES, PRIORITY_DTYPE, normalize_priority
from falco_lab.rules.compiler.condition import Condition
from falco_lab.rules.evaluators.explain import Explanation
from falco_lab.rules.evaluators.frame import FrameCache
from falco_lab.rules.loading.model import CompiledRule, PluginRequirement
from falco_lab.rules.loading.result import LoadIssue, LoadResults
from falco_lab.rules.output.format import OutputFormat, compile_output, falco_alert

__all__ = ["RuleSet"]

_RANK = {p: i for i, p in enumerate(PRIORITIES)}
_ENGINE = "<rules engine>"
_MATCHING = ("all", "first")


def _threshold(min_priority: str | None) -> int:
    if min_priority is None:
        return len(PRIORITIES) - 1
    name = normalize_priority(min_priority)
    if name is None:
        raise ValueError(f"unknown priority {min_priority!r}; expected one of {', '.join(PRIORITIES)}")
    return _RANK[name]


def _clean(value: Any) -> Any:
    """A frame cell as an event value: NaN/NaT/NA become None (missing)."""
    if value is None or isinstance(value, (list, tuple, dict, bytes, str)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return value.item() if hasattr(value, "item") and not isinstance(value, pd.Timestamp) else value


def _condition(rule: CompiledRule) -> Condition:
    if rule.compiled is None:  # pragma: no cover - a loaded rule always carries its condition
        raise FalcoLabError(f"rule {rule.name!r} has no compiled condition")
    return rule.compiled


class AlertOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`RuleSet.alerts`, which :meth:`RuleSet.evaluate` takes too."""

    min_priority: str | None
    rule_matching: str
    source: str
    hostname: str | None
    suggested_fields: bool


@dataclass
class RuleSet:
    """Rules loaded from one or more files.

    Attributes
    ----------
    rules
        Compiled rules in evaluation order (enabled and disabled), as :class:`CompiledRule`.
    result
        Falco's load results (one per file): errors and warnings with codes, messages and positions.
    lists, macros
        Lists (raw items) and macros (condition text) of the collection, by name.
    """

    rules: list[CompiledRule] = field(repr=False)
    result: LoadResults = field(repr=False)
    lists: dict[str, list[str]] = field(repr=False)
    macros: dict[str, str] = field(repr=False)
    required_engine_version: tuple[int, int, int] | None = None
    plugin_requirements: tuple[PluginRequirement, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        self.rules = sorted(self.rules, key=lambda r: r.index)
        self._by_name = {r.name: r for r in self.rules}

    def __repr__(self) -> str:
        status = "ok" if self.ok else f"{len(self.result.errors)} error(s)"
        return (
            f"<RuleSet {len(self.rules)} rules ({len(self.enabled_rules)} enabled), {len(self.macros)} macros, "
            f"{len(self.lists)} lists from {len(self.result)} file(s): {status}, {len(self.result.warnings)} warning(s)>"
        )

    # ------------------------------------------------------------------ inspection
    @property
    def ok(self) -> bool:
        """True when every file loaded without error."""
        return self.result.ok

    @property
    def errors(self) -> list[LoadIssue]:
        return self.result.errors

    @property
    def warnings(self) -> list[LoadIssue]:
        return self.result.warnings

    @property
    def names(self) -> list[str]:
        """Rule names in evaluation order."""
        return [r.name for r in self.rules]

    @property
    def enabled_rules(self) -> list[CompiledRule]:
        return [r for r in self.rules if r.enabled]

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[CompiledRule]:
        return iter(self.rules)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def rule(self, name: str) -> CompiledRule:
        """The rule called ``name``.

        Raises
        ------
        KeyError
            With the list of known rule names when there is none by that name.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(
                f"no rule named {name!r}; loaded rules: {', '.join(self.names) or '(none)'}"
            ) from None

    def rules_frame(self) -> pd.DataFrame:
        """One row per rule, in evaluation order: name, priority, source, enabled, tags, event types."""
        return pd.DataFrame(
            {
                "rule": pd.array([r.name for r in self.rules], dtype="string"),
                "priority": pd.Categorical([r.priority for r in self.rules], dtype=PRIORITY_DTYPE),
                "source": pd.array([r.source for r in self.rules], dtype="string"),
                "enabled": [r.enabled for r in self.rules],
                "tags": [list(r.tags) for r in self.rules],
                "evttypes": [sorted(r.evttypes) if r.evttypes is not None else None for r in self.rules],
                "desc": pd.array([r.desc.strip() for r in self.rules], dtype="string"),
            }
        )

    def describe(self, name: str) -> dict[str, Any]:
        """What ``falco --describe-rule`` tells: expanded condition, output fields, event types..."""
        r = self.rule(name)
        return {
            "name": r.name,
            "desc": r.desc,
            "condition": r.condition,
            "condition_compiled": r.expanded_condition,
            "output": r.output,
            "output_fields": list(r.output_fields),
            "priority": r.priority,
            "source": r.source,
            "tags": list(r.tags),
            "enabled": r.enabled,
            "evttypes": sorted(r.evttypes) if r.evttypes is not None else None,
            "exceptions": list(r.exceptions),
            "condition_fields": list(r.compiled.fields) if r.compiled is not None else [],
        }

    def explain(self, name: str, event: Mapping[str, Any]) -> Explanation:
        """Why rule ``name`` did or did not fire for ``event`` (see :meth:`Condition.explain`)."""
        r = self.rule(name)
        if r.compiled is None:  # pragma: no cover - compiled rules always carry a condition
            raise FalcoLabError(f"rule {name!r} has no compiled condition")
        return r.compiled.explain(event)

    # ------------------------------------------------------------------ selection
    def _selected(
        self, min_priority: str | None, source: str | None, rules: Iterable[str] | None = None
    ) -> list[CompiledRule]:
        limit = _threshold(min_priority)
        wanted = set(rules) if rules is not None else None
        return [
            r
            for r in self.rules
            if r.enabled
            and _RANK[r.priority] <= limit
            and (source is None or r.source == source)
            and (wanted is None or r.name in wanted)
        ]

    @staticmethod
    def _check_matching(rule_matching: str) -> None:
        if rule_matching not in _MATCHING:
            raise ValueError(f"rule_matching must be 'all' or 'first', not {rule_matching!r}")

    def _fires(self, rule: CompiledRule, event: Mapping[str, Any]) -> bool:
        evttypes = rule.evttypes
        if evttypes is not None:
            etype = event.get("evt.type")
            if etype is not None and etype not in evttypes:
                return False
        return _condition(rule).matches(event)

    def matches(
        self,
        event: Mapping[str, Any],
        *,
        min_priority: str | None = None,
        rule_matching: str = "all",
        source: str = "syscall",
    ) -> list[str]:
        """Names of the enabled rules that fire for one event, in load order.

        ``rule_matching="first"`` (Falco's default setting) stops at the first match.
        """
        self._check_matching(rule_matching)
        out: list[str] = []
        for rule in self._selected(min_priority, source):
            if self._fires(rule, event):
                out.append(rule.name)
                if rule_matching == "first":
                    break
        return out

    # ------------------------------------------------------------------ alerts
    def _output_format(self, rule: CompiledRule) -> OutputFormat:
        fmt = rule.extra.get("output_format")
        if fmt is None:
            fmt = compile_output(rule.output, rule.source)
            rule.extra["output_format"] = fmt
        return fmt

    def _matched_pairs(
        self, events: Any, min_priority: str | None, rule_matching: str, source: str
    ) -> Iterator[tuple[CompiledRule, Mapping[str, Any]]]:
        self._check_matching(rule_matching)
        selected = self._selected(min_priority, source)
        if isinstance(events, pd.DataFrame):
            yield from self._frame_pairs(events, selected, rule_matching)
            return
        for event in events:
            for rule in selected:
                if self._fires(rule, event):
                    yield rule, event
                    if rule_matching == "first":
                        break

    def _frame_pairs(
        self, frame: pd.DataFrame, selected: list[CompiledRule], rule_matching: str
    ) -> Iterator[tuple[CompiledRule, Mapping[str, Any]]]:
        if frame.empty or not selected:
            return
        cache = FrameCache(frame)
        remaining = np.ones(len(frame), dtype=bool)
        hits: list[tuple[int, int, CompiledRule]] = []
        positions = np.arange(len(frame))
        for order, rule in enumerate(selected):
            mask = np.array(
                _condition(rule).mask(frame, cache).to_numpy(dtype=bool, na_value=False), copy=True
            )
            if rule_matching == "first":
                mask &= remaining
                remaining[mask] = False
            for pos in positions[mask]:
                hits.append((int(pos), order, rule))
        hits.sort(key=lambda h: (h[0], h[1]))
        rows = sorted({pos for pos, _, _ in hits})
        records = cast("list[dict[str, Any]]", frame.iloc[rows].to_dict("records"))  # columns are fields
        events = {
            pos: {k: _clean(v) for k, v in record.items()} for pos, record in zip(rows, records, strict=True)
        }
        for pos, _, rule in hits:
            yield rule, events[pos]

    def alerts(
        self,
        events: pd.DataFrame | Iterable[Mapping[str, Any]],
        *,
        min_priority: str | None = None,
        rule_matching: str = "all",
        source: str = "syscall",
        hostname: str | None = None,
        suggested_fields: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Falco JSON alerts (dicts, keys sorted) for every rule firing on ``events``, in event order.

        Parameters
        ----------
        events
            A DataFrame (one column per field; evaluated vectorised) or an iterable of mappings.
        min_priority
            Keep only rules at least this severe (Falco's ``priority`` setting).
        rule_matching
            ``"all"`` (every matching rule alerts) or ``"first"`` (Falco's default: the first one only).
        source
            Event source of the events.
        hostname
            The ``hostname`` of the alerts (``FALCO_HOSTNAME`` / the host name by default).
        suggested_fields
            Append the six container/k8s fields Falco 0.44 adds by default.
        """
        for rule, event in self._matched_pairs(events, min_priority, rule_matching, source):
            yield falco_alert(
                rule=rule.name,
                priority=rule.priority,
                output=self._output_format(rule),
                event=event,
                source=rule.source,
                tags=rule.tags,
                hostname=hostname,
                suggested_fields=suggested_fields,
            )

    def evaluate(
        self, events: pd.DataFrame | Iterable[Mapping[str, Any]], **options: Unpack[AlertOptions]
    ) -> pd.DataFrame:
        """The alerts for ``events`` as a canonical events frame (``falco_lab.events.schema``).

        One row per alert: ``time``, ``rule``, ``priority``, ``source``, ``hostname``, ``tags``,
        ``output``, ``uuid`` (empty: Falco does not set it), then one column per output field.
        Arguments as in :meth:`alerts` (keyword-only ``min_priority``, ``rule_matching``,
        ``source``, ``hostname``, ``suggested_fields``).
        """
        return alerts_frame(self.alerts(events, **options))


def alerts_frame(alerts: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Falco JSON alerts (dicts) → canonical events frame.

    Checked and typed by the events layer's validator (:func:`falco_lab.events.validate.alerts_to_frame`),
    the one every loader uses, so a frame of the engine's alerts and one loaded from the same alerts
    written as JSON lines have identical columns and dtypes (``proc.pid`` is ``Int64`` in both). The
    frame's ``attrs["load_report"]`` is the :class:`~falco_lab.events.load_diagnostics.LoadReport` of
    ``"<rules engine>"``.

    Raises
    ------
    falco_lab.events.LoadError
        If an alert is not a valid Falco alert (the engine's alerts always are).
    """
    records = list(alerts)
    frame, problems = alerts_to_frame(
        records, _ENGINE, labels=[f"alert {i + 1}" for i in range(len(records))]
    )
    report = LoadReport(
        sources=(_ENGINE,),
        events=len(frame),
        problems=tuple(problems),
    )
    frame.attrs[ATTRS_KEY] = report
    if problems:
        raise LoadError(report.summary(), report)
    return frame
