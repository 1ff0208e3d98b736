"""Expectations, source rules, quarantine rows: tiny frames, exact counts."""

import json

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame

from medallion.declare.tables import (
    Append,
    FileSource,
    Layer,
    expect,
    expect_or_drop,
    expect_or_fail,
    table,
)
from medallion.engine import quality
from medallion.errors import ExpectationFailed, MedallionError

RULES = (
    expect("has_email", "email IS NOT NULL"),
    expect_or_drop("id_present", "id IS NOT NULL"),
    expect_or_drop("positive_amount", "amount > 0"),
)


@pytest.fixture
def orders(spark):
    return spark.createDataFrame(
        [(1, 10, "a@x"), (1, 12, None), (None, 5, "b@x"), (2, -1, "c@x"), (3, None, "d@x")],
        "id INT, amount INT, email STRING",
    )


def test_failed_rules_lists_every_broken_rule_and_null_counts_as_broken(orders):
    checked = quality.with_failed_rules(orders, RULES)
    rules = {
        (r["id"], r["amount"]): r["rules"] for r in checked.withColumn("rules", quality.failed_rules(RULES)).collect()
    }
    assert rules == {
        (1, 10): [],
        (1, 12): ["has_email"],
        (None, 5): ["id_present"],
        (2, -1): ["positive_amount"],
        (3, None): ["positive_amount"],
    }


def test_measure_counts_rows_rules_quarantine_and_distinct_accepted_keys(orders):
    checked = quality.with_failed_rules(orders, RULES)
    measured = quality.measure(checked, RULES)
    assert (measured.rows_in, measured.quarantined, quality.distinct_keys(checked, RULES, ("id",))) == (5, 3, 1)
    assert measured.broken == {"has_email": 1, "id_present": 1, "positive_amount": 2}


def test_accepted_and_quarantined_rows_split_the_batch_exactly(orders):
    checked = quality.with_failed_rules(orders, RULES)
    accepted = quality.accepted_rows(checked, RULES)
    rejected = quality.quarantine_rows(checked, RULES, "orders", "run-1", 7).collect()
    assert sorted(r["amount"] for r in accepted.collect()) == [10, 12]
    assert accepted.columns == orders.columns  # the rules' working columns left behind
    assert set().union(*(json.loads(r["record"]) for r in rejected)) == {"id", "amount", "email"}  # NULLs omitted
    assert sorted(((json.loads(r["record"]).get("id"), r["rules"]) for r in rejected), key=str) == [
        (2, ["positive_amount"]),
        (3, ["positive_amount"]),
        (None, ["id_present"]),
    ]
    assert {(r["table"], r["run_id"], r["batch_id"]) for r in rejected} == {("orders", "run-1", 7)}


def test_expect_or_fail_stops_the_batch_naming_the_rule_and_count(orders):
    rules = (expect_or_fail("id_present", "id IS NOT NULL"),)
    measured = quality.measure(quality.with_failed_rules(orders, rules), rules)
    with pytest.raises(
        ExpectationFailed, match=r"shop.orders: expect_or_fail broken by id_present \(1 rows\); nothing"
    ):
        quality.enforce_fail_rules(measured, rules, "shop.orders")


def _rules(source: FileSource, columns: list[str], expectations=()) -> tuple:
    return quality.rules_for("raw_bz", tuple(expectations), source, columns)


def test_file_tables_get_the_source_rules_with_the_drift_policy_actions():
    lenient = FileSource("in", "json", "id INT")
    strict = FileSource("in", "json", "id INT", on_new_column="fail", on_type_change="fail")
    columns = ["id", "_corrupt_record", "_rescued_data"]
    assert [(r.name, r.action) for r in _rules(lenient, columns)] == [
        ("parsed", "drop"),
        ("valid_utf8", "drop"),
        ("no_new_columns", "warn"),
    ]
    assert [(r.name, r.action) for r in _rules(strict, columns)] == [
        ("parsed", "fail"),
        ("valid_utf8", "fail"),
        ("no_new_columns", "fail"),
    ]
    declared = _rules(FileSource("in", "csv", "id INT"), ["id", "_corrupt_record"], (expect("parsed", "true"),))
    assert [r.name for r in declared] == ["parsed", "valid_utf8"]


def test_a_file_table_that_drops_the_corrupt_record_column_is_refused():
    with pytest.raises(
        MedallionError, match="raw_bz reads landing files but its build function drops '_corrupt_record'"
    ):
        _rules(FileSource("in", "csv", "id INT"), ["id"])


def test_drift_counts_rows_per_undeclared_field(spark):
    batch = spark.createDataFrame([('{"spo2":"97"}',), ('{"spo2":"95","note":"x"}',), (None,)], "_rescued_data STRING")
    assert quality.drift(batch) == {"spo2": 2, "note": 1}


def test_quarantine_record_keeps_every_column_as_json(spark):
    batch = spark.createDataFrame(
        [(None, "raw line", "file:/landing/a.csv")], "id INT, _corrupt_record STRING, source_file STRING"
    )
    rules = (expect_or_drop("parsed", "_corrupt_record IS NULL"),)
    rejected = quality.quarantine_rows(quality.with_failed_rules(batch, rules), rules, "raw_bz", "r", 0)
    expected = spark.createDataFrame(
        [
            (
                "raw_bz",
                ["parsed"],
                '{"_corrupt_record":"raw line","source_file":"file:/landing/a.csv"}',
                "file:/landing/a.csv",
            )
        ],
        "table STRING, rules ARRAY<STRING>, record STRING, source STRING",
    )
    assert_df_equality(rejected.select("table", "rules", "record", "source"), expected, ignore_nullable=True)


def test_a_table_with_personal_data_quarantines_no_working_column(spark):
    """Its policy covers its columns; the raw line may hold them in clear, and stays at its source."""
    batch = spark.createDataFrame(
        [("3f9a", '{"ip": "10.0.0.9", "event": "hover"}', '{"note": "x"}', "clicks/0@17")],
        "ip STRING, _corrupt_record STRING, _rescued_data STRING, _source STRING",
    )
    rules = (expect_or_drop("event_known", "false"),)
    checked = quality.with_failed_rules(batch, rules)
    rejected = quality.quarantine_rows(checked, rules, "clicks", "r", 0, protects_personal_data=True)
    assert [tuple(r) for r in rejected.select("record", "source").collect()] == [('{"ip":"3f9a"}', "clicks/0@17")]
    kept = quality.quarantine_rows(checked, rules, "clicks", "r", 0).first()
    assert "10.0.0.9" in kept.record  # without personal data declared, the raw line is the record's best part


def test_quarantine_source_prefers_the_declared_lineage_and_keeps_it_out_of_the_record(spark):
    batch = spark.createDataFrame(
        [(None, "/landing/k.json#bpm/0@17", "/landing/k.json")], "id INT, _source STRING, source_file STRING"
    )
    rules = (expect_or_drop("id_present", "id IS NOT NULL"),)
    rejected = quality.quarantine_rows(quality.with_failed_rules(batch, rules), rules, "heart_rate", "r", 0).first()
    assert (rejected["source"], rejected["record"]) == ("/landing/k.json#bpm/0@17", '{"source_file":"/landing/k.json"}')


def test_two_expectations_of_one_name_are_refused_at_declaration():
    with pytest.raises(ValueError, match="table orders: expectation names must be unique .*: id_present declared more"):

        @table(Layer.SILVER, Append(), expectations=(RULES[1], expect_or_drop("id_present", "id > 0")))
        def orders() -> DataFrame:
            """Never built."""
            raise AssertionError("never built")
