"""Page assembly: escaped tables and sections, embedded figures, the rendered document.

plotly.js is embedded once; each figure is JSON inside a ``<script>`` element whose
``<``, ``>`` and ``&`` are ``\\u`` escapes, and every event string in the HTML is
escaped with :func:`~falco_lab.analysis._html.esc`.  A Content-Security-Policy with a
per-report nonce lets only the report's own scripts run and forbids any network access,
as a second line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from falco_lab.analysis._html import esc, escape_script_json
from falco_lab.analysis.report.options import ReportOptions
from falco_lab.priorities import PRIORITY_COLORS

__all__ = ["Page", "cell", "fmt_time", "html_table", "render", "section"]


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    if "</script" in js.lower():  # pragma: no cover - would break the page; plotly never ships that
        raise RuntimeError("plotly.js bundle contains '</script' and cannot be embedded inline")
    return js


class Page:
    """Collects sections and figures, then renders the document."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        self.parts: list[str] = []
        self.figures: list[tuple[str, str]] = []

    def add(self, html_text: str) -> None:
        self.parts.append(html_text)

    def figure(self, fig: go.Figure) -> None:
        div_id = f"fig{len(self.figures)}"
        spec = pio.to_json(fig, validate=False, pretty=False)
        self.figures.append((div_id, escape_script_json(spec)))
        self.parts.append(f'<div class="fig" id="{div_id}"></div>')


def fmt_time(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return ""
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M:%S.%f}"[:-3] + "Z"  # type: ignore[arg-type]


_PERCENT_COLUMNS = frozenset({"share", "reduction"})


def cell(value: object, name: str) -> str:
    if isinstance(value, pd.Timestamp):
        return esc(fmt_time(value))
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return esc(f"{value:.1%}") if name in _PERCENT_COLUMNS else esc(f"{value:,.2f}")
    if isinstance(value, int) and not isinstance(value, bool):
        return esc(f"{value:,}")
    return esc(value)


def html_table(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    cls: str = "",
    limit: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """An HTML table of ``df`` with every header and cell escaped."""
    columns = list(columns if columns is not None else df.columns)
    headers = headers or {}
    shown = df if limit is None else df.head(limit)
    head = "".join(f"<th>{esc(headers.get(c, c))}</th>" for c in columns)
    rows = []
    for values in zip(
        *(shown[c].tolist() if c in shown.columns else [""] * len(shown) for c in columns), strict=True
    ):
        cells = []
        for name, value in zip(columns, values, strict=True):
            if name in ("priority", "max_priority") and isinstance(value, str):
                cells.append(
                    f'<td><span class="prio" style="background:{PRIORITY_COLORS.get(value, "#ddd")}">'
                    f"{esc(value)}</span></td>"
                )
            else:
                cells.append(f"<td>{cell(value, name)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if limit is not None and len(df) > limit:
        more = f'<p class="note">{len(df) - limit:,} more rows not shown.</p>'
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{more}'


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1400px;padding:0 1.5em;
color:#1d1d1f}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-top:.6em}
.banner{background:#fff3b0;border:3px solid #d4a300;padding:.8em 1em;font-size:1.15em;font-weight:bold;margin:1em 0}
.warn{background:#fde2e1;border:1px solid #d33;padding:.5em 1em;margin:1em 0}
.note{color:#555;font-size:.9em}
nav a{margin-right:1em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0;width:100%}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f4f4f4;position:sticky;top:0}
.prio{border-radius:4px;padding:1px 6px;border:1px solid #888;white-space:nowrap;color:#111}
.facts{display:flex;flex-wrap:wrap;gap:1.5em}.facts dt{font-size:.8em;color:#666}.facts dd{margin:0;font-size:1.3em}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}
details{margin:.4em 0}summary{cursor:pointer}
.story{border-left:4px solid #bbb;padding-left:.8em}
.chain{border-left:4px solid #d33;padding-left:.8em;margin-bottom:1em}
.fig{width:100%}
"""


def render(page: Page, options: ReportOptions, simulated: bool) -> str:
    nonce = page.nonce
    csp = ""
    if options.csp:
        csp = (
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            f"script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src data: blob:; "
            "font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'\">"
        )
    scripts = ""
    if page.figures:
        calls = "\n".join(
            f'Plotly.newPlot("{div_id}",(s=JSON.parse(document.getElementById("{div_id}-data").textContent)).data,'
            f"s.layout,{{responsive:true,displaylogo:false}});"
            for div_id, _ in page.figures
        )
        data = "".join(
            f'<script type="application/json" id="{div_id}-data">{spec}</script>'
            for div_id, spec in page.figures
        )
        scripts = (
            f'{data}<script nonce="{nonce}">{_plotly_js()}</script>'
            f'<script nonce="{nonce}">(function(){{var s;\n{calls}\n}})();</script>'
        )
    banner_title = "[SIMULATED] " if simulated else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        + csp
        + '<meta name="viewport" content="width=device-width, initial-scale=1">'
        + f"<title>{esc(banner_title + options.title)}</title><style>{_CSS}</style></head><body>"
        + "".join(page.parts)
        + scripts
        + "</body></html>\n"
    )
