"""Escaping helpers: every string that comes from an event passes through here.

* :func:`esc` for HTML text and attribute values;
* :func:`label` for text that plotly.js renders (hover text, tick and tree labels):
  plotly interprets a small set of HTML tags in those strings, so tags are escaped
  into entities that plotly decodes back to the literal characters;
* :func:`script_json` for JSON embedded in a ``<script>`` element: ``<``, ``>``, ``&``
  and the JavaScript line separators become ``\\uXXXX`` escapes so no string can close
  the element;
* :func:`defuse_formula` for CSV cells a spreadsheet would otherwise evaluate.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd

__all__ = ["FORMULA_START", "defuse_formula", "esc", "escape_script_json", "label", "script_json", "shorten"]

_LABEL_TABLE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})
_SCRIPT_TABLE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def esc(value: object) -> str:
    """HTML-escape ``value`` (quotes included); missing values become an empty string."""
    return html.escape(_text(value), quote=True)


def label(value: object, limit: int | None = None) -> str:
    """Text safe to hand to plotly as a label or hover text (tags shown literally)."""
    text = _text(value)
    if limit is not None:
        text = shorten(text, limit)
    return text.translate(_LABEL_TABLE)


def _text(value: object) -> str:
    """``str(value)``, with missing scalars (None, NaN, NA, NaT) as an empty string."""
    if value is None:
        return ""
    if not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value):  # type: ignore[call-overload]
        return ""
    return str(value)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def script_json(obj: Any) -> str:
    """JSON text of ``obj`` that is safe inside ``<script>...</script>``."""
    return escape_script_json(json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str))


def escape_script_json(text: str) -> str:
    """Escape already-serialised JSON ``text`` for embedding in a ``<script>`` element."""
    for char, escape in _SCRIPT_TABLE.items():
        text = text.replace(char, escape)
    return text


#: A CSV cell starting with one of these is a formula to a spreadsheet.
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(value: object) -> object:
    """``value`` prefixed with ``'`` when it is text a spreadsheet would evaluate as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
