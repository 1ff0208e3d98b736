"""What the project sends to a SQL Server / Azure SQL database, checked without one.

No SQL Server runs on this machine, so the statements are checked statically: the exact text generated for
a ``jdbc:sqlserver:`` URL, and sqlglot's T-SQL parser over every statement it can parse (the DDL, the
triggers' DML, the copy's queries). sqlglot cannot parse a trigger's header and control flow
(``CREATE OR ALTER TRIGGER … AS BEGIN … END``, ``IF … RETURN``): those are held to their exact text. The
same change tracking and the same queries run against a real PostgreSQL in
tests/integration/test_jdbc_ingest.py and tests/integration/movies/test_user_purchase_source.py.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from medallion.pipelines.experiments import operational
from medallion.pipelines.movies import purchases
from medallion.pipelines.movies.bronze import USER_PURCHASE
from medallion.sources import databases, jdbc

URL = "jdbc:sqlserver://example.database.windows.net:1433;database=shop;encrypt=true"


def tsql(statement: str) -> list[exp.Expression]:
    """The statement's syntax trees in T-SQL; fails on a syntax error and on a statement sqlglot could only
    keep as an unparsed command."""
    trees = [tree for tree in sqlglot.parse(statement, read="tsql", error_level=sqlglot.ErrorLevel.RAISE) if tree]
    assert trees and not any(isinstance(tree, exp.Command) for tree in trees), statement
    return trees


def column_types(tree: exp.Expression) -> dict[str, str]:
    return {column.name: column.args["kind"].sql("tsql") for column in tree.find_all(exp.ColumnDef)}


class RecordingConnection:
    """A DB-API connection that keeps the statements it is given (the SQL Server driver cannot connect
    here); each statement reports one changed row."""

    def __init__(self):
        self.statements: list[tuple[str, tuple]] = []

    def cursor(self):
        connection = self

        class Cursor:
            rowcount = 1

            def __enter__(self):
                return self

            def __exit__(self, *_):
                return False

            def execute(self, sql, parameters=()):
                connection.statements.append((sql, tuple(parameters)))

        return Cursor()


def test_a_sqlserver_url_speaks_the_sqlserver_dialect_with_microsecond_timestamps():
    dialect = databases.dialect_of(URL)
    assert (dialect.name, dialect.timestamp_type, dialect.text_type) == ("sqlserver", "DATETIME2(6)", "NVARCHAR")
    created = operational.create_table_sql("test_management", dialect)
    types = column_types(tsql(created)[0])
    assert types["updated_at"] == "DATETIME2(6)" and types["test_code"].startswith("NVARCHAR(")


def test_setup_creates_the_table_and_its_change_tracking_on_sqlserver_in_this_order():
    connection = RecordingConnection()
    purchases.create_table(databases.SqlClient(connection, databases.dialect_of(URL)))
    executed = [sql for sql, _ in connection.statements]

    assert executed == [purchases._CREATE["sqlserver"], *purchases._CHANGE_TRACKING["sqlserver"]]
    table, add_column, deletes, updated_trigger, deleted_trigger = executed
    created = tsql(table)[0]
    assert isinstance(created, exp.IfBlock) and isinstance(created.find(exp.Create), exp.Create)
    assert column_types(created)["updated_at"] == "DATETIME2(6)"
    assert "updated_at DATETIME2(6) NOT NULL DEFAULT SYSDATETIME()" in table  # set on every insert
    added = tsql(add_column)[0]  # a table created before change tracking gets the column
    assert isinstance(added.find(exp.Alter), exp.Alter) and column_types(added) == {"updated_at": "DATETIME2(6)"}
    assert add_column.startswith("IF COL_LENGTH('user_purchase', 'updated_at') IS NULL ALTER TABLE user_purchase")
    assert column_types(tsql(deletes)[0]) == {"purchase_id": "BIGINT", "updated_at": "DATETIME2(6)"}

    assert updated_trigger == (
        "CREATE OR ALTER TRIGGER user_purchase_updated ON user_purchase AFTER UPDATE AS\n"
        "BEGIN\n"
        "  SET NOCOUNT ON;\n"
        "  IF TRIGGER_NESTLEVEL(@@PROCID) > 1 RETURN;\n"
        "  UPDATE p SET updated_at = SYSDATETIME() FROM user_purchase AS p "
        "JOIN inserted AS i ON p.purchase_id = i.purchase_id;\n"
        "END"
    )
    assert deleted_trigger == (
        "CREATE OR ALTER TRIGGER user_purchase_deleted ON user_purchase AFTER DELETE AS\n"
        "BEGIN\n"
        "  SET NOCOUNT ON;\n"
        "  IF TRIGGER_NESTLEVEL(@@PROCID) > 1 RETURN;\n"
        "  INSERT INTO user_purchase_deleted (purchase_id, updated_at) SELECT purchase_id, SYSDATETIME() FROM deleted;\n"
        "END"
    )


def test_the_triggers_stamp_every_updated_row_and_record_every_deleted_key():
    (stamp,) = tsql(purchases.SQLSERVER_STAMP_UPDATES)
    assert isinstance(stamp, exp.Update)
    assert [(e.this.name, type(e.expression).__name__) for e in stamp.expressions] == [
        ("updated_at", "CurrentTimestamp")  # sqlglot's name for SYSDATETIME()
    ]
    joined = stamp.find(exp.Join)
    assert stamp.args["from_"].this.name == "user_purchase" and joined.this.name == "inserted"
    assert joined.args["on"].sql("tsql") == "p.purchase_id = i.purchase_id"  # every row the statement changed

    (record,) = tsql(purchases.SQLSERVER_RECORD_DELETES)
    assert isinstance(record, exp.Insert) and record.this.this.name == "user_purchase_deleted"
    selected = record.expression
    assert [c.sql("tsql") for c in record.this.expressions] == ["purchase_id", "updated_at"]
    assert selected.args["from_"].this.name == "deleted"  # every row the statement deleted


def test_the_copys_queries_for_a_sqlserver_source_parse_as_tsql_and_compare_to_the_microsecond(spark):
    schema = jdbc.copied_schema(USER_PURCHASE)
    change_type = schema["updated_at"].dataType
    start = jdbc.window_start("2021-04-01 12:15:00.999999", USER_PURCHASE.lookback, change_type)
    assert start == "2021-04-01 12:00:00.999999"  # the mark less the 15-minute look-back window

    bounds = jdbc.bounds_query(USER_PURCHASE, schema, start, change_type)
    rows = jdbc.slice_query(USER_PURCHASE, schema, start, "2021-04-01 12:30:00.123456", change_type)

    columns = "purchase_id, invoice_number, stock_code, detail, quantity, invoice_date, unit_price, customer_id"
    copied = (
        f"(SELECT {columns}, country, updated_at, 0 AS deleted FROM user_purchase UNION ALL "
        "SELECT purchase_id, NULL AS invoice_number, NULL AS stock_code, NULL AS detail, NULL AS quantity, "
        "NULL AS invoice_date, NULL AS unit_price, NULL AS customer_id, NULL AS country, updated_at, 1 AS deleted "
        "FROM user_purchase_deleted) copied_rows"
    )
    assert bounds == (
        "SELECT * FROM (SELECT COUNT(*) AS row_count, MAX(updated_at) AS high, MIN(purchase_id) AS low_key, "
        f"MAX(purchase_id) AS high_key FROM {copied} WHERE updated_at >= '2021-04-01 12:00:01.000000') changed_slice "
        f"CROSS JOIN (SELECT COUNT(*) AS unordered FROM {copied} WHERE updated_at IS NULL) unordered_rows"
    )
    assert rows == (
        f"(SELECT {columns}, country, updated_at, deleted FROM {copied} "
        "WHERE updated_at >= '2021-04-01 12:00:01.000000' AND updated_at < '2021-04-01 12:30:00.123457') changed_rows"
    )
    # Spark wraps a query in a derived table of its own: both must parse in T-SQL as Spark sends them.
    for sent in (f"SELECT * FROM ({bounds}) SPARK_GEN_SUBQ_0 WHERE 1=0", f"SELECT * FROM {rows} WHERE 1=0"):
        (tree,) = tsql(sent)
        assert isinstance(tree, exp.Select) and isinstance(tree.find(exp.Union), exp.Union)
    first_copy = jdbc.bounds_query(USER_PURCHASE, schema, None, change_type)
    assert f"FROM {copied}) changed_slice CROSS JOIN" in first_copy  # every row: no lower bound
