"""The compiled form of a condition (the engine's IR): typed operands and check/and/or/not nodes.

The compiler (:mod:`falco_lab.rules.compiler.compile`) produces it; the evaluators
(:mod:`falco_lab.rules.evaluators`) walk it. Every operand carries its libs type (``ltype``), the
evaluator's value type (``vtype``: str, bytes, int, double, bool, ip, ipnet or any), whether it is
list-valued and, for fixed-width integers, its (bits, signed) width.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from falco_lab.rules.fields import INT_WIDTHS, FieldInfo
from falco_lab.rules.frontend import syntax

__all__ = [
    "CAnd",
    "CCheck",
    "CNode",
    "CNot",
    "COr",
    "ConstOperand",
    "FieldOperand",
    "ListOperand",
    "MultiOperand",
    "Operand",
    "TransformOperand",
    "vtype_of",
    "wrap_int",
]

_STRING_TYPES = frozenset({"CHARBUF", "FSPATH", "FSRELPATH"})
_IPADDR_TYPES = frozenset({"IPADDR", "IPV4ADDR", "IPV6ADDR"})
_IPNET_TYPES = frozenset({"IPNET", "IPV4NET", "IPV6NET"})


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


def wrap_int(value: int, width: tuple[int, bool] | None) -> int:
    """Wrap an integer to the field's width and signedness, like a C cast."""
    if width is None:
        return value
    bits, signed = width
    value &= (1 << bits) - 1
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


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
    either_side: bool = False  # fd.ip, fd.net, fd.port: either end of the connection (``!=``: both)


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

    node: syntax.Node
    left: Operand
    op: str
    modifier: str | None = None
    values: tuple[Any, ...] = ()
    rhs: Operand | None = None


@dataclass(frozen=True, slots=True)
class CAnd:
    node: syntax.Node
    children: tuple[CNode, ...]


@dataclass(frozen=True, slots=True)
class COr:
    node: syntax.Node
    children: tuple[CNode, ...]


@dataclass(frozen=True, slots=True)
class CNot:
    node: syntax.Node
    child: CNode


CNode = CAnd | COr | CNot | CCheck
