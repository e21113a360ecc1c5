"""Rule output formatting (§8) and Falco's JSON alert (deploy-eks §4).

An output format is literal text with ``%field`` tokens (``%proc.aname[2]``, ``%evt.arg.flags``,
``%20proc.name`` for a fixed width).  :func:`compile_output` checks it like Falco does at load
time; :meth:`OutputFormat.render` fills it from an event (missing values print ``<NA>``);
:func:`falco_alert` builds the whole JSON alert Falco 0.44 emits, and :func:`sidekick_enrich`
adds what falcosidekick adds before forwarding (``uuid``).
"""

from __future__ import annotations

import json
import os
import re
import socket
import uuid as _uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from falco_lab.rules.codes import Code
from falco_lab.rules.compiler.compile import compile_ast
from falco_lab.rules.errors import Position, RuleError
from falco_lab.rules.evaluators.values import MISSING, extract
from falco_lab.rules.fields import FieldInfo, parse_field_token
from falco_lab.rules.ir import CCheck, FieldOperand, Operand, TransformOperand
from falco_lab.rules.resolvers.macros import parse_cached

__all__ = [
    "CONTAINER_INFO_WARNING",
    "NA",
    "OutputFormat",
    "OutputToken",
    "SUGGESTED_FIELDS",
    "alert_json",
    "compile_output",
    "datetime_ns",
    "default_hostname",
    "event_time_ns",
    "falco_alert",
    "format_time",
    "json_kind",
    "json_value",
    "json_values",
    "remove_container_info",
    "render_value",
    "render_values",
    "sidekick_enrich",
    "suggested_format",
]


#: What a missing value prints as.
NA = "<NA>"

#: The container plugin's six "suggested" output fields that Falco 0.44 appends to every syscall alert,
#: as (text key, field) in order: ``container_id=%container.id ...``.
SUGGESTED_FIELDS: tuple[tuple[str, str], ...] = (
    ("container_id", "container.id"),
    ("container_name", "container.name"),
    ("container_image_repository", "container.image.repository"),
    ("container_image_tag", "container.image.tag"),
    ("k8s_pod_name", "k8s.pod.name"),
    ("k8s_ns_name", "k8s.ns.name"),
)

CONTAINER_INFO_WARNING = (
    "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. "
    "The container plugin will automatically add required fields to the output message."
)
_CONTAINER_INFO = "%container.info"
_RX_WIDTH = re.compile(r"[0-9]+")
_RX_WORD = re.compile(r"[^\s%]*")


@dataclass(frozen=True, slots=True)
class OutputToken:
    """One ``%field`` of an output format.

    Attributes
    ----------
    key
        The field as an event key (``proc.aname[2]``, ``evt.arg.flags``); also the ``output_fields`` key.
    info
        The field's catalogue entry.
    width
        Fixed width from ``%<digits>field`` (pad with spaces or truncate), else None.
    """

    key: str
    name: str
    arg: str | None
    info: FieldInfo | None  # None for a join()/concat() token
    width: int | None = None
    operand: Operand | None = None  # compiled transformer (``%tolower(proc.name)``); None for a plain field

    def value(self, event: Mapping[str, Any]) -> Any:
        """The token's value in ``event`` (None when missing)."""
        if self.operand is None:
            return event.get(self.key)
        value = extract(self.operand, event)
        return None if value is MISSING else value


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """A compiled output format: literal text pieces and field tokens, in order."""

    text: str
    parts: tuple[str | OutputToken, ...]

    @property
    def tokens(self) -> tuple[OutputToken, ...]:
        return tuple(p for p in self.parts if isinstance(p, OutputToken))

    @property
    def fields(self) -> tuple[str, ...]:
        """Field keys in order of first appearance (the ``output_fields`` keys)."""
        return tuple(dict.fromkeys(t.key for t in self.tokens))

    def render(self, event: Mapping[str, Any]) -> str:
        """The formatted text for ``event``; missing values print ``<NA>``."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            text = render_value(part, part.value(event))
            if part.width is not None:
                text = text[: part.width].ljust(part.width)
            out.append(text)
        return "".join(out)

    def values(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """``output_fields`` for ``event``: numbers stay numbers, missing values are ``None``."""
        return {t.key: json_value(t, t.value(event)) for t in self.tokens}


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN / NaT / pd.NA-like
    except (TypeError, ValueError):
        return False


_VTYPE_KINDS = {"int": "int", "double": "double", "bool": "bool"}


def render_value(token: OutputToken, value: Any) -> str:
    """Text form of one value, as the formatter prints it."""
    if _missing(value):
        return NA
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        items = [render_value(token, v) for v in value]
        if token.arg is None and token.name in ("proc.aname", "proc.aexe", "proc.aexepath", "proc.acmdline"):
            return " ".join(items)
        return "(" + ",".join(items) + ")"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def json_kind(token: OutputToken) -> str:
    """How ``output_fields`` types the token's values: ``int``, ``uint``, ``double``, ``bool`` or ``string``."""
    if token.operand is not None:
        return _VTYPE_KINDS.get(token.operand.vtype, "string")
    return token.info.kind if token.info is not None else "string"


def json_value(token: OutputToken, value: Any) -> Any:
    """JSON form of one value in ``output_fields``."""
    if _missing(value):
        return None
    kind = json_kind(token)
    if isinstance(value, (list, tuple)):
        return [json_value(token, v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if kind in ("int", "uint"):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            return render_value(token, value)
    if kind == "double" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    return render_value(token, value)


def render_values(token: OutputToken, values: list[Any], types: set[type] | None = None) -> list[str] | None:
    """:func:`render_value` of each value (width not applied) when the values allow a C-speed path.

    Plain ``str``/``None`` values and plain ``int`` values have one text form each (the value itself,
    ``<NA>``, ``str(int)``); None for anything else (the caller then renders value by value).
    ``types`` is ``set(map(type, values))`` if the caller has it.
    """
    types = set(map(type, values)) if types is None else types
    if types <= {str, type(None)}:
        return [NA if v is None else v for v in values] if type(None) in types else values
    if types == {int}:
        return list(map(str, values))
    return None


def json_values(token: OutputToken, values: list[Any], types: set[type] | None = None) -> list[Any] | None:
    """:func:`json_value` of each value when the values allow a C-speed path (as :func:`render_values`)."""
    kind = json_kind(token)
    types = set(map(type, values)) if types is None else types
    if types <= {str, type(None)} and kind not in ("int", "uint"):
        return values  # text stays text, None stays None
    if types == {int}:
        return values if kind in ("int", "uint", "double") else list(map(str, values))
    return None


def remove_container_info(output: str) -> tuple[str, bool]:
    """Drop every ``%container.info`` (deprecated since Falco 0.41); tell whether there was one."""
    if _CONTAINER_INFO not in output:
        return output, False
    return output.replace(_CONTAINER_INFO, ""), True


_RX_TRANSFORMER = re.compile(r"(?:tolower|toupper|b64|basename|len|join|concat|getopt)\(")


def _transformer_token(text: str, start: int, source: str, width: int | None) -> OutputToken | None:
    """``%tolower(proc.name)``: the balanced transformer expression at ``start``, compiled; else None."""
    if _RX_TRANSFORMER.match(text, start) is None:
        return None
    depth = 0
    quote = ""
    for end in range(start, len(text)):
        ch = text[end]
        if quote:
            quote = "" if ch == quote and text[end - 1] != "\\" else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
    else:
        return None
    expression = text[start : end + 1]
    try:
        check = compile_ast(parse_cached(f"{expression} exists"), source=source).compiled
    except RuleError as exc:
        raise RuleError(
            Code.ERR_COMPILE_OUTPUT, exc.message, Position(line=1, column=start, offset=start - 1)
        ) from None
    if not isinstance(check, CCheck):  # pragma: no cover - "X exists" compiles to one check
        raise TypeError("a transformer token compiles to one check")
    operand = check.left
    base: Operand = operand
    while isinstance(base, TransformOperand):
        base = base.inner
    info = base.info if isinstance(base, FieldOperand) else None
    return OutputToken(expression, expression, None, info, width, operand)


def compile_output(text: str, source: str = "syscall") -> OutputFormat:
    """Parse and check an output format the way Falco does at load time.

    Raises
    ------
    RuleError
        ``LOAD_ERR_COMPILE_OUTPUT``: "formatting cannot end with a %", "unknown filter: X" for a
        ``%`` not followed by a known field, "F is filter only and cannot be used as a display field".
    """
    parts: list[str | OutputToken] = []
    literal: list[str] = []
    # Falco prefixes every format with "*" (print even with missing values); one written in the rule is
    # the same marker, not text.
    i = 1 if text.startswith("*") else 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch != "%":
            literal.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            raise RuleError(
                Code.ERR_COMPILE_OUTPUT,
                "formatting cannot end with a %",
                Position(line=1, column=i + 1, offset=i),
            )
        j = i + 1
        width = None
        m = _RX_WIDTH.match(text, j)
        if m is not None:
            width = int(m.group(0))
            j = m.end()
        transformer = _transformer_token(text, j, source, width)
        if transformer is not None:
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(transformer)
            i = j + len(transformer.key)
            continue
        token = parse_field_token(text, j, source=source)
        if token is None:
            word = match.group(0) if (match := _RX_WORD.match(text, j)) is not None else ""
            raise RuleError(
                Code.ERR_COMPILE_OUTPUT, f"unknown filter: {word}", Position(line=1, column=i + 1, offset=i)
            )
        if token.info.has("filter_only"):
            raise RuleError(
                Code.ERR_COMPILE_OUTPUT,
                f"{token.info.name} is filter only and cannot be used as a display field",
                Position(line=1, column=i + 1, offset=i),
            )
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(OutputToken(token.key, token.name, token.arg, token.info, width))
        i = token.end
    if literal:
        parts.append("".join(literal))
    return OutputFormat(text, tuple(parts))


# --------------------------------------------------------------------------- alerts


def datetime_ns(value: datetime) -> int:
    """Nanoseconds since the epoch of a datetime (naive means UTC), with microsecond precision."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def event_time_ns(value: Any) -> int | None:
    """Nanoseconds since the epoch from an ``evt.time`` value (int ns, datetime, Timestamp or ISO text)."""
    if _missing(value):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, pd.Timestamp):
        return int(value.value) if value.tzinfo is not None else int(value.tz_localize("UTC").value)
    if isinstance(value, datetime):
        return datetime_ns(value)
    if isinstance(value, float):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value)


def format_time(ns: int) -> tuple[str, str]:
    """``(iso, clock)``: ``2026-07-10T19:10:27.171732939Z`` and ``19:10:27.171732939`` (both UTC)."""
    seconds, frac = divmod(ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{frac:09d}Z", f"{moment:%H:%M:%S}.{frac:09d}"


def default_hostname() -> str:
    """``FALCO_HOSTNAME``, else the host name (the ``hostname`` of alerts)."""
    return os.environ.get("FALCO_HOSTNAME") or socket.gethostname()


_SUGGESTED: dict[str, OutputFormat | None] = {}


def suggested_format(source: str) -> OutputFormat | None:
    """The suggested fields Falco 0.44 appends to alerts of ``source`` (syscall only), compiled once."""
    if source not in _SUGGESTED:
        _SUGGESTED[source] = (
            compile_output(" ".join(f"{key}=%{field}" for key, field in SUGGESTED_FIELDS))
            if source == "syscall"
            else None
        )
    return _SUGGESTED[source]


def falco_alert(
    *,
    rule: str,
    priority: str,
    output: OutputFormat,
    event: Mapping[str, Any],
    source: str = "syscall",
    tags: Sequence[str] = (),
    hostname: str | None = None,
    suggested_fields: bool = True,
    include_message: bool = False,
    time_ns: int | None = None,
) -> dict[str, Any]:
    """The JSON alert Falco 0.44 emits for ``event`` matching a rule (keys in Falco's sorted order).

    Parameters
    ----------
    rule, priority, output, source, tags
        The rule's name, long priority name (``Warning``), compiled output, event source and tags.
    event
        Field → value; ``evt.time`` (int ns, datetime, Timestamp or ISO text) gives the alert time
        (the current time when absent).
    hostname
        ``FALCO_HOSTNAME`` or the host name when None.
    suggested_fields
        Append the container plugin's six suggested fields (Falco's default ``append_output``).
    include_message
        Add ``message`` (the output without time and priority), as ``json_include_message_property``.
    """
    ns = time_ns if time_ns is not None else event_time_ns(event.get("evt.time"))
    if ns is None:
        ns = datetime_ns(datetime.now(UTC))
    iso, clock = format_time(ns)
    message = output.render(event)
    fields = output.values(event)
    if suggested_fields:
        extra = suggested_format(source)
        if extra is not None:
            message = f"{message} {extra.render(event)}"
            fields.update(extra.values(event))
    fields["evt.time"] = ns
    alert: dict[str, Any] = {
        "hostname": hostname if hostname is not None else default_hostname(),
        "output": f"{clock}: {priority} {message}",
        "output_fields": dict(sorted(fields.items())),
        "priority": priority,
        "rule": rule,
        "source": source,
        "tags": sorted(tags),
        "time": iso,
    }
    if include_message:
        alert["message"] = message
    return dict(sorted(alert.items()))


def sidekick_enrich(
    alert: Mapping[str, Any], *, custom_fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What falcosidekick adds before forwarding: a UUID v4, ``source`` defaulted to ``syscalls``,
    custom fields merged into ``output_fields``."""
    out = dict(alert)
    out["uuid"] = str(_uuid.uuid4())
    if not out.get("source"):
        out["source"] = "syscalls"
    if custom_fields:
        out["output_fields"] = dict(sorted({**out.get("output_fields", {}), **custom_fields}.items()))
    return dict(sorted(out.items()))


def alert_json(alert: Mapping[str, Any]) -> str:
    """One alert as Falco prints it: compact JSON, sorted keys, UTF-8 kept."""
    return json.dumps(alert, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
