"""The analysts' saved queries over a small hand-made star schema, with the answers written out."""

from datetime import date
from decimal import Decimal

import pytest

from medallion.declare.pipeline import get_pipeline
from medallion.errors import MedallionError
from medallion.read.queries import query_names, query_text, run_query

PIPELINE = get_pipeline("movies")

FACT_SCHEMA = (
    "customer_id INT, id_dim_date INT, id_dim_devices INT, id_dim_location INT, id_dim_os INT, "
    "id_dim_browser INT, amount_spent DECIMAL(18,5), review_score INT, review_count INT, insert_date DATE"
)
LOADED = date(2021, 5, 1)


@pytest.fixture(scope="module")
def star(spark, tmp_path_factory):
    from medallion.platform.config import load_settings
    from medallion.platform.runtime import Runtime

    runtime = Runtime(
        load_settings("local", root=str(tmp_path_factory.mktemp("star")), overrides={"secrets": {"provider": "env"}}),
        spark=spark,
    )
    tables = {
        "dim_date": spark.createDataFrame(
            [(1, date(2021, 4, 1), 1, 4, 2021, "Spring"), (2, date(2020, 12, 24), 24, 12, 2020, "Winter")],
            "id_dim_date INT, log_date DATE, day INT, month INT, year INT, season STRING",
        ),
        "dim_devices": spark.createDataFrame(
            [(1, "Computer"), (2, "Mobile"), (3, "Tablet")], "id_dim_devices INT, device STRING"
        ),
        "dim_location": spark.createDataFrame(
            [(1, "California"), (2, "New York"), (3, "Ohio"), (4, "Texas"), (5, "Oregon"), (6, "Florida")],
            "id_dim_location INT, location STRING",
        ),
        "dim_os": spark.createDataFrame(
            [(1, "Apple MacOS"), (2, "Apple iOS"), (3, "Google Android"), (4, "Linux")], "id_dim_os INT, os STRING"
        ),
        "dim_browser": spark.createDataFrame(
            [(1, "Chrome"), (2, "Firefox"), (3, "Safari")], "id_dim_browser INT, browser STRING"
        ),
        "fact_movie_analytics": spark.createDataFrame(
            [
                # customer, date, device, location, os, browser, amount, score, count
                (10, 1, 2, 1, 2, 3, Decimal("100"), 2, 3, LOADED),  # California, iOS, Mobile, 2021
                (10, 2, 1, 1, 1, 3, Decimal("100"), 1, 1, LOADED),  # California, MacOS, Computer, 2020
                (11, 1, 2, 2, 3, 1, Decimal("7.5"), 0, 2, LOADED),  # New York, Android/Chrome, Mobile
                (11, 1, 3, 4, 2, 3, Decimal("7.5"), 1, 4, LOADED),  # Texas, iOS, Tablet
                (12, 1, 2, 3, 3, 1, Decimal("0"), 5, 5, LOADED),  # Ohio, Android/Chrome (not on a coast)
                (12, 2, 3, 5, 4, 2, Decimal("0"), 1, 2, LOADED),  # Oregon, Linux, Tablet, 2020
                (13, 1, 1, 6, 3, 1, Decimal("2.25"), 0, 1, LOADED),  # Florida, Android/Chrome, Computer
            ],
            FACT_SCHEMA,
        ),
    }
    for name, frame in tables.items():
        declared = PIPELINE.get(name)
        frame.write.format("delta").save(runtime.location("movies", declared.layer, name).path)
    return runtime


def rows(star, name, **parameters):
    result = run_query(star, "movies", name, **parameters)
    # the gold tables are bound in the query, not as views
    assert not [t for t in PIPELINE.tables if star.spark.catalog.tableExists(t)]
    return [tuple(r) for r in result.collect()]


def test_reviews_in_california_new_york_and_texas(star):
    assert rows(star, "reviews_in_ca_ny_tx") == [("California", 4), ("New York", 2), ("Texas", 4)]


def test_apple_reviews_in_those_states(star):
    assert rows(star, "apple_reviews_in_ca_ny_tx") == [
        ("California", "Apple MacOS", 1),
        ("California", "Apple iOS", 3),
        ("Texas", "Apple iOS", 4),
    ]


def test_chrome_reviews_by_state(star):
    assert rows(star, "chrome_reviews_by_state") == [("Ohio", 5), ("New York", 2), ("Florida", 1)]


def test_reviews_by_state_in_a_year(star):
    assert rows(star, "reviews_by_state_in_year", year=2021) == [
        ("Ohio", 5),
        ("Texas", 4),
        ("California", 3),
        ("New York", 2),
        ("Florida", 1),
    ]
    assert rows(star, "reviews_by_state_in_year", year=2020) == [("Oregon", 2), ("California", 1)]


def test_devices_on_the_east_and_west_coasts(star):
    assert rows(star, "devices_by_coast") == [
        ("East", "Mobile", 2),
        ("East", "Computer", 1),
        ("West", "Mobile", 3),
        ("West", "Tablet", 2),
        ("West", "Computer", 1),
    ]


def test_spend_of_reviewing_customers_counts_each_customer_once(star):
    assert rows(star, "spend_of_reviewing_customers") == [(4, Decimal("109.75000"))]


def test_queries_are_package_data_and_an_unknown_name_is_a_clear_error():
    assert "reviews_in_ca_ny_tx" in query_names("movies")
    assert "fact_movie_analytics" in query_text("movies", "devices_by_coast")
    with pytest.raises(MedallionError, match="no saved query 'nope'.*reviews_in_ca_ny_tx"):
        query_text("movies", "nope")
