"""The experiments pipeline end to end, on generated data with planted truths and a real PostgreSQL.

One lakehouse for the module, run as an operator would meet it: the events land, the database is
stopped in the middle of a run (clear error, nothing downstream), restarted, the pipeline completes,
and a second run changes nothing. Every number in gold is then checked against an independent
computation from the landed files (``direct``).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from medallion.declare.tables import Layer
from medallion.engine import hooks, runner
from medallion.errors import SourceError
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime
from tests.integration.conftest import new_database
from tests.integration.experiments import direct
from tests.support import postgres

SCALE, SEED = 1000, 7
ALPHA = 0.05


def read(runtime, layer: Layer, table: str):
    return runtime.spark.read.format("delta").load(runtime.location("experiments", layer, table).path)


def table_counts(runtime) -> dict[str, int]:
    pipeline = runner.get_pipeline("experiments")
    return {t.name: read(runtime, t.layer, t.name).count() for t in pipeline.ordered()}


@pytest.fixture(scope="module")
def lakehouse(spark, postgres_server, tmp_path_factory):
    quiet = lambda message: None  # noqa: E731
    with new_database(spark) as database:
        settings = load_settings(
            "local",
            root=str(tmp_path_factory.mktemp("experiments")),
            overrides={"secrets": {"provider": "env"}, "databases": {"operational": {"url": database.url}}},
        )
        runtime = Runtime(settings, spark=spark)
        pipeline = runner.get_pipeline("experiments")
        seeded = [hooks.setup(runtime, pipeline), hooks.setup(runtime, pipeline)]
        manifest = hooks.produce(runtime, pipeline, scale=SCALE, seed=SEED)
        runner.run(runtime, "experiments", tables=["platform_events_bz", "business_events_bz"], progress=quiet)

        postgres.stop()
        try:
            with pytest.raises(SourceError) as stopped:
                runner.run(runtime, "experiments", progress=quiet)
            after_failure = table_counts(runtime)
        finally:
            postgres.start()

        first = runner.run(runtime, "experiments", progress=quiet)
        counts = table_counts(runtime)
        second = runner.run(runtime, "experiments", progress=quiet)
        yield SimpleNamespace(
            runtime=runtime,
            seeded=seeded,
            manifest=manifest,
            stopped=stopped.value,
            after_failure=after_failure,
            first=first,
            counts=counts,
            second=second,
            landed=direct.read_landing(Path(settings.landing_path("experiments"))),
        )


@pytest.fixture(scope="module")
def business(lakehouse):
    rows = read(lakehouse.runtime, Layer.GOLD, "business_metric").collect()
    return {(r.test_code, r.metric_code, r.variation): r for r in rows}


@pytest.fixture(scope="module")
def quality(lakehouse):
    rows = read(lakehouse.runtime, Layer.GOLD, "quality_metric").collect()
    return {(r.test_code, r.metric_code, r.variation): r for r in rows}


def test_setup_creates_and_seeds_the_schema_once(lakehouse):
    assert lakehouse.seeded[0] == {
        "status_management": 5,
        "test_management": 5,
        "metric_management": 4,
        "test_metric_relation": 15,
    }
    assert set(lakehouse.seeded[1].values()) == {0}


def test_a_stopped_database_is_a_clear_error_and_nothing_downstream_changes(lakehouse):
    message = str(lakehouse.stopped)
    assert "database 'operational'" in message and "unreachable" in message and "scripts/postgres.sh start" in message
    assert os.environ[postgres.PASSWORD_ENV_VAR] not in message
    landed = {"platform_events_bz", "business_events_bz"}
    assert {name for name, count in lakehouse.after_failure.items() if count} == landed


def test_the_restarted_run_copies_each_source_row_once_and_a_rerun_adds_nothing(lakehouse):
    counts = lakehouse.counts
    assert [
        counts[t]
        for t in ("status_management_bz", "test_management_bz", "metric_management_bz", "test_metric_relation_bz")
    ] == [5, 5, 4, 15]
    rows = lakehouse.manifest["rows"]
    assert counts["platform_events_bz"] == rows["platform_events"]
    assert counts["business_events_bz"] == rows["business_events"]
    assert counts["events"] == rows["business_events"] - lakehouse.manifest["duplicates"]["business_events"]
    assert {(r.table, r.rows_inserted, r.rows_updated) for r in lakehouse.second} == {
        (r.table, 0, 0) for r in lakehouse.second
    }
    assert table_counts(lakehouse.runtime) == counts


def test_malformed_records_are_quarantined_with_their_rule(lakehouse):
    path = lakehouse.runtime.quarantine_path("experiments")
    quarantined = lakehouse.runtime.spark.read.format("delta").load(path)
    by_table = {r.table: r["count"] for r in quarantined.groupBy("table").count().collect()}
    assert by_table == {f"{stream}_bz": n for stream, n in lakehouse.manifest["malformed_records"].items()}
    assert all(r.rules[:2] == ["parsed", "identified"] and r.record for r in quarantined.collect())


def test_the_planted_lift_is_found_significant_with_the_right_sign(business):
    lifted = business[("T001", "M003", "B")]
    assert lifted.lift_vs_control > 0 and lifted.ci_low > 0
    assert lifted.p_value < ALPHA and lifted.is_best
    assert not business[("T001", "M003", "A")].is_best


def test_only_the_planted_effect_is_flagged_best(business):
    assert sorted(k for k, r in business.items() if r.is_best) == [("T001", "M003", "B"), ("T001", "M004", "B")]


def test_business_metrics_equal_a_direct_count_of_the_landed_events(lakehouse, business):
    expected = direct.business_metrics(lakehouse.landed)
    assert set(business) == set(expected)  # running and done tests only, their metrics, every variation
    for key, row in business.items():
        assert row.users == expected[key]["users"], key
        assert row.value == pytest.approx(expected[key]["value"], rel=1e-12), key
        if key[2] == "A":
            assert (row.lift_vs_control, row.p_value, row.ci_low) == (None, None, None)
        else:
            difference, p_value = direct.comparison(expected, *key)
            assert row.lift_vs_control == pytest.approx(difference, rel=1e-9, abs=1e-12), key
            assert row.p_value == pytest.approx(p_value, rel=1e-6), key
            assert row.ci_low < row.lift_vs_control < row.ci_high


def test_quality_metrics_equal_a_direct_count_and_flag_the_planted_defects(lakehouse, quality):
    expected = direct.quality(lakehouse.landed)
    assert set(quality) == set(expected)
    for key, row in quality.items():
        assert row.value == pytest.approx(expected[key], rel=1e-9, abs=1e-15), key
    srm = {test: quality[(test, "sample_ratio_mismatch", None)].status for test in direct.TESTS}
    assert srm == {"T001": "ok", "T002": "fail", "T003": "ok", "T004": "ok", "T005": "ok"}
    for test, planted in lakehouse.manifest["tests"].items():
        assert quality[(test, "contamination_rate", None)].value == planted["contaminated_users"] / planted["users"]
        assert quality[(test, "contamination_rate", None)].status in ("warn", "fail")
        assert quality[(test, "duplicate_event_rate", None)].status == "warn"
        assert quality[(test, "late_event_rate", None)].status == "warn"


def test_metric_dates_are_the_latest_data_each_test_includes(business, quality):
    dates = {(r.test_code, str(r.metric_date)) for r in [*business.values(), *quality.values()]}
    assert dates == {
        ("T001", "2024-03-15"),
        ("T002", "2024-03-15"),
        ("T003", "2024-03-05"),
        ("T004", "2024-03-19"),
        ("T005", "2024-03-19"),
    }
