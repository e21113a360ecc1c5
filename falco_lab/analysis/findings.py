"""Top findings: short, ranked observations drawn from the alerts (msticpy's "Observations").

Each :class:`Finding` says what was seen, how severe it is and which values back it.
Findings come from registered *finders* (as pySigma registers its validators): a finder
is a function from a :class:`FindingContext` to a list of findings, added to
:data:`FINDERS` with :func:`register_finder`.  :func:`find_findings` runs every
registered finder (or a chosen subset) and ranks what they return.

Built-in finders: ``attack-chain``, ``first-alert``, ``severe-rules``, ``rare-commands``,
, ``latest-activity``, ``routine-noise``, ``dominant-rule``.

Ranking: every finding carries a ``score``; findings are sorted by score, then by
severity.  A finding's default score is its severity (0 for Debug up to 70 for
Emergency); attack chains (:mod:`falco_lab.analysis.chains`) of two or more ATT&CK
tactics score 100 plus the chain's own score, so the most suspicious pod's chain comes
first; a one-tactic chain ranks with its severity (plus a tenth of its score); routine
noise scores 0 and is never first while anything else was found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from falco_lab.analysis.chains import AttackChain, attack_chains, routine_mask
from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema, column, group_values
from falco_lab.priorities import PRIORITIES, PRIORITY_DTYPE

__all__ = [
    "FINDERS",
    "Finder",
    "Finding",
    "FindingContext",
    "find_findings",
    "register_finder",
    "severity_score",
]

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
    more_evidence:
        How many more values back it than ``evidence`` lists (a finder lists at most
        :attr:`FindingContext.max_evidence`).
    time:
        When it started, if it has one moment.
    score:
        Rank (higher first); ``None`` means "by severity" (:func:`severity_score`).
    """

    severity: str
    title: str
    detail: str = ""
    evidence: tuple[str, ...] = field(default_factory=tuple)
    time: pd.Timestamp | None = None
    score: float | None = None
    more_evidence: int = 0

    @property
    def rank(self) -> float:
        """The score used to order findings."""
        return severity_score(self.severity) if self.score is None else self.score

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"


def severity_score(severity: str) -> float:
    """10 per priority level above Debug (Emergency scores 70); unknown names score 0."""
    return 10.0 * (len(_RANK) - 1 - _RANK[severity]) if severity in _RANK else 0.0


def _fmt(stamp: pd.Timestamp) -> str:
    return f"{stamp:%Y-%m-%d %H:%M:%S}Z"


def _duration(delta: pd.Timedelta) -> str:
    seconds = delta / pd.Timedelta("1s")
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


@dataclass(frozen=True, slots=True)
class FindingContext:
    """What a finder sees: the alerts and a normalised per-alert frame.

    Attributes
    ----------
    df:
        The alerts (canonical events frame), non-empty.
    frame:
        One row per alert, same index as ``df``, with columns ``time``, ``rule`` (``"(none)"``
        when missing), ``prio`` (categorical priority), ``code`` (its category code, higher is
        more severe), ``where`` (``ns/pod`` or ``node N``) and ``cmd`` (command line or NA).
    schema:
        Which columns hold pod, namespace, node and command line.
    max_evidence:
        Evidence items a finder lists per finding (the rest is counted in
        :attr:`Finding.more_evidence`).
    max_chains:
        Attack chains turned into findings.
    chains:
        The attack chains of ``df`` when the caller has them already (most severe first;
        the report's chains section does), else ``None``: the finder computes them.
    """

    df: pd.DataFrame
    frame: pd.DataFrame
    schema: AlertSchema
    max_evidence: int = 8
    max_chains: int = 3
    chains: Sequence[AttackChain] | None = None


#: A finder turns the context into zero or more findings.
Finder = Callable[[FindingContext], list[Finding]]

#: The registry, in run order: name -> finder.  Extend with :func:`register_finder`.
FINDERS: dict[str, Finder] = {}


def register_finder(name: str) -> Callable[[Finder], Finder]:
    """Decorator adding a finder to :data:`FINDERS` under ``name``.

    Raises
    ------
    ValueError
        If ``name`` is already registered (names are unique, so a finder cannot be
        replaced by accident).
    """

    def add(finder: Finder) -> Finder:
        if name in FINDERS:
            raise ValueError(f"a finder named {name!r} is already registered")
        FINDERS[name] = finder
        return finder

    return add


def _context(
    df: pd.DataFrame,
    schema: AlertSchema,
    max_evidence: int,
    max_chains: int,
    chains: Sequence[AttackChain] | None = None,
) -> FindingContext:
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
            "routine": routine_mask(df, schema).to_numpy(),
        }
    )
    return FindingContext(df, frame, schema, max_evidence, max_chains, chains)


def find_findings(
    df: pd.DataFrame,
    max_findings: int = 12,
    schema: AlertSchema = DEFAULT_SCHEMA,
    finders: Iterable[str] | None = None,
    *,
    max_evidence: int = 8,
    max_chains: int = 3,
    chains: Sequence[AttackChain] | None = None,
) -> list[Finding]:
    """Ranked findings for the alerts in ``df`` (most severe first); empty input gives ``[]``.

    Parameters
    ----------
    finders:
        Names of registered finders to run, in :data:`FINDERS` order; ``None`` runs all.
    max_evidence, max_chains, chains:
        See :class:`FindingContext` (``chains``: :func:`~falco_lab.analysis.chains.attack_chains`
        of ``df`` already computed, at least ``max_chains`` of them or all there are).

    Raises
    ------
    KeyError
        If a name in ``finders`` is not registered.
    """
    if df.empty:
        return []
    chosen = list(FINDERS) if finders is None else list(finders)
    for name in chosen:
        if name not in FINDERS:
            raise KeyError(f"no finder named {name!r}; registered: {', '.join(FINDERS)}")
    ctx = _context(df, schema, max_evidence, max_chains, chains)
    findings: list[Finding] = []
    for name in FINDERS:
        if name in chosen:
            findings.extend(FINDERS[name](ctx))
    findings.sort(key=lambda f: (-f.rank, _RANK.get(f.severity, len(_RANK))))
    return findings[:max_findings]


def _chain_rank(chain: AttackChain) -> float:
    if len(chain.tactics) >= 2:
        return 100.0 + chain.score
    return severity_score(chain.max_priority) + chain.score / 10


@register_finder("attack-chain")
def _attack_chain(ctx: FindingContext) -> list[Finding]:
    out = []
    found = (
        ctx.chains[: ctx.max_chains]
        if ctx.chains is not None
        else attack_chains(ctx.df, ctx.schema, top=ctx.max_chains, max_evidence=0)
    )
    for chain in found:
        pz = chain.patient_zero
        n = len(chain.tactics)
        out.append(
            Finding(
                chain.max_priority,
                f"Attack chain in {chain.where}: {n} ATT&CK tactic{'s' if n != 1 else ''}, "
                f"{chain.alerts} suspicious alert{'s' if chain.alerts != 1 else ''}",
                f"Patient zero {_fmt(pd.Timestamp(str(pz['time'])))}: {pz['rule']} by {pz['process'] or '?'} "
                f"({pz['cmdline'] or 'no command line'}). Score {chain.score:.2f} "
                f"(severity {chain.parts['severity']:.2f}, rarity {chain.parts['rarity']:.2f}, "
                f"progression {chain.parts['progression']:.2f}, recency {chain.parts['recency']:.2f}).",
                tuple(f"{s.tactic}: {', '.join(s.rules)}" for s in chain.steps[: ctx.max_evidence]),
                pz["time"],  # type: ignore[arg-type]
                _chain_rank(chain),
                max(len(chain.steps) - ctx.max_evidence, 0),
            )
        )
    return out


@register_finder("first-alert")
def _first_alert(ctx: FindingContext) -> list[Finding]:
    routine = ctx.frame["routine"].to_numpy()
    frame = ctx.frame[~routine] if not routine.all() else ctx.frame
    first = frame.sort_values("time", kind="stable").iloc[0]
    return [
        Finding(
            str(first["prio"]) if not pd.isna(first["prio"]) else "Debug",
            f"First alert at {_fmt(first['time'])}: {first['rule']}",
            f"in {first['where']}; the data ends at {_fmt(ctx.frame['time'].max())}"
            + ("; routine alerts (probes, cron) are not counted." if routine.any() else "."),
            (str(first["where"]),),
            first["time"],
        )
    ]


@register_finder("severe-rules")
def _severe_rules(ctx: FindingContext) -> list[Finding]:
    frame = ctx.frame[~ctx.frame["routine"]]
    severe = frame[frame["code"] >= PRIORITY_DTYPE.categories.get_loc("Error")]
    if severe.empty:
        return []
    per_rule = severe.groupby("rule").agg(
        n=("time", "size"),
        code=("code", "max"),
        first=("time", "min"),
        last=("time", "max"),
        places=("where", "nunique"),
    )
    per_rule = per_rule.sort_values(["code", "n"], ascending=False).head(4)
    out = []
    for rule, row in per_rule.iterrows():
        level = PRIORITY_DTYPE.categories[int(row["code"])]
        counted = severe.loc[severe["rule"] == rule, "where"].value_counts()
        places = counted.head(min(5, ctx.max_evidence))
        out.append(
            Finding(
                level,
                f"{rule}: {row['n']} alert{'s' if row['n'] != 1 else ''} in "
                f"{row['places']} place{'s' if row['places'] != 1 else ''}",
                f"from {_fmt(row['first'])} to {_fmt(row['last'])}.",
                tuple(f"{p} ({c})" for p, c in places.items()),
                row["first"],
                more_evidence=len(counted) - len(places),
            )
        )
    return out


@register_finder("rare-commands")
def _rare_commands(ctx: FindingContext) -> list[Finding]:
    frame = ctx.frame[~ctx.frame["routine"]]
    cmds = frame.dropna(subset=["cmd"])
    cmds = cmds[cmds["code"] >= PRIORITY_DTYPE.categories.get_loc("Warning")]
    if cmds.empty:
        return []
    counts = cmds["cmd"].value_counts()
    rare = cmds[cmds["cmd"].isin(counts[counts == 1].index)].sort_values(
        ["code", "time"], ascending=[False, True]
    )
    if rare.empty:
        return []
    return [
        Finding(
            str(rare["prio"].iloc[0]),
            f"{len(rare)} command line{'s' if len(rare) != 1 else ''} seen only once",
            "Rare commands in Warning-or-worse alerts are worth reading one by one.",
            tuple(
                f"{c} ({w})"
                for c, w in zip(
                    rare["cmd"].head(ctx.max_evidence), rare["where"].head(ctx.max_evidence), strict=True
                )
            ),
            rare["time"].min(),
            more_evidence=max(len(rare) - ctx.max_evidence, 0),
        )
    ]


@register_finder("latest-activity")
def _latest_activity(ctx: FindingContext) -> list[Finding]:
    frame = ctx.frame
    end = frame["time"].max()
    window = max((end - frame["time"].min()) * 0.05, pd.Timedelta("1min"))
    frame = frame[~frame["routine"]]
    recent = frame[
        (frame["time"] >= end - window) & (frame["code"] >= PRIORITY_DTYPE.categories.get_loc("Warning"))
    ]
    if recent.empty:
        return []
    counted = recent["where"].value_counts()
    places = counted.head(min(5, ctx.max_evidence))
    return [
        Finding(
            str(recent["prio"].max()),
            f"Latest activity: {len(recent)} Warning-or-worse "
            f"alerts in the last {_duration(window)} of the data",
            f"The data ends at {_fmt(end)}. If the export was taken much later and the "
            "source was still sending, the activity stopped; otherwise it may be ongoing.",
            tuple(f"{p} ({c})" for p, c in places.items()),
            recent["time"].min(),
            more_evidence=len(counted) - len(places),
        )
    ]


@register_finder("routine-noise")
def _routine_noise(ctx: FindingContext) -> list[Finding]:
    routine = ctx.frame["routine"].to_numpy()
    if not routine.any():
        return []
    frame = ctx.frame[routine]
    workloads = group_values(ctx.df[routine], "workload", ctx.schema)
    counted = pd.DataFrame({"rule": frame["rule"], "workload": workloads.to_numpy()}).value_counts()
    groups = counted.head(min(5, ctx.max_evidence))
    return [
        Finding(
            "Informational",
            f"{int(routine.sum())} routine alert{'s' if routine.sum() != 1 else ''} "
            f"({routine.mean():.0%}) set aside as noise",
            "A rule firing again and again in one workload (probes, CronJob runs) is routine; "
            "tune it (see noise and what-if) rather than read it alert by alert.",
            tuple(f"{key[0]} in {key[1]} ({n})" for key, n in groups.items()),  # type: ignore[index]
            None,
            0.0,
            len(counted) - len(groups),
        )
    ]


@register_finder("dominant-rule")
def _dominant_rule(ctx: FindingContext) -> list[Finding]:
    frame = ctx.frame
    top = frame["rule"].value_counts()
    if len(frame) < 20 or top.iloc[0] / len(frame) < 0.5:
        return []
    return [
        Finding(
            "Informational",
            f"{top.index[0]} makes {top.iloc[0] / len(frame):.0%} of all alerts",
            "A rule this dominant is a tuning candidate (see noise and what-if).",
            (f"{top.iloc[0]} of {len(frame)} alerts",),
            None,
            0.0,
        )
    ]
