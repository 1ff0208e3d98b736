"""Relational sources: connection options, a small SQL client, and errors a person can act on.

One JDBC URL per database (``databases.<name>.url``) reaches PostgreSQL locally and in CI and Azure SQL
in production. Bulk reads go through Spark's JDBC data source (``medallion.sources.jdbc``, options from
:func:`spark_options`); :class:`SqlClient` is for the few statements a setup hook or a test runs (DDL,
seed rows, updates) and goes through a Python DB-API driver (:mod:`medallion.sources.dbapi`), never the
driver JVM, so it also runs over Spark Connect and on shared or serverless Databricks compute.

The password is read from the secret store at the last moment and handed only to the driver: it never
enters a log line, an error message, a table or a query plan's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from medallion.errors import ConfigError, SourceError
from medallion.platform.config import DatabaseSettings
from medallion.sources import dbapi

# SQLSTATE classes and codes (ISO/ANSI, and the drivers' own) → what happened.
UNREACHABLE_STATES = ("08",)  # connection exception: refused, reset, timed out
SHUTDOWN_STATES = ("57P01", "57P02", "57P03")  # PostgreSQL: admin shutdown, crash shutdown, cannot connect now
AUTH_STATES = ("28",)  # invalid authorization
MISSING_TABLE_STATES = ("42P01", "42S02", "S0002")  # undefined table: PostgreSQL, ANSI, SQL Server
MISSING_DATABASE_STATES = ("3D000",)
UNREACHABLE_WORDS = (
    "connection refused",
    "connect timed out",
    "i/o error",
    "connection reset",
    "terminating connection",
    "the connection attempt failed",
    "broken pipe",
)


@dataclass(frozen=True)
class Dialect:
    """The few spellings that differ between the operational databases we support."""

    name: str
    timestamp_type: str
    text_type: str


POSTGRESQL = Dialect("postgresql", timestamp_type="TIMESTAMP", text_type="VARCHAR")
# DATETIME2(6): microseconds, Spark's precision (DATETIME2 alone keeps 100 ns, which a copy cannot carry)
SQLSERVER = Dialect("sqlserver", timestamp_type="DATETIME2(6)", text_type="NVARCHAR")


def dialect_of(url: str) -> Dialect:
    if url.startswith("jdbc:postgresql:"):
        return POSTGRESQL
    if url.startswith("jdbc:sqlserver:"):
        return SQLSERVER
    raise SourceError(f"Unsupported JDBC URL scheme in {redact_url(url)}: use jdbc:postgresql: or jdbc:sqlserver:.")


# A credential a user may have put in a JDBC URL: a property (SQL Server's ``;password=…``, PostgreSQL's
# ``?password=…&``, whatever the case), or the user information of ``//user:password@host``.
_URL_CREDENTIALS = re.compile(
    r"(?P<key>[;?&](?:password|pwd|accesstoken|access_token|sslpassword|clientsecret)=)[^;&]*", re.IGNORECASE
)
_URL_USER_INFO = re.compile(r"(?P<key>//[^/@:;?]*:)[^/@]*(?=@)")


def redact_url(url: str) -> str:
    """The URL without the credentials a user may have put in it (passwords, tokens, client secrets)."""
    return _URL_USER_INFO.sub(r"\g<key>***", _URL_CREDENTIALS.sub(r"\g<key>***", url))


def spark_options(database: DatabaseSettings, password) -> dict[str, str]:
    """Options of Spark's JDBC source. Timestamps are read as wall-clock values (``TIMESTAMP_NTZ``) so the
    JVM's time zone can never shift them; the readers cast them to the declared type in the session zone."""
    return {
        "url": database.url,
        "user": database.user,
        "password": password.reveal(),
        "driver": database.driver,
        "preferTimestampNTZ": "true",
    }


# ---------------------------------------------------------------------------------------------- errors
def explain(error: BaseException, database: DatabaseSettings, what: str) -> SourceError | None:
    """A clear :class:`SourceError` for a database failure (unreachable, auth, missing table or database),
    from a Python driver or from Spark's JDBC source, or None when the failure is something else. ``what``
    names the object being read, for the message."""
    states, text = sql_states(error), _text(error).lower()
    where = f"database '{database.name}' ({redact_url(database.url or '')})"
    if (
        _matches(states, SHUTDOWN_STATES)
        or _matches(states, UNREACHABLE_STATES)
        or any(w in text for w in UNREACHABLE_WORDS)
    ):
        return SourceError(
            f"The {where} is unreachable (reading {what}): {first_line(error)}. Nothing was written. "
            "Start the server (locally: scripts/postgres.sh start) or check the network/firewall, then run again."
        )
    if _matches(states, AUTH_STATES) or "password authentication failed" in text or "login failed" in text:
        return SourceError(
            f"The {where} refused the login of user '{database.user}'. Nothing was written. Check the secret "
            f"'{database.password_secret}' in the secret store (locally: scripts/postgres.sh start re-applies it)."
        )
    if _matches(states, MISSING_DATABASE_STATES):
        return SourceError(f"The {where} does not exist: create it (locally: scripts/postgres.sh start).")
    if _matches(states, MISSING_TABLE_STATES) or "invalid object name" in text:
        return SourceError(
            f"{what} does not exist in the {where}. Nothing was written. Create it (`medallion setup <pipeline>`) "
            "or fix the table name in the declaration."
        )
    return None


def _matches(states: list[str], prefixes: Sequence[str]) -> bool:
    return any(state.startswith(prefix) for state in states for prefix in prefixes)


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """The error and the Python errors it was raised from (a driver error wrapped by ours, say)."""
    seen: list[BaseException] = []
    while error is not None and error not in seen and len(seen) < 20:
        seen.append(error)
        yield error
        error = error.__cause__ or error.__context__


# The drivers' own words for what their SQLSTATE would say. A failure inside Spark's JDBC source reaches
# Python as text only (over Spark Connect always), so the state is recovered from the message.
_STATES_IN_TEXT = (
    (re.compile(r'column "[^"]*" does not exist|invalid column name', re.I), "42703"),
    (re.compile(r'relation "[^"]*" does not exist', re.I), "42P01"),
    (re.compile(r'database "[^"]*" does not exist|cannot open database', re.I), "3D000"),
    (re.compile(r"password authentication failed|login failed for user", re.I), "28P01"),
    (
        re.compile(
            r"connection refused|connection to \S+ refused|connect timed out|the connection attempt failed", re.I
        ),
        "08001",
    ),
)


def sql_states(error: BaseException) -> list[str]:
    """SQLSTATEs of a failure: the Python driver's own (psycopg's ``sqlstate``), then those its message
    implies (for errors that arrive as text, such as Spark's)."""
    states = [str(getattr(e, "sqlstate")) for e in _chain(error) if getattr(e, "sqlstate", None)]
    text = _text(error)
    states += [state for pattern, state in _STATES_IN_TEXT if pattern.search(text) and state not in states]
    return states


def _text(error: BaseException) -> str:
    return " ".join(str(e) for e in _chain(error)) or type(error).__name__


# "…PSQLException: reason" in classic PySpark's text, "(org.postgresql.util.PSQLException) reason" over Connect.
_DRIVER_MESSAGE = re.compile(r"(?:PSQLException|SQLServerException|SQLException)\)?:?\s*(.+)")


def first_line(error: BaseException) -> str:
    """The driver's own one-line reason: the line of a JVM driver exception in Spark's text, else the
    first line of the error."""
    for line in str(error).splitlines():
        found = _DRIVER_MESSAGE.search(line)
        if found:
            return found.group(1).strip()[:200].rstrip(".")
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200].rstrip(".")


# ------------------------------------------------------------------------------------------ SQL client
class SqlClient:
    """One connection of a Python DB-API driver, in one transaction (committed by :func:`connect` on
    success). Statements use ``?`` parameters, whatever the driver's own spelling."""

    def __init__(self, connection, dialect: Dialect, paramstyle: str = "format"):
        self._connection = connection
        self.dialect = dialect
        self._paramstyle = paramstyle

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one statement with ``?`` parameters; returns the number of rows changed (0 for DDL)."""
        with self._connection.cursor() as cursor:
            cursor.execute(*self._statement(sql, parameters))
            return max(cursor.rowcount, 0)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run one statement for each parameter row; returns the rows changed by all of them."""
        rows = [tuple(row) for row in rows]
        if not rows:
            return 0
        changed = 0
        with self._connection.cursor() as cursor:
            statement = self._statement(sql, rows[0])[0]
            for parameters in rows:  # row by row: every driver reports each statement's own row count
                cursor.execute(statement, parameters)
                changed += max(cursor.rowcount, 0)
        return changed

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple]:
        with self._connection.cursor() as cursor:
            cursor.execute(*self._statement(sql, parameters))
            return [tuple(_python_value(value) for value in row) for row in cursor.fetchall()]

    def table_exists(self, table: str) -> bool:
        found = self.query(
            "SELECT COUNT(*) FROM information_schema.tables WHERE LOWER(table_name) = LOWER(?)", (table,)
        )
        return found[0][0] > 0

    def _statement(self, sql: str, parameters: Sequence[Any]) -> tuple:
        """The statement as the driver takes it: without parameters, its text untouched (no placeholder
        parsing, so a literal ``%`` or ``?`` stays as written)."""
        if not parameters:
            return (sql,)
        text = dbapi.format_placeholders(sql) if self._paramstyle == "format" else sql
        return text, tuple(parameters)


@contextmanager
def connect(spark, database: DatabaseSettings, password, autocommit: bool = False) -> Iterator[SqlClient]:
    """A :class:`SqlClient` on ``database``; commits when the block ends normally, rolls back otherwise
    (``autocommit`` for statements that cannot run in a transaction, such as CREATE DATABASE).

    ``spark`` is not used (the client needs no session); it stays in the signature so callers written
    for the JVM client keep working."""
    url = database.url
    if url is None:
        raise ConfigError(f"databases.{database.name}.url is not set in conf/<env>.yml.")
    dialect = dialect_of(url)
    try:
        connection = dbapi.open_connection(url, database.user, password.reveal(), autocommit)
    except SourceError:
        raise
    except Exception as err:
        raise explain(err, database, "a new connection") or SourceError(
            f"Cannot connect to database '{database.name}' ({redact_url(url)}): {first_line(err)}"
        ) from None
    try:
        yield SqlClient(connection, dialect, dbapi.driver_arguments(url).paramstyle)
        if not autocommit:
            connection.commit()
    except BaseException:
        if not autocommit:
            connection.rollback()
        raise
    finally:
        connection.close()


def _python_value(value: Any) -> Any:
    """Plain Python values: exact decimals as ``float`` (as the JDBC client gave them), the rest as read."""
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool, datetime, date)):
        return value
    return str(value)
