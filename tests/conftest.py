"""One SparkSession for the whole test run (few shuffle partitions, UI off), and fresh lakehouses."""

from __future__ import annotations

import os

import pytest

from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime, local_spark_session

TEST_PII_KEY = "test-only-tokenisation-key"


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    os.environ.setdefault("MEDALLION_SECRET_PII_TOKEN_KEY", TEST_PII_KEY)
    settings = load_settings(
        "local", root=str(tmp_path_factory.mktemp("spark-root")), overrides={"spark": {"shuffle_partitions": 2}}
    )
    session = local_spark_session(settings)
    yield session
    session.stop()


@pytest.fixture
def make_runtime(spark, tmp_path_factory):
    """``make_runtime(**overrides)`` → a Runtime on a new empty storage root sharing the session."""

    def make(**overrides) -> Runtime:
        root = tmp_path_factory.mktemp("lakehouse")
        overrides = {"secrets": {"provider": "env"}, "streaming": {"trigger_interval": "1 second"}, **overrides}
        return Runtime(load_settings("local", root=str(root), overrides=overrides), spark=spark)

    return make
