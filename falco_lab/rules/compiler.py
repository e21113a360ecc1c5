"""Compile a condition: lists, macros, field and type checks, warnings (rules-language §5–§6).

Pipeline of :func:`compile_condition`: textual list substitution → :func:`~falco_lab.rules.parser.parse`
→ :func:`expand_macros` → :func:`compile_ast`. The result, :class:`Condition`, evaluates one event
(:meth:`Condition.matches`), a whole DataFrame (:meth:`Condition.mask`) or explains a decision
(:meth:`Condition.explain`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from falco_lab.rules import ast
from falco_lab.rules.errors import Position, RuleError
from falco_lab.rules.fields import EVENT_TYPES, INT_WIDTHS, FieldInfo, resolve
from falco_lab.rules.lists import substitute_lists
from falco_lab.rules.parser import TRANSFORMERS, parse
from falco_lab.rules.transformers import SINGLE_ARG, TRANSFORMER_SPECS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from falco_lab.rules.explain import Explanation

__all__ = [
    "CAnd",
    "CCheck",
    "CNot",
    "COr",
    "Condition",
    "ConstOperand",
    "FieldOperand",
    "ListOperand",
    "MultiOperand",
    "Operand",
    "TransformOperand",
    "compile_ast",
    "compile_condition",
    "expand_macros",
    "parse_cached",
]

COMPILE_CODE = "LOAD_ERR_COMPILE_CONDITION"
VALIDATE_CODE = "LOAD_ERR_VALIDATE"
WARN_COMPILE = "LOAD_COMPILE_CONDITION"
WARN_NA = "LOAD_UNSAFE_NA_CHECK"
WARN_DEPRECATED = "LOAD_DEPRECATED_ITEM"

EVT_DIR_MESSAGE = (
    "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always "
    "evaluates to false. The rule expression can be simplified by removing the condition on 'evt.dir'"
)

_STRING_TYPES = frozenset({"CHARBUF", "FSPATH", "FSRELPATH"})
_IPADDR_TYPES = frozenset({"IPADDR", "IPV4ADDR", "IPV6ADDR"})
_IPNET_TYPES = frozenset({"IPNET", "IPV4NET", "IPV6NET"})
_LIST_CAPABLE = frozenset({"CHARBUF", "UINT64", "RELTIME", "ABSTIME", "BOOL", "IPADDR", "IPNET"})
_ANCESTOR_FIELDS = frozenset({"proc.aname", "proc.aexe", "proc.aexepath", "proc.acmdline"})
_EVTTYPE_FIELDS = frozenset({"evt.type", "syscall.type"})
_EVTTYPE_OPS = frozenset({"=", "==", "!=", "in", "intersects"})
_NA_OPS = frozenset({"=", "==", "!=", "in", "intersects", "pmatch"})
_LIST_OPS = frozenset({"in", "intersects", "pmatch"})
_REGEX_SPECIAL = set(".^$*+?()[]{}|\\")
_FIELDNAME_RX = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+(?:\[[^\]]*\])?")


def vtype_of(libs_type: str) -> str:
    """The evaluator's value type of a libs type: str, bytes, int, double, bool, ip, ipnet or any."""
    if libs_type in _STRING_TYPES:
        return "str"
    if libs_type == "BYTEBUF":
        return "bytes"
    if libs_type == "BOOL":
        return "bool"
    if libs_type == "DOUBLE":
        return "double"
    if libs_type in _IPADDR_TYPES:
        return "ip"
    if libs_type in _IPNET_TYPES:
        return "ipnet"
    if libs_type in INT_WIDTHS:
        return "int"
    return "any"


# --------------------------------------------------------------------------- compiled tree


@dataclass(frozen=True, slots=True)
class FieldOperand:
    """Extraction of one field from an event: ``key`` is the event key / DataFrame column."""

    key: str
    info: FieldInfo
    arg: str | None
    ltype: str  # libs type of the value
    vtype: str
    is_list: bool
    width: tuple[int, bool] | None
    constant: Any = None  # a fixed value (evt.dir is always '<' since Falco 0.42)
    any_ancestor: bool = False  # proc.aname & co. without argument: true if any ancestor matches


@dataclass(frozen=True, slots=True)
class TransformOperand:
    name: str
    inner: Operand
    ltype: str
    vtype: str
    is_list: bool
    width: tuple[int, bool] | None


@dataclass(frozen=True, slots=True)
class ConstOperand:
    """A literal argument of a multi-value transformer (``join("-", ...)``)."""

    value: str
    ltype: str = "CHARBUF"
    vtype: str = "str"
    is_list: bool = False
    width: tuple[int, bool] | None = None


@dataclass(frozen=True, slots=True)
class ListOperand:
    """A ``(a, b, ...)`` argument of ``join``: the values of its items, in order."""

    items: tuple[Any, ...]
    ltype: str = "CHARBUF"
    vtype: str = "str"
    is_list: bool = True
    width: tuple[int, bool] | None = None


@dataclass(frozen=True, slots=True)
class MultiOperand:
    """``join(sep, list)`` or ``concat(a, b, ...)`` (Falco 0.44): a string built from several values."""

    name: str
    args: tuple[Any, ...]
    ltype: str = "CHARBUF"
    vtype: str = "str"
    is_list: bool = False
    width: tuple[int, bool] | None = None


Operand = FieldOperand | TransformOperand | MultiOperand


@dataclass(frozen=True, slots=True)
class CCheck:
    """A compiled check. ``values`` are typed constants; ``rhs`` is a field operand (``val()``)."""

    node: ast.Node
    left: Operand
    op: str
    modifier: str | None = None
    values: tuple[Any, ...] = ()
    rhs: Operand | None = None


@dataclass(frozen=True, slots=True)
class CAnd:
    node: ast.Node
    children: tuple[CNode, ...]


@dataclass(frozen=True, slots=True)
class COr:
    node: ast.Node
    children: tuple[CNode, ...]


@dataclass(frozen=True, slots=True)
class CNot:
    node: ast.Node
    child: CNode


CNode = CAnd | COr | CNot | CCheck


# --------------------------------------------------------------------------- macros


@lru_cache(maxsize=8192)
def parse_cached(text: str) -> ast.Node:
    """:func:`~falco_lab.rules.parser.parse` with a cache (trees are immutable, so sharing is safe)."""
    return parse(text)


def expand_macros(
    node: ast.Node, macros: Mapping[str, ast.Node], *, names: dict[int, str] | None = None
) -> ast.Node:
    """Replace every macro reference by the macro's (recursively expanded) tree (§5.7).

    Parameters
    ----------
    node
        A parsed condition.
    macros
        The macros visible to this condition, name → parsed (unexpanded) tree.
    names
        If given, filled with ``id(subtree) → macro name`` for every expanded macro (the subtrees are
        part of the returned tree), so explanations can say which macro a part came from.

    Raises
    ------
    RuleError
        ``LOAD_ERR_VALIDATE`` "Undefined macro 'X' used in filter." or "reference loop in macro 'X'".
    """
    done: dict[str, ast.Node] = {}

    def expand(n: ast.Node, stack: tuple[str, ...]) -> ast.Node:
        if isinstance(n, ast.Identifier):
            name = n.name
            if name in stack:
                raise RuleError(VALIDATE_CODE, f"reference loop in macro '{name}'", n.pos)
            if name in done:
                return done[name]
            if name not in macros:
                raise RuleError(VALIDATE_CODE, f"Undefined macro '{name}' used in filter.", n.pos)
            result = expand(macros[name], (*stack, name))
            done[name] = result
            if names is not None:
                names.setdefault(id(result), name)
            return result
        if isinstance(n, ast.And | ast.Or):
            kids = tuple(expand(c, stack) for c in n.children)
            if all(a is b for a, b in zip(kids, n.children, strict=True)):
                return n
            return type(n)(kids, n.pos)
        if isinstance(n, ast.Not):
            child = expand(n.child, stack)
            return n if child is n.child else ast.Not(child, n.pos)
        return n

    return expand(node, ())


# --------------------------------------------------------------------------- value parsing


def _fail(message: str, pos: Position | None) -> RuleError:
    return RuleError(COMPILE_CODE, message, pos)


def wrap_int(value: int, width: tuple[int, bool] | None) -> int:
    """Wrap an integer to the field's width and signedness, like a C cast."""
    if width is None:
        return value
    bits, signed = width
    value &= (1 << bits) - 1
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


_DECIMAL = re.compile(r"[+-]?[0-9]+")


def parse_constant(text: str, operand: Operand, op: str, pos: Position | None) -> Any:
    """A right-hand constant parsed for the left operand's type (libs value parser rules)."""
    if "\0" in text:
        raise _fail("filter value cannot contain a NUL byte", pos)
    ltype, vtype = operand.ltype, operand.vtype
    if op in ("bcontains", "bstartswith"):
        if not re.fullmatch(r"(?:[0-9a-fA-F]{2})+", text):
            raise _fail("bcontains and bstartswith operator support hex strings only", pos)
        return bytes.fromhex(text)
    if op == "pmatch" or vtype == "str":
        return text
    if vtype == "bytes":
        return text.encode("utf-8", "surrogateescape")
    if vtype in ("int", "double"):
        if _DECIMAL.fullmatch(text.strip()):
            number = int(text.strip())
            return float(number) if vtype == "double" else wrap_int(number, operand.width)
        if ltype == "PORT":
            try:
                return socket.getservbyname(text)
            except OSError:
                pass
        raise _fail(f"{text} is not a valid number", pos)
    if vtype == "bool":
        if text == "true":
            return True
        if text == "false":
            return False
        raise _fail(f"unrecognized boolean value {text}", pos)
    if vtype == "ip":
        try:
            return ipaddress.IPv4Address(text) if "." in text else ipaddress.IPv6Address(text)
        except ValueError:
            raise _fail(f"unrecognized IP address {text}", pos) from None
    if vtype == "ipnet":
        return _parse_net(text, pos)
    # dynamic (evt.rawarg): numbers when they look like numbers
    if _DECIMAL.fullmatch(text):
        return int(text)
    return text


def _parse_net(text: str, pos: Position | None) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if "/" not in text:
        raise _fail(f"unrecognized IP network {text}", pos)
    address, _, bits = text.partition("/")
    try:
        if "." in address:
            ipaddress.IPv4Address(address)
        else:
            ipaddress.IPv6Address(address)
    except ValueError:
        raise _fail(f"unrecognized IP network {text}", pos) from None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise _fail(f"invalid netmask {bits}", pos) from None


# --------------------------------------------------------------------------- operator checks


def comparable_error(op: str, ltype: str, is_list: bool) -> str | None:
    """Falco's operator/type compatibility (libs ``flt_is_comparable``): error text, or None if fine."""
    if op == "exists":
        return None
    if is_list:
        if ltype not in _LIST_CAPABLE:
            return f"list filters are not supported for type '{ltype}'"
        if op in ("in", "intersects"):
            return None
        return f"'{op}' operator not supported list filters"
    if ltype in INT_WIDTHS or ltype == "DOUBLE":
        allowed, family = {"=", "==", "!=", "<", "<=", ">", ">=", "in", "intersects"}, "numeric"
    elif ltype == "BOOL":
        allowed, family = {"=", "==", "!=", "in", "intersects"}, "numeric"
    elif ltype in _IPADDR_TYPES or ltype in _IPNET_TYPES:
        allowed, family = {"=", "==", "!=", "in", "intersects"}, "ip address and network"
    elif ltype in _STRING_TYPES:
        allowed = {"=", "==", "!=", "<", "<=", ">", ">=", "contains", "icontains", "startswith", "endswith"}
        allowed |= {"glob", "iglob", "pmatch", "regex", "in", "intersects"}
        family = "string"
    elif ltype == "BYTEBUF":
        allowed = {"=", "==", "!=", "contains", "startswith", "endswith", "bcontains", "bstartswith"}
        allowed |= {"in", "intersects"}
        family = "buffer"
    elif ltype == "DYNAMIC":
        return (
            None
            if op not in ("bcontains", "bstartswith")
            else f"'{op}' operator not supported for type '{ltype}'"
        )
    else:
        return f"'{op}' operator not supported for type '{ltype}'"
    if op in allowed:
        return None
    return f"'{op}' operator not supported for {family} filters"


def _regex_is_simple(pattern: str) -> bool:
    body = pattern
    if body.startswith("^"):
        body = body[1:]
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    for affix in (".*", ".+", ".?"):
        if body.startswith(affix):
            body = body[2:]
            break
    for affix in (".*", ".+", ".?"):
        if body.endswith(affix):
            body = body[:-2]
            break
    return not any(c in _REGEX_SPECIAL for c in body)


def compile_regex(pattern: str, pos: Position | None) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise _fail(f"invalid regex pattern: {exc}", pos) from None


# --------------------------------------------------------------------------- the compiler


class _Compiler:
    def __init__(self, source: str, extra_fields: Mapping[str, FieldInfo] | None = None) -> None:
        self.source = source
        self.extra = extra_fields
        self.warnings: list[tuple[str, str]] = []
        self.fields: dict[str, None] = {}

    def warn(self, code: str, message: str) -> None:
        if (code, message) not in self.warnings:
            self.warnings.append((code, message))

    # operands ------------------------------------------------------------
    def field(self, node: ast.Field) -> FieldOperand:
        info, arg = resolve(node.name, node.arg, self.source, node.pos, self.extra)
        key = node.name if node.arg is None else f"{node.name}[{node.arg}]"
        self.fields.setdefault(key, None)
        ltype = info.type
        constant = None
        if info.name == "evt.dir":
            constant = "<"
            self.warn(WARN_DEPRECATED, EVT_DIR_MESSAGE)
        elif info.has("deprecated") and info.name.startswith(("evt.latency", "evt.wait_latency")):
            self.warn(
                WARN_DEPRECATED,
                f"usage of deprecated field '{info.name}' has been detected in the rule condition",
            )
        return FieldOperand(
            key=key,
            info=info,
            arg=arg,
            ltype=ltype,
            vtype=vtype_of(ltype),
            is_list=info.is_list,
            width=INT_WIDTHS.get(ltype),
            constant=constant,
            any_ancestor=arg is None and info.name in _ANCESTOR_FIELDS,
        )

    def operand(self, node: ast.Node) -> Operand:
        if isinstance(node, ast.Field):
            return self.field(node)
        if isinstance(node, ast.Transformer):
            return self.transformer(node)
        raise _fail("expected a field or a field transformer", getattr(node, "pos", None))

    def transformer(self, node: ast.Transformer) -> TransformOperand | MultiOperand:
        name = node.name
        if name in ("join", "concat"):
            return self.multi(node)
        if name not in SINGLE_ARG:
            raise _fail(f"transformer '{name}' is not supported by falco-lab yet", node.pos)
        if node.arg is not None:
            raise _fail(f"transformer '{name}' does not support field arguments", node.pos)
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Field | ast.Transformer):
            raise _fail(f"transformer '{name}' takes exactly one field argument", node.pos)
        inner = self.operand(node.args[0])
        if isinstance(inner, FieldOperand) and inner.info.has("no_transformer"):
            raise _fail(f"field '{inner.info.name}' does not support transformers", node.pos)
        spec = TRANSFORMER_SPECS[name]
        accepted = inner.ltype in spec.input_types or ("*list" in spec.input_types and inner.is_list)
        if not accepted:
            raise _fail(f"field type '{inner.ltype}' is not supported by '{name}' transformer", node.pos)
        ltype = spec.result_type or inner.ltype
        is_list = inner.is_list and spec.maps_lists
        return TransformOperand(name, inner, ltype, vtype_of(ltype), is_list, INT_WIDTHS.get(ltype))

    def multi_arg(self, node: ast.Node) -> Any:
        if isinstance(node, ast.Value):
            return ConstOperand(node.value)
        if isinstance(node, ast.TransformerList):
            return ListOperand(tuple(self.multi_arg(i) for i in node.items))
        return self.operand(node)

    def multi(self, node: ast.Transformer) -> MultiOperand:
        name = node.name
        if node.arg is not None:
            raise _fail(f"transformer '{name}' does not support field arguments", node.pos)
        args = tuple(self.multi_arg(a) for a in node.args)
        if name == "join":
            if len(args) != 2:
                raise _fail("join() requires exactly 2 arguments: separator and list", node.pos)
            if args[0].is_list:
                raise _fail("join() first argument (separator) must be a single value, not a list", node.pos)
            if not args[1].is_list:
                raise _fail("join() second argument must be a list", node.pos)
        else:
            if len(args) < 2:
                raise _fail("concat() requires at least 2 arguments", node.pos)
            if any(a.ltype != "CHARBUF" or a.is_list for a in args):
                raise _fail("concat() arguments must be strings", node.pos)
        return MultiOperand(name, args)

    # checks ---------------------------------------------------------------
    def check(self, node: ast.Node) -> CNode:
        if isinstance(node, ast.And):
            return CAnd(node, tuple(self.check(c) for c in node.children))
        if isinstance(node, ast.Or):
            return COr(node, tuple(self.check(c) for c in node.children))
        if isinstance(node, ast.Not):
            return CNot(node, self.check(node.child))
        if isinstance(node, ast.Identifier):
            raise RuleError(VALIDATE_CODE, f"Undefined macro '{node.name}' used in filter.", node.pos)
        if isinstance(node, ast.UnaryCheck):
            return CCheck(node, self.operand(node.left), "exists")
        if isinstance(node, ast.BinaryCheck):
            return self.binary(node)
        raise _fail(f"unexpected syntax node {type(node).__name__}", getattr(node, "pos", None))

    def binary(self, node: ast.BinaryCheck) -> CCheck:
        left = self.operand(node.left)
        op = node.op
        error = comparable_error(op, left.ltype, left.is_list)
        if error is not None:
            raise _fail(error, node.pos)
        right = node.right
        if isinstance(right, ast.Val | ast.Transformer):
            return self.field_comparison(node, left, right)
        if isinstance(right, ast.ListValue):
            texts = right.values
        elif isinstance(right, ast.Value):
            texts = (right.value,)
        else:  # pragma: no cover - the parser produces nothing else
            raise _fail("unexpected right-hand side", node.pos)
        values = tuple(parse_constant(t, left, op, right.pos) for t in texts)
        if op == "regex":
            for text in texts:
                compile_regex(text, right.pos)
                if _regex_is_simple(text):
                    self.warn(
                        WARN_COMPILE,
                        f"regex check with '{text}' may be optimized with simpler operators such as "
                        "'=', 'contains', 'startswith', 'endswith'",
                    )
        if isinstance(left, FieldOperand) and left.info.name in _EVTTYPE_FIELDS and op in _EVTTYPE_OPS:
            for text in texts:
                if text not in EVENT_TYPES:
                    raise _fail(f"unknown event type {text}", right.pos)
        self.const_warnings(texts)
        if (
            op in _NA_OPS
            and isinstance(left, FieldOperand)
            and left.info.name.startswith(("ka.", "jevt."))
            and "<NA>" in texts
        ):
            self.warn(WARN_NA, "")
        return CCheck(node, left, op, node.modifier, values)

    def const_warnings(self, texts: tuple[str, ...]) -> None:
        for text in texts:
            compact = "".join(text.split())
            if not compact:
                continue
            if _FIELDNAME_RX.fullmatch(compact) and self._is_field(compact):
                self.warn(WARN_COMPILE, f"'{text}' may be a valid field misused as a const string value")
            elif compact.startswith(tuple(t + "(" for t in TRANSFORMERS)) and self._is_transformer(compact):
                self.warn(
                    WARN_COMPILE, f"'{text}' may be a valid field transformer misused as a const string value"
                )

    def _is_field(self, text: str) -> bool:
        name, _, rest = text.partition("[")
        arg = rest[:-1] if rest else None
        try:
            resolve(name, arg, self.source, None, self.extra)
        except RuleError:
            return False
        return True

    def _is_transformer(self, text: str) -> bool:
        try:
            tree = parse(f"{text} exists")
            if not isinstance(tree, ast.UnaryCheck):
                return False
            _Compiler(self.source, self.extra).operand(tree.left)
        except RuleError:
            return False
        return True

    def field_comparison(
        self, node: ast.BinaryCheck, left: Operand, right: ast.Val | ast.Transformer
    ) -> CCheck:
        if isinstance(right, ast.Val):
            if right.arg is not None:
                raise _fail("transformer 'val' does not support field arguments", right.pos)
            rhs: Operand = self.field(right.field)
        else:
            rhs = self.transformer(right)
        for side in (left, rhs):
            base = side
            while isinstance(base, TransformOperand):
                base = base.inner
            if isinstance(base, FieldOperand) and base.info.has("no_rhs"):
                raise _fail(f"field '{base.info.name}' cannot be compared against another field", right.pos)
        if node.op in ("bcontains", "bstartswith") and rhs.vtype != "bytes":
            raise _fail("bcontains and bstartswith operator support hex strings only", right.pos)
        if _family(left.vtype) != _family(rhs.vtype) or (rhs.is_list and node.op not in _LIST_OPS):
            raise _fail(
                f"'{node.op}' operator not supported between fields of type '{left.ltype}' and '{rhs.ltype}'",
                right.pos,
            )
        return CCheck(node, left, node.op, node.modifier, (), rhs)


def _family(vtype: str) -> str:
    if vtype in ("str", "bytes"):
        return "text"
    if vtype in ("int", "double", "any"):
        return "number" if vtype != "any" else "any"
    if vtype in ("ip", "ipnet"):
        return "ip"
    return vtype


# --------------------------------------------------------------------------- event types


def _evttypes(node: ast.Node, negated: bool, universe: frozenset[str]) -> frozenset[str]:
    if isinstance(node, ast.And | ast.Or):
        sets = [_evttypes(c, negated, universe) for c in node.children]
        union = isinstance(node, ast.Or) != negated
        out = sets[0]
        for s in sets[1:]:
            out = out | s if union else out & s
        return out
    if isinstance(node, ast.Not):
        return _evttypes(node.child, not negated, universe)
    if (
        isinstance(node, ast.BinaryCheck)
        and isinstance(node.left, ast.Field)
        and node.left.name in _EVTTYPE_FIELDS
        and node.left.arg is None
        and node.op in _EVTTYPE_OPS
        and node.modifier is None
        and isinstance(node.right, ast.Value | ast.ListValue)
    ):
        values = node.right.values if isinstance(node.right, ast.ListValue) else (node.right.value,)
        matched = frozenset(values) & universe
        if node.op == "!=":
            matched = universe - matched
        return universe - matched if negated else matched
    never = _evt_num_constant(node)
    if never is not None:
        # evt.num = 0 can never hold (events are numbered from 1): no event type; != 0 always holds
        return frozenset() if never != negated else universe
    return universe


def _evt_num_constant(node: ast.Node) -> bool | None:
    """True for ``evt.num = 0`` (never true), False for ``evt.num != 0`` (always true), else None."""
    if (
        isinstance(node, ast.BinaryCheck)
        and isinstance(node.left, ast.Field)
        and node.left.name == "evt.num"
        and node.left.arg is None
        and node.modifier is None
        and isinstance(node.right, ast.Value)
        and _DECIMAL.fullmatch(node.right.value)
        and int(node.right.value) == 0
    ):
        if node.op in ("=", "=="):
            return True
        if node.op == "!=":
            return False
    return None


def event_types(node: ast.Node) -> frozenset[str] | None:
    """Event types an (expanded) condition can match; None when it can match every type."""
    result = _evttypes(node, False, EVENT_TYPES)
    return None if result == EVENT_TYPES else result


# --------------------------------------------------------------------------- public API


@dataclass(eq=False)
class Condition:
    """A compiled condition.

    Attributes
    ----------
    ast
        The expanded syntax tree.
    text
        Canonical text (§10), e.g. ``(evt.type = open and proc.name in (cat, ls))``.
    source
        Event source the fields were checked against.
    evttypes
        Event types the condition can match, or None for "all of them".
    fields
        Fields used, as written (``proc.aname[2]`` keeps its argument).
    warnings
        ``(code, message)`` pairs: compiler warnings (``LOAD_COMPILE_CONDITION``), ``LOAD_UNSAFE_NA_CHECK``
        and ``LOAD_DEPRECATED_ITEM`` for deprecated fields.
    """

    ast: ast.Node
    text: str
    source: str
    evttypes: frozenset[str] | None
    fields: tuple[str, ...]
    warnings: tuple[tuple[str, str], ...]
    compiled: CNode = field(repr=False)
    macro_names: dict[int, str] = field(default_factory=dict, repr=False)
    _matcher: Any = field(default=None, repr=False)

    @property
    def evttype_count(self) -> int:
        """How many event types the condition can match (all known types when unrestricted)."""
        return len(EVENT_TYPES) if self.evttypes is None else len(self.evttypes)

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether one event (field → value; absent or None means missing) satisfies the condition."""
        if self._matcher is None:
            from falco_lab.rules.evaluate import build_matcher

            self._matcher = build_matcher(self.compiled)
        return self._matcher(event)

    def mask(self, df: pd.DataFrame, cache: Any = None) -> pd.Series:
        """Boolean Series: which rows of ``df`` (columns named as fields) satisfy the condition.

        ``cache`` may be a :class:`falco_lab.rules.vectorized.FrameCache` shared by several conditions
        evaluated over the same frame (columns are then converted and factorised once).
        """
        from falco_lab.rules.vectorized import evaluate_frame

        return evaluate_frame(self.compiled, df, cache)

    def explain(self, event: Mapping[str, Any]) -> Explanation:
        """Which sub-conditions were true, false or missing for ``event``."""
        from falco_lab.rules.explain import explain

        return explain(self.compiled, event, self.macro_names)

    def __str__(self) -> str:
        return self.text


def compile_ast(
    node: ast.Node,
    *,
    source: str = "syscall",
    extra_fields: Mapping[str, FieldInfo] | None = None,
    macro_names: dict[int, str] | None = None,
) -> Condition:
    """Compile an expanded syntax tree against the field catalogue of ``source``.

    ``extra_fields`` (name → :class:`~falco_lab.rules.fields.FieldInfo`) adds fields that are not in
    the shipped catalogue, such as a plugin's fields; they are looked up first. ``macro_names`` is the
    ``names`` mapping filled by :func:`expand_macros` (used by :meth:`Condition.explain`).

    Raises
    ------
    RuleError
        ``LOAD_ERR_COMPILE_CONDITION`` with Falco's message (unknown field, operator not supported
        for the type, invalid number, unknown event type, ...), or ``LOAD_ERR_VALIDATE`` for a macro
        reference left in the tree.
    """
    compiler = _Compiler(source, extra_fields)
    compiled = compiler.check(node)
    return Condition(
        ast=node,
        text=ast.to_text(node),
        source=source,
        evttypes=event_types(node) if source == "syscall" else None,
        fields=tuple(compiler.fields),
        warnings=tuple(compiler.warnings),
        compiled=compiled,
        macro_names=dict(macro_names or {}),
    )


def compile_condition(
    text: str,
    lists: Mapping[str, Any] | None = None,
    macros: Mapping[str, str | ast.Node] | None = None,
    *,
    source: str = "syscall",
    extra_fields: Mapping[str, FieldInfo] | None = None,
) -> Condition:
    """Compile condition text the way Falco does: lists as text, parse, expand macros, check.

    Parameters
    ----------
    text
        The condition.
    lists
        List name → items, applied in order to the condition and to the macros' conditions.
    macros
        Macro name → condition text (or an already parsed tree).
    source
        Event source whose fields are valid (``syscall``, ``k8s_audit``).
    extra_fields
        Additional fields (see :func:`compile_ast`).

    Returns
    -------
    Condition

    Raises
    ------
    RuleError
        With Falco's code and message; parse errors carry the position in ``text`` (or in the macro's
        text when the error is inside a macro).

    Examples
    --------
    >>> c = compile_condition("evt.type = execve and proc.name in (shells)", lists={"shells": ["sh", "bash"]})
    >>> c.text
    '(evt.type = execve and proc.name in (sh, bash))'
    >>> c.matches({"evt.type": "execve", "proc.name": "bash"})
    True
    """
    substituted, _ = substitute_lists(text, lists)
    tree = parse_cached(substituted)
    names: dict[int, str] = {}
    if macros:
        parsed: dict[str, ast.Node] = {}
        for name, body in macros.items():
            if isinstance(body, ast.Node):
                parsed[name] = body
            else:
                parsed[name] = _LazyMacro(body, lists)  # type: ignore[assignment]
        tree = expand_macros(tree, _MacroView(parsed), names=names)
    elif ast.collect_identifiers(tree):
        tree = expand_macros(tree, {})
    return compile_ast(tree, source=source, extra_fields=extra_fields, macro_names=names)


class _LazyMacro:
    __slots__ = ("text", "lists")

    def __init__(self, text: str, lists: Mapping[str, Any] | None) -> None:
        self.text = text
        self.lists = lists


class _MacroView(Mapping):
    """Parses macro texts only when a condition refers to them."""

    def __init__(self, items: dict[str, Any]) -> None:
        self._items = items

    def __getitem__(self, name: str) -> ast.Node:
        value = self._items[name]
        if isinstance(value, _LazyMacro):
            value = parse_cached(substitute_lists(value.text, value.lists)[0])
            self._items[name] = value
        return value

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
