"""The operational ``user_purchase`` table: created and loaded from a CSV in the UCI Online Retail layout.

This plays the application (the original's Airflow DAG 1): it puts purchase rows into the relational
database, which the pipeline then copies incrementally over JDBC like any operational table.

The table has the spec's columns plus three of our own: ``purchase_id`` (an identity: the JDBC copy's
change column, so each run copies only rows added since the last one), and ``source_file`` /
``source_line`` (unique together: where the row came from). Loading is idempotent: a row whose file and
line are already in the table is skipped, so loading the same file again adds nothing, and a longer
version of a file adds only its new lines. Everything is one transaction.

CSV rows: InvoiceNo, StockCode, Description, Quantity, InvoiceDate (``M/d/yyyy H:mm``, or
``yyyy-MM-dd HH:mm[:ss]``), UnitPrice, CustomerID (empty for guests; ``17850.0`` is read as 17850),
Country. A row that cannot be read stops the load with its file and line, before anything is written.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Sequence

from medallion.sources.databases import SqlClient
from medallion.errors import MedallionError

TABLE = "user_purchase"
COLUMNS = ("invoice_number", "stock_code", "detail", "quantity", "invoice_date", "unit_price", "customer_id",
           "country", "source_file", "source_line")
CSV_HEADER = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
DATE_FORMATS = ("%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
BATCH_ROWS = 5_000

_CREATE = {
    "postgresql": f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        purchase_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        invoice_number VARCHAR(10), stock_code VARCHAR(20), detail VARCHAR(1000), quantity INT,
        invoice_date TIMESTAMP, unit_price NUMERIC(8,3), customer_id INT, country VARCHAR(20),
        source_file VARCHAR(200) NOT NULL, source_line INT NOT NULL,
        CONSTRAINT user_purchase_source UNIQUE (source_file, source_line))""",
    "sqlserver": f"""IF OBJECT_ID('{TABLE}') IS NULL CREATE TABLE {TABLE} (
        purchase_id BIGINT IDENTITY(1,1) PRIMARY KEY,
        invoice_number NVARCHAR(10), stock_code NVARCHAR(20), detail NVARCHAR(1000), quantity INT,
        invoice_date DATETIME2, unit_price DECIMAL(8,3), customer_id INT, country NVARCHAR(20),
        source_file NVARCHAR(200) NOT NULL, source_line INT NOT NULL,
        CONSTRAINT user_purchase_source UNIQUE (source_file, source_line))""",
}
_VALUE_TYPES = {  # the CAST of each bound value: parameters travel as text and take the column's type
    "postgresql": ("VARCHAR(10)", "VARCHAR(20)", "VARCHAR(1000)", "INT", "TIMESTAMP", "NUMERIC(8,3)", "INT",
                   "VARCHAR(20)", "VARCHAR(200)", "INT"),
    "sqlserver": ("NVARCHAR(10)", "NVARCHAR(20)", "NVARCHAR(1000)", "INT", "DATETIME2", "DECIMAL(8,3)", "INT",
                  "NVARCHAR(20)", "NVARCHAR(200)", "INT"),
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
        return (invoice, stock, description or None, int(quantity), _timestamp(invoice_date),
                str(Decimal(price)), int(Decimal(customer)) if customer else None, country or None,
                file_name, line)
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
    sql.execute(_CREATE[_dialect(sql)])


def load(sql: SqlClient, text: str, file_name: str) -> LoadResult:
    """Create the table if needed and add the file's rows that are not there yet."""
    rows = read_rows(text, file_name)
    create_table(sql)
    casts = ", ".join(f"CAST(? AS {kind})" for kind in _VALUE_TYPES[_dialect(sql)])
    insert = (f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) SELECT {casts} "
              f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} WHERE source_file = ? AND source_line = ?)")
    added = 0
    for start in range(0, len(rows), BATCH_ROWS):
        batch = rows[start:start + BATCH_ROWS]
        added += sql.execute_many(insert, [(*row, row[-2], row[-1]) for row in batch])
    return LoadResult(file_name, len(rows), added)


def _dialect(sql: SqlClient) -> str:
    if sql.dialect.name not in _CREATE:
        raise MedallionError(f"The user_purchase loader supports {', '.join(_CREATE)}, not {sql.dialect.name}.")
    return sql.dialect.name
