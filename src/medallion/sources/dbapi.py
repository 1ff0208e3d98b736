"""Python DB-API connections to the operational databases, opened from the same JDBC URL Spark reads.

One URL per database stays the single setting (``databases.<name>.url``): Spark's JDBC source reads bulk
rows with it, and this module turns it into the arguments of a Python driver for the few statements a
setup hook or a test runs. No JVM is involved, so it works the same on a classic session, over Spark
Connect and on Databricks' shared and serverless compute (where the driver's JVM is not reachable).

- ``jdbc:postgresql://host[:port]/database[?sslmode=...]`` → psycopg 3 (pinned in requirements.txt);
- ``jdbc:sqlserver://host[:port];database=...;encrypt=...`` → pymssql, imported only when such a URL
  is opened (Azure SQL; not needed locally or in CI).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from medallion.errors import SourceError

CONNECT_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class DriverArguments:
    """Which Python driver opens the URL, and its keyword arguments (without user and password)."""

    driver: str
    arguments: Mapping[str, Any]
    paramstyle: str  # how the driver spells a parameter: "format" (%s) or "qmark" (?)


def driver_arguments(url: str) -> DriverArguments:
    if url.startswith("jdbc:postgresql:"):
        return _postgresql(url)
    if url.startswith("jdbc:sqlserver:"):
        return _sqlserver(url)
    raise SourceError("Unsupported JDBC URL scheme: use jdbc:postgresql: or jdbc:sqlserver:.")


def _postgresql(url: str) -> DriverArguments:
    parts = urlsplit(url.removeprefix("jdbc:"))
    properties = {k.lower(): v for k, v in parse_qsl(parts.query)}
    arguments: dict[str, Any] = {
        "host": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "dbname": parts.path.lstrip("/") or "postgres",
        "connect_timeout": int(
            properties.get("connecttimeout") or properties.get("logintimeout") or CONNECT_TIMEOUT_SECONDS
        ),
    }
    if "sslmode" in properties:
        arguments["sslmode"] = properties["sslmode"]
    elif properties.get("ssl", "").lower() == "true":
        arguments["sslmode"] = "verify-full"  # pgJDBC's ssl=true verifies the certificate and host name
    return DriverArguments("psycopg", arguments, "format")


def _sqlserver(url: str) -> DriverArguments:
    address, _, rest = url.removeprefix("jdbc:sqlserver://").partition(";")
    properties = {k.strip().lower(): v.strip() for k, _, v in (p.partition("=") for p in rest.split(";") if p)}
    host, _, port = address.partition(":")
    host = host.split("\\", 1)[0]  # a named instance resolves through its port here
    arguments: dict[str, Any] = {
        "server": host,
        "port": port or "1433",
        "database": properties.get("database") or properties.get("databasename") or "master",
        "login_timeout": int(properties.get("logintimeout") or CONNECT_TIMEOUT_SECONDS),
    }
    if properties.get("encrypt", "true").lower() in ("true", "strict", "mandatory"):
        arguments["encryption"] = "require"  # Azure SQL refuses clear text
    return DriverArguments("pymssql", arguments, "format")


def open_connection(url: str, user: str, password: str, autocommit: bool):
    """A DB-API connection; the driver's own exception propagates (explained by the caller)."""
    target = driver_arguments(url)
    if target.driver == "psycopg":
        import psycopg

        return psycopg.connect(user=user, password=password, autocommit=autocommit, **target.arguments)
    try:
        import pymssql
    except ImportError:
        raise SourceError(
            "A jdbc:sqlserver: database needs the pymssql package: pip install pymssql "
            "(on Databricks, add it to the job's libraries)."
        ) from None
    connection = pymssql.connect(user=user, password=password, autocommit=autocommit, **target.arguments)
    return connection


# String literals, quoted names, comments and PostgreSQL's dollar-quoted bodies are passed over whole.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\$\$.*?\$\$|\?|%", re.S)


def format_placeholders(sql: str) -> str:
    """``?`` parameters as ``%s`` (and a literal ``%`` doubled), leaving string literals, quoted names,
    comments and dollar-quoted bodies alone: the one spelling of :class:`~medallion.sources.databases.SqlClient`, for drivers of the
    ``format`` style."""

    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return token.replace("%", "%%")  # the driver reads every % of the text, literals included

    return _TOKENS.sub(replace, sql)
