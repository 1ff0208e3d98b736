"""Operational hooks: the producer (notebook 10) lands a day of vendor files; setup (notebook 02) loads
the purchases into the operational database."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Mapping

from medallion import databases
from medallion.errors import ConfigError
from medallion.pipelines.movies import generator, purchases
from medallion.pipelines.movies.bronze import DATABASE
from medallion.runtime import Runtime


def producer(runtime: Runtime, set_number: int = 1, **options) -> list[str]:
    """Land day ``set_number``'s movie_review and log_reviews files (``scale`` = reviews per day and
    ``seed`` override the settings). A file already landed is left alone, so producing a day twice
    changes nothing."""
    conf = runtime.settings.pipeline("movies")
    reviews_per_day = int(options.get("scale") or conf["reviews_per_day"])
    seed = int(options.get("seed") or conf["seed"])
    files = generator.day_files(
        set_number, seed, reviews_per_day, customers(conf),
        start_date(conf), bool(conf["bad_records"]),
    )
    stamp = files.date.isoformat()
    landed = [
        land(runtime.settings.landing_path("movie_review"), f"movie_review_{stamp}.csv", generator.reviews_csv(files)),
        land(runtime.settings.landing_path("log_reviews"), f"log_reviews_{stamp}.csv", generator.logs_csv(files)),
    ]
    print(f"[movies] day {set_number} ({stamp}): {len(files.reviews)} reviews, {len(files.logs)} logs landed")
    return landed


def setup(runtime: Runtime) -> purchases.LoadResult:
    """Create the operational user_purchase table and load the purchases file into it (idempotent)."""
    text, file_name = purchase_file(runtime.settings.pipeline("movies"))
    database = runtime.settings.database(DATABASE)
    with databases.connect(runtime.spark, database, runtime.secrets.get(database.password_secret)) as sql:
        result = purchases.load(sql, text, file_name)
    print(f"[movies] {purchases.TABLE} in database '{database.name}': {result.rows_added:,} of the "
          f"{result.rows_in_file:,} rows of {file_name} added (the others were there)")
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
        raise ConfigError(f"pipelines.movies.start_date must be a date like 2021-04-01, got {conf['start_date']!r}.") from None


def land(folder: str, name: str, text: str) -> str:
    """Write ``text`` under a hidden name and rename it into place, so a running stream never reads half
    a file; an existing file is kept."""
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    if not target.exists():
        hidden = directory / f".{name}.tmp"
        hidden.write_text(text, encoding="utf-8")
        hidden.rename(target)
    return str(target)
