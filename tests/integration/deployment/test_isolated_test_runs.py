"""`medallion deploy --run-tests` three times in a row against the local workspace, whose job runs execute
the deployed notebook 08-batch-test for real (locally, on this Spark session). Each run must see exactly
the counts of the data sets it produced, leave the scheduled jobs' tables as they were and remove its own.

The pipeline is the small ``toy`` pipeline (five orders) with expected counts, so three runs stay quick;
the isolation it proves does not depend on the pipeline.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import traceback
from pathlib import Path

import pytest

import medallion.pipelines
from deployment.jobs import acceptance_pipelines
from medallion.cli import main
from medallion.declare import pipeline as declared
from medallion.engine import hooks, runner
from medallion.notebook import run_notebook
from medallion.platform.config import PROJECT_DIR, load_settings
from medallion.platform.runtime import Runtime
from tests.integration.engine.toy_pipeline import forget_toy_pipeline, write_toy_pipeline
from tests.support.checkout import edit_conf, write_wheel

pytestmark = pytest.mark.integration

EXPECTED_COUNTS = '''

from medallion.declare.tables import ExpectedCount


def expected_counts(context: PipelineContext) -> dict:
    """Cumulative counts after set 1 and after set 2: right only if no one else wrote these tables."""
    return {
        1: [ExpectedCount("orders_bz", 4), ExpectedCount("orders", 3), ExpectedCount("customer_totals", 2)],
        2: [ExpectedCount("orders_bz", 5), ExpectedCount("orders", 4), ExpectedCount("customer_totals", 2)],
    }
'''


@pytest.fixture
def toy_with_counts(tmp_path):
    package = write_toy_pipeline(tmp_path / "pipelines")
    with (package / "hooks.py").open("a") as hooks_file:
        hooks_file.write(EXPECTED_COUNTS)
    medallion.pipelines.__path__.append(str(tmp_path / "pipelines"))
    forget_toy_pipeline()
    yield declared.get_pipeline("toy")
    medallion.pipelines.__path__.remove(str(tmp_path / "pipelines"))
    forget_toy_pipeline()


def local_overrides(shared_root: Path) -> dict:
    """The qa conf, run on this machine: local Spark, the shared qa storage root in a temporary folder."""
    return {
        "runtime": "local",
        "catalog": None,
        "storage": {"root": str(shared_root), "landing": None},
        "secrets": {"provider": "env"},
    }


def notebook_executor(workspace, spark, shared_root: Path):
    """Run a job task as Databricks would: the notebook the deploy uploaded, with the job's parameters."""

    def execute(task: dict, parameters: dict) -> tuple[str, str, str]:
        notebook = task["notebook_task"]
        source = workspace.objects[notebook["notebook_path"]]["content"]
        widgets = {**notebook.get("base_parameters", {}), **parameters}
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "notebook.py"
            path.write_bytes(source)
            try:
                run_notebook(path, widgets, local_overrides(shared_root), spark=spark)
            except Exception as err:  # the task fails with the notebook's error, as on Databricks
                return "FAILED", f"{type(err).__name__}: {err}", traceback.format_exc()
        return "SUCCESS", "", ""

    return execute


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its content hash, outside the test runs' folder."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "_test_runs" not in p.parts
    }


def test_run_tests_passes_three_times_in_a_row_and_leaves_the_scheduled_tables_alone(
    checkout, workspace, toy_with_counts, spark, tmp_path, capsys
):
    shared_root = tmp_path / "qa-lakehouse"
    # What the scheduled qa job wrote before: set 1 in the shared tables. A test run reading these would
    # count 8 orders, not 4, and fail.
    scheduled = Runtime(load_settings("qa", overrides=local_overrides(shared_root)), spark=spark)
    runner.prepare(scheduled, toy_with_counts)
    hooks.produce(scheduled, toy_with_counts, set_number=1)
    runner.run(scheduled, "toy")
    before = tree(shared_root)
    assert any(name.startswith("toy/bronze/orders_bz/") for name in before)

    edit_conf(checkout.conf_dir, "qa", pipelines=["toy"])
    project = dataclasses.replace(checkout, notebooks_dir=PROJECT_DIR / "notebooks")
    wheel = write_wheel(tmp_path / "dist")
    assert main(["deploy", "--env", "qa", "--wheel", str(wheel), "--notebooks", str(project.notebooks_dir)]) == 0
    workspace.executor = notebook_executor(workspace, spark, shared_root)
    capsys.readouterr()

    for attempt in range(3):
        code = main(["deploy", "--env", "qa", "--run-tests", "--poll", "0.01"])
        out = capsys.readouterr().out
        assert (attempt, code) == (attempt, 0), out
        assert "PASSED test_toy" in out and "1 passed, 0 failed" in out

    test_runs = [run["job_parameters"]["test_run"] for run in workspace.runs.values()]
    assert len(test_runs) == 3 and len(set(test_runs)) == 3
    assert tree(shared_root) == before  # the scheduled job's tables, checkpoints and landing: untouched
    assert list((shared_root / "_test_runs").iterdir()) == []  # each run removed its own data
    schemas = {row[0] for row in spark.sql("SHOW SCHEMAS").collect()}
    assert not any(test_run in schema for schema in schemas for test_run in test_runs)


def test_a_pipeline_without_expected_counts_is_skipped_with_a_line_saying_so(checkout, workspace, capsys):
    assert acceptance_pipelines(["experiments", "fitness", "movies"]) == (["fitness", "movies"], ["experiments"])
    edit_conf(checkout.conf_dir, "qa", pipelines=["fitness", "experiments"])
    wheel = write_wheel(Path(tempfile.mkdtemp()) / "dist")
    assert main(["deploy", "--env", "qa", "--wheel", str(wheel), "--notebooks", str(checkout.notebooks_dir)]) == 0
    out = capsys.readouterr().out
    assert "integration tests: experiments skipped: it declares no expected counts (hooks.expected_counts)" in out
    tests_job = next(j for j in workspace.jobs.values() if j["settings"]["name"] == "medallion-qa-integration-tests")
    assert [t["task_key"] for t in tests_job["settings"]["tasks"]] == ["test_fitness"]
    assert tests_job["settings"]["parameters"] == [{"name": "test_run", "default": ""}]
