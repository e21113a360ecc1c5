"""A loaded collection of rules: which rules fire for an event, alerts, explanations.

A :class:`RuleSet` is what :func:`~falco_lab.rules.loading.loader.load_rules` returns.  Rules are kept in
Falco's evaluation order (the order of their first definition).  Events are mappings field → value
(``proc.aname[2]``, ``evt.arg.flags`` and ``k8s.pod.label[app]`` keys included); an absent key or
``None`` is a missing value.  Frames (one column per field) are evaluated vectorised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from falco_lab.errors import FalcoLabError
from falco_lab.events.load_diagnostics import ATTRS_KEY, LoadError, LoadReport
from falco_lab.events.validate import alerts_to_frame
from falco_lab.priorities import PRIORITIES, PRIORITY_DTYPE, normalize_priority
from falco_lab.rules.compiler.condition import Condition
from falco_lab.rules.evaluators.explain import Explanation
from falco_lab.rules.evaluators.frame import FrameCache
from falco_lab.rules.evaluators.values import cell_value
from falco_lab.rules.loading.model import CompiledRule, PluginRequirement
from falco_lab.rules.loading.result import LoadIssue, LoadResults
from falco_lab.rules.output.columns import Events, format_block
from falco_lab.rules.output.format import OutputFormat, compile_output, default_hostname, falco_alert
from falco_lab.rules.output.frame import ENGINE_SOURCE, RuleBlock, blocks_frame

__all__ = ["RuleSet"]

_RANK = {p: i for i, p in enumerate(PRIORITIES)}
_MATCHING = ("all", "first")


def _threshold(min_priority: str | None) -> int:
    if min_priority is None:
        return len(PRIORITIES) - 1
    name = normalize_priority(min_priority)
    if name is None:
        raise ValueError(f"unknown priority {min_priority!r}; expected one of {', '.join(PRIORITIES)}")
    return _RANK[name]


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
        positions, orders = self._frame_hits(frame, selected, rule_matching)
        rows = np.unique(positions).tolist()
        records = cast("list[dict[str, Any]]", frame.iloc[rows].to_dict("records"))  # columns are fields
        events = {
            pos: {k: cell_value(v) for k, v in record.items()}
            for pos, record in zip(rows, records, strict=True)
        }
        for pos, order in zip(positions.tolist(), orders.tolist(), strict=True):
            yield selected[order], events[pos]

    def _frame_hits(
        self, frame: pd.DataFrame, selected: list[CompiledRule], rule_matching: str
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(row position, index in ``selected``) of every alert, sorted by row then rule (vectorised)."""
        if frame.empty or not selected:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        cache = FrameCache(frame)
        remaining = np.ones(len(frame), dtype=bool)
        positions: list[npt.NDArray[np.int64]] = []
        orders: list[npt.NDArray[np.int64]] = []
        for order, rule in enumerate(selected):
            mask = np.array(
                _condition(rule).mask(frame, cache).to_numpy(dtype=bool, na_value=False), copy=True
            )
            if rule_matching == "first":
                mask &= remaining
                remaining[mask] = False
            hit = np.flatnonzero(mask).astype(np.int64)
            positions.append(hit)
            orders.append(np.full(len(hit), order, dtype=np.int64))
        return _sorted_hits(positions, orders)

    def _event_hits(
        self, events: Sequence[Mapping[str, Any]], selected: list[CompiledRule], rule_matching: str
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(event index, index in ``selected``) of every alert, in event then rule order."""
        positions: list[int] = []
        orders: list[int] = []
        for pos, event in enumerate(events):
            for order, rule in enumerate(selected):
                if self._fires(rule, event):
                    positions.append(pos)
                    orders.append(order)
                    if rule_matching == "first":
                        break
        return np.array(positions, dtype=np.int64), np.array(orders, dtype=np.int64)

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

        One row per alert, in the order of :meth:`alerts`: ``time``, ``rule``, ``priority``,
        ``source``, ``hostname``, ``tags``, ``output``, ``uuid`` (empty: Falco does not set it), then
        one column per output field. Arguments as in :meth:`alerts` (keyword-only ``min_priority``,
        ``rule_matching``, ``source``, ``hostname``, ``suggested_fields``).

        Outputs and output fields are formatted per rule over its matched rows
        (:func:`falco_lab.rules.output.columns.format_block`) and the frame is built from those
        columns directly; the result equals ``alerts_frame(self.alerts(events, ...))``, except that
        events without ``evt.time`` share one "now".
        """
        return self._hits(events, options).to_frame(options)

    def _hits(self, events: pd.DataFrame | Iterable[Mapping[str, Any]], options: AlertOptions) -> Hits:
        """Which rules fire on which events (the masks), without formatting anything."""
        rule_matching = options.get("rule_matching", "all")
        self._check_matching(rule_matching)
        selected = self._selected(options.get("min_priority"), options.get("source", "syscall"))
        if isinstance(events, pd.DataFrame):
            positions, orders = self._frame_hits(events, selected, rule_matching)
            return Hits(self, selected, positions, orders, frame=events)
        records = events if isinstance(events, Sequence) else list(events)
        positions, orders = self._event_hits(records, selected, rule_matching)
        return Hits(self, selected, positions, orders, events=records)


@dataclass(frozen=True, slots=True)
class Hits:
    """The alerts of an evaluation before formatting: event ``positions[i]`` fired ``selected[orders[i]]``.

    Sorted by event then rule (Falco's order). The events are ``frame``'s rows or ``events``;
    :meth:`to_frame` formats the alerts column-wise.
    """

    ruleset: RuleSet
    selected: list[CompiledRule]
    positions: npt.NDArray[np.int64]
    orders: npt.NDArray[np.int64]
    frame: pd.DataFrame | None = None
    events: Sequence[Mapping[str, Any]] | None = None

    def to_frame(self, options: AlertOptions) -> pd.DataFrame:
        """The canonical events frame of these alerts (see :meth:`RuleSet.evaluate`)."""
        positions, orders = self.positions, self.orders
        alerting = Events(np.unique(positions), frame=self.frame, events=self.events)
        row_of = np.searchsorted(alerting.positions, positions)  # each alert's event among the alerting ones
        blocks: list[RuleBlock] = []
        by_rule = np.argsort(orders, kind="stable")
        bounds = np.searchsorted(orders[by_rule], np.arange(len(self.selected) + 1))
        for order, rule in enumerate(self.selected):
            where = by_rule[bounds[order] : bounds[order + 1]]  # alert indices of this rule, ascending
            if len(where) == 0:
                continue
            block = format_block(
                self.ruleset._output_format(rule),  # noqa: SLF001 - the ruleset's own compiled formats
                alerting.rows(row_of[where]),
                priority=rule.priority,
                source=rule.source,
                suggested_fields=options.get("suggested_fields", True),
            )
            blocks.append(RuleBlock(rule.name, rule.priority, rule.source, tuple(rule.tags), where, block))
        hostname = options.get("hostname")
        return blocks_frame(blocks, len(positions), hostname if hostname is not None else default_hostname())


def _sorted_hits(
    positions: list[npt.NDArray[np.int64]], orders: list[npt.NDArray[np.int64]]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    if not positions:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pos = np.concatenate(positions)
    order = np.concatenate(orders)
    index = np.lexsort((order, pos))
    return pos[index], order[index]


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
        records, ENGINE_SOURCE, labels=[f"alert {i + 1}" for i in range(len(records))]
    )
    report = LoadReport(
        sources=(ENGINE_SOURCE,),
        events=len(frame),
        problems=tuple(problems),
    )
    frame.attrs[ATTRS_KEY] = report
    if problems:
        raise LoadError(report.summary(), report)
    return frame
