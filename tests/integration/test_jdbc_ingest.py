"""Incremental JDBC ingestion against the real PostgreSQL server: what a run copies, and what it never does."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from medallion.declare import tables as declare
from medallion.declare.pipeline import Pipeline
from medallion.declare.tables import Append, JdbcSource, Layer
from medallion.engine import runner
from medallion.engine.runner import RunContext
from medallion.errors import SourceError
from medallion.sources import jdbc
from tests.support import postgres

ORDERS_SCHEMA = "order_id INT, customer STRING, amount DOUBLE, updated_at TIMESTAMP"
T0 = datetime(2024, 3, 1, 9, 0, 0)


def orders_pipeline(table: str = "orders", rows_per_partition: int = 50) -> Pipeline:
    source = JdbcSource(
        table,
        ORDERS_SCHEMA,
        change_column="updated_at",
        partition_column="order_id",
        num_partitions=3,
        rows_per_partition=rows_per_partition,
    )

    @declare.table(Layer.BRONZE, Append(), {"changes": source})
    def orders_bz(changes):
        """Copies of the operational orders, one row per change."""
        return changes.withColumn("run_date", F.to_date("load_time"))

    return Pipeline.of("jdbc_demo", orders_bz)


def create_orders(client, count: int) -> None:
    client.execute(
        "CREATE TABLE orders (order_id INT PRIMARY KEY, customer VARCHAR(40), amount NUMERIC(10,2), "
        "updated_at TIMESTAMP NOT NULL, note VARCHAR(100))"
    )
    # microseconds differ between neighbours: the mark must keep them
    client.execute_many(
        "INSERT INTO orders VALUES (?, ?, ?, ?, 'not copied')",
        [
            (
                order_id,
                f"customer-{order_id % 7}",
                float(order_id),
                T0 + timedelta(seconds=order_id // 3, microseconds=order_id),
            )
            for order_id in range(1, count + 1)
        ],
    )


def run_once(runtime, pipeline):
    runner.ensure_tables(runtime, pipeline)
    context = RunContext(runtime, pipeline, progress=lambda message: None)
    return runner.run_table(context, pipeline.get("orders_bz"))


def bronze(runtime, pipeline):
    return runtime.spark.read.format("delta").load(runtime.location(pipeline.name, Layer.BRONZE, "orders_bz").path)


def delta_version(runtime, pipeline) -> int:
    path = runtime.location(pipeline.name, Layer.BRONZE, "orders_bz").path
    return runtime.spark.sql(f"DESCRIBE HISTORY delta.`{path}`").agg(F.max("version")).first()[0]


@pytest.fixture
def runtime_on(make_runtime, operational_database):
    return make_runtime(databases={"operational": {"url": operational_database.url}})


def test_each_run_copies_only_what_changed_since_the_last_successful_copy(runtime_on, sql):
    with sql() as client:
        create_orders(client, 120)
    pipeline = orders_pipeline()
    path = runtime_on.location(pipeline.name, Layer.BRONZE, "orders_bz").path

    first = run_once(runtime_on, pipeline)
    assert (first.rows_in, first.rows_inserted) == (120, 120)
    # the mark is the greatest change in bronze, to the microsecond
    assert jdbc.high_water_mark(runtime_on.spark, path, "updated_at") == "2024-03-01 09:00:40.000120"

    with sql() as client:
        for order_id in (121, 122, 123):
            client.execute("INSERT INTO orders VALUES (?, 'new', 1.5, ?, NULL)", (order_id, T0 + timedelta(days=1)))
        client.execute(
            "UPDATE orders SET amount = 99.5, updated_at = ? WHERE order_id IN (7, 8)", (T0 + timedelta(days=2),)
        )
        # one microsecond after the mark: a change all the same
        client.execute("UPDATE orders SET updated_at = ? WHERE order_id = 1", (datetime(2024, 3, 1, 9, 0, 40, 121),))

    second = run_once(runtime_on, pipeline)
    assert (second.rows_in, second.rows_inserted) == (6, 6)
    copies = bronze(runtime_on, pipeline)
    assert copies.count() == 126
    changed = sorted(r.order_id for r in copies.where("updated_at > '2024-03-01 09:00:40.000120'").collect())
    assert changed == [1, 7, 8, 121, 122, 123]
    assert copies.where("order_id = 7").agg(F.max_by("amount", "updated_at")).first()[0] == 99.5
    assert set(copies.columns) == {"order_id", "customer", "amount", "updated_at", "load_time", "run_date"}

    version = delta_version(runtime_on, pipeline)
    rerun = run_once(runtime_on, pipeline)
    assert (rerun.rows_in, rerun.rows_inserted) == (0, 0)
    assert delta_version(runtime_on, pipeline) == version
    assert bronze(runtime_on, pipeline).count() == 126

    password = os.environ[postgres.PASSWORD_ENV_VAR]
    written = [p for p in Path(runtime_on.settings.root).rglob("*") if p.is_file()]
    assert len(password) >= 8 and written
    assert not [str(p) for p in written if password.encode() in p.read_bytes()], "the password reached storage"


def test_large_slices_are_read_by_parallel_range_queries(runtime_on, sql, operational_database):
    with sql() as client:
        create_orders(client, 120)
    source = orders_pipeline().get("orders_bz").inputs["changes"]
    password = runtime_on.secrets.get(operational_database.password_secret)
    target = runtime_on.location("jdbc_demo", Layer.BRONZE, "orders_bz").path

    staging = runtime_on.staging_path("jdbc_demo", "orders_bz", "jdbc_slice")

    # each range query of the read writes its own file of the staged slice
    rows = jdbc.read_changes(runtime_on.spark, source, operational_database, password, target, staging)
    assert len(rows.inputFiles()) == 3  # 120 rows at 50 per partition → 3, the declared maximum
    assert rows.count() == 120 and rows.select("order_id").distinct().count() == 120

    small = JdbcSource("orders", ORDERS_SCHEMA, "updated_at", partition_column="order_id", rows_per_partition=1000)
    rows = jdbc.read_changes(runtime_on.spark, small, operational_database, password, target, staging)
    assert len(rows.inputFiles()) == 1 and rows.count() == 120  # the staged slice is replaced, not added to


def test_a_stopped_server_is_a_clear_error_that_changes_nothing(runtime_on, sql):
    with sql() as client:
        create_orders(client, 30)
    pipeline = orders_pipeline()
    run_once(runtime_on, pipeline)
    with sql() as client:
        client.execute("UPDATE orders SET amount = 1, updated_at = ? WHERE order_id <= 4", (T0 + timedelta(days=3),))
    version = delta_version(runtime_on, pipeline)

    postgres.stop()
    try:
        with pytest.raises(SourceError) as stopped:
            run_once(runtime_on, pipeline)
    finally:
        postgres.start()

    message = str(stopped.value)
    assert "unreachable" in message and "scripts/postgres.sh start" in message and "Nothing was written" in message
    assert os.environ[postgres.PASSWORD_ENV_VAR] not in message
    assert delta_version(runtime_on, pipeline) == version
    resumed = run_once(runtime_on, pipeline)
    assert resumed.rows_inserted == 4
    copies = bronze(runtime_on, pipeline)
    assert copies.count() == 34
    assert copies.groupBy("order_id", "updated_at").count().where("count > 1").count() == 0


def test_a_missing_table_is_a_clear_error_that_writes_nothing(runtime_on):
    pipeline = orders_pipeline(table="no_such_orders")

    with pytest.raises(SourceError, match="table no_such_orders does not exist in the database 'operational'"):
        run_once(runtime_on, pipeline)

    assert bronze(runtime_on, pipeline).count() == 0


def test_a_declared_column_missing_from_the_table_is_named(runtime_on, sql):
    with sql() as client:
        client.execute("CREATE TABLE orders (order_id INT, customer VARCHAR(40), updated_at TIMESTAMP)")
        client.execute("INSERT INTO orders VALUES (1, 'a', ?)", (T0,))

    with pytest.raises(SourceError, match="lacks a column its JdbcSource declares"):
        run_once(runtime_on, orders_pipeline())


def test_a_declared_type_that_cannot_hold_the_columns_values_is_named_and_nothing_is_written(runtime_on, sql):
    with sql() as client:  # customer is text and order_id a BIGINT in the database, declared INT
        client.execute(
            "CREATE TABLE orders (order_id BIGINT, customer VARCHAR(40), amount NUMERIC(10,2), updated_at TIMESTAMP)"
        )
        client.execute("INSERT INTO orders VALUES (3000000000, 'n/a', 1.5, ?)", (T0,))
    source = JdbcSource("orders", "order_id INT, customer INT, amount DOUBLE, updated_at TIMESTAMP", "updated_at")

    @declare.table(Layer.BRONZE, Append(), {"changes": source})
    def orders_bz(changes):
        """Copies of the operational orders, one row per change."""
        return changes

    pipeline = Pipeline.of("jdbc_demo", orders_bz)
    with pytest.raises(SourceError) as raised:
        run_once(runtime_on, pipeline)

    assert "order_id is bigint there, declared int; customer is string there, declared int." in str(raised.value)
    assert "Nothing was written" in str(raised.value)
    assert bronze(runtime_on, pipeline).count() == 0


def test_rows_without_a_change_value_are_a_clear_error_not_a_silent_loss(runtime_on, sql):
    with sql() as client:
        client.execute(
            "CREATE TABLE orders (order_id INT PRIMARY KEY, customer VARCHAR(40), amount NUMERIC(10,2), "
            "updated_at TIMESTAMP)"
        )
        client.execute_many("INSERT INTO orders VALUES (?, 'a', 1.0, ?)", [(1, T0), (2, None), (3, None)])
    pipeline = orders_pipeline()

    with pytest.raises(SourceError, match="table orders in database 'operational' has 2 rows whose updated_at is NULL"):
        run_once(runtime_on, pipeline)
    assert bronze(runtime_on, pipeline).count() == 0

    with sql() as client:
        client.execute("UPDATE orders SET updated_at = ? WHERE updated_at IS NULL", (T0 + timedelta(hours=1),))
    assert run_once(runtime_on, pipeline).rows_inserted == 3
    assert sorted(r.order_id for r in bronze(runtime_on, pipeline).collect()) == [1, 2, 3]


# ------------------------------------------------------------------- late commits, updates and deletes
def changes_pipeline(lookback: str | None = "10 minutes") -> Pipeline:
    source = JdbcSource(
        "orders",
        ORDERS_SCHEMA,
        change_column="updated_at",
        keys=("order_id",),
        lookback=lookback,
        deletes="orders_deleted",
    )

    @declare.table(Layer.BRONZE, Append(), {"changes": source})
    def orders_bz(changes):
        """Copies of the operational orders, one row per change, deletes as tombstones."""
        return changes

    return Pipeline.of("jdbc_changes", orders_bz)


def create_tracked_orders(client) -> None:
    """Orders whose updated_at moves on every update and whose deletes a trigger records."""
    client.execute(
        "CREATE TABLE orders (order_id INT PRIMARY KEY, customer VARCHAR(40), amount NUMERIC(10,2), "
        "updated_at TIMESTAMP NOT NULL)"
    )
    client.execute("CREATE TABLE orders_deleted (order_id INT NOT NULL, updated_at TIMESTAMP NOT NULL)")
    client.execute("""CREATE FUNCTION orders_deleted_row() RETURNS trigger AS $$
        BEGIN INSERT INTO orders_deleted VALUES (OLD.order_id, clock_timestamp()::timestamp); RETURN OLD; END
        $$ LANGUAGE plpgsql""")
    client.execute(
        "CREATE TRIGGER orders_deleted_row AFTER DELETE ON orders FOR EACH ROW EXECUTE FUNCTION orders_deleted_row()"
    )


def copies_of(runtime, pipeline) -> list[tuple]:
    rows = bronze(runtime, pipeline).orderBy("order_id", "updated_at").collect()
    return [(r.order_id, r.customer, r.amount, r.deleted) for r in rows]


def test_late_commits_updates_and_deletes_reach_bronze_once(runtime_on, sql):
    now = datetime.now().replace(microsecond=0)
    with sql() as client:
        create_tracked_orders(client)
        client.execute_many(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            [
                (1, "ann", 10.0, now - timedelta(minutes=3)),
                (2, "bob", 20.0, now - timedelta(minutes=2)),
                (3, "cy", 30.0, now - timedelta(minutes=1)),
            ],
        )
    pipeline = changes_pipeline()
    first = run_once(runtime_on, pipeline)
    assert (first.rows_in, first.rows_inserted) == (3, 3)

    with sql() as client:
        # a late commit: its transaction set updated_at two minutes before the mark, and commits only now
        client.execute("INSERT INTO orders VALUES (4, 'dee', 40.0, ?)", (now - timedelta(minutes=3),))
        client.execute("UPDATE orders SET amount = 21.0, updated_at = ? WHERE order_id = 2", (now,))
        client.execute("DELETE FROM orders WHERE order_id = 3")

    second = run_once(runtime_on, pipeline)
    assert (second.rows_in, second.rows_inserted) == (3, 3)  # the window's older rows are not copied again
    assert copies_of(runtime_on, pipeline) == [
        (1, "ann", 10.0, False),
        (2, "bob", 20.0, False),
        (2, "bob", 21.0, False),
        (3, "cy", 30.0, False),
        (3, None, None, True),
        (4, "dee", 40.0, False),
    ]

    version = delta_version(runtime_on, pipeline)
    rerun = run_once(runtime_on, pipeline)
    assert (rerun.rows_in, rerun.rows_inserted) == (0, 0)
    assert delta_version(runtime_on, pipeline) == version


def test_a_commit_later_than_the_window_is_the_documented_limit(runtime_on, sql):
    now = datetime.now().replace(microsecond=0)
    with sql() as client:
        create_tracked_orders(client)
        client.execute("INSERT INTO orders VALUES (1, 'ann', 10.0, ?)", (now,))
    pipeline = changes_pipeline(lookback="1 minutes")
    run_once(runtime_on, pipeline)
    with sql() as client:
        client.execute("INSERT INTO orders VALUES (2, 'late', 1.0, ?)", (now - timedelta(seconds=30),))
        client.execute("INSERT INTO orders VALUES (3, 'too late', 1.0, ?)", (now - timedelta(minutes=5),))
    assert run_once(runtime_on, pipeline).rows_inserted == 1
    assert [row[0] for row in copies_of(runtime_on, pipeline)] == [1, 2]
