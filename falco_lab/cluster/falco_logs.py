"""Reading Falco's own log lines: which engine it opened, which rules it loaded, errors.

Falco writes its start-up log and its JSON alerts to the same stdout. Alert lines are
JSON objects; everything else is Falco's log (``<date>: <message>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ENGINE = re.compile(r"Opening '(?P<source>[\w-]+)' source with (?P<engine>.+?)\.?\s*$")
_RULES_FILE = re.compile(r"^\s*(?P<path>/\S+)\s*\|\s*schema validation:\s*(?P<result>\w+)")
_LOADING_RULES = re.compile(r"Loading rules from")
_ERROR = re.compile(r"(?:\bError\b|\bLOAD_ERR_\w+|schema validation:\s*failed|Runtime error)", re.IGNORECASE)
_WARNING = re.compile(r"\bLOAD_(?!ERR_)\w+|\bWarning\b", re.IGNORECASE)
_PREFIX = re.compile(r"^\w{3} \w{3} +\d+ [\d:]+ \d{4}: ")


@dataclass(slots=True)
class FalcoLogStatus:
    """What a Falco pod's log says about its start."""

    engine: str | None = None
    rules_files: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    alerts: int = 0

    @property
    def modern_ebpf(self) -> bool:
        return self.engine is not None and "modern" in self.engine.lower()

    @property
    def rules_ok(self) -> bool:
        return (
            bool(self.rules_files) and all(r == "ok" for r in self.rules_files.values()) and not self.errors
        )


def analyse_falco_log(text: str) -> FalcoLogStatus:
    """Scan a Falco container log (start-up lines and alerts)."""
    status = FalcoLogStatus()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("{"):
            status.alerts += 1
            continue
        message = _PREFIX.sub("", line)
        if (match := _ENGINE.search(message)) and match["source"] == "syscall":
            status.engine = match["engine"]
        elif match := _RULES_FILE.match(message):
            status.rules_files[match["path"]] = match["result"]
            if match["result"] != "ok":
                status.errors.append(message)
        elif _LOADING_RULES.search(message):
            continue
        elif _ERROR.search(message):
            status.errors.append(message)
        elif _WARNING.search(message):
            status.warnings.append(message)
    return status
