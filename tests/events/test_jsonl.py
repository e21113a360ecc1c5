"""The JSON-lines loader: sources, typing, and every kind of bad line."""

from __future__ import annotations

import gzip
import io
import sys

import orjson
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from falco_lab.events import BASE_COLUMNS, BadRecordsWarning, LoadError, load_events, load_report
from falco_lab.events.jsonl import fast_frame, read_jsonl_bytes
from falco_lab.priorities import PRIORITY_DTYPE
from tests.events.helpers import BASE_NS, REMOVE, alert, jsonl


def load_bytes(data: bytes, **options: object) -> pd.DataFrame:
    return load_events(io.BytesIO(data), warn=False, **options)


def problems(frame: pd.DataFrame) -> list[tuple[int | None, str]]:
    return [(p.line, p.reason) for p in load_report(frame).problems]


# -- clean input -------------------------------------------------------------------------


def test_clean_file_gives_one_row_per_alert_in_canonical_column_order(tmp_path):
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(jsonl([alert(i) for i in range(5)]))
    frame = load_events(path)
    assert len(frame) == 5
    assert tuple(frame.columns[: len(BASE_COLUMNS)]) == BASE_COLUMNS
    assert list(frame.columns[len(BASE_COLUMNS) :]) == [
        "container.id",
        "evt.time",
        "k8s.ns.name",
        "k8s.pod.name",
        "proc.aname[2]",
        "proc.cmdline",
        "proc.pid",
        "proc.tty",
    ]
    assert load_report(frame).ok


def test_canonical_dtypes():
    frame = load_bytes(jsonl([alert(i) for i in range(3)]))
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    assert frame["priority"].dtype == PRIORITY_DTYPE
    assert frame["rule"].dtype == "string"
    assert frame["proc.pid"].dtype == "Int64"
    assert frame["proc.cmdline"].dtype == "string"
    assert frame["tags"].map(type).eq(list).all()


def test_time_keeps_all_nine_fractional_digits():
    frame = load_bytes(jsonl([alert(0)]))
    assert frame["time"].iloc[0].value == BASE_NS


def test_time_falls_back_to_evt_time_in_ns():
    frame = load_bytes(jsonl([alert(0, time=REMOVE)]))
    assert frame["time"].iloc[0].value == BASE_NS
    assert load_report(frame).ok


def test_priorities_in_any_case_and_info_are_normalised():
    lines = [alert(0, priority="INFO"), alert(1, priority="warning"), alert(2, priority="Critical")]
    frame = load_bytes(jsonl(lines))
    assert frame["priority"].tolist() == ["Informational", "Warning", "Critical"]
    assert (frame["priority"] >= "Warning").tolist() == [False, True, True]


def test_null_then_int_field_stays_integer():
    lines = [alert(i) for i in range(6)]
    for i, event in enumerate(lines):
        event["output_fields"]["proc.vpid"] = None if i < 3 else 100 + i
    frame = load_bytes(jsonl(lines))
    assert frame["proc.vpid"].dtype == "Int64"
    assert frame["proc.vpid"].isna().tolist() == [True] * 3 + [False] * 3
    assert frame["proc.vpid"].iloc[5] == 105


def test_field_only_in_the_last_line_is_kept():
    lines = [alert(i) for i in range(4)]
    lines[-1]["output_fields"]["custom.late"] = "late value"
    frame = load_bytes(jsonl(lines))
    assert frame["custom.late"].tolist()[-1] == "late value"
    assert frame["custom.late"].isna().sum() == 3


def test_missing_optional_keys_become_na_and_empty_tags():
    frame = load_bytes(
        jsonl([alert(0, source=REMOVE, hostname=REMOVE, tags=REMOVE, uuid=REMOVE, output=REMOVE)])
    )
    assert frame[["source", "hostname", "uuid", "output"]].isna().all(axis=None)
    assert frame["tags"].iloc[0] == []


def test_integer_beyond_int64_is_kept_exactly():
    frame = load_bytes(jsonl([alert(0, output_fields={"fd.ino": 18446744073709551615, "evt.time": BASE_NS})]))
    assert frame["fd.ino"].iloc[0] == 18446744073709551615


def test_field_with_mixed_types_keeps_every_value():
    lines = [alert(0), alert(1)]
    lines[0]["output_fields"]["odd.field"] = 5
    lines[1]["output_fields"]["odd.field"] = "five"
    frame = load_bytes(jsonl(lines))
    assert frame["odd.field"].tolist() == [5, "five"]
    assert load_report(frame).ok


def test_field_named_like_a_base_column_is_prefixed():
    frame = load_bytes(jsonl([alert(0, output_fields={"rule": "x", "evt.time": BASE_NS})]))
    assert frame["output_fields.rule"].tolist() == ["x"]
    assert frame["rule"].tolist() == ["Terminal shell in container"]


def test_empty_input_gives_empty_canonical_frame():
    frame = load_bytes(b"")
    assert frame.empty
    assert tuple(frame.columns) == BASE_COLUMNS
    assert frame["priority"].dtype == PRIORITY_DTYPE


def test_rows_are_sorted_by_time():
    frame = load_bytes(jsonl([alert(2), alert(0), alert(1)]))
    assert frame["uuid"].str[-1].tolist() == ["0", "1", "2"]


def test_since_keeps_recent_events_only():
    old = alert(0, time="2020-01-01T00:00:00.000000000Z")
    recent = alert(1, time=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.000000000Z"))
    frame = load_bytes(jsonl([old, recent]), since="24h")
    assert frame["uuid"].tolist() == [recent["uuid"]]


# -- sources -------------------------------------------------------------------------------


def test_gzip_file(tmp_path):
    path = tmp_path / "alerts.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl([alert(i) for i in range(3)])))
    assert len(load_events(path)) == 3


def test_directory_reads_event_files_recursively_in_name_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a.jsonl").write_bytes(jsonl([alert(0)]))
    (tmp_path / "b" / "c.json.gz").write_bytes(gzip.compress(jsonl([alert(1)])))
    (tmp_path / "notes.txt").write_text("not events")
    (tmp_path / ".hidden.jsonl").write_text("garbage")
    frame = load_events(tmp_path)
    assert len(frame) == 2
    assert [s.rsplit("/", 2)[-1] for s in load_report(frame).sources] == ["a.jsonl", "c.json.gz"]


def test_stdin_dash(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(jsonl([alert(0), alert(1)]))))
    frame = load_events("-")
    assert len(frame) == 2
    assert load_report(frame).sources == ("<stdin>",)


def test_open_text_file(tmp_path):
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(jsonl([alert(0)]))
    with path.open(encoding="utf-8") as handle:
        frame = load_events(handle)
    assert frame["rule"].tolist() == ["Terminal shell in container"]


def test_json_array_document(tmp_path):
    path = tmp_path / "export.json"
    path.write_bytes(orjson.dumps([alert(0), alert(1)], option=orjson.OPT_INDENT_2))
    assert len(load_events(path)) == 2


def test_several_sources_are_concatenated(tmp_path):
    (tmp_path / "one.jsonl").write_bytes(jsonl([alert(0)]))
    (tmp_path / "two.jsonl").write_bytes(jsonl([alert(1, output_fields={"fd.name": "/etc/shadow"})]))
    frame = load_events(tmp_path / "one.jsonl", tmp_path / "two.jsonl")
    assert len(frame) == 2
    assert frame["fd.name"].isna().tolist() == [True, False]
    assert frame["proc.pid"].dtype == "Int64"


def test_missing_file_raises_load_error_naming_it(tmp_path):
    with pytest.raises(LoadError, match="nope.jsonl"):
        load_events(tmp_path / "nope.jsonl")


# -- bad lines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        (orjson.dumps(alert(9))[:80], "truncated JSON"),
        (b"this is not json", "invalid JSON"),
        (b"[1, 2, 3]", "JSON array is not an object"),
        (b'"a string"', "JSON string is not an object"),
        (b"null", "JSON null is not an object"),
        (orjson.dumps(alert(9, rule=REMOVE)), "missing required key 'rule'"),
        (orjson.dumps(alert(9, priority=REMOVE)), "missing required key 'priority'"),
        (orjson.dumps(alert(9, time=REMOVE, output_fields={})), "missing required key 'time'"),
        (orjson.dumps(alert(9, priority=3)), "key 'priority' must be a string, got number"),
        (orjson.dumps(alert(9, priority="Severe")), "unknown priority 'Severe'"),
        (orjson.dumps(alert(9, tags="shell")), "key 'tags' must be a list of strings"),
        (orjson.dumps(alert(9, output_fields=[1])), "key 'output_fields' must be an object, got array"),
        (orjson.dumps(alert(9, hostname=7)), "key 'hostname' must be a string, got number"),
        (orjson.dumps(alert(9, time="yesterday", output_fields={})), "invalid time 'yesterday'"),
        (orjson.dumps(alert(9)).replace(b"bash", b"ba\xffsh", 1), "invalid UTF-8"),
        (orjson.dumps(alert(9)) + orjson.dumps(alert(10)), "invalid JSON"),
    ],
)
def test_bad_line_is_reported_and_good_lines_kept(bad_line, reason):
    data = jsonl([alert(0)]) + bad_line + b"\n" + jsonl([alert(1)])
    frame = load_bytes(data)
    assert frame["uuid"].tolist() == [alert(0)["uuid"], alert(1)["uuid"]]
    [(line, text)] = problems(frame)
    assert line == 2
    assert text.startswith(reason)


def test_object_split_over_two_lines_is_two_bad_lines():
    data = jsonl([alert(0)]) + b'{"rule": "x",\n"priority": "Notice"}\n' + jsonl([alert(1)])
    frame = load_bytes(data)
    assert len(frame) == 2
    assert [line for line, _ in problems(frame)] == [2, 3]


def test_overlong_line_is_rejected_without_parsing():
    long_line = orjson.dumps(alert(5, output="x" * 5000))
    frame = load_bytes(jsonl([alert(0)]) + long_line + b"\n", max_line_bytes=4096)
    assert len(frame) == 1
    [(line, text)] = problems(frame)
    assert line == 2
    assert text == f"line too long: {len(long_line)} bytes (max_line_bytes=4096)"


def test_blank_and_crlf_lines_are_skipped_not_reported():
    data = b"\r\n" + jsonl([alert(0)]).replace(b"\n", b"\r\n") + b"\n   \n" + jsonl([alert(1)]) + b"\n\n"
    frame = load_bytes(data)
    assert len(frame) == 2
    assert load_report(frame).ok
    assert load_report(frame).skipped == 5  # lines 1, 3, 4, 6 and 7


def test_line_numbers_are_exact_far_into_a_large_file():
    lines = [orjson.dumps(alert(i)) for i in range(5000)]
    lines[4321] = b"{broken"
    frame = load_bytes(b"\n".join(lines) + b"\n")
    assert len(frame) == 4999
    assert [line for line, _ in problems(frame)] == [4322]


def test_fast_and_careful_paths_build_identical_frames():
    lines = [alert(i) for i in range(50)]
    for i, event in enumerate(lines):
        event["output_fields"]["proc.vpid"] = None if i < 25 else i
    clean = jsonl(lines)
    fast = fast_frame(clean, len(clean) - 1, 1 << 20)
    assert fast is not None
    careful = read_jsonl_bytes(clean + b"not json\n", "x").frame
    assert_frame_equal(careful, fast)


def test_summary_warning_names_file_line_and_reason(tmp_path):
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(jsonl([alert(0)]) + b"{oops\n")
    with pytest.warns(BadRecordsWarning, match=r"rejected 1 bad record.*alerts.jsonl:2: invalid JSON"):
        load_events(path)


def test_strict_raises_with_the_report():
    with pytest.raises(LoadError) as caught:
        load_events(io.BytesIO(jsonl([alert(0)]) + b"{oops\n"), strict=True)
    assert caught.value.report.bad_records == 1
    assert caught.value.report.problems[0].line == 2


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="colour"):
        load_events(io.BytesIO(b""), colour="red")


def test_null_then_int_field_stays_integer_on_the_careful_path_of_a_large_file():
    lines = [alert(i) for i in range(5000)]
    for i, event in enumerate(lines):
        event["output_fields"]["proc.vpid"] = None if i < 2500 else i
    frame = load_bytes(jsonl(lines) + b"{bad\n")
    assert len(frame) == 5000
    assert frame["proc.vpid"].dtype == "Int64"
    assert frame["proc.vpid"].notna().sum() == 2500
    assert [line for line, _ in problems(frame)] == [5001]


def test_tiny_max_line_bytes_is_refused():
    with pytest.raises(ValueError, match="at least 1024"):
        load_bytes(jsonl([alert(0)]), max_line_bytes=100)


def test_object_and_list_field_values_are_kept_as_decoded():
    lines = [alert(0), alert(1)]
    lines[0]["output_fields"]["ka.req.obj"] = {"b": 1}
    lines[1]["output_fields"]["ka.req.obj"] = {"c": [1, None]}
    lines[0]["output_fields"]["ka.images"] = ["nginx", None]
    frame = load_bytes(jsonl(lines))
    assert frame["ka.req.obj"].tolist() == [{"b": 1}, {"c": [1, None]}]
    assert frame["ka.images"].tolist() == [["nginx", None], None]


@pytest.fixture
def always_mmap(monkeypatch):
    import falco_lab.events.load as load_module

    monkeypatch.setattr(load_module, "MMAP_MIN_BYTES", 1)


@pytest.mark.parametrize(
    ("content", "events", "bad_lines"),
    [
        (jsonl([alert(0), alert(1)]), 2, []),
        (jsonl([alert(0)]) + b"{bad\n\n" + jsonl([alert(1)]), 2, [2]),
        (orjson.dumps([alert(0), alert(1)]), 2, []),
        (orjson.dumps(alert(0), option=orjson.OPT_INDENT_2), 1, []),
        (b"\n\n", 0, []),
    ],
    ids=["clean", "bad-line", "json-array", "pretty-printed", "blank"],
)
def test_memory_mapped_files_load_like_read_ones(tmp_path, always_mmap, content, events, bad_lines):
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(content)
    frame = load_events(path, warn=False)
    assert len(frame) == events
    assert [p.line for p in load_report(frame).problems] == bad_lines


def test_large_file_on_the_memory_mapped_path(tmp_path):
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(jsonl([alert(i) for i in range(3000)]))
    assert path.stat().st_size > 1 << 20
    assert len(load_events(path)) == 3000


def test_null_output_fields_gives_na_fields_for_that_row():
    frame = load_bytes(jsonl([alert(0), alert(1, output_fields=None)]))
    assert frame["proc.pid"].isna().tolist() == [False, True]
    assert load_report(frame).ok


@pytest.mark.parametrize("tags", [[""], ["a\x1fb"], [], ["x", "x"]])
def test_unusual_tag_lists_are_kept_exactly(tags):
    frame = load_bytes(jsonl([alert(0, tags=tags), alert(1), alert(2, tags=None)]))
    assert frame["tags"].tolist() == [tags, alert(1)["tags"], []]


@pytest.mark.parametrize("parts", [1, 3])
def test_many_arrow_blocks_and_parallel_parts_give_the_same_frame(monkeypatch, parts):
    import falco_lab.events.jsonl as jsonl_module

    lines = [alert(i) for i in range(300)]
    for i, event in enumerate(lines):
        event["output_fields"]["proc.vpid"] = None if i < 150 else i
    lines[7]["output_fields"] = None
    lines[-1]["output_fields"]["custom.late"] = 1.5
    data = jsonl(lines)
    monkeypatch.setattr(jsonl_module, "PARALLEL_PARTS", parts)
    small_blocks = fast_frame(data, len(data) - 1, 4096)  # ~60 blocks of 2 KiB
    monkeypatch.setattr(jsonl_module, "PARALLEL_PARTS", 1)
    one_block = fast_frame(data, len(data) - 1, 1 << 22)
    assert small_blocks is not None and one_block is not None
    assert_frame_equal(small_blocks, one_block)
    assert small_blocks["proc.vpid"].dtype == "Int64"
    assert list(small_blocks.columns) == list(one_block.columns)


def test_field_typed_differently_in_two_parallel_parts_still_loads(monkeypatch):
    import falco_lab.events.jsonl as jsonl_module

    monkeypatch.setattr(jsonl_module, "PARALLEL_PARTS", 2)
    lines = [alert(i) for i in range(40)]
    for i, event in enumerate(lines):
        event["output_fields"]["odd"] = i if i < 20 else f"text {i}"
    frame = load_bytes(jsonl(lines))
    assert frame["odd"].tolist() == list(range(20)) + [f"text {i}" for i in range(20, 40)]
    assert load_report(frame).ok


def test_non_ascii_utf8_values_take_the_fast_path_intact():
    data = jsonl([alert(0, output_fields={"proc.cmdline": "cat /tmp/café-日本", "evt.time": BASE_NS})])
    frame = fast_frame(data, len(data) - 1, 1 << 20)
    assert frame is not None
    assert frame["proc.cmdline"].tolist() == ["cat /tmp/café-日本"]


def test_invalid_utf8_in_a_field_name_is_a_bad_line_not_a_crash():
    good = jsonl([alert(0), alert(2)]).split(b"\n")
    bad = orjson.dumps(alert(1)).replace(b'"proc.pid"', b'"proc.\xffpid"')
    frame = load_bytes(b"\n".join([good[0], bad, good[1]]) + b"\n")
    assert len(frame) == 2
    assert [line for line, _ in problems(frame)] == [2]


def test_mapped_parts_released_after_parsing_are_read_again_by_the_careful_path(tmp_path, monkeypatch):
    import falco_lab.events.jsonl as jsonl_module
    import falco_lab.events.load as load_module

    monkeypatch.setattr(load_module, "MMAP_MIN_BYTES", 1)
    monkeypatch.setattr(jsonl_module, "PARALLEL_PARTS", 3)
    released: list[tuple[int, int]] = []
    release = jsonl_module._release
    monkeypatch.setattr(jsonl_module, "_release", lambda d, s, e: (released.append((s, e)), release(d, s, e)))
    lines = [orjson.dumps(alert(i)) for i in range(3000)]
    lines[2900] = b'{"rule": broken'  # starts like an object: only Arrow finds it, in the last part
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    frame = load_events(path, warn=False)
    assert len(released) >= 2  # the clean parts gave their pages back before the fallback
    assert len(frame) == 2999
    assert frame["proc.cmdline"].iloc[-1] == "bash -c echo 2999"
    assert [line for line, _ in problems(frame)] == [2901]


def test_parts_typing_a_field_int_and_float_give_one_float_column(monkeypatch):
    import falco_lab.events.jsonl as jsonl_module

    monkeypatch.setattr(jsonl_module, "PARALLEL_PARTS", 2)
    lines = [alert(i) for i in range(40)]
    for i, event in enumerate(lines):
        event["output_fields"]["ratio"] = i if i < 20 else i + 0.5
    data = jsonl(lines)
    frame = fast_frame(data, len(data) - 1, 1 << 20)
    assert frame is not None
    assert frame["ratio"].dtype == "Float64"
    assert frame["ratio"].tolist() == [float(i) for i in range(20)] + [i + 0.5 for i in range(20, 40)]
