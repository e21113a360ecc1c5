"""The collection of lists, macros and rules being loaded: define, redefine, append, override.

Reproduces Falco's rule collector (rules-language §3): three ordered collections keyed by name, a
running ``cur_index`` that grows with every define/append/replace, and for every item an ``index``
(its place: first definition) and a ``visibility`` (``cur_index`` at its last change) that decide
which lists and macros it may refer to (§3.4).  Problems are raised as :class:`ItemError` carrying
Falco's code, message and context; warnings go to the ``warn`` callback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

from falco_lab.rules.codes import Code
from falco_lab.rules.loading.model import (
    Context,
    ItemError,
    ListItem,
    Macro,
    PluginRequirement,
    Rule,
    RuleException,
)
from falco_lab.rules.loading.rule_exceptions import validate_exception

__all__ = ["Collector", "RuleUpdate", "Version", "parse_version"]

Warn = Callable[[Code, str, Context], None]
_Item = TypeVar("_Item", ListItem, Macro, Rule)


def _fail(message: str, ctx: Context, code: Code = Code.ERR_VALIDATE) -> ItemError:
    return ItemError(code, message, ctx)


Version = tuple[int, int, int]
_SEMVER = re.compile(r"\s*\+?(\d+)\.\s*\+?(\d+)\.\s*\+?(\d+)")


def parse_version(text: str) -> Version | None:
    """``sscanf("%u.%u.%u")`` as Falco's ``sinsp_version`` does; None when it does not match."""
    match = _SEMVER.match(text)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def version_text(version: Version) -> str:
    return ".".join(str(v) for v in version)


@dataclass(slots=True)
class RuleUpdate:
    """What an ``override``/``append`` item carries; ``None`` means "not given"."""

    name: str
    ctx: Context
    source: str | None = None
    condition: str | None = None
    cond_ctx: Context | None = None
    output: str | None = None
    output_ctx: Context | None = None
    desc: str | None = None
    priority: str | None = None
    tags: set[str] | None = None
    exceptions: list[RuleException] | None = None
    enabled: bool | None = None
    warn_evttypes: bool | None = None
    skip_if_unknown_filter: bool | None = None
    capture: bool | None = None
    capture_duration: int | None = None

    def has_any_value(self) -> bool:
        return any(
            v is not None
            for v in (
                self.condition,
                self.output,
                self.desc,
                self.priority,
                self.tags,
                self.exceptions,
                self.enabled,
                self.warn_evttypes,
                self.skip_if_unknown_filter,
                self.capture,
                self.capture_duration,
            )
        )


@dataclass(slots=True)
class Collector:
    """Lists, macros and rules of every file loaded so far, with Falco's order bookkeeping.

    Parameters
    ----------
    sources
        Event sources that have a loaded plugin (``syscall`` always); rules of other sources
        are kept but flagged ``unknown_source`` and not compiled.
    is_valid_field
        ``(source, text) -> bool``: whether ``text`` is a valid left-hand side (a field or a
        transformer expression) for the source; used to validate exception fields.
    engine_version
        The engine version implemented (``required_engine_version`` is checked against it).
    """

    sources: Collection[str]
    is_valid_field: Callable[[str, str], bool]
    engine_version: Version = (0, 62, 0)
    lists: dict[str, ListItem] = field(default_factory=dict)
    macros: dict[str, Macro] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    cur_index: int = 0
    required_engine_version: Version | None = None
    plugin_requirements: list[PluginRequirement] = field(default_factory=list)

    def _stamp(self, info: ListItem | Macro | Rule, prev: ListItem | Macro | Rule | None) -> None:
        info.index = prev.index if prev is not None else self.cur_index
        info.visibility = self.cur_index
        self.cur_index += 1

    def _touch(self, info: ListItem | Macro | Rule) -> None:
        info.visibility = self.cur_index
        self.cur_index += 1

    def _define(self, items: dict[str, _Item], info: _Item) -> None:
        """Add ``info``, or redefine the item of that name (it keeps its first definition's place)."""
        self._stamp(info, items.get(info.name))
        items[info.name] = info

    @staticmethod
    def _existing(items: dict[str, _Item], name: str, missing: str, ctx: Context) -> _Item:
        """The item ``name`` an append or override changes; Falco's error ``missing`` when there is none."""
        prev = items.get(name)
        if prev is None:
            raise _fail(missing, ctx)
        return prev

    # ------------------------------------------------------------------ requirements
    def require_engine_version(self, version: Version, ctx: Context) -> None:
        """Check ``required_engine_version`` (same major, engine not older) and remember the largest."""
        engine = self.engine_version
        if version[0] != engine[0] or engine < version:
            raise _fail(
                f"Rules require engine version {version_text(version)}, "
                f"but engine version is {version_text(engine)}",
                ctx,
            )
        if self.required_engine_version is None or self.required_engine_version < version:
            self.required_engine_version = version

    def require_plugin(self, requirement: PluginRequirement) -> None:
        """Record one ``required_plugin_versions`` entry after checking its versions."""
        names: set[str] = set()
        for name, version in ((requirement.name, requirement.version), *requirement.alternatives):
            if parse_version(version) is None:
                raise _fail(f"Invalid required version '{version}' for plugin '{name}'", requirement.ctx)
            if name in names:
                raise _fail(
                    f"Defined multiple alternative version requirements for plugin '{name}'", requirement.ctx
                )
            names.add(name)
        self.plugin_requirements.append(requirement)

    # ------------------------------------------------------------------ lists
    def define_list(self, info: ListItem) -> None:
        self._define(self.lists, info)

    def append_list(self, info: ListItem) -> None:
        prev = self._existing(
            self.lists,
            info.name,
            "List uses 'append' or 'override.items: append' but no list by that name already exists",
            info.ctx,
        )
        prev.items.extend(info.items)
        self._touch(prev)

    # ------------------------------------------------------------------ macros
    def define_macro(self, info: Macro) -> None:
        self._define(self.macros, info)

    def append_macro(self, info: Macro) -> None:
        prev = self._existing(
            self.macros,
            info.name,
            "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists",
            info.ctx,
        )
        prev.condition = f"{prev.condition} {info.condition}"
        self._touch(prev)

    # ------------------------------------------------------------------ rules
    def define_rule(self, info: Rule, warn: Warn) -> None:
        prev = self.rules.get(info.name)
        if prev is not None and prev.source != info.source:
            raise _fail("Rule has been re-defined with a different source", info.ctx)
        known = info.source in self.sources
        if not known:
            info.unknown_source = True
            warn(Code.UNKNOWN_SOURCE, f"Unknown source {info.source}, skipping", info.ctx)
        for ex in info.exceptions:
            if not ex.fields.is_valid():
                raise _fail("Rule exception item must have fields property with a list of fields", ex.ctx)
            validate_exception(ex, info.source if known else None, self.is_valid_field)
        self._stamp(info, prev)
        self.rules[info.name] = info

    def _previous_for_update(self, update: RuleUpdate, missing: str) -> Rule:
        prev = self._existing(self.rules, update.name, missing, update.ctx)
        if update.source and update.source != prev.source:
            raise _fail("Rule has been re-defined with a different source", update.ctx)
        return prev

    def append_rule(self, update: RuleUpdate) -> None:
        """``override: {key: append}`` or the deprecated ``append: true``."""
        prev = self._previous_for_update(
            update, "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists"
        )
        if not update.has_any_value():
            raise _fail("Appended rule must have exceptions or condition property", update.ctx)
        source = None if prev.unknown_source else prev.source
        if update.condition:
            prev.condition = f"{prev.condition} {update.condition}"
        if update.output:
            prev.output = f"{prev.output} {update.output}"
        if update.desc:
            prev.desc = f"{prev.desc} {update.desc}"
        if update.tags is not None:
            prev.tags |= update.tags
        for ex in update.exceptions or ():
            existing = next((e for e in prev.exceptions if e.name == ex.name), None)
            if existing is None:
                if not ex.fields.is_valid():
                    raise _fail("Rule exception must have fields property with a list of fields", ex.ctx)
                if not ex.values:
                    raise _fail("Rule exception must have values property with a list of values", ex.ctx)
                validate_exception(ex, source, self.is_valid_field)
                prev.exceptions.append(ex)
            else:
                if ex.fields.is_valid():
                    raise _fail("Can not append exception fields to existing exception, only values", ex.ctx)
                if ex.comps.is_valid():
                    raise _fail("Can not append exception comps to existing exception, only values", ex.ctx)
                existing.values.extend(ex.values)
        self._touch(prev)

    def replace_rule(self, update: RuleUpdate) -> None:
        """``override: {key: replace}``: set each given key."""
        prev = self._previous_for_update(
            update,
            "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists",
        )
        if not update.has_any_value():
            raise _fail("The rule must have at least one field that can be replaced", update.ctx)
        source = None if prev.unknown_source else prev.source
        if update.condition is not None:
            prev.condition = update.condition
            if update.cond_ctx is not None:
                prev.cond_ctx = update.cond_ctx
        if update.output is not None:
            prev.output = update.output
            if update.output_ctx is not None:
                prev.output_ctx = update.output_ctx
        if update.desc is not None:
            prev.desc = update.desc
        if update.tags is not None:
            prev.tags = set(update.tags)
        if update.exceptions is not None:
            for ex in update.exceptions:
                if not ex.fields.is_valid():
                    raise _fail("Rule exception item must have fields property with a list of fields", ex.ctx)
                validate_exception(ex, source, self.is_valid_field)
            prev.exceptions = list(update.exceptions)
        if update.priority is not None:
            prev.priority = update.priority
        if update.enabled is not None:
            prev.enabled = update.enabled
        if update.warn_evttypes is not None:
            prev.warn_evttypes = update.warn_evttypes
        if update.skip_if_unknown_filter is not None:
            prev.skip_if_unknown_filter = update.skip_if_unknown_filter
        if update.capture is not None:
            prev.capture = update.capture
        if update.capture_duration is not None:
            prev.capture_duration = update.capture_duration
        self._touch(prev)

    def enable_rule(self, name: str, enabled: bool, ctx: Context) -> None:
        """The deprecated standalone ``enabled:`` item (no index/visibility change)."""
        prev = self._existing(
            self.rules, name, "Rule has 'enabled' key but no rule by that name already exists", ctx
        )
        prev.enabled = enabled
