"""The commerce producer publishes each topic of a set once, even when an earlier try failed between topics,
and refuses to land a set again with another scale or seed."""

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from medallion.errors import MedallionError, SourceError
from medallion.pipelines.commerce import producer
from medallion.sources import kafka
from medallion.sources.landing import LandingZone

CONF = {
    **yaml.safe_load(Path(producer.__file__).with_name("conf.yml").read_text()),
    "topics": {"clickstream": "clicks", "iot": "iot"},
}
SETTINGS = SimpleNamespace(kafka=SimpleNamespace(security="plaintext"))


@pytest.fixture
def published(monkeypatch):
    """The topics each publish call sent to, in order; a topic in ``failing`` raises, once."""
    sent: list[str] = []
    failing: set[str] = set()

    def publish(_config, topic, messages):
        if topic in failing:
            failing.discard(topic)
            raise SourceError(f"Kafka topic {topic}: 1 message(s) not delivered within 60 s")
        sent.append(topic)
        return len(messages)

    monkeypatch.setattr(producer, "producer_config", lambda settings, secret: {})
    monkeypatch.setattr(kafka, "ensure_topic", lambda config, topic, partitions: None)
    monkeypatch.setattr(kafka, "publish", publish)
    return sent, failing


def produce(landing):
    return producer.produce(landing, CONF, SETTINGS, None, 1, 12, 7, log=lambda line: None)


def test_a_set_published_in_part_sends_only_the_topic_it_missed(tmp_path, published):
    sent, failing = published
    landing = LandingZone(str(tmp_path / "landing"), "commerce")
    failing.add("iot")

    with pytest.raises(SourceError, match="Kafka topic iot"):
        produce(landing)
    produce(landing)
    produce(landing)

    assert sent == ["clicks", "iot"]
    assert landing.exists(producer.PUBLISHED, producer.marker(1, 12, 7))


def test_a_set_asked_for_again_with_another_scale_or_seed_is_refused_and_changes_nothing(tmp_path, published):
    sent, _ = published
    landing = LandingZone(str(tmp_path / "landing"), "commerce")
    produce(landing)
    files = {p: p.read_bytes() for p in sorted((tmp_path / "landing").rglob("*")) if p.is_file()}

    for scale, seed in ((13, 7), (12, 8)):
        with pytest.raises(MedallionError, match=r"sales/sales_\S+\.csv is already landed with other content"):
            producer.produce(landing, CONF, SETTINGS, None, 1, scale, seed, log=lambda line: None)

    assert {p: p.read_bytes() for p in sorted((tmp_path / "landing").rglob("*")) if p.is_file()} == files
    assert sent == ["clicks", "iot"]
