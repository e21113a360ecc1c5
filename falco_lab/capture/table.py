"""The scap event table: event id → name, direction, flags and parameters.

The table is libs' ``driver/event_table.c`` carried as generated data
(``data/event_table.json``, made by ``tools/gen_event_table.py`` from
``../shared/upstream/event_table.json``).  A capture's event header names its event by id;
old captures use ids whose entries carry ``EF_OLD_VERSION``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["EventInfo", "ParamInfo", "event_table", "syscall_names"]


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """One parameter of an event: its name, ``PT_*`` type and ``PF_*`` print format."""

    name: str
    type: str
    fmt: str


@dataclass(frozen=True, slots=True)
class EventInfo:
    """One entry of the event table.

    ``direction`` is ``"enter"`` or ``"exit"``; ``large_payload`` means the parameter lengths
    are 32-bit (``EF_LARGE_PAYLOAD``), otherwise 16-bit.
    """

    id: int
    code: str
    name: str
    direction: str
    flags: frozenset[str]
    params: tuple[ParamInfo, ...]

    @property
    def large_payload(self) -> bool:
        return "EF_LARGE_PAYLOAD" in self.flags

    @property
    def is_enter(self) -> bool:
        return self.direction == "enter"


@cache
def event_table() -> tuple[EventInfo, ...]:
    """The event table, indexed by event id (``event_table()[id]``)."""
    text = resources.files("falco_lab.capture").joinpath("data/event_table.json").read_text(encoding="utf-8")
    rows = json.loads(text)["events"]
    table = tuple(
        EventInfo(
            id=row[0],
            code=row[1],
            name=row[2],
            direction=row[3],
            flags=frozenset(row[4]),
            params=tuple(ParamInfo(*param) for param in row[5]),
        )
        for row in rows
    )
    for index, info in enumerate(table):
        if info.id != index:  # pragma: no cover - the generator guarantees it
            raise ValueError(f"event table row {index} has id {info.id}")
    return table


@cache
def syscall_names() -> tuple[str, ...]:
    """Syscall names by the ``PPM_SC_*`` code old drivers wrote into generic (``syscall``)
    events' ``ID`` parameter (``data/ppm_sc_codes.json``)."""
    text = resources.files("falco_lab.capture").joinpath("data/ppm_sc_codes.json").read_text(encoding="utf-8")
    return tuple(json.loads(text)["names"])
