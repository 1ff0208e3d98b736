"""Gold: per-session heart-rate summaries and gym visits, as Delta tables BI tools can read."""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.declare.tables import InsertOnly, Layer, Scd1, snapshot, table, unique


@table(
    Layer.GOLD,
    InsertOnly(("user_id", "workout_id", "session_id")),
    {"readings": snapshot("workout_bpm"), "bins": snapshot("user_bins")},
    checks=(unique("user_id", "workout_id", "session_id"),),
)
def workout_bpm_summary(readings: DataFrame, bins: DataFrame, conf) -> DataFrame:
    """bpm statistics per completed session, emitted once the event-time watermark has passed its end.

    The watermark is the latest ``end_time`` seen minus the configured delay (30 s): a session ending
    after it waits for later data. It is computed from the data, not from when a batch ran, so batch
    and stream runs emit the same sessions; insert-only means an emitted session is final.
    """
    delay = int(conf["summary_watermark_seconds"])
    watermark = readings.agg((F.max("end_time") - F.expr(f"INTERVAL {delay} SECONDS")).alias("watermark"))
    sessions = (
        readings.groupBy("user_id", "workout_id", "session_id", "end_time")
        .agg(
            F.min("heartrate").alias("min_bpm"),
            F.avg("heartrate").alias("avg_bpm"),
            F.max("heartrate").alias("max_bpm"),
            F.count(F.lit(1)).alias("num_recordings"),
        )
        .crossJoin(watermark)
        .where(F.col("end_time") < F.col("watermark"))
    )
    return sessions.join(bins, "user_id", "left").select(
        "workout_id",
        "session_id",
        "user_id",
        "age",
        "gender",
        "city",
        "state",
        "min_bpm",
        "avg_bpm",
        "max_bpm",
        "num_recordings",
    )


@table(
    Layer.GOLD,
    Scd1(("date", "gym", "mac_address", "workout_id", "session_id")),
    {"visits": snapshot("gym_logs"), "registered": snapshot("users"), "workouts": snapshot("completed_workouts")},
)
def gym_summary(visits: DataFrame, registered: DataFrame, workouts: DataFrame) -> DataFrame:
    """Minutes in the gym and exercising, per workout that started during a gym visit (date = login date, UTC)."""
    visitors = visits.join(registered.select("user_id", "mac_address"), "mac_address")
    during_visit = visitors.join(workouts, "user_id").where(
        F.col("start_time").between(F.col("login"), F.col("logout"))
    )
    return during_visit.select(
        F.to_date("login").alias("date"),
        "gym",
        "mac_address",
        "workout_id",
        "session_id",
        _minutes("login", "logout").alias("minutes_in_gym"),
        _minutes("start_time", "end_time").alias("minutes_exercising"),
    )


def _minutes(start: str, end: str):
    seconds = F.unix_timestamp(end) - F.unix_timestamp(start)
    return F.round(seconds / 60, 2)
