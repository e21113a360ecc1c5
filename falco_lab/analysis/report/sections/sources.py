"""Alerts by source (runtime, k8s audit, cloud, Falco), users, who opened the shells."""

from __future__ import annotations

import pandas as pd

from falco_lab.analysis.report.options import ReportOptions
from falco_lab.analysis.report.page import html_table, section
from falco_lab.analysis.report.registry import ReportContext, Section
from falco_lab.analysis.sources import attribute, link_execs


def _sources(df: pd.DataFrame, options: ReportOptions) -> str:
    who = attribute(df, options.schema)
    table = (
        who.assign(time=df["time"])
        .groupby("kind", dropna=False)
        .agg(
            alerts=("time", "size"),
            namespaces=("namespace", "nunique"),
            pods=("pod", "nunique"),
            users=("user", "nunique"),
            first_seen=("time", "min"),
            last_seen=("time", "max"),
        )
        .reset_index()
        .sort_values("alerts", ascending=False)
    )
    users = who.dropna(subset=["user"])
    user_table = (
        users.assign(time=df.loc[users.index, "time"])
        .groupby(["kind", "user"])
        .agg(alerts=("time", "size"), pods=("pod", "nunique"), last_seen=("time", "max"))
        .reset_index()
        .sort_values("alerts", ascending=False)
    )
    links = link_execs(df, options.schema)
    parts = [
        "<p>Alerts by what produced them: runtime (syscalls, attributed by <code>k8s.pod.name</code>), "
        "Kubernetes audit (attributed to <code>ka.target.*</code>, actor <code>ka.user.name</code>), "
        "cloud audit logs and Falco itself (its health alerts concern the node).</p>",
        html_table(table, ["kind", "alerts", "namespaces", "pods", "users", "first_seen", "last_seen"]),
    ]
    if len(user_table):
        parts.append("<h3>Users</h3>" + html_table(user_table, limit=options.caps.source_rows))
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
