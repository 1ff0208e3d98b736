"""The vendor CSV reader: RFC 4180 records with the line they start on; what does not fit is corrupt."""
from datetime import datetime

from chispa import assert_df_equality
from pyspark.sql import functions as F

from medallion.pipelines.movies.bronze import MOVIE_REVIEW_COLUMNS, file_records
from medallion.pipelines.movies.vendor_csv import records

COLUMNS = MOVIE_REVIEW_COLUMNS  # cid INT, review_str STRING, id_review INT


def test_quoted_fields_keep_commas_quotes_tags_and_line_breaks():
    text = ('cid,review_str,id_review\n'
            '17850,"A ""good"", long<br /><br />movie\nwith two lines",1\n'
            '13047,plain text,2\n')
    assert records(text, COLUMNS) == [
        (2, 17850, 'A "good", long<br /><br />movie\nwith two lines', 1, None),
        (4, 13047, "plain text", 2, None),
    ]


def test_records_that_do_not_fit_are_corrupt_with_their_raw_text():
    text = ("cid,review_str,id_review\n"
            "abc,not a customer id,3\n"
            "1,too,many,fields,4\n"
            "2,too few\n"
            "3,an id beyond INT,99999999999\n"
            "4,fine,5\n")
    assert records(text, COLUMNS) == [
        (2, None, None, None, "abc,not a customer id,3"),
        (3, None, None, None, "1,too,many,fields,4"),
        (4, None, None, None, "2,too few"),
        (5, None, None, None, "3,an id beyond INT,99999999999"),
        (6, 4, "fine", 5, None),
    ]


def test_header_bom_blank_lines_crlf_and_empty_fields():
    text = "\ufeffCID , Review_Str,id_review\r\n\r\n7,,8\r\n ,x, 9 \r\n"
    assert records(text, COLUMNS) == [(3, 7, None, 8, None), (4, None, "x", 9, None)]


def test_a_file_without_header_is_all_data_and_an_open_quote_keeps_the_rest_as_one_corrupt_record():
    assert records("1,a,2\n", COLUMNS) == [(1, 1, "a", 2, None)]
    assert records('1,a,2\n3,"open,4\n5,b,6\n', COLUMNS) == [
        (1, 1, "a", 2, None), (2, None, None, None, '3,"open,4\n5,b,6')]


def test_bronze_rows_carry_file_line_and_load_time(spark):
    loaded = datetime(2021, 4, 1, 6, 0)
    files = spark.createDataFrame(
        [("cid,review_str,id_review\n1,\"good, really\",10\nx,bad,11\n", "/landing/movie_review/day1.csv", loaded)],
        "value STRING, source_file STRING, load_time TIMESTAMP")
    expected = spark.createDataFrame([
        (1, "good, really", 10, "/landing/movie_review/day1.csv", 2, loaded, None),
        (None, None, None, "/landing/movie_review/day1.csv", 3, loaded, "x,bad,11"),
    ], "cid INT, review_str STRING, id_review INT, source_file STRING, source_line INT, load_time TIMESTAMP, "
       "_corrupt_record STRING")
    assert_df_equality(file_records(files, COLUMNS), expected, ignore_nullable=True)
    assert file_records(files, COLUMNS).where(F.col("_corrupt_record").isNull()).count() == 1
