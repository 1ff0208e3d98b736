"""Reading landing files: nothing that arrives is silently dropped, nulled or changed."""

from decimal import Decimal

import pytest
from pyspark.sql.types import DecimalType

from medallion.declare.tables import FileSource
from medallion.sources.files import parse_json, read_files_once
from medallion.sources.schemas import struct_type

SCHEMA = "id BIGINT, name STRING"


def land(runtime, folder, name, content: bytes):
    path = runtime.settings.landing_path("demo", folder)
    import os

    os.makedirs(path, exist_ok=True)
    with open(f"{path}/{name}", "wb") as out:
        out.write(content)


def rows(df):
    return sorted((tuple(None if v is None else v for v in r) for r in df.drop("load_time").collect()), key=str)


def test_json_lines_keep_malformed_wrong_typed_and_non_utf8_records_raw(make_runtime):
    runtime = make_runtime()
    land(
        runtime,
        "people",
        "a.json",
        b'{"id": 1, "name": "Ann"}\n\n{"id": "two", "name": "Bob"}\n{"id": 3, \n{"id": 4, "name": "Zo\xeb"}\n[1, 2]\n',
    )
    land(runtime, "people", "empty.json", b"")
    frame = read_files_once(runtime.spark, runtime.settings, FileSource("people", "json", SCHEMA, stream=False), "demo")
    found = {(r["id"], r["name"], r["_corrupt_record"]) for r in frame.collect()}
    assert found == {
        (1, "Ann", None),
        (None, "Bob", '{"id": "two", "name": "Bob"}'),  # wrong type: raw kept, never a silent NULL
        (None, None, '{"id": 3, '),  # malformed
        (4, "Zo\ufffd", '{"id": 4, "name": "Zo\ufffd"}'),  # not UTF-8: flagged
        (None, None, "[1, 2]"),  # not an object
    }
    assert frame.where("source_file LIKE '%/people/a.json'").count() == 5  # the blank line is not a record


def test_json_fields_the_schema_does_not_declare_are_rescued(make_runtime):
    runtime = make_runtime()
    land(
        runtime,
        "people",
        "b.json",
        b'{"id": 1, "name": "Ann", "spo2": 97, "tags": {"a": 1}}\n{"id": 2, "name": "Bob"}\n',
    )
    frame = read_files_once(runtime.spark, runtime.settings, FileSource("people", "json", SCHEMA, stream=False), "demo")
    assert {(r["id"], r["_rescued_data"]) for r in frame.collect()} == {
        (1, '{"spo2":"97","tags":"{\\"a\\":1}"}'),
        (2, None),
    }


def test_csv_extra_missing_wrong_typed_and_non_utf8_fields_are_corrupt(make_runtime):
    runtime = make_runtime()
    land(runtime, "people", "c.csv", b"id,name\n1,Ann\n2,Bob,extra\n3\nfour,Dan\n5,Zo\xeb\n\n\n")
    frame = read_files_once(runtime.spark, runtime.settings, FileSource("people", "csv", SCHEMA, stream=False), "demo")
    found = {(r["id"], r["_corrupt_record"]) for r in frame.collect()}
    assert found == {(1, None), (2, "2,Bob,extra"), (3, "3"), (None, "four,Dan"), (5, "5,Zo\ufffd")}


def test_a_csv_decimal_with_more_digits_or_places_than_its_type_is_corrupt_never_rounded(make_runtime):
    runtime = make_runtime()
    schema = "id BIGINT, price DECIMAL(5,2)"
    land(runtime, "prices", "p.csv", b"id,price\n1,19.99\n2,19.999\n3,1234.5\n4, 007.50 \n5,\n6,1e2\n7,-0.5\n")
    csv = read_files_once(runtime.spark, runtime.settings, FileSource("prices", "csv", schema, stream=False), "demo")

    assert sorted((r["id"], r["price"], r["_corrupt_record"]) for r in csv.collect()) == [
        (1, Decimal("19.99"), None),
        (2, None, "2,19.999"),  # a cast would round it to 20.00
        (3, None, "3,1234.5"),  # beyond DECIMAL(5,2)
        (4, Decimal("7.50"), None),
        (5, None, None),
        (6, None, "6,1e2"),
        (7, Decimal("-0.50"), None),
    ]


@pytest.mark.parametrize("ansi", [False, True], ids=["ansi off", "ansi on"])
def test_a_json_decimal_with_more_digits_or_places_than_its_type_is_corrupt_never_rounded(make_runtime, ansi):
    runtime = make_runtime()
    before = runtime.spark.conf.get("spark.sql.ansi.enabled")
    runtime.spark.conf.set("spark.sql.ansi.enabled", str(ansi).lower())
    try:
        check_json_decimals(runtime)
        check_nested_json_decimals(runtime)
    finally:
        runtime.spark.conf.set("spark.sql.ansi.enabled", before)


def check_json_decimals(runtime):
    schema = "id BIGINT, price DECIMAL(5,2)"
    lines = [
        '{"id": 1, "price": 19.99}',
        '{"id": 2, "price": 19.999}',  # a parse would round it to 20.00
        '{"id": 3, "price": 1234.5}',  # beyond DECIMAL(5,2)
        '{"id": 4, "price": 1.10}',
        '{"id": 5, "price": 1e1}',  # a JSON number may have an exponent
        '{"id": 6, "price": -0.005}',
        '{"id": 7, "price": null}',
        '{"id": 8}',
        '{"id": 9, "price": 999.999}',  # rounded, it needs a fourth whole digit (1000.00)
        '{"id": 10, "price": -999.995}',
        '{"id": 11, "price": 999.990}',
    ]
    land(runtime, "prices", "p.json", "\n".join(lines).encode() + b"\n")
    json = read_files_once(runtime.spark, runtime.settings, FileSource("prices", "json", schema, stream=False), "demo")

    assert json.schema["price"].dataType == DecimalType(5, 2)
    assert sorted((r["id"], r["price"], r["_corrupt_record"]) for r in json.collect()) == [
        (1, Decimal("19.99"), None),
        (2, None, lines[1]),
        (3, None, lines[2]),
        (4, Decimal("1.10"), None),
        (5, Decimal("10.00"), None),
        (6, None, lines[5]),
        (7, None, None),
        (8, None, None),
        (9, None, lines[8]),
        (10, None, lines[9]),
        (11, Decimal("999.99"), None),
    ]


def check_nested_json_decimals(runtime):
    schema = (
        "id BIGINT, total STRUCT<price: DECIMAL(5,2) NOT NULL, qty: INT NOT NULL>, prices ARRAY<DECIMAL(5,2)>, "
        "by_size MAP<STRING, DECIMAL(5,2)>, lines ARRAY<STRUCT<price: DECIMAL(5,2)>>"
    )
    lines = [
        '{"id": 1, "total": {"price": 19.99, "qty": 2}, "prices": [1.5, null], "by_size": {"s": 3.5}, '
        '"lines": [{"price": 1.01}]}',
        '{"id": 2, "total": {"price": 19.999, "qty": 2}}',  # a parse would round it to 20.00
        '{"id": 3, "prices": [1.5, 999.999]}',  # rounded, it needs a fourth whole digit
        '{"id": 4, "by_size": {"s": 1, "m": 0.005}}',
        '{"id": 5, "lines": [{"price": 1.01}, {"price": 1.011}]}',
        '{"id": 6, "total": null, "prices": null, "lines": [null]}',
    ]
    land(runtime, "orders", "o.json", "\n".join(lines).encode() + b"\n")
    json = read_files_once(runtime.spark, runtime.settings, FileSource("orders", "json", schema, stream=False), "demo")

    declared = struct_type(schema.split(", ", 1)[1].replace(" NOT NULL", ""))  # what a parse gives may be NULL
    assert json.select("total", "prices", "by_size", "lines").schema == declared
    by_id = {r["id"]: r for r in json.collect()}
    assert {i: r["_corrupt_record"] for i, r in by_id.items()} == {
        1: None,
        2: lines[1],
        3: lines[2],
        4: lines[3],
        5: lines[4],
        6: None,
    }
    first = by_id[1]
    assert (first["total"]["price"], first["prices"], first["by_size"], first["lines"][0]["price"]) == (
        Decimal("19.99"),
        [Decimal("1.50"), None],
        {"s": Decimal("3.50")},
        Decimal("1.01"),
    )
    assert [by_id[i][c] for i, c in [(2, "total"), (3, "prices"), (4, "by_size"), (5, "lines")]] == [None] * 4
    assert (by_id[6]["total"], by_id[6]["prices"], by_id[6]["lines"]) == (None, None, [None])


def test_a_missing_landing_folder_is_one_clear_error(make_runtime):
    from medallion.errors import SourceError

    runtime = make_runtime()
    with pytest.raises(
        SourceError, match=r"Landing folder .*/landing/demo/nowhere does not exist: run `medallion produce demo"
    ):
        read_files_once(runtime.spark, runtime.settings, FileSource("nowhere", "csv", SCHEMA, stream=False), "demo")


def test_parse_json_of_a_column(spark):
    values = spark.createDataFrame(
        [('{"id": 1}',), ('{"id": 1.5}',), (None,), ('{"id": 2, "x": true}',)], "value STRING"
    )
    json = parse_json(values, "value", "id BIGINT")
    parsed = json.frame.select(
        json.value["id"].alias("id"), json.corrupt.alias("corrupt"), json.rescued.alias("rescued")
    ).collect()
    assert [tuple(r) for r in parsed] == [
        (1, None, None),
        (None, '{"id": 1.5}', None),
        (None, None, None),
        (2, None, '{"x":"true"}'),
    ]


def test_a_line_is_parsed_once_however_many_columns_read_the_parse(spark, capsys):
    values = spark.createDataFrame([('{"id": 1, "x": 2}',)], "value STRING")
    json = parse_json(values, "value", "id BIGINT")
    selected = json.frame.select(json.value.alias("v"), json.corrupt.alias("c"), json.rescued.alias("r"))
    selected.explain(extended=True)
    optimized = capsys.readouterr().out.split("== Optimized Logical Plan ==")[1].split("== Physical Plan ==")[0]
    # One parse against the schema; the only other, as a map, is for a line with undeclared fields.
    assert optimized.count("from_json(StructField(id") == 1
    assert optimized.count("from_json(") == 2
    assert [tuple(r) for r in selected.collect()] == [((1,), None, '{"x":"2"}')]
