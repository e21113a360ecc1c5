"""Output formatting (§8) and the Falco 0.44 JSON alert (deploy-eks §4)."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from falco_lab.rules.errors import RuleError
from falco_lab.rules.output.format import (
    SUGGESTED_FIELDS,
    alert_json,
    compile_output,
    event_time_ns,
    falco_alert,
    format_time,
    sidekick_enrich,
)
from tests.conftest import shared_file

T0 = 1_752_174_627_171_732_939  # 2025-07-10T19:10:27.171732939Z


def _alert(output: str = "A shell %proc.name", event=None, **kwargs):
    event = {"evt.time": T0, "proc.name": "bash"} if event is None else event
    params = {"rule": "R", "priority": "Warning", "tags": ["b", "a"], "hostname": "node-1"} | kwargs
    return falco_alert(output=compile_output(output), event=event, **params)


def test_tokens_keep_arguments_and_dotted_forms() -> None:
    fmt = compile_output("p=%proc.aname[2] f=%evt.arg.flags l=%k8s.pod.label[app]")
    assert fmt.fields == ("proc.aname[2]", "evt.arg.flags", "k8s.pod.label[app]")


def test_trailing_characters_after_a_field_stay_literal() -> None:
    fmt = compile_output("(%proc.name) at %fd.name.")
    assert fmt.render({"proc.name": "cat", "fd.name": "/etc/passwd"}) == "(cat) at /etc/passwd."


def test_missing_values_print_na() -> None:
    fmt = compile_output("An open was seen (cport=%fd.cport command=%proc.cmdline)")
    assert (
        fmt.render({"proc.cmdline": "cat /dev/null"}) == "An open was seen (cport=<NA> command=cat /dev/null)"
    )


def test_width_pads_and_truncates() -> None:
    fmt = compile_output("[%5proc.name]")
    assert fmt.render({"proc.name": "sh"}) == "[sh   ]"
    assert fmt.render({"proc.name": "systemd"}) == "[syste]"


def test_ancestors_without_argument_are_joined_by_spaces() -> None:
    assert (
        compile_output("%proc.aname").render({"proc.aname": ["bash", "sshd", "systemd"]})
        == "bash sshd systemd"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ends with %", "formatting cannot end with a %"),
        ("x %not_a_real_field y", "unknown filter: not_a_real_field"),
        ("net %fd.net", "fd.net is filter only and cannot be used as a display field"),
    ],
)
def test_invalid_formats_are_compile_output_errors(text: str, message: str) -> None:
    with pytest.raises(RuleError) as info:
        compile_output(text)
    assert (info.value.code, info.value.message) == ("LOAD_ERR_COMPILE_OUTPUT", message)


def test_alert_keys_are_sorted_like_falco() -> None:
    assert list(_alert()) == [
        "hostname",
        "output",
        "output_fields",
        "priority",
        "rule",
        "source",
        "tags",
        "time",
    ]


def test_time_has_nine_fractional_digits_and_z() -> None:
    alert = _alert()
    assert alert["time"] == "2025-07-10T19:10:27.171732939Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", _alert(event={"evt.time": 10**18})["time"])


def test_output_has_clock_and_priority_prefix_then_suggested_fields() -> None:
    alert = _alert(event={"evt.time": T0, "proc.name": "bash", "container.id": "ee97d9c4186f"})
    assert alert["output"] == (
        "19:10:27.171732939: Warning A shell bash container_id=ee97d9c4186f container_name=<NA> "
        "container_image_repository=<NA> container_image_tag=<NA> k8s_pod_name=<NA> k8s_ns_name=<NA>"
    )


def test_output_fields_hold_evt_time_and_the_six_suggested_fields() -> None:
    fields = _alert()["output_fields"]
    assert fields["evt.time"] == T0
    assert {f for _, f in SUGGESTED_FIELDS} <= set(fields)
    assert list(fields) == sorted(fields)
    assert fields["container.id"] is None


def test_suggested_fields_can_be_left_out() -> None:
    alert = _alert(suggested_fields=False)
    assert set(alert["output_fields"]) == {"proc.name", "evt.time"}
    assert alert["output"].endswith("A shell bash")


def test_numbers_stay_numbers_even_when_given_as_text() -> None:
    fields = _alert(
        "tty=%proc.tty uid=%user.uid", event={"evt.time": T0, "proc.tty": "34816", "user.uid": 0}
    )["output_fields"]
    assert (fields["proc.tty"], fields["user.uid"]) == (34816, 0)


def test_tags_are_sorted_and_priority_is_the_long_name() -> None:
    alert = _alert(priority="Informational")
    assert alert["tags"] == ["a", "b"]
    assert " Informational " in alert["output"]


def test_message_property_is_optional() -> None:
    assert "message" not in _alert()
    assert _alert(include_message=True)["message"].startswith("A shell bash container_id=")


def test_alert_json_is_compact_and_sorted() -> None:
    text = alert_json(_alert())
    assert text.startswith('{"hostname":"node-1","output":')
    assert json.loads(text) == _alert()


def test_key_set_matches_the_published_example() -> None:
    path = shared_file("upstream/falco_events_examples.jsonl")
    example = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert set(example) == set(_alert())
    assert isinstance(example["output_fields"]["evt.time"], int)
    assert type(example["output_fields"]["proc.tty"]) is type(
        _alert("%proc.tty", {"proc.tty": 1})["output_fields"]["proc.tty"]
    )


def test_sidekick_enrichment_adds_a_uuid4() -> None:
    enriched = sidekick_enrich(_alert(source=""))
    assert uuid.UUID(enriched["uuid"]).version == 4
    assert enriched["source"] == "syscalls"
    assert list(enriched) == sorted(enriched)


@pytest.mark.parametrize(
    "value",
    [T0, str(T0), "2025-07-10T19:10:27.171732939Z"],
)
def test_event_time_forms(value) -> None:
    assert event_time_ns(value) == T0


def test_format_time_pairs_iso_and_clock() -> None:
    assert format_time(T0) == ("2025-07-10T19:10:27.171732939Z", "19:10:27.171732939")


def test_transformers_work_in_output() -> None:
    fmt = compile_output("name=%tolower(proc.name) n=%len(proc.name)")
    assert fmt.fields == ("tolower(proc.name)", "len(proc.name)")
    assert fmt.render({"proc.name": "BaSh"}) == "name=bash n=4"
    assert fmt.values({"proc.name": "BaSh"}) == {"tolower(proc.name)": "bash", "len(proc.name)": 4}
    assert fmt.render({}) == "name=<NA> n=<NA>"


def test_invalid_transformer_in_output_is_a_compile_output_error() -> None:
    with pytest.raises(RuleError) as info:
        compile_output("%toupper(proc.pid)")
    assert info.value.code == "LOAD_ERR_COMPILE_OUTPUT"


def test_a_leading_star_is_falcos_marker_not_text() -> None:
    assert compile_output("*shell %proc.name").render({}) == "shell <NA>"


def test_plugin_sources_get_no_container_fields() -> None:
    alert = falco_alert(
        rule="R",
        priority="Notice",
        output=compile_output("verb=%ka.verb", "k8s_audit"),
        event={"evt.time": T0, "ka.verb": "get"},
        source="k8s_audit",
        hostname="h",
    )
    assert alert["output"] == "19:10:27.171732939: Notice verb=get"
    assert alert["output_fields"] == {"evt.time": T0, "ka.verb": "get"}
