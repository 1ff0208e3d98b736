"""The real Online Retail sample through the operational database: loaded idempotently into PostgreSQL,
copied over JDBC into bronze and silver with its values intact."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from importlib import resources

import pytest

from medallion.declare.pipeline import get_pipeline
from medallion.engine import runner
from medallion.pipelines.movies import purchases

PIPELINE = get_pipeline("movies")


pytestmark = pytest.mark.integration


def sample_text() -> str:
    return (resources.files("medallion.pipelines.movies") / "data" / "user_purchase_sample.csv").read_text()


def test_the_real_sample_loads_once_and_reaches_silver_intact(make_runtime, operational_database, sql):
    with sql() as client:
        first = purchases.load(client, sample_text(), "user_purchase_sample.csv")
    with sql() as client:
        again = purchases.load(client, sample_text(), "user_purchase_sample.csv")
        stored = client.query(
            "SELECT COUNT(*), COUNT(DISTINCT purchase_id), MIN(invoice_date), SUM(quantity) FROM user_purchase"
        )
    assert (first.rows_in_file, first.rows_added, again.rows_added) == (39, 39, 0)
    assert stored == [(39, 39, datetime(2010, 12, 1, 8, 26), 455)]

    runtime = make_runtime(databases={"operational": {"url": operational_database.url}})
    runs = runner.run(runtime, "movies", tables=["user_purchase_bz", "user_purchase"], progress=lambda m: None)
    assert [(r.table, r.rows_in, r.rows_inserted) for r in runs] == [
        ("user_purchase_bz", 39, 39),
        ("user_purchase", 39, 39),
    ]
    silver = runtime.spark.read.format("delta").load(
        runtime.location("movies", PIPELINE.get("user_purchase").layer, "user_purchase").path
    )
    first_line = silver.orderBy("purchase_id").first()
    assert (
        first_line["invoice_number"],
        first_line["stock_code"],
        first_line["detail"],
        first_line["quantity"],
        first_line["invoice_date"],
        first_line["unit_price"],
        first_line["customer_id"],
        first_line["country"],
        first_line["is_sale"],
    ) == (
        "536365",
        "85123A",
        "WHITE HANGING HEART T-LIGHT HOLDER",
        6,
        datetime(2010, 12, 1, 8, 26),
        Decimal("2.550"),
        17850,
        "United Kingdom",
        True,
    )
    totals = {
        r["customer_id"]: r["total"]
        for r in silver.groupBy("customer_id")
        .agg({"quantity": "sum"})
        .withColumnRenamed("sum(quantity)", "total")
        .collect()
    }
    assert totals == {17850: 52, 13047: 101, 12583: 302}
    rerun = runner.run(runtime, "movies", tables=["user_purchase_bz", "user_purchase"], progress=lambda m: None)
    assert [r.rows_in for r in rerun] == [0, 0]


def test_updates_and_deletes_in_the_database_reach_silver_and_the_spend(make_runtime, operational_database, sql):
    with sql() as client:
        purchases.load(client, sample_text(), "user_purchase_sample.csv")
        first_id, second_id = [
            row[0]
            for row in client.query(
                "SELECT purchase_id FROM user_purchase WHERE customer_id = 17850 ORDER BY purchase_id LIMIT 2"
            )
        ]
    runtime = make_runtime(databases={"operational": {"url": operational_database.url}})
    tables = ["user_purchase_bz", "user_purchase"]
    runner.run(runtime, "movies", tables=tables, progress=lambda m: None)
    silver_path = runtime.location("movies", PIPELINE.get("user_purchase").layer, "user_purchase").path

    def spend(customer: int) -> Decimal:
        silver = runtime.spark.read.format("delta").load(silver_path)
        return silver.where(f"is_sale AND customer_id = {customer}").selectExpr("sum(quantity * unit_price)").first()[0]

    before = spend(17850)
    with sql() as client:
        line = "SELECT quantity, CAST(unit_price AS VARCHAR(20)) FROM user_purchase WHERE purchase_id = ?"
        old, gone = client.query(line, (first_id,))[0], client.query(line, (second_id,))[0]
        client.execute("UPDATE user_purchase SET quantity = quantity + 10 WHERE purchase_id = ?", (first_id,))
        client.execute("DELETE FROM user_purchase WHERE purchase_id = ?", (second_id,))

    runs = runner.run(runtime, "movies", tables=tables, progress=lambda m: None)
    assert [(r.table, r.rows_in, r.rows_inserted, r.rows_updated) for r in runs] == [
        ("user_purchase_bz", 2, 2, 0),
        ("user_purchase", 2, 0, 2),
    ]
    silver = {r["purchase_id"]: r for r in runtime.spark.read.format("delta").load(silver_path).collect()}
    assert len(silver) == 39
    assert (silver[first_id]["quantity"], silver[first_id]["deleted"]) == (old[0] + 10, False)
    assert (silver[second_id]["quantity"], silver[second_id]["is_sale"], silver[second_id]["deleted"]) == (
        None,
        False,
        True,
    )
    expected = before + Decimal(10) * Decimal(old[1]) - Decimal(gone[0]) * Decimal(gone[1])
    assert spend(17850) == expected

    rerun = runner.run(runtime, "movies", tables=tables, progress=lambda m: None)
    assert [(r.rows_inserted, r.rows_updated) for r in rerun] == [(0, 0), (0, 0)]
