"""The spec's acceptance table: cumulative counts after producing and running set 1, then set 2."""

from collections.abc import Mapping
from typing import Any

from medallion.declare.tables import ExpectedCount as Check
from medallion.errors import MedallionError

PUBLISHED_READINGS = 253_801


def expected_counts_for(conf: Mapping[str, Any]) -> dict[int, list[Check]]:
    if int(conf["bpm_readings_per_set"]) != PUBLISHED_READINGS:
        raise MedallionError("the fitness acceptance counts hold for bpm_readings_per_set = 253801 only")
    after = {
        1: dict(
            users=5,
            gyms=8,
            profiles=7,
            workouts=16,
            bpm=253_801,
            people=5,
            completed=8,
            workout_bpm=3_900,
            gym=8,
            summary=0,
        ),
        2: dict(
            users=10,
            gyms=16,
            profiles=13,
            workouts=32,
            bpm=507_602,
            people=10,
            completed=16,
            workout_bpm=8_100,
            gym=16,
            summary=2,
        ),
    }
    return {
        n: [
            Check("registered_users_bz", c["users"]),
            Check("users", c["users"]),
            Check("gym_logins_bz", c["gyms"]),
            Check("gym_logs", c["gyms"]),
            Check("kafka_multiplex_bz", c["profiles"], "topic = 'user_info'"),
            Check("kafka_multiplex_bz", c["workouts"], "topic = 'workout'"),
            Check("workouts", c["workouts"]),
            Check("kafka_multiplex_bz", c["bpm"], "topic = 'bpm'"),
            Check("heart_rate", c["bpm"]),
            Check("user_profile", c["people"]),
            Check("user_bins", c["people"]),
            Check("completed_workouts", c["completed"]),
            Check("workout_bpm", c["workout_bpm"]),
            Check("gym_summary", c["gym"]),
            Check("workout_bpm_summary", c["summary"]),
        ]
        for n, c in after.items()
    }
