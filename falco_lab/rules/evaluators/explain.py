"""Explain a decision: which sub-conditions were true, false or missing for one event.

Every node of the compiled tree is evaluated (so the explanation is complete), and each node says
whether Falco would actually have evaluated it (``and``/``or`` stop early, left to right).
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import pandas as pd

from falco_lab.rules.evaluators.event import evaluate_check
from falco_lab.rules.evaluators.values import MISSING, extract
from falco_lab.rules.frontend.syntax import to_text
from falco_lab.rules.ir import CAnd, CCheck, CNode, CNot

__all__ = ["ExplainNode", "Explanation", "explain"]


@dataclass(slots=True)
class ExplainNode:
    """One sub-condition and its outcome.

    ``status`` is ``"true"``, ``"false"`` or ``"missing"`` (a check that is false because its field
    could not be extracted). ``evaluated`` is False for nodes that Falco's short-circuit skips.
    ``value`` is the extracted left-hand value of a check (None when missing).
    """

    kind: str  # "and", "or", "not", "check"
    text: str
    result: bool
    status: str
    evaluated: bool = True
    field: str | None = None
    value: Any = None
    children: list[ExplainNode] = dc_field(default_factory=list)
    macro: str | None = None  # the macro this sub-condition came from, if any

    def walk(self, depth: int = 0) -> Iterator[tuple[int, ExplainNode]]:
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "text": self.text,
            "result": self.result,
            "status": self.status,
            "evaluated": self.evaluated,
        }
        if self.macro is not None:
            out["macro"] = self.macro
        if self.kind == "check":
            out["field"] = self.field
            out["value"] = _plain(self.value)
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


_MARK = {"true": "✔", "false": "✘", "missing": "∅"}


@dataclass(slots=True)
class Explanation:
    """The explanation of one condition on one event. ``str()`` gives indented readable text."""

    result: bool
    root: ExplainNode

    def __bool__(self) -> bool:
        return self.result

    def lines(self) -> list[str]:
        out = []
        for depth, node in self.root.walk():
            mark = _MARK[node.status]
            label = node.status.upper()
            skipped = "" if node.evaluated else "  (not evaluated by Falco: decided earlier)"
            if node.kind == "check":
                value = "<missing>" if node.status == "missing" else repr(_plain(node.value))
                detail = f"{node.text}    [{node.field} = {value}]"
            elif node.kind == "not":
                detail = "not"
            else:
                detail = f"{node.kind}: {node.text}" if depth == 0 else node.kind
            macro = f"  (macro {node.macro})" if node.macro else ""
            out.append(f"{'  ' * depth}{mark} {label:<7} {detail}{macro}{skipped}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        """Notebook rendering: an indented list; every value and text is HTML-escaped."""
        colours = {"true": "#1a7f37", "false": "#cf222e", "missing": "#9a6700"}
        rows = []
        for depth, node in self.root.walk():
            label = html.escape(node.text if node.kind in ("check",) or depth == 0 else node.kind)
            macro = f" <i>(macro {html.escape(node.macro)})</i>" if node.macro else ""
            value = ""
            if node.kind == "check":
                shown = (
                    "&lt;missing&gt;" if node.status == "missing" else html.escape(repr(_plain(node.value)))
                )
                value = f" <code>[{html.escape(node.field or '')} = {shown}]</code>"
            faded = "" if node.evaluated else " opacity:0.55;"
            rows.append(
                f'<div style="margin-left:{1.5 * depth}em;{faded}">'
                f'<b style="color:{colours[node.status]}">{_MARK[node.status]} {node.status.upper()}</b> '
                f"<code>{label}</code>{macro}{value}</div>"
            )
        return '<div class="falco-lab-explanation">' + "".join(rows) + "</div>"

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.result, "tree": self.root.to_dict()}

    def to_frame(self) -> pd.DataFrame:
        """One row per node: depth, kind, macro, text, status, result, evaluated, field, value."""
        rows = [
            {
                "depth": depth,
                "kind": node.kind,
                "macro": node.macro,
                "text": node.text,
                "status": node.status,
                "result": node.result,
                "evaluated": node.evaluated,
                "field": node.field,
                "value": _plain(node.value),
            }
            for depth, node in self.root.walk()
        ]
        return pd.DataFrame(
            rows,
            columns=["depth", "kind", "macro", "text", "status", "result", "evaluated", "field", "value"],
        )


def _build(node: CNode, event: Mapping[str, Any], evaluated: bool, names: Mapping[int, str]) -> ExplainNode:
    built = _build_node(node, event, evaluated, names)
    built.macro = names.get(id(node.node))
    return built


def _build_node(
    node: CNode, event: Mapping[str, Any], evaluated: bool, names: Mapping[int, str]
) -> ExplainNode:
    if isinstance(node, CCheck):
        result, left = evaluate_check(node, event)
        missing = left is MISSING
        if not missing and node.rhs is not None and extract(node.rhs, event) is MISSING:
            missing = True
        status = "true" if result else ("missing" if missing else "false")
        return ExplainNode(
            kind="check",
            text=to_text(node.node),
            result=result,
            status=status,
            evaluated=evaluated,
            field=to_text(node.node.left),  # type: ignore[attr-defined]
            value=None if left is MISSING else left,
        )
    if isinstance(node, CNot):
        child = _build(node.child, event, evaluated, names)
        result = not child.result
        return ExplainNode(
            "not", to_text(node.node), result, "true" if result else "false", evaluated, children=[child]
        )
    is_and = isinstance(node, CAnd)
    children = []
    decided = False
    for c in node.children:
        built = _build(c, event, evaluated and not decided, names)
        children.append(built)
        if built.result != is_and:
            decided = True
    result = all(c.result for c in children) if is_and else any(c.result for c in children)
    kind = "and" if is_and else "or"
    return ExplainNode(
        kind, to_text(node.node), result, "true" if result else "false", evaluated, children=children
    )


def explain(
    node: CNode, event: Mapping[str, Any], macro_names: Mapping[int, str] | None = None
) -> Explanation:
    """Explain a compiled condition (``Condition.compiled``) for one event.

    ``macro_names`` (``Condition.macro_names``) labels the parts that came from macros.
    """
    root = _build(node, event, True, macro_names or {})
    return Explanation(root.result, root)
