"""Landed files a table will never read are named with the reason, in the event log and in health."""

import json
import os

from medallion.declare.pipeline import get_pipeline
from medallion.engine.eventlog import EVENT_LOG_SCHEMA, TableRun
from medallion.engine.landing_scan import is_hidden
from medallion.engine.unread_files import CHANGED, HIDDEN, unread_files
from medallion.read.health import PipelineHealth, newest_unread_files

FITNESS = get_pipeline("fitness")


def land(folder, name, text, mtime=None):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def source_log(checkpoint, batch, *entries):
    """A file stream's source log as Spark writes it: 'v1', then one JSON line per file read."""
    log = checkpoint / "sources" / "0" / str(batch)
    log.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"path": f"file://{path}", "timestamp": ms, "batchId": batch}) for path, ms in entries]
    log.write_text("\n".join(["v1", *lines]))


def test_hidden_and_relanded_files_are_named_with_why_they_are_never_read(tmp_path):
    landing = tmp_path / "landing" / "fitness"
    folder = landing / "gym_logins_bz"
    read = land(folder, "5-gym_logins_1.csv", "a", mtime=1_700_000_000)
    relanded = land(folder, "5-gym_logins_2.csv", "b", mtime=1_700_000_100)
    land(folder, "5-gym_logins_3.csv", "c")  # new: the next batch reads it
    land(folder, "_gym_logins_4.csv", "d")
    land(folder, ".gym_logins_5.csv", "e")
    land(folder, "_archive/old.csv", "f")
    land(folder, "5-gym_logins_6.csv._COPYING_", "g")  # a copy in progress
    land(folder, "_source=crm/5-gym_logins_7.csv", "h")  # a partition folder: Spark reads it
    checkpoint = tmp_path / "checkpoint"
    source_log(checkpoint, 0, (read, 1_700_000_000_000), (relanded, 1_700_000_050_000))
    (checkpoint / "sources" / "0" / ".1.5e1f.tmp").write_text("v1\n{")  # a temporary file Spark never reads

    found = unread_files(lambda name: str(landing / name), FITNESS.get("gym_logins_bz"), str(checkpoint))

    assert found == {
        "gym_logins_bz/5-gym_logins_2.csv": CHANGED,
        "gym_logins_bz/_gym_logins_4.csv": HIDDEN,
        "gym_logins_bz/.gym_logins_5.csv": HIDDEN,
        "gym_logins_bz/_archive": HIDDEN,
        "gym_logins_bz/5-gym_logins_6.csv._COPYING_": HIDDEN,
    }
    assert CHANGED.startswith("changed after it was read") and HIDDEN.startswith("ignored: its name starts with")
    assert [is_hidden(n) for n in ("_metadata", "_common_metadata", "_x=1", "_x", ".x", "x._COPYING_", "x")] == [
        False,
        False,
        False,
        True,
        True,
        True,
        False,
    ]


def test_a_batch_read_reports_only_hidden_files_and_a_missing_folder_nothing(tmp_path):
    landing = tmp_path / "landing"
    land(landing / "date_lookup", "6-date-lookup.json", "{}")
    land(landing / "date_lookup", ".6-date-lookup.json.tmp", "{")
    assert unread_files(lambda name: str(landing / name), FITNESS.get("date_lookup"), None) == {
        "date_lookup/.6-date-lookup.json.tmp": HIDDEN
    }
    assert (
        unread_files(lambda name: str(tmp_path / "none" / name), FITNESS.get("gym_logins_bz"), str(tmp_path / "cp"))
        == {}
    )


def test_health_shows_the_unread_files_of_each_tables_newest_run(spark):
    def run(run_id, table, started, unread, status="ok"):
        return TableRun(run_id, "fitness", table, "bronze", "once", started=started, status=status, unread_files=unread)

    log = spark.createDataFrame(
        [
            r.as_row()
            for r in (
                run("r1", "gym_logins_bz", 1.0, {"gym_logins_bz/_a.csv": HIDDEN}),
                run(
                    "r2",
                    "gym_logins_bz",
                    2.0,
                    {"gym_logins_bz/_a.csv": HIDDEN, "gym_logins_bz/b.csv": CHANGED},
                    "skipped",
                ),
                run("r1", "registered_users_bz", 1.0, {"registered_users_bz/_c.csv": HIDDEN}),
                run("r2", "registered_users_bz", 2.0, {}),  # renamed since: nothing left to report
            )
        ],
        EVENT_LOG_SCHEMA,
    )
    unread = newest_unread_files(log, "fitness")
    assert unread == {"gym_logins_bz": {"gym_logins_bz/_a.csv": HIDDEN, "gym_logins_bz/b.csv": CHANGED}}
    assert PipelineHealth("fitness", [], unread_files=unread).summary().splitlines()[1:] == [
        f"file never read by gym_logins_bz: gym_logins_bz/_a.csv ({HIDDEN})",
        f"file never read by gym_logins_bz: gym_logins_bz/b.csv ({CHANGED})",
    ]


def test_with_the_last_report_given_the_checkpoint_is_not_read_and_hidden_names_come_from_the_walk(tmp_path):
    landing = tmp_path / "landing" / "fitness"
    folder = landing / "gym_logins_bz"
    read = land(folder, "5-gym_logins_1.csv", "a", mtime=1_700_000_000)
    land(folder, "_gym_logins_4.csv", "d")
    checkpoint = tmp_path / "checkpoint"
    source_log(checkpoint, 0, (read, 1_600_000_000_000))  # read then with another time: changed since
    table = FITNESS.get("gym_logins_bz")
    last_report = {"gym_logins_bz/5-gym_logins_2.csv": CHANGED, "gym_logins_bz/_gone.csv": HIDDEN}

    def landing_path(name):
        return str(landing / name)

    assert unread_files(landing_path, table, str(checkpoint)) == {
        "gym_logins_bz/5-gym_logins_1.csv": CHANGED,
        "gym_logins_bz/_gym_logins_4.csv": HIDDEN,
    }
    assert unread_files(landing_path, table, str(checkpoint), known_changed=last_report) == {
        "gym_logins_bz/5-gym_logins_2.csv": CHANGED,  # the last report's, the source log unread
        "gym_logins_bz/_gym_logins_4.csv": HIDDEN,  # hidden names as the folder holds them now
    }
