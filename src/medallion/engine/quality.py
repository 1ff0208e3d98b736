"""Expectations: evaluate a batch against its table's rules and split what passes from what goes to
quarantine (the written table as a whole is checked by table_checks.py).

A rule that evaluates to NULL counts as broken: a check that cannot be decided is not a pass.
Quarantine rows keep the whole record as JSON, every rule it broke, where it came from (``_source`` when
the build function gives one, e.g. file and Kafka topic/partition/offset, else ``source_file``) and the run.

Tables fed by landing files get the source rules on top of their declared ones (a declared rule of the
same name wins): ``parsed`` (the record fits the schema), ``valid_utf8``, ``declared_header`` (a CSV file's
header is the declared one: see csv_headers.py) and ``no_new_columns``, with the actions the source's drift
policy gives them.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from medallion import key_ranges
from medallion.declare.tables import Expectation, FileSource
from medallion.engine.csv_headers import HEADER_COLUMN
from medallion.errors import ExpectationFailed, MedallionError
from medallion.key_ranges import KeyRange
from medallion.sources.files import CORRUPT, REPLACEMENT_CHARACTER, RESCUED, SOURCE

QUARANTINE_SCHEMA = (
    "table STRING, rules ARRAY<STRING>, record STRING, source STRING, run_id STRING, batch_id BIGINT, "
    "quarantined_at TIMESTAMP"
)

# What tells a quarantined record of a view from another whatever refresh quarantined it: each refresh
# computes the view's rows again, and the rules' verdict on a record again (io.append_absent).
RECOMPUTED_IDENTITY = ("table", "rules", "record", "source")


@dataclass
class BatchQuality:
    """Counts of one batch: rows in, per rule how many rows broke it, rows to quarantine, rows carrying
    rescued (undeclared) fields."""

    rows_in: int = 0
    broken: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    rescued: int = 0
    # The range of each key column among the accepted rows: a keyed merge reads only the target files
    # that can hold them (medallion.key_ranges).
    key_ranges: dict[str, KeyRange] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ rules
def rules_for(
    table: str, expectations: tuple[Expectation, ...], source: FileSource | None, columns: list[str]
) -> tuple[Expectation, ...]:
    """A table's declared expectations plus the source rules of its landing-file input (``source``)."""
    if source is None:
        return tuple(expectations)
    if CORRUPT not in columns:
        raise MedallionError(
            f"{table} reads landing files but its build function drops '{CORRUPT}': keep the column "
            "(the engine removes it after the checks) so records that do not parse reach the quarantine."
        )
    rules = list(source_rules(source, has_rescued=RESCUED in columns, has_header=HEADER_COLUMN in columns))
    declared = {e.name for e in expectations}
    return tuple(expectations) + tuple(r for r in rules if r.name not in declared)


def source_rules(source: FileSource, has_rescued: bool, has_header: bool = False) -> tuple[Expectation, ...]:
    parse_action = "fail" if source.on_type_change == "fail" else "drop"
    rules = [
        Expectation("parsed", f"{CORRUPT} IS NULL", parse_action),
        Expectation(
            "valid_utf8",
            f"{CORRUPT} IS NULL OR instr({CORRUPT}, '{REPLACEMENT_CHARACTER}') = 0 "
            f"AND cast({CORRUPT} AS BINARY) = encode(decode(cast({CORRUPT} AS BINARY), 'UTF-8'), 'UTF-8')",
            parse_action,
        ),
    ]
    if has_header:
        rules.append(Expectation("declared_header", f"{HEADER_COLUMN} IS NULL", parse_action))
    if has_rescued:
        rules.append(
            Expectation("no_new_columns", f"{RESCUED} IS NULL", "fail" if source.on_new_column == "fail" else "warn")
        )
    return tuple(rules)


def with_failed_rules(df: DataFrame, expectations: tuple[Expectation, ...]) -> DataFrame:
    """Adds, per rule, whether each row breaks it: a boolean working column (``_broke_<rule>``). What a batch
    counts and keeps reads these; the names of the rules a row broke (:func:`failed_rules`) are put together
    only for the rows going to quarantine, since an array per row costs as much as a parse."""
    return df.select(
        "*", *[(~F.coalesce(F.expr(e.condition), F.lit(False))).alias(_flag(e.name)) for e in expectations]
    )


def failed_rules(expectations: tuple[Expectation, ...]) -> Column:
    """The names of the rules each row of a :func:`with_failed_rules` frame breaks (empty when it passes all)."""
    if not expectations:
        return F.array().cast("array<string>")
    names = F.array(*[F.when(_broke(e.name), F.lit(e.name)) for e in expectations])
    return F.filter(names, lambda name: name.isNotNull())


def measure(checked: DataFrame, expectations: tuple[Expectation, ...], keys: tuple[str, ...] = ()) -> BatchQuality:
    """One aggregation over the checked batch (no shuffle): total rows, rows breaking each rule, rows to
    quarantine, rows carrying rescued (undeclared) fields and the range of each of ``keys`` among the
    accepted rows."""
    row = checked.agg(*measures(checked, expectations, keys)).collect()[0]  # an aggregate has exactly one row
    return quality_of(row.asDict(), checked, expectations, keys)


def measures(checked: DataFrame, expectations: tuple[Expectation, ...], keys: tuple[str, ...] = ()) -> list[Column]:
    """The aggregate columns :func:`measure` computes: for an aggregation, or an observation of a write."""
    drop_rules = [e.name for e in expectations if e.action == "drop"]
    accepted = ~_breaks_any(drop_rules)
    aggregates = [F.count(F.lit(1)).alias("rows_in"), _count_if(~accepted).alias("quarantined")]
    aggregates += [_count_if(_broke(e.name)).alias(f"rule_{i}") for i, e in enumerate(expectations)]
    if RESCUED in checked.columns:
        aggregates.append(_count_if(F.col(RESCUED).isNotNull()).alias("rescued"))
    return aggregates + key_ranges.aggregates(checked.schema, keys, accepted)


def quality_of(
    values: Mapping[str, Any], checked: DataFrame, expectations: tuple[Expectation, ...], keys: tuple[str, ...] = ()
) -> BatchQuality:
    """The batch's counts from the values of :func:`measures`."""
    return BatchQuality(
        rows_in=values["rows_in"],
        quarantined=values["quarantined"] or 0,
        broken={e.name: values[f"rule_{i}"] or 0 for i, e in enumerate(expectations)},
        rescued=(values["rescued"] or 0) if RESCUED in checked.columns else 0,
        key_ranges=key_ranges.from_row(values, checked.schema, keys),
    )


def distinct_keys(checked: DataFrame, expectations: tuple[Expectation, ...], keys: tuple[str, ...]) -> int:
    """Distinct ``keys`` among the rows the batch accepts."""
    accepted = ~_breaks_any([e.name for e in expectations if e.action == "drop"])
    return int(checked.where(accepted).select(*keys).distinct().count())


def enforce_fail_rules(quality: BatchQuality, expectations: tuple[Expectation, ...], table: str) -> None:
    broken = {e.name: quality.broken.get(e.name, 0) for e in expectations if e.action == "fail"}
    broken = {name: n for name, n in broken.items() if n}
    if broken:
        detail = ", ".join(f"{name} ({n} rows)" for name, n in broken.items())
        raise ExpectationFailed(f"{table}: expect_or_fail broken by {detail}; nothing of this batch was written.")


def drift(checked: DataFrame) -> dict[str, int]:
    """Undeclared fields found in the batch's ``_rescued_data``: field name → rows carrying it."""
    if RESCUED not in checked.columns:
        return {}
    fields = checked.where(F.col(RESCUED).isNotNull()).select(F.explode(F.json_object_keys(RESCUED)).alias("field"))
    return {row["field"]: row["count"] for row in fields.groupBy("field").count().collect()}


def accepted_rows(checked: DataFrame, expectations: tuple[Expectation, ...]) -> DataFrame:
    drop_rules = [e.name for e in expectations if e.action == "drop"]
    return checked.where(~_breaks_any(drop_rules)).drop(*_flags(expectations))


def quarantine_rows(
    checked: DataFrame,
    expectations: tuple[Expectation, ...],
    table: str,
    run_id: str,
    batch_id: int,
    protects_personal_data: bool = False,
) -> DataFrame:
    """The rows a ``drop`` rule rejected, each as a JSON record with the rules it broke and its source.
    ``protects_personal_data``: the table declares personal data. Its policy covers the table's columns, not
    the working columns (``_…``) that carry the raw line or message and undeclared fields, where the same data
    stands in clear: the record leaves them out, and its ``source`` (a landing file, a topic/partition@offset)
    locates the raw record in bronze or the landing zone, where the raw data is kept."""
    drop_rules = [e.name for e in expectations if e.action == "drop"]
    rejected = checked.where(_breaks_any(drop_rules))
    payload = [
        c
        for c in rejected.columns
        if c not in (SOURCE, *_flags(expectations)) and not (protects_personal_data and c.startswith("_"))
    ]
    lineage = [F.col(c) for c in (SOURCE, "source_file", "_source_file") if c in rejected.columns]
    source = F.coalesce(*lineage, F.lit(None).cast("string")) if lineage else F.lit(None).cast("string")
    return rejected.select(
        F.lit(table).alias("table"),
        failed_rules(expectations).alias("rules"),
        F.to_json(F.struct(*payload)).alias("record"),
        source.alias("source"),
        F.lit(run_id).alias("run_id"),
        F.lit(batch_id).cast("bigint").alias("batch_id"),
        F.current_timestamp().alias("quarantined_at"),
    )


# -------------------------------------------------------------------------------------------- helpers
def _flag(rule: str) -> str:
    return f"_broke_{rule}"


def _flags(expectations: tuple[Expectation, ...]) -> list[str]:
    return [_flag(e.name) for e in expectations]


def _broke(rule: str) -> Column:
    return F.col(f"`{_flag(rule)}`")


def _breaks_any(rule_names: list[str]) -> Column:
    return reduce(operator.or_, [_broke(name) for name in rule_names], F.lit(False))


def _count_if(condition):
    return F.sum(F.when(condition, 1).otherwise(0))
