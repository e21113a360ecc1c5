"""The comparison operators of the rules language: one row per operator (rules-language §5.4, §7).

Each :class:`Operator` row holds everything the engine knows about an operator:

- how the parser reads it (``syntax``: ``"unary"``, ``"num"``, ``"str"`` or ``"list"``; rows are in the
  order the libs parser tries them, so ``<=`` comes before ``<`` and ``==`` before ``=``);
- which field types accept it (``families``; libs ``flt_is_comparable``) and whether list-valued
  fields, ``evt.rawarg``-like dynamic fields and the Falco 0.44 ``oneof``/``anyof``/``allof``
  modifiers accept it;
- how its right-hand side reads (a list, hex bytes, raw text) and the resolver flags (event-type
  restriction, unsafe ``<NA>`` comparison);
- the **scalar** comparison of two present, converted values (what :meth:`Condition.matches` uses);
- the **vectorised kernels** over the distinct values of a column, for string columns and numeric
  columns (what :meth:`Condition.mask` uses; None where no fast path exists — the scalar compare is
  then applied to each distinct value, so both evaluators agree by construction).

Adding an operator is adding one row to :data:`OPERATORS` (and, for a new ``syntax`` class, the
parser's grammar).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from falco_lab.rules.fields import INT_WIDTHS
from falco_lab.rules.transformers import ascii_lower

__all__ = [
    "BY_NAME",
    "FAMILIES",
    "LIST_RHS",
    "MODIFIERS",
    "OPERATORS",
    "Operator",
    "comparable_error",
    "family_of",
    "glob_regex",
    "operator",
    "pmatch",
]

BoolArray = npt.NDArray[np.bool_]
#: A kernel: (distinct values of a column, right-hand values) → one bool per distinct value, or None
#: when this call has no fast path (the caller then applies the scalar compare).
Kernel = Callable[[npt.NDArray[Any], tuple[Any, ...]], BoolArray | None]

#: String-operator modifiers of Falco 0.44 (``proc.name startswith oneof (a, b)``).
MODIFIERS: tuple[str, ...] = ("oneof", "anyof", "allof")

#: Libs type → operator family (the family name appears in Falco's error text).
FAMILIES: Mapping[str, str] = {
    **dict.fromkeys(INT_WIDTHS, "numeric"),
    "DOUBLE": "numeric",
    "BOOL": "bool",
    **dict.fromkeys(("IPADDR", "IPV4ADDR", "IPV6ADDR", "IPNET", "IPV4NET", "IPV6NET"), "ip"),
    **dict.fromkeys(("CHARBUF", "FSPATH", "FSRELPATH"), "string"),
    "BYTEBUF": "buffer",
}
#: How Falco names each family in "'op' operator not supported for <family> filters".
_FAMILY_TEXT: Mapping[str, str] = {
    "numeric": "numeric",
    "bool": "numeric",
    "ip": "ip address and network",
    "string": "string",
    "buffer": "buffer",
}
#: Libs types a list-valued field may have.
_LIST_CAPABLE = frozenset({"CHARBUF", "UINT64", "RELTIME", "ABSTIME", "BOOL", "IPADDR", "IPNET"})


# --------------------------------------------------------------------------- scalar semantics


@lru_cache(maxsize=4096)
def glob_regex(pattern: str, casefold: bool = False) -> re.Pattern[str]:
    """``fnmatch(pattern, s, 0)`` (``FNM_CASEFOLD`` if casefold) as a full-match regex: ``*`` crosses ``/``."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                negate = body[:1] in ("!", "^")
                if negate:
                    body = body[1:]
                chars = "".join("-" if ch == "-" else re.escape(ch) for ch in body)
                out.append("[" + ("^" if negate else "") + chars + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    flags = re.DOTALL | (re.IGNORECASE | re.ASCII if casefold else 0)
    return re.compile("".join(out), flags)


@lru_cache(maxsize=4096)
def _path_parts(path: str) -> tuple[str, ...]:
    return tuple(p for p in path.split("/") if p)


def _part_match(pattern: str, part: str) -> bool:
    if any(c in pattern for c in "*?["):
        return glob_regex(pattern).fullmatch(part) is not None
    return pattern == part


def pmatch(value: str, prefixes: tuple[str, ...]) -> bool:
    """Path prefix match: true if some prefix's parts start ``value``'s parts (§7.3)."""
    parts = _path_parts(value)
    for prefix in prefixes:
        pparts = _path_parts(prefix)
        if len(pparts) <= len(parts) and all(_part_match(p, v) for p, v in zip(pparts, parts, strict=False)):
            return True
    return False


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_NETWORKS = (ipaddress.IPv4Network, ipaddress.IPv6Network)


def _eq(left: Any, right: Any) -> bool:
    if isinstance(right, _NETWORKS) and not isinstance(left, _NETWORKS):
        return bool(left.version == right.version and left in right)
    return bool(left == right)


def _ne(left: Any, right: Any) -> bool:
    return not _eq(left, right)


def _as_bytes_if(left: Any, right: Any) -> Any:
    if isinstance(left, bytes) and isinstance(right, str):
        return right.encode("utf-8", "surrogateescape")
    return right


def _contains(left: Any, right: Any) -> bool:
    return bool(_as_bytes_if(left, right) in left)


def _startswith(left: Any, right: Any) -> bool:
    return bool(left.startswith(_as_bytes_if(left, right)))


def _endswith(left: Any, right: Any) -> bool:
    return bool(left.endswith(_as_bytes_if(left, right)))


def _icontains(left: Any, right: Any) -> bool:
    return ascii_lower(right) in ascii_lower(left)


def _glob(left: Any, right: Any) -> bool:
    return glob_regex(right).fullmatch(left) is not None


def _iglob(left: Any, right: Any) -> bool:
    return glob_regex(right, True).fullmatch(left) is not None


def _regex_match(left: Any, right: Any) -> bool:
    return _regex(right).fullmatch(left) is not None


def _pmatch(left: Any, right: Any) -> bool:
    return pmatch(left, (right,))


def _exists(left: Any, right: Any) -> bool:
    return True


# --------------------------------------------------------------------------- vectorised kernels


def _single(fn: Callable[[npt.NDArray[Any], Any], Any]) -> Kernel:
    def kernel(uniques: npt.NDArray[Any], values: tuple[Any, ...]) -> BoolArray | None:
        if len(values) != 1:
            return None
        return np.asarray(fn(uniques, values[0]), dtype=bool)

    return kernel


def _str_method(method: str) -> Kernel:
    def kernel(uniques: npt.NDArray[Any], values: tuple[Any, ...]) -> BoolArray | None:
        if len(values) != 1:
            return None
        strings = pd.Series(uniques, dtype=object).str
        if method == "contains":
            return strings.contains(values[0], regex=False).to_numpy(dtype=bool)
        result: pd.Series[bool] = getattr(strings, method)(values[0])
        return result.to_numpy(dtype=bool)

    return kernel


def _str_isin(uniques: npt.NDArray[Any], values: tuple[Any, ...]) -> BoolArray | None:
    return np.asarray(pd.Index(uniques, dtype=object).isin(list(values)), dtype=bool)


_INT64_RANGE = (-(2**63), 2**63 - 1)


def _num_isin(uniques: npt.NDArray[Any], values: tuple[Any, ...]) -> BoolArray | None:
    in_range = all(type(v) is float or _INT64_RANGE[0] <= v <= _INT64_RANGE[1] for v in values)
    if not in_range or uniques.dtype.kind != "i":
        return None
    wanted = np.array(values, dtype=np.float64 if any(type(v) is float for v in values) else np.int64)
    return np.isin(uniques, wanted)


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True, slots=True)
class Operator:
    """One comparison operator (see the module docstring)."""

    name: str
    syntax: str  # "unary", "num", "str" (a word needs a blank after it) or "list"
    families: frozenset[str]  # field families that accept it ("numeric", "bool", "ip", "string", "buffer")
    scalar: Callable[[Any, Any], bool]  # left op right, for two present converted values
    str_kernel: Kernel | None = None  # over the distinct values of a string column
    num_kernel: Kernel | None = None  # over the distinct values of an int64/float64 column
    word: bool = False  # a word operator: the parser requires a blank after it
    list_rhs: bool = False  # right-hand side is a list; true if any item matches
    on_list_fields: bool = False  # accepted on list-valued fields
    subset_on_lists: bool = False  # on a list field: every element must match (else: one is enough)
    dynamic: bool = True  # accepted on dynamic (evt.rawarg-like) fields
    equality: bool = False  # an equality test (also used for the items of list operators)
    hex_rhs: bool = False  # right-hand constant is hex bytes
    raw_text_rhs: bool = False  # right-hand constants stay text whatever the field type
    evttype: bool = False  # restricts evt.type (event-type resolver)
    na_check: bool = False  # comparing ka./jevt. fields with "<NA>" is unsafe (LOAD_UNSAFE_NA_CHECK)

    @property
    def takes_modifier(self) -> bool:
        """Whether ``oneof``/``anyof``/``allof`` may follow it (Falco 0.44: the string operators)."""
        return self.syntax == "str"


_ALL = frozenset({"numeric", "bool", "ip", "string", "buffer"})
_ORDERED = frozenset({"numeric", "string"})
_TEXT = frozenset({"string", "buffer"})
_STRING = frozenset({"string"})

#: Every operator, in the order the libs parser tries them.
OPERATORS: tuple[Operator, ...] = (
    Operator("exists", "unary", _ALL, _exists),
    Operator("<=", "num", _ORDERED, lambda a, b: bool(a <= b), num_kernel=_single(np.less_equal)),
    Operator("<", "num", _ORDERED, lambda a, b: bool(a < b), num_kernel=_single(np.less)),
    Operator(">=", "num", _ORDERED, lambda a, b: bool(a >= b), num_kernel=_single(np.greater_equal)),
    Operator(">", "num", _ORDERED, lambda a, b: bool(a > b), num_kernel=_single(np.greater)),
    Operator(
        "==",
        "str",
        _ALL,
        _eq,
        str_kernel=_single(np.equal),
        num_kernel=_single(np.equal),
        equality=True,
        evttype=True,
        na_check=True,
    ),
    Operator(
        "=",
        "str",
        _ALL,
        _eq,
        str_kernel=_single(np.equal),
        num_kernel=_single(np.equal),
        equality=True,
        evttype=True,
        na_check=True,
    ),
    Operator(
        "!=",
        "str",
        _ALL,
        _ne,
        str_kernel=_single(np.not_equal),
        num_kernel=_single(np.not_equal),
        evttype=True,
        na_check=True,
    ),
    Operator("glob", "str", _STRING, _glob, word=True),
    Operator("iglob", "str", _STRING, _iglob, word=True),
    Operator("contains", "str", _TEXT, _contains, str_kernel=_str_method("contains"), word=True),
    Operator("icontains", "str", _STRING, _icontains, word=True),
    Operator("bcontains", "str", frozenset({"buffer"}), _contains, word=True, dynamic=False, hex_rhs=True),
    Operator("startswith", "str", _TEXT, _startswith, str_kernel=_str_method("startswith"), word=True),
    Operator(
        "bstartswith", "str", frozenset({"buffer"}), _startswith, word=True, dynamic=False, hex_rhs=True
    ),
    Operator("endswith", "str", _TEXT, _endswith, str_kernel=_str_method("endswith"), word=True),
    Operator("regex", "str", _STRING, _regex_match, word=True),
    Operator(
        "intersects",
        "list",
        _ALL,
        _eq,
        str_kernel=_str_isin,
        num_kernel=_num_isin,
        list_rhs=True,
        on_list_fields=True,
        equality=True,
        evttype=True,
        na_check=True,
    ),
    Operator(
        "in",
        "list",
        _ALL,
        _eq,
        str_kernel=_str_isin,
        num_kernel=_num_isin,
        list_rhs=True,
        on_list_fields=True,
        subset_on_lists=True,
        equality=True,
        evttype=True,
        na_check=True,
    ),
    Operator("pmatch", "list", _STRING, _pmatch, list_rhs=True, raw_text_rhs=True, na_check=True),
)

#: Operator name → row.
BY_NAME: Mapping[str, Operator] = {op.name: op for op in OPERATORS}
#: Names of the operators whose right-hand side is a list.
LIST_RHS: frozenset[str] = frozenset(op.name for op in OPERATORS if op.list_rhs)


def operator(name: str) -> Operator:
    """The row of operator ``name`` (KeyError for an unknown name: the parser only produces known ones)."""
    return BY_NAME[name]


def family_of(ltype: str) -> str | None:
    """The operator family of a libs type (None for DYNAMIC and for types no operator accepts)."""
    return FAMILIES.get(ltype)


def comparable_error(op: str, ltype: str, is_list: bool) -> str | None:
    """Falco's operator/type compatibility (libs ``flt_is_comparable``): error text, or None if fine."""
    row = BY_NAME[op]
    if row.syntax == "unary":
        return None
    if is_list:
        if ltype not in _LIST_CAPABLE:
            return f"list filters are not supported for type '{ltype}'"
        if row.on_list_fields:
            return None
        return f"'{op}' operator not supported list filters"
    if ltype == "DYNAMIC":
        return None if row.dynamic else f"'{op}' operator not supported for type '{ltype}'"
    family = FAMILIES.get(ltype)
    if family is None:
        return f"'{op}' operator not supported for type '{ltype}'"
    if family in row.families:
        return None
    return f"'{op}' operator not supported for {_FAMILY_TEXT[family]} filters"
