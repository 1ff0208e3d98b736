"""An isolated test run's names: its own storage root, landing zone and schemas, never the shared ones."""

import pytest

from medallion.declare.tables import Layer
from medallion.engine.isolation import clean_up, isolated_settings
from medallion.errors import ConfigError
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime


def test_a_run_id_moves_root_landing_and_schemas():
    qa = load_settings("qa")
    run = isolated_settings(qa, "t20261203_ab12cd")
    assert run.root == "abfss://lakehouse@medallionqa.dfs.core.windows.net/medallion/_test_runs/t20261203_ab12cd"
    assert run.landing == "abfss://landing@medallionqa.dfs.core.windows.net/_test_runs/t20261203_ab12cd"
    runtime = Runtime(run)
    assert runtime.database("fitness", Layer.GOLD) == "medallion_qa.fitness_gold_t20261203_ab12cd"
    assert runtime.location("fitness", Layer.BRONZE, "users").checkpoint.startswith(run.root + "/_checkpoints/")
    assert Runtime(qa).database("fitness", Layer.GOLD) == "medallion_qa.fitness_gold"  # the shared one, unchanged


@pytest.mark.parametrize("run_id", ["", "1abc", "a-b", "A", "a" * 41, "x; DROP SCHEMA y"])
def test_a_run_id_that_is_not_safe_in_a_path_and_a_schema_name_is_refused(run_id):
    with pytest.raises(ConfigError, match="test run id"):
        isolated_settings(load_settings("qa"), run_id)


def test_clean_up_refuses_the_shared_tables():
    with pytest.raises(ConfigError, match="removes only the data of an isolated test run"):
        clean_up(Runtime(load_settings("qa")), ["fitness"])
