"""The jobs an environment gets, checked as the SDK's own JobSettings."""

from dataclasses import replace

import pytest
from databricks.sdk.service import compute, jobs

from deployment.artifacts import collect
from deployment.jobs import desired_jobs, desired_permissions
from deployment.settings import load_deployment
from medallion.declare.pipeline import pipeline_names
from medallion.errors import MedallionError
from medallion.platform.config import DEFAULT_CONF_DIR
from tests.support.checkout import write_notebooks, write_wheel


def _jobs(env, tmp_path, notebooks=None, **settings_changes):
    # One deployed pipeline keeps the expected jobs small; conf/base.yml's stream pipeline (commerce) is
    # then not deployed, which is no error.
    settings = replace(load_deployment(env, known_pipelines=pipeline_names()), pipelines=("fitness",))
    if settings_changes:
        settings = replace(settings, **settings_changes)
    notebooks_dir = write_notebooks(tmp_path / "notebooks", *([notebooks] if notebooks else []))
    artifacts = collect(settings.workspace_folder, notebooks_dir, DEFAULT_CONF_DIR, env, write_wheel(tmp_path / "dist"))
    return settings, artifacts, desired_jobs(settings, artifacts)


def test_a_batch_job_runs_setup_then_bronze_silver_gold_on_the_pinned_runtime(tmp_path):
    settings, artifacts, wanted = _jobs("qa", tmp_path)
    job = wanted["medallion-qa-fitness"]
    assert [(t.task_key, [d.task_key for d in t.depends_on or []]) for t in job.tasks] == [
        ("setup", []),
        ("bronze", ["setup"]),
        ("silver", ["bronze"]),
        ("gold", ["silver"]),
    ]
    assert [t.notebook_task.notebook_path for t in job.tasks] == [
        "/Deployments/medallion/qa/notebooks/02-setup",
        "/Deployments/medallion/qa/notebooks/04-bronze",
        "/Deployments/medallion/qa/notebooks/05-silver",
        "/Deployments/medallion/qa/notebooks/06-gold",
    ]
    wheel = "/Workspace" + artifacts.wheel.remote
    assert all(t.libraries == [compute.Library(whl=wheel)] and t.job_cluster_key == "medallion" for t in job.tasks)
    cluster = job.job_clusters[0].new_cluster
    assert (cluster.spark_version, cluster.node_type_id, cluster.num_workers) == (
        "15.4.x-scala2.12",
        "Standard_D4ds_v5",
        1,
    )
    assert cluster.data_security_mode.value == "SINGLE_USER"
    assert cluster.spark_env_vars == {"MEDALLION_CONF_DIR": "/Workspace/Deployments/medallion/qa/conf"}
    assert {(p.name, p.default) for p in job.parameters} == {
        ("env", "qa"),
        ("pipeline", "fitness"),
        ("run_type", "once"),
    }
    assert job.schedule == jobs.CronSchedule("0 0 4 * * ?", "UTC", pause_status=jobs.PauseStatus.UNPAUSED)
    assert job.run_as == jobs.JobRunAs(service_principal_name="22222222-2222-2222-2222-222222222222")
    assert job.email_notifications.on_failure == ["medallion-oncall@example.com"]
    assert job.tags == {"project": "medallion", "medallion-env": "qa", "medallion-pipeline": "fitness"}
    assert job.continuous is None


def test_dev_schedules_are_paused_and_prod_gets_its_own_cluster_size(tmp_path):
    _, _, dev = _jobs("dev", tmp_path / "dev")
    assert dev["medallion-dev-fitness"].schedule.pause_status == jobs.PauseStatus.PAUSED
    _, _, prod = _jobs("prod", tmp_path / "prod")
    cluster = prod["medallion-prod-fitness"].job_clusters[0].new_cluster
    assert (cluster.node_type_id, cluster.num_workers) == ("Standard_D8ds_v5", 4)
    assert "medallion-prod-integration-tests" not in prod  # integration_tests is off in prod


def test_a_stream_pipeline_is_one_continuous_task_running_the_run_notebook(tmp_path):
    _, _, wanted = _jobs("qa", tmp_path, stream_pipelines=("fitness",))
    job = wanted["medallion-qa-fitness"]
    assert [t.task_key for t in job.tasks] == ["run"]
    assert job.tasks[0].notebook_task.notebook_path.endswith("/notebooks/07-run")
    assert ("run_type", "stream") in {(p.name, p.default) for p in job.parameters}
    assert job.schedule is None and job.continuous == jobs.Continuous(pause_status=jobs.PauseStatus.UNPAUSED)


def test_every_environment_runs_commerce_as_a_continuous_job_and_the_others_in_batch(tmp_path):
    for env in ("dev", "qa", "prod"):
        settings = load_deployment(env, known_pipelines=pipeline_names())
        notebooks_dir = write_notebooks(tmp_path / env / "notebooks")
        artifacts = collect(
            settings.workspace_folder, notebooks_dir, DEFAULT_CONF_DIR, env, write_wheel(tmp_path / env / "dist")
        )
        wanted = desired_jobs(settings, artifacts)
        kinds = {
            name: "continuous" if job.continuous else "scheduled"
            for name, job in wanted.items()
            if name != settings.tests_job_name
        }
        assert kinds == {
            f"medallion-{env}-{name}": "continuous" if name == "commerce" else "scheduled" for name in pipeline_names()
        }
        commerce = wanted[f"medallion-{env}-commerce"]
        assert [t.notebook_task.notebook_path.rsplit("/", 1)[1] for t in commerce.tasks] == ["07-run"]
        assert {(p.name, p.default) for p in commerce.parameters} == {
            ("env", env),
            ("pipeline", "commerce"),
            ("run_type", "stream"),
        }
        assert commerce.schedule is None and commerce.timeout_seconds == 0


def test_the_integration_tests_job_runs_the_batch_test_notebook_per_pipeline_on_demand(tmp_path):
    _, _, wanted = _jobs("qa", tmp_path)
    job = wanted["medallion-qa-integration-tests"]
    assert [(t.task_key, t.notebook_task.base_parameters) for t in job.tasks] == [
        ("test_fitness", {"env": "qa", "pipeline": "fitness", "run_type": "once"})
    ]
    assert job.tasks[0].notebook_task.notebook_path.endswith("/notebooks/08-batch-test")
    assert job.schedule is None and job.continuous is None and job.timeout_seconds == 3600


def test_every_job_survives_a_round_trip_through_the_sdk_types(tmp_path):
    _, _, wanted = _jobs("qa", tmp_path)
    for settings in wanted.values():
        payload = settings.as_dict()
        assert jobs.JobSettings.from_dict(payload).as_dict() == payload


def test_a_missing_notebook_names_the_file_the_job_needs(tmp_path):
    with pytest.raises(MedallionError, match=r"no NN-gold.py notebook.*'gold' task"):
        _jobs("qa", tmp_path, notebooks=("01-config", "02-setup", "04-bronze", "05-silver", "08-batch-test"))


def test_permissions_come_from_conf():
    acl = desired_permissions(load_deployment("prod", known_pipelines=pipeline_names()))
    assert [(e.group_name, e.permission_level.value) for e in acl] == [
        ("medallion-platform", "CAN_MANAGE"),
        ("medallion-operators", "CAN_MANAGE_RUN"),
        ("medallion-engineers", "CAN_VIEW"),
        ("medallion-readers", "CAN_VIEW"),
    ]


def test_cluster_policy_autoscale_and_spot_come_from_conf(tmp_path):
    from deployment.settings import ClusterSettings

    spot = ClusterSettings(
        "15.4.x-scala2.12",
        "Standard_D4ds_v5",
        1,
        "SINGLE_USER",
        policy_id="ABC123",
        autoscale={"min_workers": 1, "max_workers": 4},
        availability="SPOT_WITH_FALLBACK_AZURE",
        first_on_demand=1,
    )
    _, _, wanted = _jobs("qa", tmp_path, cluster=spot)
    cluster = wanted["medallion-qa-fitness"].job_clusters[0].new_cluster
    assert (cluster.policy_id, cluster.apply_policy_default_values) == ("ABC123", True)
    assert cluster.autoscale == compute.AutoScale(min_workers=1, max_workers=4) and cluster.num_workers is None
    assert cluster.azure_attributes == compute.AzureAttributes(
        availability=compute.AzureAvailability.SPOT_WITH_FALLBACK_AZURE, first_on_demand=1, spot_bid_max_price=-1
    )


def test_by_default_a_fixed_size_on_demand_cluster_without_policy(tmp_path):
    _, _, wanted = _jobs("prod", tmp_path)
    cluster = wanted["medallion-prod-fitness"].job_clusters[0].new_cluster
    assert (cluster.num_workers, cluster.autoscale, cluster.policy_id) == (4, None, None)
    assert cluster.azure_attributes == compute.AzureAttributes(
        availability=compute.AzureAvailability.ON_DEMAND_AZURE, first_on_demand=1
    )
