"""The real Online Retail sample through the operational database: loaded idempotently into PostgreSQL,
copied over JDBC into bronze and silver with its values intact."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from importlib import resources

import pytest

from medallion.engine import runner
from medallion.declare.pipeline import get_pipeline
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
        stored = client.query("SELECT COUNT(*), COUNT(DISTINCT purchase_id), MIN(invoice_date), SUM(quantity) "
                              "FROM user_purchase")
    assert (first.rows_in_file, first.rows_added, again.rows_added) == (39, 39, 0)
    assert stored == [(39, 39, datetime(2010, 12, 1, 8, 26), 455)]

    runtime = make_runtime(databases={"operational": {"url": operational_database.url}})
    runs = runner.run(runtime, "movies", tables=["user_purchase_bz", "user_purchase"], progress=lambda m: None)
    assert [(r.table, r.rows_in, r.rows_inserted) for r in runs] == [("user_purchase_bz", 39, 39),
                                                                     ("user_purchase", 39, 39)]
    silver = runtime.spark.read.format("delta").load(
        runtime.location("movies", PIPELINE.get("user_purchase").layer, "user_purchase").path)
    first_line = silver.orderBy("purchase_id").first()
    assert (first_line["invoice_number"], first_line["stock_code"], first_line["detail"], first_line["quantity"],
            first_line["invoice_date"], first_line["unit_price"], first_line["customer_id"], first_line["country"],
            first_line["is_sale"]) == ("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6,
                                       datetime(2010, 12, 1, 8, 26), Decimal("2.550"), 17850, "United Kingdom", True)
    totals = {r["customer_id"]: r["total"] for r in
              silver.groupBy("customer_id").agg({"quantity": "sum"}).withColumnRenamed("sum(quantity)", "total").collect()}
    assert totals == {17850: 52, 13047: 101, 12583: 302}
    rerun = runner.run(runtime, "movies", tables=["user_purchase_bz", "user_purchase"], progress=lambda m: None)
    assert [r.rows_in for r in rerun] == [0, 0]
