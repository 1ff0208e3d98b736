"""Metric definitions stored as SQL in the operational database: validated, then run over one view.

A ``metric_query`` must be a single SELECT that reads only the view ``metric_events`` (and its own
CTEs) and returns one row per user in a test: ``test_code, variation, user_id, value``. Before it runs,
it is parsed in Spark's SQL dialect (by ``sqlglot``, in Python: no JVM internals, so the same check runs
over Spark Connect) and must be one query (DDL, DML and commands are refused), and every relation,
table-valued function and function it uses is checked; anything else is refused with a
:class:`MetricDefinitionError` naming the metric and the reason. Nothing of a refused query is executed.

``metric_events`` has one row per event of a user in a test, from the user's first exposure on (until
the test finished), and one row with NULL event columns for a user without events, so a query sees
every user: ``test_code, variation, user_id, first_exposure_time, event_id, event_time, event_name,
event_path, event_device, revenue``.
"""

from __future__ import annotations

import re

import sqlglot
from pyspark.sql import DataFrame, SparkSession
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError

from medallion.errors import MedallionError

VIEW = "metric_events"
OUTPUT_COLUMNS = ("test_code", "variation", "user_id", "value")
FORBIDDEN_FUNCTIONS = {"reflect", "java_method", "try_reflect"}  # call arbitrary JVM methods


class MetricDefinitionError(MedallionError):
    """A stored metric query that is not a single SELECT over ``metric_events`` with the expected columns."""


def validate(spark: SparkSession, metric_code: str, metric_name: str, query: str | None) -> str:
    """The query ready to embed (trailing semicolons removed), or :class:`MetricDefinitionError`."""
    label = f"Metric {metric_code} ({metric_name})"
    text = (query or "").strip().rstrip(";").strip()
    if not text:
        raise MetricDefinitionError(f"{label}: metric_query is empty.")
    if _has_statement_separator(text):
        raise MetricDefinitionError(f"{label}: metric_query must be a single SELECT; it holds several statements.")
    try:
        tree = _parse(text)
    except ValueError as err:
        raise MetricDefinitionError(f"{label}: metric_query is not a single SELECT ({err}).") from None
    relations, functions, ctes = _references(tree)
    others = sorted({r for r in relations if r.lower() != VIEW and r.lower() not in ctes})
    if others:
        raise MetricDefinitionError(f"{label}: metric_query may read only the view {VIEW}, not {', '.join(others)}.")
    shadowing = sorted(name for name in ctes if spark.catalog.tableExists(name))
    if shadowing:  # a CTE named like a table could let another scope of the query read the table
        raise MetricDefinitionError(f"{label}: CTE name(s) {', '.join(shadowing)} are also table names; rename them.")
    forbidden = sorted(f for f in functions if f.lower() in FORBIDDEN_FUNCTIONS or f.startswith("table function "))
    if forbidden:
        raise MetricDefinitionError(f"{label}: metric_query may not call {', '.join(forbidden)}.")
    return text


def run(metric_events: DataFrame, metric_code: str, metric_name: str, query: str) -> DataFrame:
    """The validated query's rows over ``metric_events``: ``test_code, variation, user_id, value``.

    The events are bound to a temporary view of the metric's own (:func:`view_name`) that stays bound
    until the metric runs again: over Spark Connect a SQL query is analysed again on the server each
    time its result is used, so the view must still exist when the gold table is written, not only
    while the query is analysed here. One view per metric, replaced on each run, so the session holds
    at most one per metric. What the rows read is checked by :func:`refuse_reads_outside`."""
    spark = metric_events.sparkSession
    text = validate(spark, metric_code, metric_name, query)
    bound = view_name(metric_code)
    metric_events.createOrReplaceTempView(bound)
    try:
        rows = spark.sql(f"WITH {VIEW} AS (SELECT * FROM {bound})\nSELECT * FROM (\n{text}\n) AS metric_rows")
    except Exception as err:
        reason = str(getattr(err, "desc", None) or err).strip().splitlines()[0][:300]
        raise MetricDefinitionError(f"Metric {metric_code} ({metric_name}): metric_query fails: {reason}") from None
    missing = [c for c in OUTPUT_COLUMNS if c not in rows.columns]
    if missing:
        raise MetricDefinitionError(
            f"Metric {metric_code} ({metric_name}): metric_query must return {', '.join(OUTPUT_COLUMNS)} "
            f"(one row per user in a test); it lacks {', '.join(missing)}."
        )
    return rows.select(*OUTPUT_COLUMNS)


def refuse_reads_outside(metric_events: DataFrame, metrics: list[tuple[str, str, DataFrame]]) -> None:
    """A second guard, on Spark's resolved plans: the rows of each ``(code, name, rows)`` read only files
    that ``metric_events`` (the events of every metric's view, before any metric's filters) holds.

    Listing a plan's files plans it, and planning a Delta scan lists its files in a Spark job, so the
    metrics are checked together (two plans); a metric is looked for alone only when they fail."""
    if not metrics:
        return
    allowed = set(metric_events.inputFiles())
    together = metrics[0][2]
    for _, _, rows in metrics[1:]:
        together = together.unionByName(rows)
    if not set(together.inputFiles()) - allowed:
        return
    for code, name, rows in metrics:
        read_elsewhere = set(rows.inputFiles()) - allowed
        if read_elsewhere:
            raise MetricDefinitionError(
                f"Metric {code} ({name}): metric_query may read only the view {VIEW}; "
                f"it reads {len(read_elsewhere)} other file(s)."
            )


def view_name(metric_code: str) -> str:
    """The temporary view that holds a metric's events (``_metric_events_<code>``, word characters only)."""
    return "_metric_events_" + re.sub(r"\W", "_", metric_code.lower())


# ------------------------------------------------------------------------------------ the query's tree
def _parse(text: str):
    """The query's syntax tree in Spark's dialect, or ``ValueError`` with the parser's reason.

    ``sqlglot`` parses in Python, so validation needs neither the JVM nor a classic session (it runs
    the same over Spark Connect and on shared clusters). Its grammar is a superset of Spark's: a query
    it accepts that Spark does not is refused by Spark when it runs, before any row is read."""
    try:
        statements = [s for s in sqlglot.parse(text, read="spark", error_level=ErrorLevel.RAISE) if s is not None]
    except (ParseError, TokenError) as err:
        raise ValueError(str(err).strip().splitlines()[0][:300]) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        kind = type(statements[0]).__name__.upper() if statements else "nothing"
        raise ValueError(f"it is a {kind} statement" if statements else "it is empty")
    return statements[0]


def _references(tree) -> tuple[set[str], set[str], set[str]]:
    """Relations, functions and CTE names anywhere in the query, subqueries and CTEs included."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    relations: set[str] = set()
    functions: set[str] = set()
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Func):  # FROM range(10), FROM read_files(...)
            functions.add("table function " + _function_name(table.this))
        else:
            relations.add(".".join(part.name for part in table.parts))
    for function in tree.find_all(exp.Func):
        functions.add(_function_name(function))
    return relations, functions, ctes


def _function_name(function) -> str:
    return function.name if isinstance(function, exp.Anonymous) else function.sql_name().lower()


def _has_statement_separator(text: str) -> bool:
    """A ';' outside string literals, quoted identifiers and comments."""
    i, quote = 0, None
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and quote != "`":
                i += 2
                continue
            if char == quote:
                quote = None
        elif char in ("'", '"', "`"):
            quote = char
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        elif char == ";":
            return True
        i += 1
    return False
