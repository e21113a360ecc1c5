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
from falco_lab.analysis.triage import Mark
from falco_lab.priorities import PRIORITY_COLORS

__all__ = [
    "Page",
    "cell",
    "cell_kind",
    "fmt_time",
    "html_table",
    "mark_label",
    "raw_details",
    "render",
    "section",
]


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
#: Columns of times: their cells never wrap, even when empty.
TIME_COLUMNS = frozenset(
    {"time", "first_seen", "last_seen", "exec_time", "alert_time", "start", "end", "when"}
)
#: Columns of long free text (outputs, command lines): clamped to a few lines, the full
#: text on hover (``title``) and on click (the cell takes focus and expands).
LONG_COLUMNS = frozenset({"output", "cmdline", "example", "template", "command", "last_processes", "note"})
#: Longest text kept in a ``title`` attribute (the cell itself holds the whole value).
_TITLE_LIMIT = 2000


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


def cell_kind(value: object, name: str) -> str:
    """The CSS class of a table cell: ``time``, ``num``, ``long`` or ``text``.

    Times and numbers never wrap (``white-space: nowrap``); ``long`` cells are clamped.
    """
    if isinstance(value, pd.Timestamp) or name in TIME_COLUMNS:
        return "time"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return "num"
    if name in LONG_COLUMNS:
        return "long"
    return "text"


def _td(value: object, name: str) -> str:
    kind = cell_kind(value, name)
    text = cell(value, name)
    if kind == "long" and text:
        full = str(value)
        title = full if len(full) <= _TITLE_LIMIT else full[:_TITLE_LIMIT] + "…"
        return f'<td class="long"><div class="clamp" tabindex="0" title="{esc(title)}">{text}</div></td>'
    return f'<td class="{kind}">{text}</td>'


def raw_details(text: str, summary: str = "JSON") -> str:
    """A ``<details>`` element revealing ``text`` (escaped) in a ``<pre>``: one click away."""
    return f'<details class="raw"><summary>{esc(summary)}</summary><pre>{esc(text)}</pre></details>'


def html_table(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    cls: str = "",
    limit: int | None = None,
    headers: Mapping[str, str] | None = None,
    details: Sequence[str] | None = None,
    details_header: str = "raw",
    row_classes: Sequence[str] | None = None,
) -> str:
    """An HTML table of ``df`` with every header and cell escaped.

    Cells get a class by kind (:func:`cell_kind`).  ``details`` (one text per shown
    row, e.g. the alert's JSON) adds a last column revealing each text on click
    (:func:`raw_details`); ``row_classes`` (one per shown row) sets each row's class.
    """
    columns = list(columns if columns is not None else df.columns)
    headers = headers or {}
    shown = df if limit is None else df.head(limit)
    if details is not None and len(details) != len(shown):
        raise ValueError(f"details has {len(details)} entries for {len(shown)} shown rows")
    if row_classes is not None and len(row_classes) != len(shown):
        raise ValueError(f"row_classes has {len(row_classes)} entries for {len(shown)} shown rows")
    head = "".join(f"<th>{esc(headers.get(c, c))}</th>" for c in columns)
    if details is not None:
        head += f"<th>{esc(details_header)}</th>"
    rows = []
    for i, values in enumerate(
        zip(*(shown[c].tolist() if c in shown.columns else [""] * len(shown) for c in columns), strict=True)
    ):
        cells = []
        for name, value in zip(columns, values, strict=True):
            if name in ("priority", "max_priority") and isinstance(value, str):
                cells.append(
                    f'<td class="text"><span class="prio" style="background:{PRIORITY_COLORS.get(value, "#ddd")}">'
                    f"{esc(value)}</span></td>"
                )
            else:
                cells.append(_td(value, name))
        if details is not None:
            cells.append(f'<td class="raw">{raw_details(details[i])}</td>')
        row_class = f' class="{esc(row_classes[i])}"' if row_classes is not None and row_classes[i] else ""
        rows.append(f"<tr{row_class}>" + "".join(cells) + "</tr>")
    more = ""
    if limit is not None and len(df) > limit:
        more = f'<p class="note">{len(df) - limit:,} more rows not shown.</p>'
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{more}'


def mark_label(found: Mark | None) -> str:
    """A case-work label (the status, the note on hover) for a marked chain, finding or alert."""
    if found is None:
        return ""
    return f' <span class="mark" title="{esc(found.note)}">{esc(found.status.replace("_", " "))}</span>'


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
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4;position:sticky;top:0;word-break:normal;overflow-wrap:normal;hyphens:none;white-space:normal}
td.text{overflow-wrap:break-word}td.long{overflow-wrap:anywhere}
td.num{white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums}
td.time{white-space:nowrap;font-variant-numeric:tabular-nums}
td.long{min-width:12em;max-width:40em}
.clamp{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:3;line-clamp:3;overflow:hidden;cursor:pointer}
.clamp:focus{display:block;-webkit-line-clamp:unset;line-clamp:none;overflow:visible;outline:1px dotted #888}
table.alerts td.text{min-width:6em;max-width:18em}
td.raw{white-space:nowrap}td.raw details[open]{white-space:normal}
td.raw pre{white-space:pre-wrap;overflow-wrap:anywhere;max-width:60em;max-height:30em;overflow:auto}
tr.marked-false_positive td{background:#f0f0f0;color:#666}
.mark{border-radius:4px;padding:0 4px;border:1px solid #888;font-size:.85em;white-space:nowrap}
.filter{margin:.3em 0}.filter input{width:22em;max-width:100%}.filter span{margin-left:.6em;color:#555;font-size:.85em}
.prio{border-radius:4px;padding:1px 6px;border:1px solid #888;white-space:nowrap;color:#111}
.facts{display:flex;flex-wrap:wrap;gap:1.5em}.facts dt{font-size:.8em;color:#666}.facts dd{margin:0;font-size:1.3em}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}
details{margin:.4em 0}summary{cursor:pointer}
.story{border-left:4px solid #bbb;padding-left:.8em}
.chain{border-left:4px solid #d33;padding-left:.8em;margin-bottom:1em}
.fig{width:100%}
"""


#: The filter boxes: plain JS, no network.  Each alerts table (and any table of at
#: least 10 rows) gets a search box that hides the rows whose text (``textContent``,
#: never HTML) does not contain what is typed.  The boxes are made by the script, so a
#: page without JavaScript shows every table whole and no dead box.
FILTER_JS = """(function(){
var tables=document.querySelectorAll("table");
function attach(body,input,count){var n=body.rows.length;
input.addEventListener("input",function(){var q=input.value.toLowerCase(),shown=0;
for(var r=0;r<n;r++){var row=body.rows[r],hit=!q||row.textContent.toLowerCase().indexOf(q)>=0;
row.hidden=!hit;if(hit){shown++;}}
count.textContent=q?shown+" of "+n+" rows":"";});}
for(var i=0;i<tables.length;i++){var t=tables[i],body=t.tBodies[0];
if(!body||!(t.classList.contains("alerts")||body.rows.length>=10)){continue;}
var box=document.createElement("div");box.className="filter";
var input=document.createElement("input");input.type="search";input.placeholder="filter rows";
input.setAttribute("aria-label","filter the rows of the table below");
var count=document.createElement("span");box.appendChild(input);box.appendChild(count);
t.parentNode.insertBefore(box,t);attach(body,input,count);}
})();"""


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
    scripts += f'<script nonce="{nonce}">{FILTER_JS}</script>'
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
