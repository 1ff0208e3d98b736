"""The models' helpers on tiny frames: the seeded held-out split, the mean baseline, segment naming."""

import math

import pytest

from medallion.pipelines.cltv import training


def test_the_held_out_split_is_a_seeded_function_of_the_id(spark):
    frame = spark.createDataFrame([(f"C{i}", 1000.0 + i) for i in range(400)], "customer_id STRING, cltv DOUBLE")
    train, test = training.split(frame, 42, 20)
    first = sorted(r.customer_id for r in test.collect())
    assert train.count() + len(first) == 400 and 50 <= len(first) <= 110
    again = sorted(r.customer_id for r in training.split(frame.repartition(3), 42, 20)[1].collect())
    assert again == first
    assert sorted(r.customer_id for r in training.split(frame, 7, 20)[1].collect()) != first


def test_unlabelled_customers_are_neither_trained_on_nor_held_out(spark):
    frame = spark.createDataFrame([("A", 1.0), ("B", None)], "customer_id STRING, cltv DOUBLE")
    train, test = training.split(frame, 1, 50)
    assert sorted(r.customer_id for r in train.union(test).collect()) == ["A"]


def test_the_mean_baseline_predicts_the_training_mean(spark):
    train = spark.createDataFrame([("A", 10.0), ("B", 30.0)], "customer_id STRING, cltv DOUBLE")
    test = spark.createDataFrame([("C", 10.0), ("D", 40.0)], "customer_id STRING, cltv DOUBLE")
    metrics = training.mean_baseline(train, test)  # predicts 20 for both: errors -10 and +20
    assert metrics["rmse"] == pytest.approx(math.sqrt((100 + 400) / 2))
    assert metrics["mae"] == pytest.approx(15.0)
    assert metrics["r2"] == pytest.approx(1 - 500 / (225 + 225))


def test_segments_are_chosen_by_silhouette_and_named_from_their_centroids(spark):
    rows = [(f"L{i}", 60 + i % 5, 100.0 + i % 3, 6, 0) for i in range(20)] + [
        (f"S{i}", 1 + i % 3, 20.0 + i % 4, 1, 1) for i in range(20)
    ]
    frame = spark.createDataFrame(
        rows,
        "customer_id STRING, tenure_months INT, monthly_charges DOUBLE, "
        "number_of_services INT, contract_month_to_month INT",
    )
    chosen = training.choose_segmentation(frame, training.SEGMENT_FEATURES, 2, 4, seed=1, max_iter=10)
    assert chosen.k == 2 and set(chosen.silhouettes) == {2, 3, 4}
    assert chosen.silhouette == max(chosen.silhouettes.values()) and chosen.silhouette > 0.9
    labels = training.segment_labels(chosen.model)
    assert sorted(labels.values()) == ["high value, long tenure, contract", "low value, short tenure, month-to-month"]
    segment_of = {r.customer_id: r.segment_id for r in chosen.model.transform(frame).collect()}
    assert labels[segment_of["L0"]] == "high value, long tenure, contract"


def test_a_centroid_coordinate_in_words():
    assert training.level(0.2, ("low", "mid", "high")) == "mid"
    assert training.level(-0.6, ("low", "mid", "high")) == "low"


def test_the_logged_signature_names_the_feature_columns_with_their_types_and_the_output(spark):
    from medallion.pipelines.cltv import tracking

    frame = spark.createDataFrame(
        [("A", 3, 20.5, 1000.0)], "customer_id STRING, tenure_months INT, monthly_charges DOUBLE, cltv DOUBLE"
    )
    signature = tracking.signature(frame, ("tenure_months", "monthly_charges"), ("predicted_cltv", "double"))
    assert signature.to_dict() == {
        "inputs": '[{"type": "integer", "name": "tenure_months", "required": true}, '
        '{"type": "double", "name": "monthly_charges", "required": true}]',
        "outputs": '[{"type": "double", "name": "predicted_cltv", "required": true}]',
        "params": None,
    }


def test_the_training_data_tag_follows_the_rows_not_only_the_version(spark):
    from medallion.pipelines.cltv.tracking import training_data_tag

    schema = "customer_id STRING, cltv DOUBLE"
    rows = [("A", 10.0), ("B", 30.0)]
    tag = training_data_tag(spark.createDataFrame(rows, schema), 3)
    assert tag.startswith("customer_features@v3:2-")
    assert training_data_tag(spark.createDataFrame(rows[::-1], schema).repartition(2), 3) == tag  # order aside
    assert training_data_tag(spark.createDataFrame([("A", 10.0), ("B", 31.0)], schema), 3) != tag  # a reset's data
    assert training_data_tag(spark.createDataFrame([], schema), 0) == "customer_features@v0:0-0"
