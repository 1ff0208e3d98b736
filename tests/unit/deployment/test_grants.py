"""Unity Catalog grants as golden SQL: readers see gold only, the job principal writes."""

from pathlib import Path

from medallion.platform import grants
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime

GOLDEN = Path(__file__).parent / "golden"


def test_qa_grants_match_the_reviewed_sql():
    access = grants.access_for("qa")
    rendered = grants.render(access, grants.gold_tables_of(["fitness"]))  # pinned: other pipelines come and go
    assert rendered == (GOLDEN / "grants-qa.sql").read_text()


def test_readers_get_gold_tables_and_no_privilege_on_bronze_or_silver():
    access = grants.Access("qa", "cat", "sp-app-id", "readers", None, ("shop",))
    statements = grants.object_statements(access, {"shop": ["revenue", "customers"]})
    reader = [s for s in statements if "`readers`" in s]
    assert reader == [
        "REVOKE ALL PRIVILEGES ON SCHEMA `cat`.`shop_bronze` FROM `readers`;",
        "REVOKE ALL PRIVILEGES ON SCHEMA `cat`.`shop_silver` FROM `readers`;",
        "GRANT USE SCHEMA ON SCHEMA `cat`.`shop_gold` TO `readers`;",
        "GRANT SELECT ON TABLE `cat`.`shop_gold`.`customers` TO `readers`;",
        "GRANT SELECT ON TABLE `cat`.`shop_gold`.`revenue` TO `readers`;",
    ]
    writer = [s for s in statements if "`sp-app-id`" in s]
    assert writer == [
        f"GRANT USE SCHEMA, CREATE TABLE, SELECT, MODIFY ON SCHEMA `cat`.`shop_{layer}` TO `sp-app-id`;"
        for layer in ("bronze", "silver", "gold")
    ]


def test_names_are_quoted_so_a_backtick_cannot_break_out():
    access = grants.Access("qa", "c`at", None, "evil`; DROP", None, ())
    assert grants.bootstrap_statements(access) == ["GRANT USE CATALOG ON CATALOG `c``at` TO `evil``; DROP`;"]


def test_prod_bootstrap_grants_the_external_location_to_the_job_principal():
    statements = grants.bootstrap_statements(grants.access_for("prod"))
    assert (
        "GRANT READ FILES, WRITE FILES, CREATE EXTERNAL TABLE ON EXTERNAL LOCATION `medallion_prod_lakehouse` "
        "TO `33333333-3333-3333-3333-333333333333`;"
    ) in statements


class RecordingSession:
    """Stands in for the cluster's SparkSession: Unity Catalog SQL cannot run locally."""

    def __init__(self):
        self.statements = []

    def sql(self, statement):
        self.statements.append(statement)


def test_setup_on_databricks_applies_the_object_grants_of_its_pipeline():
    session = RecordingSession()
    runtime = Runtime(load_settings("qa"), spark=session)
    applied = grants.apply_grants(runtime, "fitness")
    expected = grants.object_statements(grants.access_for("qa"), {"fitness": ["gym_summary", "workout_bpm_summary"]})
    assert applied == expected
    assert session.statements == [s.rstrip(";") for s in expected]


def test_locally_there_is_no_unity_catalog_and_nothing_runs(tmp_path):
    session = RecordingSession()
    runtime = Runtime(load_settings("local", root=str(tmp_path)), spark=session)
    assert grants.apply_grants(runtime, "fitness") == []
    assert session.statements == []
