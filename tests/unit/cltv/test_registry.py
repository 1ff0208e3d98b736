"""Where the cltv models are tracked and registered, as each environment's conf chooses: decided from conf
alone, no tracking server or workspace contacted."""

import mlflow
import pytest

from medallion.pipelines.cltv import tracking
from medallion.platform.config import load_settings
from medallion.sources import models


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_databricks_environments_track_in_the_workspace_and_register_in_unity_catalog(env):
    target = models.registry(load_settings(env), "cltv")
    assert target == models.Registry(
        tracking_uri="databricks",
        registry_uri="databricks-uc",
        experiment=f"/Shared/medallion/{env}/cltv",
        name_prefix=f"medallion_{env}.cltv_gold.",
    )
    # three-level Unity Catalog names: the environment's catalog, the gold schema beside the scored tables
    assert target.full_name(tracking.REGRESSOR) == f"medallion_{env}.cltv_gold.cltv_regressor"
    assert target.full_name(tracking.SEGMENTATION) == f"medallion_{env}.cltv_gold.customer_segmentation"


def test_locally_the_store_is_a_folder_under_the_storage_root_and_names_are_short(tmp_path):
    target = models.registry(load_settings("local", root=str(tmp_path)), "cltv")
    store = (tmp_path / "mlflow").as_uri()
    assert target == models.Registry(store, store, "cltv", "")
    assert target.full_name(tracking.REGRESSOR) == "cltv_regressor"


def test_an_environment_may_choose_another_registry_in_its_conf():
    settings = load_settings(
        "prod",
        overrides={"pipelines": {"cltv": {"mlflow_registry_uri": "databricks", "mlflow_experiment": "/Users/a/cltv"}}},
    )
    target = models.registry(settings, "cltv")
    assert (target.tracking_uri, target.registry_uri, target.experiment) == (
        "databricks",
        "databricks",
        "/Users/a/cltv",
    )


def test_using_the_unity_catalog_registry_points_mlflow_at_it_without_a_request():
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    try:
        models.use(models.registry(load_settings("prod"), "cltv"))
        assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == ("databricks", "databricks-uc")
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])
