"""Process lineage rebuilt from alert fields, msticpy-style.

Falco alerts are sparse: a process appears only when one of its events matched a
rule, and its parents usually never do.  The tree is therefore rebuilt from what the
alerts print about each process (``proc.pid``, ``proc.name``, ``proc.cmdline``,
``proc.pid.ts``) and about its ancestors (``proc.ppid``/``proc.pname``/``proc.pcmdline``,
``proc.apid[N]``/``proc.aname[N]``):

* **Process instances.**  Alerts are grouped by (node, container id, pid).  Within a
  group a new process instance starts whenever the discriminator changes in time
  order: the process start time ``proc.pid.ts`` when the alerts carry it, else the
  command line (else the name).  So a recycled pid that runs another program is a
  different process, as with msticpy's ``name|pid|timestamp`` key.
* **Parents.**  Each ancestor the alerts mention is matched to an alerted instance on
  the same node and container with that pid and a compatible name / command line /
  start time (the latest one that started before the child, else the nearest later
  one).  Ancestors that never alerted become *placeholder* nodes keyed by
  (node, container, pid, name[, start time]).
* **Alerts and ancestors without pids.**  Many rules print ``proc.name``/``proc.cmdline``
  but no ``proc.pid``.  Such an alert is first attached to the alerted process with a pid
  on the same node and container, with the same name and command line (and parent name,
  when both print it), whose alert is nearest in time within :data:`ATTACH_WINDOW` (so two
  sessions of one shell binary stay two processes).  Otherwise it becomes one process
  per (node, container, command line); an ancestor printed by name only (``proc.pname``/``proc.aname[N]`` without a
  pid) is matched by name to an alerted process of its container (latest started
  before, as above), else it is a placeholder keyed by (node, container, name), so all
  ``containerd-shim`` ancestors of one container are one node.  These links are
  inferred from names and are weaker than pid links.
* Conflicting parent claims are settled by the child's own ``proc.ppid`` first, then
  by the most frequent claim; a link that would close a cycle is dropped.

Keys look like ``node/container/pid/name@start`` for alerted processes (the start time when
printed, else the first alert; ``?`` for an unknown pid) and
``node/container/pid/name@?`` for placeholders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from falco_lab.analysis._html import label, shorten
from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema, column, first_word
from falco_lab.analysis.timeline import empty_figure
from falco_lab.priorities import PRIORITY_COLORS, PRIORITY_DTYPE

__all__ = [
    "TREE_COLUMNS",
    "ancestors",
    "build_process_tree",
    "children",
    "select_subtrees",
    "tree_figure",
    "tree_to_text",
]

#: Columns of the process-tree table, in order.
TREE_COLUMNS: tuple[str, ...] = (
    "key", "parent_key", "node", "container_id", "namespace", "pod", "pid", "ppid", "name", "cmdline",
    "start", "first_seen", "last_seen", "alerts", "rules", "max_priority", "placeholder", "depth", "root_key",
)  # fmt: skip

_MISSING = "-"


def _empty_tree() -> pd.DataFrame:
    tree = pd.DataFrame({c: pd.Series([], dtype="object") for c in TREE_COLUMNS})
    tree.attrs["unplaced_alerts"] = 0
    return tree


def _alert_columns(df: pd.DataFrame, schema: AlertSchema) -> pd.DataFrame:
    """The per-alert columns the tree needs, with fallbacks (``apid[1]`` for ppid, ...)."""
    cmdline = column(df, schema.cmdline)
    name = first_word(column(df, schema.name), cmdline)
    pname = column(df, schema.pname).fillna(column(df, schema.ancestor_name.format(n=1)))
    pcmdline = column(df, schema.pcmdline)
    pname = first_word(pname, pcmdline)
    frame = pd.DataFrame(
        {
            "time": df["time"],
            "node": column(df, schema.node).fillna(_MISSING),
            "container_id": column(df, schema.container).fillna(_MISSING),
            "namespace": column(df, schema.namespace),
            "pod": column(df, schema.pod),
            "pid": column(df, schema.pid, "Int64"),
            "pid_ts": column(df, schema.pid_ts, "Int64"),
            "name": name,
            "cmdline": cmdline,
            "ppid": column(df, schema.ppid, "Int64").fillna(
                column(df, schema.ancestor_pid.format(n=1), "Int64")
            ),
            "ppid_ts": column(df, schema.ppid_ts, "Int64"),
            "pname": pname,
            "pcmdline": pcmdline,
            "rule": column(df, "rule"),
            "prio": df["priority"].astype(PRIORITY_DTYPE).cat.codes,
        },
        index=df.index,
    )
    # a container belongs to one pod: alerts whose rule did not print the pod get it from the others
    real = ~frame["container_id"].isin([_MISSING, "host"])
    if real.any():
        place = (
            frame[real].groupby(["node", "container_id"], sort=False)[["namespace", "pod"]].transform("first")
        )
        frame.loc[real, "namespace"] = frame.loc[real, "namespace"].fillna(place["namespace"])
        frame.loc[real, "pod"] = frame.loc[real, "pod"].fillna(place["pod"])
    for level in schema.ancestor_levels(df):
        if level == 1:
            continue
        frame[f"apid{level}"] = column(df, schema.ancestor_pid.format(n=level), "Int64")
        frame[f"aname{level}"] = column(df, schema.ancestor_name.format(n=level))
    return frame


#: A pid-less alert is attached to a process with a pid whose alert is at most this far away.
ATTACH_WINDOW = pd.Timedelta("10s")


def _attach_pidless(alerts: pd.DataFrame) -> pd.DataFrame:
    """Give pid-less alerts the pid (and start time, parent) of the matching alerted process."""
    pidless = (alerts["pid"].isna() & alerts["name"].notna()).to_numpy()
    with_pid = (alerts["pid"].notna() & alerts["name"].notna()).to_numpy()
    if not pidless.any() or not with_pid.any():
        return alerts
    alerts = alerts.copy()
    right = alerts.loc[
        with_pid, ["time", "node", "container_id", "name", "cmdline", "pname", "pid", "pid_ts", "ppid"]
    ]
    right = right.assign(
        _cmd=right["cmdline"].fillna("\x00").astype(str), _pname=right["pname"].astype(object)
    )
    left = alerts.loc[pidless, ["time", "node", "container_id", "name", "cmdline", "pname"]]
    left = left.assign(_cmd=left["cmdline"].fillna("\x00").astype(str), _row=np.flatnonzero(pidless))
    for by_cmd in (True, False):
        part = left[left["cmdline"].notna()] if by_cmd else left[left["cmdline"].isna()]
        if part.empty:
            continue
        keys = ["node", "container_id", "name", "_cmd"] if by_cmd else ["node", "container_id", "name"]
        lhs = part.astype({k: str for k in keys}).sort_values("time")
        rhs = right.astype({k: str for k in keys}).sort_values("time")
        matched = pd.merge_asof(
            lhs, rhs[["time", *keys, "pid", "pid_ts", "ppid", "_pname"]].rename(columns={"time": "_t"}),
            left_on="time", right_on="_t", by=keys, direction="nearest", tolerance=ATTACH_WINDOW,
        )  # fmt: skip
        ok = matched["pid"].notna()
        # a parent name printed on both sides must agree
        ok &= (
            matched["pname"].isna()
            | matched["_pname"].isna()
            | (matched["pname"].astype(object) == matched["_pname"])
        )
        rows = matched.loc[ok, "_row"].to_numpy()
        index = alerts.index[rows]
        for name in ("pid", "pid_ts", "ppid"):
            values = matched.loc[ok, name].to_numpy()
            if name == "ppid":
                values = (
                    alerts.loc[index, "ppid"].fillna(pd.Series(values, index=index, dtype="Int64")).to_numpy()
                )
            alerts.loc[index, name] = values
    return alerts


def _segment_instances(alerts: pd.DataFrame) -> pd.Series:
    """Process-instance number of each alert (alerts sorted by node, container, pid, time)."""
    gid = alerts.groupby(["node", "container_id", "pid"], sort=False).ngroup()
    has_ts = alerts["pid_ts"].notna().groupby(gid).transform("any")
    disc = alerts["pid_ts"].astype("string").where(has_ts, alerts["cmdline"].fillna(alerts["name"]))
    disc = disc.groupby(gid).ffill()
    disc = disc.groupby(gid).bfill().fillna("")
    gids = gid.to_numpy()
    values = disc.to_numpy(dtype=object)
    new = np.ones(len(gids), dtype=bool)
    new[1:] = (gids[1:] != gids[:-1]) | (values[1:] != values[:-1])
    return pd.Series(np.cumsum(new) - 1, index=alerts.index)


def _iso(stamp: pd.Timestamp) -> str:
    """ISO time with nanoseconds (two processes may start within a microsecond)."""
    if pd.isna(stamp):
        return "?"
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.value % 1_000_000_000:09d}Z"


def _make_key(node: str, container: str, pid: object, name: object, stamp: object) -> str:
    name_text = name if isinstance(name, str) and name else "?"
    pid_text = "?" if pid is None or pd.isna(pid) else pid  # type: ignore[call-overload]
    return f"{node}/{container}/{pid_text}/{name_text}@{stamp}"


def build_process_tree(df: pd.DataFrame, schema: AlertSchema = DEFAULT_SCHEMA) -> pd.DataFrame:
    """Rebuild process trees from the alerts in ``df``.

    Parameters
    ----------
    df:
        Canonical events frame; uses the process, ancestor and container fields named
        by ``schema`` where the alerts have them.
    schema:
        Field names for each role (see :class:`~falco_lab.analysis.fields.AlertSchema`).

    Returns
    -------
    pandas.DataFrame
        One row per process (columns :data:`TREE_COLUMNS`) in depth-first order:
        ``key``/``parent_key`` link the tree (``parent_key`` is missing for roots),
        ``placeholder`` marks ancestors known only from their descendants' alerts,
        ``alerts``/``rules``/``max_priority`` summarise each process's own alerts and
        ``depth`` counts from the root.  Alerts with neither ``proc.pid`` nor a process
        name or command line cannot be placed; their number is in
        ``result.attrs["unplaced_alerts"]``.
    """
    if df.empty:
        return _empty_tree()
    alerts = _attach_pidless(_alert_columns(df, schema))
    has_pid = alerts["pid"].notna()
    by_name = ~has_pid & alerts["name"].notna()
    unplaced = int((~has_pid & ~by_name).sum())
    if not (has_pid | by_name).any():
        tree = _empty_tree()
        tree.attrs["unplaced_alerts"] = unplaced
        return tree
    with_pid = alerts[has_pid].sort_values(["node", "container_id", "pid", "time"], kind="stable")
    with_pid["inst"] = _segment_instances(with_pid).to_numpy() if len(with_pid) else []
    # rules that print no pid: one process per (node, container, command line)
    pidless = alerts[by_name]
    start = int(with_pid["inst"].max()) + 1 if len(with_pid) else 0
    pidless = pidless.assign(
        inst=start
        + pidless.groupby(["node", "container_id", pidless["cmdline"].fillna(pidless["name"])], sort=True)
        .ngroup()
        .to_numpy()
    )
    alerts = pd.concat([with_pid, pidless]) if len(pidless) else with_pid

    instances = _instance_table(alerts)
    specs = _ancestor_specs(instances)
    resolved = _resolve_specs(specs, instances)
    tree = _assemble(instances, specs, resolved)
    tree.attrs["unplaced_alerts"] = unplaced
    return tree


def _rules_per_instance(inst_ids: np.ndarray, rules: pd.Series, n_instances: int) -> list[str]:
    """Sorted, comma-joined distinct rules of each instance (integer work, one string per instance)."""
    codes, names = pd.factorize(rules, use_na_sentinel=True)
    if len(names) == 0:
        return [""] * n_instances
    order = np.argsort(np.argsort(np.asarray(names, dtype=object)))  # rank of each rule name
    keep = codes >= 0
    pairs = np.unique(inst_ids[keep].astype(np.int64) * len(names) + order[codes[keep]])
    texts = [""] * n_instances
    sorted_names = sorted(str(n) for n in names)
    for inst_id, ranks in _split_pairs(pairs, len(names)):
        texts[inst_id] = ", ".join(sorted_names[r] for r in ranks)
    return texts


def _split_pairs(pairs: np.ndarray, base: int):
    owners, ranks = pairs // base, pairs % base
    bounds = np.flatnonzero(np.diff(owners)) + 1
    for chunk_owner, chunk_ranks in zip(np.split(owners, bounds), np.split(ranks, bounds), strict=True):
        yield int(chunk_owner[0]), chunk_ranks.tolist()


def _instance_table(alerts: pd.DataFrame) -> pd.DataFrame:
    grouped = alerts.groupby("inst", sort=True)
    firsts = [c for c in alerts.columns if c not in ("inst", "time", "rule", "prio")]
    inst = grouped[firsts].first()
    inst["first_seen"] = grouped["time"].min()
    inst["last_seen"] = grouped["time"].max()
    inst["alerts"] = grouped.size()
    inst["prio"] = grouped["prio"].max()
    inst["rules"] = _rules_per_instance(alerts["inst"].to_numpy(), alerts["rule"], len(inst))
    start = pd.to_datetime(inst["pid_ts"].astype("float64"), unit="ns", utc=True)
    stamps = start.where(start.notna(), inst["first_seen"])
    inst["key"] = [
        _make_key(n, c, p, m, _iso(s))
        for n, c, p, m, s in zip(
            inst["node"], inst["container_id"], inst["pid"], inst["name"], stamps, strict=True
        )
    ]
    inst["start"] = start
    inst["since"] = stamps
    dup = inst["key"].duplicated(keep=False)
    if dup.any():  # e.g. two programs under one pid in the same nanosecond: keep keys unique
        inst.loc[dup, "key"] = inst.loc[dup, "key"] + "#" + inst[dup].groupby("key").cumcount().astype(str)
    return inst.reset_index()


def _ancestor_specs(inst: pd.DataFrame) -> pd.DataFrame:
    """One row per (instance, ancestor level) the alerts describe."""
    levels = sorted(int(c[4:]) for c in inst.columns if c.startswith("apid"))
    parts = []
    base = inst[["inst", "node", "container_id", "namespace", "pod", "since"]]
    level1 = base.assign(
        level=1, pid=inst["ppid"], name=inst["pname"], cmdline=inst["pcmdline"], ts=inst["ppid_ts"]
    )
    parts.append(level1)
    known = inst["ppid"].notna() | inst["pname"].notna()
    for level in levels:
        spec = base.assign(
            level=level, pid=inst[f"apid{level}"], name=inst[f"aname{level}"],
            cmdline=pd.Series(pd.NA, index=inst.index, dtype="string"),
            ts=pd.Series(pd.NA, index=inst.index, dtype="Int64"),
        )  # fmt: skip
        known = known & (spec["pid"].notna() | spec["name"].notna())
        parts.append(spec[known])
    specs = pd.concat(parts, ignore_index=True)
    specs = specs[specs["pid"].notna() | specs["name"].notna()].copy()
    specs["spec"] = range(len(specs))
    return specs


def _resolve_specs(specs: pd.DataFrame, inst: pd.DataFrame) -> pd.Series:
    """Key of the node each ancestor spec refers to (alerted instance or placeholder)."""
    theirs = inst[["node", "container_id", "pid", "inst", "name", "cmdline", "pid_ts", "since", "key"]]
    theirs = theirs.rename(columns={c: f"{c}_c" for c in ("inst", "name", "cmdline", "since", "key")})
    by_pid = specs[specs["pid"].notna()].merge(theirs, on=["node", "container_id", "pid"])
    # an ancestor known by name only is matched by name within its container
    named = theirs.assign(name=theirs["name_c"]).drop(columns="pid")
    by_name = specs[specs["pid"].isna() & specs["name"].notna()].merge(
        named, on=["node", "container_id", "name"]
    )
    cand = pd.concat([by_pid, by_name], ignore_index=True) if len(by_name) else by_pid
    ok = cand["inst"] != cand["inst_c"]
    for mine, other in (("name", "name_c"), ("cmdline", "cmdline_c"), ("ts", "pid_ts")):
        a, b = cand[mine], cand[other]
        ok &= (a.isna() | b.isna() | (a.astype("string") == b.astype("string"))).fillna(True).astype(bool)
    cand = cand[ok]
    # "since": the process start when printed, else its first alert
    before = cand["since_c"] <= cand["since"]
    distance = (cand["since"] - cand["since_c"]).abs()
    cand = cand.assign(_after=~before, _dist=distance).sort_values(["spec", "_after", "_dist"], kind="stable")
    best = cand.drop_duplicates("spec").set_index("spec")["key_c"]
    mapped = specs.set_index("spec").index.map(best.to_dict().get)
    keys = pd.Series(mapped, index=specs.index, dtype="object")
    missing = keys.isna()
    if missing.any():
        todo = specs[missing]
        ts_text = pd.to_datetime(todo["ts"].astype("float64"), unit="ns", utc=True).map(_iso)
        keys[missing] = [
            _make_key(n, c, p, m, t)
            for n, c, p, m, t in zip(
                todo["node"], todo["container_id"], todo["pid"], todo["name"], ts_text, strict=True
            )
        ]
    return keys


def _assemble(inst: pd.DataFrame, specs: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    specs = specs.assign(key=keys)
    own = inst.set_index("inst")["key"]
    # the child of the level-k ancestor is the level-(k-1) node of the same chain (level 0: the instance)
    chain = pd.concat(
        [
            pd.DataFrame({"inst": inst["inst"], "level": 0, "key": inst["key"]}),
            specs[["inst", "level", "key"]],
        ],
        ignore_index=True,
    )
    lower = chain.assign(level=chain["level"] + 1).rename(columns={"key": "child"})
    edges = specs[["inst", "level", "key"]].merge(lower, on=["inst", "level"], how="inner")
    edges = edges.rename(columns={"key": "parent"})[["child", "parent", "level"]]
    edges = edges.dropna()
    edges = edges[edges["child"] != edges["parent"]]
    votes = edges.groupby(["child", "parent"]).agg(level=("level", "min"), n=("level", "size")).reset_index()
    votes = votes.sort_values(["child", "level", "n", "parent"], ascending=[True, True, False, True])
    best = votes.drop_duplicates("child")
    parent_of: dict[str, str] = dict(zip(best["child"], best["parent"], strict=True))
    _break_cycles(parent_of)

    alerted = inst.assign(placeholder=False)
    holders = specs[~specs["key"].isin(set(own))].drop_duplicates("key")
    placeholders = pd.DataFrame(
        {
            "key": holders["key"], "node": holders["node"], "container_id": holders["container_id"],
            "namespace": holders["namespace"], "pod": holders["pod"], "pid": holders["pid"],
            "name": holders["name"], "cmdline": holders["cmdline"],
            "start": pd.to_datetime(holders["ts"].astype("float64"), unit="ns", utc=True),
            "first_seen": pd.NaT, "last_seen": pd.NaT, "alerts": 0, "rules": "", "prio": -1, "placeholder": True,
        }
    )  # fmt: skip
    nodes = pd.concat([alerted, placeholders], ignore_index=True)
    nodes["parent_key"] = nodes["key"].map(parent_of)
    pid_of = dict(zip(nodes["key"], nodes["pid"], strict=True))
    nodes["ppid"] = [pid_of.get(p, pd.NA) if isinstance(p, str) else pd.NA for p in nodes["parent_key"]]
    categories = list(PRIORITY_DTYPE.categories)
    nodes["max_priority"] = [categories[int(p)] if p >= 0 else pd.NA for p in nodes["prio"]]
    nodes["max_priority"] = nodes["max_priority"].astype(PRIORITY_DTYPE)
    return _order_depth_first(nodes)


def _break_cycles(parent_of: dict[str, str]) -> None:
    state: dict[str, int] = {}
    for start in list(parent_of):
        path = []
        node: str | None = start
        while node is not None and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = parent_of.get(node)
        if node is not None and state.get(node) == 1:  # came back into the current path: cycle
            del parent_of[path[-1]]
        for visited in path:
            state[visited] = 2


def _order_depth_first(nodes: pd.DataFrame) -> pd.DataFrame:
    nodes = nodes.sort_values(
        ["node", "container_id", "first_seen", "pid"], na_position="first", kind="stable"
    )
    kids: dict[str, list[str]] = {}
    roots = []
    for key, parent in zip(nodes["key"], nodes["parent_key"], strict=True):
        if isinstance(parent, str):
            kids.setdefault(parent, []).append(key)
        else:
            roots.append(key)
    order: list[str] = []
    depth: dict[str, int] = {}
    root_of: dict[str, str] = {}
    for root in roots + list(nodes["key"]):  # the tail only matters if a cycle survived: never lose a node
        if root in depth:
            continue
        stack = [(root, 0)]
        while stack:
            key, level = stack.pop()
            order.append(key)
            depth[key] = level
            root_of[key] = root
            stack.extend((child, level + 1) for child in reversed(kids.get(key, [])))
    nodes = nodes.set_index("key", drop=False).loc[order].reset_index(drop=True)
    nodes["depth"] = nodes["key"].map(depth)
    nodes["root_key"] = nodes["key"].map(root_of)
    nodes["pid"] = nodes["pid"].astype("Int64")
    nodes["ppid"] = nodes["ppid"].astype("Float64").astype("Int64")
    nodes["alerts"] = nodes["alerts"].astype("int64")
    nodes["placeholder"] = nodes["placeholder"].astype(bool)
    for name in ("start", "first_seen", "last_seen"):
        nodes[name] = pd.to_datetime(nodes[name], utc=True).astype("datetime64[ns, UTC]")
    for name in ("node", "container_id", "namespace", "pod", "name", "cmdline"):
        nodes[name] = nodes[name].astype("string")
    nodes["rules"] = nodes["rules"].astype("string").fillna("")
    nodes["parent_key"] = nodes["parent_key"].astype("object").where(nodes["parent_key"].notna(), None)
    return nodes[list(TREE_COLUMNS)]


def children(tree: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows of the direct children of process ``key``."""
    return tree[tree["parent_key"] == key]


def ancestors(tree: pd.DataFrame, key: str) -> list[str]:
    """Keys of the ancestors of ``key``, nearest first."""
    parent_of = dict(zip(tree["key"], tree["parent_key"], strict=True))
    chain = []
    node = parent_of.get(key)
    while isinstance(node, str) and node not in chain:
        chain.append(node)
        node = parent_of.get(node)
    return chain


def select_subtrees(tree: pd.DataFrame, max_nodes: int = 300) -> pd.DataFrame:
    """Whole trees of ``tree``, most severe and busiest first, up to ``max_nodes`` rows.

    Trees keep their depth-first order inside; a single tree larger than the budget is
    cut after its first ``max_nodes`` rows (parents always come before children).

    The omitted trees are counted in ``result.attrs["omitted_trees"]`` (and their
    processes in ``result.attrs["omitted_processes"]``).
    """
    if tree.empty:
        out = tree.copy()
        out.attrs.update(omitted_trees=0, omitted_processes=0)
        return out
    prio = tree["max_priority"].cat.codes
    stats = (
        tree.assign(_prio=prio)
        .groupby("root_key", sort=False)
        .agg(prio=("_prio", "max"), alerts=("alerts", "sum"), size=("key", "size"))
        .sort_values(["prio", "alerts"], ascending=False, kind="stable")
    )
    chosen, used = [], 0
    for root, size in zip(stats.index, stats["size"], strict=True):
        if used + size > max_nodes:
            if used == 0:  # one huge tree: keep its first rows (depth-first, so parents come first)
                chosen.append(root)
                used += size
            continue
        chosen.append(root)
        used += size
    rank = {root: i for i, root in enumerate(chosen)}
    out = tree[tree["root_key"].isin(rank)]
    out = out.iloc[out["root_key"].map(rank).argsort(kind="stable")].head(max_nodes).copy()
    out.attrs.update(omitted_trees=len(stats) - len(chosen), omitted_processes=len(tree) - len(out))
    return out


def _describe(row: pd.Series) -> str:
    pid = "?" if pd.isna(row["pid"]) else row["pid"]
    text = f"{row['name'] if isinstance(row['name'], str) else '?'} (pid {pid})"
    if row["placeholder"]:
        return text + " [no alert: known from descendants]"
    cmd = row["cmdline"]
    if isinstance(cmd, str) and cmd:
        text += f" {shorten(cmd, 120)}"
    return (
        text
        + f" — {row['alerts']} alert{'s' if row['alerts'] != 1 else ''}, {row['max_priority']}: {row['rules']}"
    )


def _where(row: pd.Series) -> str:
    pod = row["pod"] if isinstance(row["pod"], str) else None
    ns = row["namespace"] if isinstance(row["namespace"], str) else None
    place = f"pod {ns + '/' if ns else ''}{pod}" if pod else "no pod"
    return f"node {row['node']} · container {row['container_id']} · {place}"


def tree_to_text(tree: pd.DataFrame, max_nodes: int = 500) -> str:
    """The process trees as indented text, one block per node/container/pod.

    Strings are returned as they are; escape them before putting them into HTML.
    """
    if tree.empty:
        return (
            "No processes: no alert in the selection names a process (proc.pid, proc.name or proc.cmdline)."
        )
    shown = select_subtrees(tree, max_nodes)
    lines: list[str] = []
    last_where = None
    for _, row in shown.iterrows():
        where = _where(row)
        if row["depth"] == 0 and where != last_where:
            if lines:
                lines.append("")
            lines.append(where)
            last_where = where
        lines.append("   " * int(row["depth"]) + "└─ " + _describe(row))
    if shown.attrs.get("omitted_processes"):
        lines += [
            "",
            f"({shown.attrs['omitted_trees']} more trees with "
            f"{shown.attrs['omitted_processes']} processes not shown)",
        ]
    return "\n".join(lines)


def tree_figure(tree: pd.DataFrame, max_nodes: int = 400, title: str | None = None) -> go.Figure:
    """The process trees as a plotly icicle: node → container/pod → process → children.

    Colour is the highest priority of each process's own alerts (grey: placeholder).
    """
    if tree.empty:
        return empty_figure("No process lineage: no alert in the selection names a process.")
    shown = select_subtrees(tree, max_nodes)
    columns: dict[str, list[str]] = {"ids": [], "parents": [], "labels": [], "colors": [], "hovers": []}

    def add(node_id: str, parent: str, text: str, color: str, hover: str) -> None:
        for name, value in zip(columns, (node_id, parent, text, color, hover), strict=True):
            columns[name].append(value)

    seen_groups: set[str] = set()
    for _, row in shown.iterrows():
        node_id = f"node:{row['node']}"
        group_id = f"{node_id}|{row['container_id']}"
        if node_id not in seen_groups:
            seen_groups.add(node_id)
            add(node_id, "", label(f"node {row['node']}", 60), "#f2f2f2", label(f"node {row['node']}"))
        if group_id not in seen_groups:
            seen_groups.add(group_id)
            pod = row["pod"] if isinstance(row["pod"], str) else "no pod"
            add(group_id, node_id, label(f"{pod} · {row['container_id']}", 60), "#e6e6e6", label(_where(row)))
        pid = "?" if pd.isna(row["pid"]) else row["pid"]
        name = row["name"] if isinstance(row["name"], str) else "?"
        color = "#bdbdbd" if row["placeholder"] else PRIORITY_COLORS.get(str(row["max_priority"]), "#999")
        parent = row["parent_key"] if isinstance(row["parent_key"], str) else group_id
        add(row["key"], parent, label(f"{name} ({pid})", 40), color, label(_describe(row), 300))
    ids, parents, labels, colors, hovers = columns.values()
    fig = go.Figure(
        go.Icicle(
            ids=ids,
            parents=parents,
            labels=labels,
            marker={"colors": colors},
            hovertext=hovers,
            hoverinfo="text",
            tiling={"orientation": "h"},
            maxdepth=8,
            sort=False,
        )
    )
    note = ""
    if shown.attrs.get("omitted_processes"):
        note = f"<br><sub>{shown.attrs['omitted_trees']} more trees ({shown.attrs['omitted_processes']} processes) not shown</sub>"
    fig.update_layout(
        title=label(title or "Process lineage (click a box to zoom)") + note,
        height=min(1200, 300 + 14 * len(shown)),
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )
    return fig
