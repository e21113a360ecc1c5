"""DuckDB aggregations over a ``falco-lab archive`` dataset: small answers with an "N more" row."""

from __future__ import annotations

import pytest

from falco_lab.events import load_events
from falco_lab.events.archive import archive_events
from falco_lab.events.archive_sql import ArchiveQueries, counts_sql, timeline_sql
from tests.events.helpers import alert, jsonl


@pytest.fixture
def archive(tmp_path):
    alerts = []
    for i in range(30):
        event = alert(i, uuid=f"u-{i}", hostname=f"node-{i % 2}")
        event["output_fields"]["k8s.ns.name"] = f"ns-{i % 5}" if i < 20 else "ns-big"
        alerts.append(event)
    source = tmp_path / "a.jsonl"
    source.write_bytes(jsonl(alerts))
    archive_events([source], tmp_path / "arch")
    return tmp_path / "arch", load_events(source)


def test_summary_counts_every_archived_alert(archive):
    directory, frame = archive
    row = ArchiveQueries(directory).summary().iloc[0]
    assert row["alerts"] == 30 and row["hosts"] == 2
    assert row["first"] == frame["time"].min()


def test_top_n_with_n_more_row(archive):
    directory, _ = archive
    answer = ArchiveQueries(directory).counts(["k8s.ns.name"], limit=2)
    assert answer["k8s.ns.name"].tolist()[:2] == ["ns-big", "ns-0"]
    assert answer["alerts"].tolist() == [10, 4, 16]
    assert answer["more"].tolist() == [0, 0, 4]


def test_no_more_row_when_everything_fits(archive):
    directory, _ = archive
    answer = ArchiveQueries(directory).counts(["hostname"], limit=5)
    assert answer["more"].tolist() == [0, 0] and answer["alerts"].sum() == 30


def test_timeline_bins_add_up_to_the_alerts(archive):
    directory, frame = archive
    answer = ArchiveQueries(directory).timeline(60)
    assert answer["alerts"].sum() == 30
    expected = (frame["time"].astype("int64") // 60_000_000_000 * 60_000).unique()
    assert sorted(answer["bin_ms"].unique().tolist()) == sorted(expected.tolist())


def test_unknown_column_is_an_error_naming_it(archive):
    directory, _ = archive
    with pytest.raises(KeyError, match="k8s.nope"):
        ArchiveQueries(directory).counts(["k8s.nope"])


def test_directory_without_parquet_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no Parquet files"):
        ArchiveQueries(tmp_path)


def test_generated_sql_quotes_dotted_names_and_has_a_trino_form():
    assert '"k8s.ns.name"' in counts_sql("t", ["k8s.ns.name"], 3)
    trino = timeline_sql("falco_alerts", 60, dialect="trino")
    assert "to_unixtime" in trino and "//" not in trino


def test_the_projects_duckdb_connection_draws_no_progress_bar_and_speaks_utc() -> None:
    from falco_lab.events.archive_sql import connect

    row = (
        connect("1GB")
        .sql(
            "SELECT current_setting('enable_progress_bar'), current_setting('TimeZone'), current_setting('memory_limit')"
        )
        .fetchall()[0]
    )
    assert row == (False, "UTC", "953.6 MiB")  # 1 GB as DuckDB prints it
