"""Stream mode refreshes a view when any of its inputs changed, not only its input tables: a view that reads
a landing folder once per refresh (``stream=False``) sees a file landed while the streams run."""

from __future__ import annotations

import os

from pyspark.sql import DataFrame

from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import FileSource, Layer, Scd1, table
from medallion.engine import runner
from medallion.engine.runner import RunContext, StreamingRun

REGIONS = FileSource("regions", "csv", "customer STRING, region STRING", stream=False)


def region_pipeline() -> Pipeline:
    @table(Layer.BRONZE, Scd1(("customer",)), {"raw": REGIONS})
    def regions(raw: DataFrame) -> DataFrame:
        """Customer regions, read whole at each refresh."""
        return raw.select("customer", "region", "_corrupt_record")

    return Pipeline.of("region_demo", regions)


def land(runtime, name: str, text: str) -> None:
    folder = runtime.settings.landing_path("region_demo", "regions")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "w") as out:
        out.write(text)


def test_a_view_reading_a_landing_folder_is_refreshed_when_a_file_lands_while_the_streams_run(make_runtime, spark):
    runtime = make_runtime()
    pipeline = region_pipeline()
    runner.ensure_tables(runtime, pipeline)
    streams = StreamingRun(
        RunContext(runtime, pipeline, mode="stream", progress=lambda message: None), [], [pipeline.get("regions")]
    )
    stored = runtime.location("region_demo", Layer.BRONZE, "regions").path

    land(runtime, "1.csv", "customer,region\nann,north\nbob,south\n")
    streams.refresh_views()
    land(runtime, "2.csv", "customer,region\ncid,east\n")
    streams.refresh_views()

    rows = spark.read.format("delta").load(stored).orderBy("customer").collect()
    assert [(r.customer, r.region) for r in rows] == [("ann", "north"), ("bob", "south"), ("cid", "east")]
    version = spark.sql(f"DESCRIBE HISTORY delta.`{stored}`").first()["version"]
    streams.refresh_views()  # nothing landed since: no refresh, no new version
    assert spark.sql(f"DESCRIBE HISTORY delta.`{stored}`").first()["version"] == version
