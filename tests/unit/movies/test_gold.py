"""Gold: dimensions (season, values), customer spend aggregated before the join, the fact without fan-out."""

import csv
from datetime import date
from decimal import Decimal
from importlib import resources

from chispa import assert_df_equality
from pyspark.sql import functions as F

from medallion.pipelines.movies.gold import (
    customer_spend,
    dim_browser,
    dim_date,
    dim_devices,
    dim_location,
    dim_os,
    fact_movie_analytics,
    season,
)
from medallion.pipelines.movies.silver import user_purchase

LOGS_SCHEMA = (
    "log_id INT, log_date DATE, device STRING, os STRING, location STRING, browser STRING, "
    "ip STRING, phone_number STRING"
)
REVIEWS_SCHEMA = "customer_id INT, review_id INT, positive_review INT, insert_date DATE"
PURCHASES_SCHEMA = (
    "purchase_id BIGINT, invoice_number STRING, stock_code STRING, detail STRING, quantity INT, invoice_date TIMESTAMP, "
    "unit_price DECIMAL(8,3), customer_id INT, country STRING, is_sale BOOLEAN"
)
BRONZE_PURCHASES_SCHEMA = PURCHASES_SCHEMA.replace(", is_sale BOOLEAN", ", updated_at TIMESTAMP, deleted BOOLEAN")
FACT_SCHEMA = (
    "customer_id INT, id_dim_date INT, id_dim_devices INT, id_dim_location INT, id_dim_os INT, "
    "id_dim_browser INT, amount_spent DECIMAL(18,5), review_score INT, review_count INT, insert_date DATE"
)
DAY1, DAY2 = date(2021, 4, 1), date(2021, 4, 2)


def test_seasons_by_month(spark):
    months = spark.createDataFrame([(m,) for m in range(1, 13)], "month INT")
    result = [r[0] for r in months.select(season(F.col("month"))).collect()]
    assert result == [
        "Winter",
        "Winter",
        "Spring",
        "Spring",
        "Spring",
        "Summer",
        "Summer",
        "Summer",
        "Fall",
        "Fall",
        "Fall",
        "Winter",
    ]


def test_dim_date_has_calendar_attributes(spark):
    logs = spark.createDataFrame(
        [
            (1, date(2020, 12, 31), "Mobile", "Linux", "Ohio", "Firefox", "t", "t"),
            (2, date(2020, 12, 31), "Mobile", "Linux", "Ohio", "Firefox", "t", "t"),
            (3, date(2021, 6, 1), "Mobile", "Linux", "Ohio", "Firefox", "t", "t"),
        ],
        LOGS_SCHEMA,
    )
    expected = spark.createDataFrame(
        [
            (None, date(2020, 12, 31), 31, 12, 2020, "Winter"),
            (None, date(2021, 6, 1), 1, 6, 2021, "Summer"),
        ],
        "id_dim_date INT, log_date DATE, day INT, month INT, year INT, season STRING",
    )
    assert_df_equality(dim_date(logs), expected, ignore_nullable=True, ignore_row_order=True)


def test_value_dimensions_hold_each_distinct_value_once(spark):
    logs = spark.createDataFrame(
        [
            (1, DAY1, "Mobile", "Apple iOS", "Texas", "Safari", "t", "t"),
            (2, DAY1, "Mobile", "Apple MacOS", "Ohio", "Safari", "t", "t"),
        ],
        LOGS_SCHEMA,
    )
    assert sorted(tuple(r) for r in dim_devices(logs).collect()) == [(None, "Mobile")]
    assert sorted(r["os"] for r in dim_os(logs).collect()) == ["Apple MacOS", "Apple iOS"]
    assert sorted(r["location"] for r in dim_location(logs).collect()) == ["Ohio", "Texas"]
    assert [tuple(r) for r in dim_browser(logs).collect()] == [(None, "Safari")]


def sample_purchases(spark):
    """The real Online Retail sample (package data), typed as silver user_purchase."""
    text = (resources.files("medallion.pipelines.movies") / "data" / "user_purchase_sample.csv").read_text()
    rows = [
        (
            line,
            r["InvoiceNo"],
            r["StockCode"],
            r["Description"],
            int(r["Quantity"]),
            None,
            Decimal(r["UnitPrice"]),
            int(r["CustomerID"]),
            r["Country"],
            None,
            False,
        )
        for line, r in enumerate(csv.DictReader(text.splitlines()), 2)
    ]
    bronze = spark.createDataFrame(rows, BRONZE_PURCHASES_SCHEMA)
    return user_purchase(bronze)


def test_customer_spend_of_the_real_sample(spark):
    expected = spark.createDataFrame(
        [
            (12583, Decimal("602.90")),
            (13047, Decimal("366.63")),
            (17850, Decimal("161.32")),
        ],
        "customer_id INT, amount_spent DECIMAL(18,5)",
    )
    assert_df_equality(customer_spend(sample_purchases(spark)), expected, ignore_nullable=True, ignore_row_order=True)


def test_returns_zero_prices_and_deleted_lines_are_left_out_of_spend(spark):
    bronze = spark.createDataFrame(
        [
            (1, "1", "A", "x", 2, None, Decimal("1.500"), 7, "UK", None, False),
            (2, "C2", "A", "x", -2, None, Decimal("1.500"), 7, "UK", None, False),  # a cancellation
            (3, "3", "B", "x", 5, None, Decimal("0.000"), 7, "UK", None, False),  # no price
            (4, "4", "B", "x", 1, None, Decimal("0.125"), 8, "UK", None, False),
            (
                5,
                "5",
                "B",
                "x",
                0,
                None,
                Decimal("9.000"),
                9,
                "UK",
                None,
                False,
            ),  # customer 9 bought nothing that counts
            (6, None, None, None, None, None, None, None, None, None, True),  # deleted in the database
        ],
        BRONZE_PURCHASES_SCHEMA,
    )
    silver = user_purchase(bronze)
    assert {r["purchase_id"]: r["is_sale"] for r in silver.collect()} == {
        1: True,
        2: False,
        3: False,
        4: True,
        5: False,
        6: False,
    }
    expected = spark.createDataFrame(
        [(7, Decimal("3")), (8, Decimal("0.125"))], "customer_id INT, amount_spent DECIMAL(18,5)"
    )
    assert_df_equality(customer_spend(silver), expected, ignore_nullable=True, ignore_row_order=True)


def dimension(spark, key, column, values):
    return spark.createDataFrame(list(enumerate(values, 1)), f"{key} INT, {column} STRING")


def test_fact_aggregates_spend_before_the_join_so_it_never_fans_out(spark):
    # Customer 7 has three purchase lines (total 10.50) and seven reviews: five in one session combination
    # (three positive), two in another; customer 8 has one review and only a return; review 99 has no log.
    purchases = spark.createDataFrame(
        [
            (1, "1", "A", "x", 2, None, Decimal("1.500"), 7, "UK", True),
            (2, "2", "A", "x", 5, None, Decimal("1.200"), 7, "UK", True),
            (3, "3", "B", "x", 1, None, Decimal("1.500"), 7, "UK", True),
            (4, "C4", "B", "x", -1, None, Decimal("4.000"), 8, "UK", False),
        ],
        PURCHASES_SCHEMA,
    )
    reviews = spark.createDataFrame(
        [(7, i, int(i <= 3), DAY1) for i in range(1, 6)]
        + [(7, 6, 1, DAY1), (7, 7, 0, DAY2), (8, 8, 1, DAY2), (7, 99, 1, DAY2)],
        REVIEWS_SCHEMA,
    )
    texas = (DAY1, "Mobile", "Linux", "Texas", "Firefox", "t", "t")
    ohio = (DAY2, "Tablet", "Apple iOS", "Ohio", "Safari", "t", "t")
    logs = spark.createDataFrame(
        [(i, *texas) for i in range(1, 6)] + [(6, *ohio), (7, *ohio), (8, *texas)], LOGS_SCHEMA
    )
    dates = spark.createDataFrame(
        [(1, DAY1, 1, 4, 2021, "Spring"), (2, DAY2, 2, 4, 2021, "Spring")],
        "id_dim_date INT, log_date DATE, day INT, month INT, year INT, season STRING",
    )
    fact = fact_movie_analytics(
        reviews,
        logs,
        purchases,
        dates,
        dimension(spark, "id_dim_devices", "device", ["Computer", "Mobile", "Tablet"]),
        dimension(spark, "id_dim_location", "location", ["Ohio", "Texas"]),
        dimension(spark, "id_dim_os", "os", ["Apple iOS", "Linux"]),
        dimension(spark, "id_dim_browser", "browser", ["Firefox", "Safari"]),
    )
    expected = spark.createDataFrame(
        [
            (7, 1, 2, 2, 2, 1, Decimal("10.5"), 3, 5, DAY1),
            (7, 2, 3, 1, 1, 2, Decimal("10.5"), 1, 2, DAY2),
            (8, 1, 2, 2, 2, 1, Decimal("0"), 1, 1, DAY2),
        ],
        FACT_SCHEMA,
    )
    assert_df_equality(fact, expected, ignore_nullable=True, ignore_row_order=True)
