"""Top findings: short, ranked observations drawn from the alerts (msticpy's "Observations").

Each :class:`Finding` says what was seen, how severe it is and which values back it;
:func:`find_findings` applies a few transparent heuristics: the first and the most
severe activity, multi-tactic pods, rare commands, pods still alerting at the end of
the data and rules that dominate the volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema, column
from falco_lab.analysis.mitre import _tag_sets, parse_tags, tactics
from falco_lab.priorities import PRIORITIES, PRIORITY_DTYPE

__all__ = ["Finding", "find_findings"]

_RANK = {p: i for i, p in enumerate(PRIORITIES)}  # 0 = most severe


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation for the post-mortem.

    Attributes
    ----------
    severity:
        A Falco priority name (how much it matters).
    title:
        One line.
    detail:
        A sentence or two of explanation.
    evidence:
        Short values backing it (rules, pods, commands); shown verbatim, escaped in HTML.
    time:
        When it started, if it has one moment.
    """

    severity: str
    title: str
    detail: str = ""
    evidence: tuple[str, ...] = field(default_factory=tuple)
    time: pd.Timestamp | None = None

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"


def _fmt(stamp: pd.Timestamp) -> str:
    return f"{stamp:%Y-%m-%d %H:%M:%S}Z"


def _duration(delta: pd.Timedelta) -> str:
    seconds = delta / pd.Timedelta("1s")
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def find_findings(
    df: pd.DataFrame, max_findings: int = 12, schema: AlertSchema = DEFAULT_SCHEMA
) -> list[Finding]:
    """Ranked findings for the alerts in ``df`` (most severe first); empty input gives ``[]``."""
    if df.empty:
        return []
    prio = df["priority"].astype(PRIORITY_DTYPE)
    pods = column(df, schema.pod)
    ns = column(df, schema.namespace)
    where = (ns.fillna("") + "/" + pods).where(pods.notna(), "node " + column(df, schema.node).fillna("?"))
    where = where.str.removeprefix("/")
    frame = pd.DataFrame(
        {
            "time": df["time"],
            "rule": column(df, "rule").fillna("(none)"),
            "prio": prio,
            "code": prio.cat.codes,
            "where": where,
            "cmd": column(df, schema.cmdline),
        }
    )
    findings: list[Finding] = []

    first = frame.sort_values("time", kind="stable").iloc[0]
    findings.append(
        Finding(
            str(first["prio"]) if not pd.isna(first["prio"]) else "Debug",
            f"First alert at {_fmt(first['time'])}: {first['rule']}",
            f"in {first['where']}; the data ends at {_fmt(frame['time'].max())}.",
            (str(first["where"]),),
            first["time"],
        )
    )

    severe = frame[frame["code"] >= PRIORITY_DTYPE.categories.get_loc("Error")]
    if not severe.empty:
        per_rule = severe.groupby("rule").agg(
            n=("time", "size"),
            code=("code", "max"),
            first=("time", "min"),
            last=("time", "max"),
            places=("where", "nunique"),
        )
        per_rule = per_rule.sort_values(["code", "n"], ascending=False).head(4)
        for rule, row in per_rule.iterrows():
            level = PRIORITY_DTYPE.categories[int(row["code"])]
            places = severe.loc[severe["rule"] == rule, "where"].value_counts().head(5)
            findings.append(
                Finding(
                    level,
                    f"{rule}: {row['n']} alert{'s' if row['n'] != 1 else ''} in "
                    f"{row['places']} place{'s' if row['places'] != 1 else ''}",
                    f"from {_fmt(row['first'])} to {_fmt(row['last'])}.",
                    tuple(f"{p} ({c})" for p, c in places.items()),
                    row["first"],
                )
            )

    codes, sets = _tag_sets(df)
    tactic_of_set = [parse_tags(s).tactics for s in sets]
    names = {t.shortname: t.name for t in tactics()}
    per_place = pd.DataFrame({"where": where.to_numpy(), "code": codes, "prio": frame["code"].to_numpy()})
    per_place = per_place.drop_duplicates(["where", "code"])
    multi = []
    for place, group in per_place.groupby("where"):
        found = {t for c in group["code"] for t in tactic_of_set[c]}
        if len(found) >= 3:
            multi.append((len(found), place, sorted(found, key=list(names).index), int(group["prio"].max())))
    for count, place, found, code in sorted(multi, reverse=True)[:3]:
        findings.append(
            Finding(
                PRIORITY_DTYPE.categories[max(code, 0)],
                f"{count} ATT&CK tactics in {place}",
                "Alerts from several stages of an attack in one place suggest a chain of activity.",
                tuple(names.get(t, t) for t in found),
            )
        )

    cmds = frame.dropna(subset=["cmd"])
    cmds = cmds[cmds["code"] >= PRIORITY_DTYPE.categories.get_loc("Warning")]
    if not cmds.empty:
        counts = cmds["cmd"].value_counts()
        rare = cmds[cmds["cmd"].isin(counts[counts == 1].index)].sort_values(
            ["code", "time"], ascending=[False, True]
        )
        if not rare.empty:
            findings.append(
                Finding(
                    str(rare["prio"].iloc[0]),
                    f"{len(rare)} command line{'s' if len(rare) != 1 else ''} seen only once",
                    "Rare commands in Warning-or-worse alerts are worth reading one by one.",
                    tuple(
                        f"{c} ({w})" for c, w in zip(rare["cmd"].head(8), rare["where"].head(8), strict=True)
                    ),
                    rare["time"].min(),
                )
            )

    end = frame["time"].max()
    window = max((end - frame["time"].min()) * 0.05, pd.Timedelta("1min"))
    recent = frame[
        (frame["time"] >= end - window) & (frame["code"] >= PRIORITY_DTYPE.categories.get_loc("Warning"))
    ]
    if not recent.empty:
        places = recent["where"].value_counts().head(5)
        findings.append(
            Finding(
                str(recent["prio"].max()),
                f"Latest activity: {len(recent)} Warning-or-worse "
                f"alerts in the last {_duration(window)} of the data",
                f"The data ends at {_fmt(end)}. If the export was taken much later and the "
                "source was still sending, the activity stopped; otherwise it may be ongoing.",
                tuple(f"{p} ({c})" for p, c in places.items()),
                recent["time"].min(),
            )
        )

    top = frame["rule"].value_counts()
    if len(frame) >= 20 and top.iloc[0] / len(frame) >= 0.5:
        findings.append(
            Finding(
                "Informational",
                f"{top.index[0]} makes {top.iloc[0] / len(frame):.0%} of all alerts",
                "A rule this dominant is a tuning candidate (see noise and what-if).",
                (f"{top.iloc[0]} of {len(frame)} alerts",),
            )
        )

    findings.sort(key=lambda f: _RANK.get(f.severity, len(_RANK)))
    return findings[:max_findings]
