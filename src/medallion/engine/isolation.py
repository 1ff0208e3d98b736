"""Acceptance runs that own their data: the deployed integration tests never share a table with the
scheduled jobs (or with another test run).

A run id (given by ``medallion deploy --run-tests`` as the job parameter ``test_run``) moves everything the
run writes under names of its own: the storage root ``<root>/_test_runs/<id>``, the landing zone
``<landing>/_test_runs/<id>``, the schemas ``<pipeline>_<layer>_<id>`` and the Kafka topics ``<topic>_<id>``.
The counts it checks are then exactly those of the data sets it produced, however often it runs, and the run
removes all of it afterwards, passed or failed.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import replace
from pathlib import Path

from medallion.declare.pipeline import get_pipeline
from medallion.declare.tables import KafkaSource, Layer
from medallion.errors import ConfigError
from medallion.platform import layout
from medallion.platform.config import Settings
from medallion.platform.runtime import Runtime
from medallion.sources import kafka

RUN_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # safe in a path and in a schema name

log = logging.getLogger(__name__)


def isolated_settings(settings: Settings, run_id: str) -> Settings:
    """``settings`` with the storage root, landing zone and schemas of run ``run_id``."""
    if not RUN_ID.match(run_id):
        raise ConfigError(f"test run id {run_id!r}: use 1-40 lower-case letters, digits or _, starting with a letter.")
    return replace(
        settings,
        root=layout.isolated_root(settings.root, run_id),
        landing=layout.isolated_root(settings.landing, run_id),
        schema_suffix=f"{settings.schema_suffix}_{run_id}",
    )


def clean_up(runtime: Runtime, pipeline_names: list[str]) -> list[str]:
    """Drop the run's schemas and delete its storage root and landing zone; returns what was removed.
    Only an isolated run (one with a schema suffix) is ever cleaned: shared data is never touched."""
    settings = runtime.settings
    if not settings.schema_suffix or f"/{layout.TEST_RUNS}/" not in settings.root + "/":
        raise ConfigError("clean_up removes only the data of an isolated test run.")
    removed = []
    for pipeline in pipeline_names:
        for layer in Layer:
            schema = runtime.database(pipeline, layer)
            runtime.spark.sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            removed.append(schema)
    for location in (settings.root, settings.landing):
        _delete_tree(runtime, location)
        removed.append(location)
    try:
        removed += _delete_topics(runtime, pipeline_names)
    except Exception as err:  # the run's result stands; its topics are named so they can be removed by hand
        log.warning(
            "the test run's Kafka topics were not deleted (%s): remove the topics ending in %s by hand",
            type(err).__name__,
            runtime.settings.schema_suffix,
        )
    log.info("test run data removed: %s", ", ".join(removed))
    return removed


def _delete_topics(runtime: Runtime, pipeline_names: list[str]) -> list[str]:
    """The run's own Kafka topics (its producer made them, named with its suffix: sources.kafka)."""
    settings = runtime.settings
    if settings.kafka is None:
        return []
    topics = sorted(
        {
            kafka.topic_name(read, settings.pipeline(name), settings.schema_suffix)
            for name in pipeline_names
            for table in get_pipeline(name).ordered()
            for read in table.inputs.values()
            if isinstance(read, KafkaSource)
        }
    )
    if not topics:
        return []
    endpoint = settings.kafka
    connection_string = (
        runtime.secrets.get(endpoint.connection_string_secret).reveal() if endpoint.security == "eventhubs" else None
    )
    deleted = kafka.delete_topics(kafka.producer_config(endpoint, connection_string), topics)
    return [f"topic {topic}" for topic in deleted]


def _delete_tree(runtime: Runtime, location: str) -> None:
    if runtime.settings.is_databricks:
        runtime.dbutils.fs.rm(location, True)  # abfss:// or /Volumes/: the cluster's file system API
    else:
        shutil.rmtree(Path(location), ignore_errors=True)
