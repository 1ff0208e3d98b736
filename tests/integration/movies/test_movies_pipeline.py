"""The movies pipeline end to end: purchases in PostgreSQL, three days of generated vendor files (with
their defects), a re-run. Every table is checked against the plain-Python reference of the spec."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from medallion import io
from medallion.declare.pipeline import get_pipeline
from medallion.engine import hooks as engine_hooks
from medallion.engine import runner
from medallion.notebook import run_notebook
from medallion.pipelines.movies import generator, hooks
from medallion.pipelines.movies.acceptance import expected_counts
from medallion.pipelines.movies.gold import DIMENSIONS as GOLD_DIMENSIONS
from medallion.platform.config import PROJECT_DIR
from medallion.read.queries import query_names, run_query
from tests.integration.movies.reference import DIMENSIONS, Expected

PIPELINE = get_pipeline("movies")

pytestmark = pytest.mark.integration

SETTINGS = {"reviews_per_day": 24, "purchase_customers": 8, "purchase_rows": 160, "seed": 4242}
DAYS = 3
NOTEBOOKS = PROJECT_DIR / "notebooks"


@dataclass
class DayState:
    fact: set
    fact_insert_dates: set
    keys: dict[str, dict]
    versions: dict[str, int]
    expected_fact: set | None = None
    expected_keys: dict | None = None
    counts: dict | None = None


def table(runtime, name):
    declared = PIPELINE.get(name)
    return runtime.spark.read.format("delta").load(runtime.location("movies", declared.layer, name).path)


def quarantine(runtime):
    return runtime.spark.read.format("delta").load(runtime.quarantine_path("movies"))


def versions(runtime) -> dict[str, int]:
    spark = runtime.spark
    return {
        name: io.table_version(spark, runtime.location("movies", t.layer, name).path)
        for name, t in PIPELINE.tables.items()
    }


def commits_changing_rows(runtime, name, after: int) -> list:
    declared = PIPELINE.get(name)
    history = DeltaTable.forPath(runtime.spark, runtime.location("movies", declared.layer, name).path).history()
    metrics = ("numTargetRowsInserted", "numTargetRowsUpdated", "numTargetRowsDeleted")
    return [
        (r["version"], r["operation"])
        for r in history.where(F.col("version") > after).collect()
        if r["operation"] != "MERGE" or any(int((r["operationMetrics"] or {}).get(m, 0)) for m in metrics)
    ]


def dimension_keys(runtime) -> dict[str, dict]:
    keys = {}
    for name, column in DIMENSIONS.items():
        key = "id_dim_date" if name == "dim_date" else GOLD_DIMENSIONS[name][0]
        keys[name] = {r[column]: r[key] for r in table(runtime, name).collect()}
    return keys


def fact_rows(runtime) -> set:
    return {
        (
            r["customer_id"],
            r["id_dim_date"],
            r["id_dim_devices"],
            r["id_dim_location"],
            r["id_dim_os"],
            r["id_dim_browser"],
            r["amount_spent"],
            r["review_score"],
            r["review_count"],
        )
        for r in table(runtime, "fact_movie_analytics").collect()
    }


def extra_purchases(customer: int) -> str:
    """Later purchases of one reviewing customer: two sales (12.5 + 3 × 1.125) and a cancellation."""
    return generator.purchases_csv(
        [
            ("581001", "22423", "REGENCY CAKESTAND 3 TIER", "1", "12/9/2011 12:50", "12.5", str(customer), "France"),
            (
                "581001",
                "22138",
                "BAKING SET 9 PIECE RETROSPOT ",
                "3",
                "12/9/2011 12:50",
                "1.125",
                str(customer),
                "France",
            ),
            ("C581002", "22423", "REGENCY CAKESTAND 3 TIER", "-1", "12/9/2011 12:55", "12.5", str(customer), "France"),
        ]
    )


@pytest.fixture(scope="module")
def pipeline_run(movies_runtime_factory, spark):
    """Day 1 through the workspace notebooks (02 setup, 10 producer, 04-06 layers), day 2 through notebooks
    10 and 07 (setup + every layer), day 3 through the library after new purchases arrived; then a re-run
    and a second setup."""
    runtime, overrides = movies_runtime_factory(**SETTINGS)
    params = {"env": "local", "pipeline": "movies", "run_type": "once", "root": runtime.settings.root}

    def notebook(name, **extra):
        return json.loads(run_notebook(NOTEBOOKS / f"{name}.py", {**params, **extra}, overrides, spark=spark))

    started = datetime.now(timezone.utc).date()
    conf = runtime.settings.pipeline("movies")
    purchases_text, _ = hooks.purchase_file(conf)
    expected = Expected(known_customers=set(), purchases=[])
    expected.add_purchases(purchases_text)
    states, notebook_results, extra_customer = [], {}, None
    for day in range(1, DAYS + 1):
        if day == 1:
            notebook_results["setup"] = notebook("02-setup")
            notebook_results["produce"] = notebook("10-producer", set="1")
            notebook_results.update(
                {
                    layer: notebook(name)
                    for layer, name in (("bronze", "04-bronze"), ("silver", "05-silver"), ("gold", "06-gold"))
                }
            )
        elif day == 2:
            notebook("10-producer", set="2")
            notebook_results["run"] = notebook("07-run")
        else:
            extra_customer = min(customer for customer, _ in expected.reviews.values())
            _load_extra_purchases(runtime, extra_customer, expected)
            engine_hooks.produce(runtime, PIPELINE, set_number=day)
            runner.run(runtime, "movies", progress=lambda message: None)
        expected.add_day(
            generator.day_files(
                day, SETTINGS["seed"], SETTINGS["reviews_per_day"], hooks.customers(conf), hooks.start_date(conf)
            )
        )
        state = DayState(
            fact_rows(runtime),
            {r[0] for r in table(runtime, "fact_movie_analytics").select("insert_date").distinct().collect()},
            dimension_keys(runtime),
            versions(runtime),
        )
        state.expected_fact = expected.fact()
        state.expected_keys = {name: dict(keys) for name, keys in expected.keys.items()}
        state.counts = {name: table(runtime, name).count() for name in PIPELINE.tables}
        states.append(state)
    second_load = engine_hooks.setup(runtime, PIPELINE)
    rerun = runner.run(runtime, "movies", progress=lambda message: None)
    return {
        "runtime": runtime,
        "expected": expected,
        "states": states,
        "notebooks": notebook_results,
        "purchase_lines": len(purchases_text.splitlines()) - 1,
        "second_load": second_load,
        "rerun": rerun,
        "started": started,
        "extra_customer": extra_customer,
    }


def _load_extra_purchases(runtime, customer, expected):
    from medallion.pipelines.movies import purchases
    from medallion.sources import databases

    database = runtime.settings.database("operational")
    text = extra_purchases(customer)
    with databases.connect(runtime.spark, database, runtime.secrets.get(database.password_secret)) as sql:
        purchases.load(sql, text, "later-purchases.csv")
    expected.add_purchases(text)


# ------------------------------------------------------------------------------------- reconciliation
def test_every_review_and_log_is_loaded_or_quarantined_with_its_reason(pipeline_run):
    runtime, expected = pipeline_run["runtime"], pipeline_run["expected"]
    reviews_landed = logs_landed = 0
    for day in range(1, DAYS + 1):
        files = generator.day_files(
            day,
            SETTINGS["seed"],
            SETTINGS["reviews_per_day"],
            hooks.customers(runtime.settings.pipeline("movies")),
            hooks.start_date(runtime.settings.pipeline("movies")),
        )
        reviews_landed += len(files.reviews)
        logs_landed += len(files.logs)
    quarantined = Counter((r["table"], tuple(sorted(r["rules"]))) for r in quarantine(runtime).collect())
    by_table = Counter()
    for (table_name, _), count in quarantined.items():
        by_table[table_name] += count
    # reviews: file lines = bronze + bronze quarantine; bronze = silver + silver quarantine
    assert reviews_landed == table(runtime, "movie_review_bz").count() + by_table["movie_review_bz"]
    assert table(runtime, "movie_review_bz").count() == (
        table(runtime, "classified_movie_review").count() + by_table["classified_movie_review"]
    )
    assert logs_landed == table(runtime, "log_reviews_bz").count() + by_table["log_reviews_bz"]
    assert table(runtime, "log_reviews_bz").count() == table(runtime, "review_logs").count() + by_table["review_logs"]
    # and each quarantined row carries the reason the reference gives it
    purchase_rules = {key: n for key, n in quarantined.items() if key[0] == "user_purchase"}
    reviews_and_logs = {key: n for key, n in quarantined.items() if key[0] != "user_purchase"}
    assert reviews_and_logs == {(t, tuple(sorted(rules))): n for (t, rules), n in expected.quarantined.items()}
    # every generated defect is there, every day
    assert by_table["movie_review_bz"] == by_table["log_reviews_bz"] == DAYS  # unparseable rows
    rules = Counter(rule for (_, rules), n in reviews_and_logs.items() for rule in rules for _ in range(n))
    assert rules["unique_review_id"] == rules["unique_log_id"] == DAYS
    assert rules["known_customer"] == DAYS and rules["log_is_well_formed_xml"] == DAYS
    assert sum(n for rule, n in rules.items() if rule.endswith("_present")) == DAYS  # one missing element a day
    # purchases without a customer are quarantined, returns kept but out of amount_spent
    assert set(purchase_rules) <= {
        ("user_purchase", ("customer_id_present",)),
        ("user_purchase", ("customer_id_present", "positive_quantity")),
        ("user_purchase", ("customer_id_present", "positive_unit_price")),
    }
    purchase_lines = pipeline_run["purchase_lines"] + 3
    assert table(runtime, "user_purchase").count() + sum(purchase_rules.values()) == purchase_lines


def test_quarantined_records_keep_source_file_and_no_raw_personal_data(pipeline_run):
    runtime = pipeline_run["runtime"]
    rows = quarantine(runtime).where("table IN ('review_logs', 'classified_movie_review')").collect()
    assert rows and all(r["source"] and r["source"].endswith(".csv") for r in rows)
    ip_like = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")
    assert not [r["record"] for r in rows if ip_like.search(r["record"])]


# -------------------------------------------------------------------------------------------- silver
def test_classified_reviews_match_the_reference(pipeline_run):
    runtime, expected = pipeline_run["runtime"], pipeline_run["expected"]
    loaded = {
        r["review_id"]: (r["customer_id"], r["positive_review"])
        for r in table(runtime, "classified_movie_review").collect()
    }
    assert loaded == expected.reviews
    assert 0 < sum(p for _, p in loaded.values()) < len(loaded)  # both classes present
    dates = {r[0] for r in table(runtime, "classified_movie_review").select("insert_date").distinct().collect()}
    assert dates <= {pipeline_run["started"], datetime.now(timezone.utc).date()}


def test_review_logs_match_the_reference_with_personal_data_tokenised(pipeline_run):
    runtime, expected = pipeline_run["runtime"], pipeline_run["expected"]
    rows = table(runtime, "review_logs").collect()
    assert {
        r["log_id"]: {
            "log_date": r["log_date"],
            "device": r["device"],
            "location": r["location"],
            "os": r["os"],
            "browser": r["browser"],
        }
        for r in rows
    } == expected.logs
    assert all(re.fullmatch("[0-9a-f]{64}", r["ip"]) and re.fullmatch("[0-9a-f]{64}", r["phone_number"]) for r in rows)
    assert len({r["ip"] for r in rows}) == len(rows)  # distinct addresses keep distinct tokens


# ---------------------------------------------------------------------------------------------- gold
def test_dimension_keys_are_stable_over_three_daily_loads(pipeline_run):
    states = pipeline_run["states"]
    for state in states:
        assert state.keys == state.expected_keys
    for earlier, later in zip(states, states[1:]):
        for name in DIMENSIONS:
            assert {v: later.keys[name][v] for v in earlier.keys[name]} == earlier.keys[name]
    # new values did arrive after day 1 (new dates every day), and got the next keys
    assert len(states[-1].keys["dim_date"]) > len(states[0].keys["dim_date"])
    for name in DIMENSIONS:
        assert sorted(states[-1].keys[name].values()) == list(range(1, len(states[-1].keys[name]) + 1))


def test_fact_rows_match_the_reference_after_every_day(pipeline_run):
    for state in pipeline_run["states"]:
        assert state.fact == state.expected_fact
    assert all(
        state.fact_insert_dates <= {pipeline_run["started"], datetime.now(timezone.utc).date()}
        for state in pipeline_run["states"]
    )


def test_every_fact_key_resolves_to_a_dimension_row(pipeline_run):
    runtime = pipeline_run["runtime"]
    fact = table(runtime, "fact_movie_analytics")
    for name, (key, _) in {"dim_date": ("id_dim_date", None), **GOLD_DIMENSIONS}.items():
        assert fact.join(table(runtime, name), key, "left_anti").count() == 0
    assert fact.where("review_score > review_count OR review_count < 1").count() == 0


def test_amount_spent_is_the_customer_total_never_multiplied_by_reviews(pipeline_run):
    runtime, expected = pipeline_run["runtime"], pipeline_run["expected"]
    fact = table(runtime, "fact_movie_analytics")
    reviews_per_customer = Counter(c for c, _ in expected.reviews.values())
    busiest = max(reviews_per_customer, key=reviews_per_customer.get)
    assert reviews_per_customer[busiest] >= 4
    spend = expected.spend()
    rows = fact.where(F.col("customer_id") == busiest).collect()
    assert {r["amount_spent"] for r in rows} == {spend[busiest].quantize(Decimal("0.00001"))}
    total = run_query(runtime, "movies", "spend_of_reviewing_customers").first()
    reviewing = {row[0] for row in pipeline_run["states"][-1].fact}
    assert total["customers"] == len(reviewing)
    assert total["amount_spent"] == sum(spend.get(c, Decimal(0)) for c in reviewing)


def test_purchases_are_copied_incrementally_and_update_amount_spent(pipeline_run):
    runtime, states = pipeline_run["runtime"], pipeline_run["states"]
    customer = pipeline_run["extra_customer"]
    amounts = [{row[6] for row in state.fact if row[0] == customer} for state in states]
    assert len(amounts[1]) == len(amounts[2]) == 1
    assert amounts[2].pop() - amounts[1].pop() == Decimal("15.875")
    bronze = table(runtime, "user_purchase_bz")
    assert bronze.count() == pipeline_run["purchase_lines"] + 3  # each row copied once
    assert bronze.select("purchase_id").distinct().count() == bronze.count()


def test_a_rerun_and_a_second_setup_add_nothing(pipeline_run):
    runtime, states = pipeline_run["runtime"], pipeline_run["states"]
    assert pipeline_run["second_load"].rows_added == 0
    assert all(run.rows_inserted == run.rows_updated == run.rows_quarantined == 0 for run in pipeline_run["rerun"])
    changed = {name: version for name, version in versions(runtime).items() if version != states[-1].versions[name]}
    for name, version in changed.items():  # a keyed merge may commit, but only a commit that changes no row
        assert commits_changing_rows(runtime, name, after=states[-1].versions[name]) == [], name
    assert set(changed) <= {"fact_movie_analytics"}
    assert fact_rows(runtime) == states[-1].fact
    assert dimension_keys(runtime) == states[-1].keys


# -------------------------------------------------------------------------------------- saved queries
def rows_of(result) -> list[tuple]:
    return [tuple(r) for r in result.collect()]


def test_saved_queries_answer_the_analysts_questions(pipeline_run):
    runtime, expected = pipeline_run["runtime"], pipeline_run["expected"]
    three = ("California", "New York", "Texas")
    by_state = expected.review_counts("location")
    assert rows_of(run_query(runtime, "movies", "reviews_in_ca_ny_tx")) == [
        (s, by_state[s]) for s in three if by_state[s]
    ]
    assert sum(by_state[s] for s in three) > 0

    apple = Counter()
    for fields in (expected.logs[i] for i in expected.reviews if i in expected.logs):
        if fields["location"] in three and fields["os"] in ("Apple iOS", "Apple MacOS"):
            apple[(fields["location"], fields["os"])] += 1
    assert rows_of(run_query(runtime, "movies", "apple_reviews_in_ca_ny_tx")) == sorted(
        (state, os_name, n) for (state, os_name), n in apple.items()
    )

    chrome = expected.review_counts("location", lambda f: f["browser"] == "Chrome")
    assert rows_of(run_query(runtime, "movies", "chrome_reviews_by_state")) == sorted(
        chrome.items(), key=lambda item: (-item[1], item[0])
    )

    in_2021 = expected.review_counts("location", lambda f: f["log_date"].year == 2021)
    assert rows_of(run_query(runtime, "movies", "reviews_by_state_in_year", year=2021)) == sorted(
        in_2021.items(), key=lambda item: (-item[1], item[0])
    )
    assert rows_of(run_query(runtime, "movies", "reviews_by_state_in_year", year=1999)) == []

    west = {"California", "Oregon", "Washington"}
    east = {
        "Maine",
        "New Hampshire",
        "Massachusetts",
        "Rhode Island",
        "Connecticut",
        "New York",
        "New Jersey",
        "Delaware",
        "Maryland",
        "Virginia",
        "North Carolina",
        "South Carolina",
        "Georgia",
        "Florida",
    }
    coasts = Counter()
    for fields in (expected.logs[i] for i in expected.reviews if i in expected.logs):
        coast = "West" if fields["location"] in west else "East" if fields["location"] in east else None
        if coast:
            coasts[(coast, fields["device"])] += 1
    assert rows_of(run_query(runtime, "movies", "devices_by_coast")) == sorted(
        ((coast, device, n) for (coast, device), n in coasts.items()), key=lambda r: (r[0], -r[2], r[1])
    )
    assert set(query_names("movies")) == {
        "reviews_in_ca_ny_tx",
        "apple_reviews_in_ca_ny_tx",
        "chrome_reviews_by_state",
        "reviews_by_state_in_year",
        "devices_by_coast",
        "spend_of_reviewing_customers",
    }


# ----------------------------------------------------------------------------- notebooks, acceptance
def test_the_generic_notebooks_run_the_pipeline_by_its_widget(pipeline_run):
    results, first = pipeline_run["notebooks"], pipeline_run["states"][0]
    assert (results["setup"]["pipeline"], results["setup"]["tables"]) == ("movies", len(PIPELINE.tables))
    assert results["produce"] == {"pipeline": "movies", "set": 1, "files": 2}
    assert results["bronze"]["movie_review_bz"] == {
        "rows_in": SETTINGS["reviews_per_day"] + 2,
        "inserted": SETTINGS["reviews_per_day"] + 1,
        "updated": 0,
        "quarantined": 1,
    }
    assert results["silver"]["classified_movie_review"]["inserted"] == first.counts["classified_movie_review"]
    assert results["gold"]["fact_movie_analytics"]["inserted"] == len(first.fact)
    assert set(results["run"]) == set(PIPELINE.tables)  # 07: every table of the pipeline, in one job


def test_the_declared_acceptance_counts_hold_day_by_day(pipeline_run):
    runtime = pipeline_run["runtime"]
    declared = expected_counts(runtime.settings.pipeline("movies"))
    for day, state in enumerate(pipeline_run["states"], start=1):
        for check in declared[day]:
            extra = 3 if day == DAYS and check.table.startswith("user_purchase") else 0  # day 3's new purchases
            assert state.counts[check.table] == check.rows + extra, (day, check.table)
