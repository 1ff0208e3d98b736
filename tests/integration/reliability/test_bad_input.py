"""Bad input never disappears: every landed line ends in exactly one place, every batch reconciles, and
duplicates, NULL/blank keys, stale CDC, drift, changed types and late events are handled and counted.

One in-process lakehouse: set A (the published set 1 plus fault files), then set B (drift, late, stale),
then a run with nothing new."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from medallion.declare.pipeline import get_pipeline
from medallion.engine import runner
from medallion.engine.personal_data import token
from medallion.read.health import pipeline_health
from tests.integration.reliability import faults
from tests.integration.reliability.conftest import CANARY

FITNESS = get_pipeline("fitness")

ROWS_AFTER_A = {
    "date_lookup": 365,
    "registered_users_bz": 8,
    "gym_logins_bz": 10,
    "kafka_multiplex_bz": 438,
    "users": 5,
    "gym_logs": 8,
    "user_profile": 6,
    "workouts": 16,
    "heart_rate": 410,
    "user_bins": 5,
    "completed_workouts": 8,
    "workout_bpm": 390,
    "gym_summary": 8,
    "workout_bpm_summary": 0,
}
QUARANTINE_AFTER_A = {
    ("registered_users_bz", ("parsed",), "7-registered_users_faults.csv"): 3,
    ("kafka_multiplex_bz", ("date_in_lookup", "parsed"), "9-kafka_faults.json"): 1,  # malformed JSON
    ("kafka_multiplex_bz", ("parsed",), "9-kafka_faults.json"): 1,  # offset "abc"
    ("kafka_multiplex_bz", ("parsed", "valid_utf8"), "9-kafka_latin1.json"): 1,
    ("users", ("user_id_present",), "7-registered_users_faults.csv"): 1,
    ("gym_logs", ("login_present",), "8-gym_logins_faults.csv"): 1,
    ("user_profile", ("value_parsed",), "9-kafka_faults.json"): 1,  # zip "abc"
    ("heart_rate", ("value_parsed",), "9-kafka_faults.json"): 1,  # heartrate "high"
}
# table: rows_in, quarantined, inserted, updated, unchanged, duplicate
EVENTS_AFTER_A = {
    "registered_users_bz": (11, 3, 8, 0, 0, 0),
    "gym_logins_bz": (10, 0, 10, 0, 0, 0),
    "kafka_multiplex_bz": (441, 3, 438, 0, 0, 0),
    "users": (8, 1, 5, 0, 0, 2),  # one exact duplicate dropped by the streaming dedupe, one in-batch key
    "gym_logs": (10, 1, 8, 0, 0, 1),  # the same visit twice: the later logout kept
    "user_profile": (10, 1, 6, 0, 0, 3),  # new + update of two users and the stale update collapse per key
    "workouts": (17, 0, 16, 0, 0, 1),
    "heart_rate": (411, 1, 410, 0, 0, 0),
    "completed_workouts": (8, 0, 8, 0, 0, 0),
    "workout_bpm": (390, 0, 390, 0, 0, 0),
}


@pytest.fixture(scope="module")
def lakehouse(clean_run):
    return clean_run.runtime


def count(runtime, table: str) -> int:
    declared = FITNESS.get(table)
    return runtime.spark.read.format("delta").load(runtime.location("fitness", declared.layer, table).path).count()


def read(runtime, table: str):
    declared = FITNESS.get(table)
    return runtime.spark.read.format("delta").load(runtime.location("fitness", declared.layer, table).path)


def events(runtime, run_id: str) -> dict[str, dict]:
    log = runtime.spark.read.format("delta").load(runtime.system_path("event_log")).where(F.col("run_id") == run_id)
    return {row["table"]: row.asDict() for row in log.collect()}


def quarantine(runtime):
    return runtime.spark.read.format("delta").load(runtime.quarantine_path("fitness"))


# ------------------------------------------------------------------------------------------------ set A
def test_every_table_holds_exactly_the_expected_rows(clean_run):
    assert {name: len(rows) for name, rows in clean_run.rows.items() if name != "_quarantine"} == ROWS_AFTER_A


def test_every_bad_record_is_quarantined_with_its_rules_raw_text_and_source(lakehouse):
    rows = quarantine(lakehouse).collect()
    found = Counter((r["table"], tuple(r["rules"]), source_name(r["source"])) for r in rows)
    assert dict(found) == QUARANTINE_AFTER_A
    records = {json.loads(r["record"]).get("_corrupt_record") for r in rows if r["table"] == "registered_users_bz"}
    assert records == {
        "13000,abc,cc:cc:cc:cc:cc:cc,1678451171",
        "13001,118443,dd:dd:dd:dd:dd:dd,1678451172,surplus",
        "13002,118444",
    }
    profile = next(r for r in rows if r["table"] == "user_profile")
    assert profile["source"].endswith("/kafka_multiplex_bz/9-kafka_faults.json#user_info/0@12901")
    latin1 = next(r for r in rows if os.path.basename(r["source"] or "") == "9-kafka_latin1.json")
    assert "Zo\ufffd" in json.loads(latin1["record"])["_corrupt_record"]
    assert {r["run_id"] for r in rows} == {lakehouse_run_id(lakehouse)}


def source_name(source: str | None) -> str | None:
    """The file name of a quarantine source (``path/file.json#topic/partition@offset`` for Kafka messages)."""
    return os.path.basename(source.split("#")[0]) if source else None


def lakehouse_run_id(runtime) -> str:
    log = runtime.spark.read.format("delta").load(runtime.system_path("event_log"))
    return log.where("table = 'registered_users_bz'").orderBy("started_at").first()["run_id"]


def test_every_landed_line_ends_in_exactly_one_place(lakehouse):
    """Data lines of each landing file = its rows in bronze + its rows in quarantine (blank lines and CSV
    headers are not records; an empty file has none)."""
    landing = Path(lakehouse.settings.landing_path("fitness"))
    bronze = {
        "registered_users_bz": "registered_users_bz",
        "gym_logins_bz": "gym_logins_bz",
        "kafka_multiplex_bz": "kafka_multiplex_bz",
    }
    quarantined = Counter(
        os.path.basename(r["source"])
        for r in quarantine(lakehouse).where("source IS NOT NULL").where(F.col("table").isin(*bronze)).collect()
    )
    for folder, table in bronze.items():
        loaded = Counter(
            os.path.basename(r["source_file"]) for r in read(lakehouse, table).select("source_file").collect()
        )
        for path in sorted((landing / folder).iterdir()):
            lines = [line for line in path.read_bytes().split(b"\n") if line.strip()]
            records = len(lines) - (1 if path.suffix == ".csv" and lines else 0)
            assert loaded[path.name] + quarantined[path.name] == records, path.name
    assert (landing / "kafka_multiplex_bz" / "9-kafka_empty.json").stat().st_size == 0


def test_every_batch_reconciles_and_the_event_log_counts_what_was_dropped_on_purpose(clean_run, lakehouse):
    recorded = events(lakehouse, clean_run.runs[0].run_id)
    for table, expected in EVENTS_AFTER_A.items():
        row = recorded[table]
        assert (
            row["rows_in"],
            row["rows_quarantined"],
            row["rows_inserted"],
            row["rows_updated"],
            row["rows_unchanged"],
            row["rows_duplicate"],
        ) == expected, table
    for table, row in recorded.items():
        assert row["status"] == "ok", table
        assert row["rows_in"] == (
            row["rows_quarantined"]
            + row["rows_inserted"]
            + row["rows_updated"]
            + row["rows_unchanged"]
            + row["rows_duplicate"]
            + row["rows_late"]
        ), table
        assert row["rows_accepted"] == row["rows_inserted"] + row["rows_updated"] + row["rows_unchanged"], table
    assert recorded["kafka_multiplex_bz"]["broken_rules"] == {
        "date_in_lookup": 1,
        "date_in_range": 0,
        "parsed": 3,
        "valid_utf8": 1,
        "no_new_columns": 0,
    }
    assert recorded["kafka_multiplex_bz"]["rows_read"] == 444  # 441 records + 3 blank lines


def test_duplicate_null_and_blank_keys(lakehouse):
    users = {r["user_id"]: r["device_id"] for r in read(lakehouse, "users").collect()}
    assert users == {12474: 118440, 12140: 141687, 13559: 109290, 11745: 190960, 12227: 114131}
    visit = read(lakehouse, "gym_logs").where("gym = 5 AND login = timestamp_seconds(1678521600)").collect()
    assert [r["logout"].timestamp() for r in visit] == [1678526400]  # the later logout of the repeated visit
    assert read(lakehouse, "gym_logs").where("mac_address IS NULL OR trim(mac_address) = ''").count() == 0


def test_a_stale_cdc_update_after_a_newer_one_never_wins(lakehouse):
    clark = read(lakehouse, "user_profile").where("user_id = 12140").first()
    assert clark["last_name"] == token("Castillo", CANARY.encode())
    assert clark["updated"].timestamp() == 1678451625


def test_silver_and_gold_hold_no_raw_personal_data_and_tokens_still_join(lakehouse):
    raw = [v for values in faults.RAW_PERSONAL_VALUES.values() for v in values]
    for table in FITNESS.ordered():
        if table.layer.value == "bronze":
            continue
        frame = read(lakehouse, table.name)
        texts = [c for c, kind in frame.dtypes if kind == "string"]
        for row in frame.select(*texts).collect() if texts else []:
            for value in row:
                assert value is None or not any(secret in value for secret in raw), (table.name, value)
    # Nor do the quarantine records of the tables that declare personal data (user_profile quarantines a
    # profile message whose zip is "abc"): their columns are tokenised, no working column holds the raw
    # message, which stays in bronze, where the record's source points.
    declaring = [t.name for t in FITNESS.ordered() if t.personal_data]
    quarantined = lakehouse.spark.read.format("delta").load(lakehouse.quarantine_path("fitness"))
    records = quarantined.where(F.col("table").isin(declaring)).select("table", "record", "source").collect()
    assert "user_profile" in {r["table"] for r in records}
    for record in records:
        assert not any(secret in record["record"] for secret in raw), (record["table"], record["record"])
        assert not [name for name in json.loads(record["record"]) if name.startswith("_")], record["table"]
        assert record["source"], record["table"]  # where the raw message is: the bronze table's topic and offset
    users_macs = {r["mac_address"] for r in read(lakehouse, "users").collect()}
    assert token("4c:c5:9f:cb:13:bd", CANARY.encode()) in users_macs
    assert count(lakehouse, "gym_summary") == 8  # gym_logs ⋈ users on the tokenised MAC address


def test_table_checks_are_recorded_and_shown_by_health(clean_run, lakehouse):
    recorded = events(lakehouse, clean_run.runs[0].run_id)
    assert recorded["user_profile"]["checks"] == {"unique(user_id)": 0, "references users(user_id)": 1}  # user 99999
    assert recorded["user_bins"]["checks"] == {"unique(user_id)": 0, "references users(user_id)": 0}
    report = pipeline_health(lakehouse, "fitness")
    by_table = {t.table: t for t in report.tables}
    assert by_table["user_profile"].failing_checks == ["references users(user_id)"]
    assert (by_table["users"].status, by_table["users"].quarantine_total, by_table["users"].duplicates) == ("ok", 1, 2)
    assert report.summary() == "fitness: 1 table(s) need attention: user_profile"


# ------------------------------------------------------------------------------------------------ set B
@pytest.fixture(scope="module")
def after_set_b(clean_run, lakehouse):
    faults.land_set_b(lakehouse.settings)
    runs = runner.run(lakehouse, "fitness", progress=lambda _message: None)
    return {r.table: r for r in runs}


def test_a_new_column_is_kept_in_bronze_and_recorded_as_drift(lakehouse, after_set_b):
    rescued = read(lakehouse, "kafka_multiplex_bz").where("_rescued_data IS NOT NULL").collect()
    assert [r["_rescued_data"] for r in rescued] == ['{"headers":"{\\"schema\\":\\"v2\\"}"}']
    assert after_set_b["kafka_multiplex_bz"].schema_drift == {"headers": 1}
    assert after_set_b["heart_rate"].schema_drift == {"spo2": 1}
    assert after_set_b["kafka_multiplex_bz"].broken_rules["no_new_columns"] == 1
    assert "_rescued_data" not in read(lakehouse, "heart_rate").columns
    assert count(lakehouse, "heart_rate") == 412  # the drifting reading is accepted


def test_a_changed_type_is_quarantined_never_cast_to_null(lakehouse, after_set_b):
    latest = quarantine(lakehouse).where(F.col("run_id") == after_set_b["users"].run_id).collect()
    found = Counter((r["table"], tuple(r["rules"]), source_name(r["source"])) for r in latest)
    assert dict(found) == {
        ("registered_users_bz", ("parsed",), "11-registered_users_drift.csv"): 1,
        ("registered_users_bz", ("parsed", "declared_header"), "12-registered_users_newcol.csv"): 1,  # a new column
        ("workouts", ("value_parsed", "value_is_workout"), "10-kafka_drift.json"): 1,
    }
    assert read(lakehouse, "workouts").where("workout_id = 2").count() == 0
    assert count(lakehouse, "users") == 6  # 14633 arrived in a well-formed row


def test_a_late_event_beyond_the_watermark_is_counted_not_lost(lakehouse, after_set_b):
    late = f"action = 'stop' AND time = timestamp_seconds({faults.LATE_STOP_TIME})"
    assert read(lakehouse, "workouts").where(late).count() == 1  # kept in silver
    assert after_set_b["completed_workouts"].rows_late == 1  # too late for the stream-stream join, counted
    assert read(lakehouse, "completed_workouts").where("user_id = 12474 AND session_id = 4").count() == 0
    assert count(lakehouse, "completed_workouts") == 8


def test_a_reading_landing_an_hour_late_still_joins_its_workout(lakehouse, after_set_b):
    late = f"time = timestamp_seconds({faults.LATE_READING_TIME})"
    assert read(lakehouse, "heart_rate").where(late).count() == 1
    assert [r["workout_id"] for r in read(lakehouse, "workout_bpm").where(late).collect()] == [1]
    assert (after_set_b["workout_bpm"].rows_inserted, after_set_b["workout_bpm"].rows_late) == (1, 0)
    assert count(lakehouse, "workout_bpm") == 391


def test_a_cdc_update_older_than_the_stored_row_leaves_it_unchanged(lakehouse, after_set_b):
    profile = read(lakehouse, "user_profile").where("user_id = 13559").first()
    assert profile["city"] == "Santa Monica"
    run = after_set_b["user_profile"]
    assert (run.rows_in, run.rows_inserted, run.rows_updated, run.rows_unchanged) == (1, 0, 0, 1)


def test_running_again_with_nothing_new_changes_nothing(lakehouse, after_set_b):
    before = faults.lakehouse_rows(lakehouse, FITNESS)
    runs = runner.run(lakehouse, "fitness", progress=lambda _message: None)
    assert faults.lakehouse_rows(lakehouse, FITNESS) == before
    assert sum(r.rows_inserted + r.rows_updated for r in runs) == 0
    assert all(r.status in ("ok", "skipped") for r in runs)  # an unchanged table is skipped by its fingerprint
