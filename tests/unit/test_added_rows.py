"""A view reading ``added`` rows: each refresh is handed the rows its input gained since the last one, and
every row whenever the engine cannot tell where the last one stopped."""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame

from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import Append, InsertOnly, Layer, Scd1, added, stream, table
from medallion.engine import changes, runner
from medallion.engine.eventlog import RecordedRun
from medallion.engine.runner import RunContext


def numbers_pipeline() -> Pipeline:
    @table(Layer.SILVER, Append())
    def numbers() -> DataFrame:
        """Only a storage location here: the tests write it directly."""
        raise AssertionError("never built")

    @table(Layer.GOLD, InsertOnly(("id",)), {"new_numbers": added("numbers")})
    def seen(new_numbers: DataFrame) -> DataFrame:
        """Every number, from the numbers added since the last refresh."""
        return new_numbers

    return Pipeline.of("added_demo", numbers, seen)


class Refreshes:
    """The view refreshed as the runner does: each run given what the view's last successful run recorded."""

    def __init__(self, runtime):
        self.runtime, self.pipeline = runtime, numbers_pipeline()
        self.previous: RecordedRun | None = None

    def append(self, start: int, end: int, mode: str = "append") -> None:
        path = self.runtime.location(self.pipeline.name, Layer.SILVER, "numbers").path
        self.runtime.spark.range(start, end).write.format("delta").mode(mode).save(path)

    def refresh(self):
        runner.ensure_tables(self.runtime, self.pipeline)  # the view's table, as set-up creates it
        context = RunContext(self.runtime, self.pipeline, progress=lambda message: None)
        run = runner.run_table(context, self.pipeline.get("seen"), self.previous)
        self.previous = RecordedRun(run.fingerprint) if run.fingerprint else self.previous
        return run

    @property
    def view_path(self) -> str:
        return self.runtime.location(self.pipeline.name, Layer.GOLD, "seen").path

    def stored(self) -> list[int]:
        return sorted(row["id"] for row in self.runtime.spark.read.format("delta").load(self.view_path).collect())


def outcome(run) -> tuple:
    return run.status, run.rows_in, run.rows_inserted, run.rows_unchanged


def test_each_refresh_reads_only_the_rows_added_since_the_last(make_runtime):
    refreshes = Refreshes(make_runtime())
    refreshes.append(0, 4)
    assert outcome(refreshes.refresh()) == ("ok", 4, 4, 0)
    refreshes.append(4, 6)
    refreshes.append(6, 7)  # two commits since the last refresh
    assert outcome(refreshes.refresh()) == ("ok", 3, 3, 0)
    assert outcome(refreshes.refresh()) == ("skipped", 0, 0, 0)  # nothing new
    assert refreshes.stored() == list(range(7))


def test_a_rewritten_input_hands_over_the_rows_it_rewrote_and_the_keyed_write_keeps_them_once(make_runtime):
    refreshes = Refreshes(make_runtime())
    refreshes.append(0, 4)
    refreshes.refresh()
    refreshes.append(0, 5, mode="overwrite")  # the old rows again, one new: every row is in a new file
    assert outcome(refreshes.refresh()) == ("ok", 5, 1, 4)
    assert refreshes.stored() == [0, 1, 2, 3, 4]


def test_a_view_written_since_its_last_refresh_reads_every_row_again(make_runtime, spark):
    refreshes = Refreshes(make_runtime())
    refreshes.append(0, 4)
    refreshes.refresh()
    spark.sql(f"DELETE FROM delta.`{refreshes.view_path}` WHERE id = 2")  # written by something else
    refreshes.append(4, 5)
    assert outcome(refreshes.refresh()) == ("ok", 5, 2, 3)  # its own version moved: every row, 2 comes back
    assert refreshes.stored() == [0, 1, 2, 3, 4]


def test_a_changed_build_reads_every_row_not_only_the_rows_added_since(make_runtime, monkeypatch):
    refreshes = Refreshes(make_runtime())
    refreshes.append(0, 4)
    assert outcome(refreshes.refresh()) == ("ok", 4, 4, 0)
    refreshes.append(4, 5)
    monkeypatch.setattr(changes, "declaration_digest", lambda table: "the build, changed")
    assert outcome(refreshes.refresh()) == ("ok", 5, 1, 4)  # the rows of before computed by the new build too
    refreshes.append(5, 6)
    assert outcome(refreshes.refresh()) == ("ok", 1, 1, 0)  # then again only what was added


def test_a_fingerprint_recorded_without_versions_reads_every_row(make_runtime):
    refreshes = Refreshes(make_runtime())
    refreshes.append(0, 4)
    first = refreshes.refresh()
    refreshes.previous = RecordedRun(changes.recorded_digest(first.fingerprint))  # as recorded before added()
    refreshes.append(4, 5)
    assert outcome(refreshes.refresh()) == ("ok", 5, 1, 4)


def test_consumed_versions_are_taken_only_while_the_view_is_as_its_last_refresh_left_it():
    table_ = numbers_pipeline().get("seen")
    now = {"declaration": "d", "self": 3, "new_numbers": 8}
    recorded = changes.record(table_, {"declaration": "d", "self": 3, "new_numbers": 7}, {"numbers": 7})
    assert changes.consumed_before(recorded, 3, now) == {"numbers": 7, changes.SELF: 3}
    assert changes.consumed_before(recorded, 4, now) is None  # written since
    assert changes.consumed_before(recorded, 0, now) is None  # the empty table set-up creates (a reset)
    assert changes.consumed_before(changes.recorded_digest(recorded), 3, now) is None
    # Computed by other code or settings: every row again, not only those added since.
    assert changes.consumed_before(recorded, 3, {**now, "declaration": "changed"}) is None
    assert changes.consumed_before(recorded, 3, {**now, "conf": '{"minimum": 10}'}) is None
    assert changes.consumed_before(recorded, 3, None) is None  # no fingerprint now: nothing to compare
    assert changes.recorded_digest(recorded) == changes.digest({"declaration": "d", "self": 3, "new_numbers": 7})


@pytest.mark.parametrize(
    "write, inputs",
    [(Append(), {"n": added("numbers")}), (Scd1(("id",)), {"n": added("numbers"), "s": stream("numbers")})],
)
def test_added_rows_belong_to_a_view_with_a_keyed_write(write, inputs):
    with pytest.raises(ValueError, match="added\\(\\) inputs belong to a materialized view with a keyed write mode"):
        table(Layer.GOLD, write, inputs)(lambda n, s=None: n)
