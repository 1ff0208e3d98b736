"""Clear errors: one actionable message, a non-zero exit code, and the tables as they were."""

from __future__ import annotations

import shutil
from importlib import import_module
from pathlib import Path

import pytest

from medallion.cli import main
from medallion.declare.pipeline import get_pipeline
from medallion.engine import runner
from medallion.errors import CheckpointError
from medallion.io import table_version
from medallion.platform.config import CONF_DIR_ENV_VAR, DEFAULT_CONF_DIR

producer = import_module("medallion.pipelines.fitness.producer")
FITNESS = get_pipeline("fitness")


def land(runtime, folder, name):
    target = Path(runtime.settings.landing_path("fitness", folder))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(producer.data_file(name), target / name)


def versions(runtime, *tables):
    return {t: table_version(runtime.spark, runtime.location("fitness", FITNESS.get(t).layer, t).path) for t in tables}


def test_a_damaged_checkpoint_stops_the_run_before_any_table_changes(make_runtime, capsys):
    runtime = make_runtime()
    land(runtime, "registered_users_bz", "1-registered_users_1.csv")
    tables = ["registered_users_bz", "users"]
    runner.run(runtime, "fitness", tables=tables, progress=lambda _m: None)
    offsets = Path(runtime.location("fitness", FITNESS.get("users").layer, "users").checkpoint, "offsets", "0")
    sound = offsets.read_bytes()
    offsets.write_bytes(sound.replace(b'"batchWatermarkMs":0', b'"batchWatermarkMs":7'))  # a flipped digit
    land(runtime, "registered_users_bz", "1-registered_users_2.csv")
    before = versions(runtime, *tables)

    with pytest.raises(CheckpointError) as raised:
        runner.run(runtime, "fitness", tables=tables, progress=lambda _m: None)
    message = str(raised.value)
    assert (
        f"The streaming checkpoint of fitness.users at {offsets.parent.parent} is damaged: offsets/0 does not "
        "match its checksum. Nothing was written." in message
    )
    assert "`medallion reset fitness --keep-landing` then `medallion run fitness`" in message
    assert versions(runtime, *tables) == before

    code = main(["run", "fitness", "--table", "users", "--root", runtime.settings.root])
    assert code == 1 and capsys.readouterr().err.startswith("error: The streaming checkpoint of fitness.users")

    offsets.write_bytes(sound)  # restored from a backup: the run carries on where it stopped
    runner.run(runtime, "fitness", tables=tables, progress=lambda _m: None)
    assert (
        runtime.spark.read.format("delta")
        .load(runtime.location("fitness", FITNESS.get("users").layer, "users").path)
        .count()
        == 10
    )


@pytest.fixture
def conf_with(tmp_path, monkeypatch):
    def write(env: str, text: str) -> None:
        shutil.copy(DEFAULT_CONF_DIR / "base.yml", tmp_path / "base.yml")
        (tmp_path / f"{env}.yml").write_text(text)
        monkeypatch.setenv(CONF_DIR_ENV_VAR, str(tmp_path))

    return write


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "streaming:\n  trigger_intervall: 5 seconds\n",
            "error: bad.yml: unknown setting 'streaming.trigger_intervall'. Allowed here: max_files_per_trigger, trigger_interval.",
        ),
        (
            "spark:\n  shuffle_partitions: four\n",
            "error: bad.yml: 'spark.shuffle_partitions' must be int like its default 4, got 'four'.",
        ),
    ],
)
def test_a_wrong_config_key_or_type_is_named_with_what_is_allowed(conf_with, tmp_path, capsys, text, message):
    conf_with("bad", text)
    assert main(["run", "fitness", "--env", "bad", "--root", str(tmp_path / "root")]) == 2
    assert capsys.readouterr().err.strip() == message
    assert not (tmp_path / "root").exists()


def test_an_unknown_environment_lists_the_known_ones(tmp_path, capsys):
    assert main(["run", "fitness", "--env", "nope", "--root", str(tmp_path)]) == 2
    assert "error: Unknown environment 'nope': no " in capsys.readouterr().err


def test_an_unknown_pipeline_is_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["run", "nope"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "argument pipeline: invalid choice: 'nope' (choose from " in error and "'fitness'" in error


def test_an_unknown_table_changes_nothing(tmp_path, capsys):
    assert main(["run", "fitness", "--table", "userz", "--root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(
        "error: Pipeline 'fitness' has no table 'userz'. Tables: completed_workouts,"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_missing_landing_folder_says_how_to_fix_it_and_changes_nothing(tmp_path, capsys):
    assert main(["run", "fitness", "--root", str(tmp_path)]) == 1  # a runtime failure: the data is not there
    assert capsys.readouterr().err.strip() == (
        f"error: Landing folder {tmp_path}/landing/fitness/registered_users_bz does not exist: run `medallion produce "
        "fitness` or put the source's files there (check storage.landing in conf/local.yml)."
    )
    assert list(tmp_path.iterdir()) == []
