"""The Synapse serverless script, as golden SQL an analyst pastes."""

import re
from pathlib import Path

import pytest

from deployment import synapse
from deployment.settings import load_deployment
from medallion.declare.pipeline import pipeline_names
from medallion.platform.grants import gold_tables_of

GOLDEN = Path(__file__).parent / "golden"
# Column types given to the script, pinned so the golden SQL is reviewed text; in use they are read from
# the gold tables' Delta schemas (test_column_types_come_from_the_delta_schema below).
FITNESS_COLUMNS = {
    "fitness": {
        "gym_summary": [
            ("date", "date"),
            ("gym", "bigint"),
            ("mac_address", "varchar(400)"),
            ("workout_id", "bigint"),
            ("session_id", "bigint"),
            ("minutes_in_gym", "float"),
            ("minutes_exercising", "float"),
        ],
        "workout_bpm_summary": [
            ("workout_id", "bigint"),
            ("session_id", "bigint"),
            ("user_id", "bigint"),
            ("age", "varchar(400)"),
            ("gender", "varchar(400)"),
            ("city", "varchar(400)"),
            ("state", "varchar(400)"),
            ("min_bpm", "float"),
            ("avg_bpm", "float"),
            ("max_bpm", "float"),
            ("num_recordings", "bigint"),
        ],
    }
}


def columns_for(gold_tables):
    return {
        p: {t: FITNESS_COLUMNS.get(p, {}).get(t, [("id", "bigint")]) for t in tables}
        for p, tables in gold_tables.items()
    }


def rendered(env, gold_tables):
    return synapse.render(load_deployment(env, known_pipelines=pipeline_names()), gold_tables, columns_for(gold_tables))


@pytest.mark.parametrize("env", ["qa", "prod"])
def test_the_script_matches_the_reviewed_sql(env):
    settings = load_deployment(env, known_pipelines=pipeline_names())
    assert settings.env == env
    assert rendered(env, gold_tables_of(["fitness"])) == (GOLDEN / f"synapse-{env}.sql").read_text()


def test_one_view_per_gold_table_over_its_delta_folder():
    settings = load_deployment("qa", known_pipelines=pipeline_names())
    assert settings.env == "qa"
    script = rendered("qa", {"fitness": ["gym_summary", "workout_bpm_summary"], "shop": ["revenue"]})
    views = re.findall(
        r"CREATE OR ALTER VIEW \[(\w+)\]\.\[(\w+)\] AS\nSELECT \*\nFROM OPENROWSET\(\n    BULK '([^']+)'", script
    )
    assert views == [
        ("fitness", "gym_summary", "fitness/gold/gym_summary/"),
        ("fitness", "workout_bpm_summary", "fitness/gold/workout_bpm_summary/"),
        ("shop", "revenue", "shop/gold/revenue/"),
    ]
    assert "LOCATION = N'https://medallionqa.dfs.core.windows.net/lakehouse/medallion'" in script
    assert script.count("FORMAT = 'DELTA'") == 3
    assert "GRANT SELECT ON SCHEMA::[shop] TO [medallion-readers-qa];" in script


def test_caller_identity_needs_no_credential_and_managed_identity_never_shows_a_password():
    qa = rendered("qa", {"fitness": ["gym_summary"]})
    assert "CREDENTIAL" not in qa and "MASTER KEY" not in qa
    prod = rendered("prod", {"fitness": ["gym_summary"]})
    assert "WITH IDENTITY = 'Managed Identity'" in prod
    assert "CONVERT(nvarchar(36), NEWID())" in prod  # the master key password is made inside the server
    assert not re.search(r"PASSWORD = '[^']", prod)


def test_every_batch_is_separated_so_create_view_starts_its_own():
    script = rendered("qa", {"fitness": ["gym_summary"]})
    batches = [b.strip() for b in script.split("\nGO\n")]
    assert any(b.startswith("CREATE OR ALTER VIEW") for b in batches)
    assert script.rstrip().endswith("GO")


def test_views_declare_every_column_type_so_text_is_not_varchar_8000():
    script = rendered("qa", {"fitness": ["gym_summary"]})
    assert (
        "    FORMAT = 'DELTA'\n) WITH (\n    [date] date,\n    [gym] bigint,\n    [mac_address] varchar(400),\n"
        "    [workout_id] bigint,\n    [session_id] bigint,\n    [minutes_in_gym] float,\n"
        "    [minutes_exercising] float\n) AS [rows];"
    ) in script
    assert "varchar(8000)" not in script


def test_column_types_come_from_the_delta_schema(tmp_path):
    from datetime import date, datetime, timezone
    from decimal import Decimal

    import pyarrow as pa
    from deltalake import write_deltalake

    from deployment.synapse_types import gold_columns

    frame = pa.table(
        {
            "name": pa.array(["a"], pa.string()),
            "visits": pa.array([1], pa.int64()),
            "day": pa.array([date(2024, 1, 1)]),
            "at": pa.array([datetime(2024, 1, 1, tzinfo=timezone.utc)], pa.timestamp("us", "UTC")),
            "amount": pa.array([Decimal("1.50")], pa.decimal128(12, 2)),
            "ok": pa.array([True]),
            "share": pa.array([0.5], pa.float64()),
            "n": pa.array([1], pa.int32()),
        }
    )
    write_deltalake(str(tmp_path / "shop" / "gold" / "revenue"), frame)
    assert gold_columns(str(tmp_path), {"shop": ["revenue"]}, string_length=120) == {
        "shop": {
            "revenue": [
                ("name", "varchar(120)"),
                ("visits", "bigint"),
                ("day", "date"),
                ("at", "datetime2(6)"),
                ("amount", "decimal(12,2)"),
                ("ok", "bit"),
                ("share", "float"),
                ("n", "int"),
            ]
        }
    }


def test_a_gold_table_not_written_yet_is_one_clear_error(tmp_path):
    from deployment.synapse_types import gold_columns
    from medallion.errors import MedallionError

    with pytest.raises(MedallionError, match=r"No Delta table under .* for fitness.gym_summary: .*medallion run"):
        gold_columns(str(tmp_path), {"fitness": ["gym_summary"]}, string_length=400)
