"""azure-pipelines.yml: the stages, triggers, approvals and secrets where Azure DevOps users look for
them, and every command it runs exists in this project (make targets, medallion commands and options)."""
import re
import shlex

import pytest
import yaml

from medallion.cli import build_parser
from medallion.platform.config import PROJECT_DIR

PIPELINE = yaml.safe_load((PROJECT_DIR / "azure-pipelines.yml").read_text())
SECRETS = {"ARM_CLIENT_ID": "$(databricks-sp-client-id)", "ARM_CLIENT_SECRET": "$(databricks-sp-client-secret)",
           "ARM_TENANT_ID": "$(azure-tenant-id)"}


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
            script = step.get("script") or step.get("bash") or ""
            for line in script.replace("\\\n", " ").splitlines():
                if line.strip() and not line.strip().startswith("#"):
                    lines.append((name, line.strip()))
    return lines


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*):", (PROJECT_DIR / "Makefile").read_text(), re.M))


def test_the_stages_run_in_release_order():
    order = {name: stage.get("dependsOn") for name, stage in stages().items()}
    assert order == {"Build": None, "Deploy_QA": "Build", "IntegrationTest_QA": "Deploy_QA",
                     "Plan_Prod": "IntegrationTest_QA", "Deploy_Prod": "Plan_Prod"}


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
        assert header and re.search(r"\b(every|on|after)\b", header.group(1)), f"{name} has no header comment saying when it runs"


def test_prod_is_deployed_through_the_environment_that_carries_the_approval():
    deployments = [job for job in stages()["Deploy_Prod"]["jobs"] if "deployment" in job]
    assert [job["environment"] for job in deployments] == ["medallion-prod"]
    assert [job["environment"] for job in stages()["Deploy_QA"]["jobs"]] == ["medallion-qa"]


def test_secrets_come_from_the_key_vault_linked_groups_and_are_mapped_explicitly():
    expected_group = {"Deploy_QA": "medallion-qa", "IntegrationTest_QA": "medallion-qa",
                      "Plan_Prod": "medallion-prod", "Deploy_Prod": "medallion-prod"}
    for name, group in expected_group.items():
        stage = stages()[name]
        assert stage["variables"] == [{"group": group}]
        medallion_steps = [s for s in steps(stage) if "medallion deploy" in s.get("script", "")]
        assert medallion_steps and all(s["env"] == SECRETS for s in medallion_steps)
    text = (PROJECT_DIR / "azure-pipelines.yml").read_text()
    assert not re.search(r"(?i)(secret|token|password)\s*:\s*['\"]?[A-Za-z0-9+/]{20,}", text)


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
