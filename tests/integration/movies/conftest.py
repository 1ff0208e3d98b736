"""A lakehouse and an operational database on the project's PostgreSQL server, shared by one test module."""

from __future__ import annotations

import os
import uuid

import pytest

from medallion.platform.config import DatabaseSettings, load_settings
from medallion.platform.runtime import Runtime
from medallion.platform.secrets import Secret
from medallion.sources import databases
from tests.support import postgres


def database_settings(url: str) -> DatabaseSettings:
    return DatabaseSettings(
        name="operational",
        url=url,
        user="medallion",
        password_secret=postgres.PASSWORD_SECRET,
        driver="org.postgresql.Driver",
    )


@pytest.fixture(scope="module")
def movies_database(postgres_server, spark):
    """A fresh database for the module (dropped afterwards): its JDBC URL."""
    password = Secret(postgres.PASSWORD_SECRET, os.environ[postgres.PASSWORD_ENV_VAR])
    admin = database_settings(postgres.url())
    name = f"test_movies_{uuid.uuid4().hex[:10]}"
    with databases.connect(spark, admin, password, autocommit=True) as sql:
        sql.execute(f"CREATE DATABASE {name}")
    yield postgres.url(name)
    with databases.connect(spark, admin, password, autocommit=True) as sql:
        sql.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def movies_runtime_factory(spark, tmp_path_factory, movies_database):
    """``factory(**movies_settings)`` → (Runtime, settings overrides): a new lakehouse whose operational
    database is the module's, with the movies settings overridden."""

    def make(**movies_settings) -> tuple[Runtime, dict]:
        root = tmp_path_factory.mktemp("movies-lakehouse")
        overrides = {
            "secrets": {"provider": "env"},
            "databases": {"operational": {"url": movies_database}},
            "pipelines": {"movies": movies_settings},
        }
        return Runtime(load_settings("local", root=str(root), overrides=overrides), spark=spark), overrides

    return make
