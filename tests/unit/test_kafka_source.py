"""Kafka source options: plaintext to the local broker; for dev, what Event Hubs' Kafka endpoint requires
(SASL_SSL on port 9093, PLAIN, user $ConnectionString, the connection string as password), redacted in logs."""

import logging

import pytest

from medallion.declare.tables import KafkaSource
from medallion.errors import SourceError
from medallion.platform.config import load_settings
from medallion.sources import kafka

CONNECTION_STRING = (
    "Endpoint=sb://medallion-dev-ehns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=canary-7f3e9a"
)
CONF = {"topics": {"clickstream": "commerce-clickstream"}}


def test_local_options_are_plaintext_to_the_project_broker(monkeypatch):
    monkeypatch.setenv("MEDALLION_KAFKA_PORT", "19555")
    options = kafka.reader_options(load_settings("local"), KafkaSource("clickstream"), CONF)
    assert options == {
        "kafka.bootstrap.servers": "127.0.0.1:19555",
        "subscribe": "commerce-clickstream",
        "startingOffsets": "earliest",
        "includeHeaders": "false",
    }


def test_dev_options_follow_the_event_hubs_kafka_endpoint(caplog):
    settings = load_settings("dev")
    options = kafka.reader_options(settings, KafkaSource("iot"), {}, CONNECTION_STRING)
    assert options["kafka.bootstrap.servers"] == "medallion-dev-ehns.servicebus.windows.net:9093"
    assert options["kafka.security.protocol"] == "SASL_SSL"
    assert options["kafka.sasl.mechanism"] == "PLAIN"
    assert options["kafka.sasl.jaas.config"] == (
        "kafkashaded.org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="$ConnectionString" password="{CONNECTION_STRING}";'
    )
    assert (options["kafka.request.timeout.ms"], options["kafka.session.timeout.ms"]) == ("60000", "30000")
    assert options["subscribe"] == "iot"
    with caplog.at_level(logging.INFO):
        logging.getLogger("medallion").info("kafka options: %s", kafka.redacted(options))
    assert "canary-7f3e9a" not in caplog.text
    assert "'kafka.sasl.jaas.config': '***'" in caplog.text


def test_event_hubs_without_its_secret_says_which_secret():
    with pytest.raises(SourceError, match="eventhubs-connection-string"):
        kafka.reader_options(load_settings("dev"), KafkaSource("iot"), {}, None)


def test_a_stopped_broker_is_one_clear_message(monkeypatch):
    monkeypatch.setenv("MEDALLION_KAFKA_PORT", "1")  # nothing listens on port 1
    with pytest.raises(SourceError, match=r"not reachable: start it with `scripts/kafka.sh start`"):
        kafka.require_reachable(load_settings("local"), timeout=0.5)


def test_producer_uses_the_same_endpoint_and_secret():
    settings = load_settings("dev")
    config = kafka.producer_config(settings.kafka, CONNECTION_STRING)
    assert config["bootstrap.servers"] == "medallion-dev-ehns.servicebus.windows.net:9093"
    assert (config["security.protocol"], config["sasl.mechanisms"], config["sasl.username"]) == (
        "SASL_SSL",
        "PLAIN",
        "$ConnectionString",
    )
    assert config["enable.idempotence"] is True


def test_the_kafka_sources_initial_offsets_after_a_zero_byte_are_a_sound_checkpoint(tmp_path):
    from medallion.engine import checkpoints
    from tests.unit.test_checkpoints import write_with_crc

    root = tmp_path / "clickstream_bz"
    write_with_crc(root / "metadata", b'{"id":"5f1c"}')
    write_with_crc(root / "offsets" / "0", b'v1\n{"batchWatermarkMs":0}\n{"commerce-clickstream":{"0":0}}')
    write_with_crc(root / "sources" / "0" / "0", b'\x00v1\n{"commerce-clickstream":{"1":0,"0":0}}')
    checkpoints.verify(str(root), "clickstream_bz", "commerce")
