"""Table checks: exact counts, each case decided both ways (in the driver for a small table, by Spark's
grouping and join for a large one), and the choice between them."""

import datetime
import decimal

import pytest
from pyspark.sql import DataFrame

from medallion.declare.tables import not_empty, references, unique
from medallion.engine import table_checks
from medallion.errors import ExpectationFailed


@pytest.fixture(params=["in the driver", "by Spark"])
def way(request, monkeypatch):
    """Forces one way: "by Spark" makes every table too large for the driver; "in the driver" makes Spark's
    grouping and join fail, so a case that silently fell back to them fails the test."""

    def not_expected(*args):
        raise AssertionError("a small table with comparable keys went to Spark's grouping")

    if request.param == "by Spark":
        monkeypatch.setattr(table_checks, "SMALL_TABLE_ROWS", 0)
    else:
        monkeypatch.setattr(table_checks, "_repeated", not_expected)
        monkeypatch.setattr(table_checks, "_missing", not_expected)
    return request.param


@pytest.fixture
def tables(spark):
    return {
        "users": spark.createDataFrame([(1,), (2,)], "user_id INT"),
        "visits": spark.createDataFrame(
            [(1, "a"), (1, "a"), (2, "b"), (7, "c"), (None, "d")], "user_id INT, gym STRING"
        ),
        "empty": spark.createDataFrame([], "user_id INT"),
    }


def test_checks_count_violations(tables, way):
    checks = (unique("user_id", "gym"), references("users", "user_id"), not_empty())
    assert table_checks.evaluate_checks(tables["visits"], checks, tables.get) == {
        "unique(user_id, gym)": 2,
        "references users(user_id)": 1,
        "not_empty": 0,
    }
    assert table_checks.evaluate_checks(tables["empty"], (not_empty(),), tables.get) == {"not_empty": 1}


def test_only_failing_checks_declared_fail_stop_the_run(tables, way):
    checks = (unique("user_id", action="warn"), references("users", "user_id", action="fail"))
    violations = table_checks.evaluate_checks(tables["visits"], checks, tables.get)
    with pytest.raises(
        ExpectationFailed, match=r"gym.visits: table check failed: references users\(user_id\) \(1 rows\)"
    ):
        table_checks.enforce_checks(violations, checks, "gym.visits")
    table_checks.enforce_checks(violations, checks[:1], "gym.visits")  # a warn check only records


def test_unique_treats_null_keys_as_equal(spark, way):
    keys = spark.createDataFrame([(None,), (None,), (1,)], "k INT")
    assert table_checks.evaluate_checks(keys, (unique("k"),), {}.get) == {"unique(k)": 2}


def test_unique_looks_only_at_the_keys_a_run_wrote(spark, tables, way):
    """A key the run did not write cannot have become a duplicate: (1, a) was repeated before this run."""
    check = (unique("user_id", "gym"),)
    written = {
        "a new key": [(9, "z")],
        "a key joining an existing one": [(2, "b")],
        "the repeated key again": [(1, "a")],
        "a NULL key": [(None, "d")],
    }
    visits = tables["visits"].union(spark.createDataFrame([(9, "z"), (2, "b"), (None, "d")], "user_id INT, gym STRING"))
    found = {
        case: table_checks.evaluate_checks(
            visits, check, tables.get, spark.createDataFrame(rows, "user_id INT, gym STRING")
        )
        for case, rows in written.items()
    }
    assert found == {
        "a new key": {"unique(user_id, gym)": 0},
        "a key joining an existing one": {"unique(user_id, gym)": 2},
        "the repeated key again": {"unique(user_id, gym)": 2},
        "a NULL key": {"unique(user_id, gym)": 2},
    }


def test_keys_are_equal_exactly_when_spark_groups_them_together(spark, way):
    """Strings by their bytes (case, trailing spaces, composed and decomposed accents differ), instants to the
    microsecond, decimals by value, dates and booleans."""
    rows = [
        ("a", datetime.datetime(2024, 3, 31, 1, 30), decimal.Decimal("1.50"), datetime.date(2024, 1, 1), True),
        ("a", datetime.datetime(2024, 3, 31, 1, 30), decimal.Decimal("1.5"), datetime.date(2024, 1, 1), True),
        ("A", datetime.datetime(2024, 3, 31, 1, 30, 0, 1), decimal.Decimal("1.51"), datetime.date(2024, 1, 2), False),
        ("a ", None, None, None, None),
        ("\u00e9", None, None, None, None),
        ("e\u0301", None, None, None, None),
    ]
    frame = spark.createDataFrame(rows, "s STRING, t TIMESTAMP, d DECIMAL(10,2), day DATE, flag BOOLEAN")
    checks = tuple(unique(c) for c in ("s", "t", "d", "day", "flag"))
    assert table_checks.evaluate_checks(frame, checks, {}.get) == {
        "unique(s)": 2,
        "unique(t)": 2 + 3,  # the two equal instants, and the three NULLs together
        "unique(d)": 2 + 3,
        "unique(day)": 2 + 3,
        "unique(flag)": 2 + 3,
    }


def test_floating_point_and_larger_tables_are_left_to_spark(spark, monkeypatch):
    """-0.0 and 0.0 are one key to Spark's grouping and two texts: such keys never go to the driver, nor
    does a table of more rows than SMALL_TABLE_ROWS, nor a reference between columns of two types."""
    decided_by_spark = []
    for name in ("_repeated", "_missing"):
        spark_way = getattr(table_checks, name)
        monkeypatch.setattr(
            table_checks, name, lambda *args, spark_way=spark_way: decided_by_spark.append(1) or spark_way(*args)
        )
    zeros = spark.createDataFrame([(0.0,), (-0.0,), (1.0,)], "x DOUBLE")
    assert table_checks.evaluate_checks(zeros, (unique("x"),), {}.get) == {"unique(x)": 2}
    assert len(decided_by_spark) == 1

    monkeypatch.setattr(table_checks, "SMALL_TABLE_ROWS", 2)
    three = spark.createDataFrame([(1,), (1,), (2,)], "k INT")
    assert table_checks.evaluate_checks(three, (unique("k"),), {}.get) == {"unique(k)": 2}
    assert len(decided_by_spark) == 2

    monkeypatch.setattr(table_checks, "SMALL_TABLE_ROWS", 10_000)
    longs = {"users": spark.createDataFrame([(1,)], "user_id BIGINT")}
    ints = spark.createDataFrame([(1,), (3,)], "user_id INT")
    assert table_checks.evaluate_checks(ints, (references("users", "user_id"),), longs.get) == {
        "references users(user_id)": 1
    }
    assert len(decided_by_spark) == 3


def test_a_table_is_read_into_the_driver_once_whatever_number_of_checks_need_its_keys(tables, monkeypatch):
    """Uniqueness and a reference over the same columns share one read of the table's keys, and that read
    also answers not_empty: the checked table is read once, the referenced table once."""
    reads = []
    read_keys = table_checks._small_keys
    monkeypatch.setattr(
        table_checks,
        "_small_keys",
        lambda frame, columns, types=None: reads.append((frame, columns)) or read_keys(frame, columns, types),
    )
    limit = DataFrame.limit  # not_empty's own read of a table is a limit(1)
    monkeypatch.setattr(
        DataFrame, "limit", lambda self, n: pytest.fail("not_empty read the table apart") if n == 1 else limit(self, n)
    )
    checks = (not_empty(), unique("user_id"), references("users", "user_id"))
    assert table_checks.evaluate_checks(tables["visits"], checks, tables.get) == {
        "not_empty": 0,
        "unique(user_id)": 2,
        "references users(user_id)": 1,
    }
    assert list(table_checks.evaluate_checks(tables["visits"], checks, tables.get)) == [c.name for c in checks]
    assert [(frame is tables["visits"], columns) for frame, columns in reads] == [
        (True, ("user_id",)),
        (False, ("user_id",)),
    ] * 2
