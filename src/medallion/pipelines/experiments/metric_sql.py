"""Metric definitions stored as SQL in the operational database: validated, then run over one view.

A ``metric_query`` must be a single SELECT that reads only the view ``metric_events`` (and its own
CTEs) and returns one row per user in a test: ``test_code, variation, user_id, value``. Before it runs,
Spark's own parser reads it as a query (so DDL, DML and commands cannot even parse), and every relation,
table-valued function and function it uses is checked; anything else is refused with a
:class:`MetricDefinitionError` naming the metric and the reason. Nothing of a refused query is executed.

``metric_events`` has one row per event of a user in a test, from the user's first exposure on (until
the test finished), and one row with NULL event columns for a user without events, so a query sees
every user: ``test_code, variation, user_id, first_exposure_time, event_id, event_time, event_name,
event_path, event_device, revenue``.
"""
from __future__ import annotations

import uuid

from pyspark.sql import DataFrame, SparkSession

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
        plan = spark._jsparkSession.sessionState().sqlParser().parseQuery(text)
    except Exception as err:
        reason = str(getattr(err, "desc", None) or err).strip().splitlines()[0][:300]
        raise MetricDefinitionError(f"{label}: metric_query is not a single SELECT ({reason}).") from None
    relations, functions, ctes = _references(plan)
    others = sorted({r for r in relations if r.lower() != VIEW and r.lower() not in ctes})
    if others:
        raise MetricDefinitionError(
            f"{label}: metric_query may read only the view {VIEW}, not {', '.join(others)}.")
    shadowing = sorted(name for name in ctes if spark.catalog.tableExists(name))
    if shadowing:  # a CTE named like a table could let another scope of the query read the table
        raise MetricDefinitionError(f"{label}: CTE name(s) {', '.join(shadowing)} are also table names; rename them.")
    forbidden = sorted(f for f in functions if f.lower() in FORBIDDEN_FUNCTIONS or f.startswith("table function "))
    if forbidden:
        raise MetricDefinitionError(f"{label}: metric_query may not call {', '.join(forbidden)}.")
    return text


def run(metric_events: DataFrame, metric_code: str, metric_name: str, query: str) -> DataFrame:
    """The validated query's rows over ``metric_events``: ``test_code, variation, user_id, value``.

    The view is bound under a name of its own for the time the query is analysed, then dropped: the
    returned DataFrame keeps its resolved plan and the session keeps no trace."""
    spark = metric_events.sparkSession
    text = validate(spark, metric_code, metric_name, query)
    bound = f"_metric_events_{uuid.uuid4().hex}"
    metric_events.createOrReplaceTempView(bound)
    try:
        try:
            rows = spark.sql(f"WITH {VIEW} AS (SELECT * FROM {bound})\nSELECT * FROM (\n{text}\n) AS metric_rows")
        except Exception as err:
            reason = str(getattr(err, "desc", None) or err).strip().splitlines()[0][:300]
            raise MetricDefinitionError(f"Metric {metric_code} ({metric_name}): metric_query fails: {reason}") from None
    finally:
        spark.catalog.dropTempView(bound)
    missing = [c for c in OUTPUT_COLUMNS if c not in rows.columns]
    if missing:
        raise MetricDefinitionError(
            f"Metric {metric_code} ({metric_name}): metric_query must return {', '.join(OUTPUT_COLUMNS)} "
            f"(one row per user in a test); it lacks {', '.join(missing)}.")
    return rows.select(*OUTPUT_COLUMNS)


# ------------------------------------------------------------------------------------ the plan's tree
def _references(plan) -> tuple[set[str], set[str], set[str]]:
    """Relations, functions and CTE names anywhere in an unresolved plan, subqueries and CTEs included."""
    relations: set[str] = set()
    functions: set[str] = set()
    ctes: set[str] = set()
    pending_plans, pending_expressions, seen = [plan], [], 0
    while pending_plans or pending_expressions:
        seen += 1
        if seen > 10_000:
            raise MetricDefinitionError("metric_query is too large to check")
        if pending_expressions:
            expression = pending_expressions.pop()
            kind = expression.getClass().getSimpleName()
            if kind == "UnresolvedFunction":
                functions.add(_seq(expression.nameParts())[-1])
            if "SubqueryExpression" in _class_names(expression):
                pending_plans.append(expression.plan())
            pending_expressions.extend(_seq(expression.children()))
            continue
        node = pending_plans.pop()
        kind = node.getClass().getSimpleName()
        if kind == "UnresolvedRelation":
            relations.add(".".join(_seq(node.multipartIdentifier())))
        elif kind == "UnresolvedTableValuedFunction":
            functions.add("table function " + ".".join(_seq(node.name())))
        elif kind == "UnresolvedWith":
            for pair in _seq(node.cteRelations()):
                ctes.add(str(pair._1()).lower())
        pending_plans.extend(_seq(node.children()))
        pending_plans.extend(p for p in _seq(node.innerChildren()) if _is_plan(p))
        pending_expressions.extend(_seq(node.expressions()))
    return relations, functions, ctes


def _seq(scala_seq) -> list:
    return [scala_seq.apply(i) for i in range(scala_seq.size())]


def _is_plan(java_object) -> bool:
    return "LogicalPlan" in _class_names(java_object)


def _class_names(java_object) -> set[str]:
    names, cls = set(), java_object.getClass()
    while cls is not None:
        names.add(str(cls.getSimpleName()))
        cls = cls.getSuperclass()
    return names


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
