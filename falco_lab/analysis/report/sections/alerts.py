"""The alerts table: every alert up to a limit, else aggregated with the most severe.

Each listed alert has its Falco JSON one click away (a ``<details>`` cell, escaped,
only for the rows shown) and its case-work mark, if any.
"""

from __future__ import annotations

import json

import pandas as pd

from falco_lab.analysis._html import shorten
from falco_lab.analysis.fields import column
from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.analysis.triage import TRIAGE_COLUMNS, effective_marks
from falco_lab.events.schema import BASE_COLUMNS
from falco_lab.priorities import PRIORITIES

#: Longest alert JSON shown in the table (characters); longer ones are cut with a note.
MAX_JSON_CHARS = 4000


def _json_value(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        stamp = value.tz_convert("UTC") if value.tzinfo is not None else value
        return f"{stamp:%Y-%m-%dT%H:%M:%S.%f}{stamp.nanosecond:03d}Z"
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        value = value.tolist()
    if isinstance(value, float) and value.is_integer():  # an integer field of a column with gaps
        return int(value)
    return value


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, list | tuple | dict) or hasattr(value, "__len__") and not isinstance(value, str):
        return False
    return bool(pd.isna(value))  # type: ignore[call-overload]


def falco_json(rows: pd.DataFrame, limit: int = MAX_JSON_CHARS) -> list[str]:
    """Each alert of ``rows`` as Falco prints it: the top-level keys and ``output_fields``.

    Fields an alert does not carry (missing in the frame) are left out; ``time`` has
    nanoseconds.  Each text is cut to ``limit`` characters with a note of how many more.
    """
    fields = [c for c in rows.columns if c not in BASE_COLUMNS and c not in TRIAGE_COLUMNS]
    out = []
    for record in rows.to_dict("records"):
        doc: dict[str, object] = {}
        for name in BASE_COLUMNS:
            if name in record and not _missing(record[name]):
                doc[name] = _json_value(record[name])
        doc["output_fields"] = {
            name.removeprefix("output_fields."): _json_value(record[name])
            for name in fields
            if not _missing(record[name])
        }
        text = json.dumps(doc, indent=2, ensure_ascii=False, default=str)
        if len(text) > limit:
            text = shorten(text, limit) + f"\n… {len(text) - limit + 1:,} more characters"
        out.append(text)
    return out


def _marked(df: pd.DataFrame, options: ReportOptions) -> tuple[pd.Series, pd.Series]:
    """Per alert: the mark's label (``false_positive: note``) and status, or empty."""
    marks = {t: m for t, m in effective_marks(options.triage).items() if m.kind == "alert"}
    found = column(df, "uuid").map(lambda u: marks.get(u) if isinstance(u, str) else None)
    labels = found.map(lambda m: "" if m is None else f"{m.status}: {m.note}" if m.note else m.status)
    status = found.map(lambda m: "" if m is None else f"marked-{m.status}")
    return labels, status


def _table(view: pd.DataFrame, df: pd.DataFrame, columns: list[str], limit: int | None = None) -> str:
    shown = view if limit is None else view.head(limit)
    return html_table(
        view,
        columns,
        cls="alerts",
        limit=limit,
        details=falco_json(df.loc[shown.index]),
        details_header="JSON",
        row_classes=shown["_class"].tolist(),
    )


def _alerts_table(df: pd.DataFrame, options: ReportOptions) -> str:
    schema = options.schema
    labels, classes = _marked(df, options)
    view = pd.DataFrame({
        "time": df["time"], "priority": df["priority"].astype("string"), "rule": column(df, "rule"),
        "namespace": column(df, schema.namespace), "pod": column(df, schema.pod),
        "container": column(df, schema.container), "cmdline": column(df, schema.cmdline).str.slice(0, 300),
        "output": column(df, "output").str.slice(0, 500), "case": labels, "_class": classes,
    })  # fmt: skip
    columns = [c for c in view.columns if c != "_class" and (c != "case" or (labels != "").any())]
    caps = options.caps
    if len(df) <= caps.alert_rows:
        return f"<p>All {len(df):,} alerts, oldest first.</p>" + _table(
            view.sort_values("time", kind="stable"), df, columns
        )
    keys = ["rule", "priority", "namespace", "pod"]
    agg = view.fillna({"namespace": "(host)", "pod": "(host)"}).groupby(keys, sort=False, dropna=False).agg(
        alerts=("time", "size"), first_seen=("time", "min"), last_seen=("time", "max"), example=("output", "first"),
    ).reset_index()  # fmt: skip
    rank = {p: i for i, p in enumerate(PRIORITIES)}
    agg["_rank"] = agg["priority"].map(rank)
    agg = agg.sort_values(["_rank", "alerts"], ascending=[True, False], kind="stable")
    severe = view.assign(_rank=view["priority"].map(rank)).sort_values(
        ["_rank", "time"], ascending=[True, False], kind="stable"
    )
    n_latest = min(caps.severe_alerts, caps.alert_rows)
    return (
        f"<p>{len(df):,} alerts exceed the limit of {caps.alert_rows:,} rows, so they are aggregated per rule,"
        f" priority, namespace and pod ({len(agg):,} groups). Use the CSV/Parquet export for every alert.</p>"
        + html_table(
            agg,
            [*keys, "alerts", "first_seen", "last_seen", "example"],
            cls="alerts",
            limit=caps.alert_rows,
        )
        + f"<h3>The {n_latest} most severe alerts (latest first)</h3>"
        + _table(severe, df, columns, limit=n_latest)
    )


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("alerts", "Alerts", _alerts_table(ctx.df, ctx.options)))


SECTION = Section("alerts", "Alerts", _render)
