"""classified_movie_review: the first occurrence of an id wins; repeats and unknown customers are quarantined."""

from datetime import date, datetime

from medallion.declare.pipeline import get_pipeline
from medallion.engine import quality
from medallion.pipelines.movies.silver import classified_movie_review

PIPELINE = get_pipeline("movies")

BRONZE_SCHEMA = "cid INT, review_str STRING, id_review INT, source_file STRING, source_line INT, load_time TIMESTAMP"
PURCHASES_SCHEMA = (
    "purchase_id BIGINT, invoice_number STRING, stock_code STRING, detail STRING, quantity INT, "
    "invoice_date TIMESTAMP, unit_price DECIMAL(8,3), customer_id INT, country STRING, is_sale BOOLEAN"
)
DAY1, DAY2 = datetime(2021, 4, 1, 6, 0), datetime(2021, 4, 2, 6, 0)
CONF = {"strip_br_tags": True}


def checked(spark, today, earlier=()):
    today_frame = spark.createDataFrame(today, BRONZE_SCHEMA)
    landed = spark.createDataFrame([*earlier, *today], BRONZE_SCHEMA)
    purchases = spark.createDataFrame(
        [(1, "1", "A", "x", 1, None, None, 7, "UK", True), (2, "C2", "A", "x", -1, None, None, 8, "UK", False)],
        PURCHASES_SCHEMA,
    )
    built = classified_movie_review(today_frame, landed, purchases, CONF)
    rules = PIPELINE.get("classified_movie_review").expectations
    return quality.with_failed_rules(built, rules).withColumn("rules", quality.failed_rules(rules))


def outcome(frame):
    return sorted(
        (
            (r["review_id"], r["customer_id"], r["positive_review"], r["insert_date"], r["rules"])
            for r in frame.collect()
        ),
        key=repr,
    )


def test_reviews_are_classified_with_their_load_date(spark):
    result = checked(spark, [(7, "A good movie<br />", 1, "d1.csv", 2, DAY1), (8, "not good.", 2, "d1.csv", 3, DAY1)])
    assert outcome(result) == [(1, 7, 1, date(2021, 4, 1), []), (2, 8, 0, date(2021, 4, 1), [])]


def test_a_repeated_id_in_the_same_file_keeps_the_first_line(spark):
    result = checked(spark, [(7, "second", 1, "d1.csv", 9, DAY1), (7, "good", 1, "d1.csv", 4, DAY1)])
    assert sorted((r["_review_str"], r["rules"]) for r in result.collect()) == [
        ("good", []),
        ("second", ["unique_review_id"]),
    ]


def test_a_repeated_id_of_an_earlier_day_is_quarantined(spark):
    result = checked(spark, [(7, "good again", 1, "d2.csv", 2, DAY2)], earlier=[(7, "good", 1, "d1.csv", 2, DAY1)])
    assert outcome(result) == [(1, 7, 1, date(2021, 4, 2), ["unique_review_id"])]


def test_unknown_customers_missing_ids_and_texts_are_quarantined(spark):
    result = checked(
        spark,
        [
            (99, "good", 1, "d1.csv", 2, DAY1),
            (None, "good", 2, "d1.csv", 3, DAY1),
            (7, None, 3, "d1.csv", 4, DAY1),
            (7, "good", None, "d1.csv", 5, DAY1),
        ],
    )
    assert outcome(result) == sorted(
        [
            (None, 7, 1, date(2021, 4, 1), ["review_id_present"]),
            (1, 99, 1, date(2021, 4, 1), ["known_customer"]),
            (2, None, 1, date(2021, 4, 1), ["customer_id_present"]),
            (3, 7, None, date(2021, 4, 1), ["review_text_present"]),
        ],
        key=repr,
    )


def test_a_customer_with_only_returns_is_known(spark):
    assert outcome(checked(spark, [(8, "fine", 1, "d1.csv", 2, DAY1)])) == [(1, 8, 0, date(2021, 4, 1), [])]


def test_a_corrected_resend_of_a_review_quarantined_for_a_missing_customer_is_loaded(spark):
    """The first send lacked its customer id (quarantined by customer_id_present); it never claimed the id,
    so the vendor's corrected resend is the review's first acceptable occurrence, not a repeat."""
    first_send = (None, "a good movie", 5, "d1.csv", 2, DAY1)
    resend = (7, "a good movie", 5, "d2.csv", 2, DAY2)
    assert outcome(checked(spark, [first_send])) == [(5, None, 1, date(2021, 4, 1), ["customer_id_present"])]
    assert outcome(checked(spark, [resend], earlier=[first_send])) == [(5, 7, 1, date(2021, 4, 2), [])]


def test_unknown_customers_wait_for_their_reference():
    table = PIPELINE.get("classified_movie_review")
    assert [(r.rule, r.table, r.columns, r.to_columns) for r in table.retries] == [
        ("known_customer", "user_purchase", ("customer_id",), ("customer_id",))
    ]
