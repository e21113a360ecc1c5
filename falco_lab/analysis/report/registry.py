"""The report's sections: a registry, in page order.

A section is a name (its anchor), a title for the navigation bar and a ``render``
function that adds HTML and figures to the :class:`~falco_lab.analysis.report.page.Page`
of a :class:`ReportContext`.  Built-in sections register themselves in
:mod:`falco_lab.analysis.report.sections`; a new section is one module and one
:func:`register_section` call, with ``before=`` or ``after=`` to place it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import Page

__all__ = ["SECTIONS", "ReportContext", "Section", "register_section"]


@dataclass(slots=True)
class ReportContext:
    """What a section renders from: the alerts, the options and the page it writes to.

    ``cache`` lets sections share an expensive intermediate result (keyed by name) so
    it is computed once per report.  ``archive`` is set when the report is built from a
    Parquet archive out of core (:class:`~falco_lab.analysis.report.archive.ArchiveAggregates`):
    ``df`` then holds only the candidate rows it materialised.
    """

    df: pd.DataFrame
    options: ReportOptions
    page: Page
    cache: dict[str, object] = field(default_factory=dict)
    archive: object | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """One section of the report.

    Attributes
    ----------
    anchor:
        The element id (``#anchor`` links to it); unique in the registry.
    nav:
        The label in the navigation bar.
    render:
        Adds the section's HTML (a ``<section id=anchor>`` element) to ``ctx.page``.
    shown:
        Whether the section (and its navigation link) is in a report with these options;
        ``None``: always.
    """

    anchor: str
    nav: str
    render: Callable[[ReportContext], None]
    shown: Callable[[ReportOptions], bool] | None = None


#: The sections of a non-empty report, in page order.
SECTIONS: list[Section] = []


def register_section(section: Section, *, before: str | None = None, after: str | None = None) -> Section:
    """Add ``section`` to :data:`SECTIONS` (at the end, or before/after the named anchor).

    Raises
    ------
    ValueError
        When the anchor is taken, or ``before``/``after`` names no registered section.
    """
    if any(s.anchor == section.anchor for s in SECTIONS):
        raise ValueError(f"report section {section.anchor!r} is already registered")
    anchors = [s.anchor for s in SECTIONS]
    where = before if before is not None else after
    if where is None:
        SECTIONS.append(section)
        return section
    if where not in anchors:
        raise ValueError(f"no report section {where!r} to place {section.anchor!r} next to")
    index = anchors.index(where) + (0 if before is not None else 1)
    SECTIONS.insert(index, section)
    return section
