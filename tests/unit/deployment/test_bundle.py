"""databricks.yml + resources/: the bundle agrees with the SDK deployer job by job, and the committed files
are what `medallion bundle` renders from conf/ today."""

import pytest
import yaml

from deployment.bundle import CONF_ON_CLUSTER, ENVIRONMENTS, WHEEL_FROM_RESOURCES, job_key, render, sdk_jobs
from deployment.settings import load_deployment
from medallion.cli import main
from medallion.declare.pipeline import pipeline_names
from medallion.platform.config import DEFAULT_CONF_DIR, PROJECT_DIR

NOTEBOOKS = PROJECT_DIR / "notebooks"


def committed(relative: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / relative).read_text())


def test_the_committed_bundle_is_what_conf_renders(capsys):
    files = render(DEFAULT_CONF_DIR, NOTEBOOKS, pipeline_names())
    assert sorted(files) == ["databricks.yml", "resources/dev.yml", "resources/prod.yml", "resources/qa.yml"]
    for relative, text in files.items():
        assert (PROJECT_DIR / relative).read_text() == text, f"{relative} is stale: run `medallion bundle`"
    assert main(["bundle", "--check"]) == 0
    assert capsys.readouterr().out == "databricks.yml and resources/ match conf/\n"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_job_of_the_sdk_plan_is_in_the_bundle_with_the_same_settings(env):
    settings = load_deployment(env, known_pipelines=pipeline_names())
    sdk = sdk_jobs(settings, NOTEBOOKS)
    bundle = committed(f"resources/{env}.yml")["targets"][env]["resources"]["jobs"]
    assert sorted(bundle) == sorted(job_key(name) for name in sdk)
    for name, job in sdk.items():
        expected = job.as_dict()
        resource = bundle[job_key(name)]
        assert resource["name"] == name
        # only the paths differ: the bundle names its files relative to itself and syncs to file_path
        expected.pop("run_as", None)
        for want, have in zip(expected["tasks"], resource["tasks"]):
            assert (
                have["notebook_task"].pop("notebook_path")
                == "../notebooks/" + want["notebook_task"].pop("notebook_path").rsplit("/", 1)[1] + ".py"
            )
            assert have.pop("libraries") == [{"whl": WHEEL_FROM_RESOURCES}] and len(want.pop("libraries")) == 1
        for want, have in zip(expected["job_clusters"], resource["job_clusters"]):
            assert have["new_cluster"]["spark_env_vars"].pop("MEDALLION_CONF_DIR") == CONF_ON_CLUSTER
            want["new_cluster"]["spark_env_vars"].pop("MEDALLION_CONF_DIR")
        assert resource == expected


@pytest.mark.parametrize("env, mode", [("dev", "development"), ("qa", "production"), ("prod", "production")])
def test_targets_dev_in_development_mode_qa_and_prod_in_production_as_the_service_principal(env, mode):
    settings = load_deployment(env, known_pipelines=pipeline_names())
    target = committed("databricks.yml")["targets"][env]
    assert target["mode"] == mode and target["workspace"]["host"] == settings.host
    assert target["run_as"] == {"service_principal_name": settings.job_principal}
    if mode == "production":
        assert target["workspace"]["root_path"] == settings.workspace_folder
    else:
        assert "root_path" not in target["workspace"]  # development mode: the engineer's own folder
    assert committed("databricks.yml")["include"] == ["resources/*.yml"]
