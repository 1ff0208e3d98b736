"""Expectations: evaluate a batch against its table's rules, split what passes from what goes to quarantine.

A rule that evaluates to NULL counts as broken: a check that cannot be decided is not a pass.
Quarantine rows keep the whole record as JSON, every rule it broke, where it came from and the run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.errors import ExpectationFailed
from medallion.tables import Expectation

FAILED = "_failed_rules"
QUARANTINE_SCHEMA = (
    "table STRING, rules ARRAY<STRING>, record STRING, source STRING, run_id STRING, batch_id BIGINT, "
    "quarantined_at TIMESTAMP"
)


@dataclass
class BatchQuality:
    """Counts of one batch: rows in, and per rule how many rows broke it."""

    rows_in: int = 0
    broken: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0


def with_failed_rules(df: DataFrame, expectations: tuple[Expectation, ...]) -> DataFrame:
    """Adds ``_failed_rules``: the names of the rules each row breaks (empty when it passes all)."""
    if not expectations:
        return df.withColumn(FAILED, F.array().cast("array<string>"))
    checks = [F.when(~F.coalesce(F.expr(e.condition), F.lit(False)), F.lit(e.name)) for e in expectations]
    return df.withColumn(FAILED, F.filter(F.array(*checks), lambda name: name.isNotNull()))


def measure(checked: DataFrame, expectations: tuple[Expectation, ...]) -> BatchQuality:
    """One aggregation over the checked batch: total rows, rows breaking each rule, rows to quarantine."""
    drop_rules = [e.name for e in expectations if e.action == "drop"]
    aggregates = [F.count(F.lit(1)).alias("rows_in"), _count_if(_breaks_any(drop_rules)).alias("quarantined")]
    aggregates += [_count_if(F.array_contains(FAILED, e.name)).alias(f"rule_{i}") for i, e in enumerate(expectations)]
    row = checked.agg(*aggregates).first()
    return BatchQuality(
        rows_in=row["rows_in"],
        quarantined=row["quarantined"] or 0,
        broken={e.name: row[f"rule_{i}"] or 0 for i, e in enumerate(expectations)},
    )


def enforce_fail_rules(quality: BatchQuality, expectations: tuple[Expectation, ...], table: str) -> None:
    broken = {e.name: quality.broken.get(e.name, 0) for e in expectations if e.action == "fail"}
    broken = {name: n for name, n in broken.items() if n}
    if broken:
        detail = ", ".join(f"{name} ({n} rows)" for name, n in broken.items())
        raise ExpectationFailed(f"{table}: expect_or_fail broken by {detail}; nothing of this batch was written.")


def accepted_rows(checked: DataFrame, expectations: tuple[Expectation, ...]) -> DataFrame:
    drop_rules = [e.name for e in expectations if e.action == "drop"]
    return checked.where(~_breaks_any(drop_rules)).drop(FAILED)


def quarantine_rows(
    checked: DataFrame, expectations: tuple[Expectation, ...], table: str, run_id: str, batch_id: int
) -> DataFrame:
    drop_rules = [e.name for e in expectations if e.action == "drop"]
    rejected = checked.where(_breaks_any(drop_rules))
    payload = [c for c in rejected.columns if c != FAILED]
    source_column = next((c for c in ("source_file", "_source_file") if c in payload), None)
    source = F.col(source_column) if source_column else F.lit(None).cast("string")
    return rejected.select(
        F.lit(table).alias("table"),
        F.col(FAILED).alias("rules"),
        F.to_json(F.struct(*payload)).alias("record"),
        source.alias("source"),
        F.lit(run_id).alias("run_id"),
        F.lit(batch_id).cast("bigint").alias("batch_id"),
        F.current_timestamp().alias("quarantined_at"),
    )


def _breaks_any(rule_names: list[str]):
    if not rule_names:
        return F.lit(False)
    return F.arrays_overlap(F.col(FAILED), F.array(*[F.lit(n) for n in rule_names]))


def _count_if(condition):
    return F.sum(F.when(condition, 1).otherwise(0))
