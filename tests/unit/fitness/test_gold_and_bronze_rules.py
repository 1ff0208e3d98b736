"""Gold rules (watermark emission, gym minutes) and the bronze calendar join, on tiny frames."""

from datetime import date, datetime

import pytest

from medallion.pipelines.fitness import bronze, gold

CONF = {"summary_watermark_seconds": 30, "kafka_timestamp_unit": "seconds"}
READINGS = (
    "user_id BIGINT, workout_id BIGINT, session_id BIGINT, start_time TIMESTAMP, end_time TIMESTAMP, time TIMESTAMP, "
    "heartrate DOUBLE"
)
BINS = "user_id BIGINT, age STRING, gender STRING, city STRING, state STRING"


def readings_of(spark, sessions):
    rows = []
    for user, session, start, end, rates in sessions:
        for i, rate in enumerate(rates, start=1):
            rows.append((user, 1, session, start, end, start.replace(second=i), rate))
    return spark.createDataFrame(rows, READINGS)


def test_summary_waits_until_the_watermark_passes_the_session_end(spark):
    t = lambda h, m=0, s=0: datetime(2023, 3, 11, h, m, s)  # noqa: E731
    readings = readings_of(
        spark,
        [
            (1, 1, t(8), t(9), [60.0, 70.0, 80.0]),  # ended long before the latest session: emitted
            (2, 1, t(9), t(10), [90.0]),  # ends 20 s before the latest end: within 30 s, waits
            (3, 1, t(9), t(10, 0, 20), [50.0]),  # the latest session: waits
        ],
    )
    bins = spark.createDataFrame([(1, "25-35", "F", "LA", "CA")], BINS)
    rows = gold.workout_bpm_summary(readings, bins, CONF).collect()
    assert [(r.user_id, r.min_bpm, r.avg_bpm, r.max_bpm, r.num_recordings, r.age) for r in rows] == [
        (1, 60.0, 70.0, 80.0, 3, "25-35")
    ]


def test_summary_of_a_single_session_waits(spark):
    readings = readings_of(spark, [(1, 1, datetime(2023, 3, 11, 8), datetime(2023, 3, 11, 9), [60.0])])
    assert gold.workout_bpm_summary(readings, spark.createDataFrame([], BINS), CONF).count() == 0


def test_gym_summary_minutes_and_login_date(spark):
    visits = spark.createDataFrame(
        [("tok-a", 5, datetime(2023, 3, 11, 7, 0), datetime(2023, 3, 11, 8, 15))],
        "mac_address STRING, gym BIGINT, login TIMESTAMP, logout TIMESTAMP",
    )
    registered = spark.createDataFrame([(1, "tok-a")], "user_id BIGINT, mac_address STRING")
    workouts = spark.createDataFrame(
        [
            (1, 1, 1, datetime(2023, 3, 11, 7, 5), datetime(2023, 3, 11, 8, 10, 10)),  # inside the visit
            (1, 1, 2, datetime(2023, 3, 11, 9, 0), datetime(2023, 3, 11, 9, 30)),  # after the visit
        ],
        "user_id BIGINT, workout_id BIGINT, session_id BIGINT, start_time TIMESTAMP, end_time TIMESTAMP",
    )
    rows = gold.gym_summary(visits, registered, workouts).collect()
    assert [(r.date, r.gym, r.session_id, float(r.minutes_in_gym), float(r.minutes_exercising)) for r in rows] == [
        (date(2023, 3, 11), 5, 1, 75.0, 65.17)
    ]


@pytest.mark.parametrize("unit, timestamp", [("seconds", 1678521900), ("milliseconds", 1678521900000)])
def test_multiplex_dates_use_the_configured_timestamp_unit(spark, unit, timestamp):
    raw = spark.createDataFrame(
        [("k", "{}", "workout", 0, 1, timestamp, datetime(2023, 3, 11), "f.json", None, None)],
        "key STRING, value STRING, topic STRING, partition INT, offset BIGINT, timestamp BIGINT, "
        "load_time TIMESTAMP, source_file STRING, _corrupt_record STRING, _rescued_data STRING",
    )
    dates = spark.createDataFrame([(date(2023, 3, 11), "2023-10")], "date DATE, week_part STRING")
    row = bronze.kafka_multiplex_bz(raw, dates, {"kafka_timestamp_unit": unit}).first()
    assert (row["date"], row["week_part"]) == (date(2023, 3, 11), "2023-10")


def test_a_multiplex_timestamp_in_another_unit_is_quarantined_not_an_overflow(spark):
    from medallion.declare.pipeline import get_pipeline
    from medallion.engine import quality

    raw = spark.createDataFrame(
        [
            ("k", "{}", "bpm", 0, 1, 1678521900, datetime(2023, 3, 11), "f.json", None, None),
            ("k", "{}", "bpm", 0, 2, 1678521900000000, datetime(2023, 3, 11), "bad.json", None, None),
        ],
        "key STRING, value STRING, topic STRING, partition INT, offset BIGINT, timestamp BIGINT, "
        "load_time TIMESTAMP, source_file STRING, _corrupt_record STRING, _rescued_data STRING",
    )
    dates = spark.createDataFrame([(date(2023, 3, 11), "2023-10")], "date DATE, week_part STRING")
    built = bronze.kafka_multiplex_bz(raw, dates, {"kafka_timestamp_unit": "seconds"})
    rules = quality.rules_for(
        "kafka_multiplex_bz", get_pipeline("fitness").get("kafka_multiplex_bz").expectations, None, built.columns
    )
    checked = quality.with_failed_rules(built, rules)
    rejected = quality.quarantine_rows(checked, rules, "kafka_multiplex_bz", "run", 0).collect()
    assert [(r["rules"], r["source"]) for r in rejected] == [(["date_in_lookup", "date_in_range"], "bad.json")]
    assert [(r["offset"], r["date"], r["week_part"]) for r in quality.accepted_rows(checked, rules).collect()] == [
        (1, date(2023, 3, 11), "2023-10")
    ]


def test_a_calendar_number_that_is_not_whole_is_quarantined_not_nulled_or_truncated(spark):
    from medallion.declare.pipeline import get_pipeline
    from medallion.engine import quality

    columns = ["date", "week", "year", "month", "dayofweek", "dayofmonth", "dayofyear", "week_part"]
    raw = spark.createDataFrame(
        [
            ("2023-01-01", "1", "2023", "1", "1", "1", "1", "2023-1", None),
            ("2023-01-02", "1", "2023", "1", "two", "2", "2", "2023-1", None),
            ("2023-01-03", "1", "2023", "1", "3", "3", "3.5", "2023-1", None),
        ],
        ", ".join(f"{c} STRING" for c in columns) + ", _corrupt_record STRING",
    )
    built = bronze.date_lookup(raw)
    declared = get_pipeline("fitness").get("date_lookup")
    rules = quality.rules_for("date_lookup", declared.expectations, None, built.columns)
    checked = quality.with_failed_rules(built, rules)
    rejected = quality.quarantine_rows(checked, rules, "date_lookup", "run", 0).collect()
    assert sorted(r["rules"][0] for r in rejected) == ["numbers_are_whole", "numbers_are_whole"]
    accepted = quality.accepted_rows(checked, rules).collect()
    assert [(r["date"], r["dayofweek"], r["dayofyear"]) for r in accepted] == [(date(2023, 1, 1), 1, 1)]
