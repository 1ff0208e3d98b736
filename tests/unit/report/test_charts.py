"""Chart choice from a table's schema and values, and the SVG it becomes."""

import datetime

import pyarrow as pa
from deltalake import write_deltalake

from medallion.read.report.charts import Chart, Series, nice_ticks, render
from medallion.read.report.choose import choose_chart, humanize, measures_of, natural_key


def table(tmp_path, rows, schema):
    path = str(tmp_path / "t")
    write_deltalake(path, pa.Table.from_pylist(rows, schema=pa.schema(schema)))
    return path


def test_a_date_column_gives_the_additive_measures_per_day(tmp_path):
    rows = [
        {"date": datetime.date(2019, 12, d), "gym": g, "minutes_in_gym": 10.0 * d, "minutes_exercising": 1.0 * g}
        for d in (1, 2)
        for g in (1, 2)
    ]
    chart = choose_chart(
        table(
            tmp_path,
            rows,
            [
                ("date", pa.date32()),
                ("gym", pa.int64()),
                ("minutes_in_gym", pa.float64()),
                ("minutes_exercising", pa.float64()),
            ],
        )
    )
    assert chart == Chart(
        kind="columns",
        title="Minutes in gym and minutes exercising per day (total)",
        labels=("2019-12-01", "2019-12-02"),
        series=(Series("Minutes in gym", (20.0, 40.0)), Series("Minutes exercising", (3.0, 3.0))),
    )


def test_an_average_with_its_min_and_max_becomes_ranges_per_category_in_natural_order(tmp_path):
    rows = [
        {"user_id": i, "age": age, "min_bpm": lo, "avg_bpm": avg, "max_bpm": hi}
        for i, (age, lo, avg, hi) in enumerate(
            [
                ("25-35", 50.0, 70.0, 90.0),
                ("<18", 40.0, 60.0, 80.0),
                ("18-25", 45.0, 65.0, 85.0),
                ("25-35", 55.0, 72.0, 99.0),
            ]
        )
    ]
    chart = choose_chart(
        table(
            tmp_path,
            rows,
            [
                ("user_id", pa.int64()),
                ("age", pa.string()),
                ("min_bpm", pa.float64()),
                ("avg_bpm", pa.float64()),
                ("max_bpm", pa.float64()),
            ],
        )
    )
    assert chart.kind == "ranges"
    assert chart.title == "Heart rate (bpm) by age: lowest to highest, mean marked"
    assert chart.labels == ("<18", "18-25", "25-35")
    assert (chart.low, chart.high, chart.series[0].values) == (
        (40.0, 45.0, 50.0),
        (80.0, 85.0, 99.0),
        (60.0, 65.0, 71.0),
    )


def test_a_category_and_a_plain_measure_give_ranked_bars(tmp_path):
    rows = [{"country": c, "revenue": r} for c, r in [("FR", 5.0), ("DE", 9.0), ("FR", 7.0), ("IT", 1.0)]]
    chart = choose_chart(table(tmp_path, rows, [("country", pa.string()), ("revenue", pa.float64())]))
    assert (chart.kind, chart.title, chart.labels, chart.series[0].values) == (
        "bars",
        "Revenue by country (total)",
        ("FR", "DE", "IT"),
        (12.0, 9.0, 1.0),
    )


def test_only_a_measure_gives_a_histogram_and_identifiers_are_never_measures(tmp_path):
    rows = [{"order_id": i, "price": float(i)} for i in range(20)]
    chart = choose_chart(table(tmp_path, rows, [("order_id", pa.int64()), ("price", pa.float64())]))
    assert chart.kind == "histogram" and sum(chart.series[0].values) == 20
    assert (
        choose_chart(
            table(tmp_path / "ids", [{"user_id": 1, "name": "a"}], [("user_id", pa.int64()), ("name", pa.string())])
        )
        is None
    )


def test_measures_rank_averages_then_additive_then_others():
    schema = pa.schema(
        [
            ("gym", pa.int64()),
            ("num_recordings", pa.int64()),
            ("max_bpm", pa.float64()),
            ("avg_bpm", pa.float64()),
            ("user_id", pa.int64()),
            ("score", pa.float64()),
        ]
    )
    assert measures_of(schema) == ["avg_bpm", "num_recordings", "max_bpm", "score"]


def test_helpers():
    assert nice_ticks(0, 279.1) == [0, 100, 200, 300]
    assert nice_ticks(36, 99, floor_at_zero=False) == [20, 40, 60, 80, 100]
    assert sorted(["95+", "18-25", "<18", "65-75"], key=natural_key) == ["<18", "18-25", "65-75", "95+"]
    assert humanize("avg_bpm") == "Average heart rate (bpm)"


def test_svg_marks_every_value_and_escapes_labels():
    svg = render(Chart("columns", "Sales <per> day", ("a&b", "c"), (Series("Sales", (3.0, 5.5)),)))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="chart"')
    assert svg.count('class="bar"') == 2
    assert "a&amp;b" in svg and "Sales &lt;per&gt; day" in svg and ">5.5<" in svg
