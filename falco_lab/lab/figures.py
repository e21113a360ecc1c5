"""Plotly figures that show everywhere: live in JupyterLab, static in HTML copies and on GitHub.

A figure displayed with plotly's ``plotly_mimetype`` renderer is stored in the notebook as
``application/vnd.plotly.v1+json`` only, which JupyterLab draws but nbconvert's HTML,
GitHub and nbviewer do not: there the cell looks empty.  The renderer registered here
(:data:`RENDERER`) stores the same plotly JSON *and* a static fallback next to it:

* ``image/png``, drawn by kaleido with the machine's Chromium (one browser kept for the
  kernel's life, about 0.2 s a figure once started), when kaleido finds a browser;
* otherwise ``text/html``: the figure as a self-contained page fragment, with plotly.js
  inlined in the first figure of the kernel and reused by the next ones (no network).

Front ends pick what they can show: JupyterLab the live figure, the others the fallback.
"""

from __future__ import annotations

import base64
import logging
import warnings
from typing import Any

import plotly.io as pio
from plotly.io._base_renderers import PlotlyRenderer

__all__ = [
    "FALLBACK_TYPES",
    "PLOTLY_MIMETYPE",
    "RENDERER",
    "FallbackRenderer",
    "missing_fallbacks",
    "register",
    "static_engine",
]

log = logging.getLogger(__name__)

#: The plotly renderer name the notebooks use.
RENDERER = "falco_lab"
#: The live figure's mimetype.
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
#: Mimetypes that count as a static fallback of a figure.
FALLBACK_TYPES: tuple[str, ...] = ("image/png", "image/svg+xml", "text/html")

_state: dict[str, Any] = {"engine": None, "plotlyjs_sent": False}


def static_engine() -> str:
    """``"png"`` when kaleido can draw with a local browser, else ``"html"`` (decided once)."""
    if _state["engine"] is None:
        _state["engine"] = _probe()
    return str(_state["engine"])


def _probe() -> str:
    try:
        import kaleido

        kaleido.start_sync_server(silence_warnings=True)
        import plotly.graph_objects as go

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            go.Figure().to_image(format="png", width=10, height=10)
    except Exception as exc:  # no kaleido, no browser: the HTML fallback needs neither
        log.info("static figures as HTML (kaleido unavailable: %s)", exc)
        return "html"
    return "png"


class FallbackRenderer(PlotlyRenderer):
    """plotly's mimetype renderer plus a static fallback (PNG or self-contained HTML)."""

    def __init__(self, width: int = 900, height: int = 450) -> None:
        super().__init__()
        self.fallback_width = width
        self.fallback_height = height

    def to_mimebundle(self, fig_dict: dict[str, Any]) -> dict[str, Any]:
        bundle: dict[str, Any] = dict(super().to_mimebundle(fig_dict))
        layout = fig_dict.get("layout", {})
        width = layout.get("width") or self.fallback_width
        height = layout.get("height") or self.fallback_height
        if static_engine() == "png":
            try:
                with warnings.catch_warnings():  # plotly's note that kaleido's server ignores kopts
                    warnings.filterwarnings("ignore", message="The kopts argument is ignored")
                    png = pio.to_image(fig_dict, format="png", width=width, height=height)
                bundle["image/png"] = base64.b64encode(png).decode("ascii")
                return bundle
            except Exception as exc:  # a browser that went away: fall back for good
                log.info("PNG rendering failed, static figures as HTML from now on: %s", exc)
                _state["engine"] = "html"
        include = not _state["plotlyjs_sent"]
        bundle["text/html"] = pio.to_html(
            fig_dict, include_plotlyjs=include, full_html=False, default_width=width, default_height=height
        )
        _state["plotlyjs_sent"] = True
        return bundle


def register() -> None:
    """Register :class:`FallbackRenderer` as ``falco_lab`` and make it plotly's default."""
    pio.renderers[RENDERER] = FallbackRenderer()
    pio.renderers.default = RENDERER


def missing_fallbacks(notebook: Any) -> list[int]:
    """Indices of the cells of an executed notebook (a parsed ``.ipynb``) that hold a plotly
    figure with no static fallback next to it: what an HTML copy would show as empty."""
    missing = []
    for index, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if PLOTLY_MIMETYPE in data and not any(kind in data for kind in FALLBACK_TYPES):
                missing.append(index)
    return missing
