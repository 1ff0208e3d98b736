"""Bronze: the vendor's daily review and session-log files as they came, plus where and when they landed.

Both files are RFC 4180 CSV with a header naming the spec's columns (in any order: columns are mapped
by name). Each file is read whole and split into records by ``vendor_csv`` (so every row knows its
``source_line``). Nothing is read by guessing; with its raw text, the quarantine gets
a record that does not fit the columns (a wrong number of fields, an id that is not a number) under
``parsed``, a record of a file that is not UTF-8 holding an undecodable character under ``valid_utf8``,
and a whole file whose header is not the declared one under ``declared_header``. With ``load_time`` and
``source_file``, ``source_line`` tells silver which of two rows with the same id came first.

``user_purchase_bz`` copies the operational ``user_purchase`` table over JDBC, incrementally: inserts,
updates and deletes, late commits included (a 15-minute look-back window).
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.declare.tables import Append, FileSource, JdbcSource, Layer, expect_or_drop, table
from medallion.pipelines.movies import vendor_csv


def defect_rule(name: str):
    """The rule that quarantines the records ``vendor_csv`` marks with the defect ``name``."""
    return expect_or_drop(name, f"_corrupt_record IS NULL OR coalesce(_defect, '') <> '{name}'")


FILE_RULES = tuple(defect_rule(name) for name in vendor_csv.DEFECTS)
DATABASE = "operational"  # the `databases:` entry of the operational database that holds user_purchase
WHOLE_FILES = {"wholetext": "true", "recursiveFileLookup": "true"}  # files may also sit in per-day folders

MOVIE_REVIEW = FileSource(
    folder="movie_review", format="text", schema="value STRING", options=WHOLE_FILES, name_glob="*.csv"
)
LOG_REVIEWS = FileSource(
    folder="log_reviews", format="text", schema="value STRING", options=WHOLE_FILES, name_glob="*.csv"
)
MOVIE_REVIEW_COLUMNS = (("cid", "int"), ("review_str", "string"), ("id_review", "int"))
LOG_REVIEWS_COLUMNS = (("id_review", "int"), ("log", "string"))


def file_records(files: DataFrame, columns) -> DataFrame:
    """One row per record of each landed file: the declared columns, ``source_line``, ``source_file``,
    ``load_time``, ``_corrupt_record`` and its ``_defect``."""
    records = files.select("source_file", "load_time", F.inline(vendor_csv.parsed_rows(F.col("value"), columns)))
    return records.select(
        *[name for name, _ in columns], "source_file", "source_line", "load_time", "_corrupt_record", "_defect"
    )


@table(Layer.BRONZE, Append(), {"files": MOVIE_REVIEW}, expectations=FILE_RULES)
def movie_review_bz(files: DataFrame) -> DataFrame:
    """Movie reviews as landed (movie_review.csv: cid, review_str, id_review)."""
    return file_records(files, MOVIE_REVIEW_COLUMNS)


@table(Layer.BRONZE, Append(), {"files": LOG_REVIEWS}, expectations=FILE_RULES)
def log_reviews_bz(files: DataFrame) -> DataFrame:
    """Review session logs as landed (log_reviews.csv: id_review, log as an XML string)."""
    return file_records(files, LOG_REVIEWS_COLUMNS)


USER_PURCHASE = JdbcSource(
    table="user_purchase",
    database=DATABASE,
    change_column="updated_at",
    partition_column="purchase_id",
    keys=("purchase_id",),
    lookback="15 minutes",
    deletes="user_purchase_deleted",
    schema="purchase_id BIGINT, invoice_number STRING, stock_code STRING, detail STRING, quantity INT, "
    "invoice_date TIMESTAMP, unit_price DECIMAL(8,3), customer_id INT, country STRING, updated_at TIMESTAMP",
)


@table(Layer.BRONZE, Append(), {"changes": USER_PURCHASE})
def user_purchase_bz(changes: DataFrame) -> DataFrame:
    """Purchase lines copied from the operational user_purchase table, one row per copied version: each run
    copies the rows inserted, updated (``updated_at``) or deleted (``deleted``, from user_purchase_deleted)
    since the last copy, re-reading a 15-minute window for late commits (see ``medallion.sources.jdbc``)."""
    return changes
