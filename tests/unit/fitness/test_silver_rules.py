"""Each silver rule of the fitness spec, on tiny inline frames."""

from datetime import date, datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from medallion.pipelines.fitness import silver

CONF = {"age_as_of": "2023-03-15", "workout_max_hours": 3}
MULTIPLEX = "value STRING, topic STRING, partition INT, offset BIGINT, source_file STRING"


def stored(frame):
    """The columns a table stores: a build's ``_…`` working columns only feed quarantine."""
    return frame.select([c for c in frame.columns if not c.startswith("_")])


def envelope(spark, topic, values):
    return spark.createDataFrame([(v, topic, 0, i, "f.json") for i, v in enumerate(values)], MULTIPLEX)


def test_workout_timestamps_are_exact_not_float_rounded(spark):
    events = envelope(
        spark,
        "workout",
        [
            '{"user_id": 12474, "workout_id": 1, "timestamp": 1678521900.0, "action": "start", "session_id": 1}',
            '{"user_id": 12474, "workout_id": 1, "timestamp": 1678525800.0, "action": "stop", "session_id": 1}',
        ],
    )
    result = stored(silver.workouts(events))
    expected = spark.createDataFrame(
        [
            (12474, 1, datetime(2023, 3, 11, 8, 5, 0), "start", 1),
            (12474, 1, datetime(2023, 3, 11, 9, 10, 0), "stop", 1),
        ],
        "user_id BIGINT, workout_id BIGINT, time TIMESTAMP, action STRING, session_id BIGINT",
    )
    assert_df_equality(result, expected, ignore_row_order=True)
    seconds = result.select((F.max(F.unix_timestamp("time")) - F.min(F.unix_timestamp("time"))).alias("s")).first()["s"]
    assert seconds == 3900  # a 32-bit float would make this 3,968


def test_only_the_topic_asked_for_is_parsed(spark):
    events = envelope(spark, "bpm", ['{"device_id": 1, "time": "2023-03-10T12:26:08Z", "heartrate": 60.5}'])
    assert silver.workouts(events).count() == 0


def test_heart_rate_validity_null_and_zero_are_invalid(spark):
    events = envelope(
        spark,
        "bpm",
        [
            '{"device_id": 7, "time": "2023-03-10T12:26:08Z", "heartrate": 60.5}',
            '{"device_id": 7, "time": "2023-03-10T12:26:09Z", "heartrate": 0}',
            '{"device_id": 7, "time": "2023-03-10T12:26:10Z", "heartrate": -3.0}',
            '{"device_id": 7, "time": "2023-03-10T12:26:11Z", "heartrate": null}',
        ],
    )
    expected = spark.createDataFrame(
        [
            (7, datetime(2023, 3, 10, 12, 26, 8), 60.5, True),
            (7, datetime(2023, 3, 10, 12, 26, 9), 0.0, False),
            (7, datetime(2023, 3, 10, 12, 26, 10), -3.0, False),
            (7, datetime(2023, 3, 10, 12, 26, 11), None, False),
        ],
        "device_id BIGINT, time TIMESTAMP, heartrate DOUBLE, valid BOOLEAN",
    )
    assert_df_equality(stored(silver.heart_rate(events)), expected, ignore_row_order=True, ignore_nullable=True)


def test_user_profile_flattens_address_and_parses_us_dates(spark):
    events = envelope(
        spark,
        "user_info",
        [
            '{"user_id": 12140, "update_type": "update", "timestamp": 1678451625.0, "dob": "02/02/1999", "sex": "M", '
            '"gender": "M", "first_name": "Robert", "last_name": "Castillo", "address": {"street_address": '
            '"68994 Steven Vista", "city": "Pearblossom", "state": "CA", "zip": 93553}}',
        ],
    )
    row = silver.user_profile(events).first()
    assert row["dob"] == date(1999, 2, 2)
    assert (row["last_name"], row["city"], row["zip"]) == ("Castillo", "Pearblossom", 93553)
    assert row["updated"] == datetime(2023, 3, 10, 12, 33, 45)
    assert row["source_offset"] == 0


def test_users_dedupes_on_user_and_device_and_types_registration(spark):
    registrations = spark.createDataFrame(
        [(1, 10, "aa", 1678451168, "r.csv"), (1, 10, "aa", 1678451168, "r.csv"), (2, 20, "bb", 1678451529, "r.csv")],
        "user_id BIGINT, device_id BIGINT, mac_address STRING, registration_timestamp BIGINT, source_file STRING",
    )
    expected = spark.createDataFrame(
        [(1, 10, "aa", datetime(2023, 3, 10, 12, 26, 8)), (2, 20, "bb", datetime(2023, 3, 10, 12, 32, 9))],
        "user_id BIGINT, device_id BIGINT, mac_address STRING, registration_timestamp TIMESTAMP",
    )
    assert_df_equality(stored(silver.users(registrations)), expected, ignore_row_order=True)


@pytest.mark.parametrize(
    "dob, expected_bin",
    [
        (None, "invalid age"),
        (date(2005, 3, 16), "under 18"),  # turns 18 tomorrow
        (date(2005, 3, 15), "18-25"),  # 18 today: lower bound inclusive
        (date(1998, 3, 15), "25-35"),  # exactly 25
        (date(1939, 7, 25), "75-85"),  # 83 at the as-of date
        (date(1928, 1, 1), "95+"),
        (date(2030, 1, 1), "invalid age"),  # born after the as-of date
    ],
)
def test_age_bins_at_the_as_of_date(spark, dob, expected_bin):
    profiles = spark.createDataFrame(
        [(1, dob, "F", "LA", "CA")], "user_id BIGINT, dob DATE, gender STRING, city STRING, state STRING"
    )
    registered = spark.createDataFrame([(1,)], "user_id BIGINT")
    assert silver.user_bins(profiles, registered, CONF).first()["age"] == expected_bin


def test_user_bins_only_for_registered_users(spark):
    profiles = spark.createDataFrame(
        [(1, date(1990, 1, 1), "F", "LA", "CA"), (2, date(1990, 1, 1), "M", "SF", "CA")],
        "user_id BIGINT, dob DATE, gender STRING, city STRING, state STRING",
    )
    registered = spark.createDataFrame([(1,)], "user_id BIGINT")
    assert [r.user_id for r in silver.user_bins(profiles, registered, CONF).collect()] == [1]


WORKOUT_SCHEMA = "user_id BIGINT, workout_id BIGINT, time TIMESTAMP, action STRING, session_id BIGINT"


def test_completed_workouts_match_start_and_stop_within_three_hours(spark):
    t = lambda h, m=0: datetime(2023, 3, 11, h, m)  # noqa: E731
    events = spark.createDataFrame(
        [
            (1, 1, t(8), "start", 1),
            (1, 1, t(9), "stop", 1),  # completed
            (2, 1, t(8), "start", 1),
            (2, 1, t(11), "stop", 1),  # exactly 3 hours: not less than 3 hours
            (3, 1, t(9), "stop", 1),  # a stop without a start
            (4, 1, t(8), "start", 1),  # a start without a stop
            (5, 1, t(8), "start", 1),
            (5, 1, t(9), "stop", 2),  # different session
        ],
        WORKOUT_SCHEMA,
    )
    expected = spark.createDataFrame(
        [(1, 1, 1, t(8), t(9))],
        "user_id BIGINT, workout_id BIGINT, session_id BIGINT, start_time TIMESTAMP, end_time TIMESTAMP",
    )
    assert_df_equality(silver.completed_workouts(events, events, CONF), expected, ignore_row_order=True)


def test_workout_bpm_start_exclusive_end_inclusive_valid_only(spark):
    start, end = datetime(2023, 3, 11, 8, 0, 0), datetime(2023, 3, 11, 8, 0, 3)
    workouts = spark.createDataFrame(
        [(1, 1, 1, start, end)],
        "user_id BIGINT, workout_id BIGINT, session_id BIGINT, start_time TIMESTAMP, end_time TIMESTAMP",
    )
    registered = spark.createDataFrame([(1, 77)], "user_id BIGINT, device_id BIGINT")
    second = lambda s: datetime(2023, 3, 11, 8, 0, s)  # noqa: E731
    readings = spark.createDataFrame(
        [
            (77, second(0), 60.0, True),  # exactly at start_time: excluded
            (77, second(1), 61.0, True),
            (77, second(2), 0.0, False),  # invalid: excluded
            (77, second(3), 63.0, True),  # exactly at end_time: included
            (77, second(4), 64.0, True),  # after the end
            (88, second(1), 99.0, True),  # another device
        ],
        "device_id BIGINT, time TIMESTAMP, heartrate DOUBLE, valid BOOLEAN",
    )
    result = silver.workout_bpm(workouts, workouts, registered, registered, readings, readings)  # all new
    assert sorted((r.time.second, r.heartrate) for r in result.collect()) == [(1, 61.0), (3, 63.0)]


def quarantined_and_kept(spark, table_name, built):
    """The rules each row of ``built`` breaks, through the engine's own checks: (quarantined rows as
    (rules, source), accepted rows as stored)."""
    from medallion.declare.pipeline import get_pipeline
    from medallion.engine import quality
    from medallion.engine.batch import final_columns

    rules = quality.rules_for(table_name, get_pipeline("fitness").get(table_name).expectations, None, built.columns)
    checked = quality.with_failed_rules(built, rules)
    rejected = quality.quarantine_rows(checked, rules, table_name, "run", 0).collect()
    kept = final_columns(quality.accepted_rows(checked, rules), keep_rescued=False).collect()
    return sorted((tuple(r["rules"]), r["source"]) for r in rejected), [tuple(r) for r in kept]


def test_a_login_in_microseconds_is_quarantined_with_its_rule_and_file_not_an_overflow(spark):
    logins = spark.createDataFrame(
        [
            ("aa", 1, 1678521600, 1678526400, "g.csv"),
            ("bb", 2, 1678521600000000, 1678526400, "bad.csv"),
            ("cc", 3, 1678521600, 1678526400000, "late.csv"),
        ],
        "mac_address STRING, gym BIGINT, login BIGINT, logout BIGINT, source_file STRING",
    )
    rejected, kept = quarantined_and_kept(spark, "gym_logs", silver.gym_logs(logins))
    assert rejected == [(("login_in_range",), "bad.csv"), (("logout_in_range",), "late.csv")]
    assert kept == [("aa", 1, datetime(2023, 3, 11, 8, 0), datetime(2023, 3, 11, 9, 20))]


def test_out_of_range_event_times_are_quarantined_in_every_silver_table(spark):
    registrations = spark.createDataFrame(
        [(1, 10, "aa", 1678451168, "r.csv"), (2, 20, "bb", -(10**18), "bad.csv")],
        "user_id BIGINT, device_id BIGINT, mac_address STRING, registration_timestamp BIGINT, source_file STRING",
    )
    rejected, kept = quarantined_and_kept(spark, "users", silver.users(registrations))
    assert (rejected, [row[0] for row in kept]) == ([(("registration_timestamp_in_range",), "bad.csv")], [1])
    events = envelope(
        spark,
        "workout",
        [
            '{"user_id": 1, "workout_id": 1, "timestamp": 1678521900.0, "action": "start", "session_id": 1}',
            '{"user_id": 1, "workout_id": 1, "timestamp": 16785219000000.0, "action": "stop", "session_id": 1}',
        ],
    )
    rejected, kept = quarantined_and_kept(spark, "workouts", silver.workouts(events))
    assert rejected == [(("value_is_workout", "time_in_range"), "f.json#workout/0@1")]
    assert kept == [(1, 1, datetime(2023, 3, 11, 8, 5), "start", 1)]
