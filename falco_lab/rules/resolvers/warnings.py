"""Warning resolver: the load warnings a condition's parts raise (``LOAD_COMPILE_CONDITION``,
``LOAD_UNSAFE_NA_CHECK``, ``LOAD_DEPRECATED_ITEM``), with Falco's texts.

Each function returns the ``(code, message)`` pairs for one part of a condition; the compiler
collects them (once each, in order of first appearance) into ``Condition.warnings``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from falco_lab.rules.codes import Code
from falco_lab.rules.fields import FieldInfo
from falco_lab.rules.frontend.parser import TRANSFORMERS
from falco_lab.rules.operators import BY_NAME

__all__ = [
    "EVT_DIR_MESSAGE",
    "Warning",
    "const_warnings",
    "field_warnings",
    "na_check_warnings",
    "regex_warnings",
]

#: A load warning: (code, message).
Warning = tuple[Code, str]

EVT_DIR_MESSAGE = (
    "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always "
    "evaluates to false. The rule expression can be simplified by removing the condition on 'evt.dir'"
)

_REGEX_SPECIAL = set(".^$*+?()[]{}|\\")
_FIELDNAME_RX = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+(?:\[[^\]]*\])?")
_TRANSFORMER_OPENERS = tuple(t + "(" for t in TRANSFORMERS)


def field_warnings(info: FieldInfo) -> list[Warning]:
    """Deprecated fields used in a condition (``evt.dir``, ``evt.latency*``)."""
    if info.name == "evt.dir":
        return [(Code.DEPRECATED_ITEM, EVT_DIR_MESSAGE)]
    if info.has("deprecated") and info.name.startswith(("evt.latency", "evt.wait_latency")):
        message = f"usage of deprecated field '{info.name}' has been detected in the rule condition"
        return [(Code.DEPRECATED_ITEM, message)]
    return []


def regex_is_simple(pattern: str) -> bool:
    """Whether a ``regex`` pattern is plain text, possibly anchored or wrapped in ``.*``/``.+``/``.?``."""
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


def regex_warnings(texts: Iterable[str]) -> list[Warning]:
    """``regex`` checks a simpler operator could do."""
    return [
        (
            Code.COMPILE_CONDITION,
            f"regex check with '{text}' may be optimized with simpler operators such as "
            "'=', 'contains', 'startswith', 'endswith'",
        )
        for text in texts
        if regex_is_simple(text)
    ]


def const_warnings(
    texts: Iterable[str], is_field: Callable[[str], bool], is_transformer: Callable[[str], bool]
) -> list[Warning]:
    """Constants that look like a field or a field transformer (probably a missing ``val()``).

    ``is_field`` and ``is_transformer`` tell whether a compact text compiles as one (the compiler's
    own resolution, so the warning agrees with what would compile).
    """
    out: list[Warning] = []
    for text in texts:
        compact = "".join(text.split())
        if not compact:
            continue
        if _FIELDNAME_RX.fullmatch(compact) and is_field(compact):
            out.append(
                (Code.COMPILE_CONDITION, f"'{text}' may be a valid field misused as a const string value")
            )
        elif compact.startswith(_TRANSFORMER_OPENERS) and is_transformer(compact):
            out.append(
                (
                    Code.COMPILE_CONDITION,
                    f"'{text}' may be a valid field transformer misused as a const string value",
                )
            )
    return out


def na_check_warnings(op: str, field_name: str, texts: Iterable[str]) -> list[Warning]:
    """Comparing a ``ka.``/``jevt.`` field with ``<NA>`` (Falco: unsafe, the value may really be absent)."""
    if BY_NAME[op].na_check and field_name.startswith(("ka.", "jevt.")) and "<NA>" in texts:
        return [(Code.UNSAFE_NA_CHECK, "")]
    return []
