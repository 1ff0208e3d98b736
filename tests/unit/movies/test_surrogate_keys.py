"""The SurrogateKey write mode: a value keeps its key across runs and loads; new values get the next keys."""

from datetime import date

from medallion import io
from medallion.declare.tables import Layer, SurrogateKey
from medallion.pipelines.movies.gold import dim_date, dim_location

LOGS_SCHEMA = (
    "log_id INT, log_date DATE, device STRING, os STRING, location STRING, browser STRING, "
    "ip STRING, phone_number STRING"
)


def logs(spark, day_values):
    return spark.createDataFrame(
        [(i, day, "Mobile", "Linux", state, "Firefox", "t", "t") for i, (day, state) in enumerate(day_values)],
        LOGS_SCHEMA,
    )


def load(runtime, table_name, build, mode, frame):
    location = runtime.location("movies_test", Layer.GOLD, table_name)
    result = io.write(build(frame), location, mode, f"test.{table_name}", 0)
    rows = runtime.spark.read.format("delta").load(location.path).collect()
    return result, rows


def test_keys_stay_with_their_values_over_three_daily_loads_and_a_rerun(spark, make_runtime):
    runtime = make_runtime()
    mode = SurrogateKey(("location",), "id_dim_location")
    d1, d2, d3 = date(2021, 4, 1), date(2021, 4, 2), date(2021, 4, 3)
    days = [
        [(d1, "Texas"), (d1, "Ohio"), (d1, "Texas")],
        [(d1, "Texas"), (d1, "Ohio"), (d1, "Texas"), (d2, "Utah"), (d2, "Alaska"), (d2, "Ohio")],
        [(d1, "Texas"), (d1, "Ohio"), (d1, "Texas"), (d2, "Utah"), (d2, "Alaska"), (d2, "Ohio"), (d3, "Arizona")],
    ]
    keys_after = []
    for day in days:
        result, rows = load(runtime, "dim_location", dim_location, mode, logs(spark, day))
        keys_after.append({r["location"]: r["id_dim_location"] for r in rows})
    assert keys_after == [
        {"Ohio": 1, "Texas": 2},
        {"Ohio": 1, "Texas": 2, "Alaska": 3, "Utah": 4},
        {"Ohio": 1, "Texas": 2, "Alaska": 3, "Utah": 4, "Arizona": 5},
    ]
    rerun, rows = load(runtime, "dim_location", dim_location, mode, logs(spark, days[-1]))
    assert (rerun.inserted, rerun.updated) == (0, 0)
    assert {r["location"]: r["id_dim_location"] for r in rows} == keys_after[-1]


def test_a_value_that_vanishes_from_the_input_keeps_its_key_and_a_late_earlier_date_gets_a_new_one(spark, make_runtime):
    runtime = make_runtime()
    mode = SurrogateKey(("log_date",), "id_dim_date")
    load(runtime, "dim_date", dim_date, mode, logs(spark, [(date(2021, 4, 2), "Ohio"), (date(2021, 4, 3), "Ohio")]))
    result, rows = load(runtime, "dim_date", dim_date, mode, logs(spark, [(date(2021, 4, 1), "Ohio")]))
    assert result.inserted == 1
    assert sorted((r["log_date"], r["id_dim_date"], r["season"]) for r in rows) == [
        (date(2021, 4, 1), 3, "Spring"),
        (date(2021, 4, 2), 1, "Spring"),
        (date(2021, 4, 3), 2, "Spring"),
    ]
