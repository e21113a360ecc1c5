"""The alerts table: every alert up to a limit, else aggregated with the most severe."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis.fields import column
from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.priorities import PRIORITIES


def _alerts_table(df: pd.DataFrame, options: ReportOptions) -> str:
    schema = options.schema
    view = pd.DataFrame({
        "time": df["time"], "priority": df["priority"].astype("string"), "rule": column(df, "rule"),
        "namespace": column(df, schema.namespace), "pod": column(df, schema.pod),
        "container": column(df, schema.container), "cmdline": column(df, schema.cmdline).str.slice(0, 300),
        "output": column(df, "output").str.slice(0, 500),
    })  # fmt: skip
    caps = options.caps
    if len(df) <= caps.alert_rows:
        return f"<p>All {len(df):,} alerts, oldest first.</p>" + html_table(
            view.sort_values("time", kind="stable")
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
        + html_table(agg, [*keys, "alerts", "first_seen", "last_seen", "example"], limit=caps.alert_rows)
        + f"<h3>The {n_latest} most severe alerts (latest first)</h3>"
        + html_table(severe.drop(columns="_rank"), limit=n_latest)
    )


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("alerts", "Alerts", _alerts_table(ctx.df, ctx.options)))


SECTION = Section("alerts", "Alerts", _render)
