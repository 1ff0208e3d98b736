"""`medallion deploy` end to end against a local workspace that speaks the Databricks REST API:
plan without writing, deploy, deploy again with no change, follow a conf change, destroy only ours."""

import base64
import copy

import pytest

from deployment.commands import deploy
from medallion.cli import main
from tests.support.checkout import edit_conf, write_wheel

FOLDER = "/Deployments/medallion/qa"


def cli(capsys, *arguments) -> tuple[int, str, str]:
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def deploy_args(checkout, wheel, *extra) -> list[str]:
    return ["deploy", "--env", "qa", "--wheel", str(wheel), "--notebooks", str(checkout.notebooks_dir), *extra]


def snapshot(workspace) -> tuple:
    return copy.deepcopy((workspace.objects, workspace.jobs, workspace.acls))


def pending(plan) -> set[tuple[str, str, str]]:
    return {(c.action, c.kind, c.name) for c in plan.pending}


@pytest.fixture
def wheel(tmp_path):
    return write_wheel(tmp_path / "dist", "v1")


def test_plan_lists_everything_it_would_create_and_writes_nothing(checkout, workspace, wheel, capsys):
    code, out, _ = cli(capsys, *deploy_args(checkout, wheel, "--plan"))
    assert code == 0
    assert workspace.writes == []
    assert out.count("  + notebook ") == 10 and out.count("  + file ") == 2
    assert (
        "+ job          medallion-qa-fitness" in out and "setup → bronze → silver → gold; 0 0 4 * * ? unpaused" in out
    )
    assert "+ job          medallion-qa-integration-tests" in out
    assert "+ permissions  medallion-qa-fitness" in out and "group medallion-operators CAN_MANAGE_RUN" in out
    assert f"+ folder-acl   {FOLDER}" in out and "group medallion-engineers CAN_READ" in out
    assert (
        "service_principal 22222222-2222-2222-2222-222222222222 CAN_READ" in out
        and "user deployer@example.com CAN_MANAGE" in out
    )
    assert "25 to create, 0 to change, 0 to remove, 0 unchanged." in out


def test_deploying_twice_changes_nothing_the_second_time(checkout, workspace, wheel, capsys):
    assert cli(capsys, *deploy_args(checkout, wheel))[0] == 0
    job_names = sorted(j["settings"]["name"] for j in workspace.jobs.values())
    assert job_names == ["medallion-qa-fitness", "medallion-qa-integration-tests"]
    assert workspace.objects[f"{FOLDER}/notebooks/04-bronze"]["object_type"] == "NOTEBOOK"
    assert workspace.objects[f"{FOLDER}/conf/qa.yml"]["content"] == (checkout.conf_dir / "qa.yml").read_bytes()
    before, writes = snapshot(workspace), len(workspace.writes)

    code, out, _ = cli(capsys, *deploy_args(checkout, wheel))
    assert code == 0
    assert "No changes: qa already matches this checkout and conf/qa.yml" in out
    assert workspace.writes[writes:] == []
    assert snapshot(workspace) == before


def test_the_deployed_job_is_what_the_jobs_api_stores(checkout, workspace, wheel, capsys):
    cli(capsys, *deploy_args(checkout, wheel))
    job = next(j for j in workspace.jobs.values() if j["settings"]["name"] == "medallion-qa-fitness")
    settings = job["settings"]
    assert settings["tags"] == {"project": "medallion", "medallion-env": "qa", "medallion-pipeline": "fitness"}
    assert settings["job_clusters"][0]["new_cluster"]["spark_version"] == "15.4.x-scala2.12"
    assert settings["run_as"] == {"service_principal_name": "22222222-2222-2222-2222-222222222222"}
    wheel_paths = {lib["whl"] for task in settings["tasks"] for lib in task["libraries"]}
    assert len(wheel_paths) == 1 and wheel_paths.pop().startswith(f"/Workspace{FOLDER}/artifacts/")
    grants = {(g.get("group_name") or g.get("user_name"), g["permission_level"]) for g in workspace.acls[job["job_id"]]}
    assert grants == {
        ("deployer@example.com", "IS_OWNER"),
        ("medallion-engineers", "CAN_MANAGE"),
        ("medallion-operators", "CAN_MANAGE_RUN"),
        ("medallion-readers-qa", "CAN_VIEW"),
    }


def test_a_conf_change_updates_the_jobs_and_the_conf_file_only(checkout, workspace, wheel):
    deploy("qa", checkout, wheel=wheel, progress=lambda _: None)
    edit_conf(checkout.conf_dir, "qa", schedule={"paused": True}, cluster={"num_workers": 3})

    plan = deploy("qa", checkout, wheel=wheel, plan_only=True, progress=lambda _: None)
    assert pending(plan) == {
        ("update", "file", f"{FOLDER}/conf/qa.yml"),
        ("update", "job", "medallion-qa-fitness"),
        ("update", "job", "medallion-qa-integration-tests"),
        ("update", "state", f"{FOLDER}/.medallion-deployment.json"),
    }
    fitness = next(c for c in plan.pending if c.name == "medallion-qa-fitness")
    assert fitness.detail == "job_clusters[medallion].new_cluster.num_workers, schedule.pause_status"

    deploy("qa", checkout, wheel=wheel, progress=lambda _: None)
    stored = next(j["settings"] for j in workspace.jobs.values() if j["settings"]["name"] == "medallion-qa-fitness")
    assert stored["schedule"]["pause_status"] == "PAUSED"
    assert stored["job_clusters"][0]["new_cluster"]["num_workers"] == 3
    assert deploy("qa", checkout, wheel=wheel, progress=lambda _: None).pending == []


def test_a_new_wheel_gets_a_new_path_and_the_old_one_is_removed(checkout, workspace, wheel, tmp_path):
    first = deploy("qa", checkout, wheel=wheel, progress=lambda _: None)
    old_wheel = next(c.name for c in first.changes if c.kind == "wheel")
    new = write_wheel(tmp_path / "dist2", "v2")
    plan = deploy("qa", checkout, wheel=new, progress=lambda _: None)
    new_wheel = next(c.name for c in plan.changes if c.kind == "wheel")
    assert ("delete", "wheel", old_wheel) in pending(plan) and ("create", "wheel", new_wheel) in pending(plan)
    assert old_wheel not in workspace.objects and old_wheel.rsplit("/", 1)[0] not in workspace.objects
    libraries = {lib["whl"] for j in workspace.jobs.values() for t in j["settings"]["tasks"] for lib in t["libraries"]}
    assert libraries == {"/Workspace" + new_wheel}


def test_edits_made_in_the_workspace_are_reported_and_put_back(checkout, workspace, wheel):
    deploy("qa", checkout, wheel=wheel, progress=lambda _: None)
    job_id, job = next((i, j) for i, j in workspace.jobs.items() if j["settings"]["name"] == "medallion-qa-fitness")
    job["settings"]["job_clusters"][0]["new_cluster"]["node_type_id"] = "Standard_E64s_v5"
    workspace.acls[job_id].append({"group_name": "interns", "permission_level": "CAN_MANAGE"})

    plan = deploy("qa", checkout, wheel=wheel, progress=lambda _: None)
    details = {(c.kind, c.name): c.detail for c in plan.pending}
    assert details[("job", "medallion-qa-fitness")] == "job_clusters[medallion].new_cluster.node_type_id"
    assert details[("permissions", "medallion-qa-fitness")] == "-group interns CAN_MANAGE"
    assert job["settings"]["job_clusters"][0]["new_cluster"]["node_type_id"] == "Standard_D4ds_v5"
    assert "interns" not in {g.get("group_name") for g in workspace.acls[job_id]}
    assert {"user_name": "deployer@example.com", "permission_level": "IS_OWNER"} in workspace.acls[job_id]


def test_a_hand_edit_of_a_deployed_notebook_shows_in_the_plan_and_apply_puts_it_back(
    checkout, workspace, wheel, capsys
):
    cli(capsys, *deploy_args(checkout, wheel))
    path = f"{FOLDER}/notebooks/04-bronze"
    deployed = workspace.objects[path]["content"]
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.workspace import ImportFormat, Language

    hand = WorkspaceClient(host=workspace.url, token="local-test-token")
    edited = deployed + b"print('quick fix')\n"
    hand.workspace.import_(
        path,
        content=base64.b64encode(edited).decode(),
        format=ImportFormat.SOURCE,
        language=Language.PYTHON,
        overwrite=True,
    )

    code, out, _ = cli(capsys, *deploy_args(checkout, wheel, "--plan"))
    assert code == 0 and workspace.objects[path]["content"] == edited
    assert "  ~ notebook     notebooks/04-bronze" in out
    assert "edited in the workspace since the last deploy: put back" in out
    assert "0 to create, 2 to change, 0 to remove" in out  # the notebook and the state

    assert cli(capsys, *deploy_args(checkout, wheel))[0] == 0
    assert workspace.objects[path]["content"] == deployed
    code, out, _ = cli(capsys, *deploy_args(checkout, wheel, "--plan"))
    assert "No changes: qa already matches" in out


def test_a_job_of_the_same_name_that_is_not_ours_stops_the_deploy(checkout, workspace, wheel, capsys):
    workspace.jobs[1] = {
        "job_id": 1,
        "creator_user_name": "someone@example.com",
        "settings": {"name": "medallion-qa-fitness", "tasks": [], "tags": {"team": "other"}},
    }
    workspace.acls[1] = [{"user_name": "someone@example.com", "permission_level": "IS_OWNER"}]
    code, _, err = cli(capsys, *deploy_args(checkout, wheel))
    assert code == 1  # a runtime failure; 2 is for usage errors
    assert "A job named 'medallion-qa-fitness' (id 1) exists but this project did not create it" in err
    assert workspace.writes == []


def test_destroy_removes_only_what_this_project_created(checkout, workspace, wheel, capsys):
    cli(capsys, *deploy_args(checkout, wheel))
    workspace.objects[f"{FOLDER}/notebooks/my-scratch"] = {
        "object_type": "NOTEBOOK",
        "language": "PYTHON",
        "content": b"# Databricks notebook source\n",
    }
    workspace.jobs[7] = {
        "job_id": 7,
        "creator_user_name": "someone@example.com",
        "settings": {"name": "nightly-report", "tasks": [], "tags": {"team": "bi"}},
    }
    writes = len(workspace.writes)

    code, out, err = cli(capsys, "deploy", "--env", "qa", "--destroy")
    assert code == 2 and "add --yes" in err and workspace.writes[writes:] == []
    assert "- job          medallion-qa-fitness" in out and "my-scratch" not in out

    code, out, _ = cli(capsys, "deploy", "--env", "qa", "--destroy", "--yes")
    assert code == 0
    assert [j["settings"]["name"] for j in workspace.jobs.values()] == ["nightly-report"]
    assert sorted(workspace.objects) == [
        "/",
        "/Deployments",
        "/Deployments/medallion",
        FOLDER,
        f"{FOLDER}/notebooks",
        f"{FOLDER}/notebooks/my-scratch",
        "/Shared",
    ]
    assert f"kept folder {FOLDER}/notebooks: it holds objects this project did not create" in out

    code, out, _ = cli(capsys, "deploy", "--env", "qa", "--destroy", "--yes")
    assert code == 0 and "Nothing to remove: no object of this project is left in qa." in out


def test_other_environments_are_untouched(checkout, workspace, wheel):
    deploy("dev", checkout, wheel=wheel, progress=lambda _: None)
    deploy("qa", checkout, wheel=wheel, progress=lambda _: None)
    from deployment.commands import destroy

    destroy("qa", checkout, confirmed=True, progress=lambda _: None)
    assert sorted(j["settings"]["name"] for j in workspace.jobs.values()) == [
        "[dev deployer] medallion-dev-fitness",
        "[dev deployer] medallion-dev-integration-tests",
    ]
    assert all(not path.startswith(FOLDER) for path in workspace.objects)
    assert "/Users/deployer@example.com/medallion/dev/notebooks/04-bronze" in workspace.objects


def test_without_credentials_the_error_says_how_to_authenticate(checkout, wheel, monkeypatch, capsys):
    monkeypatch.delenv("DATABRICKS_TOKEN")
    code, _, err = cli(capsys, *deploy_args(checkout, wheel, "--plan"))
    assert code == 1  # a runtime failure; 2 is for usage errors
    assert (
        "Cannot authenticate" in err and "ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID" in err and "az login" in err
    )


def test_local_is_not_a_deployment_target(checkout, wheel, capsys):
    code, _, err = cli(capsys, "deploy", "--env", "local", "--plan", "--wheel", str(wheel))
    assert code == 2 and "deploy targets a Databricks environment" in err


# --------------------------------------------------------------------------------------- --run-tests
def test_run_tests_passes_when_every_pipeline_test_passes(checkout, workspace, wheel, capsys):
    cli(capsys, *deploy_args(checkout, wheel))
    code, out, _ = cli(capsys, "deploy", "--env", "qa", "--run-tests", "--poll", "0.01")
    assert code == 0
    assert "PASSED test_fitness" in out and "1 passed, 0 failed" in out
    assert [s for s in ("PENDING", "RUNNING", "TERMINATED") if f"  {s}" in out] == ["PENDING", "RUNNING", "TERMINATED"]


def test_run_tests_fails_with_the_failing_assertion(checkout, workspace, wheel, capsys):
    cli(capsys, *deploy_args(checkout, wheel))
    message = "AssertionError: fitness.gym_summary has 3 rows, expected 4"
    workspace.run_plan.outcomes["test_fitness"] = (
        "FAILED",
        message,
        f'Traceback (most recent call last):\n  File "08-batch-test", line 12\n{message}',
    )
    code, out, _ = cli(capsys, "deploy", "--env", "qa", "--run-tests", "--poll", "0.01")
    assert code == 1
    assert f"FAILED test_fitness (FAILED): {message}" in out
    assert '    File "08-batch-test", line 12' in out
    assert "0 passed, 1 failed" in out


def test_run_tests_needs_the_tests_job_deployed(checkout, workspace, capsys):
    code, _, err = cli(capsys, "deploy", "--env", "qa", "--run-tests", "--poll", "0.01")
    assert code == 1 and "medallion-qa-integration-tests is not deployed" in err


# ------------------------------------------------------------------------------------ approved plans
def test_the_approved_plan_is_the_one_applied(checkout, workspace, wheel, tmp_path, capsys):
    saved = tmp_path / "plan" / "plan.json"
    code, out, _ = cli(capsys, *deploy_args(checkout, wheel, "--plan", "--out", str(saved)))
    assert code == 0 and workspace.writes == [] and f"Plan saved to {saved}" in out
    code, out, _ = cli(capsys, *deploy_args(checkout, wheel, "--apply", str(saved)))
    assert code == 0 and "This is the approved plan" in out and "Deployed qa." in out
    assert sorted(j["settings"]["name"] for j in workspace.jobs.values()) == [
        "medallion-qa-fitness",
        "medallion-qa-integration-tests",
    ]


def test_apply_refuses_when_the_workspace_changed_since_the_plan(checkout, workspace, wheel, tmp_path, capsys):
    cli(capsys, *deploy_args(checkout, wheel))
    edit_conf(checkout.conf_dir, "qa", cluster={"num_workers": 2})
    saved = tmp_path / "plan.json"
    assert cli(capsys, *deploy_args(checkout, wheel, "--plan", "--out", str(saved)))[0] == 0
    job = next(j for j in workspace.jobs.values() if j["settings"]["name"] == "medallion-qa-fitness")
    job["settings"]["timeout_seconds"] = 60  # someone edits the job between approval and apply
    before, writes = snapshot(workspace), len(workspace.writes)

    code, _, err = cli(capsys, *deploy_args(checkout, wheel, "--apply", str(saved)))
    assert code == 1
    assert "Nothing applied: qa or this checkout changed since the plan" in err and "Plan again" in err
    assert workspace.writes[writes:] == [] and snapshot(workspace) == before


DEPLOYER_APP = "44444444-4444-4444-4444-444444444444"
READER_APP = "55555555-5555-5555-5555-555555555555"


def test_a_plan_saved_by_a_read_only_identity_is_applied_by_the_configured_deployer(
    checkout, workspace, wheel, tmp_path, capsys
):
    edit_conf(checkout.conf_dir, "qa", deployer=DEPLOYER_APP)
    workspace.admins = {DEPLOYER_APP}  # the reader may not read the secret scope's ACLs
    saved = tmp_path / "plan.json"
    workspace.current_user = READER_APP
    code, out, _ = cli(capsys, *deploy_args(checkout, wheel, "--plan", "--out", str(saved)))
    assert code == 0 and workspace.writes == []
    assert f"service_principal {DEPLOYER_APP} CAN_MANAGE" in out and READER_APP not in out
    assert "could not verify that the job principal" in out and "through a group" in out

    workspace.current_user = DEPLOYER_APP
    code, out, err = cli(capsys, *deploy_args(checkout, wheel, "--apply", str(saved)))
    assert code == 0, err
    assert "This is the approved plan" in out and "Deployed qa." in out and "could not verify" not in out
    assert (DEPLOYER_APP, "CAN_MANAGE") in workspace.folder_grants(FOLDER)


def test_an_apply_signed_in_as_another_identity_than_the_deployer_is_refused(
    checkout, workspace, wheel, tmp_path, capsys
):
    edit_conf(checkout.conf_dir, "qa", deployer=DEPLOYER_APP)
    saved = tmp_path / "plan.json"
    workspace.current_user = READER_APP
    assert cli(capsys, *deploy_args(checkout, wheel, "--plan", "--out", str(saved)))[0] == 0

    for identity in (READER_APP, "someone@example.com"):
        workspace.current_user = identity
        for extra in (("--apply", str(saved)), ()):
            code, _, err = cli(capsys, *deploy_args(checkout, wheel, *extra))
            assert code == 1
            assert f"is deployed by {DEPLOYER_APP} (deployment.deployer in conf/qa.yml)" in err
            assert f"signed in as {identity}" in err and "Nothing applied" in err
    assert workspace.writes == [] and workspace.jobs == {}


# ------------------------------------------------------------------------------------ locked down
def test_the_folder_is_readable_not_editable_by_engineers_and_managed_by_the_deployer(
    checkout, workspace, wheel, capsys
):
    cli(capsys, *deploy_args(checkout, wheel))
    assert workspace.folder_grants(FOLDER) == {
        ("deployer@example.com", "CAN_MANAGE"),
        ("medallion-engineers", "CAN_READ"),
        ("22222222-2222-2222-2222-222222222222", "CAN_READ"),
    }
    workspace.folder_acls[workspace.objects[FOLDER]["object_id"]].append(
        {"group_name": "users", "permission_level": "CAN_EDIT"}
    )
    code, out, _ = cli(capsys, *deploy_args(checkout, wheel))
    assert code == 0 and f"  ~ folder-acl   {FOLDER}" in out and "  -group users CAN_EDIT" in out
    assert ("users", "CAN_EDIT") not in workspace.folder_grants(FOLDER)


def test_a_folder_under_shared_is_refused(checkout, wheel, capsys):
    edit_conf(checkout.conf_dir, "qa", workspace_folder="/Shared/medallion/qa")
    code, _, err = cli(capsys, *deploy_args(checkout, wheel, "--plan"))
    assert code == 2 and "is under /Shared, which every workspace user may edit" in err


def test_each_engineer_gets_their_own_dev_target_with_paused_schedules(checkout, workspace, wheel):
    edit_conf(checkout.conf_dir, "dev", schedule={"paused": False})
    for engineer in ("ann@example.com", "bob@example.com"):
        workspace.current_user = engineer
        deploy("dev", checkout, wheel=wheel, progress=lambda _: None)
    names = sorted(j["settings"]["name"] for j in workspace.jobs.values())
    assert names == [
        "[dev ann] medallion-dev-fitness",
        "[dev ann] medallion-dev-integration-tests",
        "[dev bob] medallion-dev-fitness",
        "[dev bob] medallion-dev-integration-tests",
    ]
    ann = next(
        j["settings"] for j in workspace.jobs.values() if j["settings"]["name"] == "[dev ann] medallion-dev-fitness"
    )
    assert ann["schedule"]["pause_status"] == "PAUSED" and ann["tags"]["medallion-user"] == "ann@example.com"
    setup = next(t for t in ann["tasks"] if t["task_key"] == "setup")
    assert setup["notebook_task"]["notebook_path"] == "/Users/ann@example.com/medallion/dev/notebooks/02-setup"
    # their data too: the jobs' clusters name the engineer, whose storage root, schemas and topics are their own
    targets = {
        (
            j["settings"]["tags"]["medallion-user"],
            j["settings"]["job_clusters"][0]["new_cluster"]["spark_env_vars"].get("MEDALLION_USER_TARGET"),
        )
        for j in workspace.jobs.values()
    }
    assert targets == {("ann@example.com", "ann"), ("bob@example.com", "bob")}
    assert "/Users/bob@example.com/medallion/dev/notebooks/04-bronze" in workspace.objects


@pytest.mark.parametrize(
    "scopes, acls, message",
    [
        ({}, {}, "The secret scope 'medallion-qa' (conf/qa.yml secrets.scope) does not exist."),
        ({"medallion-qa": "DATABRICKS"}, {}, "is DATABRICKS-backed, not Key Vault-backed"),
        ({"medallion-qa": "AZURE_KEYVAULT"}, {}, "cannot read the secret scope 'medallion-qa'"),
    ],
)
def test_the_plan_checks_the_secret_scope(checkout, workspace, wheel, capsys, scopes, acls, message):
    workspace.scopes.clear()
    workspace.secret_acls.clear()
    workspace.scopes.update(scopes)
    code, _, err = cli(capsys, *deploy_args(checkout, wheel, "--plan"))
    assert code == 1 and message in err and "Nothing applied" in err
    assert workspace.writes == []
    if "cannot read" in message:  # a READ through a group is invisible to the check: the message says so
        assert "only grants made to the principal itself are seen" in err


def test_a_planner_that_may_not_read_the_scopes_acls_is_told_and_not_blocked(checkout, workspace, wheel, capsys):
    workspace.current_user = "reader@example.com"
    code, out, err = cli(capsys, *deploy_args(checkout, wheel, "--plan"))
    assert code == 0, err
    assert "secret scope 'medallion-qa': could not verify that the job principal" in out
    assert "lacks MANAGE on the scope" in out and "through a group" in out
    workspace.secret_acls[("medallion-qa", "reader@example.com")] = "MANAGE"  # a scope manager does check
    workspace.secret_acls.pop(("medallion-qa", "22222222-2222-2222-2222-222222222222"))
    code, _, err = cli(capsys, *deploy_args(checkout, wheel, "--plan"))
    assert code == 1 and "cannot read the secret scope 'medallion-qa'" in err


def test_a_changed_stream_job_has_no_timeout_and_is_restarted(checkout, workspace, wheel):
    edit_conf(checkout.conf_dir, "qa", stream_pipelines=["fitness"])
    deploy("qa", checkout, wheel=wheel, progress=lambda _: None)
    job_id, job = next((i, j) for i, j in workspace.jobs.items() if j["settings"]["name"] == "medallion-qa-fitness")
    assert job["settings"]["timeout_seconds"] == 0 and "continuous" in job["settings"]
    assert workspace.cancelled_all == []
    edit_conf(checkout.conf_dir, "qa", cluster={"num_workers": 2})
    plan = deploy("qa", checkout, wheel=wheel, progress=lambda _: None)
    change = next(c for c in plan.pending if c.name == "medallion-qa-fitness" and c.kind == "job")
    assert change.detail.endswith("; its stream is restarted")
    assert workspace.cancelled_all == [job_id]
