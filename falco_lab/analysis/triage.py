"""Case work: marks on alerts, attack chains and findings, kept next to the events.

A responder marks what they looked at: an alert (by its ``uuid``), an attack chain
(``chain:<namespace>/<pod>``, as the report shows it) or a finding
(``finding:<id>``, shown next to each finding) gets a status — ``triaged``,
``false_positive`` or ``confirmed`` — with a note, who and when.

The marks live in a small JSON file next to the events, ``<events file>.triage.json``
(``alerts.jsonl`` → ``alerts.jsonl.triage.json``)::

    {
      "version": 1,
      "marks": [
        {"target": "5f0c…-uuid", "status": "false_positive",
         "note": "kubectl exec by the on-call for the DB migration", "who": "alice",
         "when": "2026-12-04T07:00:00Z"}
      ]
    }

``target`` and ``status`` are required; ``note``, ``who`` and ``when`` (ISO 8601) are
optional; any other key is an error.  A file that breaks these rules is rejected with
its path, line and reason (:class:`TriageError`).  Marks are kept in file order; a
later mark of the same target overrides an earlier one (:func:`effective_marks`), and
the report lists them all.

``falco-lab report`` reads the triage file next to each events file (or ``--triage
FILE``); the report shows a "Case notes" section, labels marked alerts and chains, and
sets false positives aside from the attack chains with a note (never silently).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml

from falco_lab.errors import FalcoLabError

__all__ = [
    "STATUSES",
    "TRIAGE_COLUMNS",
    "Mark",
    "TriageError",
    "apply_triage",
    "chain_id",
    "effective_marks",
    "finding_id",
    "load_triage",
    "mark",
    "save_triage",
    "triage_path",
]

#: The statuses a mark can have.
STATUSES: tuple[str, ...] = ("triaged", "false_positive", "confirmed")
#: Columns :func:`apply_triage` adds.
TRIAGE_COLUMNS: tuple[str, str] = ("triage", "triage_note")
#: The suffix of the triage file next to an events file.
SUFFIX = ".triage.json"

_KEYS = ("target", "status", "note", "who", "when")


class TriageError(FalcoLabError):
    """A triage file or mark is invalid (the message names the file, line and reason)."""


@dataclass(frozen=True, slots=True)
class Mark:
    """One mark.

    Attributes
    ----------
    target:
        An alert ``uuid``, ``chain:<where>`` or ``finding:<id>``.
    status:
        One of :data:`STATUSES`.
    note, who:
        Free text (may be empty).
    when:
        When the mark was made (UTC), or None when the file does not say.
    line:
        Line of the mark in its file (0 for a mark not read from a file).
    """

    target: str
    status: str
    note: str = ""
    who: str = ""
    when: pd.Timestamp | None = None
    line: int = 0

    @property
    def kind(self) -> Literal["chain", "finding", "alert"]:
        """What the target is: ``chain``, ``finding`` or ``alert``."""
        if self.target.startswith("chain:"):
            return "chain"
        if self.target.startswith("finding:"):
            return "finding"
        return "alert"

    def to_json(self) -> dict[str, str]:
        out = {"target": self.target, "status": self.status, "note": self.note, "who": self.who}
        if self.when is not None:
            out["when"] = f"{self.when:%Y-%m-%dT%H:%M:%S}Z"
        return out


def triage_path(events: str | os.PathLike[str]) -> Path:
    """The triage file of an events file: ``<events>.triage.json`` in the same folder."""
    path = Path(events)
    return path.with_name(path.name + SUFFIX)


def chain_id(where: str) -> str:
    """The mark target of the attack chain of a place (``ns/pod``)."""
    return f"chain:{where}"


def finding_id(title: str) -> str:
    """The mark target of a finding: ``finding:`` and 8 hex digits of its title's SHA-1."""
    return "finding:" + hashlib.sha1(title.encode("utf-8"), usedforsecurity=False).hexdigest()[:8]


def _utc(value: object, where: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise TriageError(f"{where}: 'when' is not an ISO 8601 time: {value!r}") from exc
    if pd.isna(stamp):
        raise TriageError(f"{where}: 'when' is not an ISO 8601 time: {value!r}")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _check(target: object, status: object, note: object, who: object, where: str) -> None:
    if not isinstance(target, str) or not target.strip():
        raise TriageError(
            f"{where}: 'target' must be a non-empty string (an alert uuid, chain:… or finding:…)"
        )
    if status not in STATUSES:
        raise TriageError(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    for key, value in (("note", note), ("who", who)):
        if not isinstance(value, str):
            raise TriageError(f"{where}: {key!r} must be a string, not {type(value).__name__}")


def _scalar(node: yaml.Node, where: str, key: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith((":null", ":int", ":float", ":bool")):
        raise TriageError(f"{where}: {key!r} must be a string")
    return str(node.value)


def load_triage(path: str | os.PathLike[str]) -> list[Mark]:
    """The marks of a triage file, in file order.

    Raises
    ------
    TriageError
        When the file is not valid JSON/YAML or breaks the format (see the module
        docstring); the message is ``<file>:<line>: <reason>``.
    OSError
        When the file cannot be read.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
        raise TriageError(f"{path}:{line}: not valid JSON: {exc.problem}") from exc
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise TriageError(f"{path}:{root.start_mark.line + 1}: expected an object with a 'marks' list")
    marks_node: yaml.Node | None = None
    for key, value in root.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else None
        if name == "marks":
            marks_node = value
        elif name == "version":
            if not isinstance(value, yaml.ScalarNode) or value.value != "1":
                raise TriageError(f"{path}:{value.start_mark.line + 1}: unsupported version {value.value!r}")
        else:
            raise TriageError(
                f"{path}:{key.start_mark.line + 1}: unknown key {name!r} (expected version, marks)"
            )
    if marks_node is None:
        raise TriageError(f"{path}:1: no 'marks' list")
    if not isinstance(marks_node, yaml.SequenceNode):
        raise TriageError(f"{path}:{marks_node.start_mark.line + 1}: 'marks' must be a list")
    marks = []
    for node in marks_node.value:
        line = node.start_mark.line + 1
        where = f"{path}:{line}"
        if not isinstance(node, yaml.MappingNode):
            raise TriageError(f"{where}: a mark must be an object with target and status")
        values: dict[str, str] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else repr(key)
            key_where = f"{path}:{key.start_mark.line + 1}"
            if name not in _KEYS:
                raise TriageError(
                    f"{key_where}: unknown key {name!r} in a mark (expected {', '.join(_KEYS)})"
                )
            values[name] = _scalar(value, key_where, name)
        for required in ("target", "status"):
            if required not in values:
                raise TriageError(f"{where}: the mark has no {required!r}")
        _check(values["target"], values["status"], values.get("note", ""), values.get("who", ""), where)
        when = _utc(values["when"], where) if "when" in values else None
        marks.append(
            Mark(
                target=values["target"].strip(),
                status=values["status"],
                note=values.get("note", ""),
                who=values.get("who", ""),
                when=when,
                line=line,
            )
        )
    return marks


def save_triage(path: str | os.PathLike[str], marks: Iterable[Mark]) -> Path:
    """Write ``marks`` to ``path`` (replacing it atomically) and return the path."""
    path = Path(path)
    document = {"version": 1, "marks": [m.to_json() for m in marks]}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return path


def mark(
    events: str | os.PathLike[str],
    target: str,
    status: str,
    note: str = "",
    *,
    who: str | None = None,
    when: object = None,
    triage_file: str | os.PathLike[str] | None = None,
) -> Mark:
    """Add a mark to the triage file of ``events`` (created when missing) and return it.

    Parameters
    ----------
    events:
        The events file the mark is about; the mark goes to :func:`triage_path` of it
        unless ``triage_file`` is given.
    target:
        An alert ``uuid``, ``chain:<ns>/<pod>`` (:func:`chain_id`) or ``finding:<id>``
        (:func:`finding_id`).
    status:
        One of :data:`STATUSES`.
    note:
        Why (free text).
    who, when:
        Default: the current user and now (UTC).

    Raises
    ------
    TriageError
        For an invalid target or status, or an invalid existing triage file.
    """
    if who is None:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):  # no user name in this environment
            who = ""
    _check(target, status, note, who, "mark")
    stamp = _utc(pd.Timestamp.now(tz="UTC") if when is None else when, "mark").floor("s")
    path = Path(triage_file) if triage_file is not None else triage_path(events)
    marks = load_triage(path) if path.exists() else []
    new = Mark(target=target.strip(), status=status, note=note, who=who, when=stamp, line=0)
    save_triage(path, [*marks, new])
    return new


def effective_marks(marks: Sequence[Mark]) -> dict[str, Mark]:
    """The mark in force per target: the last one in ``marks``."""
    return {m.target: m for m in marks}


def apply_triage(df: pd.DataFrame, marks: Sequence[Mark]) -> pd.DataFrame:
    """A copy of ``df`` with ``triage`` (status) and ``triage_note`` for marked alerts.

    Alerts are matched by ``uuid``; unmarked alerts (and chain/finding marks) leave the
    columns missing.  The input frame is not changed.
    """
    out = df.copy()
    by_uuid = {t: m for t, m in effective_marks(marks).items() if m.kind == "alert"}
    uuids = out["uuid"] if "uuid" in out.columns else pd.Series(pd.NA, index=out.index, dtype="string")
    found = uuids.map(lambda u: by_uuid.get(u) if isinstance(u, str) else None)
    out["triage"] = found.map(lambda m: m.status if m is not None else pd.NA).astype("string")
    out["triage_note"] = found.map(lambda m: m.note if m is not None else pd.NA).astype("string")
    return out
