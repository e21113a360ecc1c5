"""Event-type resolver: which event types an expanded condition can match (Falco's evttype filter).

A rule whose condition can match every event type gets ``LOAD_NO_EVTTYPE``; the ruleset uses the
sets to skip rules for events of other types, as Falco's per-evttype rule index does.
"""

from __future__ import annotations

import re

from falco_lab.rules.fields import EVENT_TYPES
from falco_lab.rules.frontend import syntax
from falco_lab.rules.operators import BY_NAME

__all__ = ["EVTTYPE_FIELDS", "event_types"]

#: Fields whose comparisons restrict the event type.
EVTTYPE_FIELDS = frozenset({"evt.type", "syscall.type"})
_DECIMAL = re.compile(r"[+-]?[0-9]+")


def _evttypes(node: syntax.Node, negated: bool, universe: frozenset[str]) -> frozenset[str]:
    if isinstance(node, syntax.And | syntax.Or):
        sets = [_evttypes(c, negated, universe) for c in node.children]
        union = isinstance(node, syntax.Or) != negated
        out = sets[0]
        for s in sets[1:]:
            out = out | s if union else out & s
        return out
    if isinstance(node, syntax.Not):
        return _evttypes(node.child, not negated, universe)
    if (
        isinstance(node, syntax.BinaryCheck)
        and isinstance(node.left, syntax.Field)
        and node.left.name in EVTTYPE_FIELDS
        and node.left.arg is None
        and BY_NAME[node.op].evttype
        and node.modifier is None
        and isinstance(node.right, syntax.Value | syntax.ListValue)
    ):
        values = node.right.values if isinstance(node.right, syntax.ListValue) else (node.right.value,)
        matched = frozenset(values) & universe
        if node.op == "!=":
            matched = universe - matched
        return universe - matched if negated else matched
    never = _evt_num_constant(node)
    if never is not None:
        # evt.num = 0 can never hold (events are numbered from 1): no event type; != 0 always holds
        return frozenset() if never != negated else universe
    return universe


def _evt_num_constant(node: syntax.Node) -> bool | None:
    """True for ``evt.num = 0`` (never true), False for ``evt.num != 0`` (always true), else None."""
    if (
        isinstance(node, syntax.BinaryCheck)
        and isinstance(node.left, syntax.Field)
        and node.left.name == "evt.num"
        and node.left.arg is None
        and node.modifier is None
        and isinstance(node.right, syntax.Value)
        and _DECIMAL.fullmatch(node.right.value)
        and int(node.right.value) == 0
    ):
        if node.op in ("=", "=="):
            return True
        if node.op == "!=":
            return False
    return None


def event_types(node: syntax.Node) -> frozenset[str] | None:
    """Event types an (expanded) condition can match; None when it can match every type."""
    result = _evttypes(node, False, EVENT_TYPES)
    return None if result == EVENT_TYPES else result
