"""The producer (``medallion produce commerce --set N``, notebook 10): lands set N's files, publishes its
messages to the Kafka topics and writes the manifest of the planted truths of every set produced so far.

Producing a set twice changes nothing: files already landed are kept (producing a set again with another
scale or seed is refused: its files would hold other data under the same names), and a set's messages are
published once (a marker in the landing zone's ``published/`` folder says they were: one per topic, written as soon
as its messages are on the broker, so a run that failed after the first topic sends only the second again).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from medallion.pipelines.commerce.generator import day_of, generate
from medallion.pipelines.commerce.manifest import manifest
from medallion.sources import kafka

PUBLISHED, MANIFESTS = "published", "manifests"


def marker(set_number: int, scale: int, seed: int, source: str | None = None) -> str:
    """The name of the marker of a set published (or, with ``source``, of its messages of that topic)."""
    return f"set-{set_number}-scale-{scale}-seed-{seed}{f'-{source}' if source else ''}.json"


def produce(
    landing,
    conf: Mapping,
    settings,
    secret: Callable[[str], Any],
    set_number: int,
    scale: int,
    seed: int,
    log=print,
    topic_suffix: str = "",
) -> dict:
    """Land and publish set ``set_number``; returns the manifest of the sets produced so far (with this
    scale and seed). ``topic_suffix``: an isolated run's (``Settings.schema_suffix``), whose topics are its own."""
    data = generate(set_number, scale, seed, conf["first_day"])
    day = day_of(conf["first_day"], set_number).isoformat()
    landing.write_text_once("sales", f"sales_{day}.csv", data.sales_csv)
    if data.sales_extra_csv is not None:
        landing.write_text_once("sales", f"sales_{day}_promotions.csv", data.sales_extra_csv)
    landing.write_text_once("customers", f"customers_{day}.json", data.customers_json)
    name = marker(set_number, scale, seed)
    if not landing.exists(PUBLISHED, name):
        config = None
        counts = {}
        for source, messages in (("clickstream", data.clicks), ("iot", data.iot)):
            topic = kafka.topic_name(source, conf, topic_suffix)
            published = marker(set_number, scale, seed, source)
            if not landing.exists(PUBLISHED, published):
                config = config or producer_config(settings, secret)
                if kafka.producer_creates_topics(settings.kafka, topic_suffix):
                    kafka.ensure_topic(config, topic, int(conf["topic_partitions"]))
                sent = kafka.publish(config, topic, messages)
                landing.write_text(PUBLISHED, published, json.dumps({topic: sent}) + "\n")
            counts[topic] = len(messages)
        landing.write_text(PUBLISHED, name, json.dumps(counts, sort_keys=True) + "\n")
    produced = [n for n in range(1, set_number + 1) if landing.exists(PUBLISHED, marker(n, scale, seed))]
    truths = manifest(produced, scale, seed, conf)
    sets = "-".join(str(n) for n in produced)
    landing.write_text(
        MANIFESTS,
        f"manifest-scale-{scale}-seed-{seed}-sets-{sets}.json",
        json.dumps(truths, indent=1, sort_keys=True) + "\n",
    )
    log(
        f"[commerce] set {set_number} ({day}): files in {landing.path()}, {len(data.clicks)} clickstream and "
        f"{len(data.iot)} IoT messages published; manifest of sets {sets}"
    )
    return truths


def producer_config(settings, secret: Callable[[str], Any]) -> dict:
    endpoint = kafka.require_settings(settings)
    connection_string = secret(endpoint.connection_string_secret).reveal() if endpoint.security == "eventhubs" else None
    return kafka.producer_config(endpoint, connection_string)
