"""Table versions and commit metrics read from the tables' transaction logs, many tables in one listing."""

from __future__ import annotations

from medallion import delta_log


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
