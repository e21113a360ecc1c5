"""Errors and warnings of the rules engine, with Falco's codes and positions.

``Position`` mirrors the ``position`` object of Falco's JSON load results
(``name`` is the file name, ``line`` and ``column`` are 1-based, ``offset`` is 0-based).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from falco_lab.errors import FalcoLabError
from falco_lab.rules.codes import Code


@dataclass(frozen=True, slots=True)
class Position:
    name: str = ""
    line: int = 1
    column: int = 1
    offset: int = 0

    def __str__(self) -> str:
        return f"{self.name}:{self.line}:{self.column}"


class RuleError(FalcoLabError):
    """A problem in rules text: carries Falco's code, its message and where it is.

    ``code`` is a :class:`~falco_lab.rules.codes.Code` (a ``str``: Falco's text); a plain string is
    accepted and must be one of Falco's codes (``ValueError`` otherwise).
    """

    def __init__(
        self,
        code: Code | str,
        message: str,
        position: Position | None = None,
        *,
        item_type: str = "",
        item_name: str = "",
    ) -> None:
        super().__init__(message)
        self.code = Code(code)
        self.message = message
        self.position = position
        self.item_type = item_type
        self.item_name = item_name

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position is not None else ""
        return f"{where}{self.code} {self.message}"


@dataclass(slots=True)
class Issue:
    """One error or warning of a load, in the shape of Falco's load results (``code`` prints as Falco's text)."""

    code: Code
    message: str
    item_type: str = ""
    item_name: str = ""
    position: Position = field(default_factory=Position)
    snippet: str = ""

    def __post_init__(self) -> None:
        self.code = Code(self.code)  # a plain string must be one of Falco's codes

    def __str__(self) -> str:
        return f"{self.position}: {self.code} {self.message}"
