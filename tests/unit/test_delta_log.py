"""Table versions and commit metrics read from the tables' transaction logs, many tables in one listing.

Each test runs twice: the log read from the driver's disk (a classic session on local storage), and read
through Spark (a Spark Connect session, or a table in cloud storage)."""

from __future__ import annotations

import pytest

from medallion import delta_log, sessions


@pytest.fixture(autouse=True, params=["driver disk", "through spark"])
def log_reader(request, monkeypatch, spark, tmp_path):
    if request.param == "through spark":
        monkeypatch.setattr(sessions, "driver_disk_path", lambda spark, path: None)
        monkeypatch.setattr(delta_log, "REMOTE_CHUNK", 1)  # a walk back over a few commits spans several jobs
    else:  # the tests' classic session on local storage: the log really is read from the disk
        assert sessions.driver_disk_path(spark, "file:" + str(tmp_path)) == str(tmp_path)


def _write(spark, path: str, rows: int, times: int = 1) -> None:
    for _ in range(times):
        spark.range(rows).write.format("delta").mode("append").save(path)


def test_versions_of_many_tables_come_from_one_listing_and_missing_ones_are_minus_one(spark, tmp_path):
    first, second, odd = str(tmp_path / "silver" / "a"), str(tmp_path / "gold" / "b"), str(tmp_path / "x{1,2}")
    _write(spark, first, 3, times=3)  # versions 0, 1, 2
    _write(spark, second, 2)
    _write(spark, odd, 1, times=2)  # glob characters in a folder name: looked up on their own
    missing, plain_folder = str(tmp_path / "silver" / "none"), str(tmp_path / "gold")
    found = delta_log.versions(spark, [first, second, odd, missing, plain_folder])
    assert found == {first: 2, second: 0, odd: 1, missing: -1, plain_folder: -1}
    assert delta_log.version(spark, "file:" + first) == 2  # a qualified path names the same table


def test_a_listing_that_matches_nothing_means_no_tables(spark, tmp_path):
    assert delta_log.versions(spark, [str(tmp_path / "a"), str(tmp_path / "b" / "c")]) == {
        str(tmp_path / "a"): -1,
        str(tmp_path / "b" / "c"): -1,
    }


def test_a_commit_reads_its_operation_and_metrics_from_the_log(spark, tmp_path):
    path = str(tmp_path / "t")
    _write(spark, path, 4)
    spark.range(2, 6).createOrReplaceTempView("source_rows")
    spark.sql(f"MERGE INTO delta.`{path}` t USING source_rows s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *")
    spark.catalog.dropTempView("source_rows")
    merge = delta_log.commit(spark, path, 1)
    assert (merge["operation"], merge["metrics"]["numSourceRows"], merge["metrics"]["numTargetRowsInserted"]) == (
        "MERGE",
        "4",
        "2",
    )
    assert delta_log.commit(spark, path, 0)["metrics"]["numOutputRows"] == "4"


def test_the_rows_of_a_runs_commits_are_read_from_the_files_they_added(spark, tmp_path):
    from medallion import io

    path = str(tmp_path / "partitioned")
    first = spark.range(10).selectExpr("id", "id % 2 AS part")
    first.write.format("delta").partitionBy("part").save(path)  # version 0
    spark.range(10, 13).selectExpr("id", "id % 2 AS part").coalesce(1).write.format("delta").mode("append").save(path)
    spark.range(20, 22).selectExpr("id", "id % 2 AS part").write.format("delta").mode("append").save(path)
    assert delta_log.files_added(spark, path, 2, 2) == []
    assert len(delta_log.files_added(spark, path, 0, 1)) == 2  # one file per table partition the append wrote
    assert sorted(r["id"] for r in io.rows_written(spark, path, 0, 2).collect()) == [10, 11, 12, 20, 21]
    assert sorted(r["id"] for r in io.rows_written(spark, path, 1, 2).collect()) == [20, 21]
    # a MERGE rewrites what it touches: the updated row is among the rows written, the untouched files are not
    spark.createDataFrame([(3, 1)], "id LONG, part LONG").createOrReplaceTempView("changed")
    spark.sql(f"MERGE INTO delta.`{path}` t USING changed s ON t.id = s.id WHEN MATCHED THEN UPDATE SET *")
    spark.catalog.dropTempView("changed")
    rewritten = {r["id"] for r in io.rows_written(spark, path, 2, 3).collect()}
    assert 3 in rewritten and rewritten.isdisjoint({0, 2, 4, 10, 12, 20})


def _append_topic(spark, path: str, ids: range, topic: str, *extra_columns: str) -> None:
    rows = spark.range(ids.start, ids.stop).selectExpr("id", f"'{topic}' AS topic", *extra_columns)
    rows.write.format("delta").mode("append").option("mergeSchema", "true").partitionBy("topic").save(path)


def test_a_partitions_last_change_is_the_newest_commit_that_added_or_removed_its_files(spark, tmp_path):
    path = str(tmp_path / "multiplex")
    _append_topic(spark, path, range(0, 3), "orders")  # version 0 creates the table
    _append_topic(spark, path, range(3, 5), "clicks")  # 1
    _append_topic(spark, path, range(5, 6), "clicks")  # 2
    assert delta_log.last_partition_change(spark, path, {"topic": "orders"}, 2) == 0
    assert delta_log.last_partition_change(spark, path, {"topic": "clicks"}, 2) == 2
    assert delta_log.last_partition_change(spark, path, {"topic": "clicks"}, 1) == 1  # as of an older version
    assert delta_log.last_partition_change(spark, path, {"topic": "views"}, 2) == 0  # the creation counts for all
    spark.sql(f"DELETE FROM delta.`{path}` WHERE topic = 'orders' AND id = 1")  # 3: rewrites an orders file
    assert delta_log.last_partition_change(spark, path, {"topic": "orders"}, 3) == 3
    assert delta_log.last_partition_change(spark, path, {"topic": "clicks"}, 3) == 2
    _append_topic(spark, path, range(6, 7), "clicks", "'web' AS channel")  # 4: a new column changes every partition
    assert delta_log.last_partition_change(spark, path, {"topic": "orders"}, 4) == 4


def test_a_partition_whose_history_the_log_no_longer_holds_counts_as_changed(spark, tmp_path):
    path = str(tmp_path / "multiplex")
    _append_topic(spark, path, range(0, 3), "orders")
    _append_topic(spark, path, range(3, 5), "clicks")
    _append_topic(spark, path, range(5, 6), "clicks")
    (tmp_path / "multiplex" / "_delta_log" / f"{1:020d}.json").unlink()  # as log clean-up leaves it
    assert delta_log.last_partition_change(spark, path, {"topic": "orders"}, 2) == 2


def test_a_file_that_does_not_record_the_partition_column_counts_as_a_change_of_it(spark, tmp_path):
    path = str(tmp_path / "unpartitioned")
    _write(spark, path, 3, times=3)  # no partition values in the log: any file may hold any topic's rows
    assert delta_log.last_partition_change(spark, path, {"topic": "orders"}, 2) == 2


def test_a_short_history_of_appends_is_only_appended_and_anything_else_is_not(spark, tmp_path):
    appended, path = str(tmp_path / "appended"), str(tmp_path / "rewritten")
    _write(spark, appended, 3, times=3)
    assert delta_log.only_appended(spark, appended, 2)
    assert delta_log.only_appended(spark, appended, 1)  # as of an older version
    _write(spark, path, 3, times=2)
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id = 1")  # 2: removes a file
    assert not delta_log.only_appended(spark, path, 2)
    assert delta_log.only_appended(spark, path, 1)  # before the delete
    spark.range(1).selectExpr("id", "'x' AS name").write.format("delta").mode("append").option(
        "mergeSchema", "true"
    ).save(appended)  # 3: a new column
    assert not delta_log.only_appended(spark, appended, 3)
    assert not delta_log.only_appended(spark, str(tmp_path / "none"), -1)


def test_a_long_history_or_one_the_log_no_longer_holds_cannot_tell(spark, tmp_path, monkeypatch):
    path = str(tmp_path / "t")
    _write(spark, path, 1, times=4)
    monkeypatch.setattr(delta_log, "SHORT_HISTORY", 2)
    assert not delta_log.only_appended(spark, path, 3)
    monkeypatch.setattr(delta_log, "SHORT_HISTORY", 10)
    assert delta_log.only_appended(spark, path, 3)
    (tmp_path / "t" / "_delta_log" / f"{0:020d}.json").unlink()  # as log clean-up leaves it
    assert not delta_log.only_appended(spark, path, 3)
