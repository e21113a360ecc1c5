"""Constant parsing: a right-hand text read for the left operand's type (libs value parser rules)."""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any

from falco_lab.rules.codes import Code
from falco_lab.rules.errors import Position, RuleError
from falco_lab.rules.ir import Operand, wrap_int
from falco_lab.rules.operators import BY_NAME

__all__ = ["DECIMAL", "compile_regex", "fail", "parse_constant"]

#: A decimal integer constant.
DECIMAL = re.compile(r"[+-]?[0-9]+")


def fail(message: str, pos: Position | None) -> RuleError:
    """A ``LOAD_ERR_COMPILE_CONDITION`` error."""
    return RuleError(Code.ERR_COMPILE_CONDITION, message, pos)


def parse_constant(text: str, operand: Operand, op: str, pos: Position | None) -> Any:
    """A right-hand constant parsed for the left operand's type (libs value parser rules)."""
    if "\0" in text:
        raise fail("filter value cannot contain a NUL byte", pos)
    ltype, vtype = operand.ltype, operand.vtype
    row = BY_NAME[op]
    if row.hex_rhs:
        if not re.fullmatch(r"(?:[0-9a-fA-F]{2})+", text):
            raise fail("bcontains and bstartswith operator support hex strings only", pos)
        return bytes.fromhex(text)
    if row.raw_text_rhs or vtype == "str":
        return text
    if vtype == "bytes":
        return text.encode("utf-8", "surrogateescape")
    if vtype in ("int", "double"):
        if DECIMAL.fullmatch(text.strip()):
            number = int(text.strip())
            return float(number) if vtype == "double" else wrap_int(number, operand.width)
        if ltype == "PORT":
            try:
                return socket.getservbyname(text)
            except OSError:
                pass
        raise fail(f"{text} is not a valid number", pos)
    if vtype == "bool":
        if text == "true":
            return True
        if text == "false":
            return False
        raise fail(f"unrecognized boolean value {text}", pos)
    if vtype == "ip":
        try:
            return ipaddress.IPv4Address(text) if "." in text else ipaddress.IPv6Address(text)
        except ValueError:
            raise fail(f"unrecognized IP address {text}", pos) from None
    if vtype == "ipnet":
        return _parse_net(text, pos)
    # dynamic (evt.rawarg): numbers when they look like numbers
    if DECIMAL.fullmatch(text):
        return int(text)
    return text


def _parse_net(text: str, pos: Position | None) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if "/" not in text:
        raise fail(f"unrecognized IP network {text}", pos)
    address, _, bits = text.partition("/")
    try:
        if "." in address:
            ipaddress.IPv4Address(address)
        else:
            ipaddress.IPv6Address(address)
    except ValueError:
        raise fail(f"unrecognized IP network {text}", pos) from None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise fail(f"invalid netmask {bits}", pos) from None


def compile_regex(pattern: str, pos: Position | None) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise fail(f"invalid regex pattern: {exc}", pos) from None
