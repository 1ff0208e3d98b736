"""The jobs an environment should have, as the SDK's own ``JobSettings``: pure, from settings alone.

- one job per pipeline, named ``medallion-<env>-<pipeline>``: tasks setup → bronze → silver → gold on a
  shared job cluster, on the environment's schedule; or, for a stream pipeline, one task running
  notebook 07-run with ``run_type=stream`` as a continuous job (restarted if it stops);
- where ``integration_tests`` is on, ``medallion-<env>-integration-tests``: notebook 08-batch-test once
  per pipeline that declares expected counts (the others are skipped, and the deploy says so), never
  scheduled; ``medallion deploy --run-tests`` runs it with a ``test_run`` id, so each run writes to a
  storage root and schemas of its own (see ``medallion.engine.isolation``).

The notebooks receive ``env``, ``pipeline`` and ``run_type`` as job parameters (pushed to their widgets).
The cluster finds the deployed ``conf/`` through ``MEDALLION_CONF_DIR``.
"""

from __future__ import annotations

from databricks.sdk.service import compute, jobs

from deployment.artifacts import Artifacts
from deployment.settings import DeploymentSettings
from medallion.declare.pipeline import get_pipeline
from medallion.platform.config import CONF_DIR_ENV_VAR, USER_TARGET_ENV_VAR

CLUSTER_KEY = "medallion"
BATCH_TASKS = ("setup", "bronze", "silver", "gold")
TEST_RUN_PARAMETER = "test_run"  # notebook 08's widget: the id that isolates one test run's data


def desired_jobs(settings: DeploymentSettings, artifacts: Artifacts) -> dict[str, jobs.JobSettings]:
    """Job name → the settings it must have."""
    wanted = {}
    for pipeline in settings.pipelines:
        if pipeline in settings.stream_pipelines:
            wanted[settings.job_name(pipeline)] = stream_job(settings, artifacts, pipeline)
        else:
            wanted[settings.job_name(pipeline)] = batch_job(settings, artifacts, pipeline)
    if settings.integration_tests and acceptance_pipelines(settings.pipelines)[0]:
        wanted[settings.tests_job_name] = tests_job(settings, artifacts)
    return wanted


def batch_job(settings: DeploymentSettings, artifacts: Artifacts, pipeline: str) -> jobs.JobSettings:
    tasks = []
    for position, role in enumerate(BATCH_TASKS):
        upstream = [jobs.TaskDependency(task_key=BATCH_TASKS[position - 1])] if position else None
        tasks.append(_notebook_task(role, artifacts.notebook(role), artifacts, depends_on=upstream))
    schedule = jobs.CronSchedule(
        quartz_cron_expression=settings.schedule.cron,
        timezone_id=settings.schedule.timezone,
        pause_status=_pause(settings.schedule.paused),
    )
    return _job(
        settings,
        pipeline,
        f"{pipeline}: setup, then bronze → silver → gold (run_type once)",
        tasks,
        run_type="once",
        schedule=schedule,
    )


def stream_job(settings: DeploymentSettings, artifacts: Artifacts, pipeline: str) -> jobs.JobSettings:
    task = _notebook_task("run", artifacts.notebook("run"), artifacts)
    job = _job(
        settings,
        pipeline,
        f"{pipeline}: every layer as streams (run_type stream), restarted if it stops",
        [task],
        run_type="stream",
        continuous=jobs.Continuous(pause_status=_pause(settings.schedule.paused)),
    )
    job.timeout_seconds = 0  # a stream runs until stopped: a timeout would kill it every few hours
    return job


def acceptance_pipelines(pipelines) -> tuple[list[str], list[str]]:
    """(tested, skipped): a pipeline is tested when it declares expected counts and a producer."""
    tested, skipped = [], []
    for name in pipelines:
        pipeline = get_pipeline(name)
        has_counts = pipeline.hook("expected_counts") is not None and pipeline.hook("produce") is not None
        (tested if has_counts else skipped).append(name)
    return tested, skipped


def skipped_lines(settings: DeploymentSettings) -> list[str]:
    """One line per deployed pipeline the integration tests leave out, saying why."""
    if not settings.integration_tests:
        return []
    return [
        f"integration tests: {name} skipped: it declares no expected counts (hooks.expected_counts)"
        for name in acceptance_pipelines(settings.pipelines)[1]
    ]


def tests_job(settings: DeploymentSettings, artifacts: Artifacts) -> jobs.JobSettings:
    notebook = artifacts.notebook("batch_test")
    tested, _ = acceptance_pipelines(settings.pipelines)
    tasks = [
        _notebook_task(
            f"test_{pipeline}",
            notebook,
            artifacts,
            parameters={"env": settings.env, "pipeline": pipeline, "run_type": "once"},
        )
        for pipeline in tested
    ]
    return jobs.JobSettings(
        name=settings.tests_job_name,
        description=f"Integration tests (notebook 08-batch-test) for {', '.join(tested) or 'no pipeline'} in {settings.env}",
        tags=dict(settings.tags),
        tasks=tasks,
        # each run passes its own id: data of its own, removed afterwards (empty: the shared tables)
        parameters=[jobs.JobParameterDefinition(name=TEST_RUN_PARAMETER, default="")],
        job_clusters=[_job_cluster(settings)],
        max_concurrent_runs=1,
        timeout_seconds=settings.test_timeout_minutes * 60,
        run_as=_run_as(settings),
        edit_mode=jobs.JobEditMode.UI_LOCKED,
        format=jobs.Format.MULTI_TASK,
    )


def _job(
    settings: DeploymentSettings,
    pipeline: str,
    description: str,
    tasks: list[jobs.Task],
    run_type: str,
    schedule: jobs.CronSchedule | None = None,
    continuous: jobs.Continuous | None = None,
) -> jobs.JobSettings:
    return jobs.JobSettings(
        name=settings.job_name(pipeline),
        description=description,
        tags={**settings.tags, "medallion-pipeline": pipeline},
        tasks=tasks,
        job_clusters=[_job_cluster(settings)],
        parameters=[
            jobs.JobParameterDefinition(name="env", default=settings.env),
            jobs.JobParameterDefinition(name="pipeline", default=pipeline),
            jobs.JobParameterDefinition(name="run_type", default=run_type),
        ],
        schedule=schedule,
        continuous=continuous,
        max_concurrent_runs=settings.max_concurrent_runs,
        timeout_seconds=settings.timeout_seconds,
        email_notifications=(
            jobs.JobEmailNotifications(on_failure=list(settings.notify_on_failure))
            if settings.notify_on_failure
            else None
        ),
        run_as=_run_as(settings),
        edit_mode=jobs.JobEditMode.UI_LOCKED,
        format=jobs.Format.MULTI_TASK,
    )


def _notebook_task(key: str, notebook_path: str, artifacts: Artifacts, depends_on=None, parameters=None) -> jobs.Task:
    return jobs.Task(
        task_key=key,
        notebook_task=jobs.NotebookTask(
            notebook_path=notebook_path, source=jobs.Source.WORKSPACE, base_parameters=parameters
        ),
        job_cluster_key=CLUSTER_KEY,
        libraries=[compute.Library(whl="/Workspace" + artifacts.wheel.remote)],
        depends_on=depends_on,
    )


def _job_cluster(settings: DeploymentSettings) -> jobs.JobCluster:
    cluster = settings.cluster
    size = (
        {
            "autoscale": compute.AutoScale(
                min_workers=int(cluster.autoscale["min_workers"]), max_workers=int(cluster.autoscale["max_workers"])
            )
        }
        if cluster.autoscales
        else {"num_workers": cluster.num_workers}
    )
    return jobs.JobCluster(
        job_cluster_key=CLUSTER_KEY,
        new_cluster=compute.ClusterSpec(
            spark_version=cluster.spark_version,
            node_type_id=cluster.node_type,
            **size,
            policy_id=cluster.policy_id,
            apply_policy_default_values=True if cluster.policy_id else None,
            azure_attributes=compute.AzureAttributes(
                availability=compute.AzureAvailability(cluster.availability),
                first_on_demand=cluster.first_on_demand,
                spot_bid_max_price=-1 if cluster.availability != "ON_DEMAND_AZURE" else None,
            ),
            data_security_mode=compute.DataSecurityMode(cluster.data_security_mode),
            spark_env_vars=_cluster_env(settings),
            custom_tags=dict(settings.tags),
        ),
    )


def _cluster_env(settings: DeploymentSettings) -> dict[str, str]:
    """The deployed conf; on a per-user target also the engineer's key, which gives the jobs a storage
    root, schemas and topics of their own (``medallion.platform.config.per_user_settings``)."""
    env = {CONF_DIR_ENV_VAR: f"{settings.files_folder}/conf"}
    if settings.user_key:
        env[USER_TARGET_ENV_VAR] = settings.user_key
    return env


def _run_as(settings: DeploymentSettings) -> jobs.JobRunAs | None:
    return jobs.JobRunAs(service_principal_name=settings.job_principal) if settings.job_principal else None


def _pause(paused: bool) -> jobs.PauseStatus:
    return jobs.PauseStatus.PAUSED if paused else jobs.PauseStatus.UNPAUSED


def desired_permissions(settings: DeploymentSettings) -> list[jobs.JobAccessControlRequest]:
    """The job ACL from conf: one entry per (group, level); the owner is kept as the workspace has it."""
    return [
        jobs.JobAccessControlRequest(group_name=group, permission_level=jobs.JobPermissionLevel(level))
        for group, level in settings.permissions
    ]
