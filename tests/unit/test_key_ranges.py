"""A keyed merge reads only the target files that can hold the batch's keys, and matches exactly as before."""

import os
from datetime import date, datetime, timezone
from urllib.parse import urlparse

from pyspark.sql import functions as F

from medallion import io
from medallion.declare.tables import InsertOnly, Layer, Scd1, expect_or_drop
from medallion.engine import quality
from medallion.key_ranges import KeyRange, from_row, target_condition
from medallion.platform.runtime import TableLocation

SCHEMA = "device BIGINT, time TIMESTAMP, bpm INT"


def utc(*parts) -> datetime:
    """An instant in UTC (a naive datetime would be read in the machine's own time zone)."""
    return datetime(*parts, tzinfo=timezone.utc)


def readings(spark, day: int, seconds, bpm: int = 60):
    return spark.createDataFrame([(1, utc(2024, 1, day, 0, 0, s), bpm) for s in seconds], SCHEMA)


def write(frame, location: TableLocation, mode, batch: int):
    """As a batch is written: its key ranges from the counting pass."""
    checked = quality.with_failed_rules(frame, ())
    measured = quality.measure(checked, (), mode.keys)
    return io.write(frame, location, mode, "writer", batch, key_ranges=measured.key_ranges)


def test_a_merge_opens_only_the_files_holding_the_batch_range_and_still_matches_stored_keys(spark, make_runtime):
    location = make_runtime().location("ranges", Layer.SILVER, "readings")
    mode = InsertOnly(("device", "time"))
    for day in (1, 2, 3):  # three days, one file each
        write(readings(spark, day, range(5)), location, mode, day)
    stored = spark.read.format("delta").load(location.path)
    files = stored.select(F.dayofmonth("time").alias("day"), F.col("_metadata.file_path").alias("file")).distinct()
    for row in files.where("day < 3").collect():  # a merge that opened these files would fail
        os.remove(urlparse(row.file).path)
    result = write(readings(spark, 3, range(3, 8), bpm=99), location, mode, 4)  # seconds 3 and 4 are stored
    assert (result.inserted, result.source_rows) == (3, 5)
    day_3 = spark.read.format("delta").load(location.path).where(F.col("time") >= utc(2024, 1, 3))
    assert day_3.count() == 8
    assert day_3.where("bpm = 99").count() == 3  # the stored readings were not written again


def test_a_batch_holding_a_null_key_still_matches_the_stored_null_key(spark, make_runtime):
    location = make_runtime().location("ranges", Layer.SILVER, "null_keys")
    mode = Scd1(("device", "time"))
    batch = spark.createDataFrame([(1, None, 60), (1, utc(2024, 1, 1), 61)], SCHEMA)
    write(batch, location, mode, 0)
    write(spark.createDataFrame([(1, utc(2024, 2, 1), 62)], SCHEMA), location, mode, 1)
    result = write(spark.createDataFrame([(1, None, 70)], SCHEMA), location, mode, 2)
    assert (result.inserted, result.updated) == (0, 1)
    assert sorted(r.bpm for r in spark.read.format("delta").load(location.path).collect()) == [61, 62, 70]


def test_ranges_of_the_accepted_rows_as_exact_literals(spark):
    frame = spark.createDataFrame(
        [(7, date(1969, 12, 31), utc(1969, 12, 31, 23, 59, 59, 999999), "a", "ok")]
        + [(9, date(2024, 2, 29), utc(2024, 1, 1, 0, 0, 0, 1), "b", "ok")]
        + [(100, date(2030, 1, 1), utc(2030, 1, 1), "c", "bad")]  # quarantined: outside the range
        + [(None, None, None, None, "ok")],
        "n INT, d DATE, ts TIMESTAMP, s STRING, status STRING",
    )
    rules = (expect_or_drop("status_ok", "status = 'ok'"),)
    measured = quality.measure(quality.with_failed_rules(frame, rules), rules, ("n", "d", "ts", "s"))
    assert measured.key_ranges == {
        "n": KeyRange("7", "9", True),
        "d": KeyRange("DATE'1969-12-31'", "DATE'2024-02-29'", True),
        "ts": KeyRange("TIMESTAMP'1969-12-31 23:59:59.999999Z'", "TIMESTAMP'2024-01-01 00:00:00.000001Z'", True),
    }  # a string key is not bounded
    assert target_condition({"n": measured.key_ranges["n"]}) == "(t.`n` BETWEEN 7 AND 9 OR t.`n` IS NULL)"
    assert target_condition({"n": KeyRange(None, None, True)}) == "t.`n` IS NULL"
    assert target_condition({"n": KeyRange("1L", "2L", False)}) == "t.`n` BETWEEN 1L AND 2L"
    assert from_row(frame.limit(0).groupBy().count().first(), frame.schema, ("n",)) == {}
