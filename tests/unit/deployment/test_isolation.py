"""What an isolated run owns: a deployed test run and an engineer's per-user dev target each get a storage
root, schemas and Kafka topics of their own, never those of the scheduled jobs or of another run."""

from dataclasses import replace
from types import SimpleNamespace

import pytest

from deployment.artifacts import collect
from deployment.jobs import batch_job
from deployment.settings import load_deployment
from medallion.declare.tables import KafkaSource
from medallion.errors import ConfigError
from medallion.pipelines.commerce import hooks, producer
from medallion.platform.config import DEFAULT_CONF_DIR, USER_TARGET_ENV_VAR, load_settings
from medallion.platform.runtime import Runtime
from medallion.sources import kafka
from medallion.sources.landing import LandingZone
from tests.support.checkout import write_notebooks, write_wheel

CONNECTION_STRING = "Endpoint=sb://medallion-dev-ehns.servicebus.windows.net/;SharedAccessKey=x"


@pytest.fixture
def broker(monkeypatch):
    """The topics the producer created and published to, in order (no broker is reached)."""
    created: list[str] = []
    sent: list[str] = []
    monkeypatch.setattr(producer, "producer_config", lambda settings, secret: {})
    monkeypatch.setattr(kafka, "ensure_topic", lambda config, topic, partitions: created.append(topic))
    monkeypatch.setattr(kafka, "publish", lambda config, topic, messages: sent.append(topic) or len(messages))
    return created, sent


def artifacts(tmp_path, folder: str):
    notebooks = write_notebooks(tmp_path / "notebooks")
    return collect(folder, notebooks, DEFAULT_CONF_DIR, "dev", write_wheel(tmp_path / "dist"))


def produce_set_1(settings, tmp_path) -> None:
    context = SimpleNamespace(
        conf=settings.pipeline("commerce"),
        settings=settings,
        landing=LandingZone(str(tmp_path / "landing"), "commerce"),
        secret=None,
        log=lambda line: None,
    )
    hooks.produce(context, set_number=1)


def subscribed(settings) -> list[str]:
    conf = settings.pipeline("commerce")
    return [
        kafka.reader_options(settings, KafkaSource(source), conf, CONNECTION_STRING)["subscribe"]
        for source in ("clickstream", "iot")
    ]


def test_an_isolated_run_publishes_to_and_reads_topics_of_its_own(broker, tmp_path):
    created, sent = broker
    isolated = replace(load_settings("qa"), schema_suffix="_t20260105_abc123")  # Event Hubs, as on QA
    produce_set_1(isolated, tmp_path)
    topics = ["commerce-clickstream_t20260105_abc123", "commerce-iot_t20260105_abc123"]
    assert sent == topics and subscribed(isolated) == topics
    assert created == topics  # an isolated run's event hubs are its own to create


def test_the_scheduled_jobs_keep_the_shared_topics_and_never_create_event_hubs(broker, tmp_path):
    created, sent = broker
    shared = load_settings("qa")
    produce_set_1(shared, tmp_path)
    assert sent == ["commerce-clickstream", "commerce-iot"] == subscribed(shared)
    assert created == []  # the shared event hubs come with the namespace


def test_a_per_user_target_gets_its_own_root_schemas_and_topics(monkeypatch):
    shared = load_settings("dev")
    monkeypatch.setenv(USER_TARGET_ENV_VAR, "ann_lee")
    ann = load_settings("dev")
    assert ann.root == f"{shared.root}/_users/ann_lee" and ann.landing == f"{shared.landing}/_users/ann_lee"
    assert Runtime(ann).database("fitness", "bronze") == "medallion_dev.fitness_bronze_ann_lee"
    assert Runtime(ann).location("commerce", "silver", "clicks").checkpoint.startswith(ann.root + "/")
    assert subscribed(ann) == ["commerce-clickstream_ann_lee", "commerce-iot_ann_lee"]


def test_a_malformed_user_target_is_refused(monkeypatch):
    monkeypatch.setenv(USER_TARGET_ENV_VAR, "ann; DROP")
    with pytest.raises(ConfigError, match="MEDALLION_USER_TARGET"):
        load_settings("dev")


def test_each_engineers_jobs_carry_their_own_user_target(tmp_path):
    env_vars = {}
    for engineer in ("Ann.Lee@example.com", "bob@example.com"):
        settings = load_deployment("dev", known_pipelines=["fitness", "commerce"]).for_user(engineer)
        job = batch_job(settings, artifacts(tmp_path, settings.workspace_folder), "fitness")
        env_vars[engineer] = job.job_clusters[0].new_cluster.spark_env_vars
        assert settings.storage_root.endswith(f"/medallion/_users/{settings.user_key}")
    assert env_vars["Ann.Lee@example.com"][USER_TARGET_ENV_VAR] == "ann_lee"
    assert env_vars["bob@example.com"][USER_TARGET_ENV_VAR] == "bob"
    shared = load_deployment("dev", known_pipelines=["fitness", "commerce"])
    shared_env = batch_job(shared, artifacts(tmp_path, shared.workspace_folder), "fitness").job_clusters[0]
    assert USER_TARGET_ENV_VAR not in shared_env.new_cluster.spark_env_vars
