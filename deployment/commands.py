"""What ``medallion deploy`` does, as functions the CLI (and the tests) call."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

from deployment import apply, artifacts, checks, integration_tests, jobs, plan, saved_plan
from deployment.settings import DeploymentSettings, load_deployment
from deployment.workspace import Workspace
from medallion.declare.pipeline import pipeline_names
from medallion.errors import MedallionError, UsageError
from medallion.platform.config import CONF_DIR_ENV_VAR, DEFAULT_CONF_DIR, PROJECT_DIR

log = logging.getLogger(__name__)
HTTP_TIMEOUT_S = 30  # one request
RETRY_TIMEOUT_S = 60  # one request with the SDK's retries (its default: 300 s)
AUTH_HELP = (
    "Authenticate through the Databricks SDK's standard chain: the Azure CLI (`az login`, or an AzureCLI@2 task "
    "with a workload identity federation service connection: no secret), a service principal "
    "(ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID), or DATABRICKS_TOKEN."
)


@dataclass(frozen=True)
class Project:
    """The checkout being deployed."""

    notebooks_dir: Path = PROJECT_DIR / "notebooks"
    conf_dir: Path = field(default_factory=lambda: Path(os.environ.get(CONF_DIR_ENV_VAR) or DEFAULT_CONF_DIR))
    project_dir: Path = PROJECT_DIR


def settings_for(env: str, project: Project) -> DeploymentSettings:
    if env == "local":
        raise UsageError("`local` runs on this machine: deploy targets a Databricks environment (dev, qa, prod).")
    return load_deployment(env, project.conf_dir, known_pipelines=pipeline_names())


def connect(settings: DeploymentSettings, progress: Callable[[str], None] = log.info) -> WorkspaceClient:
    """A client authenticated by the SDK's default chain; the host comes from conf, never from a stray variable.

    Short timeouts (the SDK's defaults wait up to five minutes in silence on an unreachable host), and one
    call up front that proves both the host and the identity before anything is planned."""
    host = settings.host or "Databricks"
    timeouts = {"http_timeout_seconds": HTTP_TIMEOUT_S, "retry_timeout_seconds": RETRY_TIMEOUT_S}
    try:
        config = Config(host=settings.host, **timeouts) if settings.host else Config(**timeouts)
        client = WorkspaceClient(config=config)
        client.config.authenticate()
    except Exception as err:  # the SDK raises ValueError subclasses listing what it tried
        raise MedallionError(f"Cannot authenticate to {host} ({err}). {AUTH_HELP}") from None
    progress(f"connecting to {host} (timeout {RETRY_TIMEOUT_S} s)")
    try:
        me = client.current_user.me()
    except Exception as err:  # connection refused, DNS, TLS, 401/403: one line, no traceback
        raise MedallionError(
            f"Cannot reach {host} as this identity within {RETRY_TIMEOUT_S} s ({type(err).__name__}: "
            f"{' '.join(str(err).split())[:200]}). Check deployment.host in conf/{settings.env}.yml, the network, "
            f"and the identity. {AUTH_HELP}"
        ) from None
    progress(f"connected as {me.user_name or me.display_name}")
    return client


def target(env: str, project: Project, client: WorkspaceClient | None = None) -> tuple[DeploymentSettings, Workspace]:
    """The environment's settings and workspace; on a per-user target (dev), the deploying engineer's own."""
    settings = settings_for(env, project)
    ws = Workspace(client or connect(settings))
    if settings.per_user:
        settings = settings.for_user(ws.current_user())
    return settings, ws


def require_deployer(settings: DeploymentSettings, ws: Workspace) -> None:
    """Only the configured deployer writes: every plan names it as the folder's manager (whoever planned),
    so a write by another identity would apply a plan made for someone else."""
    if settings.deployer is None:
        return
    signed_in = ws.current_user()
    if signed_in != settings.deployer:
        raise MedallionError(
            f"Nothing applied: {settings.env} is deployed by {settings.deployer} (deployment.deployer in "
            f"conf/{settings.env}.yml), but this session is signed in as {signed_in}. Sign in as the deployer "
            "(in Azure DevOps: the deploying stage's service connection), change deployment.deployer if the "
            "deploying identity changed, or use --plan to only see the plan."
        )


def deploy(
    env: str,
    project: Project,
    wheel: Path | None = None,
    plan_only: bool = False,
    client: WorkspaceClient | None = None,
    progress: Callable[[str], None] = log.info,
    save_plan: Path | None = None,
    approved_plan: Path | None = None,
) -> plan.Plan:
    """Plan, then apply. ``save_plan``: write the plan there (with ``plan_only``: for approval);
    ``approved_plan``: apply only if the plan computed now is exactly that one."""
    settings, ws = target(env, project, client)
    if not plan_only:
        require_deployer(settings, ws)
    if wheel is None:
        progress("building the wheel from this checkout (pass --wheel to deploy one already built)")
        wheel = artifacts.build_wheel(project.project_dir)
    uploads = artifacts.collect(settings.workspace_folder, project.notebooks_dir, project.conf_dir, env, wheel)
    wanted = jobs.desired_jobs(settings, uploads)
    acl = jobs.desired_permissions(settings)
    the_plan = plan.plan_deploy(ws, settings, uploads, wanted, acl)
    progress(the_plan.render())
    for line in jobs.skipped_lines(settings):
        progress(line)
    problems = checks.secret_scope_problems(ws, settings, progress)
    if problems:
        raise MedallionError("Nothing applied: " + " ".join(problems))
    if save_plan is not None:
        progress(f"Plan saved to {save_plan} (digest {saved_plan.save(the_plan, save_plan)[:12]}).")
    if approved_plan is not None:
        progress(
            f"This is the approved plan {approved_plan} (digest {saved_plan.check(the_plan, approved_plan)[:12]})."
        )
    if not plan_only and the_plan.pending:
        progress("Applying:")
        apply.apply(ws, the_plan, acl, progress)
        progress(f"Deployed {env}.")
    return the_plan


def destroy(
    env: str,
    project: Project,
    plan_only: bool = False,
    confirmed: bool = False,
    client: WorkspaceClient | None = None,
    progress: Callable[[str], None] = log.info,
) -> plan.Plan:
    settings, ws = target(env, project, client)
    names = [settings.job_name(p) for p in settings.pipelines] + [settings.tests_job_name]
    the_plan = plan.plan_destroy(ws, settings, names)
    progress(
        the_plan.render(title="Destroy plan", nothing=f"Nothing to remove: no object of this project is left in {env}.")
    )
    if plan_only or not the_plan.pending:
        return the_plan
    if not confirmed:
        raise UsageError(f"Nothing removed: add --yes to remove the {len(the_plan.pending)} objects above from {env}.")
    require_deployer(settings, ws)
    progress("Removing:")
    apply.apply(ws, the_plan, [], progress)
    progress(f"Removed what this project had deployed to {env}.")
    return the_plan


def run_tests(
    env: str,
    project: Project,
    client: WorkspaceClient | None = None,
    poll_seconds: float = 15.0,
    progress: Callable[[str], None] = log.info,
) -> int:
    settings, ws = target(env, project, client)
    for line in jobs.skipped_lines(settings):
        progress(line)
    outcomes = integration_tests.run_integration_tests(ws.client, settings, poll_seconds, progress)
    return integration_tests.report(outcomes, progress)
