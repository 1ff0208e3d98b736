"""Bronze: the landing files as they came, typed by an explicit schema, with load metadata.

The framework adds the source rules to every table fed by landing files: rows that do not parse, hold a
value of the wrong type or bytes that are not UTF-8 are quarantined with their raw text (rules ``parsed``,
``valid_utf8``); undeclared JSON fields are kept in ``_rescued_data`` and counted as drift. Nothing is
dropped.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.declare.conversions import in_range, timestamp_from_millis, timestamp_from_seconds
from medallion.declare.tables import (
    Append,
    FileSource,
    Layer,
    Scd1,
    expect,
    expect_or_drop,
    not_empty,
    snapshot,
    table,
    unique,
)

REGISTERED_USERS = FileSource(
    folder="registered_users_bz",
    format="csv",
    schema="user_id BIGINT, device_id BIGINT, mac_address STRING, registration_timestamp BIGINT",
)
GYM_LOGINS = FileSource(
    folder="gym_logins_bz",
    format="csv",
    schema="mac_address STRING, gym BIGINT, login BIGINT, logout BIGINT",
)
KAFKA_MULTIPLEX = FileSource(
    folder="kafka_multiplex_bz",
    format="json",
    schema="key STRING, value STRING, topic STRING, partition INT, offset BIGINT, timestamp BIGINT",
)
CALENDAR_NUMBERS = ("week", "year", "month", "dayofweek", "dayofmonth", "dayofyear")
DATE_LOOKUP = FileSource(
    folder="date_lookup",
    format="json",
    stream=False,
    schema="date STRING, week STRING, year STRING, month STRING, dayofweek STRING, dayofmonth STRING, "
    "dayofyear STRING, week_part STRING",
)

EPOCH_CONVERSIONS = {"seconds": timestamp_from_seconds, "milliseconds": timestamp_from_millis}


@table(
    Layer.BRONZE,
    Scd1(("date",)),
    {"raw": DATE_LOOKUP},
    history=True,
    expectations=(
        expect_or_drop("date_is_valid", "date IS NOT NULL"),
        # The file writes its numbers as text: one that is not a whole number must not become NULL (or be
        # truncated, as a cast of '1.5' is) unseen.
        expect_or_drop(
            "numbers_are_whole",
            " AND ".join(f"(_{c}_text IS NULL OR trim(_{c}_text) RLIKE '^[0-9]+$')" for c in CALENDAR_NUMBERS),
        ),
    ),
    checks=(not_empty(), unique("date")),
)
def date_lookup(raw: DataFrame) -> DataFrame:
    """Calendar lookup (date → week_part), loaded once by the history loader."""
    return raw.select(
        F.to_date("date").alias("date"),
        *[F.col(c).cast("int").alias(c) for c in CALENDAR_NUMBERS],
        "week_part",
        *[F.col(c).alias(f"_{c}_text") for c in CALENDAR_NUMBERS],
        "_corrupt_record",
    )


@table(Layer.BRONZE, Append(), {"raw": REGISTERED_USERS})
def registered_users_bz(raw: DataFrame) -> DataFrame:
    """Device registrations as landed."""
    return raw


@table(Layer.BRONZE, Append(), {"raw": GYM_LOGINS})
def gym_logins_bz(raw: DataFrame) -> DataFrame:
    """Gym login/logout records as landed."""
    return raw


@table(
    Layer.BRONZE,
    Append(),
    {"raw": KAFKA_MULTIPLEX, "dates": snapshot("date_lookup")},
    partition_by=("topic", "week_part"),
    expectations=(expect("date_in_lookup", "week_part IS NOT NULL"), in_range("date")),
)
def kafka_multiplex_bz(raw: DataFrame, dates: DataFrame, conf) -> DataFrame:
    """One multiplexed topic stream (user_info, workout, bpm) with the calendar week of each event."""
    # The envelope's timestamp is an integer, converted in its own unit: exact, and no decimal arithmetic per
    # message. One in another unit than the configured one can overflow: guarded, the row is quarantined.
    event_time, raw_value = EPOCH_CONVERSIONS[conf["kafka_timestamp_unit"]]("timestamp", "date")
    calendar = F.broadcast(dates.select(F.col("date").alias("_date"), "week_part"))
    return (
        raw.select("*", event_time, raw_value)
        .withColumn("date", F.to_date("date"))
        .join(calendar, F.col("date") == F.col("_date"), "left")
        .select(
            "key",
            "value",
            "topic",
            "partition",
            "offset",
            "timestamp",
            "date",
            "week_part",
            "load_time",
            "source_file",
            "_corrupt_record",
            "_rescued_data",
            "_date_raw",
        )
    )
