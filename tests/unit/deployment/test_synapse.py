"""The Synapse serverless script, as golden SQL an analyst pastes."""
import re
from pathlib import Path

import pytest

from deployment import synapse
from deployment.settings import load_deployment
from medallion.platform.grants import gold_tables_of

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("env", ["qa", "prod"])
def test_the_script_matches_the_reviewed_sql(env):
    settings = load_deployment(env, known_pipelines=["fitness"])
    assert synapse.render(settings, gold_tables_of(["fitness"])) == (GOLDEN / f"synapse-{env}.sql").read_text()


def test_one_view_per_gold_table_over_its_delta_folder():
    settings = load_deployment("qa", known_pipelines=["fitness"])
    script = synapse.render(settings, {"fitness": ["gym_summary", "workout_bpm_summary"], "shop": ["revenue"]})
    views = re.findall(r"CREATE OR ALTER VIEW \[(\w+)\]\.\[(\w+)\] AS\nSELECT \*\nFROM OPENROWSET\(\n    BULK '([^']+)'", script)
    assert views == [("fitness", "gym_summary", "fitness/gold/gym_summary/"),
                     ("fitness", "workout_bpm_summary", "fitness/gold/workout_bpm_summary/"),
                     ("shop", "revenue", "shop/gold/revenue/")]
    assert "LOCATION = N'https://medallionqa.dfs.core.windows.net/lakehouse/medallion'" in script
    assert script.count("FORMAT = 'DELTA'") == 3
    assert "GRANT SELECT ON SCHEMA::[shop] TO [medallion-readers-qa];" in script


def test_caller_identity_needs_no_credential_and_managed_identity_never_shows_a_password():
    qa = synapse.render(load_deployment("qa", known_pipelines=["fitness"]), {"fitness": ["gym_summary"]})
    assert "CREDENTIAL" not in qa and "MASTER KEY" not in qa
    prod = synapse.render(load_deployment("prod", known_pipelines=["fitness"]), {"fitness": ["gym_summary"]})
    assert "WITH IDENTITY = 'Managed Identity'" in prod
    assert "CONVERT(nvarchar(36), NEWID())" in prod  # the master key password is made inside the server
    assert not re.search(r"PASSWORD = '[^']", prod)


def test_every_batch_is_separated_so_create_view_starts_its_own():
    script = synapse.render(load_deployment("qa", known_pipelines=["fitness"]), {"fitness": ["gym_summary"]})
    batches = [b.strip() for b in script.split("\nGO\n")]
    assert any(b.startswith("CREATE OR ALTER VIEW") for b in batches)
    assert script.rstrip().endswith("GO")
