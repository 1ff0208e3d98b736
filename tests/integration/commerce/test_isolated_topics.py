"""An isolated test run publishes into topics of its own (``<topic>_<run id>``) and its clean-up deletes
them, never the topics the scheduled stream reads."""

from __future__ import annotations

import uuid

from confluent_kafka.admin import AdminClient

from medallion.engine import isolation
from medallion.platform.runtime import Runtime
from medallion.sources import kafka
from tests.support.kafka import kafka_broker  # noqa: F401  (the session fixture)


def test_an_isolated_runs_clean_up_deletes_its_own_topics_and_no_other(make_runtime, kafka_broker):  # noqa: F811
    suffix = uuid.uuid4().hex[:8]
    shared = [f"clickstream-{suffix}", f"iot-{suffix}"]
    runtime = make_runtime(pipelines={"commerce": {"topics": {"clickstream": shared[0], "iot": shared[1]}}})
    isolated = Runtime(isolation.isolated_settings(runtime.settings, "t1"), spark=runtime.spark)
    config = kafka.producer_config(runtime.settings.kafka)
    own = [f"{topic}_t1" for topic in shared]
    for topic in shared + own:
        kafka.ensure_topic(config, topic, 1)

    removed = isolation.clean_up(isolated, ["commerce"])

    assert [entry for entry in removed if entry.startswith("topic ")] == [f"topic {topic}" for topic in own]
    listed = AdminClient({"bootstrap.servers": runtime.settings.kafka.bootstrap_servers}).list_topics(timeout=15)
    assert [topic in listed.topics for topic in shared + own] == [True, True, False, False]
    again = isolation.clean_up(isolated, ["commerce"])  # a second clean-up finds none left, and is no error
    assert [entry for entry in again if entry.startswith("topic ")] == []
    kafka.delete_topics(config, shared)
