"""A checkout to deploy (conf, notebooks, a wheel) in a temporary folder, and a local Databricks workspace
for it: fixtures shared by the unit and integration tests of the deployment."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml

from medallion.platform.config import DEFAULT_CONF_DIR
from tests.support.databricks import TOKEN, FakeWorkspace

NOTEBOOKS = (
    "01-config",
    "02-setup",
    "03-history-loader",
    "04-bronze",
    "05-silver",
    "06-gold",
    "07-run",
    "08-batch-test",
    "09-stream-test",
    "10-producer",
)


def write_notebooks(folder: Path, names=NOTEBOOKS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.py").write_text(
            "# Databricks notebook source\n"
            f'dbutils.widgets.text("env", "local")  # {name}\n'
            "# COMMAND ----------\n"
            "import medallion\n"
        )
    return folder


def write_wheel(folder: Path, payload: str = "v1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "medallion-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(zipfile.ZipInfo("medallion/__init__.py", (1980, 1, 1, 0, 0, 0)), f"# {payload}\n")
    return wheel


def edit_conf(conf_dir: Path, env: str, **deployment) -> None:
    """Overlay ``deployment`` settings on conf/<env>.yml (comments are not kept: a test copy)."""
    path = conf_dir / f"{env}.yml"
    data = yaml.safe_load(path.read_text())
    section = data.setdefault("deployment", {})
    for key, value in deployment.items():
        if isinstance(value, dict):
            section.setdefault(key, {}).update(value)
        else:
            section[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def workspace():
    with FakeWorkspace() as fake:
        yield fake
    assert fake.violations == [], "requests that do not match the SDK's types"


@pytest.fixture
def checkout(tmp_path, workspace, monkeypatch):
    """Conf copied from the project with every Databricks environment pointing at the local workspace."""
    conf_dir = tmp_path / "conf"
    shutil.copytree(DEFAULT_CONF_DIR, conf_dir)
    for env in ("dev", "qa", "prod"):
        # One pipeline keeps the expected workspace small; jobs for every pipeline are covered in test_jobs.
        edit_conf(conf_dir, env, host=workspace.url, pipelines=["fitness"])
        # The Key Vault-backed scope a workspace admin created, readable by the job principal.
        conf = yaml.safe_load((conf_dir / f"{env}.yml").read_text())
        workspace.scopes[conf["secrets"]["scope"]] = "AZURE_KEYVAULT"
        workspace.secret_acls[(conf["secrets"]["scope"], conf["deployment"]["job_principal"])] = "READ"
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "ARM_", "AZURE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.databrickscfg profile leaks in
    monkeypatch.setenv("MEDALLION_CONF_DIR", str(conf_dir))
    from deployment.commands import Project

    return Project(notebooks_dir=write_notebooks(tmp_path / "notebooks"), conf_dir=conf_dir, project_dir=tmp_path)
