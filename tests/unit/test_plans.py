"""Whether a streaming query keeps state between micro-batches, read from its plan."""

import pytest

from medallion.engine import plans


@pytest.fixture()
def stream(make_runtime):
    runtime = make_runtime()
    spark = runtime.spark
    path = f"{runtime.settings.root}/events"
    spark.createDataFrame([(1, "a", "2026-01-01 00:00:00")], "id BIGINT, kind STRING, at STRING").selectExpr(
        "id", "kind", "CAST(at AS TIMESTAMP) AS at"
    ).write.format("delta").save(path)
    return spark, lambda: spark.readStream.format("delta").load(path)


def test_projections_filters_and_joins_with_a_snapshot_hold_no_state(stream):
    spark, events = stream
    kinds = spark.createDataFrame([("a", "first")], "kind STRING, label STRING")
    assert not plans.holds_state(events().where("id > 0").select("id", "kind"))
    assert not plans.holds_state(events().join(kinds, "kind"))


def test_deduplication_aggregation_and_stream_stream_joins_hold_state(stream):
    _, events = stream
    assert plans.holds_state(events().dropDuplicates(["id"]))
    assert plans.holds_state(events().groupBy("kind").count())
    left = events().withWatermark("at", "1 minute")
    right = events().withWatermark("at", "1 minute").selectExpr("id AS other_id", "at AS other_at")
    assert plans.holds_state(left.join(right, left.id == right.other_id))
