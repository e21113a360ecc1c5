"""Field transformers (rules-language §5.6): which input types they take and what they do.

``tolower``/``toupper`` change ASCII letters only, ``b64`` decodes base64 (padding optional; a value
that does not decode counts as missing), ``basename`` keeps the text after the last ``/`` and ``len``
counts bytes of a string (up to a NUL), bytes of a buffer or items of a list.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "SINGLE_ARG", "TRANSFORMER_SPECS", "TransformerSpec", "apply_transformer"]


class _Missing:
    """Marker of a value that could not be extracted."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()

_STRING_TYPES = frozenset({"CHARBUF", "FSPATH", "FSRELPATH"})
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(s: str) -> str:
    return s.translate(_LOWER)


def ascii_upper(s: str) -> str:
    return s.translate(_UPPER)


def _b64(value: str | bytes) -> str | bytes | object:
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    raw = raw.strip()
    try:
        decoded = base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        return MISSING
    if isinstance(value, str):
        return decoded.decode("utf-8", "surrogateescape")
    return decoded


def _basename(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def _len(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, bytes):
        return len(value)
    return len(value.split("\0", 1)[0].encode("utf-8", "surrogateescape"))


@dataclass(frozen=True, slots=True)
class TransformerSpec:
    """What a single-argument transformer accepts and returns."""

    name: str
    input_types: frozenset[str]  # libs type names; "*list" means any list field
    result_type: str | None  # None: same as input
    function: Callable[[Any], Any]
    maps_lists: bool  # applied to each element of a list field


TRANSFORMER_SPECS: dict[str, TransformerSpec] = {
    "tolower": TransformerSpec("tolower", _STRING_TYPES, None, ascii_lower, True),
    "toupper": TransformerSpec("toupper", _STRING_TYPES, None, ascii_upper, True),
    "b64": TransformerSpec("b64", _STRING_TYPES | {"BYTEBUF"}, None, _b64, True),
    "basename": TransformerSpec("basename", _STRING_TYPES, None, _basename, True),
    "len": TransformerSpec("len", _STRING_TYPES | {"BYTEBUF", "*list"}, "UINT64", _len, False),
}
#: Transformers that take exactly one field (or transformer) argument.
SINGLE_ARG = frozenset(TRANSFORMER_SPECS)


def apply_transformer(name: str, value: Any, is_list: bool) -> Any:
    """Apply transformer ``name`` to an already converted, present value (MISSING if it fails)."""
    spec = TRANSFORMER_SPECS[name]
    if is_list and spec.maps_lists:
        out: list[Any] = []
        for item in value:
            result = spec.function(item)
            if result is MISSING:
                return MISSING
            out.append(result)
        return out
    return spec.function(value)
