"""Recovering a pipeline: the advised reset rebuilds every table on a plain run (reference data included),
and a streaming table that lost its checkpoint stops the run instead of skipping new rows as replays.

A small pipeline in a temporary package folder (the toy orders, plus a customer → region reference table
loaded by the history loader and a gold view joining the two) keeps these tests quick."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from medallion.cli.commands.pipelines import reset_pipeline
from medallion.declare.tables import Layer
from medallion.engine import hooks, runner
from medallion.errors import CheckpointError
from tests.integration.engine.toy_pipeline import FILES, installed_pipeline

NAME = "recovery_toy"
QUIET = dict(progress=lambda message: None)
HISTORY = {
    "history.py": '''
from pyspark.sql import functions as F

from medallion.declare.tables import FileSource, Layer, Scd1, snapshot, table

REGIONS = FileSource(folder="regions", format="csv", schema="customer STRING, region STRING", stream=False,
                     options={"header": "true"})


@table(Layer.BRONZE, Scd1(("customer",)), {"raw": REGIONS}, history=True)
def regions(raw):
    """Customer regions, reference data loaded by the history loader."""
    return raw.select("customer", "region", "_corrupt_record")


@table(Layer.GOLD, Scd1(("order_id",)), {"orders": snapshot("orders"), "regions": snapshot("regions")})
def order_regions(orders, regions):
    """Each order with its customer's region (NULL when the customer has none)."""
    return orders.join(regions, "customer", "left").select("order_id", "region")
''',
    "hooks.py": FILES["hooks.py"]
    + """

def load_history(context: PipelineContext) -> list[str]:
    return [context.landing.write_text("regions", "regions.csv", "customer,region\\nann,north\\nbob,south\\n")]
""",
}


@pytest.fixture
def toy(tmp_path, spark):
    with installed_pipeline(tmp_path, NAME, {**FILES, **HISTORY}, spark) as (runtime, pipeline):
        hooks.produce(runtime, pipeline, set_number=1)
        runner.run(runtime, NAME, **QUIET)
        yield runtime, pipeline


def rows(runtime, layer: Layer, table: str) -> list[tuple]:
    frame = runtime.spark.read.format("delta").load(runtime.location(NAME, layer, table).path)
    return sorted(tuple(row) for row in frame.drop("load_time", "source_file").collect())


def test_after_the_advised_reset_a_plain_run_rebuilds_every_table(toy):
    runtime, _pipeline = toy
    before = {
        t: rows(runtime, layer, t)
        for layer, t in [(Layer.BRONZE, "regions"), (Layer.SILVER, "orders"), (Layer.GOLD, "order_regions")]
    }
    assert before[(Layer.GOLD, "order_regions")[1]] == [(1, "north"), (2, "north"), (3, "south")]

    reset_pipeline(argparse.Namespace(pipeline=NAME, keep_landing=True, env="local", root=runtime.settings.root))
    runs = runner.run(runtime, NAME, **QUIET)

    assert {r.table: (r.status, r.rows_inserted) for r in runs} == {
        "regions": ("ok", 2),
        "orders_bz": ("ok", 4),
        "orders": ("ok", 3),
        "customer_totals": ("ok", 2),
        "order_regions": ("ok", 3),
    }
    assert {
        t: rows(runtime, layer, t)
        for layer, t in [(Layer.BRONZE, "regions"), (Layer.SILVER, "orders"), (Layer.GOLD, "order_regions")]
    } == before


def test_a_table_holding_rows_without_its_checkpoint_stops_the_run(toy):
    runtime, pipeline = toy
    checkpoint = Path(runtime.location(NAME, Layer.SILVER, "orders").checkpoint)
    shutil.rmtree(checkpoint)
    hooks.produce(runtime, pipeline, set_number=2)
    orders_bz_before = rows(runtime, Layer.BRONZE, "orders_bz")

    with pytest.raises(CheckpointError) as raised:
        runner.run(runtime, NAME, **QUIET)

    assert str(raised.value).startswith(
        f"The streaming checkpoint of {NAME}.orders at {checkpoint} is missing, but the table or its quarantine holds rows. "
        "Nothing was written"
    )
    assert f"`medallion reset {NAME} --keep-landing` then `medallion run {NAME}`" in str(raised.value)
    assert rows(runtime, Layer.BRONZE, "orders_bz") == orders_bz_before  # checked before anything ran
    assert not checkpoint.exists()


def test_a_table_whose_only_rows_are_in_the_quarantine_without_its_checkpoint_stops_the_run(toy):
    runtime, pipeline = toy
    location = runtime.location(NAME, Layer.SILVER, "orders")
    runtime.spark.sql(f"DELETE FROM delta.`{location.path}`")  # of its stream's rows, the quarantined one is left
    shutil.rmtree(location.checkpoint)
    hooks.produce(runtime, pipeline, set_number=2)

    with pytest.raises(CheckpointError, match="is missing, but the table or its quarantine holds rows"):
        runner.run(runtime, NAME, **QUIET)

    assert rows(runtime, Layer.SILVER, "orders") == []


def land_files_never_read(runtime) -> None:
    """A hidden file, and a file re-landed under a name already read with other content."""
    import os

    landing = Path(runtime.settings.landing_path(NAME, "orders"))
    (landing / "_orders_9.csv").write_text("order_id,customer,amount\n9,dan,90\n")
    relanded = landing / "orders_1.csv"
    relanded.write_text("order_id,customer,amount\n1,ann,5\n8,eve,80\n")
    os.utime(relanded, (relanded.stat().st_atime, relanded.stat().st_mtime + 60))


def test_files_the_stream_will_never_read_are_named_in_the_event_log_and_health(toy):

    from medallion.engine.unread_files import CHANGED, HIDDEN
    from medallion.read.health import pipeline_health

    runtime, _pipeline = toy
    land_files_never_read(runtime)

    runs = {r.table: r for r in runner.run(runtime, NAME, **QUIET)}

    unread = {"orders/_orders_9.csv": HIDDEN, "orders/orders_1.csv": CHANGED}
    assert (runs["orders_bz"].rows_in, runs["orders_bz"].unread_files) == (0, unread)
    assert rows(runtime, Layer.SILVER, "orders") == [(1, "ann", 5), (2, "ann", 20), (3, "bob", 30)]
    assert pipeline_health(runtime, NAME).unread_files == {"orders_bz": unread}


def test_a_run_with_nothing_new_reports_the_same_files_without_reading_the_checkpoint(toy, monkeypatch):

    from medallion.engine import unread_files as unread_module
    from medallion.engine.unread_files import CHANGED, HIDDEN
    from medallion.read.health import pipeline_health

    runtime, _pipeline = toy
    land_files_never_read(runtime)
    checkpoint_reads: list[str] = []
    real_files_read = unread_module.files_read
    monkeypatch.setattr(
        unread_module,
        "files_read",
        lambda checkpoint: checkpoint_reads.append(checkpoint) or real_files_read(checkpoint),
    )
    orders_bz_checkpoint = runtime.location(NAME, Layer.BRONZE, "orders_bz").checkpoint

    first = {r.table: r for r in runner.run(runtime, NAME, **QUIET)}
    assert checkpoint_reads == [orders_bz_checkpoint]  # the listing changed: the source log is read once
    second = {r.table: r for r in runner.run(runtime, NAME, **QUIET)}

    unread = {"orders/_orders_9.csv": HIDDEN, "orders/orders_1.csv": CHANGED}
    assert (first["orders_bz"].status, first["orders_bz"].unread_files) == ("ok", unread)
    assert (second["orders_bz"].status, second["orders_bz"].unread_files) == ("skipped", unread)
    assert checkpoint_reads == [orders_bz_checkpoint]  # nothing changed: the skipped run did not read it again
    assert pipeline_health(runtime, NAME).unread_files == {"orders_bz": unread}


def test_stream_mode_reports_files_it_will_never_read_at_the_start_and_while_it_runs(toy):
    import os
    import time

    from medallion.engine.streams import start_streams
    from medallion.engine.unread_files import CHANGED, HIDDEN
    from medallion.read.health import pipeline_health

    runtime, _pipeline = toy
    landing = Path(runtime.settings.landing_path(NAME, "orders"))
    (landing / ".orders_7.csv").write_text("order_id,customer,amount\n7,dan,70\n")
    said: list[str] = []
    streams = start_streams(runtime, NAME, progress=said.append)
    try:
        at_start = pipeline_health(runtime, NAME).unread_files
        (landing / "_orders_9.csv").write_text("order_id,customer,amount\n9,dan,90\n")
        relanded = landing / "orders_1.csv"
        relanded.write_text("order_id,customer,amount\n1,ann,5\n8,eve,80\n")
        os.utime(relanded, (relanded.stat().st_atime, relanded.stat().st_mtime + 60))
        expected = {"orders/.orders_7.csv": HIDDEN, "orders/_orders_9.csv": HIDDEN, "orders/orders_1.csv": CHANGED}
        deadline, while_running = time.time() + 120, {}
        while time.time() < deadline and while_running != {"orders_bz": expected}:
            time.sleep(2)
            while_running = pipeline_health(runtime, NAME).unread_files
        streams.await_idle(timeout=300)
    finally:
        streams.stop()

    assert at_start == {"orders_bz": {"orders/.orders_7.csv": HIDDEN}}
    assert while_running == {"orders_bz": expected}
    assert [line for line in said if "bronze.orders_bz: orders/" in line] == [
        f"[{NAME}] bronze.orders_bz: orders/.orders_7.csv {HIDDEN}",
        f"[{NAME}] bronze.orders_bz: orders/_orders_9.csv {HIDDEN}",
        f"[{NAME}] bronze.orders_bz: orders/orders_1.csv {CHANGED}",
    ]
    assert rows(runtime, Layer.SILVER, "orders") == [(1, "ann", 5), (2, "ann", 20), (3, "bob", 30)]
