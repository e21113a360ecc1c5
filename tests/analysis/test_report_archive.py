"""The report over a Parquet archive out of core agrees with the in-memory report of the same alerts."""

from __future__ import annotations

from pathlib import Path

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from falco_lab.analysis import build_report, top_n
from falco_lab.analysis.chains import ROUTINE_ATTR, attack_chains, routine_mask
from falco_lab.analysis.drilldown import drilldown_figure, drilldown_figure_from_table, drilldown_table
from falco_lab.analysis.fields import column, filter_alerts
from falco_lab.analysis.noise import output_template
from falco_lab.analysis.report.archive import is_archive_input, open_archive, template_sql
from falco_lab.analysis.timeline import bin_alerts, timeline_figure, timeline_figure_from_bins
from falco_lab.cli import main as cli_main
from falco_lab.events import to_parquet
from falco_lab.events.archive import archive_events
from falco_lab.events.load_diagnostics import LoadError
from falco_lab.priorities import PRIORITY_DTYPE
from tests.analysis.frames import alerts
from tests.analysis.incidents import incident


def _noise(n: int = 60) -> pd.DataFrame:
    """Routine probe alerts: one rule in the 4 replicas of a Deployment, all day long."""
    return alerts(
        *(
            {
                "rule": "Probe runs a shell",
                "priority": "Notice",
                "k8s.ns.name": "shop",
                "k8s.pod.name": f"web-6b8f9c7d5-{'bcdfg'[i % 4]}xkz{i % 4}",
                "container.id": f"c{i % 4:011d}",
                "proc.name": "sh",
                "proc.cmdline": "sh -c healthcheck",
                "output": f"probe {i} pid={1000 + i}",
                "uuid": f"noise-{i}",
                "t": -3600 + i * 60,
            }
            for i in range(n)
        ),
        start=pd.Timestamp("2026-11-23T09:30:00Z"),
    )


@pytest.fixture(scope="module", params=[("project", 0), ("upstream", 1)], ids=["project-0", "upstream-1"])
def incident_archive(request, tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    """The simulated incident plus routine noise, in memory and archived (day/host Parquet)."""
    mode, seed = request.param
    df, _ = incident(seed, mode)
    frame = (
        pd.concat([df, _noise()], ignore_index=True).sort_values("time", kind="stable").reset_index(drop=True)
    )
    folder = tmp_path_factory.mktemp("archive")
    to_parquet(frame, folder / "in.parquet")
    archive_events([folder / "in.parquet"], folder / "arch")
    return frame, folder / "arch"


def test_summary_facts_agree_with_the_in_memory_frame(incident_archive):
    frame, path = incident_archive
    facts = open_archive([path]).facts()
    assert facts == {
        "alerts": len(frame),
        "first": frame["time"].min(),
        "last": frame["time"].max(),
        "rules": column(frame, "rule").nunique(),
        "namespaces": column(frame, "k8s.ns.name").nunique(),
        "pods": column(frame, "k8s.pod.name").nunique(),
        "containers": column(frame, "container.id").nunique(),
        "nodes": column(frame, "hostname").nunique(),
    }


def test_priority_counts_agree_with_the_in_memory_frame(incident_archive):
    frame, path = incident_archive
    expected = frame["priority"].astype(PRIORITY_DTYPE).value_counts()
    assert open_archive([path]).priority_counts() == {str(k): int(v) for k, v in expected.items() if v}


@pytest.mark.parametrize("by", ["rule", "pod", "workload"])
def test_top_tables_agree_with_top_n(incident_archive, by):
    frame, path = incident_archive
    ours = open_archive([path]).top(by, 10)
    theirs = top_n(frame, by, 10)
    columns = [by, "alerts", "rules", "first_seen", "last_seen"]
    key = [by]
    pd.testing.assert_frame_equal(
        ours[columns].sort_values(key).reset_index(drop=True),
        theirs[columns].sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
    assert ours["max_priority"].astype(str).tolist() == [
        str(theirs.set_index(by).at[k, "max_priority"]) for k in ours[by]
    ]


def test_first_attack_chain_is_the_same_pod_with_a_small_candidate_cap(incident_archive):
    frame, path = incident_archive
    every = len(open_archive([path]).candidates())
    archive = open_archive([path], max_rows=every - 5)
    candidates = archive.candidates()
    assert every < len(frame) and len(candidates) == every - 5 and archive.left_out == 5
    assert attack_chains(candidates)[0].where == attack_chains(frame)[0].where


def test_routine_flag_of_the_candidates_is_decided_over_all_alerts(incident_archive):
    frame, path = incident_archive
    candidates = open_archive([path]).candidates()
    truth = routine_mask(frame)
    by_uuid = pd.Series(truth.to_numpy(), index=frame["uuid"].astype(str))
    assert routine_mask(candidates).tolist() == by_uuid.loc[candidates["uuid"].astype(str)].tolist()


def test_routine_mask_uses_a_flag_given_in_attrs():
    df = alerts({"rule": "r"}, {"rule": "r"})
    df.attrs[ROUTINE_ATTR] = pd.Series([True, False], index=df.index)
    assert routine_mask(df).tolist() == [True, False]


def test_header_says_archive_and_rows_materialised(incident_archive):
    frame, path = incident_archive
    archive = open_archive([path])
    html = build_report(archive)
    assert "Built from a Parquet archive, out of core:" in html
    assert f"{len(frame):,} alerts" in html and f"{archive.materialised:,} rows were materialised" in html


def test_filters_run_in_sql_like_filter_alerts(incident_archive):
    frame, path = incident_archive
    kept = filter_alerts(frame, since="30m", min_priority="Warning", namespace=["shop"])
    archive = open_archive([path], since="30m", min_priority="Warning", namespace=["shop"])
    assert archive.total == len(kept)


def test_output_template_in_sql_matches_python():
    import duckdb

    outputs = [
        "10:00:01.478445995: Shell (pid=4242 container=ee97d9c4186f ip=10.0.0.1:443 id=6f1e2d3c-1111-2222-3333-444455556666)",
        "runc-process476728158 at 2026-11-23T09:48:51.33Z from k8s x86_64",
        None,
        "10:00:01.5: Ωmega cmdline=" + "é" * 380 + " 12345 tail 678",  # cut in the number at 400 characters
    ]
    con = duckdb.connect()
    con.register("t", pd.DataFrame({"output": outputs}))
    ours = [row[0] for row in con.sql(f"SELECT {template_sql()} FROM t").fetchall()]
    assert ours == output_template(pd.Series(outputs, dtype="string")).fillna("").tolist()


def test_timeline_from_bins_draws_what_timeline_figure_draws():
    df = alerts(*({"rule": f"r{i % 3}", "t": i * 7} for i in range(50)))
    binned = bin_alerts(df, "rule", max_bins=200)
    ours = timeline_figure_from_bins(binned, "rule")
    theirs = timeline_figure(df, "rule", max_points=10)
    assert [(t.name, list(t.y), list(t.marker.size)) for t in ours.data] == [
        (t.name, list(t.y), list(t.marker.size)) for t in theirs.data
    ]


def test_drilldown_from_table_draws_what_drilldown_figure_draws():
    df = alerts(
        *({"k8s.ns.name": "ns", "k8s.pod.name": f"p{i % 4}", "proc.name": f"x{i % 3}"} for i in range(30))
    )
    ours = drilldown_figure_from_table(drilldown_table(df))
    theirs = drilldown_figure(df)
    assert (ours.data[0].ids, ours.data[0].values) == (theirs.data[0].ids, theirs.data[0].values)


def test_directory_of_non_alert_parquet_is_an_error_naming_the_file(tmp_path, capsys):
    for i in range(3):
        pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), tmp_path / f"f{i}.parquet")
    assert cli_main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 1
    assert "f0.parquet: not a Falco alerts Parquet file" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def _security_lake(folder: Path, files: int, per_file: int) -> list[str]:
    """Files shaped like falcosidekick's Security Lake output (OCSF columns, raw_data = the Falco JSON)."""
    uuids = []
    for f in range(files):
        raw = []
        for i in range(per_file):
            uuid = f"sl-{f}-{i}"
            uuids.append(uuid)
            raw.append(
                orjson.dumps(
                    {
                        "time": f"2026-11-23T10:{f % 60:02d}:{i % 60:02d}.123456789Z",
                        "rule": f"Rule {i % 3}",
                        "priority": ["Warning", "critical", "info"][i % 3],
                        "source": "syscall",
                        "hostname": "node-1",
                        "output": f"alert {f}-{i}",
                        "uuid": uuid,
                        "tags": ["container", "mitre_execution"],
                        "output_fields": {
                            "k8s.ns.name": "shop",
                            "k8s.pod.name": f"api-{f % 5}",
                            "proc.pid": i,
                        },
                    }
                ).decode()
            )
        day = folder / "region=eu-west-1" / "accountId=123456789012" / "eventDay=20261123"
        day.mkdir(parents=True, exist_ok=True)
        table = pa.table(
            {
                "class_uid": pa.array([2001] * per_file, pa.int32()),
                "class_name": ["Security Finding"] * per_file,
                "severity": ["Medium"] * per_file,
                "time": pa.array([1795000000000] * per_file, pa.int64()),
                "raw_data": pa.array(raw, pa.string()),
            }
        )
        pq.write_table(table, day / f"{f:04d}.parquet")
    return uuids


def test_fifty_security_lake_files_are_reported_out_of_core(tmp_path, capsys):
    uuids = _security_lake(tmp_path / "lake", 50, 4)
    assert is_archive_input([tmp_path / "lake"])
    assert cli_main(["report", str(tmp_path / "lake"), "-o", str(tmp_path / "r.html")]) == 0
    assert (
        f"{len(uuids):,} of {len(uuids):,} alerts, out of core (50 Parquet file(s);"
        in capsys.readouterr().out
    )


def test_security_lake_priorities_are_normalised(tmp_path):
    _security_lake(tmp_path / "lake", 2, 6)
    assert open_archive([tmp_path / "lake"]).priority_counts() == {
        "Warning": 4,
        "Critical": 4,
        "Informational": 4,
    }


def test_security_lake_candidates_are_read_through_the_json_loader(tmp_path):
    uuids = _security_lake(tmp_path / "lake", 2, 3)
    rows = open_archive([tmp_path / "lake"]).candidates()
    assert sorted(rows["uuid"]) == sorted(uuids) and rows["proc.pid"].dtype == "Int64"


def test_a_non_alert_file_among_security_lake_files_is_an_error_naming_it(tmp_path):
    _security_lake(tmp_path / "lake", 3, 2)
    pq.write_table(pa.table({"x": [1]}), tmp_path / "lake" / "stray.parquet")
    with pytest.raises(LoadError, match=r"stray\.parquet: not a Falco alerts Parquet file"):
        open_archive([tmp_path / "lake"])


def test_directory_with_json_lines_is_not_an_archive_input(tmp_path):
    _security_lake(tmp_path / "lake", 1, 1)
    (tmp_path / "lake" / "more.jsonl").write_text("")
    assert not is_archive_input([tmp_path / "lake"])


def test_in_memory_only_options_are_refused_out_of_core(incident_archive, tmp_path, capsys):
    _, path = incident_archive
    assert (
        cli_main(["report", str(path), "-o", str(tmp_path / "r.html"), "--csv", str(tmp_path / "a.csv")]) == 2
    )
    assert "--in-memory" in capsys.readouterr().err


def test_print_sql_prints_the_statements_run(incident_archive, tmp_path, capsys):
    _, path = incident_archive
    assert cli_main(["report", str(path), "-o", str(tmp_path / "r.html"), "--print-sql"]) == 0
    out = capsys.readouterr().out
    assert "CREATE TEMP VIEW selected AS" in out and "count(DISTINCT rule) AS rules" in out


def test_a_directory_of_both_kinds_materialises_rows_of_both(incident_archive, tmp_path):
    import shutil

    frame, path = incident_archive
    shutil.copytree(path, tmp_path / "both")
    uuids = _security_lake(tmp_path / "both" / "lake", 1, 3)
    archive = open_archive([tmp_path / "both"])
    rows = archive.most_severe(len(frame) + 10)
    assert set(archive.kinds) == {"archive", "ocsf"}
    assert sorted(rows["uuid"]) == sorted([*frame["uuid"].astype(str), *uuids])


def test_bad_security_lake_rows_are_reported_by_file_and_row_not_dropped_silently(tmp_path):
    folder = tmp_path / "lake"
    folder.mkdir()
    good = orjson.dumps(
        {"time": "2026-11-23T10:00:00Z", "rule": "r", "priority": "Warning", "output": "x"}
    ).decode()
    raw = [good, "{not json", '{"rule": "no time"}', ""]
    table = pa.table({"class_uid": pa.array([2001] * 4, pa.int32()), "raw_data": pa.array(raw, pa.string())})
    pq.write_table(table, folder / "bad.parquet")
    archive = open_archive([folder])
    assert archive.total == 1
    assert [(p.file.endswith("bad.parquet"), p.line) for p in archive.load_report.problems] == [
        (True, 2),
        (True, 3),
        (True, 4),
    ]


def test_security_lake_export_of_the_incident_agrees_with_the_in_memory_facts(incident_archive, tmp_path):
    from falco_lab.events.export import ocsf_table

    frame, _ = incident_archive
    (tmp_path / "lake").mkdir()
    pq.write_table(ocsf_table(frame), tmp_path / "lake" / "findings.parquet")
    facts = open_archive([tmp_path / "lake"]).facts()
    assert (facts["alerts"], facts["first"], facts["last"], facts["rules"], facts["pods"]) == (
        len(frame),
        frame["time"].min(),
        frame["time"].max(),
        column(frame, "rule").nunique(),
        column(frame, "k8s.pod.name").nunique(),
    )


def test_a_prefetched_aggregate_is_what_the_query_returns(incident_archive):
    from falco_lab.analysis.report.archive import noise_sql

    _, path = incident_archive
    direct = open_archive([path]).noise(15)
    one_rule = [str(direct["rule"].iloc[0])]
    archive = open_archive([path], rule=one_rule)
    archive.prefetch([noise_sql(15)])
    early = archive.noise(15)
    late = open_archive([path], rule=one_rule).noise(15)
    pd.testing.assert_frame_equal(early, late)
    assert early.attrs["groups"] == late.attrs["groups"] < direct.attrs["groups"]  # the filter's view too
    assert noise_sql(15) in archive.statements()
