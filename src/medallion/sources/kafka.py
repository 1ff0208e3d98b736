"""Kafka topics: the project's broker locally, Azure Event Hubs' Kafka endpoint on Databricks.

The Spark Kafka source (``spark-sql-kafka-0-10``) reads both; only its options differ, and they come from
``kafka`` in ``conf/<env>.yml`` plus the secret store:

- ``plaintext``: ``kafka.bootstrap.servers`` and nothing else (a loopback broker, never exposed);
- ``eventhubs``: what Event Hubs' Kafka documentation requires: ``<namespace>.servicebus.windows.net:9093``,
  ``security.protocol=SASL_SSL``, ``sasl.mechanism=PLAIN`` and a JAAS ``PlainLoginModule`` whose user is the
  literal ``$ConnectionString`` and whose password is the namespace's connection string (a Key Vault-backed
  secret); on Databricks the Kafka client is shaded, so the login module's class is ``kafkashaded.``-prefixed.
  Its recommended ``request.timeout.ms`` (60 s) and ``session.timeout.ms`` (30 s) are set too.

The connection string lives only in the options handed to the reader: :func:`redacted` is what may be
logged, and :func:`require_reachable` tells a stopped broker in one sentence before any table changes.

An isolated run (a deployed test run, an engineer's dev target) names its topics with its suffix
(``Settings.schema_suffix``), producer and reader alike: it never publishes into the topics the scheduled
stream reads, nor reads what another run published (the readers start from the earliest offset).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

from medallion.declare.tables import KafkaSource
from medallion.errors import SourceError
from medallion.platform.config import KafkaSettings, Settings

# The columns of Spark's Kafka source (without headers).
SOURCE_SCHEMA = (
    "key BINARY, value BINARY, topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP, timestampType INT"
)
JAAS_OPTION = "kafka.sasl.jaas.config"
REDACTED = "***"
SHADED_LOGIN_MODULE = "kafkashaded.org.apache.kafka.common.security.plain.PlainLoginModule"
LOGIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"


def topic_name(source: KafkaSource | str, pipeline_conf: Mapping, suffix: str = "") -> str:
    """The broker's name of a source's topic: ``topics.<topic>`` of the pipeline's settings, or itself,
    followed by an isolated run's ``suffix``."""
    topic = source if isinstance(source, str) else source.topic
    return str((pipeline_conf.get("topics") or {}).get(topic, topic)) + suffix


def producer_creates_topics(kafka: KafkaSettings, suffix: str = "") -> bool:
    """Whether a producer creates the topics it publishes to: always on the local broker; on Event Hubs
    only an isolated run's own (through the Kafka admin API): the shared event hubs come with the namespace."""
    return kafka.security == "plaintext" or bool(suffix)


def connection_options(
    kafka: KafkaSettings, connection_string: str | None = None, shaded: bool = False
) -> dict[str, str]:
    """The ``kafka.*`` client options of the endpoint (the connection string only for ``eventhubs``)."""
    options = {"kafka.bootstrap.servers": kafka.bootstrap_servers}
    if kafka.security == "eventhubs":
        if not connection_string:
            raise SourceError(
                f"kafka.security is eventhubs: the secret '{kafka.connection_string_secret}' "
                "(the Event Hubs namespace's connection string) is needed."
            )
        module = SHADED_LOGIN_MODULE if shaded else LOGIN_MODULE
        password = connection_string.replace("\\", "\\\\").replace('"', '\\"')
        options.update(
            {
                "kafka.security.protocol": "SASL_SSL",
                "kafka.sasl.mechanism": "PLAIN",
                JAAS_OPTION: f'{module} required username="$ConnectionString" password="{password}";',
                "kafka.request.timeout.ms": "60000",
                "kafka.session.timeout.ms": "30000",
            }
        )
    return options


def reader_options(
    settings: Settings, source: KafkaSource, pipeline_conf: Mapping, connection_string: str | None = None
) -> dict[str, str]:
    """Every option of the Spark Kafka source for ``source``."""
    options = connection_options(require_settings(settings), connection_string, shaded=settings.is_databricks)
    options.update(
        {
            "subscribe": topic_name(source, pipeline_conf, settings.schema_suffix),
            "startingOffsets": source.starting_offsets,
            "includeHeaders": "false",
        }
    )
    if source.max_offsets_per_trigger:
        options["maxOffsetsPerTrigger"] = str(source.max_offsets_per_trigger)
    return options


def redacted(options: Mapping[str, str]) -> dict[str, str]:
    """The options as they may be logged: the JAAS line (which holds the secret) replaced."""
    return {k: (REDACTED if k == JAAS_OPTION else v) for k, v in options.items()}


def require_settings(settings: Settings) -> KafkaSettings:
    if settings.kafka is None or not settings.kafka.bootstrap_servers:
        raise SourceError(f"No Kafka endpoint: set kafka.bootstrap_servers in conf/{settings.env}.yml.")
    return settings.kafka


def require_reachable(settings: Settings, timeout: float = 3.0) -> None:
    """Stop with one message when no bootstrap server accepts a connection (a local broker that is not
    running), before a query would wait on it. A cloud endpoint is trusted to be up: its client retries."""
    kafka = require_settings(settings)
    if kafka.security != "plaintext":
        return
    servers = [s.strip() for s in kafka.bootstrap_servers.split(",") if s.strip()]
    for server in servers:
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=timeout):
                return
        except (OSError, ValueError):
            continue
    raise SourceError(
        f"The Kafka broker at {kafka.bootstrap_servers} is not reachable: start it with "
        "`scripts/kafka.sh start` (port: $MEDALLION_KAFKA_PORT), or check kafka.bootstrap_servers "
        f"in conf/{settings.env}.yml. No table was changed."
    )


# ------------------------------------------------------------------------------------------- publishing
def producer_config(kafka: KafkaSettings, connection_string: str | None = None) -> dict[str, object]:
    """The confluent-kafka (librdkafka) settings of the same endpoint: idempotent, acknowledged by all
    replicas, so a retried send is never written twice."""
    config: dict[str, object] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
    }
    if kafka.security == "eventhubs":
        if not connection_string:
            raise SourceError(f"kafka.security is eventhubs: the secret '{kafka.connection_string_secret}' is needed.")
        config.update(
            {
                "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "PLAIN",
                "sasl.username": "$ConnectionString",
                "sasl.password": connection_string,
            }
        )
    return config


def _admin(config: Mapping[str, Any]) -> Any:
    """An admin client of the producer's endpoint (its producer-only settings left out)."""
    from confluent_kafka.admin import AdminClient

    return AdminClient({k: v for k, v in config.items() if k not in ("enable.idempotence", "acks", "linger.ms")})


def ensure_topic(config: Mapping[str, Any], topic: str, partitions: int, timeout: float = 30) -> None:
    """Create ``topic`` when the broker lacks it (on Event Hubs an isolated run's own event hub, which needs a
    connection string with the Manage right; the shared ones exist with the namespace), and return
    once every partition has a leader: a reader that finds a topic still being created fails with "This
    server does not host this topic-partition"."""
    from confluent_kafka.admin import NewTopic

    admin = _admin(config)
    if topic not in admin.list_topics(timeout=15).topics:
        for future in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
            try:
                future.result(timeout=timeout)
            except Exception as err:  # created meanwhile by another producer or reader: fine
                if "TOPIC_ALREADY_EXISTS" not in str(err):
                    raise SourceError(f"Could not create Kafka topic {topic}: {err}") from None
    deadline = time.monotonic() + timeout
    while not _has_leaders(admin, topic):
        if time.monotonic() > deadline:
            raise SourceError(f"Kafka topic {topic} has partitions without a leader after {timeout:.0f} s.")
        time.sleep(0.2)


def _has_leaders(admin: Any, topic: str) -> bool:
    described = admin.list_topics(topic=topic, timeout=15).topics.get(topic)
    return bool(
        described is not None
        and described.error is None
        and described.partitions
        and all(p.leader >= 0 and p.error is None for p in described.partitions.values())
    )


def delete_topics(config: Mapping[str, Any], topics: Sequence[str], timeout: float = 30) -> list[str]:
    """Delete ``topics`` from the broker (an isolated run's own, at its clean-up); returns those deleted. A
    topic already gone is no error."""
    admin = _admin(config)
    present = [topic for topic in topics if topic in admin.list_topics(timeout=15).topics]
    deleted = []
    for topic, future in admin.delete_topics(present, operation_timeout=timeout).items() if present else []:
        try:
            future.result(timeout=timeout)
            deleted.append(topic)
        except Exception as err:  # removed meanwhile: gone is what was wanted
            if "UNKNOWN_TOPIC_OR_PART" not in str(err):
                raise SourceError(f"Could not delete Kafka topic {topic}: {err}") from None
    return deleted


def require_topics(settings: Settings, sources: Sequence[KafkaSource], pipeline_conf: Mapping) -> None:
    """The local broker: create the topics ``sources`` read, each ready to read, before a stream starts
    (a reader started first would make the broker create the topic with its defaults, and race its
    creation). Event Hubs: the shared event hubs are created with the namespace, an isolated run's own by
    its producer (which holds the connection string), never here."""
    kafka = require_settings(settings)
    if kafka.security != "plaintext":
        return
    config = producer_config(kafka)
    partitions = int(pipeline_conf.get("topic_partitions", 1))
    for topic in sorted({topic_name(source, pipeline_conf, settings.schema_suffix) for source in sources}):
        ensure_topic(config, topic, partitions)


def publish(
    config: Mapping[str, Any], topic: str, messages: Sequence[tuple[bytes | None, bytes]], timeout: float = 60
) -> int:
    """Send ``messages`` (key, value) to ``topic`` in order and wait until the broker has them all."""
    from confluent_kafka import Producer

    failures: list[str] = []
    producer = Producer(dict(config))

    def delivered(err, _message) -> None:
        if err is not None:
            failures.append(str(err))

    for key, value in messages:
        producer.produce(topic, value=value, key=key, on_delivery=delivered)
        producer.poll(0)
    left = producer.flush(timeout)
    if left or failures:
        raise SourceError(
            f"Kafka topic {topic}: {left} message(s) not delivered within {timeout:.0f} s"
            + (f"; first error: {failures[0]}" if failures else "")
            + " (is the broker running? scripts/kafka.sh start)"
        )
    return len(messages)
