"""The commerce pipeline against the project's real Kafka broker: each test gets its own topics, so it
never reads another test's (or a developer's) messages."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest

from medallion.declare.pipeline import get_pipeline
from medallion.engine import hooks
from tests.support.kafka import kafka_broker  # noqa: F401  (the session fixture)

SCALE, SEED = 8, 11
GOLD_TABLES = ("daily_sales", "customer_360", "sessions", "funnel_daily", "iot_5min", "iot_alerts")


@pytest.fixture
def commerce_runtime(make_runtime, kafka_broker):  # noqa: F811
    suffix = uuid.uuid4().hex[:8]
    return make_runtime(
        pipelines={"commerce": {"topics": {"clickstream": f"clickstream-{suffix}", "iot": f"iot-{suffix}"}}}
    )


def produce(runtime, set_number: int) -> dict:
    return hooks.produce(runtime, get_pipeline("commerce"), set_number=set_number, scale=SCALE, seed=SEED)


def as_text(value):
    """A gold value as the manifest writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def gold_rows(runtime, table: str, columns) -> list[dict]:
    location = runtime.location("commerce", get_pipeline("commerce").get(table).layer, table)
    frame = runtime.spark.read.format("delta").load(location.path).select(*columns)
    rows = [{c: as_text(v) for c, v in row.asDict().items()} for row in frame.collect()]
    return sorted(rows, key=lambda r: tuple(str(r[c]) for c in columns))


def assert_gold_equals_manifest(runtime, truths: dict) -> None:
    for table in GOLD_TABLES:
        expected = truths["gold"][table]
        columns = list(expected[0])
        assert gold_rows(runtime, table, columns) == sorted(
            expected, key=lambda r: tuple(str(r[c]) for c in columns)
        ), table
