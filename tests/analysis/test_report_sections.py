"""The report's section registry: page order, placement and the navigation bar."""

from __future__ import annotations

import pytest

from falco_lab.analysis.report import SECTIONS, ReportContext, Section, build_report, register_section
from falco_lab.analysis.report.page import section
from tests.analysis.frames import alerts


def _extra(ctx: ReportContext) -> None:
    ctx.page.add(section("extra", "Extra", f"<p>{len(ctx.df)} alerts seen by the extra section</p>"))


@pytest.fixture
def restore_sections():
    saved = list(SECTIONS)
    yield
    SECTIONS[:] = saved


def test_built_in_sections_come_in_page_order() -> None:
    assert [s.anchor for s in SECTIONS][:3] == ["chains", "activity", "summary"]
    assert SECTIONS[-1].anchor == "alerts"


def test_a_registered_section_is_rendered_where_it_was_placed(restore_sections) -> None:
    register_section(Section("extra", "Extra", _extra), after="chains")
    html = build_report(alerts({"rule": "r1"}, {"rule": "r2"}))
    assert html.index('id="chains"') < html.index('id="extra"') < html.index('id="activity"')
    assert "2 alerts seen by the extra section" in html


def test_the_navigation_bar_links_every_section(restore_sections) -> None:
    register_section(Section("extra", "Extra <b>", _extra), before="alerts")
    html = build_report(alerts({"rule": "r1"}))
    nav = html[html.index("<nav>") : html.index("</nav>")]
    assert nav.count("<a ") == len(SECTIONS)
    assert '<a href="#extra">Extra &lt;b&gt;</a>' in nav


def test_an_anchor_is_registered_once(restore_sections) -> None:
    with pytest.raises(ValueError, match="'summary' is already registered"):
        register_section(Section("summary", "Again", _extra))


def test_placing_next_to_an_unknown_section_is_an_error(restore_sections) -> None:
    with pytest.raises(ValueError, match="no report section 'nowhere'"):
        register_section(Section("extra", "Extra", _extra), after="nowhere")
