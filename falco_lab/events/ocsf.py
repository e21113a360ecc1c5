"""OCSF Security Finding records as falcosidekick's AWS Security Lake output writes them: the one home of those facts.

Facts (from falcosidekick's ``outputs/awssecuritylake.go``; carried here as data, no code
copied): one record per alert, OCSF class ``Security Finding`` (``class_uid`` 2001,
category 2 ``Findings``, activity 1 ``Generate``, ``type_uid`` 200101), ``metadata.version``
``0.1.0``, ``metadata.product`` ``Falco`` by ``Falcosecurity``, ``metadata.labels`` = the
alert's tags; ``time`` and ``finding.created_time`` = the alert's time in **milliseconds**
since the epoch; ``finding.uid`` = the alert's ``uuid``, ``finding.title`` and ``message`` =
the rule, ``finding.desc`` = the output, ``finding.types`` = ``[source]``; ``status`` = the
priority; ``severity``/``severity_id`` by :data:`SEVERITY`; ``state`` ``New`` (1);
``observables``: ``hostname`` then every output field whose value is text or a number,
each ``{name, type: "Other", type_id: 0, value: text}``; ``raw_data`` = the alert as Falco
JSON (the nanosecond ``time`` is kept there).  Parquet columns (:data:`PARQUET_COLUMNS`) are
named as the Go struct's ``parquet`` tags (``classname``; JSON says ``class_name``).

Where falco-lab's writer differs, on purpose: observables are sorted by field name
(sidekick iterates a Go map: random order); numbers keep their exact value (sidekick
decodes them as float64, so ``evt.time`` loses its last digits in ``raw_data`` and is
printed with an exponent in observables); an alert without ``source`` has no ``source`` in
``raw_data`` (sidekick writes ``""``), so reading the file back gives the same alerts.

Reading: :func:`falco_lab.events.load_events` reads these Parquet files (any file with
:data:`REQUIRED_COLUMNS`) from ``raw_data``.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "ACTIVITY",
    "CATEGORY",
    "CLASS",
    "JSON_NAMES",
    "PARQUET_COLUMNS",
    "PARQUET_SCHEMA",
    "PRODUCT",
    "REQUIRED_COLUMNS",
    "SCHEMA_VERSION",
    "SEVERITY",
    "STATE",
    "TYPE",
    "severity_of",
]

#: (uid, name) pairs of the constant parts of every record.
ACTIVITY = (1, "Generate")
CATEGORY = (2, "Findings")
CLASS = (2001, "Security Finding")
TYPE = (200101, "Security Finding: Generate")
STATE = (1, "New")
SCHEMA_VERSION = "0.1.0"
#: metadata.product: (vendor_name, name).
PRODUCT = ("Falcosecurity", "Falco")
#: Falco priority -> (severity_id, severity).  Anything else is (0, "Uknown"), spelled as
#: falcosidekick spells it.
SEVERITY: dict[str, tuple[int, str]] = {
    "Debug": (1, "Informational"),
    "Informational": (1, "Informational"),
    "Notice": (2, "Low"),
    "Warning": (3, "Medium"),
    "Error": (4, "High"),
    "Critical": (5, "Critical"),
    "Alert": (6, "Fatal"),
    "Emergency": (6, "Fatal"),
}
UNKNOWN_SEVERITY = (0, "Uknown")
#: Observable type of every observable.
OBSERVABLE_TYPE = (0, "Other")

_TEXT = pa.string()
_INT32 = pa.int32()
#: The Parquet schema, in the Go struct's field order, every field required (parquet-go's default).
PARQUET_SCHEMA = pa.schema(
    [
        pa.field("activity_id", _INT32, nullable=False),
        pa.field("activity_name", _TEXT, nullable=False),
        pa.field("category_name", _TEXT, nullable=False),
        pa.field("category_uid", _INT32, nullable=False),
        pa.field("classname", _TEXT, nullable=False),
        pa.field("class_uid", _INT32, nullable=False),
        pa.field(
            "finding",
            pa.struct(
                [
                    pa.field("created_time", pa.int64(), nullable=False),
                    pa.field("desc", _TEXT, nullable=False),
                    pa.field("title", _TEXT, nullable=False),
                    pa.field("types", pa.list_(pa.field("element", _TEXT, nullable=False)), nullable=False),
                    pa.field("uid", _TEXT, nullable=False),
                ]
            ),
            nullable=False,
        ),
        pa.field("message", _TEXT, nullable=False),
        pa.field(
            "metadata",
            pa.struct(
                [
                    pa.field("version", _TEXT, nullable=False),
                    pa.field(
                        "product",
                        pa.struct(
                            [
                                pa.field("vendor_name", _TEXT, nullable=False),
                                pa.field("name", _TEXT, nullable=False),
                            ]
                        ),
                        nullable=False,
                    ),
                    pa.field("labels", pa.list_(pa.field("element", _TEXT, nullable=False)), nullable=False),
                ]
            ),
            nullable=False,
        ),
        pa.field(
            "observables",
            pa.list_(
                pa.field(
                    "element",
                    pa.struct(
                        [
                            pa.field("name", _TEXT, nullable=False),
                            pa.field("type", _TEXT, nullable=False),
                            pa.field("type_id", _INT32, nullable=False),
                            pa.field("value", _TEXT, nullable=False),
                        ]
                    ),
                    nullable=False,
                )
            ),
            nullable=False,
        ),
        pa.field("raw_data", _TEXT, nullable=False),
        pa.field("severity", _TEXT, nullable=False),
        pa.field("severity_id", _INT32, nullable=False),
        pa.field("state", _TEXT, nullable=False),
        pa.field("state_id", _INT32, nullable=False),
        pa.field("status", _TEXT, nullable=False),
        pa.field("time", pa.int64(), nullable=False),
        pa.field("type_name", _TEXT, nullable=False),
        pa.field("type_uid", _INT32, nullable=False),
    ]
)
#: Top-level Parquet column names, in order.
PARQUET_COLUMNS: tuple[str, ...] = tuple(PARQUET_SCHEMA.names)
#: Parquet column name -> JSON key, where they differ (the JSON lines form uses the JSON names).
JSON_NAMES: dict[str, str] = {"classname": "class_name"}
#: Columns a Parquet file must have to be read as falcosidekick's OCSF alerts.
REQUIRED_COLUMNS: tuple[str, ...] = ("raw_data", "class_uid")


def severity_of(priority: object) -> tuple[int, str]:
    """(severity_id, severity) of a Falco priority name."""
    return SEVERITY.get(str(priority), UNKNOWN_SEVERITY)
