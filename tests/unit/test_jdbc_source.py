"""JdbcSource declarations, the parallel-read decision and database settings: no server needed."""

from __future__ import annotations

import pytest
from pyspark.sql import types as T

from medallion.declare.tables import JdbcSource
from medallion.errors import ConfigError, SourceError
from medallion.platform.config import load_settings
from medallion.sources.databases import dialect_of, redact_url
from medallion.sources.jdbc import (
    ChangedSlice,
    _literal,
    _partitions,
    declared_schema,
    relation,
    source_schema,
    window_start,
)

SCHEMA = "id BIGINT, name STRING, updated_at TIMESTAMP"


def test_the_build_function_receives_the_declared_columns_plus_load_time(spark):
    source = JdbcSource("accounts", SCHEMA, "updated_at")
    assert [(f.name, f.dataType) for f in source_schema(source).fields] == [
        ("id", T.LongType()),
        ("name", T.StringType()),
        ("updated_at", T.TimestampType()),
        ("load_time", T.TimestampType()),
    ]


@pytest.mark.parametrize("change_column, partition_column", [("changed", None), ("updated_at", "key")])
def test_change_and_partition_columns_must_be_declared(spark, change_column, partition_column):
    with pytest.raises(ConfigError, match="is not in its schema"):
        declared_schema(JdbcSource("accounts", SCHEMA, change_column, partition_column=partition_column))


def test_a_source_with_deletes_gives_a_deleted_column_and_reads_its_tombstones():
    source = JdbcSource("accounts", SCHEMA, "updated_at", keys=("id",), deletes="accounts_deleted")
    assert [f.name for f in source_schema(source).fields] == ["id", "name", "updated_at", "deleted", "load_time"]
    assert source_schema(source)["deleted"].dataType == T.BooleanType()
    assert relation(source, declared_schema(source)) == (
        "(SELECT id, name, updated_at, 0 AS deleted FROM accounts "
        "UNION ALL SELECT id, NULL AS name, updated_at, 1 AS deleted FROM accounts_deleted) copied_rows"
    )
    assert relation(JdbcSource("accounts", SCHEMA, "updated_at"), declared_schema(source)) == "accounts"


@pytest.mark.parametrize(
    "mark, lookback, change_type, expected",
    [
        ("2024-03-01 09:00:00.000001", "15 minutes", T.TimestampType(), "2024-03-01 08:45:00.000001"),
        ("2024-03-01 00:00:30.000000", "1 hour", T.TimestampType(), "2024-02-29 23:00:30.000000"),
        ("2024-03-01 00:00:30.000000", None, T.TimestampType(), "2024-03-01 00:00:30.000000"),
        ("1000", "250", T.LongType(), "750"),
        (None, "15 minutes", T.TimestampType(), None),
    ],
)
def test_the_read_starts_a_lookback_window_behind_the_mark(mark, lookback, change_type, expected):
    assert window_start(mark, lookback, change_type) == expected


def test_a_lookback_needs_keys_and_a_readable_window_of_the_change_columns_kind():
    with pytest.raises(ValueError, match="need the row's keys"):
        JdbcSource("accounts", SCHEMA, "updated_at", lookback="15 minutes")
    with pytest.raises(ValueError, match="lookback 'a while'"):
        JdbcSource("accounts", SCHEMA, "updated_at", keys=("id",), lookback="a while")
    with pytest.raises(ConfigError, match="needs a time"):
        window_start("2024-03-01 00:00:00.000000", "100", T.TimestampType())
    with pytest.raises(ConfigError, match="needs a number"):
        window_start("100", "1 hour", T.LongType())


def test_partition_counts_must_be_positive():
    with pytest.raises(ValueError):
        JdbcSource("accounts", SCHEMA, "updated_at", num_partitions=0)


@pytest.mark.parametrize(
    "rows, low, high, expected",
    [
        (1_000, "1", "1000", 1),  # small slice: one query
        (250_000, "1", "250000", 3),  # ceil(250k / 100k)
        (10_000_000, "1", "9", 4),  # capped at num_partitions
        (250_000, "5", "5", 1),  # one key value: nothing to split
    ],
)
def test_parallel_reads_only_where_the_slice_is_large(rows, low, high, expected):
    source = JdbcSource("accounts", SCHEMA, "updated_at", partition_column="id", num_partitions=4)
    assert _partitions(source, ChangedSlice(rows, "2024-01-01 00:00:00.000000", low, high)) == expected


def test_no_partition_column_means_one_query():
    assert _partitions(JdbcSource("accounts", SCHEMA, "updated_at"), ChangedSlice(10**7, "x", None, None)) == 1


def test_marks_become_sql_literals_of_their_type():
    assert _literal("2024-03-01 09:00:00.000001", T.TimestampType()) == "'2024-03-01 09:00:00.000001'"
    assert _literal("42", T.LongType()) == "42"
    assert _literal("it's", T.StringType()) == "'it''s'"


def test_database_url_takes_the_local_port_from_the_environment(monkeypatch):
    monkeypatch.setenv("MEDALLION_PG_PORT", "61234")
    settings = load_settings("local", root="/tmp/unused")
    database = settings.database("operational")
    assert database.url == "jdbc:postgresql://127.0.0.1:61234/medallion"
    assert database.password_secret == "operational-db-password"


def test_database_url_default_port(monkeypatch):
    monkeypatch.delenv("MEDALLION_PG_PORT", raising=False)
    assert load_settings("local", root="/tmp/unused").database("operational").url.endswith(":54329/medallion")


def test_an_unknown_database_or_a_missing_url_is_a_config_error():
    settings = load_settings("local", root="/tmp/unused", overrides={"databases": {"operational": {"url": None}}})
    with pytest.raises(ConfigError, match="databases.operational.url is not set"):
        settings.database("operational")
    with pytest.raises(ConfigError, match="No database 'crm'"):
        settings.database("crm")


def test_urls_are_shown_without_passwords_and_name_their_dialect():
    url = "jdbc:sqlserver://abtest.database.windows.net:1433;database=abtest;password=hunter2;encrypt=true"
    assert redact_url(url) == url.replace("hunter2", "***")
    for leaky in (
        "jdbc:postgresql://db:5432/app?user=etl&password=hunter2&ssl=true",
        "jdbc:postgresql://db:5432/app?PASSWORD=hunter2",
        "jdbc:postgresql://etl:hunter2@db:5432/app",
        "jdbc:sqlserver://db:1433;database=app;Pwd=hunter2",
        "jdbc:sqlserver://db:1433;database=app;accessToken=hunter2;encrypt=true",
    ):
        assert "hunter2" not in redact_url(leaky) and "***" in redact_url(leaky), leaky
    assert redact_url("jdbc:postgresql://db:5432/app?user=etl") == "jdbc:postgresql://db:5432/app?user=etl"
    assert dialect_of(url).timestamp_type == "DATETIME2(6)"
    assert dialect_of("jdbc:postgresql://127.0.0.1:5432/x").timestamp_type == "TIMESTAMP"
    with pytest.raises(SourceError, match="Unsupported JDBC URL"):
        dialect_of("jdbc:oracle:thin:@x")
