"""Reading the lakehouse without Spark: the analysts' Python API, on delta-rs (the ``deltalake`` package).

    from medallion.read.lakehouse import Lakehouse
    lake = Lakehouse.open()                          # the local lakehouse (or Lakehouse.open("qa", storage_options=…))
    lake.tables()                                    # ['fitness.gym_summary', 'fitness.workout_bpm_summary']
    lake.read("fitness.gym_summary", where="gym = 2", limit=100)   # a pyarrow.Table: .to_pylist(), .to_pandas()

No JVM starts: a notebook, a script or ``medallion show`` reads a table in well under a second. Filters
are SQL over the table (Apache DataFusion, inside ``deltalake``). For an ``abfss://`` root pass
``storage_options`` as delta-rs expects them (e.g. ``{"use_azure_cli": "true"}``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder

from medallion.errors import MedallionError, UnknownTableError
from medallion.platform import layout
from medallion.platform.config import load_settings

GOLD = "gold"


@dataclass(frozen=True)
class TableInfo:
    """What a reader wants to know before the rows: size, version, when it last changed."""

    name: str
    path: str
    version: int
    updated_at: datetime
    num_rows: int
    columns: tuple[str, ...]


def read_table(
    path: str,
    where: str | None = None,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> pa.Table:
    """Rows of the Delta table at ``path`` (latest version), optionally filtered by a SQL condition."""
    table = _open(path, storage_options)
    select = ", ".join(_quote(c) for c in columns) if columns else "*"
    sql = (
        f"SELECT {select} FROM t"
        + (f" WHERE {where}" if where else "")
        + (f" LIMIT {int(limit)}" if limit is not None else "")
    )
    return _query(table, sql)


def query(path: str, sql: str, storage_options: Mapping[str, str] | None = None) -> pa.Table:
    """Any SQL over the Delta table at ``path``, which the query names ``t``."""
    return _query(_open(path, storage_options), sql)


def count_rows(path: str, where: str | None = None, storage_options: Mapping[str, str] | None = None) -> int:
    table = _open(path, storage_options)
    result = _query(table, "SELECT COUNT(*) AS n FROM t" + (f" WHERE {where}" if where else ""))
    return int(result.column("n")[0].as_py())


def table_info(name: str, path: str, storage_options: Mapping[str, str] | None = None) -> TableInfo:
    table = _open(path, storage_options)
    last = table.history(1)[0]
    return TableInfo(
        name=name,
        path=path,
        version=table.version(),
        updated_at=datetime.fromtimestamp(last["timestamp"] / 1000, tz=timezone.utc),
        num_rows=count_rows(path, storage_options=storage_options),
        columns=tuple(field.name for field in table.schema().fields),
    )


def is_table(path: str, storage_options: Mapping[str, str] | None = None) -> bool:
    return DeltaTable.is_deltatable(path, storage_options=dict(storage_options or {}))


class Lakehouse:
    """The tables under one storage root, named ``pipeline.table`` (gold unless a layer is given)."""

    def __init__(self, root: str, storage_options: Mapping[str, str] | None = None):
        self.root = root.rstrip("/")
        self.storage_options = dict(storage_options or {})

    @classmethod
    def open(
        cls, env: str = "local", root: str | None = None, storage_options: Mapping[str, str] | None = None
    ) -> Lakehouse:
        return cls(load_settings(env, root=root).root, storage_options)

    def path(self, name: str, layer: str = GOLD) -> str:
        pipeline, table = _split(name)
        return layout.table_path(self.root, pipeline, layer, table)

    def tables(self, pipeline: str | None = None, layer: str = GOLD) -> list[str]:
        """Declared tables of ``layer`` that exist in this lakehouse (every pipeline, or one)."""
        from medallion.declare.pipeline import get_pipeline, pipeline_names
        from medallion.declare.tables import Layer

        names = [pipeline] if pipeline else pipeline_names()
        found = []
        for pipeline_name in names:
            for table in get_pipeline(pipeline_name).ordered(Layer(layer)):
                name = f"{pipeline_name}.{table.name}"
                if is_table(self.path(name, layer), self.storage_options):
                    found.append(name)
        return found

    def read(
        self,
        name: str,
        where: str | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        layer: str = GOLD,
    ) -> pa.Table:
        return read_table(self._existing(name, layer), where, columns, limit, self.storage_options)

    def count(self, name: str, where: str | None = None, layer: str = GOLD) -> int:
        return count_rows(self._existing(name, layer), where, self.storage_options)

    def info(self, name: str, layer: str = GOLD) -> TableInfo:
        return table_info(name, self._existing(name, layer), self.storage_options)

    def _existing(self, name: str, layer: str) -> str:
        path = self.path(name, layer)
        if not is_table(path, self.storage_options):
            raise UnknownTableError(f"{name} ({layer}) has not been written yet at {path}: run its pipeline first.")
        return path


def _open(path: str, storage_options) -> DeltaTable:
    if not is_table(path, storage_options):
        raise UnknownTableError(f"No Delta table at {path}.")
    return DeltaTable(path, storage_options=dict(storage_options or {}))


def _query(table: DeltaTable, sql: str) -> pa.Table:
    try:
        return pa.table(QueryBuilder().register("t", table).execute(sql))
    except Exception as err:  # DataFusion reports a bad filter as a generic error
        raise MedallionError(f"Cannot read the table with that query ({sql!r}): {err}") from None


def _split(name: str) -> tuple[str, str]:
    if "." not in name:
        raise UnknownTableError(f"Name the table as PIPELINE.TABLE, got {name!r}.")
    pipeline, table = name.split(".", 1)
    return pipeline, table


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'
