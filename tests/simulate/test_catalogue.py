"""Every field the simulator emits exists in Falco's field catalogue, with a value of its type."""

from __future__ import annotations

import ipaddress

import pytest

from falco_lab.rules.errors import RuleError
from falco_lab.rules.fields import resolve
from falco_lab.simulate import Simulator, build_world, incidents
from falco_lab.simulate import workloads as wl

START = 1_795_420_800_000_000_000
HOUR = 3_600_000_000_000


@pytest.fixture(scope="module")
def records() -> list[dict]:
    """Background, the workshop tests and the post-exploitation chain on two nodes."""
    world = build_world(2, seed=5)
    sim = Simulator(world, seed=5, start_ns=START - HOUR)
    fleet = wl.deploy_fleet(sim, region=world.region)
    sim.now = START
    schedule = wl.background(sim, fleet, start_ns=START, hours=1)
    schedule.add(START + HOUR // 3, lambda s, t: incidents.workshop_tests(s, at=t))
    schedule.add(START + HOUR // 2, lambda s, t: incidents.post_exploitation(s, fleet, at=t))
    schedule.run(sim)
    return list(sim.log.records())


def _split(key: str) -> tuple[str, str | None]:
    if key.endswith("]") and "[" in key:
        name, arg = key[:-1].split("[", 1)
        return name, arg
    return key, None


def _matches(kind: str, value: object) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind in ("int", "uint"):
        return isinstance(value, int) and not isinstance(value, bool) and (kind == "int" or value >= 0)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "ipaddr":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return False
        return True
    return False


def test_the_sample_covers_every_kind_of_event(records) -> None:
    types = {r["evt.type"] for r in records}
    assert {"execve", "openat", "connect", "dup2", "procexit", "asyncevent", "fchmodat"} <= types


def test_every_emitted_field_is_in_the_catalogue(records) -> None:
    unknown = {}
    for key in {k for r in records for k in r}:
        name, arg = _split(key)
        try:
            resolve(name, arg)
        except RuleError as exc:
            unknown[key] = str(exc)
    assert not unknown


def test_every_value_has_its_fields_type(records) -> None:
    wrong: dict[str, object] = {}
    for record in records:
        for key, value in record.items():
            name, arg = _split(key)
            info = resolve(name, arg)[0]
            if key == "evt.time":
                # Declared exception: the catalogue's evt.time is text; events carry it as integer ns,
                # the form the rules engine reads alert times from and Falco's output_fields print.
                ok = isinstance(value, int) and value == record["evt.rawtime"]
            elif info.name == "proc.aname" and arg is None:
                # proc.aname without index: every ancestor's name (the engine's "any ancestor" form).
                ok = isinstance(value, tuple) and all(isinstance(v, str) for v in value)
            else:
                ok = _matches(info.kind, value)
            if not ok:
                wrong.setdefault(key, value)
    assert not wrong


def test_event_types_are_known_to_falco(records) -> None:
    from falco_lab.rules.fields import EVENT_TYPES

    assert {r["evt.type"] for r in records} <= set(EVENT_TYPES)
