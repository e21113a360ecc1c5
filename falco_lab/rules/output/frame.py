"""The canonical events frame of the engine's alerts, built directly from column-wise alert blocks.

The frame is what :func:`falco_lab.events.validate.alerts_to_frame` (the loaders' builder) gives
for the same alerts as dicts — same columns, order and dtypes — without making the dicts: the
base columns come from each rule's block, the output-field columns are typed by the events
layer's own :func:`~falco_lab.events.frame.python_column_to_series`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from falco_lab.events.frame import (
    assemble,
    field_column_name,
    gc_paused,
    object_array,
    python_column_to_series,
)
from falco_lab.events.load_diagnostics import ATTRS_KEY, LoadReport
from falco_lab.events.schema import empty_frame
from falco_lab.priorities import PRIORITY_DTYPE, normalize_priority
from falco_lab.rules.output.columns import AlertBlock

__all__ = ["ENGINE_SOURCE", "RuleBlock", "blocks_frame"]

#: The ``sources`` entry of the load report of an engine frame.
ENGINE_SOURCE = "<rules engine>"
_STRING = pd.StringDtype()


@dataclass(frozen=True, slots=True)
class RuleBlock:
    """One rule's alerts and where they go: ``rows`` are their positions in the frame, ascending."""

    rule: str
    priority: str
    source: str
    tags: tuple[str, ...]
    rows: npt.NDArray[np.int64]
    alerts: AlertBlock


def _tag_lists(distinct: list[list[str]], which: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """A fresh list per row (as the loaders give), built with the cyclic GC paused."""
    with gc_paused():
        return object_array([distinct[k].copy() for k in which.tolist()])


def _attach_report(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs[ATTRS_KEY] = LoadReport(sources=(ENGINE_SOURCE,), events=len(frame), problems=())
    return frame


def blocks_frame(blocks: Sequence[RuleBlock], n: int, hostname: str) -> pd.DataFrame:
    """The canonical frame of ``n`` alerts made of ``blocks`` (their ``rows`` cover 0..n-1 once).

    Columns: ``time`` (UTC, ns), ``rule``, ``priority``, ``source``, ``hostname``, ``tags``,
    ``output``, ``uuid`` (NA: Falco does not set it), then one column per output field in order of
    first appearance (each alert's fields sorted), typed like every loader types them.
    ``attrs["load_report"]`` is the :class:`~falco_lab.events.load_diagnostics.LoadReport` of the engine.
    """
    if n == 0:
        return _attach_report(empty_frame())
    ns = np.empty(n, dtype=np.int64)
    rule = np.empty(n, dtype=object)
    source = np.empty(n, dtype=object)
    output = np.empty(n, dtype=object)
    codes = np.empty(n, dtype=np.int64)
    tags_of = np.empty(n, dtype=np.int64)
    categories = list(PRIORITY_DTYPE.categories)
    for k, block in enumerate(blocks):
        rows = block.rows
        ns[rows] = block.alerts.time_ns
        rule[rows] = block.rule
        source[rows] = block.source
        output[rows] = block.alerts.output
        name = normalize_priority(block.priority)
        codes[rows] = categories.index(name) if name is not None else -1
        tags_of[rows] = k
    tag_lists = [sorted(block.tags) for block in blocks]
    base: dict[str, object] = {
        "time": pd.Series(pd.to_datetime(ns, unit="ns", utc=True)).astype("datetime64[ns, UTC]"),
        "priority": pd.Categorical.from_codes(codes, dtype=PRIORITY_DTYPE),
        "rule": pd.array(rule, dtype=_STRING),
        "source": pd.array(source, dtype=_STRING),
        "hostname": pd.array(np.full(n, hostname, dtype=object), dtype=_STRING),
        "output": pd.array(output, dtype=_STRING),
        "uuid": pd.array(np.full(n, None, dtype=object), dtype=_STRING),
        "tags": _tag_lists(tag_lists, tags_of),
    }
    first = sorted(blocks, key=lambda b: int(b.rows[0]))
    order = list(dict.fromkeys(key for block in first for key in block.alerts.fields))
    series = []
    for key in order:
        column = np.full(n, None, dtype=object)
        for block in blocks:
            values = block.alerts.fields.get(key)
            if values is not None:
                column[block.rows] = values
        series.append(python_column_to_series(column.tolist(), field_column_name(key)))
    return _attach_report(assemble(base, series, n))
