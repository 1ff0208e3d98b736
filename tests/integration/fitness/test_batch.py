"""The spec's acceptance table in batch mode, gold checked against an independent computation, re-runs."""

import csv
import json
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from pyspark.sql import functions as F

from medallion.declare.pipeline import get_pipeline
from medallion.engine import acceptance, hooks, runner
from medallion.engine.personal_data import token
from medallion.platform import layout
from medallion.platform.config import PROJECT_DIR, load_settings
from medallion.platform.runtime import Runtime
from medallion.sources.landing import files_under, is_volume_path
from tests.conftest import TEST_PII_KEY
from tests.support import parity
from tests.support.processes import CONNECT_VARIABLES, child_environment

pytestmark = pytest.mark.integration
FITNESS = get_pipeline("fitness")
SETTINGS = {"secrets": {"provider": "env"}, "spark": {"shuffle_partitions": 2}}


@pytest.fixture(scope="module")
def lakehouse(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("fitness-batch")
    runtime = Runtime(load_settings("local", root=str(root), overrides=SETTINGS), spark=spark)
    runner.load_history(runtime, FITNESS)
    return runtime


@pytest.fixture(scope="module")
def after_set_1(lakehouse):
    hooks.produce(lakehouse, FITNESS, set_number=1)
    runner.run(lakehouse, "fitness")
    return lakehouse


@pytest.fixture(scope="module")
def after_set_2(after_set_1):
    hooks.produce(after_set_1, FITNESS, set_number=2)
    runner.run(after_set_1, "fitness")
    return after_set_1


def table(runtime, name):
    declared = FITNESS.get(name)
    return runtime.spark.read.format("delta").load(runtime.location("fitness", declared.layer, name).path)


def landing(runtime, folder, name) -> Path:
    return Path(runtime.settings.landing_path("fitness", folder)) / name


def test_set_1_acceptance_counts(after_set_1):
    expected = hooks.expected_counts(after_set_1, FITNESS)[1]
    assert acceptance.verify(after_set_1, "fitness", expected)["workout_bpm"] == 3_900


def test_blank_lines_of_the_users_file_are_not_rows(after_set_1):
    raw_lines = landing(after_set_1, "registered_users_bz", "1-registered_users_1.csv").read_text().split("\n")
    assert sum(1 for line in raw_lines if not line.strip()) >= 3  # the published file does end in blank lines
    bronze = table(after_set_1, "registered_users_bz")
    assert bronze.count() == 5
    assert bronze.where("user_id IS NULL OR mac_address IS NULL").count() == 0


def test_date_and_week_part_come_from_epoch_seconds(after_set_1):
    workout_days = (
        table(after_set_1, "kafka_multiplex_bz").where("topic = 'workout'").select("date", "week_part").distinct()
    )
    assert sorted(tuple(r) for r in workout_days.collect()) == [(date(2023, 3, 11), "2023-10")]


def test_set_1_profile_changes_applied(after_set_1):
    profiles = {r.user_id: r for r in table(after_set_1, "user_profile").collect()}
    key = TEST_PII_KEY.encode()
    assert profiles[12140].last_name == token("Castillo", key)
    assert (profiles[13559].city, profiles[13559].street_address) == (
        "Santa Monica",
        token("634 Acevedo Mountain", key),
    )


def test_set_2_acceptance_counts(after_set_2):
    expected = hooks.expected_counts(after_set_2, FITNESS)[2]
    assert acceptance.verify(after_set_2, "fitness", expected)["workout_bpm_summary"] == 2


def test_set_2_profile_change_applied(after_set_2):
    profile = table(after_set_2, "user_profile").where("user_id = 14232").first()
    assert (profile.last_name, profile.city) == (token("Smith", TEST_PII_KEY.encode()), "North Hollywood")


def test_workout_bpm_summary_equals_an_independent_computation(after_set_2):
    """Recompute the two emitted sessions from the landed files with plain Python."""
    readings = {}
    for set_number in (1, 2):
        with open(landing(after_set_2, "kafka_multiplex_bz", f"3-bpm_{set_number}.json")) as lines:
            for line in lines:
                value = json.loads(json.loads(line)["value"])
                second = int(
                    datetime.strptime(value["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
                )
                readings[(value["device_id"], second)] = value["heartrate"]
    sessions = {(12474, 118440): (1678521900, 1678525800), (14633, 175406): (1678608300, 1678610700)}
    expected = {}
    for (user, device), (start, end) in sessions.items():
        rates = [readings[(device, s)] for s in range(start + 1, end + 1) if readings[(device, s)] > 0]
        expected[user] = (min(rates), sum(rates) / len(rates), max(rates), len(rates))
    summary = {r.user_id: r for r in table(after_set_2, "workout_bpm_summary").collect()}
    assert set(summary) == {12474, 14633}
    for user, (low, mean, high, count) in expected.items():
        row = summary[user]
        assert (row.min_bpm, row.max_bpm, row.num_recordings) == (low, high, count)
        assert row.avg_bpm == pytest.approx(mean, rel=1e-12)
    assert (summary[12474].age, summary[12474].gender, summary[12474].city) == ("75-85", "M", "San Fernando")
    assert (summary[14633].age, summary[14633].gender, summary[14633].city) == ("25-35", "F", "Gardena")


def test_gym_summary_equals_an_independent_computation(after_set_2):
    key = TEST_PII_KEY.encode()
    users, visits, workouts = {}, [], {}
    for n in (1, 2):
        with open(landing(after_set_2, "registered_users_bz", f"1-registered_users_{n}.csv")) as f:
            users.update({row["mac_address"]: int(row["user_id"]) for row in csv.DictReader(f) if row["user_id"]})
        with open(landing(after_set_2, "gym_logins_bz", f"5-gym_logins_{n}.csv")) as f:
            visits += [row for row in csv.DictReader(f)]
        with open(landing(after_set_2, "kafka_multiplex_bz", f"4-workout_{n}.json")) as f:
            for line in f:
                v = json.loads(json.loads(line)["value"])
                workouts.setdefault((v["user_id"], v["workout_id"], v["session_id"]), {})[v["action"]] = int(
                    v["timestamp"]
                )
    expected = set()
    for visit in visits:
        login, logout = int(visit["login"]), int(visit["logout"])
        for (user, workout, session), times in workouts.items():
            if user == users[visit["mac_address"]] and login <= times["start"] <= logout:
                expected.add(
                    (
                        datetime.fromtimestamp(login, tz=timezone.utc).date(),
                        int(visit["gym"]),
                        token(visit["mac_address"], key),
                        workout,
                        session,
                        round((logout - login) / 60, 2),
                        round((times["stop"] - times["start"]) / 60, 2),
                    )
                )
    actual = {
        (r.date, r.gym, r.mac_address, r.workout_id, r.session_id, float(r.minutes_in_gym), float(r.minutes_exercising))
        for r in table(after_set_2, "gym_summary").collect()
    }
    assert len(expected) == 16
    assert actual == expected


def test_no_raw_mac_address_or_name_in_silver_and_gold(after_set_2):
    raw_macs = {r.mac_address for r in table(after_set_2, "registered_users_bz").collect()}
    for name in ("users", "gym_logs", "gym_summary"):
        stored = {r.mac_address for r in table(after_set_2, name).select("mac_address").collect()}
        assert stored and not stored & raw_macs
    names = {r.last_name for r in table(after_set_2, "user_profile").collect()}
    assert not names & {"Clark", "Castillo", "Smith", "Phillips"}


# What the fixtures above do (history, set 1, set 2, one run after each), in a process of its own on
# classic Spark: PySpark allows one kind of session per process.
CLASSIC_RUN = f"""
import sys
from medallion.declare.pipeline import get_pipeline
from medallion.engine import hooks, runner
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime

fitness = get_pipeline("fitness")
runtime = Runtime(load_settings("local", root=sys.argv[1], overrides={SETTINGS!r}))
runner.load_history(runtime, fitness)
for set_number in (1, 2):
    hooks.produce(runtime, fitness, set_number=set_number)
    runner.run(runtime, "fitness")
"""


@pytest.mark.databricks_profile  # the profile's landing zone: make test-connect runs it
def test_files_land_in_a_volume_path_and_the_streams_read_them_there(after_set_2):
    """As on a cluster: the producers and the history loader write into a Unity Catalog volume path, and the
    file streams read every file of sets 1 and 2 from it (the checkpoints' source logs name each one)."""
    landing = after_set_2.settings.landing
    assert is_volume_path(landing) and landing.startswith("/Volumes/medallion_test/")
    landed = {file.relative: file.local.as_uri() for file in files_under(Path(landing, "fitness"))}
    assert [name for name in landed if name.startswith("date_lookup/")] == ["date_lookup/6-date-lookup.json"]
    streamed = {uri for name, uri in landed.items() if not name.startswith("date_lookup/")}
    read = set()
    for log in Path(layout.checkpoints(after_set_2.settings.root, "fitness")).glob("*/sources/*/[0-9]*"):
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        read |= {Path(unquote(urlparse(line["path"]).path)).as_uri() for line in lines if "path" in line}
    assert len(streamed) == 10 and read == streamed


@pytest.mark.databricks_profile  # compares a Spark Connect run with a classic one: make test-connect runs it
def test_a_run_over_spark_connect_equals_a_run_on_classic_spark(after_set_2, tmp_path):
    """Every table row by row, and the event log's entries (table, mode, status, counts), against the same
    runs on classic Spark. Here before the re-run below adds its entries to this lakehouse's log."""
    classic_root = str(tmp_path / "classic")
    done = subprocess.run(
        [sys.executable, "-c", CLASSIC_RUN, classic_root],
        capture_output=True,
        text=True,
        env=child_environment(without=CONNECT_VARIABLES),
        cwd=PROJECT_DIR,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    spark = after_set_2.spark
    classic = Runtime(load_settings("local", root=classic_root, overrides=SETTINGS), spark=spark)
    differences = {}
    for declared in FITNESS.ordered():
        over_connect = after_set_2.location("fitness", declared.layer, declared.name).path
        on_classic = classic.location("fitness", declared.layer, declared.name).path
        differences[declared.name] = parity.row_differences(
            spark, (over_connect, after_set_2.settings), (on_classic, classic.settings)
        )
    assert differences == {declared.name: (0, 0) for declared in FITNESS.ordered()}
    assert parity.event_log_entries(spark, after_set_2.system_path("event_log")) == parity.event_log_entries(
        spark, classic.system_path("event_log")
    )


def fingerprint(runtime):
    """Per table: row count and an order-independent hash of every row."""
    prints = {}
    for declared in FITNESS.ordered():
        frame = table(runtime, declared.name).drop("load_time")
        row_hash = F.xxhash64(*[F.col(c) for c in frame.columns]).cast("decimal(38,0)")
        prints[declared.name] = tuple(frame.agg(F.count(F.lit(1)), F.sum(row_hash)).first())
    return prints


def test_rerunning_every_layer_and_the_producer_changes_nothing(after_set_2):
    before = fingerprint(after_set_2)
    hooks.produce(after_set_2, FITNESS, set_number=2)  # lands nothing new
    runner.load_history(after_set_2, FITNESS)
    runs = runner.run(after_set_2, "fitness")
    assert sum(r.rows_inserted + r.rows_updated for r in runs) == 0
    assert fingerprint(after_set_2) == before


def test_event_log_records_every_table_of_every_run(after_set_2):
    log = after_set_2.spark.read.format("delta").load(after_set_2.system_path("event_log"))
    heart_rate = log.where("table = 'heart_rate' AND status = 'ok'").agg(F.sum("rows_inserted")).first()[0]
    assert heart_rate == 507_602
    assert log.where("status NOT IN ('ok', 'skipped')").count() == 0
    # the rerun with nothing new skipped its tables, and said so
    assert log.where("status = 'skipped' AND table = 'heart_rate'").count() >= 1
