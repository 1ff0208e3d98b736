"""Operational hooks: the producer (notebook 10) lands a day of vendor files; setup (notebook 02) loads
the purchases into the operational database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from medallion.declare.context import PipelineContext
from medallion.errors import ConfigError
from medallion.pipelines.movies import generator, purchases
from medallion.pipelines.movies.bronze import DATABASE
from medallion.sources import databases


def produce(context: PipelineContext, set_number: int = 1, **options) -> list[str]:
    """Land day ``set_number``'s movie_review and log_reviews files (``scale`` = reviews per day and
    ``seed`` override the settings). A file already landed is left alone, so producing a day twice
    changes nothing."""
    conf = context.conf
    reviews_per_day = int(options.get("scale") or conf["reviews_per_day"])
    seed = int(options.get("seed") or conf["seed"])
    files = generator.day_files(
        set_number,
        seed,
        reviews_per_day,
        customers(conf),
        start_date(conf),
        bool(conf["bad_records"]),
    )
    stamp = files.date.isoformat()
    landed = [
        context.landing.write_text("movie_review", f"movie_review_{stamp}.csv", generator.reviews_csv(files)),
        context.landing.write_text("log_reviews", f"log_reviews_{stamp}.csv", generator.logs_csv(files)),
    ]
    context.log(f"[movies] day {set_number} ({stamp}): {len(files.reviews)} reviews, {len(files.logs)} logs landed")
    return landed


def setup(context: PipelineContext) -> purchases.LoadResult:
    """Create the operational user_purchase table and load the purchases file into it (idempotent)."""
    text, file_name = purchase_file(context.conf)
    database = context.settings.database(DATABASE)
    with databases.connect(context.spark(), database, context.secret(database.password_secret)) as sql:
        result = purchases.load(sql, text, file_name)
    context.log(
        f"[movies] {purchases.TABLE} in database '{database.name}': {result.rows_added:,} of the "
        f"{result.rows_in_file:,} rows of {file_name} added (the others were there)"
    )
    return result


def purchase_file(conf: Mapping) -> tuple[str, str]:
    """The purchases to load and the file name they are known by: ``user_purchase_csv`` when set, else
    generated from the seed (Online Retail layout either way)."""
    configured = conf.get("user_purchase_csv")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ConfigError(f"pipelines.movies.user_purchase_csv: no file {path}.")
        return path.read_text(encoding="utf-8-sig"), path.name
    seed, customer_count, row_count = int(conf["seed"]), int(conf["purchase_customers"]), int(conf["purchase_rows"])
    rows = generator.purchase_rows(seed, customer_count, row_count)
    return generator.purchases_csv(rows), f"generated-seed{seed}-{customer_count}x{row_count}.csv"


def customers(conf: Mapping) -> list[int]:
    """Customers who may write reviews: those of the purchases that setup loads."""
    if conf.get("user_purchase_csv"):
        return generator.customers_in_csv(purchase_file(conf)[0])
    return generator.purchase_customers(int(conf["seed"]), int(conf["purchase_customers"]))


def start_date(conf: Mapping) -> date:
    try:
        return date.fromisoformat(str(conf["start_date"]))
    except ValueError:
        raise ConfigError(
            f"pipelines.movies.start_date must be a date like 2021-04-01, got {conf['start_date']!r}."
        ) from None


def expected_counts(context: PipelineContext) -> dict:
    from medallion.pipelines.movies.acceptance import expected_counts as counts  # it reads purchase_file above

    return counts(context.conf)
