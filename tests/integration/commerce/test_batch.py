"""Batch mode against the real broker: every gold table equals the generator's manifest, and every input
row and message is accounted for (loaded, quarantined or counted as a duplicate)."""

import json
import re

import pytest
from pyspark.sql import functions as F

from medallion.engine import personal_data
from medallion.engine.pipeline import run
from tests.conftest import TEST_PII_KEY
from tests.integration.commerce.conftest import assert_gold_equals_manifest, produce

pytestmark = pytest.mark.integration


def test_two_daily_sets_in_two_runs_give_the_manifest(commerce_runtime):
    runtime = commerce_runtime
    produce(runtime, 1)
    run(runtime, "commerce")
    truths = produce(runtime, 2)  # with a customer change of day 1 that arrives on day 2
    run(runtime, "commerce")
    assert truths["sets"] == [1, 2]
    assert_gold_equals_manifest(runtime, truths)

    spark = runtime.spark
    read = lambda layer, name: spark.read.format("delta").load(runtime.location("commerce", layer, name).path)  # noqa: E731
    from medallion.declare.tables import Layer

    history = read(Layer.SILVER, "customers")
    key = TEST_PII_KEY.encode()
    stored = sorted(
        (
            r.customer_id,
            r.city,
            r.email,
            r.valid_from.strftime("%Y-%m-%d %H:%M:%S"),
            r.valid_to.strftime("%Y-%m-%d %H:%M:%S") if r.valid_to else None,
            r.is_current,
        )
        for r in history.collect()
    )
    expected = sorted(
        (
            h["customer_id"],
            h["city"],
            personal_data.token(h["email_normalised"], key),
            h["valid_from"],
            h["valid_to"],
            h["is_current"] == "true",
        )
        for h in truths["customers_history"]
    )
    assert stored == expected
    silver = truths["silver"]
    assert read(Layer.SILVER, "sales").count() == silver["sales"]
    assert read(Layer.SILVER, "sales").where("NOT customer_known").count() == silver["sales_unknown_customer"]
    assert read(Layer.SILVER, "clicks").count() == silver["clicks"]
    assert read(Layer.SILVER, "iot_readings").count() == silver["iot_readings"]
    assert read(Layer.SILVER, "iot_readings").where("valid").count() == silver["iot_readings_valid"]

    # Bronze keeps every message with its Kafka metadata; nothing else is lost on the way.
    sources = truths["sources"]
    clicks_bz = read(Layer.BRONZE, "clickstream_bz")
    assert clicks_bz.count() == sources["click_messages"]
    assert clicks_bz.select("topic", "partition", "offset").distinct().count() == sources["click_messages"]
    assert read(Layer.BRONZE, "iot_bz").count() == sources["iot_messages"]

    quarantine = spark.read.format("delta").load(runtime.quarantine_path("commerce"))
    per_table = {r.table: r.n for r in quarantine.groupBy("table").agg(F.count(F.lit(1)).alias("n")).collect()}
    # sales_bz: a line with a non-numeric quantity per set, and the two lines of set 2's file with an extra
    # column; sales: the quantity-0 and negative-price lines of each set
    assert per_table == {
        "sales_bz": 1 + 3,
        "sales": 2 * 2,
        "clicks": sources["click_quarantined"],
        "iot_readings": sources["iot_quarantined"],
    }
    assert per_table["sales_bz"] + per_table["sales"] == sources["sales_quarantined"]
    broken = quarantine.where("table = 'iot_readings'").first()
    assert "value_parsed" in broken.rules
    assert '"_raw_value":"//4gbm90IGpzb24="' in broken.record  # the message's bytes, b"\xff\xfe not json"
    assert broken.source.startswith(runtime.settings.pipeline("commerce")["topics"]["iot"] + "/")
    # clicks tokenises the ip: its quarantine records hold the token, no raw message (bronze keeps it).
    clicks = [json.loads(r.record) for r in quarantine.where("table = 'clicks'").collect()]
    assert clicks and all(not [name for name in record if name.startswith("_")] for record in clicks)
    assert all(record.get("ip") is None or re.fullmatch("[0-9a-f]{64}", record["ip"]) for record in clicks)

    log = spark.read.format("delta").load(runtime.system_path("event_log")).where("pipeline = 'commerce'")
    unaccounted = log.where(
        "rows_in != rows_quarantined + rows_inserted + rows_updated + rows_unchanged + rows_duplicate + rows_late"
    )
    assert unaccounted.count() == 0
    assert log.where("status != 'ok' AND status != 'skipped'").count() == 0
    rows_in = {r.table: r.n for r in log.groupBy("table").agg(F.sum("rows_in").alias("n")).collect()}
    assert rows_in["sales_bz"] == sources["sales_lines"]
    assert rows_in["clickstream_bz"] == sources["click_messages"]
    assert rows_in["iot_bz"] == sources["iot_messages"]
    assert rows_in["customers_bz"] == sources["customer_lines"]
