"""Evaluation of compiled conditions on one event (rules-language §7).

A check on a missing value is false whatever the operator (``not`` simply negates). The decision
for present values (:func:`check_holds`) dispatches to the operators table's scalar compare; the
vectorised evaluator applies the same function to the distinct values of a column, so both agree
exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from falco_lab.rules.evaluators.values import MISSING, convert, convert_scalar, extract
from falco_lab.rules.ir import CAnd, CCheck, CNode, CNot, COr, FieldOperand
from falco_lab.rules.operators import BY_NAME

__all__ = [
    "Matcher",
    "build_matcher",
    "check_holds",
    "compare",
    "evaluate_check",
    "field_rhs_values",
    "rhs_values",
]

#: A compiled condition as a function event → bool.
Matcher = Callable[[Mapping[str, Any]], bool]

_IP_VTYPES = frozenset({"ip", "ipnet"})


def compare(op: str, vtype: str, left: Any, right: Any) -> bool:
    """``left op right`` for two present, converted values of type ``vtype`` (one element of a list)."""
    row = BY_NAME[op]
    if vtype in _IP_VTYPES:
        if row.equality or op == "!=":
            return row.scalar(left, right)
        return False
    if vtype == "any" and type(left) is not type(right):
        if not (isinstance(left, int | float) and isinstance(right, int | float)):
            left, right = str(left), str(right)
    return row.scalar(left, right)


def check_holds(check: CCheck, left: Any, values: tuple[Any, ...]) -> bool:
    """Result of a check for a present left value and the right-hand values (constants or a field's)."""
    op, vtype = check.op, check.left.vtype
    row = BY_NAME[op]
    if row.syntax == "unary":
        return True
    operand = check.left
    if operand.is_list:
        # list fields: 'in' is a subset test, 'intersects' needs one common element
        if row.subset_on_lists:
            return all(any(compare("=", vtype, item, r) for r in values) for item in left)
        return any(compare("=", vtype, item, r) for item in left for r in values)
    if isinstance(operand, FieldOperand) and operand.any_ancestor:
        return any(_single(check, op, vtype, item, values) for item in left)
    if isinstance(operand, FieldOperand) and operand.either_side:
        ends = (_single(check, op, vtype, item, values) for item in left)
        return all(ends) if op == "!=" else any(ends)
    return _single(check, op, vtype, left, values)


def _single(check: CCheck, op: str, vtype: str, left: Any, values: tuple[Any, ...]) -> bool:
    if BY_NAME[op].list_rhs:
        return any(compare(op, vtype, left, r) for r in values)
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
    if check.rhs is not None and check.rhs.vtype != check.left.vtype:
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
    return check_holds(check, left, values), left


# --------------------------------------------------------------------------- closures


def _check_fn(check: CCheck) -> Matcher:
    operand = check.left
    if (
        isinstance(operand, FieldOperand)
        and operand.constant is None
        and not operand.is_list
        and not operand.any_ancestor
        and not operand.either_side
        and check.rhs is None
        and check.modifier is None
        and operand.vtype == "str"
    ):
        return _plain_string_check(check, operand) or _generic(check)
    return _generic(check)


def _generic(check: CCheck) -> Matcher:
    def generic(event: Mapping[str, Any]) -> bool:
        return evaluate_check(check, event)[0]

    return generic


def _plain_string_check(check: CCheck, operand: FieldOperand) -> Matcher | None:
    """Closures for the common checks of a plain string field (None: use the generic path)."""
    key, op = operand.key, check.op
    values = check.values

    def get(event: Mapping[str, Any]) -> Any:
        value = event.get(key)
        if type(value) is str:
            return value
        return convert(value, operand)

    if op in ("=", "=="):
        (constant,) = values

        def fn(event: Mapping[str, Any]) -> bool:
            v = get(event)
            return v is not MISSING and v == constant

        return fn
    if op == "!=":
        (constant,) = values

        def fn(event: Mapping[str, Any]) -> bool:
            v = get(event)
            return v is not MISSING and v != constant

        return fn
    if op in ("in", "intersects"):
        members = frozenset(values)

        def fn(event: Mapping[str, Any]) -> bool:
            v = get(event)
            return v is not MISSING and v in members

        return fn
    if op == "startswith":
        (prefix,) = values

        def fn(event: Mapping[str, Any]) -> bool:
            v = get(event)
            return v is not MISSING and v.startswith(prefix)

        return fn
    if op == "contains":
        (needle,) = values

        def fn(event: Mapping[str, Any]) -> bool:
            v = get(event)
            return v is not MISSING and needle in v

        return fn
    if op == "exists":

        def fn(event: Mapping[str, Any]) -> bool:
            return get(event) is not MISSING

        return fn
    return None


def _chain(fns: tuple[Matcher, ...], is_and: bool) -> Matcher:
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

        def all_of(event: Mapping[str, Any]) -> bool:
            for f in fns:
                if not f(event):
                    return False
            return True

        return all_of

    def any_of(event: Mapping[str, Any]) -> bool:
        for f in fns:
            if f(event):
                return True
        return False

    return any_of


def build_matcher(node: CNode) -> Matcher:
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
