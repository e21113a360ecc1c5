"""Indicators of compromise as a STIX 2.1 bundle (plain JSON objects; no STIX library needed to write it).

The bundle holds:

* one ``identity`` (``falco-lab``, a system) that creates every object and is where the
  indicators were sighted;
* per indicator of :func:`~falco_lab.analysis.iocs.extract_iocs`, an ``indicator`` with a
  STIX pattern (:data:`PATTERNS`) and a ``sighting`` of it (``first_seen``, ``last_seen``,
  ``count`` = alerts, capped at STIX's 999,999,999);
* when the indicators were capped, a ``note`` that says how many were left out.

Identifiers are UUIDv5 of the content (indicator: type and value; sighting: its
indicator; bundle: its objects), and ``created``/``modified`` are the first and last
sightings, so the same alerts give the same bundle byte for byte.  Values are
attacker-controlled: inside patterns ``\\`` and ``'`` are escaped as the STIX patterning
grammar requires; everything else is JSON-encoded by the writer.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd

from falco_lab.analysis.iocs import iocs_more

__all__ = ["NAMESPACE", "PATTERNS", "stix_bundle", "stix_pattern", "stix_string"]

#: UUIDv5 namespace of every falco-lab STIX identifier.
NAMESPACE = uuid.UUID("6f1c3a52-4a8e-5b7e-9d1a-2f6c0b9e4d31")
#: STIX caps a sighting's ``count``.
MAX_SIGHTING_COUNT = 999_999_999
#: Creation time of the identity object (constant, for stable bundles).
IDENTITY_CREATED = "2026-01-01T00:00:00.000Z"
#: Indicator type -> STIX pattern template (``{v}`` is the escaped value).
PATTERNS: dict[str, str] = {
    "ipv4": "[ipv4-addr:value = '{v}']",
    "ipv6": "[ipv6-addr:value = '{v}']",
    "domain": "[domain-name:value = '{v}']",
    "url": "[url:value = '{v}']",
    "sha256": "[file:hashes.'SHA-256' = '{v}']",
    "sha1": "[file:hashes.'SHA-1' = '{v}']",
    "md5": "[file:hashes.MD5 = '{v}']",
    "image": "[software:name = '{v}']",
    "user": "[user-account:account_login = '{v}']",
}


def stix_string(value: str) -> str:
    """``value`` as the inside of a quoted STIX pattern string (``\\`` and ``'`` escaped)."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def stix_pattern(kind: str, value: str) -> str:
    """The STIX pattern of one indicator; a file is matched by its name and its directory."""
    if kind == "file":
        directory, _, name = value.rpartition("/")
        if not name:
            return f"[directory:path = '{stix_string(value)}']"
        return (
            f"[file:name = '{stix_string(name)}' AND "
            f"file:parent_directory_ref.path = '{stix_string(directory or '/')}']"
        )
    try:
        template = PATTERNS[kind]
    except KeyError:
        raise ValueError(f"no STIX pattern for indicator type {kind!r}") from None
    return template.replace("{v}", stix_string(value))


def _stamp(value: pd.Timestamp) -> str:
    """STIX timestamp, UTC, millisecond precision (sub-millisecond digits are truncated)."""
    return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, chr(31).join(parts))}"


def _description(row: Mapping[Hashable, Any]) -> str:
    pods = ", ".join(row["pods"]) + (
        f" and {row['pod_count'] - len(row['pods'])} more" if row["pod_count"] > len(row["pods"]) else ""
    )
    rules = ", ".join(row["rules"]) + (
        f" and {row['rule_count'] - len(row['rules'])} more" if row["rule_count"] > len(row["rules"]) else ""
    )
    parts = [f"Seen in {row['count']} Falco alert(s), worst priority {row['priority']}."]
    if not pd.isna(row["scope"]):
        parts.append(f"Address scope: {row['scope']}.")
    if len(row["ports"]):
        parts.append("Ports: " + ", ".join(map(str, row["ports"])) + ".")
    if pods:
        parts.append(f"Pods: {pods}.")
    if rules:
        parts.append(f"Rules: {rules}.")
    parts.append("Found in: " + ", ".join(row["sources"]) + ".")
    return " ".join(parts)


def stix_bundle(iocs: pd.DataFrame) -> dict[str, Any]:
    """A STIX 2.1 bundle (a JSON-ready dict) of the indicators of :func:`extract_iocs`.

    Raises
    ------
    ValueError
        An indicator type without a STIX pattern (see :data:`PATTERNS`).
    """
    identity_id = _id("identity", "falco-lab")
    objects: list[dict[str, Any]] = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": identity_id,
            "created": IDENTITY_CREATED,
            "modified": IDENTITY_CREATED,
            "name": "falco-lab",
            "identity_class": "system",
            "description": "Falco alerts analysed by falco-lab",
        }
    ]
    for row in iocs.to_dict("records"):
        first, last = _stamp(row["first_seen"]), _stamp(row["last_seen"])
        indicator_id = _id("indicator", str(row["type"]), str(row["value"]))
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": indicator_id,
                "created_by_ref": identity_id,
                "created": first,
                "modified": last,
                "name": f"{row['type']} {row['value']}",
                "description": _description(row),
                "indicator_types": ["anomalous-activity"],
                "pattern": stix_pattern(str(row["type"]), str(row["value"])),
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": first,
                "labels": [f"falco-priority:{row['priority']}", f"ioc-type:{row['type']}"],
            }
        )
        objects.append(
            {
                "type": "sighting",
                "spec_version": "2.1",
                "id": _id("sighting", indicator_id),
                "created_by_ref": identity_id,
                "created": first,
                "modified": last,
                "first_seen": first,
                "last_seen": last,
                "count": min(int(row["count"]), MAX_SIGHTING_COUNT),
                "sighting_of_ref": indicator_id,
                "where_sighted_refs": [identity_id],
            }
        )
    more = iocs_more(iocs)
    if more:
        objects.append(
            {
                "type": "note",
                "spec_version": "2.1",
                "id": _id("note", *(o["id"] for o in objects)),
                "created_by_ref": identity_id,
                "created": IDENTITY_CREATED,
                "modified": IDENTITY_CREATED,
                "abstract": f"{more} more indicator(s) not included",
                "content": f"falco-lab listed {len(iocs)} of {len(iocs) + more} indicators; "
                f"{more} more were left out by the row cap (falco-lab iocs --max-rows).",
                "object_refs": [identity_id],
            }
        )
    return {"type": "bundle", "id": _id("bundle", *(o["id"] for o in objects)), "objects": objects}
