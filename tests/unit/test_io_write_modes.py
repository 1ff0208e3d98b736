"""The write modes of the one Delta writer, each applied twice to prove idempotence."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from medallion import delta_log, io
from medallion.declare.tables import Append, CdcLatest, InsertOnly, Layer, Scd1, UpdateIfNewer


def last_operation(spark, path):
    """The operation of the table's latest commit."""
    return delta_log.commit(spark, path, io.table_version(spark, path))["operation"]


def rows(spark, path, order):
    return [tuple(r) for r in spark.read.format("delta").load(path).orderBy(*order).collect()]


def test_insert_only_keeps_the_first_row_and_ignores_replays(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "insert_only")
    schema = "k BIGINT, v STRING"
    io.write(spark.createDataFrame([(1, "a"), (1, "a"), (2, "b")], schema), location, InsertOnly(("k",)), "w", 0)
    result = io.write(spark.createDataFrame([(1, "changed"), (3, "c")], schema), location, InsertOnly(("k",)), "w", 1)
    assert result.inserted == 1
    assert rows(spark, location.path, ["k"]) == [(1, "a"), (2, "b"), (3, "c")]


def test_insert_only_matches_null_keys(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "null_keys")
    batch = spark.createDataFrame([(None, "a")], "k BIGINT, v STRING")
    io.write(batch, location, InsertOnly(("k",)), "w", 0)
    io.write(batch, location, InsertOnly(("k",)), "w", 1)
    assert rows(spark, location.path, ["k"]) == [(None, "a")]


def test_update_if_newer_extends_only(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "update_if_newer")
    schema = "mac STRING, login TIMESTAMP, logout TIMESTAMP, gym BIGINT"
    t = lambda h: datetime(2023, 3, 11, h)  # noqa: E731
    mode = UpdateIfNewer(("mac", "login"), ("logout",), "logout")
    io.write(spark.createDataFrame([("a", t(7), t(8), 1)], schema), location, mode, "w", 0)
    io.write(spark.createDataFrame([("a", t(7), t(9), 99), ("a", t(7), t(8), 1)], schema), location, mode, "w", 1)
    io.write(spark.createDataFrame([("a", t(7), t(8), 1)], schema), location, mode, "w", 2)  # older: ignored
    assert rows(spark, location.path, ["mac"]) == [("a", t(7), t(9), 1)]  # logout only; gym untouched


def test_update_if_newer_fills_a_stored_null_and_never_empties_a_value(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "update_if_newer_null")
    schema = "mac STRING, login BIGINT, logout BIGINT"
    mode = UpdateIfNewer(("mac", "login"), ("logout",), "logout")
    io.write(spark.createDataFrame([("a", 7, None), ("b", 7, 9)], schema), location, mode, "w", 0)  # a still in
    io.write(spark.createDataFrame([("a", 7, 8), ("b", 7, None)], schema), location, mode, "w", 1)
    assert rows(spark, location.path, ["mac"]) == [("a", 7, 8), ("b", 7, 9)]


def test_cdc_latest_wins_ties_to_higher_offset_and_stale_changes_lose(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "cdc")
    schema = "id BIGINT, name STRING, updated BIGINT, offset BIGINT"
    mode = CdcLatest(("id",), ("updated", "offset"))
    io.write(
        spark.createDataFrame(
            [(1, "Clark", 10, 5), (1, "Castillo", 20, 6), (2, "Tie-low", 10, 1), (2, "Tie-high", 10, 2)], schema
        ),
        location,
        mode,
        "w",
        0,
    )
    io.write(spark.createDataFrame([(1, "Stale", 15, 9)], schema), location, mode, "w", 1)  # older than stored
    io.write(
        spark.createDataFrame([(2, "Tie-lower", 10, 0)], schema), location, mode, "w", 2
    )  # same time, lower offset
    assert rows(spark, location.path, ["id"]) == [(1, "Castillo", 20, 6), (2, "Tie-high", 10, 2)]


def test_scd1_updates_changed_rows_only(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "scd1")
    schema = "id BIGINT, city STRING"
    io.write(spark.createDataFrame([(1, "LA"), (2, "SF")], schema), location, Scd1(("id",)), "w", 0)
    result = io.write(spark.createDataFrame([(1, "LA"), (2, "NY"), (3, "SD")], schema), location, Scd1(("id",)), "w", 1)
    assert (result.inserted, result.updated) == (1, 1)
    assert rows(spark, location.path, ["id"]) == [(1, "LA"), (2, "NY"), (3, "SD")]


def test_scd1_compare_updates_a_row_only_when_a_compared_column_changed(spark, make_runtime):
    location = make_runtime().location("t", Layer.GOLD, "scd1_compare")
    schema = "id BIGINT, score DOUBLE, model_version INT, scored_at BIGINT"
    mode = Scd1(("id",), compare=("model_version",))
    io.write(spark.createDataFrame([(1, 0.5, 1, 100), (2, 0.7, 1, 100)], schema), location, mode, "w", 0)
    same_model = spark.createDataFrame([(1, 0.5, 1, 200), (2, 0.7, 1, 200), (3, 0.1, 1, 200)], schema)
    result = io.write(same_model, location, mode, "w", 1)  # scored again by the same version: only the new row
    assert (result.inserted, result.updated) == (1, 0)
    assert rows(spark, location.path, ["id"]) == [(1, 0.5, 1, 100), (2, 0.7, 1, 100), (3, 0.1, 1, 200)]
    new_model = spark.createDataFrame([(1, 0.6, 2, 300), (2, 0.7, 2, 300), (3, 0.1, 1, 300)], schema)
    result = io.write(new_model, location, mode, "w", 2)  # every column follows a changed version
    assert (result.inserted, result.updated) == (0, 2)
    assert rows(spark, location.path, ["id"]) == [(1, 0.6, 2, 300), (2, 0.7, 2, 300), (3, 0.1, 1, 200)]


def test_a_keyed_first_write_into_the_empty_table_appends_one_row_per_key_counted_as_a_merge(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "first_write")
    schema = "id BIGINT, name STRING, updated BIGINT, offset BIGINT"
    io.create_if_missing(spark, location, spark.createDataFrame([], schema).schema)  # as setup creates it
    mode = CdcLatest(("id",), ("updated", "offset"))
    batch = spark.createDataFrame([(1, "Clark", 10, 5), (1, "Castillo", 20, 6), (2, "Lee", 10, 1)], schema)
    first = io.write(batch, location, mode, "w", 0)
    assert (first.inserted, first.updated, first.source_rows, first.committed) == (2, 0, 2, True)
    assert last_operation(spark, location.path) == "WRITE"  # appended: nothing to merge with
    replayed = io.write(batch, location, mode, "w", 0)  # the table holds rows now: a merge that changes nothing
    assert (replayed.inserted, replayed.updated) == (0, 0)
    later = io.write(spark.createDataFrame([(2, "Lee-Park", 30, 7)], schema), location, mode, "w", 1)
    assert (later.inserted, later.updated, last_operation(spark, location.path)) == (0, 1, "MERGE")
    assert rows(spark, location.path, ["id"]) == [(1, "Castillo", 20, 6), (2, "Lee-Park", 30, 7)]


def test_a_first_write_of_other_column_types_merges_casting_to_the_table_types(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "first_write_cast")
    io.create_if_missing(spark, location, spark.createDataFrame([], "k BIGINT, v STRING").schema)
    result = io.write(spark.createDataFrame([(1, "a")], "k INT, v STRING"), location, InsertOnly(("k",)), "w", 0)
    assert (result.inserted, last_operation(spark, location.path)) == (1, "MERGE")
    assert spark.read.format("delta").load(location.path).schema["k"].dataType.simpleString() == "bigint"


def test_append_skips_a_replayed_batch(spark, make_runtime):
    location = make_runtime().location("t", Layer.BRONZE, "append")
    batch = spark.createDataFrame([(1,), (2,)], "k BIGINT")
    assert io.write(batch, location, Append(), "writer", 7).inserted == 2
    assert io.write(batch, location, Append(), "writer", 7).inserted == 0  # the same batch again
    assert io.write(batch, location, Append(), "writer", 8).inserted == 2
    assert spark.read.format("delta").load(location.path).count() == 4


def test_an_append_only_log_is_compacted_every_few_versions_and_keeps_every_row(spark, tmp_path, monkeypatch):
    monkeypatch.setattr(io, "COMPACT_LOG_EVERY", 3)
    path = str(tmp_path / "log")
    for run in range(4):  # versions 0..3: the append that makes version 3 compacts
        io.append_log(spark.range(run * 10, run * 10 + 5).repartition(2), path)
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()
    rows = sorted(r.id for r in spark.read.format("delta").load(path).collect())
    assert (detail["numFiles"], rows) == (1, [i for run in range(4) for i in range(run * 10, run * 10 + 5)])


def test_appends_racing_to_create_a_log_all_land(spark, tmp_path):
    """The streams of a run each append their batches' rows to the event log; on a new lakehouse they race
    to create it, and the appends that lose the race are made again."""
    path = str(tmp_path / "raced_log")
    writers = 4
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(lambda w: io.append_log(spark.range(w * 10, w * 10 + 3), path), range(writers)))
    rows = sorted(r.id for r in spark.read.format("delta").load(path).collect())
    assert rows == [w * 10 + i for w in range(writers) for i in range(3)]


def test_a_writes_metrics_are_its_own_commits_not_a_compaction_made_after_it(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "compacted")
    schema = "k BIGINT, v STRING"
    io.write(spark.createDataFrame([(1, "a"), (2, "b")], schema).repartition(2), location, Append(), "w", 0)
    before = io.table_version(spark, location.path)
    spark.createDataFrame([(3, "c")], schema).write.format("delta").mode("append").save(location.path)
    spark.sql(f"OPTIMIZE delta.`{location.path}`")  # as Databricks' auto compaction commits right after a write
    assert last_operation(spark, location.path) == "OPTIMIZE"
    result = io._metrics_since(spark, location.path, before)
    assert (result.inserted, result.committed, result.version) == (1, True, before + 2)
    only_compacted = io._metrics_since(spark, location.path, before + 1)
    assert (only_compacted.inserted, only_compacted.committed) == (0, False)


def test_append_absent_adds_only_the_rows_not_already_there_and_is_made_again_after_a_concurrent_commit(
    spark, tmp_path, monkeypatch
):
    path = str(tmp_path / "quarantine")
    schema = "table STRING, record STRING, source STRING, run STRING"
    first = spark.createDataFrame([("v", "a", None, "r1"), ("v", "a", None, "r1"), ("w", "b", "f", "r1")], schema)
    assert io.append_absent(first, path, ("table", "record", "source"), within={"table": "v"}).inserted == 3

    merges = []

    def losing_once(*args):
        merges.append(args)
        if len(merges) == 1:  # as when a compaction of the table committed while the merge ran
            raise RuntimeError("[DELTA_CONCURRENT_DELETE_READ] ConcurrentDeleteReadException: a file was removed")
        return merge(*args)

    merge = io._merge
    monkeypatch.setattr(io, "_merge", losing_once)
    again = spark.createDataFrame([("v", "a", None, "r2"), ("v", "b", "f", "r2"), ("v", "c", None, "r2")], schema)
    result = io.append_absent(again, path, ("table", "record", "source"), within={"table": "v"})

    assert (len(merges), result.inserted) == (2, 2)
    assert rows(spark, path, ["table", "record", "run"]) == [
        ("v", "a", None, "r1"),  # repeats of one refresh stay; the same record of a later one is not added
        ("v", "a", None, "r1"),
        ("v", "b", "f", "r2"),  # another table's row with the same record and source is not this table's
        ("v", "c", None, "r2"),
        ("w", "b", "f", "r1"),
    ]
