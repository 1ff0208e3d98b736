"""Adding a pipeline is adding its folder: a sixth pipeline written into a temporary package folder runs
through setup, its producer, a run and a no-op rerun, with nothing outside the folder changed. The same
pipeline proves that a run skips an unchanged table and never skips a changed one."""

from __future__ import annotations

import pytest

import medallion.pipelines
from medallion.declare import pipeline as declared
from medallion.engine import hooks, runner
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime
from tests.integration.engine.toy_pipeline import forget_toy_pipeline, write_toy_pipeline

QUIET = dict(progress=lambda message: None)


@pytest.fixture
def toy(tmp_path, spark):
    """The toy pipeline importable as ``medallion.pipelines.toy`` (its folder outside the project)."""
    write_toy_pipeline(tmp_path / "pipelines")
    medallion.pipelines.__path__.append(str(tmp_path / "pipelines"))
    forget_toy_pipeline()
    runtime = Runtime(
        load_settings("local", root=str(tmp_path / "lake"), overrides={"secrets": {"provider": "env"}}), spark=spark
    )
    yield runtime, declared.get_pipeline("toy")
    medallion.pipelines.__path__.remove(str(tmp_path / "pipelines"))
    forget_toy_pipeline()


def totals(runtime) -> dict[str, int]:
    rows = runtime.spark.read.format("delta").load(runtime.location("toy", *_gold("customer_totals")).path).collect()
    return {row["customer"]: row["total"] for row in rows}


def _gold(name):
    from medallion.declare.tables import Layer

    return Layer.GOLD, name


def statuses(runs) -> dict[str, str]:
    return {run.table: run.status for run in runs}


def test_a_pipeline_in_its_own_folder_is_discovered_and_runs(toy):
    runtime, toy_pipeline = toy
    assert sorted(toy_pipeline.tables) == ["customer_totals", "orders", "orders_bz"]
    assert sorted(toy_pipeline.hooks) == ["produce"]
    assert runtime.settings.pipeline("toy")["minimum_amount"] == 10  # its conf.yml, read as the pipeline's settings
    runner.prepare(runtime, toy_pipeline)
    hooks.produce(runtime, toy_pipeline, set_number=1)
    first = runner.run(runtime, "toy", **QUIET)
    assert statuses(first) == {"orders_bz": "ok", "orders": "ok", "customer_totals": "ok"}
    assert {r.table: (r.rows_in, r.rows_quarantined) for r in first} == {
        "orders_bz": (4, 0),
        "orders": (4, 1),
        "customer_totals": (2, 0),
    }
    assert totals(runtime) == {"ann": 20, "bob": 30}
    assert runtime.settings.landing_path("toy", "orders").endswith("/landing/toy/orders")  # its own landing zone


def test_an_unchanged_table_is_skipped_and_a_changed_input_never_is(toy, monkeypatch):
    runtime, toy_pipeline = toy
    runner.prepare(runtime, toy_pipeline)
    hooks.produce(runtime, toy_pipeline, set_number=1)
    runner.run(runtime, "toy", **QUIET)

    # nothing new: every table is skipped, and the event log says so
    assert statuses(runner.run(runtime, "toy", **QUIET)) == {
        "orders_bz": "skipped",
        "orders": "skipped",
        "customer_totals": "skipped",
    }

    # a new landing file: every table runs and the new order reaches gold
    hooks.produce(runtime, toy_pipeline, set_number=2)
    assert statuses(runner.run(runtime, "toy", **QUIET)) == {"orders_bz": "ok", "orders": "ok", "customer_totals": "ok"}
    assert totals(runtime) == {"ann": 20, "bob": 42}

    # a new Delta version of an input, written outside the pipeline: the tables reading it run again
    silver = runtime.location("toy", toy_pipeline.get("orders").layer, "orders").path
    runtime.spark.createDataFrame([(6, "cy", 50)], "order_id INT, customer STRING, amount INT").write.format(
        "delta"
    ).mode("append").save(silver)
    assert statuses(runner.run(runtime, "toy", **QUIET)) == {
        "orders_bz": "skipped",
        "orders": "ok",
        "customer_totals": "ok",
    }
    assert totals(runtime) == {"ann": 20, "bob": 42, "cy": 50}

    # a changed setting the view reads: the view runs again, the tables that do not read it stay skipped
    changed = Runtime(
        load_settings(
            "local",
            root=runtime.settings.root,
            overrides={"secrets": {"provider": "env"}, "pipelines": {"toy": {"minimum_amount": 1}}},
        ),
        spark=runtime.spark,
    )
    assert statuses(runner.run(changed, "toy", **QUIET)) == {
        "orders_bz": "skipped",
        "orders": "skipped",
        "customer_totals": "ok",
    }
    assert totals(changed) == {"ann": 25, "bob": 42, "cy": 50}
