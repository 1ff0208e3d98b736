"""The operational database of the A/B test platform: its schema, its seed rows, and the setup hook.

The platform's application owns these tables (Azure SQL in production, PostgreSQL locally and in CI);
the pipeline only reads them. Every table carries ``updated_at``, the change column of the incremental
copy: the application sets it on every insert and update.

Setup creates what is missing and inserts the seed rows whose keys are missing, in one transaction:
running it again changes nothing, and it never overwrites a row the application has since changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from medallion.sources import databases

DATABASE = "operational"
STATUSES = {1: "running", 2: "done", 3: "failed", 4: "cancelled", 5: "waiting"}

# table → (columns as (name, kind, NULL allowed), primary key, foreign keys as "col REFERENCES t(col)")
TABLES: dict[str, tuple[tuple[tuple[str, str, bool], ...], tuple[str, ...], tuple[str, ...]]] = {
    "status_management": (
        (("status_code", "int", False), ("status_name", "text(40)", False), ("updated_at", "timestamp", False)),
        ("status_code",),
        (),
    ),
    "test_management": (
        (
            ("test_code", "text(20)", False),
            ("test_name", "text(200)", False),
            ("owner_name", "text(200)", True),
            ("created_at", "timestamp", False),
            ("started_at", "timestamp", True),
            ("finished_at", "timestamp", True),
            ("test_status", "int", False),
            ("variation_count", "int", False),
            ("control_variation", "text(20)", False),
            ("updated_at", "timestamp", False),
        ),
        ("test_code",),
        ("test_status REFERENCES status_management(status_code)",),
    ),
    "metric_management": (
        (
            ("metric_code", "text(20)", False),
            ("metric_name", "text(200)", False),
            ("metric_kind", "text(20)", False),
            ("metric_query", "text(4000)", False),
            ("updated_at", "timestamp", False),
        ),
        ("metric_code",),
        (),
    ),
    "test_metric_relation": (
        (("test_code", "text(20)", False), ("metric_code", "text(20)", False), ("updated_at", "timestamp", False)),
        ("test_code", "metric_code"),
        ("test_code REFERENCES test_management(test_code)", "metric_code REFERENCES metric_management(metric_code)"),
    ),
}

SEEDED_AT = datetime(2024, 2, 20, 9, 0, 0)


def _per_user(expression: str) -> str:
    return (
        f"SELECT test_code, variation, user_id, {expression} AS value\n"
        "FROM metric_events\nGROUP BY test_code, variation, user_id"
    )


METRICS = (  # metric_code, metric_name, metric_kind, metric_query (one row per user in a test)
    ("M001", "clicks", "mean", _per_user("SUM(CASE WHEN event_name = 'click' THEN 1 ELSE 0 END)")),
    ("M002", "screen views", "mean", _per_user("SUM(CASE WHEN event_name = 'screen_view' THEN 1 ELSE 0 END)")),
    ("M003", "conversion rate", "proportion", _per_user("MAX(CASE WHEN event_path = '/purchase' THEN 1 ELSE 0 END)")),
    ("M004", "revenue per user", "mean", _per_user("COALESCE(SUM(revenue), 0)")),
)

TESTS = (  # test_code, name, owner, created, started, finished, status, variation_count, control
    (
        "T001",
        "Checkout button colour",
        "Alice Martin",
        datetime(2024, 2, 20),
        datetime(2024, 3, 1),
        datetime(2024, 3, 15),
        2,
        2,
        "A",
    ),
    (
        "T002",
        "Search ranking v2",
        "Bruno Silva",
        datetime(2024, 2, 21),
        datetime(2024, 3, 1),
        datetime(2024, 3, 15),
        2,
        2,
        "A",
    ),
    (
        "T003",
        "New onboarding flow",
        "Chen Wei",
        datetime(2024, 2, 25),
        datetime(2024, 3, 2),
        datetime(2024, 3, 5),
        3,
        2,
        "A",
    ),
    ("T004", "Recommendation widget", "Dana Cohen", datetime(2024, 3, 1), datetime(2024, 3, 8), None, 1, 3, "A"),
    ("T005", "Free-shipping banner", "Emre Kaya", datetime(2024, 3, 5), datetime(2024, 3, 10), None, 1, 2, "A"),
)

TEST_METRICS = {
    "T001": ("M001", "M002", "M003", "M004"),
    "T002": ("M001", "M002", "M003"),
    "T003": ("M003", "M004"),
    "T004": ("M001", "M003", "M004"),
    "T005": ("M002", "M003", "M004"),
}


def seed_rows() -> dict[str, list[tuple]]:
    """The spec's seed rows, in each table's column order."""
    return {
        "status_management": [(code, name, SEEDED_AT) for code, name in STATUSES.items()],
        "test_management": [(*test, SEEDED_AT) for test in TESTS],
        "metric_management": [(*metric, SEEDED_AT) for metric in METRICS],
        "test_metric_relation": [
            (test, metric, SEEDED_AT) for test, metrics in TEST_METRICS.items() for metric in metrics
        ],
    }


def create_table_sql(table: str, dialect: databases.Dialect) -> str:
    columns, key, references = TABLES[table]
    lines = [f"{name} {_type(kind, dialect)}{'' if nullable else ' NOT NULL'}" for name, kind, nullable in columns]
    lines.append(f"PRIMARY KEY ({', '.join(key)})")
    lines += [f"FOREIGN KEY ({reference.split(' ', 1)[0]}) {reference.split(' ', 1)[1]}" for reference in references]
    return f"CREATE TABLE {table} (\n  " + ",\n  ".join(lines) + "\n)"


def _type(kind: str, dialect: databases.Dialect) -> str:
    if kind == "int":
        return "INT"
    if kind == "timestamp":
        return dialect.timestamp_type
    if kind.startswith("text("):
        return f"{dialect.text_type}{kind[4:]}"
    raise ValueError(kind)


def setup(context, progress=print) -> dict[str, int]:
    """Create the missing tables and insert the missing seed rows; returns rows inserted per table."""
    database = context.settings.database(DATABASE)
    password = context.secret(database.password_secret)
    inserted = {}
    with databases.connect(context.spark(), database, password) as sql:
        for table in TABLES:
            if not sql.table_exists(table):
                sql.execute(create_table_sql(table, sql.dialect))
                progress(f"[experiments] operational database: created {table}")
        for table, rows in seed_rows().items():
            inserted[table] = _insert_missing(sql, table, rows)
    progress(f"[experiments] operational database: seed rows inserted {inserted}")
    return inserted


def _insert_missing(sql: databases.SqlClient, table: str, rows: Sequence[tuple]) -> int:
    columns, key, _ = TABLES[table]
    names = [name for name, _, _ in columns]
    positions = [names.index(k) for k in key]
    existing = set(sql.query(f"SELECT {', '.join(key)} FROM {table}"))
    missing = [row for row in rows if tuple(row[i] for i in positions) not in existing]
    if missing:
        placeholders = ", ".join("?" for _ in names)
        sql.execute_many(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})", missing)
    return len(missing)
