"""What analysts get from a cltv lakehouse: the HTML report and the Synapse script, with segment_summary and
cltv_by_dimension in both and the charts of predicted CLTV by segment and by contract type.

Six scored customers, chosen by hand, go through the pipeline's own gold builds and the one Delta writer;
the expected figures are worked out by hand below."""

from decimal import Decimal

import pytest

from deployment import synapse
from deployment.settings import load_deployment
from deployment.synapse_types import gold_columns
from medallion import io
from medallion.declare.pipeline import pipeline_names
from medallion.declare.tables import Layer, Overwrite
from medallion.pipelines.cltv import gold
from medallion.platform.grants import gold_tables_of
from medallion.read import report
from medallion.read.lakehouse import Lakehouse
from medallion.read.report.charts import Chart, Series, fmt
from medallion.read.report.choose import choose_chart

HIGH, LOW, MID = "high value, long tenure", "low value, short tenure", "mid value"
# customer, segment, label, predicted CLTV, contract, city, payment method, monthly charges, tenure, churn
CUSTOMERS = [
    ("c1", 0, HIGH, "5000.00", "Two year", "Los Angeles", "Credit card", "100.00", 60, 0),
    ("c2", 0, HIGH, "4000.00", "One year", "Los Angeles", "Credit card", "80.00", 50, 0),
    ("c3", 1, LOW, "2000.00", "Month-to-month", "San Diego", "Electronic check", "50.00", 2, 1),
    ("c4", 1, LOW, "3000.00", "Month-to-month", "San Diego", "Mailed check", "70.00", 5, None),  # new: no label
    ("c5", 2, MID, "3500.50", "One year", "Fresno", "Bank transfer", "60.00", 24, 0),
    ("c6", 2, MID, "2500.50", "Month-to-month", "Los Angeles", "Electronic check", "40.00", 12, 1),
]


@pytest.fixture(scope="module")
def lakehouse(spark, tmp_path_factory):
    """A cltv storage root holding the five gold tables, the aggregates built by gold.py itself."""
    from medallion.platform.config import load_settings
    from medallion.platform.runtime import Runtime

    root = tmp_path_factory.mktemp("cltv-analysts")
    runtime = Runtime(load_settings("local", root=str(root), overrides={"secrets": {"provider": "env"}}), spark=spark)
    scored_at = "TIMESTAMP'2026-01-05 10:00:00'"
    predictions = spark.createDataFrame(
        [(c[0], Decimal(c[3]), 3) for c in CUSTOMERS],
        "customer_id STRING, predicted_cltv DECIMAL(10,2), model_version INT",
    ).selectExpr("*", f"{scored_at} AS scored_at")
    segments = spark.createDataFrame(
        [(c[0], c[1], c[2], 1) for c in CUSTOMERS],
        "customer_id STRING, segment_id INT, segment_label STRING, model_version INT",
    ).selectExpr("*", f"{scored_at} AS scored_at")
    customers = spark.createDataFrame(
        [(c[0], c[4], c[5], c[6], Decimal(c[7]), c[8], c[9]) for c in CUSTOMERS],
        "customer_id STRING, contract STRING, city STRING, payment_method STRING, monthly_charges DECIMAL(8,2), "
        "tenure_months INT, churn_value INT",
    )
    tables = {
        "cltv_predictions": predictions,
        "customer_segments": segments,
        **{
            t.name: t(customers, predictions, segments)
            for t in (gold.segment_summary, gold.cltv_by_dimension, gold.cltv_by_contract)
        },
    }
    for name, frame in tables.items():
        io.write(frame, runtime.location("cltv", Layer.GOLD, name), Overwrite(), "test", 0)
    return str(root)


def test_segment_summary_is_charted_as_predicted_cltv_by_segment(lakehouse):
    path = Lakehouse(lakehouse).path("cltv.segment_summary")
    assert choose_chart(path, declared=gold.segment_summary.report_chart) == Chart(
        kind="bars",
        title="Average predicted CLTV by segment",
        labels=(HIGH, MID, LOW),
        series=(Series("Average predicted CLTV", (4500.0, 3000.5, 2500.0)),),
    )


def test_cltv_by_dimension_is_charted_by_contract_type_only(lakehouse):
    path = Lakehouse(lakehouse).path("cltv.cltv_by_dimension")
    # contract rows only: Two year 5000; One year (4000 + 3500.50) / 2; Month-to-month (2000 + 3000 + 2500.50) / 3
    assert choose_chart(path, declared=gold.cltv_by_dimension.report_chart) == Chart(
        kind="bars",
        title="Average predicted CLTV by contract type",
        labels=("Two year", "One year", "Month-to-month"),
        series=(Series("Average predicted CLTV", (5000.0, 3750.25, 2500.17)),),
    )


def test_the_report_shows_both_tables_with_their_charts(lakehouse):
    html = report.build(Lakehouse(lakehouse), ["cltv"], "local")
    for name in ("segment_summary", "cltv_by_dimension", "cltv_by_contract", "cltv_predictions", "customer_segments"):
        assert f'<article id="cltv-{name}">' in html
    segment = article(html, "segment_summary")
    assert "<figcaption>Average predicted CLTV by segment</figcaption>" in segment
    for label, value in ((HIGH, 4500.0), (MID, 3000.5), (LOW, 2500.0)):
        assert f"<title>{label}: {fmt(value)}</title>" in segment
    assert "All 3 rows." in segment
    by_dimension = article(html, "cltv_by_dimension")
    assert "<figcaption>Average predicted CLTV by contract type</figcaption>" in by_dimension
    for label, value in (("Two year", 5000.0), ("One year", 3750.25), ("Month-to-month", 2500.17)):
        assert f"<title>{label}: {fmt(value)}</title>" in by_dimension
    assert "<title>Los Angeles" not in by_dimension  # cities and payment methods: in the table, not the chart
    assert "All 10 rows." in by_dimension  # 3 contract types + 3 cities + 4 payment methods


def article(html: str, table: str) -> str:
    return html.split(f'<article id="cltv-{table}">')[1].split("</article>")[0]


def test_the_synapse_script_has_a_view_of_each_with_its_delta_column_types(lakehouse):
    tables = gold_tables_of(["cltv"])
    assert tables == {
        "cltv": ["cltv_predictions", "customer_segments", "segment_summary", "cltv_by_dimension", "cltv_by_contract"]
    }
    settings = load_deployment("qa", known_pipelines=pipeline_names())
    script = synapse.render(settings, tables, gold_columns(lakehouse, tables, settings.synapse.string_length))
    assert (
        view(
            "segment_summary",
            [
                "[segmentation_version] int",
                "[segment_id] int",
                "[segment_label] varchar(400)",
                "[customers] bigint",
                "[avg_predicted_cltv] decimal(10,2)",
                "[avg_monthly_charges] decimal(8,2)",
                "[avg_tenure] float",
                "[churn_rate] float",
                "[share_month_to_month] float",
            ],
        )
        in script
    )
    assert (
        view(
            "cltv_by_dimension",
            [
                "[dimension] varchar(400)",
                "[value] varchar(400)",
                "[customers] bigint",
                "[avg_predicted_cltv] decimal(10,2)",
                "[total_predicted_cltv] decimal(18,2)",
                "[avg_monthly_charges] decimal(8,2)",
            ],
        )
        in script
    )
    assert "GRANT SELECT ON SCHEMA::[cltv] TO [medallion-readers-qa];" in script


def view(table: str, columns: list[str]) -> str:
    return (
        f"CREATE OR ALTER VIEW [cltv].[{table}] AS\nSELECT *\nFROM OPENROWSET(\n"
        f"    BULK 'cltv/gold/{table}/',\n    DATA_SOURCE = 'medallion_lakehouse',\n    FORMAT = 'DELTA'\n"
        ") WITH (\n    " + ",\n    ".join(columns) + "\n) AS [rows];\nGO\n"
    )
