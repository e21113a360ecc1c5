"""Evaluation of compiled conditions on one event (rules-language §7).

An event is a mapping field → value. Values may be typed (``int``, ``bool``, ``bytes``, ``list``,
``ipaddress`` objects) or the text Falco prints (``"1234"``, ``"true"``, ``"10.0.0.1"``): they are
converted by the field's type. An absent key, ``None``, ``pandas.NA`` or a float NaN is a missing value;
a check on a missing value is false whatever the operator (``not`` simply negates).

The scalar semantics here (:func:`convert`, :func:`test_check`) are also what the vectorised evaluator
applies to the distinct values of a column, so both agree exactly.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from falco_lab.rules.compiler import (
    CAnd,
    CCheck,
    CNode,
    CNot,
    ConstOperand,
    COr,
    FieldOperand,
    ListOperand,
    MultiOperand,
    Operand,
    wrap_int,
)
from falco_lab.rules.transformers import MISSING, apply_transformer, ascii_lower

__all__ = [
    "MISSING",
    "build_matcher",
    "compare",
    "convert",
    "extract",
    "glob_regex",
    "is_missing",
    "pmatch",
    "test_check",
]

try:  # pandas is a dependency, but keep the per-event path usable without importing it eagerly
    from pandas import NA as _PD_NA
    from pandas import NaT as _PD_NAT
except ImportError:  # pragma: no cover
    _PD_NA = _PD_NAT = object()

_DECIMAL = re.compile(r"\s*[+-]?[0-9]+\s*")
_EQUALITY_OPS = frozenset({"=", "==", "in", "intersects"})


def is_missing(value: Any) -> bool:
    """None, pandas NA/NaT and float NaN count as missing values."""
    if value is None or value is _PD_NA or value is _PD_NAT:
        return True
    return isinstance(value, float) and math.isnan(value)


# --------------------------------------------------------------------------- conversion


def _to_int(value: Any, width) -> Any:
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return wrap_int(int(value), width)
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return MISSING
        if value.is_integer():
            return wrap_int(int(value), width)
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        if _DECIMAL.fullmatch(value):
            return wrap_int(int(value), width)
        try:
            number = float(value)
        except ValueError:
            return MISSING
        return _to_int(number, width)
    return MISSING


def _to_double(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    elif isinstance(value, str | bytes):
        try:
            number = float(value)
        except ValueError:
            return MISSING
    else:
        return MISSING
    return MISSING if math.isnan(number) else number


def _to_bool(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value) != 0
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
    return MISSING


def _to_ip(value: Any) -> Any:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    if isinstance(value, ipaddress.IPv4Interface | ipaddress.IPv6Interface):
        return value.ip
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value.network_address
    if isinstance(value, str):
        text = value.strip()
        if "/" in text:
            text = text.split("/", 1)[0]
        try:
            return ipaddress.IPv4Address(text) if "." in text else ipaddress.IPv6Address(text)
        except ValueError:
            return MISSING
    return MISSING


def _to_str(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogateescape")
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return MISSING if math.isnan(value) else repr(float(value))
    return str(value)


def _to_bytes(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return MISSING


def _to_any(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return int(value)
    if isinstance(value, float) and math.isnan(value):
        return MISSING
    return value


def convert_scalar(value: Any, vtype: str, width=None) -> Any:
    """One present value converted to the evaluator's type (MISSING if it cannot be read as that type)."""
    if is_missing(value):
        return MISSING
    if vtype == "str":
        return _to_str(value)
    if vtype == "int":
        return _to_int(value, width)
    if vtype == "double":
        return _to_double(value)
    if vtype == "bool":
        return _to_bool(value)
    if vtype in ("ip", "ipnet"):
        return _to_ip(value)
    if vtype == "bytes":
        return _to_bytes(value)
    return _to_any(value)


def _as_items(value: Any) -> list:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, str) and len(value) >= 2 and value[0] == "(" and value[-1] == ")":
        inner = value[1:-1]
        return inner.split(",") if inner else []
    return [value]


def convert(value: Any, operand: Operand | FieldOperand) -> Any:
    """An extracted raw value converted for ``operand`` (a list for list-valued operands)."""
    vtype, width = operand.vtype, operand.width
    listy = operand.is_list or getattr(operand, "any_ancestor", False)
    if listy:
        if value is None or value is _PD_NA:
            return MISSING
        if isinstance(value, float) and math.isnan(value):
            return MISSING
        items = [convert_scalar(v, vtype, width) for v in _as_items(value)]
        items = [v for v in items if v is not MISSING]
        return items if items else MISSING
    return convert_scalar(value, vtype, width)


def _text(value: Any) -> str:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    return _to_str(value)


def _extract_multi(operand: MultiOperand, event: Mapping[str, Any]) -> Any:
    values = [extract(a, event) for a in operand.args]
    if any(v is MISSING for v in values):
        return MISSING
    if operand.name == "join":
        separator, items = values
        return _text(separator).join(_text(v) for v in items)
    return "".join(_text(v) for v in values)


def extract(operand: Any, event: Mapping[str, Any]) -> Any:
    """The value of an operand for one event (MISSING when it cannot be extracted)."""
    if isinstance(operand, FieldOperand):
        if operand.constant is not None:
            return operand.constant
        return convert(event.get(operand.key), operand)
    if isinstance(operand, ConstOperand):
        return operand.value
    if isinstance(operand, ListOperand):
        items = []
        for item in operand.items:
            value = extract(item, event)
            if value is MISSING:
                return MISSING
            items.extend(value if isinstance(value, list) else [value])
        return items
    if isinstance(operand, MultiOperand):
        return _extract_multi(operand, event)
    inner = extract(operand.inner, event)
    if inner is MISSING:
        return MISSING
    return apply_transformer(operand.name, inner, operand.inner.is_list)


# --------------------------------------------------------------------------- operators


@lru_cache(maxsize=4096)
def glob_regex(pattern: str, casefold: bool = False) -> re.Pattern[str]:
    """``fnmatch(pattern, s, 0)`` (``FNM_CASEFOLD`` if casefold) as a full-match regex: ``*`` crosses ``/``."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                negate = body[:1] in ("!", "^")
                if negate:
                    body = body[1:]
                chars = "".join("-" if ch == "-" else re.escape(ch) for ch in body)
                out.append("[" + ("^" if negate else "") + chars + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    flags = re.DOTALL | (re.IGNORECASE | re.ASCII if casefold else 0)
    return re.compile("".join(out), flags)


@lru_cache(maxsize=4096)
def _path_parts(path: str) -> tuple[str, ...]:
    return tuple(p for p in path.split("/") if p)


def _part_match(pattern: str, part: str) -> bool:
    if any(c in pattern for c in "*?["):
        return glob_regex(pattern).fullmatch(part) is not None
    return pattern == part


def pmatch(value: str, prefixes: tuple[str, ...]) -> bool:
    """Path prefix match: true if some prefix's parts start ``value``'s parts (§7.3)."""
    parts = _path_parts(value)
    for prefix in prefixes:
        pparts = _path_parts(prefix)
        if len(pparts) <= len(parts) and all(_part_match(p, v) for p, v in zip(pparts, parts, strict=False)):
            return True
    return False


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _same_ip(left, right) -> bool:
    if isinstance(right, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return left.version == right.version and left in right
    return left == right


def compare(op: str, vtype: str, left: Any, right: Any) -> bool:
    """``left op right`` for two present, converted values of type ``vtype`` (one element of a list)."""
    if vtype in ("ip", "ipnet"):
        if op in _EQUALITY_OPS:
            return _same_ip(left, right)
        if op == "!=":
            return not _same_ip(left, right)
        return False
    if vtype == "any" and type(left) is not type(right):
        if isinstance(left, int | float) and isinstance(right, int | float):
            pass
        else:
            left, right = str(left), str(right)
    if op in _EQUALITY_OPS:
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    if isinstance(left, bytes) and isinstance(right, str):
        right = right.encode("utf-8", "surrogateescape")
    if op in ("contains", "bcontains"):
        return right in left
    if op in ("startswith", "bstartswith"):
        return left.startswith(right)
    if op == "endswith":
        return left.endswith(right)
    if op == "icontains":
        return ascii_lower(right) in ascii_lower(left)
    if op == "glob":
        return glob_regex(right).fullmatch(left) is not None
    if op == "iglob":
        return glob_regex(right, True).fullmatch(left) is not None
    if op == "regex":
        return _regex(right).fullmatch(left) is not None
    if op == "pmatch":
        return pmatch(left, (right,))
    return False


def test_check(check: CCheck, left: Any, values: tuple[Any, ...]) -> bool:
    """Result of a check for a present left value and the right-hand values (constants or a field's)."""
    op, vtype = check.op, check.left.vtype
    if op == "exists":
        return True
    operand = check.left
    if operand.is_list:
        # list fields: 'in' is a subset test, 'intersects' needs one common element
        if op == "in":
            return all(any(compare("=", vtype, item, r) for r in values) for item in left)
        return any(compare("=", vtype, item, r) for item in left for r in values)
    if getattr(operand, "any_ancestor", False):
        return any(_single(check, op, vtype, item, values) for item in left)
    return _single(check, op, vtype, left, values)


def _single(check: CCheck, op: str, vtype: str, left: Any, values: tuple[Any, ...]) -> bool:
    if op == "pmatch":
        return pmatch(left, values)
    if op in ("in", "intersects"):
        return any(compare("=", vtype, left, r) for r in values)
    modifier = check.modifier
    if modifier is None:
        return compare(op, vtype, left, values[0]) if values else False
    hits = [compare(op, vtype, left, r) for r in values]
    if modifier == "anyof":
        return any(hits)
    if modifier == "allof":
        return all(hits)
    return sum(hits) == 1


def rhs_values(check: CCheck, event: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The right-hand values of a check for an event; None if a ``val()`` field is missing."""
    if check.rhs is None:
        return check.values
    value = extract(check.rhs, event)
    if value is MISSING:
        return None
    return field_rhs_values(check, value)


def field_rhs_values(check: CCheck, value: Any) -> tuple[Any, ...] | None:
    """The right-hand values a ``val()`` field's extracted ``value`` gives (a list: each item).

    Converted to the left field's type when the two types differ; None when no item converts.
    """
    items = value if isinstance(value, list) else [value]
    if check.rhs.vtype != check.left.vtype:
        items = [convert_scalar(v, check.left.vtype, check.left.width) for v in items]
        items = [v for v in items if v is not MISSING]
        if not items:
            return None
    return tuple(items)


def evaluate_check(check: CCheck, event: Mapping[str, Any]) -> tuple[bool, Any]:
    """(result, left value) of one check; the left value is MISSING when it could not be extracted."""
    left = extract(check.left, event)
    if left is MISSING:
        return False, MISSING
    values = rhs_values(check, event)
    if values is None:
        return False, left
    return test_check(check, left, values), left


# --------------------------------------------------------------------------- closures


def _check_fn(check: CCheck) -> Callable[[Mapping[str, Any]], bool]:
    operand = check.left
    plain = (
        isinstance(operand, FieldOperand)
        and operand.constant is None
        and not operand.is_list
        and not operand.any_ancestor
        and check.rhs is None
        and check.modifier is None
        and operand.vtype == "str"
    )
    if plain:
        key, op = operand.key, check.op
        values = check.values

        def get(event: Mapping[str, Any]) -> Any:
            value = event.get(key)
            if type(value) is str:
                return value
            return convert(value, operand)

        if op in ("=", "=="):
            (constant,) = values

            def fn(event):
                v = get(event)
                return v is not MISSING and v == constant

            return fn
        if op == "!=":
            (constant,) = values

            def fn(event):
                v = get(event)
                return v is not MISSING and v != constant

            return fn
        if op in ("in", "intersects"):
            members = frozenset(values)

            def fn(event):
                v = get(event)
                return v is not MISSING and v in members

            return fn
        if op == "startswith":
            (prefix,) = values

            def fn(event):
                v = get(event)
                return v is not MISSING and v.startswith(prefix)

            return fn
        if op == "contains":
            (needle,) = values

            def fn(event):
                v = get(event)
                return v is not MISSING and needle in v

            return fn
        if op == "exists":

            def fn(event):
                return get(event) is not MISSING

            return fn

    def generic(event):
        return evaluate_check(check, event)[0]

    return generic


def _chain(fns: tuple[Callable, ...], is_and: bool) -> Callable[[Mapping[str, Any]], bool]:
    """and/or of several matchers, left to right, stopping early (plain closures: no generators)."""
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        if is_and:
            return lambda event: a(event) and b(event)
        return lambda event: a(event) or b(event)
    if len(fns) == 3:
        a, b, c = fns
        if is_and:
            return lambda event: a(event) and b(event) and c(event)
        return lambda event: a(event) or b(event) or c(event)
    if is_and:

        def all_of(event):
            for f in fns:
                if not f(event):
                    return False
            return True

        return all_of

    def any_of(event):
        for f in fns:
            if f(event):
                return True
        return False

    return any_of


def build_matcher(node: CNode) -> Callable[[Mapping[str, Any]], bool]:
    """A function event → bool for a compiled tree (and/or stop early, left to right)."""
    if isinstance(node, CCheck):
        return _check_fn(node)
    if isinstance(node, CNot):
        inner = build_matcher(node.child)
        return lambda event: not inner(event)
    fns = tuple(build_matcher(c) for c in node.children)
    if isinstance(node, CAnd | COr):
        return _chain(fns, isinstance(node, CAnd))
    raise TypeError(f"not a compiled node: {node!r}")  # pragma: no cover
