"""Reading Falco's own log lines: which engine it opened, which rules files it loaded, errors.

Falco writes its start-up log and its JSON alerts to the same stdout. Alert lines are
JSON objects; everything else is Falco's log, ``<time>: <message>`` where ``<time>`` is
``Fri Nov 27 08:00:00 2026`` by default or ISO 8601 (``2026-11-27T08:00:00+0000``) with
``time_format_iso_8601``.

Only the files listed after ``Loading rules from:`` are rules files: Falco prints the
same ``<path> | schema validation: ok`` line for its configuration file
(``/etc/falco/falco.yaml``) before that.  The start-up lines are evidence, never a
requirement: kubelet rotates container logs at 10Mi and ``kubectl logs`` (like the API)
returns the newest file only, so a long-running Falco's log may no longer hold them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_ENGINE = re.compile(r"Opening '(?P<source>[\w-]+)' source with (?P<engine>.+?)\.?\s*$")
_SCHEMA_LINE = re.compile(r"^\s*(?P<path>/\S+)\s*\|\s*schema validation:\s*(?P<result>\w+)")
_LOADING_RULES = re.compile(r"Loading rules from:?\s*$")
_ERROR = re.compile(r"(?:\bError\b|\bLOAD_ERR_\w+|schema validation:\s*failed|Runtime error)", re.IGNORECASE)
_WARNING = re.compile(r"\bLOAD_(?!ERR_)\w+|\bWarning\b", re.IGNORECASE)
#: The two log-line prefixes: Falco's default and ``time_format_iso_8601: true``.
_PREFIX = re.compile(
    r"^(?:\w{3} \w{3} +\d+ [\d:]+ \d{4}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?): "
)


@dataclass(slots=True)
class FalcoLogStatus:
    """What a Falco pod's log says about its start (empty when the start-up lines are gone)."""

    engine: str | None = None
    rules_files: dict[str, str] = field(default_factory=dict)
    config_files: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    alerts: int = 0

    @property
    def modern_ebpf(self) -> bool:
        return self.engine is not None and "modern" in self.engine.lower()

    @property
    def saw_startup(self) -> bool:
        """True when the log still holds the start-up lines (engine or rules files)."""
        return self.engine is not None or bool(self.rules_files)

    @property
    def rules_ok(self) -> bool:
        return (
            bool(self.rules_files) and all(r == "ok" for r in self.rules_files.values()) and not self.errors
        )

    def missing_rules(self, expected: Iterable[str]) -> list[str]:
        """The ``expected`` rules files (paths) that the log does not list as loaded."""
        return [path for path in expected if path not in self.rules_files]


def analyse_falco_log(text: str) -> FalcoLogStatus:
    """Scan a Falco container log (start-up lines and alerts)."""
    status = FalcoLogStatus()
    in_rules = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("{"):
            status.alerts += 1
            in_rules = False
            continue
        message = _PREFIX.sub("", line)
        if _LOADING_RULES.search(message):
            in_rules = True
            continue
        if match := _SCHEMA_LINE.match(message):
            target = status.rules_files if in_rules else status.config_files
            target[match["path"]] = match["result"]
            if match["result"] != "ok":
                status.errors.append(message)
            continue
        in_rules = False
        if (match := _ENGINE.search(message)) and match["source"] == "syscall":
            status.engine = match["engine"]
        elif _ERROR.search(message):
            status.errors.append(message)
        elif _WARNING.search(message):
            status.warnings.append(message)
    return status
