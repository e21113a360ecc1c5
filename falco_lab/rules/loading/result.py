"""Load results in Falco's shapes: the ``falco_load_results`` JSON and ``file:line:col: CODE message`` text.

One :class:`LoadResult` per rules file; :class:`LoadResults` is the whole load.  Each problem is a
:class:`LoadIssue` (an :class:`~falco_lab.rules.errors.Issue` plus Falco's chain of locations).

Positions: :class:`~falco_lab.rules.errors.Position` is 1-based (line, column) everywhere in
falco-lab, and so is the text form.  The JSON form reproduces Falco's own numbers, which come from
yaml-cpp marks and are 0-based, so that editor integrations written for Falco's JSON
validation output point at the same place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any, overload

from falco_lab.rules.codes import Code
from falco_lab.rules.errors import Issue, Position
from falco_lab.rules.loading.model import Context, Location

__all__ = [
    "ERROR_CODES",
    "LoadIssue",
    "LoadResult",
    "LoadResults",
    "WARNING_CODES",
    "make_issue",
]

#: Error codes → Falco's short descriptions (``codedesc``), in Falco's order (views of :class:`Code`).
ERROR_CODES: dict[str, str] = {code.value: code.description for code in Code if code.is_error}

#: Warning codes → Falco's short descriptions (``codedesc``), in Falco's order (views of :class:`Code`).
WARNING_CODES: dict[str, str] = {code.value: code.description for code in Code if not code.is_error}


@dataclass(slots=True)
class LoadIssue(Issue):
    """An error or warning with Falco's whole chain of locations (outermost first)."""

    locations: tuple[Location, ...] = ()

    @property
    def codedesc(self) -> str:
        """Falco's short description of the code."""
        return Code(self.code).description

    @property
    def file(self) -> str:
        return self.position.name

    @property
    def line(self) -> int:
        return self.position.line

    @property
    def column(self) -> int:
        return self.position.column

    def as_dict(self) -> dict[str, Any]:
        """Falco's JSON object for one error or warning."""
        return {
            "code": self.code,
            "codedesc": self.codedesc,
            "message": self.message,
            "context": {
                "locations": [
                    {
                        "item_type": loc.item_type,
                        "item_name": loc.item_name,
                        "position": {
                            "name": loc.position.name,
                            "line": max(loc.position.line - 1, 0),
                            "column": max(loc.position.column - 1, 0),
                            "offset": loc.position.offset,
                        },
                    }
                    for loc in self.locations
                ],
                "snippet": self.snippet,
            },
        }


def _snippet(text: str | None, position: Position) -> str:
    """The source line at ``position`` with a caret under the column (like Falco's snippet)."""
    if not text:
        return ""
    lines = text.splitlines()
    if not 1 <= position.line <= len(lines):
        return ""
    line = lines[position.line - 1]
    caret = " " * max(position.column - 1, 0) + "^"
    return f"{line}\n{caret}\n"


def make_issue(code: Code, message: str, ctx: Context, text: str | None = None) -> LoadIssue:
    """Build an issue from a context: names the outermost named item, points at the innermost place."""
    named = ctx.named()
    item_type, item_name = (named.item_type, named.item_name) if named is not None else ("", "")
    position = ctx.position
    return LoadIssue(
        code=code,
        message=message,
        item_type=item_type,
        item_name=item_name,
        position=position,
        snippet=_snippet(ctx.alt_content, ctx.locations[-1].position)
        if ctx.alt_content
        else _snippet(text, position),
        locations=ctx.locations,
    )


@dataclass(slots=True)
class LoadResult:
    """The result of loading one rules file (Falco's ``falco::load_result``)."""

    name: str
    errors: list[LoadIssue] = field(default_factory=list)
    warnings: list[LoadIssue] = field(default_factory=list)
    #: Falco's schema check of the file: "ok", "failed" (loading goes on), or None if the YAML did not parse.
    schema_validation: str | None = None
    #: Why the schema check failed: (position, reason) pairs (see :mod:`falco_lab.rules.loading.schema`).
    schema_problems: list[tuple[Position, str]] = field(default_factory=list)

    @property
    def successful(self) -> bool:
        """True when the file loaded with no error (warnings allowed)."""
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """One entry of ``falco_load_results``."""
        return {
            "name": self.name,
            "successful": self.successful,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
        }

    def lines(self) -> list[str]:
        """Every problem as ``file:line:col: CODE message``, errors first."""
        return [str(issue) for issue in (*self.errors, *self.warnings)]

    def summary(self) -> str:
        """``falco -V`` style: ``NAME: Ok`` / ``NAME: Invalid`` then one line per problem."""
        head = f"{self.name}: {'Ok' if self.successful else 'Invalid'}"
        return "\n".join([head, *self.lines()])


@dataclass(slots=True)
class LoadResults(Sequence[LoadResult]):
    """All per-file results of one load, in file order."""

    results: list[LoadResult] = field(default_factory=list)

    @overload
    def __getitem__(self, index: int) -> LoadResult: ...
    @overload
    def __getitem__(self, index: slice) -> list[LoadResult]: ...
    def __getitem__(self, index: int | slice) -> LoadResult | list[LoadResult]:
        return self.results[index]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[LoadResult]:
        return iter(self.results)

    @property
    def ok(self) -> bool:
        """True when every file loaded without error."""
        return all(r.successful for r in self.results)

    @property
    def errors(self) -> list[LoadIssue]:
        """Every error of every file."""
        return [e for r in self.results for e in r.errors]

    @property
    def warnings(self) -> list[LoadIssue]:
        """Every warning of every file."""
        return [w for r in self.results for w in r.warnings]

    def as_dict(self) -> dict[str, Any]:
        """Falco's ``{"falco_load_results": [...]}`` object."""
        return {"falco_load_results": [r.as_dict() for r in self.results]}

    def to_json(self, **kwargs: Any) -> str:
        """The JSON text of :meth:`as_dict`."""
        return json.dumps(self.as_dict(), **kwargs)

    def __str__(self) -> str:
        return "\n".join(r.summary() for r in self.results)

    def _repr_html_(self) -> str:
        """A table for notebooks (every text escaped)."""
        rows = []
        for result in self.results:
            status = "Ok" if result.successful else "Invalid"
            rows.append(
                f"<tr><th colspan='5' style='text-align:left'>{escape(result.name)}: {status}</th></tr>"
            )
            for kind, issues in (("error", result.errors), ("warning", result.warnings)):
                for issue in issues:
                    rows.append(
                        "<tr>"
                        + "".join(
                            f"<td>{escape(str(cell))}</td>"
                            for cell in (
                                kind,
                                f"{issue.line}:{issue.column}",
                                issue.code,
                                f"{issue.item_type} {issue.item_name}".strip(),
                                issue.message,
                            )
                        )
                        + "</tr>"
                    )
        return "<table>" + "".join(rows) + "</table>"
