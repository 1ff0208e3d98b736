"""Gold tables as the fitness pipeline writes them (same columns and types), small and fixed, written
with delta-rs so these tests need no Spark session."""

import datetime

import pyarrow as pa
import pytest
from deltalake import write_deltalake

AGES = ("<18", "18-25", "25-35", "35-45")

GYM_SUMMARY = pa.schema(
    [
        ("date", pa.date32()),
        ("gym", pa.int64()),
        ("mac_address", pa.string()),
        ("workout_id", pa.int64()),
        ("session_id", pa.int64()),
        ("minutes_in_gym", pa.float64()),
        ("minutes_exercising", pa.float64()),
    ]
)
WORKOUT_BPM_SUMMARY = pa.schema(
    [
        ("workout_id", pa.int64()),
        ("session_id", pa.int64()),
        ("user_id", pa.int64()),
        ("age", pa.string()),
        ("gender", pa.string()),
        ("city", pa.string()),
        ("state", pa.string()),
        ("min_bpm", pa.float64()),
        ("avg_bpm", pa.float64()),
        ("max_bpm", pa.float64()),
        ("num_recordings", pa.int64()),
    ]
)


def gym_rows():
    rows = []
    for day in range(3):
        for gym in (1, 2):
            rows.append(
                {
                    "date": datetime.date(2019, 12, 1 + day),
                    "gym": gym,
                    "mac_address": f"aa:bb:cc:0{day}:0{gym}",
                    "workout_id": gym,
                    "session_id": day * 2 + gym,
                    "minutes_in_gym": 60.0 + 10 * day + gym,
                    "minutes_exercising": 30.0 + 5 * day,
                }
            )
    return rows


def bpm_rows():
    rows = []
    for i in range(8):
        rows.append(
            {
                "workout_id": i % 2 + 1,
                "session_id": i,
                "user_id": 12470 + i,
                "age": AGES[i % 4],
                "gender": "F" if i % 2 else "M",
                "city": "Fresno",
                "state": "CA",
                "min_bpm": 40.0 + i,
                "avg_bpm": 60.0 + i,
                "max_bpm": 90.0 + i,
                "num_recordings": 100 * (i + 1),
            }
        )
    return rows


def write_gold(root, tables=("gym_summary", "workout_bpm_summary")):
    data = {"gym_summary": (gym_rows(), GYM_SUMMARY), "workout_bpm_summary": (bpm_rows(), WORKOUT_BPM_SUMMARY)}
    for name in tables:
        rows, schema = data[name]
        write_deltalake(f"{root}/fitness/gold/{name}", pa.Table.from_pylist(rows, schema=schema))
    return root


@pytest.fixture
def gold_root(tmp_path):
    return write_gold(tmp_path / "lakehouse")
