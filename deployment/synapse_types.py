"""The column types of the Synapse views: read from the gold tables' Delta schemas, written as T-SQL.

Without a ``WITH (...)`` clause serverless SQL types every string column ``varchar(8000)``, which makes
Power BI models heavy and joins slow. The types come from the Delta log of the gold tables (read by
delta-rs, no Spark): the local lakehouse the same code wrote (``medallion run``) has the same schema as
the one in Azure. Strings get ``varchar(deployment.synapse.string_length)`` in the database's UTF-8
collation: set it to the longest value a text column may hold.
"""

from __future__ import annotations

import pyarrow as pa

from medallion.declare.tables import Layer
from medallion.errors import MedallionError
from medallion.platform import layout
from medallion.read.lakehouse import is_table

Columns = list[tuple[str, str]]  # (column, T-SQL type)


def tsql_type(arrow: pa.DataType, string_length: int) -> str:
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return f"varchar({string_length})"
    if pa.types.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    if pa.types.is_timestamp(arrow):
        return "datetime2(6)"
    simple = {
        pa.int64(): "bigint",
        pa.int32(): "int",
        pa.int16(): "smallint",
        pa.int8(): "tinyint",
        pa.float64(): "float",
        pa.float32(): "real",
        pa.bool_(): "bit",
        pa.date32(): "date",
        pa.binary(): "varbinary(max)",
        pa.large_binary(): "varbinary(max)",
    }
    if arrow in simple:
        return simple[arrow]
    return "varchar(max)"  # nested (struct, array, map): serverless returns it as JSON text


def gold_columns(root: str, gold_tables: dict[str, list[str]], string_length: int) -> dict[str, dict[str, Columns]]:
    """pipeline → table → its columns, from the Delta tables under ``root`` (``<pipeline>/gold/<table>``)."""
    from deltalake import DeltaTable

    found: dict[str, dict[str, Columns]] = {}
    missing = []
    for pipeline, tables in gold_tables.items():
        for table in tables:
            path = layout.table_path(root, pipeline, Layer.GOLD, table)
            if not is_table(path):
                missing.append(f"{pipeline}.{table}")
                continue
            schema = pa.schema(DeltaTable(path).schema().to_arrow())
            found.setdefault(pipeline, {})[table] = [(f.name, tsql_type(f.type, string_length)) for f in schema]
    if missing:
        raise MedallionError(
            f"No Delta table under {root} for {', '.join(missing)}: the view column types are read from the gold "
            "tables this code writes. Run the pipelines locally first (`medallion run <pipeline>`), or point "
            "--schemas-from at a storage root that has them."
        )
    return found
