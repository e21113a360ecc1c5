"""Alerts by source (runtime, k8s audit, cloud, Falco), users, who opened the shells."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.analysis.sources import attribute, link_execs


def source_tables(who: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alerts per source kind and per (kind, user), most first.

    ``who``: attribution rows (``kind``, ``namespace``, ``pod``, ``user``) weighted by ``_n``
    alerts, first seen ``_first``, last seen ``_last`` (one row per alert in memory, one per
    combination out of core).
    """
    table = (
        who.groupby("kind", dropna=False)
        .agg(
            alerts=("_n", "sum"),
            namespaces=("namespace", "nunique"),
            pods=("pod", "nunique"),
            users=("user", "nunique"),
            first_seen=("_first", "min"),
            last_seen=("_last", "max"),
        )
        .reset_index()
        .sort_values("alerts", ascending=False)
    )
    users = (
        who.dropna(subset=["user"])
        .groupby(["kind", "user"])
        .agg(alerts=("_n", "sum"), pods=("pod", "nunique"), last_seen=("_last", "max"))
        .reset_index()
        .sort_values("alerts", ascending=False)
    )
    return table, users


def source_parts(who: pd.DataFrame, options: ReportOptions) -> list[str]:
    """The section's text and tables (:func:`source_tables`), users capped."""
    table, users = source_tables(who)
    parts = [
        "<p>Alerts by what produced them: runtime (syscalls, attributed by <code>k8s.pod.name</code>), "
        "Kubernetes audit (attributed to <code>ka.target.*</code>, actor <code>ka.user.name</code>), "
        "cloud audit logs and Falco itself (its health alerts concern the node).</p>",
        html_table(table, ["kind", "alerts", "namespaces", "pods", "users", "first_seen", "last_seen"]),
    ]
    if len(users):
        parts.append("<h3>Users</h3>" + html_table(users, limit=options.caps.source_rows))
    return parts


def _sources(df: pd.DataFrame, options: ReportOptions) -> str:
    who = attribute(df, options.schema).assign(_n=1, _first=df["time"], _last=df["time"])
    parts = source_parts(who, options)
    links = link_execs(df, options.schema)
    if len(links):
        parts.append(
            "<h3>Who opened the shells</h3><p>Audited <code>exec</code> into a pod, linked to the runtime "
            "alerts in that pod within 30 s after it.</p>"
            + html_table(
                links,
                ["exec_time", "user", "namespace", "pod", "command", "alert_time", "rule", "cmdline"],
                limit=options.caps.source_rows,
            )
        )
    return "".join(parts)


def _render(ctx: ReportContext) -> None:
    ctx.page.add(section("sources", "Sources", _sources(ctx.df, ctx.options)))


SECTION = Section("sources", "Sources", _render)
