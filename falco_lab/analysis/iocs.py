"""Indicators of compromise (IOCs) in Falco alerts: IPs and ports, domains, URLs, files, images, hashes, users.

:func:`extract_iocs` reads two places of every alert:

* **output fields**, by the role of the field in :data:`FIELD_ROLES` (``fd.sip`` is an IP
  whose port is ``fd.sport``, ``fd.sip.name`` a domain, ``proc.exepath`` an executed file,
  ``container.image.repository``/``tag``/``digest`` one image reference, ``user.name`` a
  user ...), plus ``evt.arg.*``/``evt.rawarg.*`` (an absolute path is a file, anything else
  is searched as text) and any field whose name says it holds a hash
  (``sha256``, ``sha1``, ``md5``, ``hash``) with a value of the right hex length;
* the **output text**, conservatively: IPv4 (each octet 0-255, no leading zeros, not part
  of a longer dotted number, so versions like ``1.2.3.4.5`` and times like
  ``13:44:05.478`` never match), IPv6 (validated, with ``::`` or all eight groups), URLs
  with a scheme, domains only with a top-level domain from :data:`DOMAIN_TLDS` (file names
  such as ``falco.yaml`` or field names such as ``k8s.ns.name`` never match), absolute
  paths only as the value of a file-like key (``file=/bin/x``, ``exe=``, ``target=`` ...)
  and hashes only after ``sha256:``/``sha256=`` (and ``sha1``, ``md5``).

Each indicator is one row: ``type``, ``value``, ``scope`` (for IPs: ``public``, ``private``,
``loopback``, ``link-local``, ``multicast``, ``documentation``, ``reserved``; see
:func:`classify_ip`), ``ports``, ``first_seen``, ``last_seen``, ``count`` (alerts that carry it), ``priority`` (the worst of those alerts),
``pods``/``rules``/``sources`` (capped lists) with ``pod_count``/``rule_count`` (the
totals).  Rows are ordered by worst priority, then type (:data:`IOC_TYPES`: network first,
users last), external addresses before internal ones (private, loopback, link-local), then
first seen; at most ``max_rows`` are returned and ``df.attrs["iocs_more"]`` says how many
were left out.

Values are attacker-controlled text: they are returned verbatim (never interpreted);
every writer (CSV, JSON, STIX, the report) escapes them for its format.

Speed: the output text is searched once per alert with one RE2 expression inside DuckDB
(multi-threaded, linear time); fields are handled per distinct value; ranking and the row
cap are applied in DuckDB before any list is built.  Measured with
``benchmarks/bench_iocs.py`` on 1,000,000 adversarial lines (979,955 alerts after duplicates,
2.05 GB of output text, 1.45 million distinct indicators; 2 shared cores): 19.3 s with the
default caps (37.2 s without the row cap, 10.7 s fields only), against 37.2 s for
``load_events`` of the same file in the same run; run again with the machine busy (load
average 6.7): 42.7 s against 61.2 s for ``load_events``.  Peak RSS 14 GB, mostly the
loaded frame.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from falco_lab.analysis.fields import DEFAULT_SCHEMA, AlertSchema
from falco_lab.priorities import PRIORITY_DTYPE

__all__ = [
    "DEFAULT_LIMITS",
    "DOMAIN_TLDS",
    "FIELD_ROLES",
    "IOC_COLUMNS",
    "IOC_TYPES",
    "IocLimits",
    "PORT_OF",
    "classify_ip",
    "extract_iocs",
    "iocs_more",
]

#: Indicator types, in the order the report lists them when priorities tie.
IOC_TYPES: tuple[str, ...] = (
    "url",
    "domain",
    "ipv4",
    "ipv6",
    "sha256",
    "sha1",
    "md5",
    "file",
    "image",
    "user",
)

#: Output field -> its role.  Roles: ``ip``, ``domain``, ``file`` (an absolute path; other
#: values are searched as text), ``text`` (searched like the output), ``user``, ``image``
#: (the repository; tag and digest are joined to it).  Extend it to teach new fields.
FIELD_ROLES: dict[str, str] = {
    "fd.sip": "ip",
    "fd.rip": "ip",
    "fd.cip": "ip",
    "fd.lip": "ip",
    "fd.sip.name": "domain",
    "fd.rip.name": "domain",
    "fd.cip.name": "domain",
    "fd.lip.name": "domain",
    "fd.name": "file",
    "fd.nameraw": "file",
    "fs.path.name": "file",
    "fs.path.source": "file",
    "fs.path.target": "file",
    "proc.exepath": "file",
    "proc.exe": "file",
    "proc.pexepath": "file",
    "container.image.repository": "image",
    "user.name": "user",
    "user.loginname": "user",
    "ka.user.name": "user",
    "ka.impuser.name": "user",
    "ka.sourceips": "text",
    "ka.uri": "text",
    "ct.srcip": "ip",
    "ct.user": "user",
}

#: IP field -> the field holding its port.
PORT_OF: dict[str, str] = {
    "fd.sip": "fd.sport",
    "fd.rip": "fd.rport",
    "fd.cip": "fd.cport",
    "fd.lip": "fd.lport",
}

#: Top-level domains accepted for a domain found in free text (a conservative list: the
#: generic ones and country codes common in attacks, never a file extension such as
#: ``.sh``, ``.py``, ``.so``, ``.pl``, ``.md``, ``.cc``, ``.au``, ``.in`` or ``.zip``, nor
#: ``.name``, ``.link``, ``.app`` that name Falco fields and files).  Domains in fields and in
#: URLs are accepted with any top-level domain.
DOMAIN_TLDS: frozenset[str] = frozenset(
    "com net org io info biz xyz top online site club dev cloud us uk de fr ru cn su "
    "tk pw ws onion live shop store tech space website mobi asia eu nl br jp kr ir kp ua ch".split()
)

_PRIVATE_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_DOCUMENTATION_NETS = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
_NA_VALUES = frozenset({"", "<NA>", "N/A", "NA", "null", "None", "nil", "-"})
_KV_PATH_KEYS = (
    "file|filename|path|pathname|exe|exepath|exe_path|target|linkpath|newpath|oldpath|"
    "source|dest|destination|script"
)
_TLD_ALT = "|".join(sorted(DOMAIN_TLDS, key=lambda t: (-len(t), t)))
# One RE2 expression (DuckDB's regexp engine has no look-around): a left boundary, then
# the candidate with any trailing word characters, so "1.2.3.4.5" or "x.community"
# come out whole and are rejected by the Python validation of distinct candidates.
_CANDIDATES = (
    r"(?i:(?:https?|ftps?|wss?|tcp|udp|stratum\+tcp|stratum\+ssl)://)[^\s\"'<>()\[\]{}|\\^`]+"
    r"|\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\](?::\d+)?"
    r"|\d{1,3}(?:\.\d{1,3}){3}[\w.:]*"
    r"|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*[\w]*"
    rf"|(?i:(?:[a-z0-9](?:[a-z0-9-]{{0,62}})?\.)+(?:{_TLD_ALT}))[\w.\-]*(?::\d{{1,5}})?/?"
    rf"|(?i:{_KV_PATH_KEYS})=/[^\s\"'<>()\[\]{{}}|;,]*"
    r"|(?i:sha256|sha1|md5)[:=][0-9A-Fa-f]+"
)
_BOUNDARY = r"[^\w.\-/@]"
#: Candidates in free text (group 1), after the start or a character that cannot continue a word.
TEXT_PATTERN = rf"(?:^|{_BOUNDARY})({_CANDIDATES})"
# DuckDB form: group 0 is several times faster than a sub-match in RE2, so the text gets a
# leading space and each match is the boundary character followed by the candidate.
_SQL_PATTERN = rf"{_BOUNDARY}(?:{_CANDIDATES})"
_IPV4_CAND = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?")
_IPV6_BRACKET = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?")
_DOMAIN = re.compile(r"(?i)((?:[a-z0-9](?:[a-z0-9-]{0,62})?\.)+[a-z][a-z0-9-]{1,62})(?::(\d{1,5}))?")
_KV_PATH = re.compile(rf"(?i)(?:{_KV_PATH_KEYS})=(/.*)")
_HASH_KV = re.compile(r"(?i)(sha256|sha1|md5)[:=]([0-9a-f]+)")
_HASH_LENGTHS = {64: "sha256", 40: "sha1", 32: "md5"}
_HASH_FIELD = re.compile(r"(?i)sha256|sha1|md5|hash")
_HEX = re.compile(r"[0-9a-fA-F]+")
_PY_TEXT = re.compile(TEXT_PATTERN, re.ASCII)  # RE2 (DuckDB) classes are ASCII too
_URL_TRAILING = ".,;:!?"

#: Columns of the frame :func:`extract_iocs` returns, in order.
IOC_COLUMNS: tuple[str, ...] = (
    "type",
    "value",
    "scope",
    "ports",
    "first_seen",
    "last_seen",
    "count",
    "priority",
    "pods",
    "pod_count",
    "rules",
    "rule_count",
    "sources",
)


@dataclass(frozen=True, slots=True)
class IocLimits:
    """Caps on what :func:`extract_iocs` returns (``None``: no cap).

    Attributes
    ----------
    max_rows : int or None
        Indicators returned (the rest are counted in ``df.attrs["iocs_more"]``).
    max_pods, max_rules, max_ports, max_sources : int
        Items kept in each list column; ``pod_count``/``rule_count`` give the totals.
    """

    max_rows: int | None = 1000
    max_pods: int = 5
    max_rules: int = 5
    max_ports: int = 10
    max_sources: int = 10


DEFAULT_LIMITS = IocLimits()


# -- classification of one candidate ------------------------------------------------------


def classify_ip(text: str) -> str | None:
    """The scope of an IP address, or None if ``text`` is not one.

    ``private`` (RFC 1918, carrier-grade NAT ``100.64.0.0/10``, IPv6 unique-local),
    ``loopback``, ``link-local`` (the cloud metadata address ``169.254.169.254`` too),
    ``multicast``, ``documentation`` (TEST-NET-1/2/3 and ``2001:db8::/32``, which examples
    and the simulator use as stand-ins for internet addresses), ``reserved`` (any other
    special range) or ``public``.  The unspecified addresses (``0.0.0.0``, ``::``) are not
    indicators: None.
    """
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.is_unspecified:
        return None
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if any(address in net for net in _PRIVATE_NETS if net.version == address.version):
        return "private"
    if any(address in net for net in _DOCUMENTATION_NETS if net.version == address.version):
        return "documentation"
    if address.is_global:
        return "public"
    return "reserved"


Found = tuple[str, str, int | None]  # (type, value, port)


def _port(text: str | None) -> int | None:
    if text is None:
        return None
    number = int(text)
    return number if 0 < number <= 65535 else None


def _ip_found(text: str, port: str | None) -> list[Found]:
    if classify_ip(text) is None:
        return []
    kind = "ipv6" if ":" in text else "ipv4"
    return [(kind, str(ipaddress.ip_address(text)), _port(port))]


def _url_found(text: str) -> list[Found]:
    url = text.rstrip(_URL_TRAILING)
    scheme, _, rest = url.partition("://")
    host_port = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    if not host_port:
        return []
    found: list[Found] = [("url", url, None)]
    bracket = _IPV6_BRACKET.fullmatch(host_port)
    if bracket:
        return found + _ip_found(bracket.group(1), bracket.group(2))
    host, _, port = host_port.partition(":")
    if port and not port.isdigit():
        return found
    if _IPV4_CAND.fullmatch(host):
        return found + _ip_found(host, port or None)
    if _DOMAIN.fullmatch(host):
        return found + [("domain", host.lower().rstrip("."), _port(port or None))]
    return found


def classify_text_candidate(candidate: str) -> list[Found]:
    """Indicators in one candidate of :data:`TEXT_PATTERN` (empty when it is no indicator)."""
    lower = candidate.lower()
    if "://" in candidate:
        return _url_found(candidate)
    if candidate.startswith("["):
        match = _IPV6_BRACKET.fullmatch(candidate)
        return _ip_found(match.group(1), match.group(2)) if match else []
    match = _IPV4_CAND.fullmatch(candidate)
    if match:
        if any(len(o) > 1 and o.startswith("0") for o in match.group(1).split(".")):
            return []  # 01.02.03.04 is a date or a version, not an address
        return _ip_found(match.group(1), match.group(2))
    if candidate[:1].isdigit() and _IPV4_CAND.match(candidate):
        return []  # a longer dotted number: 1.2.3.4.5, 1.2.3.4a
    path = _KV_PATH.fullmatch(candidate)
    if path:
        value = path.group(1).rstrip(_URL_TRAILING)
        return [("file", value, None)] if len(value) > 1 else []
    hashed = _HASH_KV.fullmatch(candidate)
    if hashed:
        kind = _HASH_LENGTHS.get(len(hashed.group(2)))
        if kind is None or kind != hashed.group(1).lower():
            return []
        return [(kind, hashed.group(2).lower(), None)]
    if ":" in candidate and "." not in candidate.split(":")[0] and candidate.count(":") >= 2:
        text = candidate
        if "::" in text or text.count(":") == 7:
            return _ip_found(text, None)
        return []
    if candidate.endswith("/"):
        return []  # registry.example.com/team/app: an image reference or a path, not a domain
    domain = _DOMAIN.fullmatch(candidate.rstrip("."))
    if domain:
        name = domain.group(1).lower()
        if name.rsplit(".", 1)[1] in DOMAIN_TLDS and not lower.startswith("-"):
            return [("domain", name, _port(domain.group(2)))]
    return []


def text_indicators(text: str) -> list[Found]:
    """Every indicator in a free text (Python's ``re`` with the same expression as DuckDB's)."""
    out: list[Found] = []
    for candidate in _PY_TEXT.findall(text):
        out.extend(classify_text_candidate(candidate))
    return out


def _field_value_indicators(role: str, value: str) -> list[Found]:
    if role == "ip":
        return _ip_found(value.strip("[]"), None)
    if role == "domain":
        name = value.strip().lower().rstrip(".")
        if _DOMAIN.fullmatch(name) and classify_ip(name) is None:
            return [("domain", name, None)]
        return _ip_found(name, None)
    if role == "file":
        if value.startswith("/"):
            return [("file", value, None)]
        return text_indicators(value)  # fd.name of a socket: 10.0.0.1:3456->1.2.3.4:443
    if role == "user":
        return [("user", value, None)]
    if role == "hash":
        text = value.strip().lower()
        prefix, _, digest = text.rpartition(":")
        digest = digest if prefix in ("", "sha256", "sha1", "md5") else text
        kind = _HASH_LENGTHS.get(len(digest))
        return [(kind, digest, None)] if kind and _HEX.fullmatch(digest) else []
    return text_indicators(value)


# -- extraction ---------------------------------------------------------------------------


def _field_classifier(role: str) -> Callable[[str], list[Found]]:
    def classify(value: str) -> list[Found]:
        return _field_value_indicators(role, value)

    return classify


def _role_of(name: str) -> str | None:
    if name in FIELD_ROLES:
        return FIELD_ROLES[name]
    if name.startswith(("evt.arg.", "evt.rawarg.")):
        return "file"  # an absolute path is a file, anything else is searched as text
    if _HASH_FIELD.search(name) and name != "container.image.digest":
        return "hash"
    return None


def _text_values(series: pd.Series) -> pd.Series:
    """Non-missing values of a column as str (lists such as ``ka.sourceips`` joined by spaces)."""
    values = series.dropna()
    if values.dtype == object:
        values = values.map(lambda v: " ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v))
    else:
        values = values.astype(str)
    return values[~values.isin(_NA_VALUES)]


def _pairs_from_distinct(
    values: pd.Series, classify: Callable[[str], list[Found]], source: str
) -> pd.DataFrame:
    """(row, type, value, port, source) for every indicator of every row, classifying each distinct value once.

    ``values`` is indexed by row number; a value may yield several indicators.
    """
    codes, uniques = pd.factorize(values, sort=False)
    per_code = [classify(str(u)) for u in uniques]
    lengths = np.fromiter((len(f) for f in per_code), dtype=np.int64, count=len(per_code))
    if not lengths.any():
        return _empty_pairs()
    flat = [item for items in per_code for item in items]
    flat_kind = np.array([f[0] for f in flat], dtype=object)
    flat_value = np.array([f[1] for f in flat], dtype=object)
    flat_port = np.array([np.nan if f[2] is None else float(f[2]) for f in flat])
    starts = np.cumsum(lengths) - lengths  # first indicator of each distinct value in ``flat``
    counts = lengths[codes]
    keep = counts > 0
    counts = counts[keep]
    rows = np.repeat(values.index.to_numpy(dtype=np.int64)[keep], counts)
    # position k of the j-th indicator of a row: starts[code] + j
    within = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    picks = np.repeat(starts[codes[keep]], counts) + within
    return pd.DataFrame(
        {
            "row": rows,
            "type": flat_kind[picks],
            "value": flat_value[picks],
            "port": flat_port[picks],
            "source": source,
        }
    )


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.Series([], dtype=np.int64),
            "type": pd.Series([], dtype=object),
            "value": pd.Series([], dtype=object),
            "port": pd.Series([], dtype=float),
            "source": pd.Series([], dtype=object),
        }
    )


def _field_pairs(df: pd.DataFrame) -> list[pd.DataFrame]:
    out: list[pd.DataFrame] = []
    for name in map(str, df.columns):
        role = _role_of(name)
        if role is None:
            continue
        if role == "image":
            values = _image_refs(df, name)
            if len(values):
                pairs = pd.DataFrame(
                    {
                        "row": values.index.to_numpy(np.int64),
                        "type": "image",
                        "value": values.to_numpy(object),
                    }
                )
                pairs["port"] = np.nan
                pairs["source"] = name
                out.append(pairs)
            continue
        values = _text_values(df[name])
        if not len(values):
            continue
        pairs = _pairs_from_distinct(values, _field_classifier(role), name)
        port_field = PORT_OF.get(name)
        if port_field is not None and port_field in df.columns and len(pairs):
            port_values = pd.to_numeric(df[port_field], errors="coerce").astype("Float64")
            given = port_values.reindex(pairs["row"].to_numpy()).to_numpy(dtype=float, na_value=np.nan)
            pairs["port"] = np.where(np.isnan(pairs["port"].to_numpy(float)), given, pairs["port"])
        out.append(pairs)
    return out


def _image_refs(df: pd.DataFrame, repository: str) -> pd.Series:
    """``repo[:tag][@digest]`` for every alert with an image repository."""
    repo = _text_values(df[repository])
    if not len(repo):
        return repo
    ref = repo.copy()
    for field, sep in (("container.image.tag", ":"), ("container.image.digest", "@")):
        if field in df.columns:
            part = _text_values(df[field]).reindex(ref.index)
            has = part.notna().to_numpy(dtype=bool)
            ref.loc[has] = ref.loc[has] + sep + part.loc[has]
    return ref


def _text_pairs(df: pd.DataFrame, column: str = "output") -> pd.DataFrame:
    """Indicators of the output text: candidates found by DuckDB (RE2), classified per distinct candidate."""
    from falco_lab.events.archive_sql import connect

    if column not in df.columns or not df[column].notna().any():
        return _empty_pairs()
    text = pd.DataFrame({"row": np.arange(len(df), dtype=np.int64), "text": df[column]})
    con = connect()
    try:
        con.register("alerts_text", text)  # DuckDB scans the pandas column in place
        found = _arrow(
            con,
            "SELECT row, unnest(list_distinct(regexp_extract_all(' ' || text, $pattern))) AS candidate "
            "FROM alerts_text",
            {"pattern": _SQL_PATTERN},
        )
    finally:
        con.close()
    if found.num_rows == 0:
        return _empty_pairs()
    candidates = pd.Series(
        pc.utf8_slice_codeunits(found.column("candidate"), 1).to_numpy(zero_copy_only=False),
        index=found.column("row").to_numpy(),
    )
    return _pairs_from_distinct(candidates, classify_text_candidate, column)


def _arrow(con: Any, sql: str, params: dict[str, object] | None = None) -> pa.Table:
    """The result of one DuckDB query as an Arrow table."""
    return cast(pa.Table, con.sql(sql, params=params or {}).to_arrow_table())


def extract_iocs(
    df: pd.DataFrame,
    *,
    limits: IocLimits = DEFAULT_LIMITS,
    output_text: bool = True,
    schema: AlertSchema = DEFAULT_SCHEMA,
) -> pd.DataFrame:
    """Every indicator in the alerts, one row each (see the module docstring for the columns).

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical events frame (``load_events``).
    limits : IocLimits
        Caps on rows and list columns (default: 1000 rows, 5 pods, 5 rules).
    output_text : bool
        Also search the ``output`` text (default); ``False`` reads output fields only.
    schema : AlertSchema
        Names of the namespace and pod fields (the ``pods`` column is ``namespace/pod``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`IOC_COLUMNS`: ``type``/``value``/``scope`` ``string``, ``ports``,
        ``pods``, ``rules``, ``sources`` lists, ``first_seen``/``last_seen``
        ``datetime64[ns, UTC]``, ``count``/``pod_count``/``rule_count`` ``int64``,
        ``priority`` the priority categorical.  ``df.attrs["iocs_more"]`` is the number
        of indicators beyond ``limits.max_rows`` (0 when none were left out) and
        ``df.attrs["iocs_total"]`` the number found.
    """
    frame = df.reset_index(drop=True)
    parts = _field_pairs(frame)
    if output_text:
        parts.append(_text_pairs(frame))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _finish(_empty_result(), 0, limits)
    pairs = pd.concat(parts, ignore_index=True)
    return _aggregate(frame, pairs, limits, schema)


def _pod_keys(df: pd.DataFrame, schema: AlertSchema) -> pd.Series:
    if schema.pod not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="string")
    pod = df[schema.pod].astype("string")
    pod = pod.where(~pod.isin(_NA_VALUES))
    if schema.namespace in df.columns:
        ns = df[schema.namespace].astype("string")
        pod = (ns + "/" + pod).fillna(pod)
    return pod


def _aggregate(
    frame: pd.DataFrame, pairs: pd.DataFrame, limits: IocLimits, schema: AlertSchema
) -> pd.DataFrame:
    from falco_lab.events.archive_sql import connect

    time_ns = frame["time"].array.asi8 if hasattr(frame["time"].array, "asi8") else None
    times = pd.Series(time_ns if time_ns is not None else frame["time"].astype("int64"))
    priority_codes = pd.Categorical(frame["priority"], dtype=PRIORITY_DTYPE).codes.astype(np.int64)
    alerts = pa.table(
        {
            "row": pa.array(np.arange(len(frame), dtype=np.int64)),
            "t": pa.array(times.to_numpy(dtype=np.int64)),
            "prio": pa.array(priority_codes),
            "rule": pa.array(frame["rule"].astype(object).where(frame["rule"].notna(), None), pa.string()),
            "pod": pa.array(
                _pod_keys(frame, schema).astype(object).where(lambda s: s.notna(), None), pa.string()
            ),
        }
    )
    found = pa.table(
        {
            "row": pa.array(pairs["row"].to_numpy(np.int64)),
            "type": pa.array(pairs["type"].to_numpy(object), pa.string()),
            "value": pa.array(pairs["value"].to_numpy(object), pa.string()),
            "port": pa.array(pairs["port"].to_numpy(float), pa.float64(), from_pandas=True),
            "source": pa.array(pairs["source"].to_numpy(object), pa.string()),
        }
    )
    limit = "" if limits.max_rows is None else f"LIMIT {int(limits.max_rows)}"
    type_order = "[" + ", ".join(f"'{t}'" for t in IOC_TYPES) + "]"
    con = connect()
    try:
        con.register("alerts", alerts)
        con.register("found", found)
        con.register("internal_ips", _internal_ips(pairs))
        # stage 1: every indicator's order keys (cheap); stage 2: lists for the rows shown only
        con.execute(
            """
            CREATE TEMP TABLE ranked AS
            SELECT f.type, f.value, min(a.t) AS first_ns, max(a.t) AS last_ns,
                   count(DISTINCT f.row) AS count, max(a.prio) AS prio
            FROM found f JOIN alerts a USING (row)
            GROUP BY f.type, f.value
            """
        ).fetchall()
        total = int(_arrow(con, "SELECT count(*) AS n FROM ranked").column("n")[0].as_py())
        result = _arrow(
            con,
            f"""
            WITH top AS (
                SELECT *, row_number() OVER (
                    ORDER BY prio DESC, coalesce(list_position({type_order}, type), 99),
                             coalesce(i.internal, FALSE), first_ns, value
                ) AS rank
                FROM ranked LEFT JOIN internal_ips i USING (type, value) ORDER BY rank {limit}
            )
            SELECT top.type, top.value, top.first_ns, top.last_ns, top.count, top.prio,
                   list_sort(list(DISTINCT CAST(f.port AS INTEGER)) FILTER (WHERE f.port IS NOT NULL)) AS ports,
                   list_sort(list(DISTINCT a.pod) FILTER (WHERE a.pod IS NOT NULL)) AS pods,
                   list_sort(list(DISTINCT a.rule) FILTER (WHERE a.rule IS NOT NULL)) AS rules,
                   list_sort(list(DISTINCT f.source)) AS sources
            FROM top JOIN found f USING (type, value) JOIN alerts a USING (row)
            GROUP BY top.type, top.value, top.first_ns, top.last_ns, top.count, top.prio, top.rank
            ORDER BY top.rank
            """,
        )
    finally:
        con.close()
    raw = result.to_pandas()
    out = pd.DataFrame(
        {
            "type": pd.array(raw["type"].to_numpy(object), dtype="string"),
            "value": pd.array(raw["value"].to_numpy(object), dtype="string"),
            "scope": pd.array(
                [
                    classify_ip(v) if t in ("ipv4", "ipv6") else None
                    for t, v in zip(raw["type"], raw["value"], strict=True)
                ],
                dtype="string",
            ),
            "ports": _capped(raw["ports"], limits.max_ports),
            "first_seen": pd.to_datetime(raw["first_ns"].to_numpy(np.int64), utc=True),
            "last_seen": pd.to_datetime(raw["last_ns"].to_numpy(np.int64), utc=True),
            "count": raw["count"].to_numpy(np.int64),
            "priority": pd.Categorical.from_codes(raw["prio"].to_numpy(np.int64), dtype=PRIORITY_DTYPE),
            "pods": _capped(raw["pods"], limits.max_pods),
            "pod_count": np.array([0 if p is None else len(p) for p in raw["pods"]], dtype=np.int64),
            "rules": _capped(raw["rules"], limits.max_rules),
            "rule_count": np.array([0 if r is None else len(r) for r in raw["rules"]], dtype=np.int64),
            "sources": _capped(raw["sources"], limits.max_sources),
        }
    )
    return _finish(out, total, limits)


def _internal_ips(pairs: pd.DataFrame) -> pa.Table:
    """(type, value, internal) for every distinct IP: private, loopback and link-local are internal."""
    ips = pairs.loc[pairs["type"].isin(("ipv4", "ipv6")), ["type", "value"]].drop_duplicates()
    internal = [classify_ip(v) in ("private", "loopback", "link-local") for v in ips["value"]]
    return pa.table(
        {
            "type": pa.array(ips["type"].to_numpy(object), pa.string()),
            "value": pa.array(ips["value"].to_numpy(object), pa.string()),
            "internal": pa.array(internal, pa.bool_()),
        }
    )


def _capped(values: Iterable, cap: int) -> np.ndarray:
    lists = [list(v)[:cap] if v is not None else [] for v in values]
    return np.fromiter(lists, dtype=object, count=len(lists)) if lists else np.array([], dtype=object)


def _empty_result() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "type": pd.Series([], dtype="string"),
            "value": pd.Series([], dtype="string"),
            "scope": pd.Series([], dtype="string"),
            "ports": pd.Series([], dtype=object),
            "first_seen": pd.Series([], dtype="datetime64[ns, UTC]"),
            "last_seen": pd.Series([], dtype="datetime64[ns, UTC]"),
            "count": pd.Series([], dtype=np.int64),
            "priority": pd.Series(pd.Categorical([], dtype=PRIORITY_DTYPE)),
            "pods": pd.Series([], dtype=object),
            "pod_count": pd.Series([], dtype=np.int64),
            "rules": pd.Series([], dtype=object),
            "rule_count": pd.Series([], dtype=np.int64),
            "sources": pd.Series([], dtype=object),
        }
    )


def _finish(out: pd.DataFrame, total: int, limits: IocLimits) -> pd.DataFrame:
    out = out.reset_index(drop=True)
    out.attrs["iocs_total"] = int(total)
    out.attrs["iocs_more"] = int(total - len(out))
    out.attrs["iocs_limits"] = limits
    return out


def iocs_more(iocs: pd.DataFrame) -> int:
    """How many indicators :func:`extract_iocs` left out because of ``limits.max_rows``."""
    return int(iocs.attrs.get("iocs_more", 0))


def ioc_records(iocs: pd.DataFrame) -> list[dict[str, object]]:
    """The indicators as JSON-ready dicts (times ISO 8601 with ns, lists as lists, missing as None)."""
    records: list[dict[str, object]] = []
    columns = {name: iocs[name].tolist() for name in IOC_COLUMNS}
    for i in range(len(iocs)):
        item = {name: values[i] for name, values in columns.items()}
        records.append(
            {
                "type": str(item["type"]),
                "value": str(item["value"]),
                "scope": None if item["scope"] is pd.NA else str(item["scope"]),
                "ports": [int(p) for p in item["ports"]],
                "first_seen": _iso(item["first_seen"]),
                "last_seen": _iso(item["last_seen"]),
                "count": int(item["count"]),
                "priority": None if pd.isna(item["priority"]) else str(item["priority"]),
                "pods": [str(p) for p in item["pods"]],
                "pod_count": int(item["pod_count"]),
                "rules": [str(r) for r in item["rules"]],
                "rule_count": int(item["rule_count"]),
                "sources": [str(r) for r in item["sources"]],
            }
        )
    return records


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond:06d}{stamp.nanosecond:03d}Z"
