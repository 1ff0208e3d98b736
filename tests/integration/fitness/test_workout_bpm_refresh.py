"""workout_bpm, refreshed as its inputs arrive in any order: a user's registration may reach ``users`` after
the user's workouts and readings, and one device's readings may land days behind a later workout of
another device (devices sync in bulk). Each refresh is given what the engine gives it: every input as it
is now and the rows added since the last refresh; each row of the result is made by exactly one refresh."""

from datetime import datetime

import pytest

from medallion.pipelines.fitness import silver

pytestmark = pytest.mark.integration

WORKOUTS = "user_id BIGINT, workout_id BIGINT, session_id BIGINT, start_time TIMESTAMP, end_time TIMESTAMP"
USERS = "user_id BIGINT, device_id BIGINT"
READINGS = "device_id BIGINT, time TIMESTAMP, heartrate DOUBLE, valid BOOLEAN"
SCHEMAS = {"workouts": WORKOUTS, "users": USERS, "readings": READINGS}


class Refreshes:
    """The three inputs as they grow, and the rows each refresh of workout_bpm makes from them."""

    def __init__(self, spark):
        self.spark = spark
        self.rows: dict[str, list] = {name: [] for name in SCHEMAS}
        self.new: dict[str, list] = {name: [] for name in SCHEMAS}
        self.made: list[tuple] = []  # every row every refresh made, repeats included

    def land(self, name, rows):
        self.rows[name] += rows
        self.new[name] += rows

    def refresh(self) -> list[tuple]:
        """Refresh once; the table's rows after it (user, time, bpm), sorted."""
        frames = {
            name: (
                self.spark.createDataFrame(self.rows[name], schema),
                self.spark.createDataFrame(self.new[name], schema),
            )
            for name, schema in SCHEMAS.items()
        }
        built = silver.workout_bpm(*frames["workouts"], *frames["users"], *frames["readings"])
        self.made += [
            (r.user_id, r.workout_id, r.session_id, r.time.strftime("%H:%M:%S"), r.heartrate) for r in built.collect()
        ]
        self.new = {name: [] for name in SCHEMAS}
        return sorted({(user, time, bpm) for user, _, _, time, bpm in self.made})

    def made_once(self) -> bool:
        return len(self.made) == len(set(self.made))


def at(hour, minute=0, second=0, day=11):
    return datetime(2023, 3, day, hour, minute, second)


@pytest.mark.parametrize(
    "order", [("workouts", "readings", "users"), ("users", "readings", "workouts"), ("readings", "users", "workouts")]
)
def test_readings_are_attributed_whichever_input_arrives_last(spark, order):
    refreshes = Refreshes(spark)
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
        refreshes.land(name, batches[name])
        assert refreshes.refresh() == (expected if arrived == 3 else [])
    made = len(refreshes.made)
    assert refreshes.refresh() == expected
    assert (len(refreshes.made), refreshes.made_once()) == (made, True)  # nothing new: nothing made again


def test_readings_landing_days_behind_a_later_workout_still_join(spark):
    refreshes = Refreshes(spark)
    refreshes.land("users", [(1, 77), (2, 88)])
    refreshes.land("workouts", [(2, 1, 1, at(20, day=18), at(20, 30, day=18))])  # device 88 synced first: a week on
    refreshes.land("readings", [(88, at(20, 10, day=18), 90.0, True)])
    assert refreshes.refresh() == [(2, "20:10:00", 90.0)]

    refreshes.land("workouts", [(1, 1, 1, at(8), at(8, 30))])  # device 77's workout a week earlier syncs later
    assert refreshes.refresh() == [(2, "20:10:00", 90.0)]
    refreshes.land("readings", [(77, at(8, 10), 61.0, True), (77, at(8, 40), 62.0, True)])  # then its readings
    assert refreshes.refresh() == [(1, "08:10:00", 61.0), (2, "20:10:00", 90.0)]
    assert refreshes.made_once()


def test_a_refresh_with_both_new_workouts_and_new_readings_makes_each_row_once(spark):
    refreshes = Refreshes(spark)
    refreshes.land("users", [(1, 77)])
    refreshes.land("workouts", [(1, 1, 1, at(8), at(8, 30))])
    refreshes.land("readings", [(77, at(8, 10), 61.0, True)])
    assert refreshes.refresh() == [(1, "08:10:00", 61.0)]
    morning = [(77, at(8, 20), 62.0, True)]  # a new reading of the earlier workout
    evening = [(77, at(18, 10), 70.0, True), (77, at(18, 20), 0.0, False)]  # the new workout's, one not valid
    refreshes.land("readings", morning + evening)
    refreshes.land("workouts", [(1, 2, 1, at(18), at(18, 30))])
    refreshes.land("users", [(3, 99)])  # a new user without workouts
    assert refreshes.refresh() == [(1, "08:10:00", 61.0), (1, "08:20:00", 62.0), (1, "18:10:00", 70.0)]
    assert refreshes.made_once()
