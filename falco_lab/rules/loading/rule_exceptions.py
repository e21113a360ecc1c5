"""Rule exceptions: validation (§4.2) and their translation into condition text (§4.3).

Falco turns ``exceptions:`` into plain text appended to the rule condition, before lists and
macros are expanded.  The text is built exactly as Falco builds it (including its quirks: values
are quoted only when they contain a space, never escaped; a value that names a list becomes
``(listname)`` after a list operator and is then expanded by the list substitution).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from falco_lab.rules.codes import Code
from falco_lab.rules.errors import RuleError
from falco_lab.rules.frontend.lists import quote_item
from falco_lab.rules.frontend.parser import OPERATORS
from falco_lab.rules.loading.model import ExceptionEntry, ItemError, RuleException
from falco_lab.rules.operators import LIST_RHS, MODIFIERS
from falco_lab.rules.operators import OPERATORS as OPERATOR_ROWS

__all__ = [
    "LIST_OPERATORS",
    "STRING_OPERATORS",
    "build_exception_condition",
    "is_list_operator",
    "is_supported_operator",
    "normalize_comp",
    "validate_exception",
]

#: Operators that take a list on the right-hand side.
LIST_OPERATORS: frozenset[str] = LIST_RHS
#: Operators that accept a ``oneof``/``anyof``/``allof`` modifier (Falco 0.44).
STRING_OPERATORS: frozenset[str] = frozenset(op.name for op in OPERATOR_ROWS if op.takes_modifier)
_SCALAR_FIELD_COMPS = ("in", "pmatch", "intersects")
_SCALAR_FIELD_MESSAGE = (
    "When fields is a single value, comps must be one of (in, pmatch, intersects) "
    "or a modifier operator (e.g. startswith oneof)"
)


def _error(message: str, ex: RuleException) -> RuleError:
    return ItemError(Code.ERR_VALIDATE, message, ex.ctx)


def normalize_comp(comp: str) -> str:
    """Trim a comparison operator; a modifier operator keeps one space (``startswith oneof``)."""
    parts = comp.split()
    return " ".join(parts) if len(parts) == 2 else comp.strip()


def _is_modifier_operator(comp: str) -> bool:
    parts = comp.split(" ")
    return len(parts) == 2 and parts[0] in STRING_OPERATORS and parts[1] in MODIFIERS


def is_supported_operator(comp: str) -> bool:
    """A plain comparison operator, or a string operator with a modifier."""
    return comp in OPERATORS or _is_modifier_operator(comp)


def is_list_operator(comp: str) -> bool:
    """Operators whose right-hand side is a list (``in``, ``intersects``, ``pmatch``, modifier ops)."""
    return comp in LIST_OPERATORS or _is_modifier_operator(comp)


def validate_exception(
    ex: RuleException,
    source: str | None,
    is_valid_field: Callable[[str, str], bool],
) -> None:
    """Fill in default comps and check an exception as Falco's ``validate_exception_info`` does.

    Parameters
    ----------
    ex
        The exception; its ``comps`` are completed/normalised in place.
    source
        The rule's event source, or ``None`` when the source is unknown (fields are then not checked).
    is_valid_field
        ``(source, text) -> bool`` for the field check.

    Raises
    ------
    ItemError
        ``LOAD_ERR_VALIDATE`` with Falco's message and the exception's context.
    """
    if ex.fields.is_list:
        if not ex.comps.is_valid():
            ex.comps = ExceptionEntry(is_list=True, items=[ExceptionEntry(item="=") for _ in ex.fields.items])
        if len(ex.fields.items) != len(ex.comps.items):
            raise _error("Fields and comps lists must have equal length", ex)
        for comp in ex.comps.items:
            comp.item = normalize_comp(comp.item)
            if not is_supported_operator(comp.item):
                raise _error(f"'{comp.item}' is not a supported comparison operator", ex)
        if source is not None:
            for entry in ex.fields.items:
                if not is_valid_field(source, entry.item):
                    raise _error(f"'{entry.item}' is not a supported filter field", ex)
    else:
        if not ex.comps.is_valid():
            ex.comps = ExceptionEntry(item="in")
        if ex.comps.is_list:
            raise _error("Fields and comps must both be strings", ex)
        ex.comps.item = normalize_comp(ex.comps.item)
        if ex.comps.item not in _SCALAR_FIELD_COMPS and not _is_modifier_operator(ex.comps.item):
            raise _error(_SCALAR_FIELD_MESSAGE, ex)
        if source is not None and not is_valid_field(source, ex.fields.item):
            raise _error(f"'{ex.fields.item}' is not a supported filter field", ex)


def _paren(text: str) -> str:
    return text if text.startswith("(") else f"({text})"


def _tuple_value(value: ExceptionEntry, comp: str) -> str:
    if value.is_list:
        return "(" + ", ".join(quote_item(v.item) for v in value.items) + ")"
    if is_list_operator(comp):
        return _paren(value.item)
    return quote_item(value.item)


def _exception_text(ex: RuleException) -> str:
    if not ex.fields.is_list:
        if not ex.values:
            return ""
        quoted = []
        for value in ex.values:
            if value.is_list:
                raise _error("Expected values array to contain a list of strings", ex)
            quoted.append(quote_item(value.item))
        return f"({ex.fields.item} {ex.comps.item} (" + ", ".join(quoted) + "))"
    terms = []
    for values in ex.values:
        if len(values.items) != len(ex.fields.items):
            raise _error("Fields and values lists must have equal length", ex)
        parts = [
            f" {field.item} {comp.item} {_tuple_value(value, comp.item)}"
            for field, comp, value in zip(ex.fields.items, ex.comps.items, values.items, strict=True)
        ]
        terms.append("(" + " and ".join(parts) + ")")
    return "(" + " or ".join(terms) + ")" if terms else ""


def build_exception_condition(condition: str, exceptions: Iterable[RuleException]) -> str:
    """The rule condition with its exceptions appended as ``and not (...)`` text (§4.3).

    With no exceptions the condition is returned unchanged; otherwise it is first wrapped in
    parentheses, as Falco does.
    """
    exceptions = list(exceptions)
    if not exceptions:
        return condition
    text = f"({condition})"
    for ex in exceptions:
        term = _exception_text(ex)
        if term:
            text += f" and not {term}"
    return text
