"""The generator is seeded and plants what its manifest says; the manifest is computed without Spark."""

import json

from medallion.pipelines.commerce.generator import generate
from medallion.pipelines.commerce.manifest import line_amount, manifest

CONF = {
    "first_day": "2026-01-05",
    "as_of_date": "2026-01-31",
    "silent_minutes": 15,
    "iot_thresholds": {"temperature": [-10, 80], "humidity": [15, 85], "vibration": [0, 40], "pressure": [950, 1050]},
}


def test_same_seed_same_data_other_seed_other_data():
    first, again, other = (
        generate(2, 8, 11, CONF["first_day"]),
        generate(2, 8, 11, CONF["first_day"]),
        generate(2, 8, 12, CONF["first_day"]),
    )
    assert (first.sales_csv, first.customers_json, first.clicks, first.iot) == (
        again.sales_csv,
        again.customers_json,
        again.clicks,
        again.iot,
    )
    assert first.sales_csv != other.sales_csv


def test_planted_faults_are_in_the_data():
    data = generate(2, 8, 11, CONF["first_day"])
    values = [v for _, v in data.clicks]
    assert len(values) - len(set(values)) == 1  # one message sent twice
    assert sum(not v.startswith(b'{"event_id": "e-') for v in values) == 1  # one not JSON
    assert sum(b'"hover"' in v for v in values) == 1  # one unknown event type
    assert data.sales_extra_csv.splitlines()[0].endswith(",promo_code")
    ops = [json.loads(line)["op"] for line in data.customers_json.splitlines()]
    assert ops.count("D") == 1
    assert any(b"\xff\xfe" in v for _, v in data.iot)  # bytes that are not UTF-8


def test_manifest_applies_the_late_customer_change_between_its_neighbours():
    truths = manifest([1, 2, 3], 8, 11, CONF)
    late = [h for h in truths["customers_history"] if h["email_normalised"].startswith("late")]
    assert late and all(h["valid_to"] is not None for h in late if h["valid_from"].startswith("2026-01-06"))
    current = [h for h in truths["customers_history"] if h["is_current"] == "true"]
    assert len(current) == len({h["customer_id"] for h in current}) == 8 - 2  # two deletes
    assert len(truths["gold"]["customer_360"]) == len(current)


def test_line_amount_rounds_half_up_at_cents():
    assert str(line_amount({"quantity": 3, "unit_price": "19.99", "discount_pct": "12.5"})) == "52.47"  # 52.47375
