"""azure-pipelines.yml: the stages, triggers, approvals and secrets where Azure DevOps users look for
them, and every command it runs exists in this project (make targets, medallion commands and options)."""

import re
import shlex

import pytest
import yaml

from medallion.cli import build_parser
from medallion.platform.config import PROJECT_DIR

PIPELINE = yaml.safe_load((PROJECT_DIR / "azure-pipelines.yml").read_text())
CONNECTIONS = {
    "Deploy_QA": "medallion-qa",
    "Plan_Prod": "medallion-prod-reader",
    "Deploy_Prod": "medallion-prod",
}


def stages() -> dict:
    return {stage["stage"]: stage for stage in PIPELINE["stages"]}


def steps(stage: dict) -> list[dict]:
    found = []
    for job in stage["jobs"]:
        found += job.get("steps", [])
        found += job.get("strategy", {}).get("runOnce", {}).get("deploy", {}).get("steps", [])
    return found


def commands() -> list[tuple[str, str]]:
    """(stage, command line) for every script step, continuation lines joined."""
    lines = []
    for name, stage in stages().items():
        for step in steps(stage):
            script = step.get("script") or step.get("bash") or step.get("inputs", {}).get("inlineScript") or ""
            for line in script.replace("\\\n", " ").splitlines():
                if line.strip() and not line.strip().startswith("#"):
                    lines.append((name, line.strip()))
    return lines


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*):", (PROJECT_DIR / "Makefile").read_text(), re.M))


def test_the_stages_run_in_release_order():
    order = {name: stage.get("dependsOn") for name, stage in stages().items()}
    assert order == {
        "Build": None,
        "Deploy_QA": "Build",
        "Plan_Prod": "Deploy_QA",
        "Deploy_Prod": "Plan_Prod",
    }


def test_triggers_build_pull_requests_and_main_and_release_tags():
    assert PIPELINE["pr"]["branches"]["include"] == ["main"]
    assert PIPELINE["trigger"]["branches"]["include"] == ["main"]
    assert PIPELINE["trigger"]["tags"]["include"] == ["v*"]
    assert "condition" not in stages()["Build"]
    assert "isMain" in stages()["Deploy_QA"]["condition"]
    for name in ("Plan_Prod", "Deploy_Prod"):
        assert "isMain" not in stages()[name]["condition"] and "isRelease" in stages()[name]["condition"]


def test_every_stage_says_in_its_header_comment_when_it_runs():
    text = (PROJECT_DIR / "azure-pipelines.yml").read_text()
    for name in stages():
        header = re.search(rf"((?:^#.*\n)+)- stage: {name}\n", text, re.M)
        assert header and re.search(r"\b(every|on|after)\b", header.group(1)), (
            f"{name} has no header comment saying when it runs"
        )


def test_prod_is_deployed_through_the_environment_that_carries_the_approval():
    deployments = [job for job in stages()["Deploy_Prod"]["jobs"] if "deployment" in job]
    assert [job["environment"] for job in deployments] == ["medallion-prod"]
    assert [job["environment"] for job in stages()["Deploy_QA"]["jobs"]] == ["medallion-qa"]
    assert [job.get("environment") for job in stages()["Plan_Prod"]["jobs"]] == [None]  # no approval needed to read


def azure_cli_steps(stage: dict) -> list[dict]:
    return [s for s in steps(stage) if s.get("task") == "AzureCLI@2"]


def test_no_client_secret_every_deploy_signs_in_by_workload_identity_federation():
    text = (PROJECT_DIR / "azure-pipelines.yml").read_text()
    assert "ARM_CLIENT_SECRET" not in text and "variables" not in str([s.get("variables") for s in PIPELINE["stages"]])
    for name, connection in CONNECTIONS.items():
        medallion = [
            s for s in steps(stages()[name]) if "medallion" in str(s.get("script", "")) + str(s.get("inputs", {}))
        ]
        medallion = [s for s in medallion if "deploy" in str(s)]
        assert medallion and all(s.get("task") == "AzureCLI@2" for s in medallion), name
        assert {s["inputs"]["azureSubscription"] for s in medallion} == {connection}
        assert all(s["inputs"]["scriptType"] == "bash" for s in medallion)
    assert not re.search(r"(?i)(secret|token|password)\s*:\s*['\"]?[A-Za-z0-9+/]{20,}", text)


def test_the_prod_deployer_identity_is_used_only_inside_the_approved_environments_deployment_job():
    for name, stage in stages().items():
        for job in stage["jobs"]:
            job_steps = job.get("steps", []) + job.get("strategy", {}).get("runOnce", {}).get("deploy", {}).get(
                "steps", []
            )
            if any(s.get("inputs", {}).get("azureSubscription") == "medallion-prod" for s in job_steps):
                assert (name, job.get("deployment"), job.get("environment")) == (
                    "Deploy_Prod",
                    "deploy_prod",
                    "medallion-prod",
                )
    plan_steps = azure_cli_steps(stages()["Plan_Prod"])
    assert "--plan" in plan_steps[0]["inputs"]["inlineScript"] and "Plan_Prod" not in [
        n for n, s in stages().items() for j in s["jobs"] if j.get("environment") == "medallion-prod"
    ]


def test_the_plan_is_saved_as_an_artifact_and_the_same_plan_is_applied():
    plan_script = azure_cli_steps(stages()["Plan_Prod"])[0]["inputs"]["inlineScript"]
    assert "--plan --out $(Build.ArtifactStagingDirectory)/plan-prod/plan.json" in plan_script
    assert {
        "publish": "$(Build.ArtifactStagingDirectory)/plan-prod",
        "artifact": "plan-prod",
        "displayName": "Publish the plan for the approver",
    } in steps(stages()["Plan_Prod"])
    deploy_steps = steps(stages()["Deploy_Prod"])
    assert {"download": "current", "artifact": "plan-prod"} in deploy_steps
    apply_script = azure_cli_steps(stages()["Deploy_Prod"])[0]["inputs"]["inlineScript"]
    assert "--apply $(Pipeline.Workspace)/plan-prod/plan.json" in apply_script and "--plan" not in apply_script


def test_one_deploy_per_environment_at_a_time():
    for name in ("Deploy_QA", "Deploy_Prod"):
        assert stages()[name]["lockBehavior"] == "sequential", name
    assert {j.get("environment") for j in stages()["Deploy_QA"]["jobs"]} == {"medallion-qa"}


def test_qa_tests_the_build_it_deployed_under_one_lock():
    # the environment's lock is held per stage: a deploy and tests in separate stages let another run
    # deploy a different build between them, and QA would prove a build that is not promoted
    [job] = stages()["Deploy_QA"]["jobs"]
    scripts = [s["inputs"]["inlineScript"] for s in azure_cli_steps(stages()["Deploy_QA"])]
    assert job["environment"] == "medallion-qa" and len(scripts) == 2
    assert scripts[0].startswith(".venv/bin/medallion deploy --env qa --wheel $(Pipeline.Workspace)/wheel/")
    assert scripts[1] == ".venv/bin/medallion deploy --env qa --run-tests"
    assert not any("--run-tests" in line for name, line in commands() if name != "Deploy_QA")


def test_pip_and_jar_caches_and_the_jdk_through_the_java_tool_installer():
    build_steps = steps(stages()["Build"])
    caches = {s["displayName"]: s["inputs"] for s in build_steps if s.get("task") == "Cache@2"}
    assert caches["pip cache"]["path"] == "$(PIP_CACHE_DIR)" and "requirements.txt" in caches["pip cache"]["key"]
    jar_cache = next(v for k, v in caches.items() if k.startswith("jar cache"))
    assert jar_cache["path"] == "$(jarsDir)" and "src/medallion/platform/jars.py" in jar_cache["key"]
    assert PIPELINE["variables"]["jarsDir"] == "$(Build.SourcesDirectory)/.jars"
    assert PIPELINE["variables"]["PIP_CACHE_DIR"] == "$(Pipeline.Workspace)/.pip"
    jdk = [s for s in build_steps if s.get("task") == "JavaToolInstaller@0"]
    assert jdk and jdk[0]["inputs"]["versionSpec"] == "17" and jdk[0]["inputs"]["jdkSourceOption"] == "PreInstalled"
    order = [s.get("task") or s.get("script") for s in build_steps]
    assert order.index("JavaToolInstaller@0") < order.index("make setup")
    for name in ("Deploy_QA", "Plan_Prod", "Deploy_Prod"):
        assert any(s.get("task") == "Cache@2" for s in steps(stages()[name])), name


def test_build_publishes_junit_results_and_the_wheel_the_deploy_stages_download():
    build_steps = steps(stages()["Build"])
    published = [s for s in build_steps if s.get("task") == "PublishTestResults@2"]
    assert published and published[0]["inputs"]["testResultsFormat"] == "JUnit"
    assert published[0]["condition"] == "succeededOrFailed()"
    junit = [s["env"]["PYTEST_ADDOPTS"] for s in build_steps if "PYTEST_ADDOPTS" in s.get("env", {})]
    assert len(junit) == 2 and all("--junitxml=$(Common.TestResultsDirectory)/" in j for j in junit)
    assert {"publish": "dist", "artifact": "wheel", "displayName": "Publish the wheel"} in build_steps
    for name in ("Deploy_QA", "Plan_Prod", "Deploy_Prod"):
        assert {"download": "current", "artifact": "wheel"} in steps(stages()[name])


@pytest.mark.parametrize("stage, line", commands(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_command_the_pipeline_runs_exists_in_the_project(stage, line):
    words = shlex.split(line)
    program = words[0]
    if program == "make":
        missing = set(words[1:]) - makefile_targets()
        assert not missing, f"{stage}: make target(s) {missing} not in the Makefile"
    elif program.endswith("medallion"):
        arguments = [w.replace("$(Pipeline.Workspace)", "/pipeline") for w in words[1:]]
        try:
            build_parser().parse_args(arguments)
        except SystemExit as exit:
            pytest.fail(f"{stage}: `{line}` is not a valid medallion command (exit {exit.code})")
    else:
        pytest.fail(f"{stage}: `{program}` is not a command this test knows how to check; add it here")
