"""The workspace notebooks: format checks for all ten, and 02-07 + 10 run locally through the same code."""

import json
import re
from pathlib import Path

import pytest

from medallion.engine import acceptance
from medallion.notebook import CELL_SEPARATOR, NOTEBOOK_HEADER, run_notebook
from tests.support.checkout import NOTEBOOKS as NOTEBOOK_NAMES

pytestmark = pytest.mark.integration
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = sorted(NOTEBOOK_NAMES)


def test_the_ten_notebooks_exist():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.py")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_thin_databricks_source(name):
    source = (NOTEBOOKS / f"{name}.py").read_text()
    assert source.startswith(NOTEBOOK_HEADER + "\n")
    cells = source.split(CELL_SEPARATOR)
    assert cells[0].strip().splitlines()[1].startswith("# MAGIC %md")
    for widget in ("env", "pipeline", "run_type"):
        assert re.search(rf'^dbutils\.widgets\.(text|dropdown)\("{widget}"', source, flags=re.M)
    calls = re.findall(r"^result = notebook\.\w+\(dbutils, spark.*\)$", source, flags=re.M)
    assert len(calls) == 1
    assert cells[-1].strip() == "dbutils.notebook.exit(result)"
    assert "fitness" not in source.replace('"pipeline", "fitness"', "")  # no pipeline-specific code


def test_notebooks_run_locally_through_the_workspace_code_path(spark, tmp_path):
    params = {"env": "local", "pipeline": "fitness", "run_type": "once", "root": str(tmp_path)}
    overrides = {"secrets": {"provider": "env"}, "pipelines": {"fitness": {"bpm_readings_per_set": 75_000}}}

    def run(name, **extra):
        return json.loads(run_notebook(NOTEBOOKS / f"{name}.py", {**params, **extra}, overrides, spark=spark))

    assert run("01-config")["root"] == str(tmp_path)
    assert run("02-setup") == {"pipeline": "fitness", "tables": 14, "grants": 0}
    # 02-setup loads the reference data already (the calendar: 365 rows, checked below), so the history
    # loader finds its file unchanged and skips the table.
    assert run("03-history-loader")["date_lookup"] == {"rows_in": 0, "inserted": 0, "updated": 0, "quarantined": 0}
    assert run("10-producer", set="1") == {"pipeline": "fitness", "files": 5}
    assert run("04-bronze")["kafka_multiplex_bz"]["inserted"] == 7 + 16 + 75_000
    assert run("05-silver")["workout_bpm"]["inserted"] == 3_900
    assert run("06-gold")["gym_summary"]["inserted"] == 8
    rerun = run("07-run")  # setup + history + all layers again: nothing new
    assert sum(t["inserted"] + t["updated"] for t in rerun.values()) == 0

    from medallion.platform.config import load_settings
    from medallion.platform.runtime import Runtime

    runtime = Runtime(load_settings("local", root=str(tmp_path), overrides=overrides), spark=spark)
    counts = acceptance.verify(
        runtime,
        "fitness",
        [
            acceptance.Check("users", 5),
            acceptance.Check("heart_rate", 75_000),
            acceptance.Check("workout_bpm", 3_900),
            acceptance.Check("gym_summary", 8),
            acceptance.Check("workout_bpm_summary", 0),
            acceptance.Check("date_lookup", 365),
        ],
    )
    assert counts["heart_rate"] == 75_000
