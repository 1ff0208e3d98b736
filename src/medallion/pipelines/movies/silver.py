"""Silver: classified reviews, parsed session logs and cleaned purchases.

Every review and log row of bronze ends up either in its silver table or in quarantine with the rules it
broke; nothing is dropped silently. Working columns (named ``_…``) feed the expectations and are kept in
quarantine records only.

Repeated ids: the first occurrence of an id wins, "first" meaning the earliest ``load_time``, then
``source_file``, then position in the file. Every later row with that id is quarantined
(``unique_review_id`` / ``unique_log_id``), whether it repeats an id of the same file or of an earlier day.
A review that lacks its customer id or its text, and a session log quarantined for what it holds (malformed
XML, a missing or unknown field, a bad date), never claims its id, so the vendor's corrected resend of it is
loaded, not quarantined as a repeat.

Late-arriving customers: a review quarantined by ``known_customer`` (no purchase of its customer yet) is
released into ``classified_movie_review`` on a later run once a purchase of the customer reaches
``user_purchase`` (``retry_when_referenced``; also ``medallion requeue movies --rule known_customer``).
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.declare.tables import (
    CdcLatest,
    InsertOnly,
    Layer,
    expect,
    expect_or_drop,
    retry_when_referenced,
    snapshot,
    stream,
    table,
)
from medallion.pipelines.movies import session_log
from medallion.pipelines.movies.classification import positive_review

LANDING_ORDER = ("load_time", "source_file", "source_line")


def is_repeat(rows: DataFrame, landed: DataFrame, id_column: str) -> DataFrame:
    """``rows`` with a boolean ``_repeated_id``, true when ``landed`` (all of bronze) holds an
    earlier row with the same id that claims it (all of them, unless ``landed`` has a boolean ``_claims``).
    ``rows`` may be a stream: ``landed`` is read afresh for every batch."""
    landing_order = F.struct(*LANDING_ORDER)
    claimed = F.when(F.col("_claims"), landing_order) if "_claims" in landed.columns else landing_order
    first_seen = landed.groupBy(F.col(id_column).alias("_first_id")).agg(F.min(claimed).alias("_first_seen"))
    joined = rows.join(first_seen, F.col(id_column) == F.col("_first_id"), "left")
    return joined.withColumn(
        "_repeated_id",
        F.coalesce(F.struct(*LANDING_ORDER) > F.col("_first_seen"), F.lit(False)),
    ).drop("_first_id")


def known_customers(purchases: DataFrame) -> DataFrame:
    return purchases.select(F.col("customer_id").alias("_known_customer_id")).distinct()


@table(
    Layer.SILVER,
    InsertOnly(("review_id",)),
    {
        "reviews": stream("movie_review_bz"),
        "landed": snapshot("movie_review_bz"),
        "purchases": snapshot("user_purchase"),
    },
    expectations=(
        expect_or_drop("review_id_present", "review_id IS NOT NULL"),
        expect_or_drop("customer_id_present", "customer_id IS NOT NULL"),
        expect_or_drop("review_text_present", "_review_str IS NOT NULL"),
        expect_or_drop("unique_review_id", "review_id IS NULL OR NOT _repeated_id"),
        expect_or_drop("known_customer", "customer_id IS NULL OR _known_customer_id IS NOT NULL"),
    ),
    retries=(retry_when_referenced("known_customer", "user_purchase", "customer_id"),),
)
def classified_movie_review(reviews: DataFrame, landed: DataFrame, purchases: DataFrame, conf) -> DataFrame:
    """One row per review: positive_review = 1 when the exact token ``good`` remains after tokenising and
    stop-word removal (see ``classification``). insert_date is the day the review landed in the lake.
    A review of a customer without purchases in user_purchase is quarantined (``known_customer``) until
    the customer's purchases arrive."""
    claiming = landed.where("cid IS NOT NULL AND review_str IS NOT NULL")  # rows that could ever be accepted
    checked = is_repeat(reviews, claiming, "id_review").join(
        F.broadcast(known_customers(purchases)), F.col("cid") == F.col("_known_customer_id"), "left"
    )
    return checked.select(
        F.col("cid").alias("customer_id"),
        F.col("id_review").alias("review_id"),
        positive_review(F.col("review_str"), bool(conf.get("strip_br_tags", True))).alias("positive_review"),
        F.to_date("load_time").alias("insert_date"),
        F.col("review_str").alias("_review_str"),
        "_repeated_id",
        "_known_customer_id",
        F.col("source_file").alias("_source_file"),
    )


REVIEW_LOG_RULES = (
    expect_or_drop("log_id_present", "log_id IS NOT NULL"),
    expect_or_drop("log_is_well_formed_xml", "_well_formed"),
    expect_or_drop("log_date_present", "NOT _well_formed OR _log_date_text IS NOT NULL"),
    expect_or_drop("log_date_valid", "_log_date_text IS NULL OR log_date IS NOT NULL"),
    expect_or_drop("device_present", "NOT _well_formed OR device IS NOT NULL"),
    expect_or_drop("known_device", f"device IS NULL OR device IN {session_log.DEVICES!r}"),
    expect_or_drop("os_present", "NOT _well_formed OR os IS NOT NULL"),
    expect_or_drop("known_os", f"os IS NULL OR os IN {tuple(session_log.OS_BROWSER)!r}"),
    expect_or_drop("location_present", "NOT _well_formed OR location IS NOT NULL"),
    expect("location_is_us_state", f"location IS NULL OR location IN {session_log.US_STATES!r}"),  # counted only
    expect_or_drop("ip_present", "NOT _well_formed OR ip IS NOT NULL"),
    expect_or_drop("phone_number_present", "NOT _well_formed OR phone_number IS NOT NULL"),
)
UNIQUE_LOG_ID = expect_or_drop("unique_log_id", "log_id IS NULL OR NOT _repeated_id")


@table(
    Layer.SILVER,
    InsertOnly(("log_id",)),
    {"logs": stream("log_reviews_bz"), "landed": snapshot("log_reviews_bz")},
    expectations=(*REVIEW_LOG_RULES, UNIQUE_LOG_ID),
    personal_data={"ip": "tokenize", "phone_number": "tokenize", "log": "drop"},
)
def review_logs(logs: DataFrame, landed: DataFrame) -> DataFrame:
    """One row per review session: the XML log parsed by an XML parser (``session_log``), browser derived from
    the OS. ip and phone_number are personal data: stored as keyed tokens, never raw; the raw log (which
    holds them) is dropped before the row is stored or quarantined (bronze keeps it). A log quarantined for
    what it holds (malformed XML, a missing or unknown field) never claims its id, so the vendor's corrected
    resend of it is loaded, not quarantined as a repeat."""
    return session_rows(is_repeat(logs, claiming_logs(landed), "id_review"))


def claiming_logs(landed: DataFrame) -> DataFrame:
    """The bronze logs that claim their id: those that pass every rule of ``REVIEW_LOG_RULES`` (they could be
    accepted). Only the logs of ids landed more than once are parsed: an id landed once cannot repeat."""
    repeated_ids = landed.groupBy("id_review").count().where("count > 1").select("id_review")
    contenders = session_rows(landed.join(repeated_ids, "id_review", "left_semi"), *LANDING_ORDER)
    acceptable = [F.coalesce(F.expr(e.condition), F.lit(False)) for e in REVIEW_LOG_RULES if e.action == "drop"]
    could_be_accepted = acceptable[0]
    for condition in acceptable[1:]:
        could_be_accepted = could_be_accepted & condition
    # A column, not a filter: a filter would be pushed below the join and parse every landed log.
    return contenders.select(F.col("log_id").alias("id_review"), *LANDING_ORDER, could_be_accepted.alias("_claims"))


def session_rows(logs: DataFrame, *kept: str) -> DataFrame:
    """The parsed columns of ``review_logs`` (with ``_repeated_id`` when ``logs`` has it), plus ``kept``."""
    parsed = (
        logs.withColumn("_log", session_log.parsed_log(F.col("log")))
        .select(
            "*",
            F.coalesce(F.col("_log.well_formed"), F.lit(False)).alias("_well_formed"),
            *[F.col(f"_log.{column}").alias(column) for column in session_log.FIELDS],
        )
        .drop("_log")
    )
    return parsed.select(
        F.col("id_review").alias("log_id"),
        session_log.log_date(F.col("log_date_text")).alias("log_date"),
        "device",
        "os",
        "location",
        session_log.browser_of(F.col("os")).alias("browser"),
        "ip",
        "phone_number",
        "log",
        F.col("log_date_text").alias("_log_date_text"),
        "_well_formed",
        *(["_repeated_id"] if "_repeated_id" in logs.columns else []),
        F.col("source_file").alias("_source_file"),
        *kept,
    )


@table(
    Layer.SILVER,
    CdcLatest(("purchase_id",), ("updated_at", "deleted")),
    {"purchases": stream("user_purchase_bz")},
    expectations=(
        expect_or_drop("customer_id_present", "deleted OR customer_id IS NOT NULL"),
        expect("positive_quantity", "deleted OR quantity > 0"),
        expect("positive_unit_price", "deleted OR unit_price > 0"),
    ),
)
def user_purchase(purchases: DataFrame) -> DataFrame:
    """Purchase lines of known customers, as the database holds them now: per purchase_id the latest copied
    version wins (an update replaces the line; a delete leaves the line with ``deleted`` true and its other
    columns NULL). Lines without a customer are quarantined; a quantity ≤ 0 or a unit_price ≤ 0 (returns,
    cancellations, errors) is kept with ``is_sale`` false, counted by the ``positive_quantity`` /
    ``positive_unit_price`` expectations, and left out of amount_spent, as are deleted lines."""
    return purchases.select(
        "purchase_id",
        "invoice_number",
        "stock_code",
        "detail",
        "quantity",
        "invoice_date",
        "unit_price",
        "customer_id",
        "country",
        F.coalesce(~F.col("deleted") & (F.col("quantity") > 0) & (F.col("unit_price") > 0), F.lit(False)).alias(
            "is_sale"
        ),
        "updated_at",
        "deleted",
    )
