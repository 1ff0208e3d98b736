"""Stream mode refreshes a view when any of its inputs changed, not only its input tables: a view that reads
a landing folder once per refresh (``stream=False``) sees a file landed while the streams run."""

from __future__ import annotations

import os

from pyspark.sql import DataFrame

from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import Append, FileSource, Layer, Scd1, snapshot, stream, table
from medallion.engine import changes, runner
from medallion.engine import streams as streams_module
from medallion.engine.eventlog import RecordedRun
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


def counted_refreshes(monkeypatch) -> list[str]:
    """The views stream mode refreshes, in order (each refresh is a run of the view)."""
    refreshed: list[str] = []
    run_table = streams_module.run_table

    def counting(context, view, previous=None):
        refreshed.append(view.name)
        return run_table(context, view, previous)

    monkeypatch.setattr(streams_module, "run_table", counting)
    return refreshed


def test_a_view_reading_a_landing_folder_is_refreshed_when_a_file_lands_while_the_streams_run(
    make_runtime, spark, monkeypatch
):
    runtime = make_runtime()
    pipeline = region_pipeline()
    runner.ensure_tables(runtime, pipeline)
    streams = StreamingRun(
        RunContext(runtime, pipeline, mode="stream", progress=lambda message: None), [], [pipeline.get("regions")]
    )
    stored = runtime.location("region_demo", Layer.BRONZE, "regions").path
    refreshed = counted_refreshes(monkeypatch)

    land(runtime, "1.csv", "customer,region\nann,north\nbob,south\n")
    streams.refresh_views()
    land(runtime, "2.csv", "customer,region\ncid,east\n")
    streams.refresh_views()  # the next interval sees the new file
    streams.refresh_views()  # nothing landed since: no refresh

    rows = spark.read.format("delta").load(stored).orderBy("customer").collect()
    assert [(r.customer, r.region) for r in rows] == [("ann", "north"), ("bob", "south"), ("cid", "east")]
    assert refreshed == ["regions", "regions"] and streams.changing == set()


def test_a_view_declared_always_run_is_never_skipped_in_either_mode(make_runtime, monkeypatch):
    @table(Layer.GOLD, Scd1(("customer",)), {"raw": REGIONS}, always_run=True)
    def recent(raw: DataFrame) -> DataFrame:
        """Rows that depend on the clock as much as on the input."""
        return raw.select("customer", "_corrupt_record")

    runtime = make_runtime()
    pipeline = Pipeline.of("region_demo", recent)
    runner.ensure_tables(runtime, pipeline)
    land(runtime, "1.csv", "customer,region\nann,north\n")
    context = RunContext(runtime, pipeline, progress=lambda message: None)
    first = runner.run_table(context, recent)
    again = runner.run_table(context, recent, RecordedRun(first.fingerprint))
    assert (first.status, again.status) == ("ok", "ok")  # run again on the same input, never skipped
    assert again.fingerprint is not None  # recorded: where a view reading added rows starts next time

    streams = StreamingRun(RunContext(runtime, pipeline, mode="stream", progress=lambda message: None), [], [recent])
    refreshed = counted_refreshes(monkeypatch)
    streams.refresh_views()
    streams.refresh_views()  # within the minute: not looked at again
    streams.refresh_views(look_now=True)  # each look is a change
    assert refreshed == ["recent", "recent"]
    assert streams.changing == {"recent"} and streams._table_versions() == ()  # idle does not wait for it


def test_a_rotated_tokenisation_key_is_a_change_of_the_tables_that_tokenise(make_runtime, monkeypatch):
    @table(Layer.SILVER, Scd1(("customer",)), {"raw": REGIONS}, personal_data={"customer": "tokenize"})
    def tokenised(raw: DataFrame) -> DataFrame:
        """Customers by token."""
        return raw.select("customer", "_corrupt_record")

    runtime = make_runtime()
    land(runtime, "1.csv", "customer,region\nann,north\n")
    context = RunContext(runtime, Pipeline.of("region_demo", tokenised), progress=lambda message: None)
    monkeypatch.setenv("MEDALLION_SECRET_PII_TOKEN_KEY", "a" * 64)
    before = changes.fingerprint(context, tokenised)
    assert changes.fingerprint(context, tokenised) == before
    monkeypatch.setenv("MEDALLION_SECRET_PII_TOKEN_KEY", "b" * 64)
    after = changes.fingerprint(context, tokenised)
    assert changes.digest(after) != changes.digest(before)
    assert "a" * 64 not in repr(after) and "b" * 64 not in repr(after)  # the key itself is never kept
    monkeypatch.delenv("MEDALLION_SECRET_PII_TOKEN_KEY")
    assert changes.fingerprint(context, tokenised) is None  # no key to read: it runs, and its run says why


def test_a_build_defined_outside_a_module_file_always_runs(make_runtime):
    namespace: dict = {}
    exec(compile("def cell(raw):\n    return raw.select('customer', '_corrupt_record')\n", "<cell>", "exec"), namespace)
    in_a_cell = table(Layer.GOLD, Scd1(("customer",)), {"raw": REGIONS}, name="in_a_cell")(namespace["cell"])
    context = RunContext(make_runtime(), Pipeline.of("region_demo", in_a_cell))
    assert changes.fingerprint(context, in_a_cell) is None  # helpers in other cells: not in its digest


def test_idle_waits_for_a_stream_reading_a_view_whose_every_look_is_a_change(make_runtime):
    @table(Layer.SILVER, Scd1(("customer",)), {"raw": REGIONS}, always_run=True)
    def current(raw: DataFrame) -> DataFrame:
        """Refreshed at every look."""
        return raw.select("customer", "_corrupt_record")

    @table(Layer.GOLD, Scd1(("customer",)), {"current": snapshot("current")})
    def summary(current: DataFrame) -> DataFrame:
        """A view over it: it moves with it."""
        return current

    @table(Layer.GOLD, Append(), {"current": stream("current")})
    def changes_seen(current: DataFrame) -> DataFrame:
        """A stream over it: idle waits for it to catch up."""
        return current

    runtime = make_runtime()
    pipeline = Pipeline.of("region_demo", current, summary, changes_seen)
    streams = StreamingRun(RunContext(runtime, pipeline, mode="stream"), [], [current, summary])
    streams.changing.add("current")
    assert len(streams._table_versions()) == 1  # the stream's table alone
    assert streams._streams_read(["current"]) and not streams._streams_read(["summary"])
