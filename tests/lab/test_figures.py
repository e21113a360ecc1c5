"""Figures with a static fallback (falco_lab.lab.figures) and readable tables (nb.table)."""

from __future__ import annotations

import os

import pandas as pd
import plotly.graph_objects as go
import pytest

from falco_lab.lab import figures, nb


@pytest.fixture
def html_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(figures._state, "engine", "html")
    monkeypatch.setitem(figures._state, "plotlyjs_sent", False)


def _bundle() -> dict:
    return figures.FallbackRenderer().to_mimebundle(go.Figure(go.Bar(x=["a"], y=[1])).to_dict())


def test_a_figure_keeps_its_live_plotly_json(html_only: None) -> None:
    assert figures.PLOTLY_MIMETYPE in _bundle()


def test_without_a_browser_the_fallback_is_html_with_plotlyjs_inlined_once(html_only: None) -> None:
    first, second = _bundle(), _bundle()
    assert "plotly.js" in first["text/html"] or len(first["text/html"]) > 1_000_000
    assert len(second["text/html"]) < 100_000
    assert "cdn" not in second["text/html"].lower()


def test_with_a_browser_the_fallback_is_a_png(monkeypatch: pytest.MonkeyPatch) -> None:
    if figures._probe() != "png":
        message = "kaleido found no Chromium here; `make browser` installs Debian's chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    monkeypatch.setitem(figures._state, "engine", "png")
    bundle = _bundle()
    assert bundle["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature


def test_missing_fallbacks_names_the_cells_with_a_bare_plotly_figure() -> None:
    notebook = {
        "cells": [
            {"cell_type": "code", "outputs": [{"data": {figures.PLOTLY_MIMETYPE: {}, "image/png": "x"}}]},
            {"cell_type": "code", "outputs": [{"data": {figures.PLOTLY_MIMETYPE: {}}}]},
            {"cell_type": "markdown"},
        ]
    }
    assert figures.missing_fallbacks(notebook) == [1]


def test_a_table_shows_the_chosen_columns_in_that_order() -> None:
    shown = nb.table(pd.DataFrame({"a": [1], "b": [2], "c": [3]}), ["c", "a", "missing"])
    assert list(shown.frame.columns) == ["c", "a"]


def test_a_table_keeps_the_full_text_of_long_values() -> None:
    long = "x" * 500
    assert long in nb.table(pd.DataFrame({"output": [long]}))._repr_html_()


def test_a_table_caps_rows_and_says_how_many_more() -> None:
    shown = nb.table(pd.DataFrame({"a": range(30)}), max_rows=10)
    assert "20 more row(s) not shown" in shown._repr_html_()


def test_a_table_escapes_its_cells() -> None:
    html = nb.table(pd.DataFrame({"cmd": ["<script>alert(1)</script>"]}))._repr_html_()
    assert "<script>" not in html
