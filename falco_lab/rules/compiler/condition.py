"""The public facade of a compiled condition: :class:`Condition` (evaluate, mask, explain)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from falco_lab.rules.codes import Code
from falco_lab.rules.evaluators.event import build_matcher
from falco_lab.rules.evaluators.explain import Explanation, explain
from falco_lab.rules.evaluators.frame import FrameCache, evaluate_frame
from falco_lab.rules.fields import EVENT_TYPES
from falco_lab.rules.frontend import syntax
from falco_lab.rules.ir import CNode

__all__ = ["Condition"]


@dataclass(eq=False)
class Condition:
    """A compiled condition.

    Attributes
    ----------
    ast
        The expanded syntax tree.
    text
        Canonical text (§10), e.g. ``(evt.type = open and proc.name in (cat, ls))``.
    source
        Event source the fields were checked against.
    evttypes
        Event types the condition can match, or None for "all of them".
    fields
        Fields used, as written (``proc.aname[2]`` keeps its argument).
    warnings
        ``(code, message)`` pairs: compiler warnings (``LOAD_COMPILE_CONDITION``), ``LOAD_UNSAFE_NA_CHECK``
        and ``LOAD_DEPRECATED_ITEM`` for deprecated fields.
    """

    ast: syntax.Node
    text: str
    source: str
    evttypes: frozenset[str] | None
    fields: tuple[str, ...]
    warnings: tuple[tuple[Code, str], ...]
    compiled: CNode = field(repr=False)
    macro_names: dict[int, str] = field(default_factory=dict, repr=False)
    _matcher: Callable[[Mapping[str, Any]], bool] | None = field(default=None, repr=False)

    @property
    def evttype_count(self) -> int:
        """How many event types the condition can match (all known types when unrestricted)."""
        return len(EVENT_TYPES) if self.evttypes is None else len(self.evttypes)

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether one event (field → value; absent or None means missing) satisfies the condition."""
        if self._matcher is None:
            self._matcher = build_matcher(self.compiled)
        return self._matcher(event)

    def mask(self, df: pd.DataFrame, cache: FrameCache | None = None) -> pd.Series[bool]:
        """Boolean Series: which rows of ``df`` (columns named as fields) satisfy the condition.

        ``cache`` may be a :class:`falco_lab.rules.evaluators.frame.FrameCache` shared by several conditions
        evaluated over the same frame (columns are then converted and factorised once).
        """
        return evaluate_frame(self.compiled, df, cache)

    def explain(self, event: Mapping[str, Any]) -> Explanation:
        """Which sub-conditions were true, false or missing for ``event``."""
        return explain(self.compiled, event, self.macro_names)

    def __str__(self) -> str:
        return self.text
