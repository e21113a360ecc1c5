"""Noise: the noisiest rules and pods, near-identical alerts, and what-if tuning.

* :func:`top_n` ranks any grouping (rule, pod, namespace, node, ...) by alert count.
* :func:`output_template` normalises alert outputs (times, numbers, hex ids, IPs,
  UUIDs become placeholders) so :func:`similar_alerts` can count near-identical ones.
* :func:`what_if` applies a proposed exception or a replacement condition through the
  rules engine (``falco_lab.rules.compile_condition``) to the alerts and reports how
  many would remain.  Alerts only carry their rule's output fields, so a condition may
  only use fields that are columns of the frame; anything else is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema, column, group_values
from falco_lab.priorities import PRIORITY_DTYPE

__all__ = ["WhatIf", "output_template", "similar_alerts", "top_n", "what_if"]

# order matters: whole tokens first (uuid, time, ip, hex ids), then any remaining number
_TEMPLATE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^\d{2}:\d{2}:\d{2}\.\d+: ", ""),  # Falco's leading "13:44:05.478445995: "
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<uuid>"),
    (r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?\b", "<time>"),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "<ip>"),
    (
        r"\b(?:0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|\b[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b",
        "<hex>",
    ),
    # whole numbers, and runs of 3+ digits inside words ("runc-process476728158");
    # short digits inside words ("k8s", "x86_64") stay as they are
    (r"\b\d+\b|\d{3,}", "<n>"),
)

#: Characters of an output (after the leading time) that its template is made from; a
#: longer output's template ends in "…".  Real outputs are a few hundred characters; the
#: tail of a long one is command-line arguments, which templating would not merge anyway,
#: and running six expressions over 3 KB command lines cost most of a report over 1M of them.
TEMPLATE_CHARS = 400
ELLIPSIS = "\u2026"


def top_n(
    df: pd.DataFrame, by: str = "rule", n: int = 10, schema: AlertSchema = DEFAULT_SCHEMA
) -> pd.DataFrame:
    """The ``n`` values of grouping ``by`` with the most alerts.

    Returns
    -------
    pandas.DataFrame
        Columns ``by``, ``alerts``, ``share`` (of all alerts), ``rules`` (distinct),
        ``max_priority``, ``first_seen``, ``last_seen``; ``result.attrs["groups"]`` is the
        total number of values (of which the first ``n`` are returned).
    """
    columns = [by, "alerts", "share", "rules", "max_priority", "first_seen", "last_seen"]
    if df.empty:
        return pd.DataFrame({c: [] for c in columns})
    frame = pd.DataFrame(
        {
            by: group_values(df, by, schema),
            "rule": column(df, "rule"),
            "time": df["time"],
            "prio": df["priority"].astype(PRIORITY_DTYPE).cat.codes,
        }
    )
    out = frame.groupby(by, sort=False).agg(
        alerts=("time", "size"), rules=("rule", "nunique"), prio=("prio", "max"),
        first_seen=("time", "min"), last_seen=("time", "max"),
    )  # fmt: skip
    total = len(out)
    out = out.sort_values(["alerts", "prio"], ascending=False, kind="stable").head(n).reset_index()
    out["share"] = out["alerts"] / len(df)
    cats = list(PRIORITY_DTYPE.categories)
    out["max_priority"] = pd.Categorical(
        [cats[c] if c >= 0 else None for c in out["prio"]], dtype=PRIORITY_DTYPE
    )
    out = out[columns]
    out.attrs["groups"] = total
    return out


def output_template(outputs: pd.Series) -> pd.Series:
    """Normalise alert outputs so that alerts differing only in ids, numbers or times compare equal.

    The template is made from the first :data:`TEMPLATE_CHARS` characters after Falco's
    leading time; a longer output's template ends in ``…``.

    Examples
    --------
    >>> output_template(pd.Series(["10:00:01.5: pid=4242 container=ee97d9c4186f"])).iloc[0]
    'pid=<n> container=<hex>'
    """
    # the leading time makes nearly every output unique: strip it on all rows (one anchored
    # pattern), then run the other patterns once per distinct remaining text.  The patterns
    # run in RE2 (pyarrow.compute), an order of magnitude faster than Python's re on long
    # outputs; their classes (\b, \d) are ASCII, as in Falco's own outputs.
    (lead_pattern, lead_repl), *rest = _TEMPLATE_PATTERNS
    text = pa.array(
        outputs.astype("string").astype(object).where(outputs.notna(), None), type=pa.large_string()
    )
    stripped = pc.replace_substring_regex(text, lead_pattern, lead_repl)
    long = pc.greater(pc.utf8_length(stripped), TEMPLATE_CHARS)
    if pc.any(long).as_py():
        cut = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(stripped, 0, TEMPLATE_CHARS),
            pa.scalar(ELLIPSIS, pa.large_string()),
            pa.scalar("", pa.large_string()),
        )
        stripped = pc.if_else(long, cut, stripped)
    codes, uniques = pd.factorize(stripped.to_numpy(zero_copy_only=False), use_na_sentinel=True)
    distinct = pa.array(uniques, type=pa.large_string())
    for pattern, repl in rest:
        distinct = pc.replace_substring_regex(distinct, pattern, repl)
    normalised = pd.array(distinct.to_numpy(zero_copy_only=False), dtype="string")
    return pd.Series(normalised.take(codes, allow_fill=True), index=outputs.index, dtype="string")


def similar_alerts(df: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """Groups of near-identical alerts (same rule, same :func:`output_template`), biggest first.

    Returns
    -------
    pandas.DataFrame
        ``rule``, ``template``, ``alerts``, ``share``, ``first_seen``, ``last_seen`` and one
        raw ``example`` output per group; ``result.attrs["groups"]`` is the total number
        of groups (of which the first ``n`` are returned).
    """
    columns = ["rule", "template", "alerts", "share", "first_seen", "last_seen", "example"]
    if df.empty:
        out = pd.DataFrame({c: [] for c in columns})
        out.attrs["groups"] = 0
        return out
    frame = pd.DataFrame(
        {
            "rule": column(df, "rule").fillna("(none)"),
            "template": output_template(column(df, "output")).fillna(""),
            "time": df["time"],
            "example": column(df, "output"),
        }
    )
    grouped = frame.groupby(["rule", "template"], sort=False)
    out = grouped.agg(
        alerts=("time", "size"),
        first_seen=("time", "min"),
        last_seen=("time", "max"),
        example=("example", "first"),
    ).reset_index()
    total = len(out)
    out = out.sort_values("alerts", ascending=False, kind="stable").head(n).reset_index(drop=True)
    out["share"] = out["alerts"] / len(df)
    out = out[columns]
    out.attrs["groups"] = total
    return out


@dataclass(slots=True)
class WhatIf:
    """Result of :func:`what_if`.

    Attributes
    ----------
    description:
        What was applied, in words.
    kept:
        Boolean mask over the input alerts: True where the alert would still fire.
    by_rule:
        Per rule: ``before``, ``after``, ``suppressed``, ``reduction`` (fraction).
    """

    description: str
    kept: pd.Series
    by_rule: pd.DataFrame

    @property
    def before(self) -> int:
        return len(self.kept)

    @property
    def after(self) -> int:
        return int(self.kept.sum())

    @property
    def suppressed(self) -> int:
        return self.before - self.after

    @property
    def reduction(self) -> float:
        """Fraction of the alerts that would no longer fire (0 for no alerts)."""
        return self.suppressed / self.before if self.before else 0.0

    def __str__(self) -> str:
        return (
            f"{self.description}: {self.before} → {self.after} alerts "
            f"({self.suppressed} suppressed, {self.reduction:.1%} fewer)"
        )


def _condition_mask(df: pd.DataFrame, condition: str, ruleset: object | None) -> pd.Series:
    from falco_lab.rules import compile_condition  # the rules engine

    lists = getattr(ruleset, "lists", None)
    macros = getattr(ruleset, "macros", None)
    compiled = compile_condition(condition, lists, macros)
    absent = [f for f in compiled.fields if f not in df.columns]
    if absent:
        raise ValueError(
            f"the condition uses {', '.join(absent)}, which the alerts do not carry: an alert only has the "
            "fields its rule printed in its output, so a what-if can only test those fields"
        )
    mask = compiled.mask(df)
    return pd.Series(mask, index=df.index).astype("boolean").fillna(False).astype(bool)


def what_if(
    df: pd.DataFrame,
    *,
    exception: str | None = None,
    condition: str | None = None,
    rules: str | list[str] | None = None,
    ruleset: object | None = None,
    workloads: str | list[str] | None = None,
    schema: AlertSchema = DEFAULT_SCHEMA,
) -> WhatIf:
    """How many alerts a proposed tuning would remove, computed with the rules engine.

    Parameters
    ----------
    df:
        Canonical events frame (columns named as Falco fields).
    exception:
        Falco condition text of a proposed exception: alerts of ``rules`` for which it
        holds would be suppressed (``proc.cmdline startswith "npm "``).
    condition:
        Falco condition text that *replaces* the condition of ``rules``: their alerts
        are kept only where it holds.
    rules:
        Rule name(s) the change applies to; ``None`` means every rule.
    ruleset:
        A loaded ``RuleSet`` whose lists and macros the condition may use.
    workloads:
        Workload name(s) the change applies to (``None``: everywhere).  Pod names are
        normalised to their workload (:func:`~falco_lab.analysis.workloads.workload_of`:
        ReplicaSet hash, Job/CronJob and StatefulSet suffixes), so one exception scoped
        to ``"postgres"`` covers every ``postgres-…`` pod.
    schema:
        Where the pod name is (``schema.pod``).

    Raises
    ------
    ValueError
        If not exactly one of ``exception`` / ``condition`` is given, or the condition
        uses a field that is not a column of ``df``.
    falco_lab.rules.errors.RuleError
        If the condition does not compile (position inside the condition text).
    """
    if (exception is None) == (condition is None):
        raise ValueError("give exactly one of exception= or condition=")
    names = [rules] if isinstance(rules, str) else rules
    scope = (
        pd.Series(True, index=df.index)
        if names is None
        else column(df, "rule").isin(names).fillna(False).astype(bool)
    )
    text = exception if exception is not None else condition
    target = "every rule" if names is None else ", ".join(names)
    if workloads is not None:
        from falco_lab.analysis.workloads import workload_names

        wanted = [workloads] if isinstance(workloads, str) else list(workloads)
        owned = workload_names(column(df, schema.pod)).isin(wanted).fillna(False).astype(bool)
        scope = scope & owned
        target += " in workload" + ("s " if len(wanted) != 1 else " ") + ", ".join(wanted)
    if df.empty:
        holds = pd.Series(False, index=df.index)
    else:
        holds = _condition_mask(df, str(text), ruleset)
    if exception is not None:
        kept = ~(scope & holds)
        description = f"exception [{exception}] on {target}"
    else:
        kept = ~scope | holds
        description = f"condition of {target} replaced by [{condition}]"
    frame = pd.DataFrame({"rule": column(df, "rule").fillna("(none)"), "kept": kept.astype(int)})
    by_rule = (
        frame.groupby("rule", sort=False).agg(before=("kept", "size"), after=("kept", "sum")).reset_index()
    )
    by_rule["suppressed"] = by_rule["before"] - by_rule["after"]
    by_rule["reduction"] = by_rule["suppressed"] / by_rule["before"]
    by_rule = by_rule.sort_values(["suppressed", "before"], ascending=False, kind="stable").reset_index(
        drop=True
    )
    return WhatIf(description=description, kept=kept, by_rule=by_rule)
