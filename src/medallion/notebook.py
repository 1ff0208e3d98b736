"""What the numbered notebooks call: one function per notebook, the same on Databricks and locally.

A notebook declares its widgets, calls one of these with ``dbutils`` and ``spark``, and exits with the
returned JSON. The functions read the widgets ``env``, ``pipeline`` and ``run_type`` (and, for the
producer, ``set``), so no notebook holds pipeline-specific code.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from medallion.declare.pipeline import get_pipeline
from medallion.declare.tables import Layer
from medallion.engine import acceptance, hooks, isolation, runner
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime

NOTEBOOK_HEADER = "# Databricks notebook source"
CELL_SEPARATOR = "# COMMAND ----------"


def runtime(dbutils, spark=None) -> Runtime:
    # A notebook's output shows the engine's progress lines (a no-op where logging is configured already).
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    settings = load_settings(
        dbutils.widgets.get("env"),
        root=_optional_widget(dbutils, "root"),
        overrides=getattr(dbutils, "settings_overrides", None),
    )
    return Runtime(settings, spark=spark, dbutils=dbutils)


def show_config(dbutils, spark=None) -> str:
    settings = runtime(dbutils, spark).settings
    return json.dumps(
        {
            "env": settings.env,
            "runtime": settings.runtime,
            "root": settings.root,
            "landing": settings.landing,
            "catalog": settings.catalog,
            "pipeline": dbutils.widgets.get("pipeline"),
        }
    )


def setup(dbutils, spark=None) -> str:
    rt, pipeline = runtime(dbutils, spark), get_pipeline(dbutils.widgets.get("pipeline"))
    granted = runner.prepare(rt, pipeline)  # grants: Unity Catalog only; nothing locally
    return json.dumps({"pipeline": pipeline.name, "tables": len(pipeline.tables), "grants": len(granted)})


def load_history(dbutils, spark=None) -> str:
    rt, pipeline = runtime(dbutils, spark), get_pipeline(dbutils.widgets.get("pipeline"))
    runs = runner.load_history(rt, pipeline)
    return _summary(runs)


def run_layer(dbutils, spark, layer: str) -> str:
    rt = runtime(dbutils, spark)
    pipeline_name = dbutils.widgets.get("pipeline")
    if dbutils.widgets.get("run_type") == "stream":
        streams = runner.start_streams(rt, pipeline_name, layers=[Layer(layer)])
        streams.wait()  # until the job is cancelled
        return json.dumps({"pipeline": pipeline_name, "layer": layer, "mode": "stream"})
    return _summary(runner.run(rt, pipeline_name, layers=[Layer(layer)]))


def run_all(dbutils, spark=None) -> str:
    """Notebook 07: setup (tables, reference data), then every layer, once or as streams."""
    rt = runtime(dbutils, spark)
    pipeline = get_pipeline(dbutils.widgets.get("pipeline"))
    runner.prepare(rt, pipeline)
    if dbutils.widgets.get("run_type") == "stream":
        streams = runner.start_streams(rt, pipeline.name)
        streams.wait()
        return json.dumps({"pipeline": pipeline.name, "mode": "stream"})
    return _summary(runner.run(rt, pipeline.name))


def produce(dbutils, spark=None) -> str:
    rt, pipeline = runtime(dbutils, spark), get_pipeline(dbutils.widgets.get("pipeline"))
    set_number = int(dbutils.widgets.get("set"))
    produced = hooks.produce(rt, pipeline, set_number=set_number)
    return json.dumps({"pipeline": pipeline.name, "set": set_number, **_produced(produced)})


def _produced(produced: Any) -> dict:
    """What a producer returned, for the notebook's exit value: the files it landed, or its manifest of
    planted truths (a mapping, e.g. expected counts per table)."""
    if isinstance(produced, Mapping):
        return {"manifest": json.loads(json.dumps(produced, default=str))}
    return {"files": len(produced or [])}


def batch_test(dbutils, spark=None) -> str:
    """Notebook 08. With a ``test_run`` id (``medallion deploy --run-tests`` passes one), the run writes to a
    storage root, landing zone and schemas of its own and removes them afterwards (see engine.isolation)."""
    rt, pipeline_name = runtime(dbutils, spark), dbutils.widgets.get("pipeline")
    run_id = _optional_widget(dbutils, "test_run")
    if not run_id:
        return json.dumps(acceptance.run_acceptance(rt, pipeline_name, "once"))
    isolated = Runtime(isolation.isolated_settings(rt.settings, run_id), spark=spark or rt.spark, dbutils=dbutils)
    try:
        return json.dumps(acceptance.run_acceptance(isolated, pipeline_name, "once"))
    finally:
        isolation.clean_up(isolated, [pipeline_name])


def stream_test(dbutils, spark=None) -> str:
    return json.dumps(acceptance.run_acceptance(runtime(dbutils, spark), dbutils.widgets.get("pipeline"), "stream"))


def _summary(runs) -> str:
    return json.dumps(
        {
            r.table: {
                "rows_in": r.rows_in,
                "inserted": r.rows_inserted,
                "updated": r.rows_updated,
                "quarantined": r.rows_quarantined,
            }
            for r in runs or []
        }
    )


def _optional_widget(dbutils, name: str) -> str | None:
    try:
        return dbutils.widgets.get(name) or None
    except Exception:  # Databricks raises a JVM-side error for a widget the notebook did not define
        return None


# ------------------------------------------------------------------------------------ local execution
def run_notebook(path: str | Path, params: dict[str, str], settings_overrides=None, spark=None) -> str | None:
    """Execute a Databricks source notebook locally, cell by cell, with the local ``dbutils``.

    Markdown cells (``# MAGIC``) are skipped; the value given to ``dbutils.notebook.exit`` is returned.
    """
    from medallion.local_dbutils import LocalDbutils, NotebookExit

    source = Path(path).read_text()
    if not source.startswith(NOTEBOOK_HEADER):
        raise ValueError(f"{path} is not a Databricks source notebook (first line must be '{NOTEBOOK_HEADER}')")
    dbutils = LocalDbutils(params, settings_overrides=settings_overrides)
    if spark is None:
        spark = runtime(_ParamsOnly(params, settings_overrides)).spark
    namespace = {"dbutils": dbutils, "spark": spark, "display": print, "__name__": "__notebook__"}
    for cell in source[len(NOTEBOOK_HEADER) :].split(CELL_SEPARATOR):
        code = "\n".join(line for line in cell.splitlines() if not line.startswith("# MAGIC"))
        if not code.strip():
            continue
        try:
            exec(compile(code, str(path), "exec"), namespace)
        except NotebookExit as done:
            return done.value
    return None


class _ParamsOnly:
    """Enough of dbutils to resolve settings before the notebook has declared its widgets."""

    def __init__(self, params, overrides):
        from medallion.local_dbutils import LocalDbutils

        base = LocalDbutils(params, settings_overrides=overrides)
        base.widgets.text("env", "local")
        self.widgets = base.widgets
        self.settings_overrides = base.settings_overrides
