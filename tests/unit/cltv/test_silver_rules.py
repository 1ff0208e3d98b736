"""Silver typing and features on tiny frames: Yes/No → BOOLEAN, money as DECIMAL, the blank total charges
rule, the quarantine rules, and the features the models read."""

from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from medallion.pipelines.cltv import silver
from medallion.pipelines.cltv.columns import LABELS, NEW_COLUMNS, TRAIN_COLUMNS

BASE = {
    "customer_id": "3668-QPYBK",
    "count": "1",
    "country": "United States",
    "state": "California",
    "city": "Los Angeles",
    "zip_code": "90003",
    "lat_long": "33.964131, -118.272783",
    "latitude": "33.964131",
    "longitude": "-118.272783",
    "gender": "Male",
    "senior_citizen": "No",
    "partner": "No",
    "dependents": "No",
    "tenure_months": "2",
    "phone_service": "Yes",
    "multiple_lines": "No",
    "internet_service": "DSL",
    "online_security": "Yes",
    "online_backup": "Yes",
    "device_protection": "No",
    "tech_support": "No",
    "streaming_tv": "No",
    "streaming_movies": "No",
    "contract": "Month-to-month",
    "paperless_billing": "Yes",
    "payment_method": "Mailed check",
    "monthly_charges": "53.85",
    "total_charges": "108.15",
    "churn_label": "Yes",
    "churn_value": "1",
    "churn_score": "86",
    "cltv": "3239",
    "churn_reason": "Competitor made better offer",
}


def bronze(spark, rows, columns=TRAIN_COLUMNS):
    names = [name for _, name in columns]
    data = [tuple({**BASE, **row}[n] for n in names) + ("file.csv",) for row in rows]
    schema = ", ".join(f"{n} STRING" for n in names) + ", source_file STRING"
    return spark.createDataFrame(data, schema).withColumn("load_time", F.current_timestamp())


def customers(spark, train_rows=(), new_rows=()):
    return silver.customers(bronze(spark, list(train_rows)), bronze(spark, list(new_rows), NEW_COLUMNS))


def broken_rules(frame):
    """The names of the drop rules each row breaks (a NULL rule counts as broken, as in the engine)."""
    checks = [
        F.when(~F.coalesce(F.expr(rule.condition), F.lit(False)), F.lit(rule.name)) for rule in silver.CUSTOMER_RULES
    ]
    return {
        row.customer_id: sorted(row.broken)
        for row in frame.select("customer_id", F.array_compact(F.array(*checks)).alias("broken")).collect()
    }


def test_a_training_row_is_typed(spark):
    row = customers(spark, [{}]).drop("load_time", "_labelled").first().asDict()
    assert row == {
        "customer_id": "3668-QPYBK",
        "source": "train",
        "count": 1,
        "country": "United States",
        "state": "California",
        "city": "Los Angeles",
        "zip_code": "90003",
        "latitude": 33.964131,
        "longitude": -118.272783,
        "gender": "Male",
        "senior_citizen": False,
        "partner": False,
        "dependents": False,
        "tenure_months": 2,
        "phone_service": True,
        "multiple_lines": False,
        "internet_service": "DSL",
        "online_security": True,
        "online_backup": True,
        "device_protection": False,
        "tech_support": False,
        "streaming_tv": False,
        "streaming_movies": False,
        "contract": "Month-to-month",
        "paperless_billing": True,
        "payment_method": "Mailed check",
        "monthly_charges": Decimal("53.85"),
        "total_charges": Decimal("108.15"),
        "churn_label": True,
        "churn_value": 1,
        "churn_score": 86,
        "cltv": 3239,
        "churn_reason": "Competitor made better offer",
        "source_file": "file.csv",
    }
    types = dict(customers(spark, [{}]).dtypes)
    assert (types["monthly_charges"], types["total_charges"], types["partner"]) == (
        "decimal(8,2)",
        "decimal(10,2)",
        "boolean",
    )


def test_no_phone_or_internet_service_is_a_no(spark):
    row = customers(
        spark,
        [
            {
                "phone_service": "No",
                "multiple_lines": "No phone service",
                "internet_service": "No",
                "online_security": "No internet service",
                "streaming_tv": "No internet service",
            }
        ],
    ).first()
    assert (row.phone_service, row.multiple_lines, row.online_security, row.streaming_tv) == (
        False,
        False,
        False,
        False,
    )


def test_a_new_customer_has_no_labels_and_source_new(spark):
    row = customers(spark, new_rows=[{"customer_id": "NEW0002-00001"}]).first()
    assert (row.source, row.churn_label, row.churn_value, row.churn_score, row.cltv, row.churn_reason) == (
        "new",
        None,
        None,
        None,
        None,
        None,
    )
    assert broken_rules(customers(spark, new_rows=[{"customer_id": "NEW0002-00001"}])) == {"NEW0002-00001": []}


def test_blank_total_charges_is_zero_at_tenure_zero_and_quarantined_otherwise(spark):
    frame = customers(
        spark,
        [
            {"customer_id": "A", "tenure_months": "0", "total_charges": " "},
            {"customer_id": "B", "tenure_months": "5", "total_charges": " "},
            {"customer_id": "C", "tenure_months": "0", "total_charges": ""},
        ],
    )
    totals = {r.customer_id: r.total_charges for r in frame.collect()}
    assert totals == {"A": Decimal("0.00"), "B": None, "C": Decimal("0.00")}
    assert broken_rules(frame) == {"A": [], "B": ["total_charges_known"], "C": []}


@pytest.mark.parametrize(
    "column, value, rule",
    [
        ("partner", "Maybe", "typed"),
        ("tenure_months", "two", "typed"),
        ("monthly_charges", "n/a", "typed"),
        ("contract", "Three year", "known_categories"),
        ("cltv", "", "labels_typed"),
        ("customer_id", "", "customer_id_present"),
        # Numbers written with more than their type holds: a cast alone would truncate, round or keep them.
        ("tenure_months", "2.5", "typed"),
        ("count", "1e3", "typed"),
        ("monthly_charges", "53.855", "typed"),
        ("latitude", "NaN", "typed"),
        ("longitude", "-1.2e2", "typed"),
        ("total_charges", "108.155", "total_charges_known"),
        ("cltv", "3239.5", "labels_typed"),
        ("churn_score", "Infinity", "labels_typed"),
    ],
)
def test_a_value_that_does_not_fit_its_type_is_quarantined_never_nulled_silently(spark, column, value, rule):
    frame = customers(spark, [{column: value}])
    assert list(broken_rules(frame).values()) == [[rule]]


def test_numbers_are_typed_as_written_signs_and_spaces_allowed(spark):
    frame = customers(
        spark,
        [{"tenure_months": " +12 ", "monthly_charges": "20.5", "latitude": "-.5", "longitude": "7.", "cltv": "-3"}],
    )
    row = frame.select("tenure_months", "monthly_charges", "latitude", "longitude", "cltv").collect()[0]
    assert (row.tenure_months, row.monthly_charges, row.latitude, row.longitude, row.cltv) == (
        12,
        Decimal("20.50"),
        -0.5,
        7.0,
        -3,
    )
    assert list(broken_rules(frame).values()) == [[]]


def test_features_of_a_customer(spark):
    features = silver.customer_features(
        customers(
            spark,
            [
                {"customer_id": "A"},
                {
                    "customer_id": "B",
                    "tenure_months": "0",
                    "total_charges": " ",
                    "contract": "Two year",
                    "payment_method": "Credit card (automatic)",
                    "internet_service": "No",
                    "phone_service": "No",
                    "multiple_lines": "No phone service",
                    "partner": "Yes",
                    "senior_citizen": "Yes",
                    **{c: "No internet service" for c in ("online_security", "online_backup")},
                },
            ],
        )
    )
    rows = {r.customer_id: r.asDict() for r in features.collect()}
    assert set(features.columns) == {"customer_id", "source", "cltv", *silver.FEATURE_COLUMNS}
    a, b = rows["A"], rows["B"]
    assert a["avg_monthly_spend"] == pytest.approx(108.15 / 2)
    assert a["number_of_services"] == 4  # phone, internet, online security, online backup
    assert (a["contract_month_to_month"], a["contract_one_year"], a["contract_two_year"]) == (1, 0, 0)
    assert (a["internet_dsl"], a["internet_fiber_optic"], a["internet_no"]) == (1, 0, 0)
    assert (a["payment_mailed_check"], a["payment_credit_card"]) == (1, 0)
    assert (a["senior_citizen"], a["partner"], a["dependents"], a["cltv"]) == (0, 0, 0, 3239.0)
    assert b["avg_monthly_spend"] == pytest.approx(53.85)  # nothing billed yet: the tariff
    assert b["number_of_services"] == 0
    assert (b["contract_two_year"], b["internet_no"], b["payment_credit_card"], b["senior_citizen"], b["partner"]) == (
        1,
        1,
        1,
        1,
        1,
    )


def test_labels_are_never_features():
    assert not set(LABELS) & set(silver.FEATURE_COLUMNS)
