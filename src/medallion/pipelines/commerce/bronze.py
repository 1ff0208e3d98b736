"""Bronze: the sources as they came. Files typed by an explicit schema (rows that do not parse are
quarantined with their raw text by the framework's source rules); Kafka messages kept whole: key, raw
value bytes, topic, partition, offset and the broker's timestamp."""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.declare.tables import Append, FileSource, KafkaSource, Layer, table

SALES = FileSource(
    folder="sales",
    format="csv",
    schema="order_id BIGINT, order_line INT, order_ts TIMESTAMP, customer_id BIGINT, product_id STRING, "
    "product_category STRING, quantity INT, unit_price DECIMAL(10,2), discount_pct DECIMAL(5,2), currency STRING, "
    "channel STRING, store_id STRING, status STRING",
)
CUSTOMERS = FileSource(
    folder="customers",
    format="json",
    schema="customer_id BIGINT, first_name STRING, last_name STRING, email STRING, phone STRING, address STRING, "
    "city STRING, state STRING, country STRING, postal_code STRING, birth_date DATE, signup_ts TIMESTAMP, "
    "segment STRING, op STRING, updated_at TIMESTAMP",
)
CLICKSTREAM = KafkaSource("clickstream")
IOT = KafkaSource("iot")


@table(Layer.BRONZE, Append(), {"raw": SALES})
def sales_bz(raw: DataFrame) -> DataFrame:
    """Daily sales lines as landed."""
    return raw


@table(Layer.BRONZE, Append(), {"raw": CUSTOMERS})
def customers_bz(raw: DataFrame) -> DataFrame:
    """Daily customer change extracts (op I/U/D) as landed."""
    return raw


def kafka_envelope(messages: DataFrame) -> DataFrame:
    """A message as the broker holds it: nothing parsed, nothing dropped."""
    return messages.select(
        F.col("key").cast("string").alias("key"),
        "value",
        "topic",
        "partition",
        "offset",
        F.col("timestamp").alias("kafka_timestamp"),
        F.current_timestamp().alias("load_time"),
    )


@table(Layer.BRONZE, Append(), {"messages": CLICKSTREAM})
def clickstream_bz(messages: DataFrame) -> DataFrame:
    """Clickstream messages with their Kafka metadata."""
    return kafka_envelope(messages)


@table(Layer.BRONZE, Append(), {"messages": IOT})
def iot_bz(messages: DataFrame) -> DataFrame:
    """IoT sensor messages with their Kafka metadata."""
    return kafka_envelope(messages)
