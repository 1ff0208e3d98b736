"""Unity Catalog grants as golden SQL: readers see gold only, the job principal writes."""

from dataclasses import replace
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


class RecordingCatalog:
    def __init__(self, tables):
        self.tables = set(tables)

    def tableExists(self, name):  # noqa: N802  (Spark's name)
        return name in self.tables


class RecordingSession:
    """Stands in for the cluster's SparkSession: Unity Catalog SQL cannot run locally. ``tables``: the
    catalog-qualified names of the tables that exist."""

    def __init__(self, tables=()):
        self.statements = []
        self.catalog = RecordingCatalog(tables)

    def sql(self, statement):
        self.statements.append(statement)


def test_setup_on_databricks_applies_the_object_grants_of_its_pipeline():
    session = RecordingSession(
        ["medallion_qa.fitness_gold.gym_summary", "medallion_qa.fitness_gold.workout_bpm_summary"]
    )
    runtime = Runtime(load_settings("qa"), spark=session)
    applied = grants.apply_grants(runtime, "fitness")
    expected = grants.object_statements(grants.access_for("qa"), {"fitness": ["gym_summary", "workout_bpm_summary"]})
    assert applied == expected
    assert session.statements == [s.rstrip(";") for s in expected]


def test_setup_grants_select_only_on_the_gold_tables_that_exist():
    # a fresh environment: setup waits with cltv's predictions (and what reads them) until a model is trained
    session = RecordingSession(["medallion_qa.cltv_gold.cltv_by_contract"])
    statements = grants.apply_grants(Runtime(load_settings("qa"), spark=session), "cltv")
    selects = [s for s in statements if s.startswith("GRANT SELECT")]
    assert selects == ["GRANT SELECT ON TABLE `medallion_qa`.`cltv_gold`.`cltv_by_contract` TO `medallion-readers-qa`;"]
    assert "GRANT USE SCHEMA ON SCHEMA `medallion_qa`.`cltv_gold` TO `medallion-readers-qa`;" in statements
    rendered = grants.render(grants.access_for("qa"), grants.gold_tables_of(["cltv"]))  # `medallion grants`: all
    assert "`cltv_gold`.`cltv_predictions`" in rendered and "`cltv_gold`.`segment_summary`" in rendered


def test_an_isolated_run_grants_on_its_own_schemas_never_on_the_shared_ones():
    isolated = replace(load_settings("qa"), schema_suffix="_t20260105_abc123")
    session = RecordingSession(["medallion_qa.fitness_gold_t20260105_abc123.gym_summary"])
    statements = grants.apply_grants(Runtime(isolated, spark=session), "fitness")
    assert statements == [
        "GRANT USE SCHEMA, CREATE TABLE, SELECT, MODIFY ON SCHEMA `medallion_qa`.`fitness_bronze_t20260105_abc123` "
        "TO `22222222-2222-2222-2222-222222222222`;",
        "REVOKE ALL PRIVILEGES ON SCHEMA `medallion_qa`.`fitness_bronze_t20260105_abc123` FROM `medallion-readers-qa`;",
        "GRANT USE SCHEMA, CREATE TABLE, SELECT, MODIFY ON SCHEMA `medallion_qa`.`fitness_silver_t20260105_abc123` "
        "TO `22222222-2222-2222-2222-222222222222`;",
        "REVOKE ALL PRIVILEGES ON SCHEMA `medallion_qa`.`fitness_silver_t20260105_abc123` FROM `medallion-readers-qa`;",
        "GRANT USE SCHEMA, CREATE TABLE, SELECT, MODIFY ON SCHEMA `medallion_qa`.`fitness_gold_t20260105_abc123` "
        "TO `22222222-2222-2222-2222-222222222222`;",
        "GRANT USE SCHEMA ON SCHEMA `medallion_qa`.`fitness_gold_t20260105_abc123` TO `medallion-readers-qa`;",
        "GRANT SELECT ON TABLE `medallion_qa`.`fitness_gold_t20260105_abc123`.`gym_summary` TO `medallion-readers-qa`;",
    ]


def test_locally_there_is_no_unity_catalog_and_nothing_runs(tmp_path):
    session = RecordingSession()
    runtime = Runtime(load_settings("local", root=str(tmp_path)), spark=session)
    assert grants.apply_grants(runtime, "fitness") == []
    assert session.statements == []
