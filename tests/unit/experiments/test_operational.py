"""The operational schema in both dialects, the seed rows, and the producer's CLI options."""

from __future__ import annotations

from medallion.cli import build_parser
from medallion.pipelines.experiments.operational import TABLES, create_table_sql, seed_rows
from medallion.sources.databases import POSTGRESQL, SQLSERVER


def test_the_schema_is_written_for_postgresql_and_azure_sql():
    postgres = create_table_sql("test_management", POSTGRESQL)
    azure = create_table_sql("test_management", SQLSERVER)
    assert "finished_at TIMESTAMP,\n" in postgres and "updated_at TIMESTAMP NOT NULL" in postgres
    assert "finished_at DATETIME2(6),\n" in azure and "test_name NVARCHAR(200) NOT NULL" in azure
    assert "FOREIGN KEY (test_status) REFERENCES status_management(status_code)" in azure
    assert "PRIMARY KEY (test_code, metric_code)" in create_table_sql("test_metric_relation", POSTGRESQL)


def test_seed_rows_are_the_specs():
    rows = seed_rows()
    assert [r[1] for r in rows["status_management"]] == ["running", "done", "failed", "cancelled", "waiting"]
    assert [(r[0], r[6]) for r in rows["test_management"]] == [
        ("T001", 2),
        ("T002", 2),
        ("T003", 3),
        ("T004", 1),
        ("T005", 1),
    ]
    assert {r[1] for r in rows["metric_management"]} == {
        "clicks",
        "screen views",
        "conversion rate",
        "revenue per user",
    }
    for table, table_rows in rows.items():
        assert all(len(row) == len(TABLES[table][0]) for row in table_rows)


def test_produce_passes_scale_and_seed_to_the_generator():
    args = build_parser().parse_args(["produce", "experiments", "--scale", "500", "--seed", "9"])
    assert (args.set_number, args.scale, args.seed) == (1, 500, 9)
