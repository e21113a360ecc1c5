"""Which alert fields the analysis reads, and the common filters over the canonical frame.

The analysis never hard-codes column names in its algorithms: :class:`AlertSchema`
maps the roles it needs (pod, namespace, pid, parent pid, ...) onto Falco output-field
names, the way msticpy's ``ProcSchema`` maps process-tree roles onto a log source.
Alerts only carry the fields that the rule put in its output, so every role may be
missing: :func:`column` then returns an all-missing column instead of failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from falco_lab.analysis.workloads import workload_names
from falco_lab.events.schema import SIMULATED_ATTR
from falco_lab.events.since import unit_seconds
from falco_lab.priorities import PRIORITIES, PRIORITY_COLORS, PRIORITY_DTYPE, normalize_priority

__all__ = [
    "DEFAULT_SCHEMA",
    "GROUPINGS",
    "PRIORITY_COLORS",
    "AlertSchema",
    "column",
    "first_word",
    "filter_alerts",
    "group_values",
    "is_simulated",
    "parse_time_bound",
]


@dataclass(frozen=True, slots=True)
class AlertSchema:
    """Names of the output fields that play each role in the analysis.

    Attributes
    ----------
    node, namespace, pod, container, container_name, image:
        Where the alert happened (``node`` is Falco's top-level ``hostname``).
    pid, ppid, pid_ts, ppid_ts:
        Host pids of the process and its parent and, when the rule printed them,
        their start times (``proc.pid.ts``/``proc.ppid.ts``, epoch ns).
    name, pname, cmdline, pcmdline, exepath, user:
        Process name/command line of the process and its parent.
    ancestor_pid, ancestor_name:
        Templates of the ancestor fields; ``{n}`` is the level (1 = parent).
    file, server_ip, server_port, client_ip, remote_ip, remote_port:
        File and connection fields for the per-pod story.
    """

    node: str = "hostname"
    namespace: str = "k8s.ns.name"
    pod: str = "k8s.pod.name"
    container: str = "container.id"
    container_name: str = "container.name"
    image: str = "container.image.repository"
    pid: str = "proc.pid"
    ppid: str = "proc.ppid"
    pid_ts: str = "proc.pid.ts"
    ppid_ts: str = "proc.ppid.ts"
    name: str = "proc.name"
    pname: str = "proc.pname"
    cmdline: str = "proc.cmdline"
    pcmdline: str = "proc.pcmdline"
    exepath: str = "proc.exepath"
    user: str = "user.name"
    ancestor_pid: str = "proc.apid[{n}]"
    ancestor_name: str = "proc.aname[{n}]"
    file: str = "fd.name"
    server_ip: str = "fd.sip"
    server_port: str = "fd.sport"
    client_ip: str = "fd.cip"
    remote_ip: str = "fd.rip"
    remote_port: str = "fd.rport"

    def ancestor_levels(self, df: pd.DataFrame) -> list[int]:
        """Ancestor levels (1, 2, ...) for which ``df`` has a pid or a name column."""
        pid_re = re.compile(re.escape(self.ancestor_pid).replace(r"\{n\}", r"(\d+)") + "$")
        name_re = re.compile(re.escape(self.ancestor_name).replace(r"\{n\}", r"(\d+)") + "$")
        levels = set()
        for col in df.columns:
            for pattern in (pid_re, name_re):
                match = pattern.match(str(col))
                if match and int(match.group(1)) >= 1:
                    levels.add(int(match.group(1)))
        return sorted(levels)


DEFAULT_SCHEMA = AlertSchema()


#: ``group_by`` names accepted by the timeline and the top-N tables, and the role behind each.
GROUPINGS: dict[str, str] = {
    "rule": "rule",
    "priority": "priority",
    "namespace": "namespace",
    "pod": "pod",
    "workload": "pod",
    "container": "container",
    "node": "node",
    "image": "image",
}


def group_values(df: pd.DataFrame, group_by: str, schema: AlertSchema = DEFAULT_SCHEMA) -> pd.Series:
    """The value of grouping ``group_by`` (see :data:`GROUPINGS`) for every alert; missing → ``(none)``.

    Pods are named ``namespace/pod`` (pod names repeat across namespaces); workloads
    ``namespace/workload``, the pod name without its controller's suffixes
    (:func:`~falco_lab.analysis.workloads.workload_of`).
    """
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}; expected one of {', '.join(GROUPINGS)}")
    if group_by == "rule":
        values = column(df, "rule")
    elif group_by == "priority":
        values = df["priority"].astype("string")
    elif group_by == "pod":  # pod names are unique per namespace only: show "namespace/pod"
        pods = column(df, schema.pod)
        values = (column(df, schema.namespace) + "/" + pods).fillna(pods)
    elif group_by == "workload":
        workloads = workload_names(column(df, schema.pod))
        values = (column(df, schema.namespace) + "/" + workloads).fillna(workloads)
    else:
        values = column(df, getattr(schema, GROUPINGS[group_by]))
    return values.fillna("(none)")


def column(df: pd.DataFrame, name: str, dtype: str = "string") -> pd.Series:
    """Column ``name`` of ``df`` converted to ``dtype``, or an all-missing column if absent.

    Parameters
    ----------
    df:
        A canonical events frame.
    name:
        Column (output field) name.
    dtype:
        ``"string"``, ``"Int64"`` (nullable integers; unparsable values become missing),
        or ``"object"`` (unchanged).
    """
    if name not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="object" if dtype == "object" else dtype)
    series = df[name]
    if dtype == "object":
        return series
    if dtype == "Int64":
        if pd.api.types.is_integer_dtype(series.dtype):
            return series.astype("Int64")
        return pd.to_numeric(series, errors="coerce").round().astype("Int64")
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.na_value is pd.NA:
        return series
    return series.astype("string")  # also turns NaN-based "str" columns into NA-based strings


def first_word(primary: pd.Series, cmdline: pd.Series) -> pd.Series:
    """``primary`` with missing values taken from the first word of ``cmdline``.

    Falco's ``proc.cmdline`` is ``proc.name`` followed by the arguments, so this recovers
    a process name when a rule printed only the command line.
    """
    missing = primary.isna() & cmdline.notna()
    if not missing.any():
        return primary
    out = primary.copy()
    out[missing] = cmdline[missing].str.split(" ", n=1).str[0]
    return out


def parse_time_bound(
    text: str | pd.Timestamp | None, reference: pd.Timestamp | None = None
) -> pd.Timestamp | None:
    """Parse a ``--since``/``--until`` value into a UTC timestamp.

    Parameters
    ----------
    text:
        An ISO-8601 time (naive times are taken as UTC) or a duration such as ``90s``,
        ``30m``, ``1.5h``, ``2days`` (the units of falcosidekick-ui's ``since``, shared with
        :mod:`falco_lab.events.since`) which counts back from ``reference``.
    reference:
        The time a duration counts back from (the report uses the latest alert).

    Raises
    ------
    ValueError
        If ``text`` is neither a time nor a duration, or a duration has no reference.
    """
    if text is None:
        return None
    if isinstance(text, pd.Timestamp):
        return text.tz_localize("UTC") if text.tzinfo is None else text.tz_convert("UTC")
    raw = str(text).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([A-Za-z]+)", raw)
    unit = unit_seconds(match.group(2)) if match else None
    if match is not None and unit is not None:
        if reference is None:
            raise ValueError(f"duration {raw!r} needs a reference time (there are no events)")
        return reference - pd.Timedelta(seconds=float(match.group(1)) * unit)
    try:
        stamp = pd.Timestamp(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"cannot read {raw!r} as a time (ISO 8601) or a duration like 30m, 2h, 1d") from exc
    if pd.isna(stamp):
        raise ValueError(f"cannot read {raw!r} as a time")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def filter_alerts(
    df: pd.DataFrame,
    *,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
    namespace: str | list[str] | None = None,
    pod: str | list[str] | None = None,
    rule: str | list[str] | None = None,
    min_priority: str | None = None,
    schema: AlertSchema = DEFAULT_SCHEMA,
) -> pd.DataFrame:
    """Alerts of ``df`` inside a time window and matching namespace/pod/rule/priority.

    ``since`` is inclusive and ``until`` exclusive; durations (``2h``) count back from
    the latest alert.  Several namespaces/pods/rules may be given as a list; a pod may
    also be given as ``namespace/pod``.
    """
    if df.empty:
        return df
    reference = df["time"].max() if "time" in df.columns else None
    mask = pd.Series(True, index=df.index)
    start = parse_time_bound(since, reference)
    end = parse_time_bound(until, reference)
    if start is not None:
        mask &= df["time"] >= start
    if end is not None:
        mask &= df["time"] < end
    for role_column, wanted in ((schema.namespace, namespace), (schema.pod, pod), ("rule", rule)):
        if wanted is None:
            continue
        values = [wanted] if isinstance(wanted, str) else list(wanted)
        hit = column(df, role_column).isin(values)
        if role_column == schema.pod and any("/" in v for v in values):  # "namespace/pod" as the report shows
            hit |= group_values(df, "pod", schema).isin(values)
        mask &= hit.fillna(False).astype(bool)
    if min_priority is not None:
        level = normalize_priority(min_priority)
        if level is None:
            raise ValueError(f"unknown priority {min_priority!r}; expected one of {', '.join(PRIORITIES)}")
        mask &= df["priority"].astype(PRIORITY_DTYPE) >= level  # type: ignore[operator]
    return df.loc[mask]


#: Output field that simulate mode's falcosidekick adds to every event (its ``customfields``
#: setting, ``falco_lab.simulate.detect.SIMULATED_CUSTOM_FIELDS``): ``simulated=true``.
SIMULATED_FIELD = "simulated"


def is_simulated(df: pd.DataFrame) -> bool:
    """True when the alerts come from falco-lab's simulate mode.

    Every frame the simulator returns says so in ``df.attrs["simulated"]``
    (:func:`falco_lab.simulate.model.mark_simulated`), and simulate mode's falcosidekick
    marks every event with the custom output field ``simulated=true``.  Alerts of the
    simulated Falco itself (before falcosidekick) written to a file and loaded back carry
    neither, so the report also takes an explicit flag.
    """
    if df.attrs.get(SIMULATED_ATTR):
        return True
    if df.empty or SIMULATED_FIELD not in df.columns:
        return False
    values = df[SIMULATED_FIELD].astype("string").str.strip().str.lower()
    return bool(values.isin(["true", "1"]).any())
