from medallion.declare.tables import Layer
from medallion.platform import layout
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime

ROOT = "abfss://lake@acct.dfs.core.windows.net/medallion"


def test_every_location_of_a_table_follows_the_one_rule():
    assert layout.table_path(ROOT, "fitness", Layer.SILVER, "users") == f"{ROOT}/fitness/silver/users"
    assert layout.table_path(ROOT + "/", "fitness", "gold", "gym_summary") == f"{ROOT}/fitness/gold/gym_summary"
    assert layout.table_folder("fitness", Layer.GOLD, "gym_summary") == "fitness/gold/gym_summary"
    assert layout.checkpoint(ROOT, "fitness", "users") == f"{ROOT}/_checkpoints/fitness/users"
    assert layout.quarantine(ROOT, "fitness") == f"{ROOT}/fitness/_quarantine"
    assert layout.staging(ROOT, "fitness", "users", "batch") == f"{ROOT}/_staging/fitness/users/batch"
    assert layout.system(ROOT, "event_log") == f"{ROOT}/_system/event_log"
    assert layout.lock("/data/lake", "fitness") == "/data/lake/_system/locks/fitness.lock"
    assert layout.landing_folder("/Volumes/main/raw/landing", "fitness", "gym_logins_bz") == (
        "/Volumes/main/raw/landing/fitness/gym_logins_bz"
    )
    assert layout.isolated_root(ROOT, "pr_42") == f"{ROOT}/_test_runs/pr_42"


def test_schema_names_carry_the_layer_the_run_suffix_and_the_catalog():
    assert layout.schema("fitness", Layer.BRONZE) == "fitness_bronze"
    assert layout.schema("fitness", "gold", "_pr_42", "medallion_qa") == "medallion_qa.fitness_gold_pr_42"


def test_the_runtime_names_tables_by_the_rule():
    settings = load_settings("qa", overrides={"secrets": {"provider": "env"}})
    location = Runtime(settings).location("movies", Layer.GOLD, "fact_movie_analytics")
    assert location.path == layout.table_path(settings.root, "movies", Layer.GOLD, "fact_movie_analytics")
    assert location.name == f"{settings.catalog}.movies_gold.fact_movie_analytics"
    assert location.checkpoint == layout.checkpoint(settings.root, "movies", "fact_movie_analytics")
