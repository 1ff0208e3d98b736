"""Gold: each customer's predicted CLTV and segment, scored by the champion models, and the aggregates
Power BI reads.

``cltv_predictions`` and ``customer_segments`` read ``customer_features`` and the model that holds the
``champion`` alias (``model(...)`` inputs: the engine loads that version), and record in every row the
version that scored it. They run when either changes (new customers, or the alias moved) and merge on
customer_id comparing the model version only: new customers are inserted, rows of another version (an
older champion, or a newer one after a roll-back) are rescored, and rows already scored by the champion
are left as they are, ``scored_at`` included. So every row carries the champion's version, and scoring
twice with the same champion changes nothing. Scoring is a transform over every customer (cheap beside
training); only new or rescored rows are written.
``segment_summary`` and ``cltv_by_dimension`` are recomputed whole when their inputs change.
"""

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.declare.tables import Layer, Overwrite, Scd1, chart, model, not_empty, snapshot, table, unique
from medallion.pipelines.cltv import training
from medallion.pipelines.cltv.tracking import REGRESSOR, SEGMENTATION

CLTV_TYPE = "decimal(10,2)"
DIMENSIONS = ("city", "contract", "payment_method")
# A scored row changes when the version that scored it is not the champion's; scored_at follows.
RESCORE_ON_NEW_VERSION = Scd1(("customer_id",), compare=("model_version",))


def scored_rows(model_version: Any) -> list:
    return [F.lit(int(model_version.version)).alias("model_version"), F.current_timestamp().alias("scored_at")]


@table(
    Layer.GOLD,
    RESCORE_ON_NEW_VERSION,
    {"features": snapshot("customer_features"), "regressor": model(REGRESSOR)},
    checks=(unique("customer_id"),),
)
def cltv_predictions(features: DataFrame, regressor: Any) -> DataFrame:
    """Predicted lifetime value of every customer, with the regressor version that predicted it."""
    predicted = regressor.model.transform(features)
    return predicted.select(
        "customer_id",
        F.round(training.PREDICTION, 2).cast(CLTV_TYPE).alias("predicted_cltv"),
        *scored_rows(regressor),
    )


@table(
    Layer.GOLD,
    RESCORE_ON_NEW_VERSION,
    {"features": snapshot("customer_features"), "segmentation": model(SEGMENTATION)},
    checks=(unique("customer_id"),),
)
def customer_segments(features: DataFrame, segmentation: Any) -> DataFrame:
    """The segment of every customer, named from its centroid, with the segmentation version."""
    labels = training.segment_labels(segmentation.model)
    label_of = F.create_map(*[F.lit(value) for pair in sorted(labels.items()) for value in pair])
    segmented = segmentation.model.transform(features)
    return segmented.select(
        "customer_id",
        F.col(training.SEGMENT).cast("int").alias("segment_id"),
        label_of[F.col(training.SEGMENT)].alias("segment_label"),
        *scored_rows(segmentation),
    )


def scored_customers(customers: DataFrame, predictions: DataFrame, segments: DataFrame) -> DataFrame:
    """Customers that have both a prediction and a segment, with what the aggregates need."""
    return (
        segments.select(
            "customer_id", "segment_id", "segment_label", F.col("model_version").alias("segmentation_version")
        )
        .join(predictions.select("customer_id", "predicted_cltv"), "customer_id")
        .join(
            customers.select("customer_id", "monthly_charges", "tenure_months", "churn_value", *DIMENSIONS),
            "customer_id",
        )
    )


SCORED = {
    "customers": snapshot("customers"),
    "predictions": snapshot("cltv_predictions"),
    "segments": snapshot("customer_segments"),
}


@table(
    Layer.GOLD,
    Overwrite(),
    SCORED,
    checks=(not_empty(action="warn"), unique("segmentation_version", "segment_id")),
    report_chart=chart("avg_predicted_cltv", by="segment_label", title="Average predicted CLTV by segment"),
)
def segment_summary(customers: DataFrame, predictions: DataFrame, segments: DataFrame) -> DataFrame:
    """Per segment: customers, average predicted CLTV, monthly charges and tenure, churn rate (of the
    labelled customers) and share on month-to-month contracts."""
    scored = scored_customers(customers, predictions, segments)
    return scored.groupBy("segmentation_version", "segment_id", "segment_label").agg(
        F.count("*").alias("customers"),
        F.round(F.avg("predicted_cltv"), 2).cast(CLTV_TYPE).alias("avg_predicted_cltv"),
        F.round(F.avg("monthly_charges"), 2).cast("decimal(8,2)").alias("avg_monthly_charges"),
        F.round(F.avg("tenure_months"), 2).alias("avg_tenure"),
        F.round(F.avg("churn_value"), 4).alias("churn_rate"),  # NULL churn (new customers) is not counted
        F.round(F.avg((F.col("contract") == "Month-to-month").cast("double")), 4).alias("share_month_to_month"),
    )


@table(
    Layer.GOLD,
    Overwrite(),
    SCORED,
    checks=(unique("dimension", "value"),),
    # the dimensions are stacked rows: a chart across them would average unrelated groups
    report_chart=chart(
        "avg_predicted_cltv",
        by="value",
        where="dimension = 'contract'",
        title="Average predicted CLTV by contract type",
    ),
)
def cltv_by_dimension(customers: DataFrame, predictions: DataFrame, segments: DataFrame) -> DataFrame:
    """Predicted CLTV by city, by contract and by payment method (dimension, value): customers, average
    and total predicted CLTV, average monthly charges."""
    scored = scored_customers(customers, predictions, segments)
    per_dimension = [
        scored.groupBy(F.lit(dimension).alias("dimension"), F.col(dimension).alias("value")).agg(
            F.count("*").alias("customers"),
            F.round(F.avg("predicted_cltv"), 2).cast(CLTV_TYPE).alias("avg_predicted_cltv"),
            F.sum("predicted_cltv").cast("decimal(18,2)").alias("total_predicted_cltv"),
            F.round(F.avg("monthly_charges"), 2).cast("decimal(8,2)").alias("avg_monthly_charges"),
        )
        for dimension in DIMENSIONS
    ]
    result = per_dimension[0]
    for frame in per_dimension[1:]:
        result = result.unionByName(frame)
    return result


@table(Layer.GOLD, Overwrite(), SCORED, checks=(unique("contract"),))
def cltv_by_contract(customers: DataFrame, predictions: DataFrame, segments: DataFrame) -> DataFrame:
    """Predicted CLTV by contract type (the report's chart of it): customers, average and total predicted
    CLTV, churn rate of the labelled customers."""
    scored = scored_customers(customers, predictions, segments)
    return scored.groupBy("contract").agg(
        F.round(F.avg("predicted_cltv"), 2).cast(CLTV_TYPE).alias("avg_predicted_cltv"),
        F.count("*").alias("customers"),
        F.sum("predicted_cltv").cast("decimal(18,2)").alias("total_predicted_cltv"),
        F.round(F.avg("churn_value"), 4).alias("churn_rate"),
    )
