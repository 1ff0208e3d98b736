"""The vendor CSV reader: RFC 4180 records with the line they start on; what does not fit is corrupt."""

from datetime import datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from medallion.declare.pipeline import get_pipeline
from medallion.engine import quality
from medallion.pipelines.movies.bronze import MOVIE_REVIEW_COLUMNS, file_records
from medallion.pipelines.movies.vendor_csv import records

COLUMNS = MOVIE_REVIEW_COLUMNS  # cid INT, review_str STRING, id_review INT


def test_quoted_fields_keep_commas_quotes_tags_and_line_breaks():
    text = 'cid,review_str,id_review\n17850,"A ""good"", long<br /><br />movie\nwith two lines",1\n13047,plain text,2\n'
    assert records(text, COLUMNS) == [
        (2, 17850, 'A "good", long<br /><br />movie\nwith two lines', 1, None, None),
        (4, 13047, "plain text", 2, None, None),
    ]


def test_records_that_do_not_fit_are_corrupt_with_their_raw_text():
    text = (
        "cid,review_str,id_review\n"
        "abc,not a customer id,3\n"
        "1,too,many,fields,4\n"
        "2,too few\n"
        "3,an id beyond INT,99999999999\n"
        "4,fine,5\n"
    )
    assert records(text, COLUMNS) == [
        (2, None, None, None, "abc,not a customer id,3", "parsed"),
        (3, None, None, None, "1,too,many,fields,4", "parsed"),
        (4, None, None, None, "2,too few", "parsed"),
        (5, None, None, None, "3,an id beyond INT,99999999999", "parsed"),
        (6, 4, "fine", 5, None, None),
    ]


def test_header_bom_blank_lines_crlf_and_empty_fields():
    text = "\ufeffCID , Review_Str,id_review\r\n\r\n7,,8\r\n ,x, 9 \r\n"
    assert records(text, COLUMNS) == [(3, 7, None, 8, None, None), (4, None, "x", 9, None, None)]


def test_an_open_quote_keeps_the_rest_of_the_file_as_one_corrupt_record():
    assert records('cid,review_str,id_review\n1,a,2\n3,"open,4\n5,b,6\n', COLUMNS) == [
        (2, 1, "a", 2, None, None),
        (3, None, None, None, '3,"open,4\n5,b,6', "parsed"),
    ]


def test_records_break_only_at_cr_and_lf_never_inside_text():
    """U+0085, U+2028, U+2029, form feed, vertical tab and the like are text in RFC 4180, quoted or not."""
    separators = "\x85\u2028\u2029\x0c\x0b\x1c"
    text = f'cid,review_str,id_review\n1,"quoted{separators}review",2\r\n3,bare{separators}review,4\r5,last,6'
    assert records(text, COLUMNS) == [
        (2, 1, f"quoted{separators}review", 2, None, None),
        (3, 3, f"bare{separators}review", 4, None, None),
        (4, 5, "last", 6, None, None),
    ]


def test_columns_are_mapped_by_header_name_in_any_order():
    text = "id_review,CID,review_str\n10,17850,a good movie\n11,13047,dull\n"
    assert records(text, COLUMNS) == [(2, 17850, "a good movie", 10, None, None), (3, 13047, "dull", 11, None, None)]


@pytest.mark.parametrize(
    "header",
    [
        "cid,review_str",  # a column missing
        "cid,review_str,id_review,rating",  # an undeclared column
        "cid,review,id_review",  # a renamed column
        "cid,cid,id_review",  # a repeated column
        "1,a,2",  # no header at all
    ],
)
def test_a_file_whose_header_is_not_the_declared_one_is_quarantined_whole(header):
    text = f"{header}\n17850,good,1\n"
    assert records(text, COLUMNS) == [(1, None, None, None, text, "declared_header")]


def test_bronze_rows_carry_file_line_and_load_time(spark):
    loaded = datetime(2021, 4, 1, 6, 0)
    files = spark.createDataFrame(
        [('cid,review_str,id_review\n1,"good, really",10\nx,bad,11\n', "/landing/movie_review/day1.csv", loaded)],
        "value STRING, source_file STRING, load_time TIMESTAMP",
    )
    expected = spark.createDataFrame(
        [
            (1, "good, really", 10, "/landing/movie_review/day1.csv", 2, loaded, None, None),
            (None, None, None, "/landing/movie_review/day1.csv", 3, loaded, "x,bad,11", "parsed"),
        ],
        "cid INT, review_str STRING, id_review INT, source_file STRING, source_line INT, load_time TIMESTAMP, "
        "_corrupt_record STRING, _defect STRING",
    )
    assert_df_equality(file_records(files, COLUMNS), expected, ignore_nullable=True)
    assert file_records(files, COLUMNS).where(F.col("_corrupt_record").isNull()).count() == 1


def landed_bytes(spark, content: bytes):
    """A landed file as the text source reads it: its bytes as they are, whatever their encoding."""
    return spark.createDataFrame(
        [(bytearray(content), "day1.csv", datetime(2021, 4, 1))], "raw BINARY, source_file STRING, load_time TIMESTAMP"
    ).select(F.col("raw").cast("string").alias("value"), "source_file", "load_time")


def bronze_rules(spark, content: bytes):
    table = get_pipeline("movies").get("movie_review_bz")
    checked = quality.with_failed_rules(table(landed_bytes(spark, content)), table.expectations)
    checked = checked.withColumn("rules", quality.failed_rules(table.expectations))
    return [(r["source_line"], r["cid"], r["review_str"], r["rules"]) for r in checked.orderBy("source_line").collect()]


def test_records_of_a_file_that_is_not_utf8_are_quarantined_under_valid_utf8(spark):
    latin1 = "cid,review_str,id_review\n1,Cali\u00e9fornia dreams,2\n3,fine,4\n".encode("latin-1")
    assert bronze_rules(spark, latin1) == [
        (2, None, None, ["valid_utf8"]),
        (3, 3, "fine", []),
    ]


def test_a_utf8_file_keeps_its_characters_including_a_genuine_replacement_character(spark):
    utf8 = "cid,review_str,id_review\n1,Caf\u00e9 \ufffd ok,2\n".encode("utf-8")
    assert bronze_rules(spark, utf8) == [(2, 1, "Caf\u00e9 \ufffd ok", [])]


def test_a_file_with_another_header_breaks_declared_header_only(spark):
    assert bronze_rules(spark, b"customer,review_str,id_review\n1,good,2\n") == [(1, None, None, ["declared_header"])]
