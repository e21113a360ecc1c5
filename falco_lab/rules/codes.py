"""Falco's load result codes (``LOAD_ERR_*`` errors, ``LOAD_*`` warnings): the one home of the vocabulary.

A :class:`Code` *is* the string Falco prints (it is a :class:`enum.StrEnum`), so
``issue.code == "LOAD_ERR_VALIDATE"``, ``f"{issue.code}"`` and ``json.dumps(issue.code)`` all give
Falco's text. Members are declared in Falco's order (errors, then warnings); each carries Falco's
short description (``codedesc`` in the JSON load results).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Code"]


class Code(StrEnum):
    """A load result code; ``description`` is Falco's ``codedesc`` and ``is_error`` its family."""

    # errors, in Falco's order
    ERR_FILE_READ = "LOAD_ERR_FILE_READ"
    ERR_YAML_PARSE = "LOAD_ERR_YAML_PARSE"
    ERR_YAML_VALIDATE = "LOAD_ERR_YAML_VALIDATE"
    ERR_COMPILE_CONDITION = "LOAD_ERR_COMPILE_CONDITION"
    ERR_COMPILE_OUTPUT = "LOAD_ERR_COMPILE_OUTPUT"
    ERR_VALIDATE = "LOAD_ERR_VALIDATE"
    ERR_EXTENSION = "LOAD_ERR_EXTENSION"
    # warnings, in Falco's order
    UNKNOWN_SOURCE = "LOAD_UNKNOWN_SOURCE"
    UNSAFE_NA_CHECK = "LOAD_UNSAFE_NA_CHECK"
    NO_EVTTYPE = "LOAD_NO_EVTTYPE"
    UNKNOWN_FILTER = "LOAD_UNKNOWN_FILTER"
    UNUSED_MACRO = "LOAD_UNUSED_MACRO"
    UNUSED_LIST = "LOAD_UNUSED_LIST"
    UNKNOWN_ITEM = "LOAD_UNKNOWN_ITEM"
    DEPRECATED_ITEM = "LOAD_DEPRECATED_ITEM"
    WARNING_EXTENSION = "LOAD_WARNING_EXTENSION"
    APPEND_NO_VALUES = "LOAD_APPEND_NO_VALUES"
    EXCEPTION_NAME_NOT_UNIQUE = "LOAD_EXCEPTION_NAME_NOT_UNIQUE"
    INVALID_MACRO_NAME = "LOAD_INVALID_MACRO_NAME"
    INVALID_LIST_NAME = "LOAD_INVALID_LIST_NAME"
    COMPILE_CONDITION = "LOAD_COMPILE_CONDITION"
    UNKNOWN_KEY = "LOAD_UNKNOWN_KEY"

    @property
    def description(self) -> str:
        """Falco's short description of the code (``codedesc``)."""
        return _DESCRIPTIONS[self]

    @property
    def is_error(self) -> bool:
        """True for the ``LOAD_ERR_*`` codes (the load fails), False for warnings."""
        return self.value.startswith("LOAD_ERR_")


_DESCRIPTIONS: dict[Code, str] = {
    Code.ERR_FILE_READ: "File read error",
    Code.ERR_YAML_PARSE: "YAML parse error",
    Code.ERR_YAML_VALIDATE: "Error validating internal structure of YAML file",
    Code.ERR_COMPILE_CONDITION: "Error compiling condition",
    Code.ERR_COMPILE_OUTPUT: "Error compiling output",
    Code.ERR_VALIDATE: "Error validating rule/macro/list/exception objects",
    Code.ERR_EXTENSION: "Error in extension item",
    Code.UNKNOWN_SOURCE: "Unknown event source",
    Code.UNSAFE_NA_CHECK: "Unsafe <NA> comparison in condition",
    Code.NO_EVTTYPE: "Condition has no event-type restriction",
    Code.UNKNOWN_FILTER: "Unknown field or event-type in condition or output",
    Code.UNUSED_MACRO: "Unused macro",
    Code.UNUSED_LIST: "Unused list",
    Code.UNKNOWN_ITEM: "Unknown rules file item",
    Code.DEPRECATED_ITEM: "Used deprecated item",
    Code.WARNING_EXTENSION: "Warning in extension item",
    Code.APPEND_NO_VALUES: "Overriding/appending with no values",
    Code.EXCEPTION_NAME_NOT_UNIQUE: "Multiple exceptions defined with the same name",
    Code.INVALID_MACRO_NAME: "Invalid macro name",
    Code.INVALID_LIST_NAME: "Invalid list name",
    Code.COMPILE_CONDITION: "Warning in rule condition",
    Code.UNKNOWN_KEY: "Unknown key in item definition",
}
