"""A real PostgreSQL server for the tests of relational sources, started through the project's script.

The server is the project's own (``scripts/postgres.sh``, port ``$MEDALLION_PG_PORT``); each test gets a
fresh database on it, dropped afterwards, so tests never see each other's rows or a developer's data.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest

from medallion.platform.config import DatabaseSettings
from medallion.platform.secrets import Secret
from medallion.sources import databases
from tests.support import postgres


@pytest.fixture(scope="session")
def postgres_server():
    """The running server; the app password is exported for the env secret store the tests use."""
    was_running = postgres.is_running()  # first: reading the password starts the server when needed
    os.environ[postgres.PASSWORD_ENV_VAR] = postgres.app_password()
    postgres.start()
    yield postgres
    if not was_running:
        postgres.stop()


@contextmanager
def new_database(spark):
    """A new empty database on the server, dropped afterwards: its settings (name ``operational``)."""
    password = Secret(postgres.PASSWORD_SECRET, os.environ[postgres.PASSWORD_ENV_VAR])
    admin = _settings(postgres.url())
    name = f"test_{uuid.uuid4().hex[:12]}"
    with databases.connect(spark, admin, password, autocommit=True) as sql:
        sql.execute(f"CREATE DATABASE {name}")
    try:
        yield _settings(postgres.url(name))
    finally:
        postgres.start()  # a test may have stopped it
        with databases.connect(spark, admin, password, autocommit=True) as sql:
            sql.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def operational_database(postgres_server, spark):
    """A new empty database for one test."""
    with new_database(spark) as database:
        yield database


@pytest.fixture
def sql(spark, operational_database):
    """``with sql() as client:`` a SqlClient on the test's database (committed at the end of the block)."""
    password = Secret(postgres.PASSWORD_SECRET, os.environ[postgres.PASSWORD_ENV_VAR])
    return lambda: databases.connect(spark, operational_database, password)


def _settings(url: str) -> DatabaseSettings:
    return DatabaseSettings(
        name="operational",
        url=url,
        user="medallion",
        password_secret=postgres.PASSWORD_SECRET,
        driver="org.postgresql.Driver",
    )
