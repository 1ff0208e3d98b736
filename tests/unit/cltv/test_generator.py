"""The new-customer generator: seeded, no labels, and every column within the training data's values."""

import csv
import io

import pytest

from medallion.pipelines.cltv import generator
from medallion.pipelines.cltv.columns import LABELS, NEW_COLUMNS

TRAINING = generator.read_training()
MODEL = generator.fit(TRAINING)
CATEGORICAL = (
    "count",
    "country",
    "state",
    "city",
    "zip_code",
    "lat_long",
    "latitude",
    "longitude",
    "gender",
    "senior_citizen",
    "partner",
    "dependents",
    "phone_service",
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
    "contract",
    "paperless_billing",
    "payment_method",
    "tenure_months",
)


@pytest.fixture(scope="module")
def batch():
    return generator.sample(MODEL, 2000, seed=7, id_prefix="NEW0002")


def test_the_training_file_is_the_published_sample():
    assert len(TRAINING) == 7043
    assert sum(1 for row in TRAINING if row["total_charges"].strip() == "") == 11
    assert generator.TRAINING_FILE.read_bytes().startswith(b"\xef\xbb\xbf")


def test_the_same_seed_gives_the_same_file_and_another_seed_another():
    first = generator.to_csv(generator.sample(MODEL, 50, seed=3, id_prefix="NEW0002"))
    assert first == generator.to_csv(generator.sample(MODEL, 50, seed=3, id_prefix="NEW0002"))
    assert first != generator.to_csv(generator.sample(MODEL, 50, seed=4, id_prefix="NEW0002"))


def test_the_file_has_the_training_headers_without_the_labels(batch):
    text = generator.to_csv(batch)
    header = next(csv.reader(io.StringIO(text)))
    assert header == [h for h, _ in NEW_COLUMNS]
    assert len(header) == 28 and not {"Churn Label", "Churn Value", "Churn Score", "CLTV", "Churn Reason"} & set(header)
    assert all(label not in batch[0] for label in LABELS)
    assert len(list(csv.reader(io.StringIO(text)))) == 2001


def test_ids_are_unique_and_never_those_of_training_customers(batch):
    ids = [row["customer_id"] for row in batch]
    assert len(set(ids)) == 2000
    assert not set(ids) & {row["customer_id"] for row in TRAINING}
    assert ids[0] == "NEW0002-00001"


@pytest.mark.parametrize("column", CATEGORICAL)
def test_every_categorical_value_is_one_the_training_data_holds(batch, column):
    assert {row[column] for row in batch} <= {row[column] for row in TRAINING}


def test_charges_stay_within_the_training_ranges_and_blank_totals_only_at_tenure_zero(batch):
    monthly = [float(row["monthly_charges"]) for row in batch]
    training_monthly = [float(row["monthly_charges"]) for row in TRAINING]
    assert min(training_monthly) <= min(monthly) and max(monthly) <= max(training_monthly)
    for row in batch:
        if row["tenure_months"] == "0":
            assert row["total_charges"] == " "
        else:
            total = float(row["total_charges"])
            assert 0.5 * float(row["monthly_charges"]) * int(row["tenure_months"]) <= total


def test_the_main_correlations_are_kept(batch):
    """Add-ons need internet, multiple lines need phone; long contracts mean long tenure; fibre costs more."""
    for row in batch:
        if row["internet_service"] == "No":
            assert all(row[c] == "No internet service" for c in ("online_security", "tech_support", "streaming_tv"))
        else:
            assert "No internet service" not in {row[c] for c in ("online_security", "tech_support", "streaming_tv")}
        assert (row["multiple_lines"] == "No phone service") == (row["phone_service"] == "No")

    def mean(rows, column):
        return sum(float(r[column]) for r in rows) / len(rows)

    by_contract = {c: [r for r in batch if r["contract"] == c] for c in ("Month-to-month", "Two year")}
    assert mean(by_contract["Two year"], "tenure_months") > mean(by_contract["Month-to-month"], "tenure_months") + 20
    fibre = [r for r in batch if r["internet_service"] == "Fiber optic"]
    none = [r for r in batch if r["internet_service"] == "No"]
    assert mean(fibre, "monthly_charges") > mean(none, "monthly_charges") + 50
