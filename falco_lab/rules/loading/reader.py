"""Reading a rules file into the collector: documents, items, keys and their types (§1, §3).

Follows Falco's reader step by step: the kind of an item is decided by its first known key, each
key is decoded with Falco's messages ("Item has no mapping for key 'K'", "Value is not a scalar
value", "Can't decode YAML scalar value"...), and the first error of a file stops reading it
(warnings pile up).  Errors are raised as :class:`~falco_lab.rules.loading.collector.ItemError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal, TypeVar, overload

from falco_lab.priorities import normalize_priority
from falco_lab.rules.codes import Code
from falco_lab.rules.loading.collector import Collector, RuleUpdate, parse_version
from falco_lab.rules.loading.model import (
    Context,
    ExceptionEntry,
    ItemError,
    ListItem,
    Macro,
    PluginRequirement,
    Rule,
    RuleException,
)
from falco_lab.rules.loading.schema import RULE_APPENDABLE, RULE_REPLACEABLE
from falco_lab.rules.loading.yamlio import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    decode_bool,
    decode_int,
    get,
    is_null,
    keys,
    position_of,
)

__all__ = ["parse_priority", "read_documents"]

Warn = Callable[[Code, str, Context], None]
_T = TypeVar("_T")


WARNING_APPEND = (
    "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead."
)
WARNING_ENABLED = (
    "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry "
    "under the 'override' key (i.e. 'enabled: replace')."
)
ERROR_OVERRIDE_APPEND = (
    "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. "
    "'condition: append') under 'override' instead."
)
_RGX_BARESTR = "[^()\"'[:space:]=,]+"
_RGX_IDENTIFIER = "[a-zA-Z]+[a-zA-Z0-9_]*"
_LIST_NAME = re.compile("[^()\"'\\s=,]+")
_MACRO_NAME = re.compile(_RGX_IDENTIFIER)

_LIST_KEYS = frozenset({"list", "items", "append", "override"})
_MACRO_KEYS = frozenset({"macro", "condition", "append", "override"})
_RULE_KEYS = frozenset(
    {
        "rule",
        "condition",
        "output",
        "desc",
        "priority",
        "source",
        "enabled",
        "capture",
        "capture_duration",
        "warn_evttypes",
        "skip-if-unknown-filter",
        "tags",
        "exceptions",
        "override",
        "append",
    }
)


def parse_priority(text: str) -> str | None:
    """Falco's priority parsing: any letter case, ``info`` as an alias; the long capitalised name."""
    return normalize_priority(text)


class _Reader:
    def __init__(self, name: str, collector: Collector, warn: Warn) -> None:
        self.name = name
        self.collector = collector
        self.warn = warn

    # ------------------------------------------------------------------ decoding helpers
    def err(self, message: str, ctx: Context, code: Code = Code.ERR_YAML_VALIDATE) -> ItemError:
        return ItemError(code, message, ctx)

    def value_ctx(self, node: Node, key: str, ctx: Context) -> Context:
        return ctx.child("value for", key, position_of(node, self.name))

    def _value(
        self, item: MappingNode, key: str, ctx: Context, required: bool
    ) -> tuple[Node, Context] | None:
        """The node of ``key`` and its context (the checks ``decode_val`` and ``decode_seq`` share);
        None if optional and absent."""
        entry = get(item, key)
        if entry is None:
            if required:
                raise self.err(f"Item has no mapping for key '{key}'", ctx)
            return None
        value = entry[1]
        if is_null(value):
            raise self.err(f"Mapping for key '{key}' is empty", ctx)
        return value, self.value_ctx(value, key, ctx)

    @overload
    def scalar(self, item: MappingNode, key: str, ctx: Context, *, required: Literal[True] = ...) -> str: ...
    @overload
    def scalar(self, item: MappingNode, key: str, ctx: Context, *, required: bool) -> str | None: ...
    def scalar(self, item: MappingNode, key: str, ctx: Context, *, required: bool = True) -> str | None:
        """Falco's ``decode_val``: a non-empty scalar, with its errors; None if optional and absent."""
        found = self._value(item, key, ctx, required)
        if found is None:
            return None
        value, vctx = found
        if not isinstance(value, ScalarNode):
            raise self.err("Value is not a scalar value", vctx)
        if value.value == "":
            raise self.err("Value must be non-empty", vctx)
        text: str = value.value
        return text

    def _decoded(
        self, item: MappingNode, key: str, ctx: Context, required: bool, decode: Callable[[str], _T | None]
    ) -> _T | None:
        """A scalar decoded by ``decode`` (None: cannot decode, an error at the value)."""
        text = self.scalar(item, key, ctx, required=required)
        if text is None:
            return None
        value = decode(text)
        if value is None:
            raise self.err("Can't decode YAML scalar value", self.value_ctx(self.node(item, key), key, ctx))
        return value

    def boolean(self, item: MappingNode, key: str, ctx: Context, *, required: bool = False) -> bool | None:
        return self._decoded(item, key, ctx, required, decode_bool)

    def integer(self, item: MappingNode, key: str, ctx: Context) -> int | None:
        return self._decoded(item, key, ctx, False, lambda text: decode_int(text, unsigned=True))

    @overload
    def sequence(
        self, item: MappingNode, key: str, ctx: Context, *, required: Literal[True]
    ) -> list[str]: ...
    @overload
    def sequence(self, item: MappingNode, key: str, ctx: Context, *, required: bool) -> list[str] | None: ...
    def sequence(self, item: MappingNode, key: str, ctx: Context, *, required: bool) -> list[str] | None:
        """Falco's ``decode_seq``: a sequence of scalars."""
        found = self._value(item, key, ctx, required)
        if found is None:
            return None
        value, vctx = found
        if not isinstance(value, SequenceNode):
            raise self.err("Value is not a sequence", vctx)
        out: list[str] = []
        for element in value.value:
            if not isinstance(element, ScalarNode) or is_null(element):
                raise self.err("sequence value is not scalar", vctx)
            out.append(element.value)
        return out

    def node(self, item: MappingNode, key: str) -> Node:
        """The value node of ``key``, which the caller knows is present."""
        entry = get(item, key)
        if entry is None:  # pragma: no cover - callers check presence first
            raise KeyError(key)
        return entry[1]

    def source(self, item: MappingNode) -> str | None:
        """``source``: optional; an empty or null value means "not given"."""
        entry = get(item, "source")
        if entry is None or is_null(entry[1]) or not isinstance(entry[1], ScalarNode):
            return None
        text: str = entry[1].value
        return text or None

    def unknown_keys(self, item: MappingNode, known: frozenset[str], ctx: Context) -> None:
        for key, key_node in keys(item):
            if key not in known:
                self.warn(
                    Code.UNKNOWN_KEY,
                    f"Unknown key '{key}'. The key will be ignored.",
                    ctx.child("value for", key, position_of(key_node, self.name)),
                )

    def overrides(
        self, item: MappingNode, appendable: tuple[str, ...], replaceable: tuple[str, ...], ctx: Context
    ) -> tuple[set[str], set[str]]:
        """Falco's ``decode_overrides``: the keys to append and the keys to replace."""
        entry = get(item, "override")
        to_append: set[str] = set()
        to_replace: set[str] = set()
        if entry is None or not isinstance(entry[1], MappingNode):
            return to_append, to_replace
        octx = ctx.child("overrides", "", position_of(item, self.name))
        for key_node, op_node in entry[1].value:
            key = key_node.value if isinstance(key_node, ScalarNode) else ""
            operation = op_node.value if isinstance(op_node, ScalarNode) else ""
            kctx = octx.child("overrides", key, position_of(key_node, self.name))
            if operation == "append":
                if key not in appendable:
                    raise self.err(f"Key '{key}' cannot be appended to, use 'replace' instead", kctx)
                to_append.add(key)
            elif operation == "replace":
                if key not in replaceable:
                    raise self.err(f"Key '{key}' cannot be replaced", kctx)
                to_replace.add(key)
            else:
                raise self.err(
                    f"Invalid override operation for key '{key}': '{operation}'. Allowed values are: append replace ",
                    octx.child("value for", key, position_of(op_node, self.name)),
                )
        return to_append, to_replace

    # ------------------------------------------------------------------ documents and items
    def read(self, documents: list[Node | None], root: Context) -> None:
        for doc in documents:
            if is_null(doc):
                continue
            dctx = root
            if not isinstance(doc, (SequenceNode, MappingNode)):
                raise self.err("Rules content is not yaml", dctx)
            if not isinstance(doc, SequenceNode):
                raise self.err("Rules content is not yaml array of objects", dctx)
            for item in doc.value:
                if is_null(item):
                    continue
                self.read_item(item, dctx)

    def read_item(self, item: Node, parent: Context) -> None:
        pos = position_of(item, self.name)
        if not isinstance(item, MappingNode):
            raise self.err(
                "Unexpected element type. Each element should be a yaml associative array.",
                parent.child("rules content item", "", pos),
            )
        if get(item, "required_engine_version") is not None:
            self.read_engine_version(item, parent.child("required_engine_version", "", pos))
        elif get(item, "required_plugin_versions") is not None:
            self.read_plugin_versions(item, parent)
        elif get(item, "list") is not None:
            self.read_list(item, parent)
        elif get(item, "macro") is not None:
            self.read_macro(item, parent)
        elif get(item, "rule") is not None:
            self.read_rule(item, parent)
        else:
            self.warn(
                Code.UNKNOWN_ITEM, "Unknown top level item", parent.child("rules content item", "", pos)
            )

    def read_engine_version(self, item: MappingNode, ctx: Context) -> None:
        self.unknown_keys(item, frozenset({"required_engine_version"}), ctx)
        text = self.scalar(item, "required_engine_version", ctx)
        number = decode_int(text, unsigned=True) if text.strip().isdigit() else None
        if number is not None:
            version = (0, number, 0)
        else:
            parsed = parse_version(text)
            if parsed is None:
                raise self.err(
                    f"Unable to parse engine version '{text}' as a semver string. Expected \"x.y.z\" semver format.",
                    ctx,
                )
            version = parsed
        self.collector.require_engine_version(version, ctx)

    def read_plugin_versions(self, item: MappingNode, parent: Context) -> None:
        value = self.node(item, "required_plugin_versions")
        ctx = parent.child("required plugin versions", "", position_of(value, self.name))
        if not isinstance(value, SequenceNode):
            raise self.err("Value of required_plugin_versions must be a sequence", ctx)
        for plugin in value.value:
            tmp = ctx.child("required plugin versions entry", "", position_of(plugin, self.name))
            if not isinstance(plugin, MappingNode):
                raise self.err("Plugin version must be a mapping", tmp)
            name = self.scalar(plugin, "name", tmp)
            pctx = ctx.child("required plugin versions entry", name, position_of(plugin, self.name))
            version = self.scalar(plugin, "version", pctx)
            alternatives: list[tuple[str, str]] = []
            alt_entry = get(plugin, "alternatives")
            if alt_entry is not None:
                if not isinstance(alt_entry[1], SequenceNode):
                    raise self.err("Value of plugin version alternatives must be a sequence", pctx)
                for alt in alt_entry[1].value:
                    actx = pctx.child("required plugin versions alternative", "", position_of(alt, self.name))
                    if not isinstance(alt, MappingNode):
                        raise self.err("Plugin version alternative must be a mapping", actx)
                    alt_name = self.scalar(alt, "name", actx)
                    actx = pctx.child(
                        "required plugin versions alternative", alt_name, position_of(alt, self.name)
                    )
                    alternatives.append((alt_name, self.scalar(alt, "version", actx)))
            self.collector.require_plugin(PluginRequirement(name, version, tuple(alternatives), pctx))

    def read_list(self, item: MappingNode, parent: Context) -> None:
        pos = position_of(item, self.name)
        name = self.scalar(item, "list", parent.child("list", "", pos))
        ctx = parent.child("list", name, pos)
        self.unknown_keys(item, _LIST_KEYS, ctx)
        if _LIST_NAME.fullmatch(name) is None:
            self.warn(
                Code.INVALID_LIST_NAME,
                f"List has an invalid name. List names should match a regular expression: {_RGX_BARESTR}",
                ctx,
            )
        items = self.sequence(item, "items", ctx, required=True)
        append = bool(self.boolean(item, "append", ctx))
        if append:
            self.warn(Code.DEPRECATED_ITEM, WARNING_APPEND, ctx)
        to_append, to_replace = self.overrides(item, ("items",), ("items",), ctx)
        if append and (to_append or to_replace):
            raise self.err(ERROR_OVERRIDE_APPEND, ctx)
        info = ListItem(name, items, ctx)
        if append or "items" in to_append:
            self.collector.append_list(info)
        else:
            self.collector.define_list(info)

    def read_macro(self, item: MappingNode, parent: Context) -> None:
        pos = position_of(item, self.name)
        name = self.scalar(item, "macro", parent.child("macro", "", pos))
        ctx = parent.child("macro", name, pos)
        self.unknown_keys(item, _MACRO_KEYS, ctx)
        if _MACRO_NAME.fullmatch(name) is None:
            self.warn(
                Code.INVALID_MACRO_NAME,
                f"Macro has an invalid name. Macro names should match a regular expression: {_RGX_IDENTIFIER}",
                ctx,
            )
        condition = self.scalar(item, "condition", ctx)
        cond_ctx = ctx.child("macro condition", "", position_of(self.node(item, "condition"), self.name))
        append = bool(self.boolean(item, "append", ctx))
        if append:
            self.warn(Code.DEPRECATED_ITEM, WARNING_APPEND, ctx)
        to_append, to_replace = self.overrides(item, ("condition",), ("condition",), ctx)
        if append and (to_append or to_replace):
            raise self.err(ERROR_OVERRIDE_APPEND, ctx)
        info = Macro(name, condition, ctx, cond_ctx)
        if append or "condition" in to_append:
            self.collector.append_macro(info)
        else:
            self.collector.define_macro(info)

    # ------------------------------------------------------------------ rules
    def priority(self, item: MappingNode, ctx: Context) -> str:
        text = self.scalar(item, "priority", ctx)
        priority = parse_priority(text)
        if priority is None:
            raise self.err(
                "Invalid priority",
                ctx.child("rule priority", "", position_of(self.node(item, "priority"), self.name)),
            )
        return priority

    def child_ctx(self, item: MappingNode, key: str, item_type: str, ctx: Context) -> Context:
        return ctx.child(item_type, "", position_of(self.node(item, key), self.name))

    def read_rule(self, item: MappingNode, parent: Context) -> None:
        pos = position_of(item, self.name)
        name = self.scalar(item, "rule", parent.child("rule", "", pos))
        ctx = parent.child("rule", name, pos)
        self.unknown_keys(item, _RULE_KEYS, ctx)
        append = bool(self.boolean(item, "append", ctx))
        if append:
            self.warn(Code.DEPRECATED_ITEM, WARNING_APPEND, ctx)
        to_append, to_replace = self.overrides(item, RULE_APPENDABLE, RULE_REPLACEABLE, ctx)
        if append and (to_append or to_replace):
            raise self.err(ERROR_OVERRIDE_APPEND, ctx)
        if to_append or to_replace:
            self.read_rule_overrides(item, name, ctx, to_append, to_replace)
        elif append:
            update = RuleUpdate(name, ctx, source=self.source(item))
            if get(item, "condition") is not None:
                update.condition = self.scalar(item, "condition", ctx)
                update.cond_ctx = self.child_ctx(item, "condition", "rule condition", ctx)
            if get(item, "exceptions") is not None:
                update.exceptions = self.read_exceptions(item, ctx, append=True)
            self.collector.append_rule(update)
        elif not any(get(item, k) is not None for k in ("condition", "output", "desc", "priority")):
            enabled = self.boolean(item, "enabled", ctx, required=True)
            self.warn(Code.DEPRECATED_ITEM, WARNING_ENABLED, ctx)
            self.collector.enable_rule(name, bool(enabled), ctx)
        else:
            rule = Rule(name, ctx)
            rule.condition = self.scalar(item, "condition", ctx)
            rule.cond_ctx = self.child_ctx(item, "condition", "rule condition", ctx)
            rule.output = self.scalar(item, "output", ctx).strip()
            rule.output_ctx = self.child_ctx(item, "output", "rule output", ctx)
            rule.desc = self.scalar(item, "desc", ctx)
            rule.priority = self.priority(item, ctx)
            rule.source = self.source(item) or "syscall"
            rule.enabled = self._opt(self.boolean(item, "enabled", ctx), True)
            rule.warn_evttypes = self._opt(self.boolean(item, "warn_evttypes", ctx), True)
            rule.skip_if_unknown_filter = self._opt(self.boolean(item, "skip-if-unknown-filter", ctx), False)
            rule.tags = set(self.sequence(item, "tags", ctx, required=False) or ())
            rule.exceptions = self.read_exceptions(item, ctx, append=False) or []
            rule.capture = self._opt(self.boolean(item, "capture", ctx), False)
            rule.capture_duration = self._opt(self.integer(item, "capture_duration", ctx), 0)
            self.collector.define_rule(rule, self.warn)

    @staticmethod
    def _opt(value: _T | None, default: _T) -> _T:
        return default if value is None else value

    def read_rule_overrides(
        self, item: MappingNode, name: str, ctx: Context, to_append: set[str], to_replace: set[str]
    ) -> None:
        expected = {k for k in (*RULE_APPENDABLE, *RULE_REPLACEABLE) if get(item, k) is not None}
        source = self.source(item)

        def wanted(keys: set[str], kind: str, key: str) -> bool:
            if key not in keys:
                return False
            if key not in expected:
                article = "An" if kind == "append" else "A"
                raise self.err(
                    f"{article} {kind} override for '{key}' was specified but '{key}' is not defined", ctx
                )
            expected.discard(key)
            return True

        def update_of(keys: set[str], kind: str) -> RuleUpdate:
            """The keys an append and a replace override both take, read alike and in this order."""
            update = RuleUpdate(name, ctx, source=source)
            if wanted(keys, kind, "condition"):
                update.condition = self.scalar(item, "condition", ctx)
                update.cond_ctx = self.child_ctx(item, "condition", "rule condition", ctx)
            if wanted(keys, kind, "exceptions"):
                update.exceptions = self.read_exceptions(item, ctx, append=kind == "append")
            if wanted(keys, kind, "output"):
                update.output = self.scalar(item, "output", ctx).strip()
                update.output_ctx = self.child_ctx(item, "output", "rule output", ctx)
            if wanted(keys, kind, "desc"):
                update.desc = self.scalar(item, "desc", ctx)
            if wanted(keys, kind, "tags"):
                update.tags = set(self.sequence(item, "tags", ctx, required=True))
            return update

        if to_append:
            self.collector.append_rule(update_of(to_append, "append"))
        if to_replace:
            update = update_of(to_replace, "replace")
            if wanted(to_replace, "replace", "priority"):
                update.priority = self.priority(item, ctx)
            if wanted(to_replace, "replace", "enabled"):
                update.enabled = self.boolean(item, "enabled", ctx, required=True)
            if wanted(to_replace, "replace", "warn_evttypes"):
                update.warn_evttypes = self.boolean(item, "warn_evttypes", ctx, required=True)
            if wanted(to_replace, "replace", "skip-if-unknown-filter"):
                update.skip_if_unknown_filter = self.boolean(
                    item, "skip-if-unknown-filter", ctx, required=True
                )
            if wanted(to_replace, "replace", "capture"):
                update.capture = self.boolean(item, "capture", ctx, required=True)
            if wanted(to_replace, "replace", "capture_duration"):
                update.capture_duration = self.integer(item, "capture_duration", ctx)
            self.collector.replace_rule(update)
        for key in sorted(expected):  # Falco walks a std::set: alphabetical order
            entry = get(item, key)
            key_node = entry[0] if entry is not None else item
            kctx = ctx.child("overrides", key, position_of(key_node, self.name))
            raise self.err(
                f"Unexpected key '{key}': no corresponding entry under 'override' is defined.", kctx
            )

    # ------------------------------------------------------------------ exceptions
    def entry(self, node: Node, ctx: Context) -> ExceptionEntry:
        """Falco's ``decode_exception_info_entry``: a scalar or a (nested) sequence of scalars."""
        out = ExceptionEntry(defined=True)
        if isinstance(node, ScalarNode) and not is_null(node):
            if node.value == "":
                raise self.err("Value must be non-empty", ctx)
            out.item = node.value
        elif isinstance(node, SequenceNode):
            out.is_list = True
            for element in node.value:
                out.items.append(
                    self.entry(element, ctx.child("exception", "", position_of(element, self.name)))
                )
        return out

    def read_exceptions(self, item: MappingNode, ctx: Context, *, append: bool) -> list[RuleException] | None:
        entry = get(item, "exceptions")
        if entry is None or is_null(entry[1]):
            return None
        exs = entry[1]
        exes_ctx = ctx.child("exceptions", "", position_of(exs, self.name))
        if not isinstance(exs, SequenceNode):
            raise self.err("Rule exceptions must be a sequence", exes_ctx)
        names: set[str] = set()
        out: list[RuleException] = []
        for ex in exs.value:
            tmp = exes_ctx.child("exception", "", position_of(ex, self.name))
            if not isinstance(ex, MappingNode):
                raise self.err("Rule exception must be a mapping", tmp)
            name = self.scalar(ex, "name", tmp)
            if name in names:
                self.warn(
                    Code.EXCEPTION_NAME_NOT_UNIQUE,
                    f"Multiple definitions of exception '{name}' in the same rule",
                    tmp,
                )
            names.add(name)
            ex_ctx = ctx.child("exception", name, position_of(ex, self.name))
            info = RuleException(name, ex_ctx)
            fields = get(ex, "fields")
            if fields is None:
                if not append:
                    raise self.err("Item has no mapping for key 'fields'", ex_ctx)
            else:
                info.fields = self.entry(fields[1], self.value_ctx(fields[1], "fields", ex_ctx))
            comps = get(ex, "comps")
            if comps is not None:
                info.comps = self.entry(comps[1], self.value_ctx(comps[1], "comps", ex_ctx))
            values = get(ex, "values")
            if values is not None:
                vals_ctx = ex_ctx.child("exception values", "", position_of(values[1], self.name))
                if not isinstance(values[1], SequenceNode):
                    raise self.err("Rule exception values must be a sequence", vals_ctx)
                for value in values[1].value:
                    vctx = vals_ctx.child("exception value", "", position_of(value, self.name))
                    info.values.append(self.entry(value, vctx))
            elif append:
                self.warn(Code.APPEND_NO_VALUES, "Overriding/appending exception with no values", ex_ctx)
            out.append(info)
        return out


def read_documents(
    documents: list[Node | None], name: str, collector: Collector, warn: Warn, root: Context
) -> None:
    """Read the composed documents of file ``name`` into ``collector``.

    Raises
    ------
    ItemError
        The first error of the file (Falco stops reading a file at its first error).
    """
    _Reader(name, collector, warn).read(documents, root)
