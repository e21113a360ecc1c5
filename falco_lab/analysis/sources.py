"""Every alert attributed to what it concerns: runtime, Kubernetes audit, cloud audit, Falco itself.

Runtime (``syscall``) alerts carry the pod in ``k8s.ns.name``/``k8s.pod.name``.  Audit
and cloud alerts do not: a ``k8s_audit`` alert names its target in ``ka.target.*`` and
its actor in ``ka.user.name``; CloudTrail and GCP audit-log alerts name a user and an
action.  Falco's own alerts (``Falco internal: ...``, syscall drops) concern the node
that dropped events.  :func:`attribute` maps each alert to one row of
``kind, namespace, pod, user, action``; :data:`SOURCE_KINDS` is the table behind it
(extend it with :func:`register_source_kind`).  :func:`link_execs` links each audit
"exec into pod X by user U" to the runtime shell alerts in pod X that follow it within a
window, which answers "who opened this shell?".
"""

from __future__ import annotations

import contextlib
import contextvars
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema, column

__all__ = ["EXEC_WINDOW", "SOURCE_KINDS", "SourceKind", "attribute", "link_execs", "register_source_kind"]

#: How long after an audited exec a runtime shell alert in the same pod is linked to it.
EXEC_WINDOW = pd.Timedelta("30s")


@dataclass(frozen=True, slots=True)
class SourceKind:
    """How to attribute the alerts of some Falco ``source`` values.

    Attributes
    ----------
    kind:
        The label shown in the report (``runtime``, ``k8s_audit``, ``cloud``, ``falco``).
    sources:
        The alerts' ``source`` values it covers.
    namespace, pod, user, action:
        Output fields tried in order for each role (the first present wins).
    """

    kind: str
    sources: tuple[str, ...]
    namespace: tuple[str, ...] = ()
    pod: tuple[str, ...] = ()
    user: tuple[str, ...] = ()
    action: tuple[str, ...] = ()


#: The registry, by kind.  Cloud field names are those the Falco plugins document
#: (cloudtrail: ``ct.user``, ``ct.name``; gcpaudit: ``gcp.user``, ``gcp.methodName``).
SOURCE_KINDS: dict[str, SourceKind] = {}


def register_source_kind(kind: SourceKind) -> SourceKind:
    """Add ``kind`` to :data:`SOURCE_KINDS`; a source value may belong to one kind only.

    Raises
    ------
    ValueError
        If the kind's name or one of its sources is already registered.
    """
    taken = {s for k in SOURCE_KINDS.values() for s in k.sources}
    if kind.kind in SOURCE_KINDS or taken & set(kind.sources):
        raise ValueError(
            f"source kind {kind.kind!r} or one of its sources {kind.sources} is already registered"
        )
    SOURCE_KINDS[kind.kind] = kind
    return kind


register_source_kind(
    SourceKind(
        "runtime",
        ("syscall",),
        ("k8s.ns.name",),
        ("k8s.pod.name",),
        ("user.name", "user.loginname"),
        ("proc.cmdline",),
    )
)
register_source_kind(
    SourceKind(
        "k8s_audit",
        ("k8s_audit", "k8saudit", "k8saudit-eks", "k8saudit-gke", "k8saudit-aks"),
        ("ka.target.namespace",),
        ("ka.target.pod.name", "ka.target.name"),
        ("ka.user.name", "ka.impuser.name"),
        ("ka.uri.param[command]", "ka.verb"),
    )
)
register_source_kind(
    SourceKind(
        "cloud",
        ("aws_cloudtrail", "cloudtrail", "gcp_auditlog", "gcpaudit", "azure_platformlogs", "okta", "github"),
        (),
        (),
        ("ct.user", "gcp.user", "okta.actor.name", "github.user"),
        ("ct.name", "gcp.methodName", "okta.evt.type", "github.type"),
    )
)
register_source_kind(SourceKind("falco", ("internal",), (), (), (), ()))

#: Rule names of Falco's own health alerts (syscall drops, metrics) start with this.
FALCO_INTERNAL_PREFIX = "Falco internal"


def _first_present(df: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    out = pd.Series(pd.NA, index=df.index, dtype="string")
    for name in names:
        if name in df.columns:
            out = out.fillna(column(df, name))
    return out


#: Inside :func:`attribution_cache`: id(frame), schema -> (a weak reference to the frame, its attribution).
_CACHE: contextvars.ContextVar[
    dict[tuple[int, AlertSchema], tuple[weakref.ref[pd.DataFrame], pd.DataFrame]] | None
] = contextvars.ContextVar("falco_lab_attribution_cache", default=None)


@contextlib.contextmanager
def attribution_cache() -> Iterator[None]:
    """Within this block, :func:`attribute` of one frame is computed once.

    The report's sections each attribute the same frame (1.3 s for 100k alerts, four
    times); the report builds inside this block and never changes its frame.  Outside it
    nothing is cached, so a frame changed in place is never answered from a stale copy.
    """
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


def attribute(df: pd.DataFrame, schema: AlertSchema = DEFAULT_SCHEMA) -> pd.DataFrame:
    """One row per alert (same index): ``kind``, ``namespace``, ``pod``, ``user``, ``action``.

    Inside :func:`attribution_cache` the result for the same frame object is reused (do not
    change it in place).

    ``kind`` is the registered kind of the alert's ``source`` (``other`` when none
    matches; ``falco`` also for any rule named ``Falco internal: ...``).  An audit alert
    about a pod gets that pod; Falco's own alerts get no pod (they concern their node,
    the ``hostname``).
    """
    cache = _CACHE.get()
    if cache is None:
        return _attribute(df, schema)
    key = (id(df), schema)
    hit = cache.get(key)
    if hit is not None and hit[0]() is df:
        return hit[1]
    result = _attribute(df, schema)
    cache[key] = (weakref.ref(df), result)
    return result


def _attribute(df: pd.DataFrame, schema: AlertSchema) -> pd.DataFrame:
    source = column(df, "source").fillna("")
    rule = column(df, "rule").fillna("")
    out = pd.DataFrame(
        {
            "kind": pd.Series("other", index=df.index, dtype="string"),
            "namespace": pd.Series(pd.NA, index=df.index, dtype="string"),
            "pod": pd.Series(pd.NA, index=df.index, dtype="string"),
            "user": pd.Series(pd.NA, index=df.index, dtype="string"),
            "action": pd.Series(pd.NA, index=df.index, dtype="string"),
        }
    )
    for spec in SOURCE_KINDS.values():
        hit = source.isin(spec.sources).to_numpy(dtype=bool, copy=True)
        if spec.kind == "falco":
            hit |= rule.str.startswith(FALCO_INTERNAL_PREFIX).to_numpy(dtype=bool)
        if not hit.any():
            continue
        part = df.loc[hit]
        out.loc[hit, "kind"] = spec.kind
        for role in ("namespace", "pod", "user", "action"):
            out.loc[hit, role] = _first_present(part, getattr(spec, role)).to_numpy()
    if schema.pod != "k8s.pod.name" or schema.namespace != "k8s.ns.name":
        runtime = (out["kind"] == "runtime").to_numpy()
        out.loc[runtime, "namespace"] = column(df, schema.namespace)[runtime].to_numpy()
        out.loc[runtime, "pod"] = column(df, schema.pod)[runtime].to_numpy()
    audit = (out["kind"] == "k8s_audit").to_numpy()
    if audit.any() and "ka.target.resource" in df.columns:
        not_pod = audit & (column(df, "ka.target.resource").fillna("") != "pods").to_numpy(dtype=bool)
        pod_field = column(df, "ka.target.pod.name") if "ka.target.pod.name" in df.columns else None
        if pod_field is not None:
            not_pod &= pod_field.isna().to_numpy()
        out.loc[not_pod, "pod"] = pd.NA
    return out


def link_execs(
    df: pd.DataFrame, schema: AlertSchema = DEFAULT_SCHEMA, window: pd.Timedelta = EXEC_WINDOW
) -> pd.DataFrame:
    """Audited execs into pods linked to the runtime alerts in that pod that follow within ``window``.

    An audited exec is a ``k8s_audit`` alert with ``ka.target.subresource`` = ``exec``.

    Returns
    -------
    pandas.DataFrame
        One row per (exec, runtime alert) pair: ``exec_time``, ``user``, ``namespace``,
        ``pod``, ``command`` (the exec's command, when printed), ``alert_time``,
        ``rule``, ``cmdline`` (the runtime alert's process), ``index`` (the runtime
        alert's index in ``df``); sorted by alert time.  Empty when nothing links.
    """
    columns = ["exec_time", "user", "namespace", "pod", "command", "alert_time", "rule", "cmdline", "index"]
    if df.empty or "ka.target.subresource" not in df.columns:
        return pd.DataFrame({c: [] for c in columns})
    who = attribute(df, schema)
    execs_mask = (who["kind"] == "k8s_audit") & (column(df, "ka.target.subresource") == "exec").fillna(False)
    execs = pd.DataFrame(
        {
            "exec_time": df["time"],
            "user": who["user"],
            "namespace": who["namespace"],
            "pod": who["pod"],
            "command": who["action"],
        }
    )[execs_mask.to_numpy(dtype=bool)]
    runtime = pd.DataFrame(
        {
            "alert_time": df["time"],
            "namespace": who["namespace"],
            "pod": who["pod"],
            "rule": column(df, "rule"),
            "cmdline": column(df, schema.cmdline),
            "index": df.index,
        }
    )[(who["kind"] == "runtime").to_numpy()]
    if execs.empty or runtime.empty:
        return pd.DataFrame({c: [] for c in columns})
    pairs = execs.merge(runtime, on=["namespace", "pod"])
    delta = pairs["alert_time"] - pairs["exec_time"]
    pairs = pairs[(delta >= pd.Timedelta(0)) & (delta <= window)]
    # each runtime alert goes to the latest exec before it
    pairs = pairs.sort_values("exec_time").drop_duplicates("index", keep="last")
    return pairs[columns].sort_values("alert_time", kind="stable").reset_index(drop=True)
