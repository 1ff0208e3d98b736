"""Relational sources over JDBC: connection options, a small SQL client, and errors a person can act on.

Everything goes through the JVM's JDBC drivers (the project's jars locally, the cluster's on Databricks),
so the same code reaches PostgreSQL locally and in CI and Azure SQL in production; no Python database
driver is needed. The password is read from the secret store at the last moment and handed only to the
driver: it never enters a log line, an error message, a table or a query plan's text.

:class:`SqlClient` is for the few statements a setup hook or a test runs (DDL, seed rows, updates);
bulk reads go through Spark (``medallion.sources.jdbc``).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterator, Sequence

from medallion.platform.config import DatabaseSettings
from medallion.errors import SourceError

# SQLSTATE classes and codes (ISO/ANSI, and the drivers' own) → what happened.
UNREACHABLE_STATES = ("08",)           # connection exception: refused, reset, timed out
SHUTDOWN_STATES = ("57P01", "57P02", "57P03")  # PostgreSQL: admin shutdown, crash shutdown, cannot connect now
AUTH_STATES = ("28",)                  # invalid authorization
MISSING_TABLE_STATES = ("42P01", "42S02", "S0002")  # undefined table: PostgreSQL, ANSI, SQL Server
MISSING_DATABASE_STATES = ("3D000",)
UNREACHABLE_WORDS = ("connection refused", "connect timed out", "i/o error", "connection reset",
                     "terminating connection", "the connection attempt failed", "broken pipe")


@dataclass(frozen=True)
class Dialect:
    """The few spellings that differ between the operational databases we support."""

    name: str
    timestamp_type: str
    text_type: str


POSTGRESQL = Dialect("postgresql", timestamp_type="TIMESTAMP", text_type="VARCHAR")
SQLSERVER = Dialect("sqlserver", timestamp_type="DATETIME2", text_type="NVARCHAR")


def dialect_of(url: str) -> Dialect:
    if url.startswith("jdbc:postgresql:"):
        return POSTGRESQL
    if url.startswith("jdbc:sqlserver:"):
        return SQLSERVER
    raise SourceError(f"Unsupported JDBC URL scheme in {redact_url(url)}: use jdbc:postgresql: or jdbc:sqlserver:.")


def redact_url(url: str) -> str:
    """The URL without any ``password=…`` property a user may have put in it."""
    parts = url.split(";")
    return ";".join(p if not p.lower().startswith("password=") else "password=***" for p in parts)


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
    """A clear :class:`SourceError` for a JDBC failure (unreachable, auth, missing table or database), or
    None when the failure is something else. ``what`` names the object being read, for the message."""
    states, text = sql_states(error), _text(error).lower()
    where = f"database '{database.name}' ({redact_url(database.url or '')})"
    if _matches(states, SHUTDOWN_STATES) or _matches(states, UNREACHABLE_STATES) or any(w in text for w in UNREACHABLE_WORDS):
        return SourceError(
            f"The {where} is unreachable (reading {what}): {first_line(error)}. Nothing was written. "
            "Start the server (locally: scripts/postgres.sh start) or check the network/firewall, then run again."
        )
    if _matches(states, AUTH_STATES) or "password authentication failed" in text or "login failed" in text:
        return SourceError(
            f"The {where} refused the login of user '{database.user}'. Nothing was written. Check the secret "
            f"'{database.password_secret}' in the secret store (locally: scripts/postgres.sh start re-applies it)."
        )
    if _matches(states, MISSING_TABLE_STATES) or ("relation" in text and "does not exist" in text) or "invalid object name" in text:
        return SourceError(
            f"{what} does not exist in the {where}. Nothing was written. Create it (`medallion setup <pipeline>`) "
            "or fix the table name in the declaration."
        )
    if _matches(states, MISSING_DATABASE_STATES):
        return SourceError(f"The {where} does not exist: create it (locally: scripts/postgres.sh start).")
    return None


def _matches(states: list[str], prefixes: Sequence[str]) -> bool:
    return any(state.startswith(prefix) for state in states for prefix in prefixes)


def _java_chain(error: BaseException) -> Iterator[Any]:
    java = getattr(error, "java_exception", None) or getattr(error, "_origin", None)
    seen = 0
    while java is not None and seen < 20:
        yield java
        java = java.getCause()
        seen += 1


def sql_states(error: BaseException) -> list[str]:
    states = []
    for java in _java_chain(error):
        try:
            state = java.getSQLState()
        except Exception:  # not a SQLException
            continue
        if state:
            states.append(str(state))
    return states


def _text(error: BaseException) -> str:
    return " ".join(str(java.toString()) for java in _java_chain(error)) or str(error)


def first_line(error: BaseException) -> str:
    for java in _java_chain(error):
        message = java.getMessage()
        if message and ("SQLException" in java.getClass().getName() or "PSQL" in java.getClass().getName()
                        or "Connect" in java.getClass().getName()):
            return str(message).splitlines()[0][:200].rstrip(".")
    return (str(error).splitlines() or [type(error).__name__])[0][:200].rstrip(".")


# ------------------------------------------------------------------------------------------ SQL client
class SqlClient:
    """One JDBC connection through the JVM, in one transaction (committed by :func:`connect` on success)."""

    def __init__(self, connection, jvm, dialect: Dialect):
        self._connection = connection
        self._jvm = jvm
        self.dialect = dialect

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one statement with ``?`` parameters; returns the number of rows changed."""
        statement = self._connection.prepareStatement(sql)
        try:
            self._bind(statement, parameters)
            return int(statement.executeUpdate())
        finally:
            statement.close()

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run one statement for each parameter row, sent to the server as one batch."""
        statement = self._connection.prepareStatement(sql)
        try:
            for parameters in rows:
                self._bind(statement, parameters)
                statement.addBatch()
            return sum(max(int(n), 0) for n in statement.executeBatch())
        finally:
            statement.close()

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple]:
        statement = self._connection.prepareStatement(sql)
        try:
            self._bind(statement, parameters)
            results = statement.executeQuery()
            width = results.getMetaData().getColumnCount()
            rows = []
            while results.next():
                rows.append(tuple(_python_value(results.getObject(i)) for i in range(1, width + 1)))
            return rows
        finally:
            statement.close()

    def table_exists(self, table: str) -> bool:
        metadata = self._connection.getMetaData()
        for name in {table, table.lower(), table.upper()}:
            found = metadata.getTables(None, None, name, None)
            try:
                if found.next():
                    return True
            finally:
                found.close()
        return False

    def _bind(self, statement, parameters: Sequence[Any]) -> None:
        types = self._jvm.java.sql.Types
        for index, value in enumerate(parameters, start=1):
            if value is None:
                statement.setNull(index, types.NULL)
            elif isinstance(value, datetime):
                statement.setTimestamp(index, self._jvm.java.sql.Timestamp.valueOf(value.strftime("%Y-%m-%d %H:%M:%S.%f")))
            elif isinstance(value, date):
                statement.setDate(index, self._jvm.java.sql.Date.valueOf(value.isoformat()))
            elif isinstance(value, bool):
                statement.setBoolean(index, value)
            elif isinstance(value, int):
                statement.setLong(index, value)
            elif isinstance(value, float):
                statement.setDouble(index, value)
            else:
                statement.setString(index, str(value))


@contextmanager
def connect(spark, database: DatabaseSettings, password, autocommit: bool = False) -> Iterator[SqlClient]:
    """A :class:`SqlClient` on ``database``; commits when the block ends normally, rolls back otherwise
    (``autocommit`` for statements that cannot run in a transaction, such as CREATE DATABASE)."""
    jvm = spark._jvm
    registry = jvm.org.apache.spark.sql.execution.datasources.jdbc.DriverRegistry
    properties = jvm.java.util.Properties()
    properties.setProperty("user", database.user)
    properties.setProperty("password", password.reveal())
    try:
        registry.register(database.driver)
        connection = registry.get(database.driver).connect(database.url, properties)
    except Exception as err:
        raise explain(err, database, "a new connection") or SourceError(
            f"Cannot connect to database '{database.name}' ({redact_url(database.url)}): {first_line(err)}"
        ) from None
    if connection is None:
        raise SourceError(f"Driver {database.driver} does not accept the URL {redact_url(database.url)}.")
    try:
        connection.setAutoCommit(autocommit)
        yield SqlClient(connection, jvm, dialect_of(database.url))
        if not autocommit:
            connection.commit()
    except BaseException:
        if not autocommit:
            connection.rollback()
        raise
    finally:
        connection.close()


def _python_value(value: Any) -> Any:
    """JDBC values come back as py4j objects for timestamps; give Python ``datetime`` instead."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    class_name = value.getClass().getName()
    if class_name in ("java.sql.Timestamp", "java.time.LocalDateTime"):
        return datetime.fromisoformat(str(value.toString()).replace("T", " "))
    if class_name in ("java.sql.Date", "java.time.LocalDate"):
        return date.fromisoformat(str(value.toString()))
    if class_name == "java.math.BigDecimal":
        return float(value.doubleValue())
    return str(value.toString())
