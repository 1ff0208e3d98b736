"""Table checks: the written table as a whole, after a run that wrote rows (``Check`` in declare/tables.py).

A check of a small table reads the key columns it needs into the driver, one Spark job per table read, and
counts there; checks of the same columns share the read, which also tells whether the table is empty. Spark's
own grouping takes a job per stage (group, then sum: three or more), each costing far more than a few hundred
rows; most tables a check guards (users, dimensions, summaries) are that small. A table of more than
``SMALL_TABLE_ROWS`` rows (found out by reading one row more: a bounded read, small beside the grouping of a
large table that follows), or a key whose values do not compare exactly by their text or bytes (floating
point: -0.0 groups with 0.0 but prints apart; binary and nested values), is checked by Spark's grouping and
join. Both ways give the same counts (tests/unit/test_table_checks.py runs every case both ways).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    IntegralType,
    StringType,
    TimestampNTZType,
    TimestampType,
)

from medallion.declare.tables import Check
from medallion.errors import ExpectationFailed

SMALL_TABLE_ROWS = 10_000

# Values of these types are equal exactly when their text is (strings: their bytes, as Spark compares them).
_EXACT_AS_TEXT = (StringType, IntegralType, BooleanType, DateType, TimestampType, TimestampNTZType, DecimalType)

Keys = list[tuple]


def evaluate_checks(
    table: DataFrame,
    checks: tuple[Check, ...],
    read_table: Callable[[str], DataFrame],
    written: DataFrame | None = None,
) -> dict[str, int]:
    """Violations per check (0 = passed): rows sharing a key with another row, rows whose key is missing
    from the referenced table, 1 for an empty table that must not be. ``written``: the rows the run wrote
    (None: all of them); a key the run did not write cannot have become a duplicate, so uniqueness is
    checked for the written keys only, without grouping the whole table."""
    reads = _KeyReads(table)
    # Checks of keys first: the keys they read into the driver also tell whether the table is empty.
    ordered = sorted(checks, key=lambda check: check.kind == "not_empty")
    found = {check.name: _violations(reads, check, read_table, written) for check in ordered}
    return {check.name: found[check.name] for check in checks}


def enforce_checks(violations: dict[str, int], checks: tuple[Check, ...], table: str) -> None:
    failing = {c.name: violations.get(c.name, 0) for c in checks if c.action == "fail" and violations.get(c.name, 0)}
    if failing:
        detail = ", ".join(f"{name} ({n} rows)" for name, n in failing.items())
        raise ExpectationFailed(
            f"{table}: table check failed: {detail}. The batch is committed; downstream tables were not run. "
            f"Inspect with `medallion show {table}`, fix the source, then run again."
        )


def _violations(
    reads: _KeyReads, check: Check, read_table: Callable[[str], DataFrame], written: DataFrame | None
) -> int:
    table = reads.table
    if check.kind == "not_empty":
        return 0 if reads.has_rows() else 1
    if check.kind == "unique":
        counted = _repeated_in_driver(reads, check.columns, written)
        return counted if counted is not None else _repeated(table, check.columns, written)
    assert check.table is not None  # a references check names its table (see Check)
    other = read_table(check.table)
    counted = _missing_in_driver(reads, check.columns, other, check.to_columns)
    return counted if counted is not None else _missing(table, check.columns, other, check.to_columns)


# ------------------------------------------------------------------------------- small tables: in the driver
class _KeyReads:
    """The checked table, and the key columns of it read into the driver so far: each set of columns is read
    once per table, however many checks need it."""

    def __init__(self, table: DataFrame) -> None:
        self.table = table
        self._keys: dict[tuple[str, ...], Keys | None] = {}

    def small_keys(self, columns: tuple[str, ...], types: list[DataType] | None = None) -> Keys | None:
        if columns not in self._keys:
            self._keys[columns] = _small_keys(self.table, columns, types)
        return self._keys[columns]

    def has_rows(self) -> bool:
        read = next((keys for keys in self._keys.values() if keys is not None), None)
        return bool(read) if read is not None else bool(self.table.limit(1).count())


def _repeated_in_driver(reads: _KeyReads, columns: tuple[str, ...], written: DataFrame | None) -> int | None:
    keys = reads.small_keys(columns)
    if keys is None:
        return None
    repeated = {key: n for key, n in Counter(keys).items() if n > 1}  # NULL keys are equal here, as in a grouping
    if written is None or not repeated:
        return sum(repeated.values())
    wrote = _small_keys(written, columns)
    if wrote is None:
        return None
    wrote_keys = set(wrote)
    return sum(n for key, n in repeated.items() if key in wrote_keys)


def _missing_in_driver(
    reads: _KeyReads, columns: tuple[str, ...], other: DataFrame, to_columns: tuple[str, ...]
) -> int | None:
    types = _types(reads.table, columns)
    if types != _types(other, to_columns):  # a join would compare them after a cast
        return None
    present = _small_keys(other, to_columns, types)
    if present is None:
        return None
    keys = reads.small_keys(columns, types)
    if keys is None:
        return None
    known = set(present)
    return sum(None not in key and key not in known for key in keys)  # a key with a NULL refers to nothing


def _small_keys(frame: DataFrame, columns: tuple[str, ...], types: list[DataType] | None = None) -> Keys | None:
    """The values of ``columns`` in every row of ``frame`` (text, or bytes for strings; NULL as None), when it
    has at most SMALL_TABLE_ROWS rows and each column's values compare exactly that way; else None.
    ``types``: the columns' types, when the caller already has them."""
    types = types if types is not None else _types(frame, columns)
    if not all(isinstance(t, _EXACT_AS_TEXT) for t in types):
        return None
    exact = [
        F.col(c).cast("binary" if isinstance(t, StringType) else "string") for c, t in zip(columns, types, strict=True)
    ]
    rows = frame.select(*exact).limit(SMALL_TABLE_ROWS + 1).collect()
    if len(rows) > SMALL_TABLE_ROWS:
        return None
    return [tuple(bytes(v) if isinstance(v, bytearray) else v for v in row) for row in rows]


def _types(frame: DataFrame, columns: tuple[str, ...]) -> list[DataType]:
    return [field.dataType for field in frame.select(*columns).schema.fields]


# --------------------------------------------------------------------------------- any table: Spark's join
def _repeated(table: DataFrame, columns: tuple[str, ...], written: DataFrame | None) -> int:
    if written is not None:
        keys = written.select(*[F.col(c).alias(f"_key_{i}") for i, c in enumerate(columns)]).distinct()
        same_key = [F.col(c).eqNullSafe(F.col(f"_key_{i}")) for i, c in enumerate(columns)]
        table = table.join(keys, same_key, "left_semi")  # NULL keys group together, as in groupBy
    repeated = table.groupBy(*columns).count().where("count > 1")
    return int(repeated.agg(F.sum("count")).collect()[0][0] or 0)


def _missing(table: DataFrame, columns: tuple[str, ...], other: DataFrame, to_columns: tuple[str, ...]) -> int:
    keys = table.select(*columns).where(_all_set(columns))
    theirs = other.select(*[F.col(c).alias(f"_ref_{i}") for i, c in enumerate(to_columns)])
    condition = [F.col(c) == F.col(f"_ref_{i}") for i, c in enumerate(columns)]
    return keys.join(theirs, condition, "left_anti").count()


def _all_set(columns: tuple[str, ...]):
    return F.expr(" AND ".join(f"{c} IS NOT NULL" for c in columns))
