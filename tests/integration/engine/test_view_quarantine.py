"""A materialized view computes its rows again at every refresh, and its rules reject the same records
again: each waits in the quarantine once, whether the refresh before crashed between its quarantine write
and its table write, or the view is refreshed because its input changed.

The toy orders pipeline (tests/integration/engine/toy_pipeline.py) with one more gold view, whose rule
rejects order 1 (5, under its minimum) at every refresh."""

from __future__ import annotations

import pytest

from medallion.declare.tables import Layer
from medallion.engine import hooks, runner
from medallion.platform import failpoints
from tests.integration.engine.toy_pipeline import FILES, installed_pipeline

NAME = "view_quarantine_toy"
QUIET = dict(progress=lambda message: None)
BIG_ORDERS = '''

from medallion.declare.tables import expect_or_drop


@table(Layer.GOLD, Scd1(("order_id",)), {"orders": snapshot("orders")},
       expectations=(expect_or_drop("at_least_ten", "amount >= 10"),))
def big_orders(orders):
    """The orders of at least 10."""
    return orders.select("order_id", "amount")
'''


@pytest.fixture
def toy(tmp_path, spark):
    with installed_pipeline(tmp_path, NAME, {**FILES, "gold.py": FILES["gold.py"] + BIG_ORDERS}, spark) as installed:
        yield installed


def quarantined(runtime) -> list[tuple]:
    frame = runtime.spark.read.format("delta").load(runtime.quarantine_path(NAME))
    return sorted((row["table"], tuple(row["rules"]), row["record"]) for row in frame.collect())


def big_orders(runtime) -> list[tuple]:
    frame = runtime.spark.read.format("delta").load(runtime.location(NAME, Layer.GOLD, "big_orders").path)
    return sorted(tuple(row) for row in frame.collect())


def test_a_view_quarantines_a_record_once_across_a_crashed_refresh_and_the_next_refresh(toy, monkeypatch):
    runtime, pipeline = toy
    hooks.produce(runtime, pipeline, set_number=1)
    monkeypatch.setenv(failpoints.ENV_VAR, "between_writes:big_orders=raise")
    failpoints.reset()
    with pytest.raises(failpoints.FailpointError, match="between_writes raised in .*big_orders"):
        runner.run(runtime, NAME, **QUIET)
    expected = [
        ("big_orders", ("at_least_ten",), '{"order_id":1,"amount":5}'),
        ("orders", ("has_customer",), '{"order_id":4,"amount":40}'),
    ]
    assert quarantined(runtime) == expected  # the crashed refresh wrote its quarantine row, not its table
    assert big_orders(runtime) == []

    monkeypatch.delenv(failpoints.ENV_VAR)
    runs = {r.table: r for r in runner.run(runtime, NAME, **QUIET)}

    assert (runs["big_orders"].status, runs["big_orders"].rows_quarantined, runs["big_orders"].rows_inserted) == (
        "ok",
        1,
        2,
    )
    assert quarantined(runtime) == expected
    assert big_orders(runtime) == [(2, 20), (3, 30)]

    hooks.produce(runtime, pipeline, set_number=2)  # order 5: the view is refreshed over all orders again
    runs = {r.table: r for r in runner.run(runtime, NAME, **QUIET)}

    assert (runs["big_orders"].status, runs["big_orders"].rows_quarantined, runs["big_orders"].rows_inserted) == (
        "ok",
        1,
        1,
    )
    assert quarantined(runtime) == expected
    assert big_orders(runtime) == [(2, 20), (3, 30), (5, 12)]
