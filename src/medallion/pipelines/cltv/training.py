"""The two models, as Spark ML pipelines, and how each is judged. Pure helpers: no MLflow here (see
``tracking.py``), so a unit test trains on a tiny frame.

- CLTV regressor: gradient-boosted trees on the customer features (``silver.FEATURE_COLUMNS``); the label
  is ``cltv``; churn label, value, score and reason are never features (they are known only after the
  fact: leakage). Judged on a held-out split chosen by a seeded hash of the customer id (so the same
  customers are held out whatever the partitioning) by RMSE (promotion), MAE and R², beside the same
  figures of a mean predictor (the training mean for everyone).
- Segmentation: KMeans on standardised ``SEGMENT_FEATURES``, k chosen by the silhouette (squared
  Euclidean) over ``k_min``..``k_max``; each segment is named from its centroid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.clustering import KMeans, KMeansModel
from pyspark.ml.evaluation import ClusteringEvaluator, RegressionEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.ml.regression import GBTRegressor
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

LABEL = "cltv"
PREDICTION = "predicted_cltv"
SEGMENT = "segment_id"
SEGMENT_FEATURES = ("tenure_months", "monthly_charges", "number_of_services", "contract_month_to_month")
REGRESSION_METRICS = ("rmse", "mae", "r2")


def held_out(seed: int, percent: int) -> Column:
    """True for the customers of the held-out split: a seeded hash of the id, stable across runs."""
    return F.pmod(F.xxhash64("customer_id", F.lit(seed)), F.lit(100)) < percent


def split(features: DataFrame, seed: int, percent: int) -> tuple[DataFrame, DataFrame]:
    labelled = features.where(F.col(LABEL).isNotNull())
    return labelled.where(~held_out(seed, percent)), labelled.where(held_out(seed, percent))


def regressor(feature_columns: Sequence[str], seed: int, max_iter: int, max_depth: int) -> Pipeline:
    return Pipeline(
        stages=[
            VectorAssembler(inputCols=list(feature_columns), outputCol="features"),
            GBTRegressor(
                featuresCol="features",
                labelCol=LABEL,
                predictionCol=PREDICTION,
                maxIter=max_iter,
                maxDepth=max_depth,
                seed=seed,
            ),
        ]
    )


def regression_metrics(predictions: DataFrame, prediction: str = PREDICTION) -> dict[str, float]:
    evaluator = RegressionEvaluator(labelCol=LABEL, predictionCol=prediction)
    return {name: float(evaluator.setMetricName(name).evaluate(predictions)) for name in REGRESSION_METRICS}  # type: ignore[arg-type]


def mean_baseline(train: DataFrame, test: DataFrame) -> dict[str, float]:
    """The figures of predicting the training mean CLTV for every held-out customer."""
    mean = train.agg(F.avg(LABEL)).collect()[0][0]
    return regression_metrics(test.withColumn(PREDICTION, F.lit(float(mean))))


def segmentation(feature_columns: Sequence[str], k: int, seed: int, max_iter: int) -> Pipeline:
    return Pipeline(
        stages=[
            VectorAssembler(inputCols=list(feature_columns), outputCol="raw_features"),
            StandardScaler(inputCol="raw_features", outputCol="features", withMean=True, withStd=True),
            KMeans(featuresCol="features", predictionCol=SEGMENT, k=k, seed=seed, maxIter=max_iter),
        ]
    )


def silhouette(model: PipelineModel, frame: DataFrame) -> float:
    evaluator = ClusteringEvaluator(featuresCol="features", predictionCol=SEGMENT)
    return float(evaluator.evaluate(model.transform(frame)))


@dataclass(frozen=True)
class Segmentation:
    model: PipelineModel
    k: int
    silhouette: float
    silhouettes: Mapping[int, float]


def choose_segmentation(
    frame: DataFrame, feature_columns: Sequence[str], k_min: int, k_max: int, seed: int, max_iter: int
) -> Segmentation:
    """KMeans for every k of the range; the one with the best silhouette (the smaller k on a tie)."""
    fitted = {}
    for k in range(k_min, k_max + 1):
        model = segmentation(feature_columns, k, seed, max_iter).fit(frame)
        fitted[k] = (model, silhouette(model, frame))
    best = max(fitted, key=lambda k: (fitted[k][1], -k))
    return Segmentation(fitted[best][0], best, fitted[best][1], {k: s for k, (_, s) in fitted.items()})


def level(z: float, words: tuple[str, str, str]) -> str:
    """A centroid coordinate (in standard deviations from the mean) in words: low / mid / high."""
    return words[0] if z < -0.5 else words[2] if z > 0.5 else words[1]


def segment_labels(model: PipelineModel) -> dict[int, str]:
    """Each segment named from its centroid, e.g. "high value, long tenure, month-to-month": value from
    monthly charges, tenure from tenure months (both standardised), the contract when the centroid's
    month-to-month share is clearly high or low. Two segments with the same words get their id too."""
    assembler, _, kmeans = model.stages
    assert isinstance(assembler, VectorAssembler) and isinstance(kmeans, KMeansModel)
    columns = list(assembler.getInputCols())
    labels = {}
    for segment, center in enumerate(kmeans.clusterCenters()):
        coordinate = dict(zip(columns, (float(v) for v in center)))
        words = []
        if "monthly_charges" in coordinate:
            words.append(level(coordinate["monthly_charges"], ("low value", "mid value", "high value")))
        if "tenure_months" in coordinate:
            words.append(level(coordinate["tenure_months"], ("short tenure", "medium tenure", "long tenure")))
        if "contract_month_to_month" in coordinate and abs(coordinate["contract_month_to_month"]) > 0.5:
            words.append("month-to-month" if coordinate["contract_month_to_month"] > 0 else "contract")
        labels[segment] = ", ".join(words) or f"segment {segment}"
    repeated = {label for label in labels.values() if list(labels.values()).count(label) > 1}
    return {s: f"{label} ({s})" if label in repeated else label for s, label in labels.items()}
