"""The workspace notebooks: format checks for all ten; 02-07 + 10 run locally through the same code for
fitness, and for commerce (against the project's Kafka broker) 02-07, 08-batch-test, 09-stream-test and 10:
the same notebooks, only the ``pipeline`` widget differs."""

import json
import re
import uuid
from pathlib import Path

import pytest

from medallion.declare.pipeline import get_pipeline
from medallion.engine import acceptance, hooks
from medallion.notebook import CELL_SEPARATOR, NOTEBOOK_HEADER, run_notebook
from medallion.pipelines.commerce.manifest import manifest
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime
from tests.support.checkout import NOTEBOOKS as NOTEBOOK_NAMES
from tests.support.kafka import kafka_broker  # noqa: F401  (the session fixture)

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
    assert run("10-producer", set="1") == {"pipeline": "fitness", "set": 1, "files": 5}
    assert run("04-bronze")["kafka_multiplex_bz"]["inserted"] == 7 + 16 + 75_000
    assert run("05-silver")["workout_bpm"]["inserted"] == 3_900
    assert run("06-gold")["gym_summary"]["inserted"] == 8
    rerun = run("07-run")  # setup + history + all layers again: nothing new
    assert sum(t["inserted"] + t["updated"] for t in rerun.values()) == 0

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


def commerce_notebooks(spark, root):
    """Run a notebook for commerce on ``root``, with topics of its own (no other run's messages)."""
    suffix = uuid.uuid4().hex[:8]
    topics = {"clickstream": f"nb-clickstream-{suffix}", "iot": f"nb-iot-{suffix}"}
    overrides = {
        "secrets": {"provider": "env"},
        "streaming": {"trigger_interval": "1 second"},  # 09: idle sooner; batch runs do not use it
        "pipelines": {"commerce": {"topics": topics}},
    }
    params = {"env": "local", "pipeline": "commerce", "run_type": "once", "root": str(root)}

    def run(name, **extra):
        return json.loads(run_notebook(NOTEBOOKS / f"{name}.py", {**params, **extra}, overrides, spark=spark))

    runtime = Runtime(load_settings("local", root=str(root), overrides=overrides), spark=spark)
    expected = {
        f"set {n}": {c.label: c.rows for c in checks}
        for n, checks in hooks.expected_counts(runtime, get_pipeline("commerce")).items()
    }
    return run, runtime, expected


def test_commerce_runs_through_the_same_notebooks_layer_by_layer_then_in_the_batch_test(
    spark,
    tmp_path,
    kafka_broker,  # noqa: F811
):
    run, runtime, expected = commerce_notebooks(spark, tmp_path)
    assert run("02-setup") == {"pipeline": "commerce", "tables": len(get_pipeline("commerce").ordered()), "grants": 0}
    produced = run("10-producer", set="1")
    conf = runtime.settings.pipeline("commerce")
    truths = manifest([1], conf["generator"]["scale"], conf["generator"]["seed"], conf)
    assert produced == {"pipeline": "commerce", "set": 1, "manifest": json.loads(json.dumps(truths, default=str))}
    sources = truths["sources"]
    bronze = run("04-bronze")  # every message of the set read from the broker, with its Kafka metadata
    assert (bronze["clickstream_bz"]["inserted"], bronze["iot_bz"]["inserted"]) == (
        sources["click_messages"],
        sources["iot_messages"],
    )
    run("05-silver")
    run("06-gold")
    assert acceptance.verify(runtime, "commerce", acceptance_checks(runtime, 1)) == expected["set 1"]
    rerun = run("07-run")  # every layer again: the broker has nothing new, the landing zone neither
    assert sum(t["inserted"] + t["updated"] for t in rerun.values()) == 0
    # 08 produces sets 1 (already there: nothing changes) and 2, runs each and checks both sets' counts
    assert run("08-batch-test") == expected


def test_commerce_stream_test_notebook_reads_the_broker_continuously(spark, tmp_path, kafka_broker):  # noqa: F811
    run, _, expected = commerce_notebooks(spark, tmp_path)
    assert run("09-stream-test", run_type="stream") == expected


def acceptance_checks(runtime, set_number):
    return hooks.expected_counts(runtime, get_pipeline("commerce"))[set_number]
