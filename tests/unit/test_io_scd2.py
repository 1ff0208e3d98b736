"""The SCD2 write mode: history under out-of-order changes, deletes and replays (chispa)."""

from datetime import datetime

from chispa import assert_df_equality

from medallion import io
from medallion.declare.tables import Layer, Scd2

SCHEMA = "id BIGINT, city STRING, op STRING, updated_at TIMESTAMP"
STORED = SCHEMA + ", valid_from TIMESTAMP, valid_to TIMESTAMP, is_current BOOLEAN"
MODE = Scd2(("id",), "updated_at", delete_when="op = 'D'")


def t(day: int) -> datetime:
    return datetime(2026, 1, day)


def history(spark, location):
    return spark.read.format("delta").load(location.path).orderBy("id", "valid_from")


def assert_history(spark, location, rows):
    assert_df_equality(history(spark, location), expected(spark, rows), ignore_nullable=True)


def expected(spark, rows):
    return spark.createDataFrame(rows, STORED).orderBy("id", "valid_from")


def write(spark, location, rows, batch):
    return io.write(spark.createDataFrame(rows, SCHEMA), location, MODE, "w", batch)


def test_changes_in_order_build_a_history_with_one_current_row(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "scd2_in_order")
    write(spark, location, [(1, "Oslo", "I", t(1)), (1, "Bergen", "U", t(3)), (2, "Rome", "I", t(2))], 0)
    assert_history(
        spark,
        location,
        [
            (1, "Oslo", "I", t(1), t(1), t(3), False),
            (1, "Bergen", "U", t(3), t(3), None, True),
            (2, "Rome", "I", t(2), t(2), None, True),
        ],
    )


def test_a_late_change_lands_in_its_place_and_recloses_its_neighbours(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "scd2_late")
    write(spark, location, [(1, "Oslo", "I", t(1)), (1, "Bergen", "U", t(5))], 0)
    result = write(spark, location, [(1, "Tromso", "U", t(3))], 1)  # arrives after day 5, happened on day 3
    assert (result.inserted, result.updated) == (1, 1)
    assert_history(
        spark,
        location,
        [
            (1, "Oslo", "I", t(1), t(1), t(3), False),
            (1, "Tromso", "U", t(3), t(3), t(5), False),
            (1, "Bergen", "U", t(5), t(5), None, True),
        ],
    )


def test_a_delete_closes_the_current_row_and_a_later_insert_reopens_the_key(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "scd2_delete")
    write(spark, location, [(1, "Oslo", "I", t(1)), (2, "Rome", "I", t(1))], 0)
    write(spark, location, [(1, None, "D", t(4))], 1)
    assert_history(
        spark,
        location,
        [
            (1, "Oslo", "I", t(1), t(1), t(4), False),
            (2, "Rome", "I", t(1), t(1), None, True),
        ],
    )
    # A change from before the delete arrives late: it closes at the delete, which stays in force.
    write(spark, location, [(1, "Bergen", "U", t(2)), (1, "Oslo", "I", t(6))], 2)
    assert_history(
        spark,
        location,
        [
            (1, "Oslo", "I", t(1), t(1), t(2), False),
            (1, "Bergen", "U", t(2), t(2), t(4), False),
            (1, "Oslo", "I", t(6), t(6), None, True),
            (2, "Rome", "I", t(1), t(1), None, True),
        ],
    )


def test_a_delete_with_no_earlier_version_closes_nothing_and_adds_no_row(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "scd2_delete_first")
    result = write(spark, location, [(1, None, "D", t(4)), (2, "Rome", "I", t(1))], 0)
    assert result.inserted == 1
    assert_history(spark, location, [(2, "Rome", "I", t(1), t(1), None, True)])


def test_a_null_key_keeps_one_history_like_any_other(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "scd2_null_key")
    write(spark, location, [(None, "Oslo", "I", t(1))], 0)
    write(spark, location, [(None, "Bergen", "U", t(3))], 1)
    assert_history(
        spark,
        location,
        [(None, "Oslo", "I", t(1), t(1), t(3), False), (None, "Bergen", "U", t(3), t(3), None, True)],
    )


def test_replaying_a_batch_changes_nothing(spark, make_runtime):
    location = make_runtime().location("t", Layer.SILVER, "scd2_replay")
    batch = [(1, "Oslo", "I", t(1)), (1, "Bergen", "U", t(3)), (1, None, "D", t(5))]
    write(spark, location, batch, 0)
    version = io.table_version(spark, location.path)
    result = write(spark, location, batch, 1)
    assert (result.inserted, result.updated, result.committed) == (0, 0, False)
    assert io.table_version(spark, location.path) == version
    assert_history(
        spark,
        location,
        [
            (1, "Oslo", "I", t(1), t(1), t(3), False),
            (1, "Bergen", "U", t(3), t(3), t(5), False),
        ],
    )
