"""Silver: typed, deduplicated, change-applied tables; personal data tokenised.

A Kafka message value is parsed with :func:`medallion.sources.files.parse_json`: a value that is not
JSON, or holds a field of the wrong type (or a date/time text that does not parse), keeps its raw text
in ``_corrupt_record`` and is quarantined by ``value_parsed`` with its file and topic/partition/offset
(``_source``), never turned into NULLs; fields the
schema does not declare are counted as drift in the event log (the raw value stays in bronze).
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.declare.conversions import in_range, timestamp_from_seconds
from medallion.declare.tables import (
    CdcLatest,
    InsertOnly,
    Layer,
    Read,
    Scd1,
    UpdateIfNewer,
    added,
    expect_or_drop,
    references,
    snapshot,
    stream,
    table,
    unique,
)
from medallion.sources.files import parse_json

PROFILE_SCHEMA = (
    "user_id BIGINT, update_type STRING, timestamp DECIMAL(20,6), dob STRING, sex STRING, gender STRING, "
    "first_name STRING, last_name STRING, "
    "address STRUCT<street_address: STRING, city: STRING, state: STRING, zip: INT>"
)
WORKOUT_SCHEMA = "user_id BIGINT, workout_id BIGINT, timestamp DECIMAL(20,6), action STRING, session_id BIGINT"
BPM_SCHEMA = "device_id BIGINT, time STRING, heartrate DOUBLE"
AGE_BINS = (
    (18, "under 18"),
    (25, "18-25"),
    (35, "25-35"),
    (45, "35-45"),
    (55, "45-55"),
    (65, "55-65"),
    (75, "65-75"),
    (85, "75-85"),
    (95, "85-95"),
)


VALUE_PARSED = expect_or_drop("value_parsed", "_corrupt_record IS NULL")


def one_topic(topic: str) -> Read:
    """The messages of one topic, new since the last run: ``kafka_multiplex_bz`` is partitioned by topic, so a
    run whose new messages are all of other topics skips the table."""
    return stream("kafka_multiplex_bz", partition={"topic": topic})


def topic_values(multiplex: DataFrame, topic: str, schema: str) -> DataFrame:
    """The parsed ``value`` of one topic's messages (``v``), beside the envelope columns, the raw value
    when it does not parse (``_corrupt_record``) and its undeclared fields (``_rescued_data``)."""
    messages = parse_json(multiplex.where(F.col("topic") == topic), "value", schema)
    lineage = F.concat_ws("", "source_file", F.lit("#"), "topic", F.lit("/"), "partition", F.lit("@"), "offset")
    return messages.frame.select(
        messages.value.alias("v"),
        "value",
        "offset",
        lineage.alias("_source"),
        messages.corrupt.alias("_corrupt_record"),
        messages.rescued.alias("_rescued_data"),
    )


def unless_parsed(parsed, text: str):
    """``_corrupt_record``, also set to the raw value when ``text`` is present but ``parsed`` is NULL (a date
    or time that does not parse must not become NULL silently)."""
    return F.coalesce(F.col("_corrupt_record"), F.when(F.col(text).isNotNull() & parsed.isNull(), F.col("value")))


@table(
    Layer.SILVER,
    InsertOnly(("user_id",)),
    {"registrations": stream("registered_users_bz")},
    expectations=(
        expect_or_drop("user_id_present", "user_id IS NOT NULL"),
        expect_or_drop("device_id_present", "device_id IS NOT NULL"),
        in_range("registration_timestamp"),
    ),
    personal_data={"mac_address": "tokenize"},
    checks=(unique("user_id"),),
)
def users(registrations: DataFrame) -> DataFrame:
    """One row per registered user (first registration wins)."""
    return registrations.dropDuplicates(["user_id", "device_id"]).select(
        "user_id",
        "device_id",
        "mac_address",
        *timestamp_from_seconds("registration_timestamp"),
        F.col("source_file").alias("_source"),
    )


@table(
    Layer.SILVER,
    UpdateIfNewer(("mac_address", "gym", "login"), ("logout",), "logout"),
    {"logins": stream("gym_logins_bz")},
    expectations=(
        expect_or_drop("login_present", "trim(mac_address) != '' AND gym IS NOT NULL AND _login_raw IS NOT NULL"),
        in_range("login"),
        in_range("logout"),
    ),
    personal_data={"mac_address": "tokenize"},
    checks=(unique("mac_address", "gym", "login"),),
)
def gym_logs(logins: DataFrame) -> DataFrame:
    """Gym visits; a later logout for the same visit extends it."""
    return logins.select(
        "mac_address",
        "gym",
        *timestamp_from_seconds("login"),
        *timestamp_from_seconds("logout"),
        F.col("source_file").alias("_source"),
    )


@table(
    Layer.SILVER,
    CdcLatest(("user_id",), ("updated", "source_offset")),
    {"multiplex": one_topic("user_info")},
    expectations=(
        VALUE_PARSED,
        expect_or_drop("value_is_profile", "user_id IS NOT NULL AND updated IS NOT NULL"),
        expect_or_drop("known_update_type", "update_type IN ('new', 'update')"),
        in_range("updated"),
    ),
    personal_data={"first_name": "tokenize", "last_name": "tokenize", "street_address": "tokenize"},
    checks=(unique("user_id"), references("users", "user_id")),
)
def user_profile(multiplex: DataFrame) -> DataFrame:
    """Latest profile per user from the ``user_info`` CDC topic; ties on time go to the higher offset."""
    profiles = topic_values(multiplex, "user_info", PROFILE_SCHEMA)
    dob = F.to_date("v.dob", "MM/dd/yyyy")
    return profiles.select(
        F.col("v.user_id").alias("user_id"),
        dob.alias("dob"),
        F.col("v.sex").alias("sex"),
        F.col("v.gender").alias("gender"),
        F.col("v.first_name").alias("first_name"),
        F.col("v.last_name").alias("last_name"),
        F.col("v.address.street_address").alias("street_address"),
        F.col("v.address.city").alias("city"),
        F.col("v.address.state").alias("state"),
        F.col("v.address.zip").alias("zip"),
        *timestamp_from_seconds("v.timestamp", "updated"),
        F.col("v.update_type").alias("update_type"),
        F.col("offset").alias("source_offset"),
        unless_parsed(dob, "v.dob").alias("_corrupt_record"),
        "_rescued_data",
        "_source",
    )


@table(
    Layer.SILVER,
    InsertOnly(("user_id", "time")),
    {"multiplex": one_topic("workout")},
    expectations=(
        VALUE_PARSED,
        expect_or_drop("value_is_workout", "user_id IS NOT NULL AND time IS NOT NULL"),
        expect_or_drop("known_action", "action IN ('start', 'stop')"),
        in_range("time"),
    ),
    checks=(unique("user_id", "time"),),
)
def workouts(multiplex: DataFrame) -> DataFrame:
    """Workout start/stop events at their exact time (never through a 32-bit float)."""
    return topic_values(multiplex, "workout", WORKOUT_SCHEMA).select(
        F.col("v.user_id").alias("user_id"),
        F.col("v.workout_id").alias("workout_id"),
        *timestamp_from_seconds("v.timestamp", "time"),
        F.col("v.action").alias("action"),
        F.col("v.session_id").alias("session_id"),
        "_corrupt_record",
        "_rescued_data",
        "_source",
    )


@table(
    Layer.SILVER,
    InsertOnly(("device_id", "time")),
    {"multiplex": one_topic("bpm")},
    expectations=(VALUE_PARSED, expect_or_drop("value_is_reading", "device_id IS NOT NULL AND time IS NOT NULL")),
)
def heart_rate(multiplex: DataFrame) -> DataFrame:
    """Heart-rate readings. ``valid`` is heartrate > 0; a NULL heartrate is kept but not valid, since a
    reading without a value cannot count in a workout's bpm statistics."""
    readings = topic_values(multiplex, "bpm", BPM_SCHEMA)
    time = F.col("v.time").cast("timestamp")
    return readings.select(
        F.col("v.device_id").alias("device_id"),
        time.alias("time"),
        F.col("v.heartrate").alias("heartrate"),
        F.coalesce(F.col("v.heartrate") > 0, F.lit(False)).alias("valid"),
        unless_parsed(time, "v.time").alias("_corrupt_record"),
        "_rescued_data",
        "_source",
    )


def age_at(dob, as_of) -> "F.Column":
    """Whole years between ``dob`` and ``as_of`` (a birthday not yet reached that year does not count)."""
    birthday_pending = F.date_format(as_of, "MMdd") < F.date_format(dob, "MMdd")
    return F.year(as_of) - F.year(dob) - F.when(birthday_pending, 1).otherwise(0)


def age_bin(age) -> "F.Column":
    binned = F.when(age.isNull() | (age < 0), "invalid age")
    for upper, label in AGE_BINS:
        binned = binned.when(age < upper, label)
    return binned.otherwise("95+")


@table(
    Layer.SILVER,
    Scd1(("user_id",)),
    {"profiles": snapshot("user_profile"), "registered": snapshot("users")},
    checks=(unique("user_id"), references("users", "user_id", action="fail")),
)
def user_bins(profiles: DataFrame, registered: DataFrame, conf) -> DataFrame:
    """Age bin, gender and place per registered user, computed at the configured as-of date."""
    as_of = F.to_date(F.lit(conf["age_as_of"]))
    return profiles.join(registered.select("user_id"), "user_id").select(
        "user_id",
        age_bin(age_at(F.col("dob"), as_of)).alias("age"),
        "gender",
        "city",
        "state",
    )


@table(
    Layer.SILVER,
    InsertOnly(("user_id", "workout_id", "session_id")),
    {"starts": stream("workouts"), "stops": stream("workouts")},
)
def completed_workouts(starts: DataFrame, stops: DataFrame, conf) -> DataFrame:
    """A start matched with its stop (same user, workout, session) less than the configured hours later.
    Stream-stream join; the watermarks bound the join state."""
    max_hours = int(conf["workout_max_hours"])
    begun = (
        starts.where("action = 'start'")
        .withWatermark("time", "30 seconds")
        .select("user_id", "workout_id", "session_id", F.col("time").alias("start_time"))
    )
    ended = (
        stops.where("action = 'stop'")
        .withWatermark("time", "30 seconds")
        .select(
            F.col("user_id").alias("stop_user_id"),
            F.col("workout_id").alias("stop_workout_id"),
            F.col("session_id").alias("stop_session_id"),
            F.col("time").alias("end_time"),
        )
    )
    matched = begun.join(
        ended,
        F.expr(f"""
        user_id = stop_user_id AND workout_id = stop_workout_id AND session_id = stop_session_id
        AND end_time > start_time AND end_time < start_time + INTERVAL {max_hours} HOURS"""),
    )
    return matched.select("user_id", "workout_id", "session_id", "start_time", "end_time")


WORKOUT_KEYS = ("user_id", "workout_id", "session_id")


@table(
    Layer.SILVER,
    InsertOnly((*WORKOUT_KEYS, "time")),
    {
        "workouts": snapshot("completed_workouts"),
        "new_workouts": added("completed_workouts"),
        "registered": snapshot("users"),
        "new_registered": added("users"),
        "readings": snapshot("heart_rate"),
        "new_readings": added("heart_rate"),
    },
)
def workout_bpm(
    workouts: DataFrame,
    new_workouts: DataFrame,
    registered: DataFrame,
    new_registered: DataFrame,
    readings: DataFrame,
    new_readings: DataFrame,
) -> DataFrame:
    """Valid heart-rate readings inside each completed workout: start exclusive, end inclusive.

    A reading belongs to a workout through its user's device, and the three arrive in any order: devices
    sync in bulk, so readings can land days after their workout, and a workout can land before its
    user's registration. Each refresh adds only the rows its inputs' new rows make (``added``: the rows
    since the last refresh; the other arguments are the inputs as they are now), in two parts that
    never overlap:

    - a new workout, or an earlier workout whose user just registered, with every reading of its device
      in its time range (read with literal time bounds, so Delta skips the files outside them);
    - an earlier workout of an earlier user with the device's new readings.

    Nothing arrives too late: a reading landing a week after its workout still joins it."""
    devices, new_devices = _devices(registered), _devices(new_registered)
    earlier_devices = devices.join(new_devices.select("user_id"), "user_id", "left_anti")
    earlier = _sessions(workouts.join(new_workouts.select(*WORKOUT_KEYS), list(WORKOUT_KEYS), "left_anti"))
    read_in_full = _sessions(new_workouts).join(devices, "user_id").unionByName(earlier.join(new_devices, "user_id"))
    parts = [_readings_during(earlier.join(earlier_devices, "user_id"), _valid(new_readings))]
    first, last = read_in_full.agg(F.min("start_time"), F.max("end_time")).collect()[0]
    if first is not None:  # as literals, so Delta skips the readings files outside them by their statistics
        near = _valid(readings).where((F.col("time") > first) & (F.col("time") <= last))
        parts.append(_readings_during(read_in_full, near))
    return parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])


def _devices(registered: DataFrame) -> DataFrame:
    return registered.where("user_id IS NOT NULL AND device_id IS NOT NULL").select("user_id", "device_id")


def _sessions(workouts: DataFrame) -> DataFrame:
    return workouts.where("start_time IS NOT NULL AND end_time IS NOT NULL").select(
        *WORKOUT_KEYS, "start_time", "end_time"
    )


def _valid(readings: DataFrame) -> DataFrame:
    return readings.where("valid AND device_id IS NOT NULL AND time IS NOT NULL")


def _readings_during(sessions: DataFrame, readings: DataFrame) -> DataFrame:
    """Readings of a session's device with start_time < time <= end_time."""
    inside = readings.select(F.col("device_id").alias("reading_device_id"), "time", "heartrate").join(
        sessions,
        F.expr("device_id = reading_device_id AND time > start_time AND time <= end_time"),
    )
    return inside.select(*WORKOUT_KEYS, "start_time", "end_time", "time", "heartrate")
