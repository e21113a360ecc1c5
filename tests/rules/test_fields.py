"""The shipped field catalogue and field lookup."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from falco_lab.rules.errors import RuleError
from falco_lab.rules.fields import EVENT_TYPES, FIELDS, lookup, parse_field_token, resolve
from tests.conftest import ROOT, shared_file


def _generator():
    spec = importlib.util.spec_from_file_location("gen_catalogue", ROOT / "tools" / "gen_catalogue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_catalogue_matches_upstream() -> None:
    upstream = shared_file("upstream/fields.json")
    generated = _generator().generate(upstream.parents[1])
    data = ROOT / "falco_lab" / "rules" / "data"
    assert (data / "fields.json").read_text(encoding="utf-8") == generated["fields.json"]
    assert (data / "evttypes.json").read_text(encoding="utf-8") == generated["evttypes.json"]


def test_catalogue_has_no_descriptions() -> None:
    data = json.loads((Path(ROOT) / "falco_lab" / "rules" / "data" / "fields.json").read_text())
    assert all("desc" not in item for item in data)


def test_lookup_known_field() -> None:
    info = lookup("proc.name")
    assert (info.type, info.kind, info.is_list) == ("CHARBUF", "string", False)


def test_unknown_field_message() -> None:
    with pytest.raises(RuleError) as info:
        lookup("proc.nme")
    assert info.value.message == "filter_check called with nonexistent field proc.nme"
    assert info.value.code == "LOAD_ERR_COMPILE_CONDITION"


def test_field_of_another_source_is_unknown() -> None:
    with pytest.raises(RuleError, match="nonexistent field ka.verb"):
        lookup("ka.verb", source="syscall")


def test_generic_evt_field_works_for_every_source() -> None:
    assert lookup("evt.time", source="k8s_audit").name == "evt.time"


def test_dotted_event_argument() -> None:
    info, arg = resolve("evt.arg.flags")
    assert (info.name, arg) == ("evt.arg", "flags")


def test_rawarg_with_index_is_rejected() -> None:
    with pytest.raises(RuleError, match="evt.arg fields must be expressed explicitly"):
        resolve("evt.rawarg", "0")


def test_argument_to_field_without_arguments() -> None:
    with pytest.raises(RuleError, match="does not support arguments"):
        resolve("proc.name", "1")


def test_required_argument_missing() -> None:
    with pytest.raises(RuleError, match="requires an argument"):
        resolve("k8s.pod.label")


def test_index_argument_must_be_a_number() -> None:
    with pytest.raises(RuleError, match="wrong index"):
        resolve("ka.req.pod.containers.image", "x", "k8s_audit")


def test_legacy_fields_are_not_current_fields() -> None:
    assert FIELDS["span.tag"].legacy
    with pytest.raises(RuleError):
        lookup("span.tag", "x")


def test_event_types_include_syscalls_and_events() -> None:
    assert {"execve", "openat", "container"} <= EVENT_TYPES
    assert "some_invalid_event" not in EVENT_TYPES


def test_output_token_stops_at_punctuation() -> None:
    token = parse_field_token("%proc.name)", 1)
    assert (token.name, token.end) == ("proc.name", 10)


def test_output_token_with_argument() -> None:
    token = parse_field_token("x=%proc.aname[2] y", 3)
    assert (token.key, token.end) == ("proc.aname[2]", 16)


def test_output_token_shrinks_to_a_known_field() -> None:
    token = parse_field_token("%fd.name.foo", 1)
    assert (token.name, token.end) == ("fd.name", 8)


def test_output_token_unknown() -> None:
    assert parse_field_token("%not_a_real_field", 1) is None
