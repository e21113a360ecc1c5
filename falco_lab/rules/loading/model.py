"""Typed model of a rules collection: what the reader collects and what the compiler produces.

The *info* classes (:class:`ListItem`, :class:`Macro`, :class:`Rule`, :class:`RuleException`)
hold what the YAML said, after define/append/override have been applied (Falco's
``rule_loader::*_info``).  :class:`CompiledRule` is the result of compiling one rule.
Every item carries a :class:`Context`: the chain of named places (``rule 'X'`` → ``rule condition``)
that Falco prints with each error and warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from falco_lab.rules.codes import Code
from falco_lab.rules.compiler.condition import Condition
from falco_lab.rules.errors import Position, RuleError

__all__ = [
    "CompiledRule",
    "ITEM_TYPES",
    "Context",
    "ExceptionEntry",
    "ItemError",
    "ListItem",
    "Location",
    "Macro",
    "PluginRequirement",
    "Rule",
    "RuleException",
    "RulesFile",
]


#: Location types that denote a whole item (what an error is reported against).
ITEM_TYPES: frozenset[str] = frozenset(
    {
        "rule",
        "macro",
        "list",
        "exception",
        "required_engine_version",
        "required plugin versions",
        "rules content",
        "rules content item",
    }
)


@dataclass(frozen=True, slots=True)
class Location:
    """One level of an error's context: ``item_type``, ``item_name`` and where it is."""

    item_type: str
    item_name: str
    position: Position


@dataclass(frozen=True, slots=True)
class Context:
    """The chain of locations of an item, outermost first (Falco's ``rule_loader::context``)."""

    locations: tuple[Location, ...] = ()
    #: Where to point in the file when it differs from the innermost location (a "condition expression"
    #: location is relative to the condition text, as in Falco; ``at`` is its place in the file).
    at: Position | None = None
    #: Text the snippet is cut from instead of the file (the condition, for "condition expression").
    alt_content: str = ""

    def child(self, item_type: str, item_name: str, position: Position) -> Context:
        """A context one level deeper."""
        return Context((*self.locations, Location(item_type, item_name, position)))

    @property
    def position(self) -> Position:
        """Position in the file: ``at`` if set, else that of the innermost location."""
        if self.at is not None:
            return self.at
        return self.locations[-1].position if self.locations else Position()

    def named(self) -> Location | None:
        """The item a problem belongs to: the innermost rule/macro/list/exception/... location.

        Prefers a location with a name; falls back to the innermost item-level location.
        """
        items = [loc for loc in self.locations if loc.item_type in ITEM_TYPES]
        for location in reversed(items):
            if location.item_name:
                return location
        if items:
            return items[-1]
        return self.locations[-1] if self.locations else None


@dataclass(frozen=True, slots=True)
class RulesFile:
    """A rules file to load: its name (used in positions) and its text."""

    name: str
    text: str


@dataclass(slots=True)
class ListItem:
    """A ``- list:`` item (its raw items; lists named inside are expanded at compile time)."""

    name: str
    items: list[str]
    ctx: Context
    index: int = 0
    visibility: int = 0
    used: bool = False


@dataclass(slots=True)
class Macro:
    """A ``- macro:`` item; ``condition`` is the text after any appends."""

    name: str
    condition: str
    ctx: Context
    cond_ctx: Context
    index: int = 0
    visibility: int = 0
    used: bool = False


@dataclass(slots=True)
class ExceptionEntry:
    """A ``fields``/``comps``/``values`` entry: a scalar ``item`` or a sequence of entries."""

    item: str = ""
    items: list[ExceptionEntry] = field(default_factory=list)
    is_list: bool = False
    defined: bool = False

    def is_valid(self) -> bool:
        """Falco's ``entry::is_valid``: a non-empty scalar or a non-empty sequence."""
        return bool(self.items) if self.is_list else bool(self.item)

    def to_python(self) -> str | list[Any]:
        """The entry as plain Python: a string or a (nested) list of strings."""
        return [e.to_python() for e in self.items] if self.is_list else self.item


@dataclass(slots=True)
class RuleException:
    """One entry of a rule's ``exceptions:``."""

    name: str
    ctx: Context
    fields: ExceptionEntry = field(default_factory=ExceptionEntry)
    comps: ExceptionEntry = field(default_factory=ExceptionEntry)
    values: list[ExceptionEntry] = field(default_factory=list)


@dataclass(slots=True)
class Rule:
    """A ``- rule:`` item after define/append/override (Falco's ``rule_info``)."""

    name: str
    ctx: Context
    condition: str = ""
    cond_ctx: Context = field(default_factory=Context)
    output: str = ""
    output_ctx: Context = field(default_factory=Context)
    desc: str = ""
    priority: str = "Debug"
    source: str = "syscall"
    enabled: bool = True
    tags: set[str] = field(default_factory=set)
    exceptions: list[RuleException] = field(default_factory=list)
    warn_evttypes: bool = True
    skip_if_unknown_filter: bool = False
    capture: bool = False
    capture_duration: int = 0
    unknown_source: bool = False
    index: int = 0
    visibility: int = 0


@dataclass(frozen=True, slots=True)
class PluginRequirement:
    """One ``required_plugin_versions`` entry: a plugin and its accepted alternatives."""

    name: str
    version: str
    alternatives: tuple[tuple[str, str], ...] = ()
    ctx: Context = field(default_factory=Context)


@dataclass(slots=True)
class CompiledRule:
    """A rule ready to evaluate.

    Attributes
    ----------
    name, desc, output, priority, source, tags, enabled
        As loaded (``priority`` is the long capitalised name; ``tags`` sorted).
    condition
        The rule's condition text (after appends/overrides, before exceptions).
    compiled
        The compiled :class:`~falco_lab.rules.compiler.condition.Condition` (expanded tree, evaluators).
    expanded_condition
        Canonical text of the expanded condition (§10), as ``falco --describe-rule`` shows.
    evttypes
        Event types the condition can match (``None`` when it is not restricted).
    index
        Position of the rule in evaluation order (first definition decides).
    """

    name: str
    desc: str
    condition: str
    output: str
    priority: str
    source: str
    tags: tuple[str, ...]
    enabled: bool
    compiled: Condition | None
    expanded_condition: str = ""
    evttypes: frozenset[str] | None = None
    index: int = 0
    capture: bool = False
    capture_duration: int = 0
    warn_evttypes: bool = True
    skip_if_unknown_filter: bool = False
    exceptions: tuple[str, ...] = ()
    output_fields: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


class ItemError(RuleError):
    """A load problem with its Falco context (the chain of locations)."""

    def __init__(self, code: Code | str, message: str, ctx: Context) -> None:
        named = ctx.named()
        super().__init__(
            code,
            message,
            ctx.position,
            item_type=named.item_type if named else "",
            item_name=named.item_name if named else "",
        )
        self.ctx = ctx
