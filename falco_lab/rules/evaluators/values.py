"""Values of operands for one event: conversion by field type and extraction (rules-language §7.1).

An event is a mapping field → value. Values may be typed (``int``, ``bool``, ``bytes``, ``list``,
``ipaddress`` objects) or the text Falco prints (``"1234"``, ``"true"``, ``"10.0.0.1"``): they are
converted by the field's type. An absent key, ``None``, ``pandas.NA`` or a float NaN is a missing value
(:data:`MISSING` once converted). The vectorised evaluator converts the distinct values of a column
with the same functions, so both evaluators see the same values.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas import NA as _PD_NA
from pandas import NaT as _PD_NAT

from falco_lab.rules.ir import ConstOperand, FieldOperand, ListOperand, MultiOperand, Operand, wrap_int
from falco_lab.rules.transformers import MISSING, apply_transformer

__all__ = ["MISSING", "cell_value", "convert", "convert_scalar", "extract", "is_missing"]

_DECIMAL = re.compile(r"\s*[+-]?[0-9]+\s*")


def is_missing(value: Any) -> bool:
    """None, pandas NA/NaT and float NaN count as missing values."""
    if value is None or value is _PD_NA or value is _PD_NAT:
        return True
    return isinstance(value, float) and math.isnan(value)


# --------------------------------------------------------------------------- conversion


def _to_int(value: Any, width: tuple[int, bool] | None) -> Any:
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


def convert_scalar(value: Any, vtype: str, width: tuple[int, bool] | None = None) -> Any:
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


def _as_items(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, np.ndarray):
        items: list[Any] = value.tolist()
        return items
    if isinstance(value, str) and len(value) >= 2 and value[0] == "(" and value[-1] == ")":
        inner = value[1:-1]
        return inner.split(",") if inner else []
    return [value]


def convert(value: Any, operand: Operand | FieldOperand) -> Any:
    """An extracted raw value converted for ``operand`` (a list for list-valued operands)."""
    vtype, width = operand.vtype, operand.width
    listy = operand.is_list or (
        isinstance(operand, FieldOperand) and (operand.any_ancestor or operand.either_side)
    )
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
    return str(_to_str(value))


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


def cell_value(value: Any) -> Any:
    """A frame cell as an event value: NaN/NaT/NA become None (missing), numpy scalars Python values."""
    if value is None or isinstance(value, (list, tuple, dict, bytes, str)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return value.item() if hasattr(value, "item") and not isinstance(value, pd.Timestamp) else value
