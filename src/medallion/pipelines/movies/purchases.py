"""The operational ``user_purchase`` table: created and loaded from a CSV in the UCI Online Retail layout.

This plays the application (the original's Airflow DAG 1): it puts purchase rows into the relational
database, which the pipeline then copies incrementally over JDBC like any operational table.

The table has the spec's columns plus four of our own: ``purchase_id`` (an identity, the row's key),
``updated_at`` (the JDBC copy's change column: set on insert and, by a trigger, on every update) and
``source_file`` / ``source_line`` (unique together: where the row came from). A second trigger records
each deleted row's ``purchase_id`` in ``user_purchase_deleted`` with the time of the delete, so the copy
sees updates (quantity 1 → 11) and deletes, not only new rows. Change tracking is created with the table
and added to a table created before it. Loading is idempotent: a row whose file and
line are already in the table is skipped, so loading the same file again adds nothing, and a longer
version of a file adds only its new lines. Everything is one transaction.

CSV rows: InvoiceNo, StockCode, Description, Quantity, InvoiceDate (``M/d/yyyy H:mm``, or
``yyyy-MM-dd HH:mm[:ss]``), UnitPrice, CustomerID (empty for guests; ``17850.0`` is read as 17850),
Country. A row that cannot be read stops the load with its file and line, before anything is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from medallion.errors import MedallionError
from medallion.sources.databases import SqlClient

TABLE = "user_purchase"
DELETES_TABLE = "user_purchase_deleted"
COLUMNS = (
    "invoice_number",
    "stock_code",
    "detail",
    "quantity",
    "invoice_date",
    "unit_price",
    "customer_id",
    "country",
    "source_file",
    "source_line",
)
CSV_HEADER = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
DATE_FORMATS = ("%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
BATCH_ROWS = 5_000

_CREATE = {
    "postgresql": f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        purchase_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        invoice_number VARCHAR(10), stock_code VARCHAR(20), detail VARCHAR(1000), quantity INT,
        invoice_date TIMESTAMP, unit_price NUMERIC(8,3), customer_id INT, country VARCHAR(20),
        source_file VARCHAR(200) NOT NULL, source_line INT NOT NULL,
        updated_at TIMESTAMP NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT user_purchase_source UNIQUE (source_file, source_line))""",
    "sqlserver": f"""IF OBJECT_ID('{TABLE}') IS NULL CREATE TABLE {TABLE} (
        purchase_id BIGINT IDENTITY(1,1) PRIMARY KEY,
        invoice_number NVARCHAR(10), stock_code NVARCHAR(20), detail NVARCHAR(1000), quantity INT,
        invoice_date DATETIME2(6), unit_price DECIMAL(8,3), customer_id INT, country NVARCHAR(20),
        source_file NVARCHAR(200) NOT NULL, source_line INT NOT NULL,
        updated_at DATETIME2(6) NOT NULL DEFAULT SYSDATETIME(),
        CONSTRAINT user_purchase_source UNIQUE (source_file, source_line))""",
}
# SQL Server has no BEFORE trigger: AFTER UPDATE stamps the changed rows (found through the trigger's
# `inserted` rows) with the statement's time, whatever updated_at the statement set, as PostgreSQL's trigger
# does; the nest-level guard stops the stamp from firing the trigger again where RECURSIVE_TRIGGERS is on.
# DATETIME2(6): microseconds, as Spark reads them, so a copied updated_at equals the database's and the
# copy's high-water mark compares exactly.
SQLSERVER_STAMP_UPDATES = (
    f"UPDATE p SET updated_at = SYSDATETIME() FROM {TABLE} AS p JOIN inserted AS i ON p.purchase_id = i.purchase_id"
)
SQLSERVER_RECORD_DELETES = (
    f"INSERT INTO {DELETES_TABLE} (purchase_id, updated_at) SELECT purchase_id, SYSDATETIME() FROM deleted"
)


def sqlserver_trigger(name: str, event: str, statement: str) -> str:
    """An idempotent ``CREATE OR ALTER TRIGGER`` running ``statement`` once after each ``event`` statement."""
    return (
        f"CREATE OR ALTER TRIGGER {name} ON {TABLE} AFTER {event} AS\n"
        "BEGIN\n"
        "  SET NOCOUNT ON;\n"
        "  IF TRIGGER_NESTLEVEL(@@PROCID) > 1 RETURN;\n"
        f"  {statement};\n"
        "END"
    )


# Change tracking: updated_at moves on every update; a delete leaves its key and time in DELETES_TABLE.
# clock_timestamp(), not now(): the time of the statement, not of the transaction's start.
_CHANGE_TRACKING = {
    "postgresql": (
        f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP NOT NULL DEFAULT clock_timestamp()",
        f"CREATE TABLE IF NOT EXISTS {DELETES_TABLE} (purchase_id BIGINT NOT NULL, "
        "updated_at TIMESTAMP NOT NULL DEFAULT clock_timestamp())",
        f"""CREATE OR REPLACE FUNCTION {TABLE}_changed() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            INSERT INTO {DELETES_TABLE} (purchase_id, updated_at) VALUES (OLD.purchase_id, clock_timestamp());
            RETURN OLD;
          END IF;
          NEW.updated_at := clock_timestamp();
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {TABLE}_changed ON {TABLE}",
        f"CREATE TRIGGER {TABLE}_changed BEFORE UPDATE OR DELETE ON {TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_changed()",
    ),
    "sqlserver": (
        f"IF COL_LENGTH('{TABLE}', 'updated_at') IS NULL ALTER TABLE {TABLE} ADD updated_at DATETIME2(6) NOT NULL "
        f"CONSTRAINT {TABLE}_updated_at DEFAULT SYSDATETIME()",
        f"IF OBJECT_ID('{DELETES_TABLE}') IS NULL CREATE TABLE {DELETES_TABLE} (purchase_id BIGINT NOT NULL, "
        "updated_at DATETIME2(6) NOT NULL DEFAULT SYSDATETIME())",
        sqlserver_trigger(f"{TABLE}_updated", "UPDATE", SQLSERVER_STAMP_UPDATES),
        sqlserver_trigger(f"{TABLE}_deleted", "DELETE", SQLSERVER_RECORD_DELETES),
    ),
}
_VALUE_TYPES = {  # the CAST of each bound value: parameters travel as text and take the column's type
    "postgresql": (
        "VARCHAR(10)",
        "VARCHAR(20)",
        "VARCHAR(1000)",
        "INT",
        "TIMESTAMP",
        "NUMERIC(8,3)",
        "INT",
        "VARCHAR(20)",
        "VARCHAR(200)",
        "INT",
    ),
    "sqlserver": (
        "NVARCHAR(10)",
        "NVARCHAR(20)",
        "NVARCHAR(1000)",
        "INT",
        "DATETIME2(6)",
        "DECIMAL(8,3)",
        "INT",
        "NVARCHAR(20)",
        "NVARCHAR(200)",
        "INT",
    ),
}


@dataclass(frozen=True)
class LoadResult:
    file: str
    rows_in_file: int
    rows_added: int


def read_rows(text: str, file_name: str) -> list[tuple]:
    """The CSV's rows as values of ``COLUMNS`` (text for dates and prices, so no driver converts them)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lstrip("\ufeff") for h in header] != list(CSV_HEADER):
        raise MedallionError(f"{file_name}: the header must be {','.join(CSV_HEADER)} (the Online Retail layout).")
    rows = []
    for fields in reader:
        line = reader.line_num
        if not fields:
            continue
        if len(fields) != len(CSV_HEADER):
            raise MedallionError(f"{file_name}: line {line} has {len(fields)} fields, not {len(CSV_HEADER)}.")
        rows.append(_row(fields, file_name, line))
    return rows


def _row(fields: Sequence[str], file_name: str, line: int) -> tuple:
    invoice, stock, description, quantity, invoice_date, price, customer, country = (f.strip() for f in fields)
    try:
        return (
            invoice,
            stock,
            description or None,
            int(quantity),
            _timestamp(invoice_date),
            str(Decimal(price)),
            int(Decimal(customer)) if customer else None,
            country or None,
            file_name,
            line,
        )
    except (ValueError, InvalidOperation) as err:
        raise MedallionError(f"{file_name}: line {line} cannot be read ({err}).") from None


def _timestamp(text: str) -> str:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            continue
    raise ValueError(f"InvoiceDate {text!r} is not M/d/yyyy H:mm")


def create_table(sql: SqlClient) -> None:
    """The table, its deletes table and the triggers that keep both (each statement idempotent)."""
    dialect = _dialect(sql)
    sql.execute(_CREATE[dialect])
    for statement in _CHANGE_TRACKING[dialect]:
        sql.execute(statement)


def load(sql: SqlClient, text: str, file_name: str) -> LoadResult:
    """Create the table if needed and add the file's rows that are not there yet."""
    rows = read_rows(text, file_name)
    create_table(sql)
    casts = ", ".join(f"CAST(? AS {kind})" for kind in _VALUE_TYPES[_dialect(sql)])
    insert = (
        f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) SELECT {casts} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} WHERE source_file = ? AND source_line = ?)"
    )
    added = 0
    for start in range(0, len(rows), BATCH_ROWS):
        batch = rows[start : start + BATCH_ROWS]
        added += sql.execute_many(insert, [(*row, row[-2], row[-1]) for row in batch])
    return LoadResult(file_name, len(rows), added)


def _dialect(sql: SqlClient) -> str:
    if sql.dialect.name not in _CREATE:
        raise MedallionError(f"The user_purchase loader supports {', '.join(_CREATE)}, not {sql.dialect.name}.")
    return sql.dialect.name
