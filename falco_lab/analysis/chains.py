"""Attack chains: per pod, the suspicious alerts as ATT&CK steps, with patient zero and a score.

Routine alerts are set aside first (:func:`routine_mask`): a rule firing again and again
in one workload (a readiness probe, a CronJob's every run) is noise, whatever its
priority below Critical.  What remains is grouped by pod (``namespace/pod``; alerts
without a pod by node) into an :class:`AttackChain`:

* **patient zero** - the pod's first suspicious alert and the process that raised it;
* **steps** - the alerts grouped by ATT&CK tactic (the rule's tactic tag that comes
  latest in the matrix, e.g. Command and Control for a reverse shell tagged
  Execution + Command and Control), in the order they first happened, each with its
  evidence rows;
* **score** - the sum of four parts, each in [0, 1] and weighted (:data:`WEIGHTS`):
  ``severity`` (the worst priority), ``rarity`` (how few other pods raise the same
  rules, and commands seen only here), ``progression`` (distinct tactics, 5 or more
  scoring 1) and ``recency`` (how close its last alert is to the end of the data).

The post-mortem puts the highest-scoring chains first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema, column
from falco_lab.analysis.mitre import _tag_sets, parse_tags, tactics, technique
from falco_lab.analysis.sources import attribute, link_execs
from falco_lab.analysis.workloads import workload_names
from falco_lab.priorities import PRIORITY_DTYPE

__all__ = [
    "ROUTINE_ATTR",
    "WEIGHTS",
    "AttackChain",
    "ChainList",
    "ChainStep",
    "attack_chains",
    "routine_mask",
]

#: Weight of each score part.
WEIGHTS: dict[str, float] = {"severity": 3.0, "rarity": 2.0, "progression": 3.0, "recency": 1.0}

#: A group (rule, workload) is routine when its alerts come from this many pods or more ...
ROUTINE_PODS = 3
#: ... or number at least this many and spread over this share of the data's time span.
ROUTINE_COUNT = 10
ROUTINE_SPAN = 0.25
#: Alerts of this priority or worse are never set aside as routine.
NEVER_ROUTINE = "Critical"
#: Evidence rows kept per step by default (the report takes ``ReportCaps.chain_evidence``).
MAX_EVIDENCE = 5
#: ``df.attrs`` key of a routine flag decided elsewhere (over more alerts than ``df`` holds, e.g. a
#: Parquet archive out of core): a boolean Series on ``df``'s index, used as is by :func:`routine_mask`.
ROUTINE_ATTR = "routine"
#: Tactic label of alerts whose rule carries no ATT&CK tag.
UNMAPPED = "(no ATT&CK tag)"

_CODES = {p: i for i, p in enumerate(PRIORITY_DTYPE.categories)}


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One ATT&CK tactic in a chain.

    Attributes
    ----------
    tactic:
        Tactic name (``"Credential Access"``) or :data:`UNMAPPED`.
    first_seen:
        Its first alert.
    alerts:
        How many alerts.
    rules:
        Distinct rules, in order of first alert.
    evidence:
        Up to ``max_evidence`` (:data:`MAX_EVIDENCE`) rows: ``time``, ``rule``, ``priority``, ``process``,
        ``cmdline``, ``target`` (file or connection), in time order.
    """

    tactic: str
    first_seen: pd.Timestamp
    alerts: int
    rules: tuple[str, ...]
    evidence: pd.DataFrame


@dataclass(frozen=True, slots=True)
class AttackChain:
    """The suspicious activity of one pod (or node), as ATT&CK steps.

    Attributes
    ----------
    where:
        ``namespace/pod``, or ``node <name>`` for alerts with no pod.
    workload:
        ``namespace/workload`` (the pod's owner, see :mod:`falco_lab.analysis.workloads`).
    nodes:
        Nodes its alerts came from.
    patient_zero:
        The first suspicious alert: ``time``, ``rule``, ``priority``, ``process``,
        ``cmdline``, ``pid``, ``user``.
    steps:
        In order of first alert.
    score:
        Weighted sum of ``parts``.
    parts:
        ``severity``, ``rarity``, ``progression``, ``recency``, each in [0, 1].
    alerts:
        Suspicious alerts in the chain.
    max_priority:
        Its worst priority.
    opened_by:
        When an audited ``kubectl exec`` into this pod preceded patient zero
        (:func:`~falco_lab.analysis.sources.link_execs`): ``user``, ``exec_time``,
        ``command``; else None.
    """

    where: str
    workload: str
    nodes: tuple[str, ...]
    patient_zero: dict[str, object]
    steps: tuple[ChainStep, ...]
    score: float
    parts: dict[str, float] = field(default_factory=dict)
    alerts: int = 0
    max_priority: str = "Debug"
    opened_by: dict[str, object] | None = None

    @property
    def tactics(self) -> tuple[str, ...]:
        """Distinct tactics of the chain, in order of first alert."""
        return tuple(s.tactic for s in self.steps if s.tactic != UNMAPPED)

    def summary(self) -> str:
        """One line: where, how many tactics and the patient-zero process."""
        pz = self.patient_zero
        return (
            f"{self.where}: {len(self.tactics)} ATT&CK tactic{'s' if len(self.tactics) != 1 else ''} "
            f"({' → '.join(self.tactics) or 'none'}); patient zero {pz['time']:%Y-%m-%d %H:%M:%S}Z "
            f"{pz['rule']} by {pz['process'] or '?'} ({pz['cmdline'] or 'no command line'})"
        )


def _places(df: pd.DataFrame, schema: AlertSchema, who: pd.DataFrame) -> pd.Series:
    """``namespace/pod`` each alert concerns (audit alerts: their target), else ``node N``."""
    pods, ns = who["pod"], who["namespace"]
    where = (ns.fillna("") + "/" + pods).str.removeprefix("/")
    return where.where(pods.notna(), "node " + column(df, schema.node).fillna("?"))


def _workloads(df: pd.DataFrame, schema: AlertSchema, who: pd.DataFrame) -> pd.Series:
    pods, ns = who["pod"], who["namespace"]
    names = (ns.fillna("") + "/" + workload_names(pods)).str.removeprefix("/")
    return names.where(pods.notna(), "node " + column(df, schema.node).fillna("?"))


def routine_mask(df: pd.DataFrame, schema: AlertSchema = DEFAULT_SCHEMA) -> pd.Series:
    """True for alerts that are routine: their (rule, workload) group recurs.

    A group is routine when its alerts come from :data:`ROUTINE_PODS` pods or more (a
    CronJob's runs, every replica's probe) or number :data:`ROUTINE_COUNT` or more spread
    over :data:`ROUTINE_SPAN` of the data's time span (a probe every few seconds).  Alerts
    of priority :data:`NEVER_ROUTINE` or worse are never routine.  A flag decided over more
    alerts than ``df`` holds may be given in ``df.attrs[ROUTINE_ATTR]`` (same index).
    """
    if df.empty:
        return pd.Series(False, index=df.index, dtype=bool)
    given = df.attrs.get(ROUTINE_ATTR)
    if isinstance(given, pd.Series) and given.index.equals(df.index):
        return given.astype(bool)
    who = attribute(df, schema)
    return _routine(df, _workloads(df, schema, who), _places(df, schema, who))


def _routine(df: pd.DataFrame, workloads: pd.Series, places: pd.Series) -> pd.Series:
    """:func:`routine_mask` from the alerts' workloads and places (computed once by the caller).

    The flag given in ``df.attrs[ROUTINE_ATTR]`` (decided over more alerts) wins.
    """
    given = df.attrs.get(ROUTINE_ATTR)
    if isinstance(given, pd.Series) and given.index.equals(df.index):
        return given.astype(bool)
    frame = pd.DataFrame(
        {
            "rule": column(df, "rule").fillna("(none)"),
            "workload": workloads,
            "pod": places,
            "time": df["time"],
        }
    )
    span = max((frame["time"].max() - frame["time"].min()) / pd.Timedelta("1s"), 1.0)
    groups = frame.groupby(["rule", "workload"], sort=False)
    pods = groups["pod"].transform("nunique")
    count = groups["time"].transform("size")
    spread = (groups["time"].transform("max") - groups["time"].transform("min")).dt.total_seconds()
    routine = (pods >= ROUTINE_PODS) | ((count >= ROUTINE_COUNT) & (spread >= ROUTINE_SPAN * span))
    severe = df["priority"].astype(PRIORITY_DTYPE).cat.codes >= _CODES[NEVER_ROUTINE]
    return (routine & ~severe).astype(bool)


def _opened_by(links: pd.DataFrame | None, part: pd.DataFrame) -> dict[str, object] | None:
    """The audited exec linked to the chain's earliest linked runtime alert, if any."""
    if links is None or links.empty:
        return None
    linked = [i for i in part["_index"] if i in links.index]
    if not linked:
        return None
    row = links.loc[linked[0]]
    return {"user": row["user"], "exec_time": row["exec_time"], "command": row["command"]}


def _step_tactic(tags: tuple[str, ...], order: dict[str, int], names: dict[str, str]) -> str:
    parsed = parse_tags(tags)
    found = list(parsed.tactics)
    if not found:
        for tech in parsed.techniques:
            info = technique(tech)
            found.extend(info.tactics if info is not None else ())
    if not found:
        return UNMAPPED
    return names.get(max(found, key=lambda t: order.get(t, -1)), UNMAPPED)


def attack_chains(
    df: pd.DataFrame,
    schema: AlertSchema = DEFAULT_SCHEMA,
    *,
    top: int | None = None,
    max_evidence: int = MAX_EVIDENCE,
) -> ChainList:
    """The attack chains of ``df``, highest score first (``top`` of them; all when None).

    Routine alerts (:func:`routine_mask`) are left out; a pod with only routine alerts
    has no chain.  Empty input gives ``[]``.  The result is a :class:`ChainList` whose
    ``total`` counts every chain, also those beyond ``top``; places are ranked column-wise
    and only the chains returned are built.
    """
    if df.empty:
        return ChainList()
    all_tactics = tactics()
    order = {t.shortname: i for i, t in enumerate(all_tactics)}
    names = {t.shortname: t.name for t in all_tactics}
    codes, sets = _tag_sets(df)
    step_of_set = [_step_tactic(s, order, names) for s in sets]
    prio = df["priority"].astype(PRIORITY_DTYPE)
    target = column(df, schema.file).fillna(column(df, "fd.name"))
    who = attribute(df, schema)
    frame = pd.DataFrame(
        {
            "time": df["time"],
            "rule": column(df, "rule").fillna("(none)"),
            "priority": prio,
            "code": prio.cat.codes,
            "where": _places(df, schema, who),
            "workload": _workloads(df, schema, who),
            "node": column(df, schema.node),
            "process": column(df, "proc.name"),
            "cmdline": column(df, schema.cmdline),
            "pid": column(df, schema.pid),
            "user": column(df, "user.name"),
            "target": target,
            "step": np.asarray(step_of_set, dtype=object)[codes],
            "_index": df.index,
        },
        index=df.index,
    )
    links = link_execs(df, schema).set_index("index") if len(df) else None
    start, end = frame["time"].min(), frame["time"].max()
    span = max((end - start) / pd.Timedelta("1s"), 1.0)
    pods_per_rule = frame.groupby("rule")["where"].nunique()
    cmd_counts = frame["cmdline"].value_counts()
    suspicious = frame[~_routine(df, frame["workload"], frame["where"]).to_numpy()]
    # rank every place column-wise, then build only the chains asked for (a fleet has
    # thousands of places; a Python loop over all of them is the cost this avoids)
    ranked = _rank_places(suspicious, pods_per_rule, cmd_counts, start, span)
    chosen = ranked if top is None else ranked[:top]
    rows_of = suspicious.groupby("where", sort=False).indices
    chains = ChainList()
    chains.total = len(ranked)
    for where in chosen:
        part = suspicious.iloc[rows_of[where]]
        part = part.sort_values("time", kind="stable")
        first = part.iloc[0]
        steps = []
        for tactic, rows in sorted(part.groupby("step", sort=False), key=lambda kv: kv[1]["time"].min()):
            evidence = rows[["time", "rule", "priority", "process", "cmdline", "target"]].head(max_evidence)
            steps.append(
                ChainStep(
                    str(tactic),
                    rows["time"].min(),
                    len(rows),
                    tuple(dict.fromkeys(rows["rule"])),
                    evidence.reset_index(drop=True),
                )
            )
        mapped = [s for s in steps if s.tactic != UNMAPPED]
        rules = part["rule"].unique()
        rule_rarity = float(np.mean([1.0 / pods_per_rule[r] for r in rules]))
        cmds = part["cmdline"].dropna()
        unique_cmds = (
            float((cmds.map(cmd_counts) == cmds.groupby(cmds).transform("size")).mean()) if len(cmds) else 0.0
        )
        parts = {
            "severity": max(float(part["code"].max()), 0.0) / (len(PRIORITY_DTYPE.categories) - 1),
            "rarity": (rule_rarity + unique_cmds) / 2 if len(cmds) else rule_rarity,
            "progression": min(len(mapped), 5) / 5,
            "recency": float((part["time"].max() - start) / pd.Timedelta("1s")) / span,
        }
        score = sum(WEIGHTS[k] * v for k, v in parts.items())
        chains.append(
            AttackChain(
                where=str(where),
                workload=str(first["workload"]),
                nodes=tuple(sorted(map(str, part["node"].dropna().unique()))),
                patient_zero={
                    k: (None if pd.isna(first[k]) else first[k])
                    for k in ("time", "rule", "priority", "process", "cmdline", "pid", "user")
                },
                steps=tuple(steps),
                score=round(score, 3),
                parts={k: round(v, 3) for k, v in parts.items()},
                alerts=len(part),
                max_priority=str(PRIORITY_DTYPE.categories[max(int(part["code"].max()), 0)]),  # NA: Debug
                opened_by=_opened_by(links, part),
            )
        )
    return chains


class ChainList(list[AttackChain]):
    """The chains :func:`attack_chains` returns; ``total`` counts them all, before ``top``."""

    total: int = 0


def _rank_places(
    suspicious: pd.DataFrame,
    pods_per_rule: pd.Series,
    cmd_counts: pd.Series,
    start: pd.Timestamp,
    span: float,
) -> list[object]:
    """The places of ``suspicious`` by chain score (rounded as shown), highest first, then earliest.

    The same four parts as the chains' own, computed per place over columns.
    """
    if suspicious.empty:
        return []
    groups = suspicious.groupby("where", sort=False)
    places = pd.Index(groups.size().index)
    code = groups["code"].max().astype(float).clip(lower=0.0)
    severity = code / (len(PRIORITY_DTYPE.categories) - 1)
    rules = suspicious[["where", "rule"]].drop_duplicates()
    rule_rarity = (
        (1.0 / rules["rule"].map(pods_per_rule).astype(float)).groupby(rules["where"], sort=False).mean()
    )
    with_cmd = suspicious[["where", "cmdline"]].dropna()
    if len(with_cmd):
        here = with_cmd.groupby(["where", "cmdline"], sort=False)["cmdline"].transform("size")
        unique = (with_cmd["cmdline"].map(cmd_counts) == here).astype(float)
        unique_cmds = unique.groupby(with_cmd["where"], sort=False).mean().reindex(places)
    else:
        unique_cmds = pd.Series(np.nan, index=places)
    rarity = ((rule_rarity.reindex(places) + unique_cmds) / 2).fillna(rule_rarity.reindex(places))
    mapped = suspicious.loc[suspicious["step"] != UNMAPPED, ["where", "step"]].drop_duplicates()
    progression = mapped.groupby("where", sort=False).size().reindex(places, fill_value=0).clip(upper=5) / 5
    first, last = groups["time"].min(), groups["time"].max()
    recency = ((last - start) / pd.Timedelta("1s")) / span
    score = (
        WEIGHTS["severity"] * severity.reindex(places)
        + WEIGHTS["rarity"] * rarity
        + WEIGHTS["progression"] * progression
        + WEIGHTS["recency"] * recency.reindex(places)
    ).round(3)
    order = pd.DataFrame(
        {"score": -score.to_numpy(), "first": first.reindex(places).to_numpy()}, index=places
    )
    return list(order.sort_values(["score", "first"], kind="stable").index)
