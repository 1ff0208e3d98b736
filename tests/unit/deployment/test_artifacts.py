import re
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from deployment.artifacts import build_wheel, collect, notebook_uploads, wheel_upload
from medallion.errors import MedallionError
from medallion.platform.config import DEFAULT_CONF_DIR, PROJECT_DIR
from tests.support.checkout import NOTEBOOKS, write_notebooks, write_wheel


def test_notebooks_are_discovered_from_the_folder_and_keep_their_names_without_extension(tmp_path):
    uploads = notebook_uploads("/Shared/m/qa", write_notebooks(tmp_path / "nb"))
    assert [u.remote for u in uploads] == [f"/Shared/m/qa/notebooks/{name}" for name in NOTEBOOKS]
    assert all(u.kind == "notebook" and u.content.startswith(b"# Databricks notebook source") for u in uploads)


def test_a_python_file_that_is_not_a_source_notebook_is_refused(tmp_path):
    folder = write_notebooks(tmp_path / "nb", ("01-config",))
    (folder / "helpers.py").write_text("def helper(): pass\n")
    with pytest.raises(MedallionError, match="helpers.py is not a Databricks source notebook"):
        notebook_uploads("/Shared/m/qa", folder)


def test_the_wheel_path_carries_its_content_hash_so_a_new_wheel_gets_a_new_path(tmp_path):
    first = wheel_upload("/Shared/m/qa", write_wheel(tmp_path / "a", "v1"))
    same = wheel_upload("/Shared/m/qa", write_wheel(tmp_path / "b", "v1"))
    changed = wheel_upload("/Shared/m/qa", write_wheel(tmp_path / "c", "v2"))
    assert first.remote == same.remote != changed.remote
    assert first.remote == f"/Shared/m/qa/artifacts/{first.sha256[:16]}/medallion-0.1.0-py3-none-any.whl"


def test_only_the_base_and_environment_conf_are_uploaded(tmp_path):
    artifacts = collect("/Shared/m/qa", write_notebooks(tmp_path / "nb"), DEFAULT_CONF_DIR, "qa", write_wheel(tmp_path))
    assert [u.remote for u in artifacts.uploads if u.kind == "file"] == [
        "/Shared/m/qa/conf/base.yml",
        "/Shared/m/qa/conf/qa.yml",
    ]
    assert artifacts.notebook("batch_test") == "/Shared/m/qa/notebooks/08-batch-test"


def test_the_wheel_requires_what_the_cluster_lacks_at_the_versions_the_project_pins(tmp_path):
    # a job cluster installs the wheel with its dependencies and nothing else from requirements.txt: a package
    # the library imports there (confluent_kafka: commerce's producer and topic creation) must be one of them
    wheel = build_wheel(PROJECT_DIR, tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    required = {
        canonicalize_name(r.name): r for r in map(Requirement, re.findall(r"^Requires-Dist: (.+)$", metadata, re.M))
    }
    assert "confluent-kafka" in required
    pinned = {}
    for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines():
        requirement = line.split("#")[0].strip()
        if requirement:
            parsed = Requirement(requirement)
            pinned[canonicalize_name(parsed.name)] = next(iter(parsed.specifier)).version
    for name, requirement in required.items():
        assert name in pinned and requirement.specifier.contains(pinned[name]), (name, str(requirement))
