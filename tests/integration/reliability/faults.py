"""A cut-down fitness data set with faults injected into the landing zone, and how to compare lakehouses.

Set A is the published set 1 (users, gym logins, profiles, workouts) plus 410 heart-rate readings
around user 12474's workout (every 10 s, 390 of them inside it), and files with faults: duplicate and
NULL/blank keys, wrong types, extra and missing CSV fields, malformed JSON, a non-UTF-8 file, an empty
file, a stale CDC update after a newer one, a profile of an unregistered user.

Set B lands later: a new column (JSON envelope and message value, a CSV header), a changed type (CSV and
JSON), a heart-rate reading far behind the watermark, and a CDC update older than the stored row.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from importlib import import_module
from pathlib import Path

from medallion.platform.config import Settings

producer = import_module("medallion.pipelines.fitness.producer")

DEVICE = 118440  # user 12474, workout 1678521900 → 1678525800
BPM_TIMES = range(1678521800, 1678525900, 10)
LATE_READING_TIME = 1678522005  # inside the workout, landing an hour after the device's later readings
LATE_STOP_TIME = 1678522100  # a workout's stop an hour behind the workouts' watermark after set A


def _iso(second: int) -> str:
    return datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


RAW_PERSONAL_VALUES = {  # what silver and gold must never hold in clear
    "macs": [
        "4c:c5:9f:cb:13:bd",
        "ae:ec:f6:48:ca:f7",
        "36:1f:d9:d3:e8:0d",
        "14:cd:d6:db:70:f6",
        "57:24:ac:8c:75:ea",
        "aa:aa:aa:aa:aa:aa",
        "1d:69:69:75:d0:aa",
    ],
    "names": ["Matthew", "Phillips", "Robert", "Clark", "Castillo", "Smith", "Reyes", "Sheppard"],
    "streets": ["02648 Wilkins Cliffs Suite 998", "68994 Steven Vista"],
}


def envelope(topic: str, key, value: dict | str, offset: int, timestamp: int, **extra) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return json.dumps(
        {
            "key": str(key),
            "value": text,
            "topic": topic,
            "partition": 0,
            "offset": offset,
            "timestamp": timestamp,
            **extra,
        }
    )


def profile(user_id: int, update_type: str, timestamp: float, last_name: str, city: str, zip_code=91340) -> dict:
    return {
        "user_id": user_id,
        "update_type": update_type,
        "timestamp": timestamp,
        "dob": "07/25/1939",
        "sex": "M",
        "gender": "M",
        "first_name": "Robert",
        "last_name": last_name,
        "address": {"street_address": "68994 Steven Vista", "city": city, "state": "CA", "zip": zip_code},
    }


def bpm_lines() -> list[str]:
    return [
        envelope("bpm", DEVICE, {"device_id": DEVICE, "time": _iso(second), "heartrate": 60.0 + i % 30}, i, second)
        for i, second in enumerate(BPM_TIMES)
    ]


SET_A_FAULT_FILES = {
    "registered_users_bz/7-registered_users_faults.csv": (
        b"user_id,device_id,mac_address,registration_timestamp\n"
        b"12474,118440,4c:c5:9f:cb:13:bd,1678451168\n"  # exact duplicate of a published row: streaming dedupe
        b"12474,999999,aa:aa:aa:aa:aa:aa,1678451169\n"  # same user, other device: in-batch duplicate key
        b",118441,bb:bb:bb:bb:bb:bb,1678451170\n"  # NULL key → users quarantine (user_id_present)
        b"13000,abc,cc:cc:cc:cc:cc:cc,1678451171\n"  # wrong type → bronze quarantine (parsed)
        b"13001,118443,dd:dd:dd:dd:dd:dd,1678451172,surplus\n"  # extra field → parsed
        b"13002,118444\n"  # missing fields → parsed
    ),
    "gym_logins_bz/8-gym_logins_faults.csv": (
        b"mac_address,gym,login,logout\n"
        b"4c:c5:9f:cb:13:bd,5,1678521600,1678526400\n"  # same visit as a published row, later logout
        b"   ,1,1678522500,1678525200\n"  # blank key → gym_logs quarantine (login_present)
    ),
    "kafka_multiplex_bz/9-kafka_faults.json": "\n".join(
        [
            '{"key":"x","value":"{}","topic":"bpm","partition":0,"offset":1,"timestamp":',  # malformed JSON
            '{"key":"x","value":"{}","topic":"bpm","partition":0,"offset":"abc","timestamp":1678521800}',  # wrong type
            envelope(
                "user_info", 12140, profile(12140, "update", 1678451600.0, "Stale", "Pearblossom"), 12900, 1678451600
            ),
            envelope(
                "user_info",
                11745,
                profile(11745, "update", 1678451700.0, "Reyes", "Long Beach", zip_code="abc"),
                12901,
                1678451700,
            ),  # value field of wrong type
            envelope("user_info", 99999, profile(99999, "new", 1678451700.0, "Nobody", "Fresno"), 12902, 1678451700),
            envelope(
                "workout",
                12474,
                {"user_id": 12474, "workout_id": 1, "timestamp": 1678521900.0, "action": "start", "session_id": 1},
                190099,
                1678521900,
            ),  # duplicate event
            envelope(
                "bpm", DEVICE, {"device_id": DEVICE, "time": _iso(1678521805), "heartrate": "high"}, 900, 1678521805
            ),
        ]
    ).encode()
    + b"\n",
    "kafka_multiplex_bz/9-kafka_latin1.json": envelope(
        "user_info", 12474, profile(12474, "update", 1678451800.0, "ZOE", "Fresno"), 12903, 1678451800
    )
    .replace("ZOE", "Zo\u00eb")
    .encode("latin-1")
    + b"\n",
    "kafka_multiplex_bz/9-kafka_empty.json": b"",
}

SET_B_FILES = {
    "kafka_multiplex_bz/10-kafka_drift.json": "\n".join(
        [
            envelope(
                "bpm",
                DEVICE,
                {"device_id": DEVICE, "time": _iso(1678525895), "heartrate": 71.0, "spo2": 97},
                1000,
                1678525895,
                headers={"schema": "v2"},
            ),  # new envelope + value fields
            envelope(
                "bpm",
                DEVICE,
                {"device_id": DEVICE, "time": _iso(LATE_READING_TIME), "heartrate": 70.0},
                1001,
                LATE_READING_TIME,
            ),  # an hour late
            envelope(
                "workout",
                12474,
                {
                    "user_id": 12474,
                    "workout_id": 3,
                    "timestamp": float(LATE_STOP_TIME),
                    "action": "stop",
                    "session_id": 4,
                },
                190101,
                LATE_STOP_TIME,
            ),  # late beyond the watermark
            envelope(
                "user_info", 13559, profile(13559, "update", 1678451640.0, "Smith", "Stale City"), 12904, 1678451640
            ),  # older than the stored row
            envelope(
                "workout",
                12474,
                {
                    "user_id": 12474,
                    "workout_id": 2,
                    "timestamp": "2023-03-11 09:00:00",
                    "action": "start",
                    "session_id": 3,
                },
                190100,
                1678525900,
            ),  # changed type
        ]
    ).encode()
    + b"\n",
    "registered_users_bz/11-registered_users_drift.csv": (
        b"user_id,device_id,mac_address,registration_timestamp\n"
        b"14633,175406,1d:69:69:75:d0:aa,1678538830\n"
        b"14508,102558,df:f9:dc:5e:e2:a8,2023-03-11T12:43:45\n"  # changed type → parsed
    ),
    "registered_users_bz/12-registered_users_newcol.csv": (
        b"user_id,device_id,mac_address,registration_timestamp,country\n"
        b"13937,143442,dd:96:be:e9:1e:f4,1678539037,US\n"  # a new CSV column: quarantined whole
    ),
}


def land_set_a(settings: Settings) -> None:
    for folder, pattern in producer.PUBLISHED_FILES:
        name = pattern.format(n=1)
        _write(settings, f"{folder}/{name}", producer.data_file(name).read_bytes())
    _write(settings, "kafka_multiplex_bz/3-bpm_1.json", ("\n".join(bpm_lines()) + "\n").encode())
    for relative, content in SET_A_FAULT_FILES.items():
        _write(settings, relative, content)


def land_set_b(settings: Settings) -> None:
    for relative, content in SET_B_FILES.items():
        _write(settings, relative, content)


def _write(settings: Settings, relative: str, content: bytes) -> None:
    """Like the producer: written under a hidden name, then renamed into place."""
    target = Path(settings.landing_path("fitness", relative))
    target.parent.mkdir(parents=True, exist_ok=True)
    hidden = target.with_name(f".{target.name}.tmp")
    hidden.write_bytes(content)
    os.replace(hidden, target)


# ------------------------------------------------------------------------------------------- comparing
VOLATILE = {"load_time", "run_id", "quarantined_at", "batch_id"}


def table_rows(spark, path: str) -> list[tuple]:
    """A table's rows, sorted, without what legitimately differs between two runs of the same input
    (load and quarantine times, run ids), with file paths reduced to file names."""
    frame = spark.read.format("delta").load(path)
    columns = [c for c in frame.columns if c not in VOLATILE]
    rows = []
    for row in frame.select(*columns).collect():
        rows.append(tuple(_stable(name, row[name]) for name in columns))
    return sorted(rows, key=repr)


def lakehouse_rows(runtime, pipeline) -> dict[str, list[tuple]]:
    """Every declared table and the quarantine of a pipeline, as comparable rows."""
    spark = runtime.spark
    found = {
        t.name: table_rows(spark, runtime.location(pipeline.name, t.layer, t.name).path) for t in pipeline.ordered()
    }
    found["_quarantine"] = table_rows(spark, runtime.quarantine_path(pipeline.name))
    return found


def _stable(name: str, value):
    if name in ("source_file", "source") and isinstance(value, str):
        path, mark, message = value.partition("#")  # file#topic/partition@offset
        return os.path.basename(path) + mark + message
    if name == "record" and isinstance(value, str):
        record = json.loads(value)
        record.pop("load_time", None)
        if isinstance(record.get("source_file"), str):
            record["source_file"] = os.path.basename(record["source_file"])
        return json.dumps(record, sort_keys=True)
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value


def copy_table(source_runtime, target_root: str, pipeline: str, layer, table: str) -> None:
    """Copy one Delta table folder (relative paths: a Delta table can move) into another storage root."""
    source = Path(source_runtime.location(pipeline, layer, table).path)
    target = Path(target_root) / pipeline / layer.value / table
    shutil.copytree(source, target)
