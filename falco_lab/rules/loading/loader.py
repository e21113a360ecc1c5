"""Load rules files like Falco: read, collect, compile, and report every problem (never raise).

:func:`load_rules` reads one or more files into one collection, in order (later files see, redefine
and append to earlier ones).  After each file the whole collection is compiled again, in Falco's
order (§3.4–§3.6, §6): lists (lists inside lists by visibility) → every macro parsed → every macro's
references resolved → every rule (exceptions → list substitution → parse → macro expansion →
output check → field/type check → event-type warning) → unused macro/list warnings.  The first error
of a file stops that file (as in Falco); warnings pile up.  The result is a
:class:`~falco_lab.rules.ruleset.RuleSet` whose ``result`` holds Falco's load results.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from falco_lab.rules.codes import Code
from falco_lab.rules.compiler.compile import compile_ast
from falco_lab.rules.compiler.condition import Condition
from falco_lab.rules.errors import Position, RuleError
from falco_lab.rules.frontend import syntax
from falco_lab.rules.frontend.lists import substitute_lists
from falco_lab.rules.loading.collector import Collector, parse_version
from falco_lab.rules.loading.model import (
    CompiledRule,
    Context,
    ItemError,
    Location,
    PluginRequirement,
    Rule,
    RulesFile,
)
from falco_lab.rules.loading.reader import read_documents
from falco_lab.rules.loading.result import LoadResult, LoadResults, make_issue
from falco_lab.rules.loading.rule_exceptions import build_exception_condition
from falco_lab.rules.loading.schema import schema_problems
from falco_lab.rules.loading.yamlio import compose_documents
from falco_lab.rules.output.format import (
    CONTAINER_INFO_WARNING,
    OutputFormat,
    compile_output,
    remove_container_info,
)
from falco_lab.rules.resolvers.macros import expand_macros, parse_cached
from falco_lab.rules.ruleset import RuleSet

__all__ = [
    "DEFAULT_ENGINE_VERSION",
    "DEFAULT_PLUGINS",
    "PLUGIN_SOURCES",
    "load_rules",
    "load_rules_text",
]

#: The engine version falco-lab implements (Falco 0.44).
DEFAULT_ENGINE_VERSION = "0.62.0"

#: Plugins assumed loaded when ``plugins`` is not given: Falco's default set for syscall rules.
#: The version is what we model, not a measured Falco bundle: pass ``plugins=`` to change it.
DEFAULT_PLUGINS: Mapping[str, str] = {"container": "0.6.0"}

#: Event sources that plugins bring (``syscall`` is always there).
PLUGIN_SOURCES: Mapping[str, str] = {"k8saudit": "k8s_audit", "k8saudit-eks": "k8s_audit"}

MAX_EVTTYPES = 100
NO_EVTTYPE_MESSAGE = "Rule matches too many evt.type values. This has a significant performance penalty."
_UNKNOWN_FILTER_MARKERS = (
    "nonexistent field",
    "invalid formatting token",
    "unknown event type",
    "unknown filter:",
)
_DEPRECATED_OUTPUT_FIELDS = ("evt.dir", "evt.latency", "evt.wait_latency")

RulesSource = str | os.PathLike[str] | IO[str] | RulesFile


# --------------------------------------------------------------------------- inputs


def _read_source(source: RulesSource, index: int) -> tuple[str, str | None, str | None]:
    """``(name, text, read_error)`` for one input."""
    if isinstance(source, RulesFile):
        return source.name, source.text, None
    if isinstance(source, io.TextIOBase) or hasattr(source, "read"):
        name = getattr(source, "name", None)
        name = name if isinstance(name, str) else f"<rules {index + 1}>"
        return name, source.read(), None
    path = Path(source)
    try:
        return str(source), path.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return str(source), None, f"Could not read file {source}: {reason}"


@lru_cache(maxsize=8192)
def _compile_cached(tree: syntax.Node, source: str) -> Condition:
    """:func:`compile_ast` memoised on the (immutable, position-blind) tree: every file of a load
    recompiles the whole collection, as Falco does, and most rules are unchanged between files."""
    return compile_ast(tree, source=source)


@lru_cache(maxsize=4096)
def _output_cached(output: str, source: str) -> OutputFormat:
    """:func:`compile_output` memoised (formats are immutable)."""
    return compile_output(output, source)


@lru_cache(maxsize=2048)
def _is_valid_field(source: str, text: str) -> bool:
    """Falco's ``is_valid_lhs_field``: compile ``<text> exists`` for the source."""
    try:
        tree = parse_cached(f"{text} exists")
        if not isinstance(tree, syntax.UnaryCheck):
            return False
        compile_ast(tree, source=source)
    except RuleError:
        return False
    return True


# --------------------------------------------------------------------------- positions


def _condition_position(text: str | None, ctx: Context, condition: str, offset: int) -> Position:
    """Map an offset inside a condition value back to the file (best effort; the value's start otherwise)."""
    start = ctx.position
    if not text or not condition:
        return start
    offset = max(0, min(offset, len(condition)))
    i = start.offset
    n = len(text)
    if i < n and text[i] in "|>":
        while i < n and text[i] != "\n":
            i += 1
    elif i < n and text[i] in "\"'":
        i += 1
    for ch in condition[:offset]:
        while i < n and text[i] != ch and text[i] in " \t\r\n\"'":
            i += 1
        if i < n and text[i] == ch:
            i += 1
    while i < n and text[i] in " \t\r\n" and offset < len(condition) and condition[offset] not in " \t\r\n":
        i += 1
    line = text.count("\n", 0, i) + 1
    column = i - (text.rfind("\n", 0, i) + 1) + 1
    return Position(start.name, line, column, i)


def _expression_ctx(parent: Context, condition: str, error: RuleError, text: str | None) -> Context:
    """Falco's "condition expression" location plus our absolute position for the text form."""
    pos = error.position or Position()
    short = condition if len(condition) <= 20 else condition[:17] + "..."
    name = '"' + short.replace("\n", " ").replace("\r", " ") + '"'
    falco_loc = Location("condition expression", "", Position(name, pos.line, pos.column, pos.offset))
    absolute = _condition_position(text, parent, condition, pos.offset)
    return Context((*parent.locations, falco_loc), at=absolute, alt_content=condition)


def _own_error_offset(tree: syntax.Node, source: str, message: str) -> int | None:
    """Offset (in the rule's own text) of the first check of the rule itself that fails with
    ``message``; None when the failing check came from a macro."""
    for node in syntax.walk(tree):
        if isinstance(node, (syntax.UnaryCheck, syntax.BinaryCheck)):
            try:
                compile_ast(node, source=source)
            except RuleError as exc:
                if exc.message == message and exc.position is not None:
                    return exc.position.offset
    return None


# --------------------------------------------------------------------------- the compiler


class _FileCompiler:
    """Compiles the whole collection after a file was read (Falco's ``rule_loader::compiler``)."""

    def __init__(
        self, collector: Collector, warn: Callable[[Code, str, Context], None], texts: Mapping[str, str]
    ):
        self.col = collector
        self.warn = warn
        self.texts = texts

    def text_of(self, ctx: Context) -> str | None:
        return self.texts.get(ctx.position.name)

    def compile(self) -> list[CompiledRule]:
        col = self.col
        # lists: items naming an earlier list are replaced by its raw items (once, by visibility)
        lists: dict[str, list[str]] = {}
        used_lists: set[str] = set()
        for lst in col.lists.values():
            items: list[str] = []
            for item in lst.items:
                ref = col.lists.get(item)
                if ref is not None and ref.index < lst.visibility:
                    used_lists.add(ref.name)
                    items.extend(ref.items)
                else:
                    items.append(item)
            lists[lst.name] = items

        # macros: parse every one, then resolve references by visibility, in order
        trees: dict[str, syntax.Node] = {}
        used_macros: set[str] = set()
        for macro in col.macros.values():
            trees[macro.name] = self.parse(macro.condition, lists, used_lists, macro.cond_ctx)[0]
        order = list(col.macros.values())
        for macro in order:
            refs = syntax.collect_identifiers(trees[macro.name])
            if not refs:
                continue
            visible = {m.name: trees[m.name] for m in order if m.index < macro.visibility}
            used_macros.update(r for r in refs if r in visible)
            trees[macro.name] = self.expand(trees[macro.name], visible, macro.ctx)

        compiled: list[CompiledRule] = []
        for rule in col.rules.values():
            if rule.unknown_source:
                continue
            condition = build_exception_condition(rule.condition, rule.exceptions)
            own_tree, text = self.parse(condition, lists, used_lists, rule.cond_ctx)
            tree = own_tree
            refs = syntax.collect_identifiers(own_tree)
            if refs:
                used_macros.update(r for r in refs if r in trees)
                tree = self.expand(own_tree, trees, rule.ctx)
            result = self.compile_rule(rule, tree, own_tree, text)
            if result is not None:
                compiled.append(result)

        for macro in col.macros.values():
            if macro.name not in used_macros:
                self.warn(Code.UNUSED_MACRO, "Macro not referred to by any other rule/macro", macro.ctx)
        for lst in col.lists.values():
            if lst.name not in used_lists:
                self.warn(Code.UNUSED_LIST, "List not referred to by any other rule/macro", lst.ctx)
        return compiled

    def parse(
        self, condition: str, lists: Mapping[str, list[str]], used: set[str], ctx: Context
    ) -> tuple[syntax.Node, str]:
        text, hits = substitute_lists(condition, lists)
        used.update(hits)
        try:
            return parse_cached(text), text
        except RuleError as exc:
            raise ItemError(
                exc.code, exc.message, _expression_ctx(ctx, text, exc, self.text_of(ctx))
            ) from None

    @staticmethod
    def expand(tree: syntax.Node, macros: Mapping[str, syntax.Node], ctx: Context) -> syntax.Node:
        try:
            return expand_macros(tree, macros)
        except RuleError as exc:
            raise ItemError(exc.code, exc.message, ctx) from None

    def compile_rule(
        self, rule: Rule, tree: syntax.Node, own_tree: syntax.Node, own_text: str
    ) -> CompiledRule | None:
        """Compile one rule (``tree`` expanded); ``own_tree``/``own_text`` are the rule's own parsed
        condition, used to point a compile error at its exact place when it lies in the rule itself."""

        def unknown_filter(exc: RuleError, ctx: Context) -> bool:
            if rule.skip_if_unknown_filter and any(m in exc.message for m in _UNKNOWN_FILTER_MARKERS):
                self.warn(Code.UNKNOWN_FILTER, exc.message, ctx)
                return True
            return False

        output, had_info = remove_container_info(rule.output)
        if had_info:
            self.warn(Code.DEPRECATED_ITEM, CONTAINER_INFO_WARNING, rule.output_ctx)
        try:
            output_format = _output_cached(output, rule.source)
        except RuleError as exc:
            if unknown_filter(exc, rule.output_ctx):
                return None
            ctx = rule.output_ctx.child("rule output expression", "", rule.output_ctx.position)
            raise ItemError(exc.code, exc.message, ctx) from None
        for key in output_format.fields:
            if key.startswith(_DEPRECATED_OUTPUT_FIELDS):
                name = key.split("[", 1)[0]
                self.warn(
                    Code.DEPRECATED_ITEM,
                    f"usage of deprecated field '{name}' has been detected in the rule output",
                    rule.output_ctx,
                )
        try:
            condition = _compile_cached(tree, rule.source)
        except RuleError as exc:
            if unknown_filter(exc, rule.cond_ctx):
                return None
            ctx = rule.ctx if exc.code == Code.ERR_VALIDATE else rule.cond_ctx
            if ctx is rule.cond_ctx:
                offset = _own_error_offset(own_tree, rule.source, exc.message)
                if offset is not None:
                    ctx = Context(
                        ctx.locations, at=_condition_position(self.text_of(ctx), ctx, own_text, offset)
                    )
            raise ItemError(exc.code, exc.message, ctx) from None
        for code, message in condition.warnings:
            self.warn(code, message, rule.ctx)
        if rule.source == "syscall" and rule.warn_evttypes:
            count = condition.evttype_count
            if condition.evttypes is None or count > MAX_EVTTYPES:
                self.warn(Code.NO_EVTTYPE, NO_EVTTYPE_MESSAGE, rule.ctx)
        return CompiledRule(
            name=rule.name,
            desc=rule.desc,
            condition=rule.condition,
            output=output,
            priority=rule.priority,
            source=rule.source,
            tags=tuple(sorted(rule.tags)),
            enabled=rule.enabled,
            compiled=condition,
            expanded_condition=condition.text,
            evttypes=condition.evttypes,
            index=rule.index,
            capture=rule.capture,
            capture_duration=rule.capture_duration,
            warn_evttypes=rule.warn_evttypes,
            skip_if_unknown_filter=rule.skip_if_unknown_filter,
            exceptions=tuple(ex.name for ex in rule.exceptions),
            output_fields=output_format.fields,
            extra={"output_format": output_format},
        )


# --------------------------------------------------------------------------- public API


def _plugin_problem(requirement: PluginRequirement, plugins: Mapping[str, str | None]) -> str | None:
    """Falco's plugin requirement check: None when one alternative is satisfied."""
    alternatives = ((requirement.name, requirement.version), *requirement.alternatives)
    for name, version in alternatives:
        if name not in plugins:
            continue
        if plugins[name] is None:  # loaded, version not stated: accept
            return None
        have = parse_version(str(plugins[name]))
        want = parse_version(version)
        if have is None:
            return f"Plugin '{name}' has invalid version string '{plugins[name]}'"
        if want is not None and (have[0] != want[0] or have < want):
            return f"Plugin '{name}' version '{plugins[name]}' is not compatible with required plugin version '{version}'"
        return None
    listed = ", ".join(f"{name} (>= {version})" for name, version in alternatives)
    return f"Plugin requirement not satisfied, must load one of: {listed}"


def _flatten(paths: Iterable[Any]) -> list[RulesSource]:
    """Inputs in order; any iterable that is not itself an input (a list, ``dict.values()``) is expanded."""
    out: list[RulesSource] = []
    for p in paths:
        is_input = isinstance(p, (str, bytes, os.PathLike, RulesFile)) or hasattr(p, "read")
        if not is_input and isinstance(p, Iterable):
            out.extend(_flatten(p))
        else:
            out.append(p)
    return out


def load_rules(
    *paths: RulesSource | Iterable[RulesSource],
    engine_version: str = DEFAULT_ENGINE_VERSION,
    plugins: Mapping[str, str | None] | Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
) -> RuleSet:
    """Load rules files into one :class:`~falco_lab.rules.ruleset.RuleSet`, as Falco does.

    Parameters
    ----------
    *paths
        Files in load order: paths, open text streams (``io.StringIO``; their ``name`` attribute, if
        any, names them) or :class:`~falco_lab.rules.loading.model.RulesFile` objects. Lists of them are flattened.
    engine_version
        Engine version checked against ``required_engine_version`` (``"0.62.0"`` = Falco 0.44).
    plugins
        Loaded plugins, name → version, checked against ``required_plugin_versions``
        (default :data:`DEFAULT_PLUGINS`); a plain list of names means "loaded, any version".
        ``k8saudit`` adds the ``k8s_audit`` source.
    sources
        Extra event sources to accept (``syscall`` is always accepted).

    Returns
    -------
    RuleSet
        Never raises for problems in the rules: ``RuleSet.ok`` tells whether every file loaded and
        ``RuleSet.result`` holds Falco's load results (errors and warnings with code, message, item
        and position).
    """
    if plugins is None:
        plugins = dict(DEFAULT_PLUGINS)
    elif isinstance(plugins, Mapping):
        plugins = dict(plugins)
    else:
        plugins = dict.fromkeys(plugins)
    known_sources = {
        "syscall",
        *(PLUGIN_SOURCES[p] for p in plugins if p in PLUGIN_SOURCES),
        *(sources or ()),
    }
    engine = parse_version(engine_version) or parse_version(DEFAULT_ENGINE_VERSION)
    collector = Collector(known_sources, _is_valid_field, engine)  # type: ignore[arg-type]
    results: list[LoadResult] = []
    texts: dict[str, str] = {}
    compiled: list[CompiledRule] = []
    requirement_owner: dict[int, LoadResult] = {}

    for index, source in enumerate(_flatten(paths)):
        name, text, read_error = _read_source(source, index)
        result = LoadResult(name)
        results.append(result)
        root = Context((Location("rules content", "", Position(name, 1, 1, 0)),))
        if read_error is not None or text is None:
            result.errors.append(make_issue(Code.ERR_FILE_READ, read_error or "cannot read", root))
            continue
        texts[name] = text

        def warn(
            code: Code, message: str, ctx: Context, _result: LoadResult = result, _text: str = text
        ) -> None:
            _result.warnings.append(make_issue(code, message, ctx, texts.get(ctx.position.name, _text)))

        def fail(exc: ItemError | RuleError, _result: LoadResult = result, _root: Context = root) -> None:
            ctx = (
                exc.ctx
                if isinstance(exc, ItemError)
                else _root.child(
                    exc.item_type or "rules content", exc.item_name, exc.position or _root.position
                )
            )
            _result.errors.append(make_issue(exc.code, exc.message, ctx, texts.get(ctx.position.name)))

        before = len(collector.plugin_requirements)
        try:
            documents = compose_documents(text, name)
            result.schema_problems = schema_problems(documents, name)
            result.schema_validation = "failed" if result.schema_problems else "ok"
            read_documents(documents, name, collector, warn, root)
        except RuleError as exc:
            fail(exc)
            continue
        for requirement in collector.plugin_requirements[before:]:
            requirement_owner[id(requirement)] = result
        try:
            compiled = _FileCompiler(collector, warn, texts).compile()
        except RuleError as exc:
            fail(exc)

    for requirement in collector.plugin_requirements:
        problem = _plugin_problem(requirement, plugins)
        owner = requirement_owner.get(id(requirement))
        if problem is not None and owner is not None:
            owner.errors.append(
                make_issue(Code.ERR_VALIDATE, problem, requirement.ctx, texts.get(owner.name))
            )

    return RuleSet(
        compiled,
        LoadResults(results),
        lists={n: list(v.items) for n, v in collector.lists.items()},
        macros={n: m.condition for n, m in collector.macros.items()},
        required_engine_version=collector.required_engine_version,
        plugin_requirements=tuple(collector.plugin_requirements),
    )


def load_rules_text(text: str, name: str = "rules.yaml", **kwargs: Any) -> RuleSet:
    """Load rules given as YAML text (tests, notebooks); ``name`` appears in positions.

    Accepts the keyword arguments of :func:`load_rules`.
    """
    return load_rules(RulesFile(name, text), **kwargs)
