"""workout_bpm as a stream, whatever order its inputs arrive in: a user's registration may reach
``users`` after the user's workouts and readings, and one device's readings may land behind a later
workout of another device (devices sync in bulk)."""

import os
from datetime import datetime

import pytest

from medallion.pipelines.fitness import silver

pytestmark = pytest.mark.integration

WORKOUTS = "user_id BIGINT, workout_id BIGINT, session_id BIGINT, start_time TIMESTAMP, end_time TIMESTAMP"
USERS = "user_id BIGINT, device_id BIGINT"
READINGS = "device_id BIGINT, time TIMESTAMP, heartrate DOUBLE, valid BOOLEAN"
SCHEMAS = {"workouts": WORKOUTS, "users": USERS, "readings": READINGS}


class Streams:
    """Delta tables for the three inputs and one query over them, run with availableNow per call."""

    def __init__(self, spark, folder, lateness: str):
        self.spark, self.folder = spark, folder
        self.conf = {"workout_max_hours": 3, "readings_lateness": lateness}
        self.paths = {name: str(folder / name) for name in (*SCHEMAS, "out")}
        for name, schema in SCHEMAS.items():  # every input exists, empty, before the query starts
            spark.createDataFrame([], schema).write.format("delta").save(self.paths[name])

    def land(self, name, rows):
        self.spark.createDataFrame(rows, SCHEMAS[name]).write.format("delta").mode("append").save(self.paths[name])

    def run(self):
        inputs = {name: self.spark.readStream.format("delta").load(self.paths[name]) for name in SCHEMAS}
        built = silver.workout_bpm(inputs["workouts"], inputs["users"], inputs["readings"], self.conf)
        query = (
            built.writeStream.format("delta")
            .option("checkpointLocation", str(self.folder / "checkpoint"))
            .trigger(availableNow=True)
            .start(self.paths["out"])
        )
        query.awaitTermination()
        if not os.path.exists(self.paths["out"]):
            return []
        rows = self.spark.read.format("delta").load(self.paths["out"]).collect()
        return sorted((r.user_id, r.time.strftime("%H:%M:%S"), r.heartrate) for r in rows)


def at(hour, minute=0, second=0):
    return datetime(2023, 3, 11, hour, minute, second)


@pytest.mark.parametrize(
    "order", [("workouts", "readings", "users"), ("users", "readings", "workouts"), ("readings", "users", "workouts")]
)
def test_readings_are_attributed_whichever_input_arrives_last(spark, tmp_path, order):
    streams = Streams(spark, tmp_path, "30 seconds")
    batches = {
        "workouts": [(1, 1, 1, at(8), at(8, 0, 3))],
        "readings": [
            (77, at(8, 0, 1), 61.0, True),
            (77, at(8, 0, 3), 63.0, True),
            (77, at(8, 0, 4), 64.0, True),
            (88, at(8, 0, 2), 99.0, True),
        ],
        "users": [(1, 77), (2, 88)],  # user 2 has a reading but no workout
    }
    expected = [(1, "08:00:01", 61.0), (1, "08:00:03", 63.0)]
    for arrived, name in enumerate(order, start=1):
        streams.land(name, batches[name])
        assert streams.run() == (expected if arrived == 3 else [])
    assert streams.run() == expected  # nothing new: nothing added


@pytest.mark.parametrize("lateness, joined", [("3 days", True), ("30 seconds", False)])
def test_readings_landing_behind_a_later_workout_join_within_the_lateness(spark, tmp_path, lateness, joined):
    streams = Streams(spark, tmp_path, lateness)
    streams.land("users", [(1, 77), (2, 88)])
    streams.land("workouts", [(2, 1, 1, at(20), at(20, 30))])  # device 88 synced first: a workout at 20:00
    streams.land("readings", [(88, at(20, 10), 90.0, True)])
    assert streams.run() == [(2, "20:10:00", 90.0)]

    streams.land("workouts", [(1, 1, 1, at(8), at(8, 30))])  # device 77's morning workout syncs later
    assert streams.run() == [(2, "20:10:00", 90.0)]
    streams.land("readings", [(77, at(8, 10), 61.0, True)])  # and its readings after that
    expected = [(1, "08:10:00", 61.0), (2, "20:10:00", 90.0)] if joined else [(2, "20:10:00", 90.0)]
    assert streams.run() == expected
