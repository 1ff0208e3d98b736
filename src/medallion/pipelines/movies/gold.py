"""Gold: the star schema BI tools query: five dimensions and ``fact_movie_analytics``.

Dimensions hold every value seen in the valid session logs (silver ``review_logs``). Their surrogate keys
come from the ``SurrogateKey`` write mode: a value keeps its key for ever; values new in a run are numbered
after the greatest existing key, in the order of the value (dates in date order, names alphabetically).
So day 1's values get 1..n, day 2's new values n+1.., and a re-run assigns nothing.

``fact_movie_analytics`` has one row per customer and combination of dimension keys of their reviews
(a review counts once it has both its classification and its session log). ``amount_spent`` is the
customer's total of valid purchase lines (quantity × unit_price, sales only), aggregated per customer
**before** the join, so it is the same on every row of that customer and is never multiplied by a number
of reviews. It is a customer-level (semi-additive) measure: add it up over distinct customers, not rows.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.declare.tables import Layer, Scd1, SurrogateKey, snapshot, table

AMOUNT_TYPE = "decimal(18,5)"
SEASONS = ((12, 1, 2, "Winter"), (3, 4, 5, "Spring"), (6, 7, 8, "Summer"), (9, 10, 11, "Fall"))
DIMENSIONS = {  # dimension table → (surrogate key, value column in review_logs)
    "dim_devices": ("id_dim_devices", "device"),
    "dim_location": ("id_dim_location", "location"),
    "dim_os": ("id_dim_os", "os"),
    "dim_browser": ("id_dim_browser", "browser"),
}
FACT_KEYS = ("customer_id", "id_dim_date", "id_dim_devices", "id_dim_location", "id_dim_os", "id_dim_browser")
LOGS = {"logs": snapshot("review_logs")}


def new_key() -> F.Column:
    """The surrogate key column of a dimension build; the SurrogateKey write mode assigns its value."""
    return F.lit(None).cast("int")


def season(month: F.Column) -> F.Column:
    """Meteorological seasons of the northern hemisphere: Dec–Feb Winter, Mar–May Spring, Jun–Aug Summer,
    Sep–Nov Fall."""
    result = F.when(F.lit(False), F.lit(None).cast("string"))
    for *months, name in SEASONS:
        result = result.when(month.isin(*months), F.lit(name))
    return result


def value_dimension(logs: DataFrame, key: str, column: str) -> DataFrame:
    return logs.select(new_key().alias(key), column).where(F.col(column).isNotNull()).distinct()


@table(Layer.GOLD, SurrogateKey(("log_date",), "id_dim_date"), LOGS)
def dim_date(logs: DataFrame) -> DataFrame:
    """Calendar dates of review sessions, with day, month, year and season."""
    dates = logs.select("log_date").where(F.col("log_date").isNotNull()).distinct()
    return dates.select(
        new_key().alias("id_dim_date"),
        "log_date",
        F.dayofmonth("log_date").alias("day"),
        F.month("log_date").alias("month"),
        F.year("log_date").alias("year"),
        season(F.month("log_date")).alias("season"),
    )


@table(Layer.GOLD, SurrogateKey(("device",), "id_dim_devices"), LOGS)
def dim_devices(logs: DataFrame) -> DataFrame:
    """Devices reviews were written on (Mobile, Computer, Tablet)."""
    return value_dimension(logs, "id_dim_devices", "device")


@table(Layer.GOLD, SurrogateKey(("location",), "id_dim_location"), LOGS)
def dim_location(logs: DataFrame) -> DataFrame:
    """US states reviews were written in."""
    return value_dimension(logs, "id_dim_location", "location")


@table(Layer.GOLD, SurrogateKey(("os",), "id_dim_os"), LOGS)
def dim_os(logs: DataFrame) -> DataFrame:
    """Operating systems of review sessions."""
    return value_dimension(logs, "id_dim_os", "os")


@table(Layer.GOLD, SurrogateKey(("browser",), "id_dim_browser"), LOGS)
def dim_browser(logs: DataFrame) -> DataFrame:
    """Browsers of review sessions (derived from the OS)."""
    return value_dimension(logs, "id_dim_browser", "browser")


def customer_spend(purchases: DataFrame) -> DataFrame:
    """One row per customer: the total of their sales lines (quantity × unit_price) as DECIMAL(18,5)."""
    sales = purchases.where("is_sale")
    return sales.groupBy("customer_id").agg(
        F.sum(F.col("quantity") * F.col("unit_price")).cast(AMOUNT_TYPE).alias("amount_spent")
    )


def keyed_sessions(logs: DataFrame, dates: DataFrame, dimensions: dict[str, DataFrame]) -> DataFrame:
    """Each log with the surrogate keys of its date, device, location, OS and browser."""
    keyed = logs.join(F.broadcast(dates.select("id_dim_date", "log_date")), "log_date")
    for dimension, (key, column) in DIMENSIONS.items():
        keyed = keyed.join(F.broadcast(dimensions[dimension].select(key, column)), column)
    return keyed.select("log_id", "id_dim_date", *[key for key, _ in DIMENSIONS.values()])


@table(
    Layer.GOLD,
    Scd1(FACT_KEYS),
    {
        "reviews": snapshot("classified_movie_review"),
        "logs": snapshot("review_logs"),
        "purchases": snapshot("user_purchase"),
        "dim_date": snapshot("dim_date"),
        "dim_devices": snapshot("dim_devices"),
        "dim_location": snapshot("dim_location"),
        "dim_os": snapshot("dim_os"),
        "dim_browser": snapshot("dim_browser"),
    },
)
def fact_movie_analytics(
    reviews: DataFrame,
    logs: DataFrame,
    purchases: DataFrame,
    dim_date: DataFrame,
    dim_devices: DataFrame,
    dim_location: DataFrame,
    dim_os: DataFrame,
    dim_browser: DataFrame,
) -> DataFrame:
    """Reviews per customer and session dimensions: review_score = positive reviews, review_count =
    reviews, amount_spent = the customer's purchase total (aggregated before the join), insert_date =
    the load date of the newest review counted in the row."""
    sessions = keyed_sessions(
        logs,
        dim_date,
        {"dim_devices": dim_devices, "dim_location": dim_location, "dim_os": dim_os, "dim_browser": dim_browser},
    )
    reviewed = reviews.join(sessions, reviews["review_id"] == sessions["log_id"])
    per_combination = reviewed.groupBy(*FACT_KEYS).agg(
        F.sum("positive_review").cast("int").alias("review_score"),
        F.count(F.lit(1)).cast("int").alias("review_count"),
        F.max("insert_date").alias("insert_date"),
    )
    spend = customer_spend(purchases)
    return per_combination.join(spend, "customer_id", "left").select(
        *FACT_KEYS,
        F.coalesce(F.col("amount_spent"), F.lit(0).cast(AMOUNT_TYPE)).alias("amount_spent"),
        "review_score",
        "review_count",
        "insert_date",
    )
