"""latency: how long a Kafka message takes to reach silver and gold in stream mode (measured, not asserted).

``medallion latency commerce --rate 20 --seconds 30`` starts the pipeline's streams, publishes clickstream
events (one-event sessions) at a fixed rate, and polls ``clicks`` (silver) and ``sessions`` (gold) for
them; it reports p50/p95 of publish → visible in each table, and messages per second end to end. The
time to see a row includes the polling interval (``--poll``), so the numbers are upper bounds.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import datetime, timezone

from medallion.cli.common import add_environment_options, runtime_from
from medallion.declare.pipeline import get_pipeline
from medallion.engine.streams import start_streams
from medallion.errors import MedallionError
from medallion.sources import kafka


def register(commands) -> None:
    latency = commands.add_parser("latency", help="measure Kafka → silver → gold latency in stream mode (commerce)")
    latency.add_argument("pipeline", choices=["commerce"], help="the pipeline whose Kafka topics are measured")
    latency.add_argument("--rate", type=float, default=10.0, help="messages per second (default 10)")
    latency.add_argument("--seconds", type=float, default=30.0, help="how long to publish (default 30)")
    latency.add_argument("--poll", type=float, default=0.5, help="seconds between table polls (default 0.5)")
    add_environment_options(latency)
    latency.set_defaults(handler=measure)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(share * len(ordered) + 0.5)) - 1))]


def measure(args: argparse.Namespace) -> int:
    runtime = runtime_from(args)
    pipeline = get_pipeline(args.pipeline)
    conf = runtime.settings.pipeline(pipeline.name)
    endpoint = kafka.require_settings(runtime.settings)
    kafka.require_reachable(runtime.settings)
    secret = (
        runtime.secrets.get(endpoint.connection_string_secret).reveal() if endpoint.security == "eventhubs" else None
    )
    config = kafka.producer_config(endpoint, secret)
    suffix = runtime.settings.schema_suffix  # a per-user target's topics are its own
    topic = kafka.topic_name("clickstream", conf, suffix)
    if endpoint.security == "plaintext":  # every topic the streams subscribe to must exist before they start
        for name in dict(conf["topics"]):
            kafka.ensure_topic(config, kafka.topic_name(str(name), conf, suffix), int(conf["topic_partitions"]))
    run_id = uuid.uuid4().hex[:8]
    streams = start_streams(runtime, pipeline.name)
    try:
        streams.await_idle(timeout=1800)
        published = _publish(config, topic, run_id, args.rate, args.seconds)
        seen = _watch(runtime, pipeline, run_id, set(published), args.poll, timeout=args.seconds + 600)
    finally:
        streams.stop()
    report = {"messages": len(published), "rate_per_s": args.rate}
    for table, times in seen.items():
        delays = [times[s] - published[s] for s in times]
        if len(times) < len(published):
            raise MedallionError(f"{table}: {len(published) - len(times)} message(s) never arrived")
        report[table] = {"p50_s": round(percentile(delays, 0.5), 2), "p95_s": round(percentile(delays, 0.95), 2)}
    span = max(seen["sessions"].values()) - min(published.values())
    report["throughput_msgs_per_s"] = round(len(published) / span, 1)
    print(json.dumps(report, indent=1))
    return 0


def _publish(config: dict, topic: str, run_id: str, rate: float, seconds: float) -> dict[str, float]:
    """One single-event session per message, sent at ``rate``; returns session id → publish time."""
    from confluent_kafka import Producer

    producer, published = Producer(config), {}
    count, started = int(rate * seconds), time.time()
    for i in range(count):
        time.sleep(max(0.0, started + i / rate - time.time()))
        session = f"lat-{run_id}-{i}"
        event = {
            "event_id": f"e-{session}",
            "session_id": session,
            "customer_id": None,
            "event_type": "page_view",
            "page_url": "/",
            "referrer": None,
            "product_id": None,
            "device": "desktop",
            "browser": "bench",
            "ip": "10.9.9.9",
            "event_ts": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        }
        producer.produce(topic, key=session.encode(), value=json.dumps(event).encode())
        producer.poll(0)
        published[session] = time.time()
    producer.flush(60)
    return published


def _watch(
    runtime, pipeline, run_id: str, sessions: set[str], poll: float, timeout: float
) -> dict[str, dict[str, float]]:
    """When each session first shows in silver ``clicks`` and gold ``sessions``."""
    seen: dict[str, dict[str, float]] = {"clicks": {}, "sessions": {}}
    deadline = time.time() + timeout
    while time.time() < deadline and any(len(t) < len(sessions) for t in seen.values()):
        for table in seen:
            path = runtime.location(pipeline.name, pipeline.get(table).layer, table).path
            rows = (
                runtime.spark.read.format("delta")
                .load(path)
                .where(f"session_id LIKE 'lat-{run_id}-%'")
                .select("session_id")
                .distinct()
                .collect()
            )
            now = time.time()
            for row in rows:
                seen[table].setdefault(row.session_id, now)
        time.sleep(poll)
    return seen
