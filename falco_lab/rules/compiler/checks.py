"""Operator and type checks of the compiler (libs ``flt_is_comparable`` and friends), with Falco's texts.

Each check raises ``LOAD_ERR_COMPILE_CONDITION`` (:func:`~falco_lab.rules.compiler.constants.fail`)
or returns nothing. Which operator accepts which field type is the operators table's business
(:func:`falco_lab.rules.operators.comparable_error`).
"""

from __future__ import annotations

from falco_lab.rules.compiler.constants import fail
from falco_lab.rules.errors import Position
from falco_lab.rules.fields import EVENT_TYPES
from falco_lab.rules.ir import FieldOperand, Operand, TransformOperand
from falco_lab.rules.operators import BY_NAME, comparable_error
from falco_lab.rules.resolvers.evttypes import EVTTYPE_FIELDS

__all__ = ["check_event_type_values", "check_field_comparison", "check_operator"]


def check_operator(op: str, left: Operand, pos: Position | None) -> None:
    """``op`` must accept the left operand's type (and list-ness)."""
    error = comparable_error(op, left.ltype, left.is_list)
    if error is not None:
        raise fail(error, pos)


def check_event_type_values(left: Operand, op: str, texts: tuple[str, ...], pos: Position | None) -> None:
    """``evt.type = X``: X must be a known event type."""
    if isinstance(left, FieldOperand) and left.info.name in EVTTYPE_FIELDS and BY_NAME[op].evttype:
        for text in texts:
            if text not in EVENT_TYPES:
                raise fail(f"unknown event type {text}", pos)


def _family(vtype: str) -> str:
    if vtype in ("str", "bytes"):
        return "text"
    if vtype in ("int", "double"):
        return "number"
    if vtype in ("ip", "ipnet"):
        return "ip"
    return vtype


def check_field_comparison(op: str, left: Operand, rhs: Operand, pos: Position | None) -> None:
    """A field compared with another field (``val()`` or a transformer) must be comparable with it."""
    for side in (left, rhs):
        base: Operand = side
        while isinstance(base, TransformOperand):
            base = base.inner
        if isinstance(base, FieldOperand) and base.info.has("no_rhs"):
            raise fail(f"field '{base.info.name}' cannot be compared against another field", pos)
    if BY_NAME[op].hex_rhs and rhs.vtype != "bytes":
        raise fail("bcontains and bstartswith operator support hex strings only", pos)
    if _family(left.vtype) != _family(rhs.vtype) or (rhs.is_list and not BY_NAME[op].list_rhs):
        raise fail(
            f"'{op}' operator not supported between fields of type '{left.ltype}' and '{rhs.ltype}'",
            pos,
        )
