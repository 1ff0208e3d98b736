"""Silver: ``customers`` (typed, one row per customer, training and new customers together) and
``customer_features`` (what the models read).

Typing rules of ``customers``:
- Yes/No → BOOLEAN; the add-on columns' third value ("No phone service", "No internet service") is a No
  (the customer has not got the add-on; ``phone_service`` / ``internet_service`` say why);
- money as DECIMAL(8,2) (monthly) and DECIMAL(10,2) (total); latitude and longitude DOUBLE;
- a blank Total Charges is 0 when the customer's tenure is 0 months (nothing billed yet: the 11 such rows
  of the sample), otherwise the row is quarantined (rule ``total_charges_known``): a billed customer with
  no total would bias every spend figure;
- any value that does not fit its type (a number that is not a number, a Yes/No that is neither) sends
  the row to the quarantine with its raw values (rule ``typed``), never a NULL; so does a number written
  with more than its type holds (a count of '2.5', charges of '53.855', a latitude of 'NaN' or '1e3'),
  which a plain cast would truncate, round or take as it is, unseen;
- ``source`` is ``train`` for the labelled file, ``new`` for new customers (whose labels are NULL).
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, DoubleType, IntegerType

from medallion.declare.conversions import number_as_written
from medallion.declare.tables import InsertOnly, Layer, expect_or_drop, stream, table, unique
from medallion.pipelines.cltv.columns import (
    ADD_ONS,
    CONTRACTS,
    INTERNET_SERVICES,
    LABELS,
    PAYMENT_METHODS,
)

MONTHLY_TYPE = DecimalType(8, 2)
TOTAL_TYPE = DecimalType(10, 2)

TYPED_COLUMNS = (
    "count",
    "latitude",
    "longitude",
    "tenure_months",
    "monthly_charges",
    "senior_citizen",
    "partner",
    "dependents",
    "phone_service",
    "paperless_billing",
    *ADD_ONS,
)
LABEL_COLUMNS = ("churn_label", "churn_value", "churn_score", "cltv")


def yes_no(column: str) -> Column:
    value = F.trim(F.col(column))
    return (
        F.when(value == "Yes", True)
        .when(value.isin("No", "No phone service", "No internet service"), False)
        .otherwise(F.lit(None).cast("boolean"))
    )


def total_charges(raw: Column, tenure: Column) -> Column:
    """Blank → 0 for a customer in month 0; blank otherwise → NULL (quarantined by total_charges_known)."""
    blank = F.trim(raw) == ""
    return F.when(raw.isNull() | blank, F.when(tenure == 0, F.lit(0).cast(TOTAL_TYPE))).otherwise(
        number_as_written(raw, TOTAL_TYPE)
    )


def typed(raw: DataFrame, source: str) -> DataFrame:
    """A bronze frame (strings, with or without labels) typed to the silver columns."""
    labelled = set(LABELS) <= set(raw.columns)

    def label(name: str) -> Column:
        return (number_as_written(name, IntegerType()) if labelled else F.lit(None).cast("int")).alias(name)

    tenure = number_as_written("tenure_months", IntegerType())
    return raw.select(
        F.trim("customer_id").alias("customer_id"),
        F.lit(source).alias("source"),
        number_as_written("count", IntegerType()).alias("count"),
        "country",
        "state",
        "city",
        "zip_code",
        number_as_written("latitude", DoubleType()).alias("latitude"),
        number_as_written("longitude", DoubleType()).alias("longitude"),
        "gender",
        *[yes_no(c).alias(c) for c in ("senior_citizen", "partner", "dependents")],
        tenure.alias("tenure_months"),
        yes_no("phone_service").alias("phone_service"),
        yes_no("multiple_lines").alias("multiple_lines"),
        "internet_service",
        *[yes_no(c).alias(c) for c in ADD_ONS[1:]],
        "contract",
        yes_no("paperless_billing").alias("paperless_billing"),
        "payment_method",
        number_as_written("monthly_charges", MONTHLY_TYPE).alias("monthly_charges"),
        total_charges(F.col("total_charges"), tenure).alias("total_charges"),
        (yes_no("churn_label") if labelled else F.lit(None).cast("boolean")).alias("churn_label"),
        label("churn_value"),
        label("churn_score"),
        label("cltv"),
        (F.col("churn_reason") if labelled else F.lit(None).cast("string")).alias("churn_reason"),
        F.lit(labelled).alias("_labelled"),
        "source_file",
        "load_time",
    )


def all_present(columns) -> str:
    return " AND ".join(f"{c} IS NOT NULL" for c in columns)


CUSTOMER_RULES = (
    expect_or_drop("customer_id_present", "customer_id IS NOT NULL AND customer_id <> ''"),
    expect_or_drop("typed", all_present(TYPED_COLUMNS)),
    expect_or_drop(
        "known_categories",
        f"contract IN {tuple(CONTRACTS)} AND internet_service IN "
        f"{tuple(INTERNET_SERVICES)} AND payment_method IN {tuple(PAYMENT_METHODS)}",
    ),
    expect_or_drop("total_charges_known", "total_charges IS NOT NULL"),
    expect_or_drop("labels_typed", f"NOT _labelled OR ({all_present(LABEL_COLUMNS)})"),
)


@table(
    Layer.SILVER,
    InsertOnly(("customer_id",)),
    {"train": stream("customers_train_raw"), "new": stream("customers_new_raw")},
    expectations=CUSTOMER_RULES,
    checks=(unique("customer_id"),),
)
def customers(train: DataFrame, new: DataFrame) -> DataFrame:
    """Every customer, typed: the labelled training customers and the new ones (source train | new)."""
    return typed(train, "train").unionByName(typed(new, "new"))


def one_hot(column: str, values, prefix: str) -> list[Column]:
    return [(F.col(column) == value).cast("int").alias(f"{prefix}_{slug(value)}") for value in values]


def slug(value: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in value.lower().split(" (")[0]).strip("_")


SERVICES = ("phone_service", *ADD_ONS)


def number_of_services(customers_frame_columns=SERVICES) -> Column:
    """Phone and internet count one each; every add-on the customer has counts one more."""
    internet = (F.col("internet_service") != "No").cast("int")
    return sum((F.col(c).cast("int") for c in customers_frame_columns), internet)


@table(Layer.SILVER, InsertOnly(("customer_id",)), {"customers": stream("customers")}, checks=(unique("customer_id"),))
def customer_features(customers: DataFrame) -> DataFrame:
    """The models' features per customer: spend, services, one-hot contract / internet / payment, flags."""
    tenure = F.col("tenure_months")
    monthly = F.col("monthly_charges").cast("double")
    return customers.select(
        "customer_id",
        "source",
        tenure.alias("tenure_months"),
        monthly.alias("monthly_charges"),
        F.col("total_charges").cast("double").alias("total_charges"),
        # average actually billed per month; a customer in month 0 has been billed nothing yet: their tariff
        F.when(tenure > 0, F.col("total_charges").cast("double") / tenure)
        .otherwise(monthly)
        .alias("avg_monthly_spend"),
        number_of_services().alias("number_of_services"),
        *one_hot("contract", CONTRACTS, "contract"),
        *one_hot("internet_service", INTERNET_SERVICES, "internet"),
        *one_hot("payment_method", PAYMENT_METHODS, "payment"),
        *[F.col(c).cast("int").alias(c) for c in ("senior_citizen", "partner", "dependents", "paperless_billing")],
        F.col("cltv").cast("double").alias("cltv"),
    )


FEATURE_COLUMNS = (
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "avg_monthly_spend",
    "number_of_services",
    *[f"contract_{slug(v)}" for v in CONTRACTS],
    *[f"internet_{slug(v)}" for v in INTERNET_SERVICES],
    *[f"payment_{slug(v)}" for v in PAYMENT_METHODS],
    "senior_citizen",
    "partner",
    "dependents",
    "paperless_billing",
)
