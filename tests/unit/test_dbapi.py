"""Python database drivers from the JDBC URL, and database errors explained from their text: no server."""

from __future__ import annotations

import pytest

from medallion.errors import SourceError
from medallion.platform.config import DatabaseSettings
from medallion.sources import databases, dbapi

DATABASE = DatabaseSettings(
    "operational",
    "jdbc:postgresql://127.0.0.1:54333/medallion",
    "medallion",
    "operational-db-password",
    "org.postgresql.Driver",
)


def test_a_postgresql_url_opens_with_psycopg():
    target = dbapi.driver_arguments("jdbc:postgresql://db.example:6543/abtest?sslmode=require&connectTimeout=5")
    assert (target.driver, dict(target.arguments), target.paramstyle) == (
        "psycopg",
        {"host": "db.example", "port": 6543, "dbname": "abtest", "connect_timeout": 5, "sslmode": "require"},
        "format",
    )
    assert dict(dbapi.driver_arguments("jdbc:postgresql://127.0.0.1/x?ssl=true").arguments) == {
        "host": "127.0.0.1",
        "port": 5432,
        "dbname": "x",
        "connect_timeout": 15,
        "sslmode": "verify-full",
    }


def test_an_azure_sql_url_opens_with_pymssql_encrypted():
    url = (
        "jdbc:sqlserver://medallion-dev-sql.database.windows.net:1433;database=abtest;encrypt=true;"
        "trustServerCertificate=false;hostNameInCertificate=*.database.windows.net;loginTimeout=30"
    )
    target = dbapi.driver_arguments(url)
    assert (target.driver, dict(target.arguments)) == (
        "pymssql",
        {
            "server": "medallion-dev-sql.database.windows.net",
            "port": "1433",
            "database": "abtest",
            "login_timeout": 30,
            "encryption": "require",
        },
    )


def test_an_unknown_url_scheme_is_refused():
    with pytest.raises(SourceError, match="Unsupported JDBC URL scheme"):
        dbapi.driver_arguments("jdbc:mysql://x/y")


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("INSERT INTO t VALUES (?, ?)", "INSERT INTO t VALUES (%s, %s)"),
        (
            "SELECT '?', 'a%b' FROM t WHERE x LIKE 'p%' AND y = ?",
            "SELECT '?', 'a%%b' FROM t WHERE x LIKE 'p%%' AND y = %s",
        ),
        ('SELECT "we?ird" -- a ?\nFROM t WHERE a = ? /* ? */', 'SELECT "we?ird" -- a ?\nFROM t WHERE a = %s /* ? */'),
        ("SELECT 'it''s ?' , ? % 2", "SELECT 'it''s ?' , %s %% 2"),
    ],
)
def test_question_marks_become_format_placeholders_outside_literals(sql, expected):
    assert dbapi.format_placeholders(sql) == expected


class DriverError(Exception):
    def __init__(self, message, sqlstate=None):
        super().__init__(message)
        self.sqlstate = sqlstate


SPARK_TEXT = (
    "An error occurred while calling o812.load.\n: org.postgresql.util.PSQLException: {}\n"
    "\tat org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:346)"
)
CONNECT_TEXT = "(org.postgresql.util.PSQLException) {}"


@pytest.mark.parametrize(
    "error, expected",
    [
        (
            DriverError(
                'connection failed: connection to server at "127.0.0.1", port 54333 failed: Connection refused'
            ),
            "is unreachable",
        ),
        (
            Exception(
                SPARK_TEXT.format("Connection to 127.0.0.1:54333 refused. Check that the hostname and port are correct")
            ),
            "is unreachable",
        ),
        (
            Exception(CONNECT_TEXT.format("Connection to 127.0.0.1:54333 refused. Check that the hostname and port")),
            "is unreachable",
        ),
        (DriverError('FATAL: password authentication failed for user "medallion"', "28P01"), "refused the login"),
        (
            Exception(SPARK_TEXT.format('ERROR: relation "no_such_orders" does not exist\n  Position: 42')),
            "table orders does not exist in the database 'operational'",
        ),
        (DriverError('connection failed: FATAL:  database "gone" does not exist'), "does not exist: create it"),
    ],
)
def test_driver_and_spark_failures_are_explained_from_their_state_or_text(error, expected):
    explained = databases.explain(error, DATABASE, "table orders")
    assert explained is not None and expected in str(explained)


def test_a_spark_failure_is_summed_up_by_the_drivers_own_line():
    error = Exception(SPARK_TEXT.format('ERROR: column "amount" does not exist\n  Position: 8'))
    assert databases.first_line(error) == 'ERROR: column "amount" does not exist'
    assert "42703" in databases.sql_states(error)
    assert (
        databases.first_line(Exception(CONNECT_TEXT.format("Connection to h:1 refused.")))
        == "Connection to h:1 refused"
    )


def test_other_failures_are_left_alone():
    assert databases.explain(ValueError("division by zero"), DATABASE, "table orders") is None
