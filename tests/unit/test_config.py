import re

import pytest

from medallion.errors import ConfigError
from medallion.platform.config import LANDING_ENV_VAR, load_settings


def test_environment_overlays_base(tmp_path):
    settings = load_settings("qa", root=None)
    assert (settings.runtime, settings.catalog, settings.secrets.provider) == (
        "databricks",
        "medallion_qa",
        "databricks",
    )
    assert settings.pipeline("fitness")["kafka_timestamp_unit"] == "seconds"


def test_unknown_key_is_rejected_with_the_allowed_ones(tmp_path):
    (tmp_path / "base.yml").write_text("runtime: local\nstorage: {root: null, landing: null}\n")
    (tmp_path / "typo.yml").write_text("storage: {rooot: /x}\n")
    with pytest.raises(ConfigError, match=r"typo.yml: unknown setting 'storage.rooot'. Allowed here: landing, root"):
        load_settings("typo", conf_dir=tmp_path)


def test_wrong_type_is_rejected():
    with pytest.raises(ConfigError, match=r"'spark.shuffle_partitions' must be int"):
        load_settings("local", overrides={"spark": {"shuffle_partitions": "many"}})


def test_unknown_environment_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"Unknown environment 'staging'.*dev, local, prod, qa"):
        load_settings("staging")


def test_root_override_wins(tmp_path):
    assert load_settings("local", root=str(tmp_path)).root == str(tmp_path)


def test_landing_defaults_to_a_folder_of_the_storage_root(tmp_path, monkeypatch):
    monkeypatch.delenv(LANDING_ENV_VAR, raising=False)
    assert load_settings("local", root=str(tmp_path)).landing == f"{tmp_path}/landing"


def test_a_shared_landing_root_gives_each_storage_root_its_own_zone(tmp_path, monkeypatch):
    monkeypatch.setenv(LANDING_ENV_VAR, "/Volumes/main/test/landing/")
    zones = [load_settings("local", root=str(tmp_path / name / "lakehouse")).landing for name in ("a", "b", "a")]
    assert zones[0] == zones[2] != zones[1]
    assert all(re.fullmatch(r"/Volumes/main/test/landing/lakehouse-[0-9a-f]{8}", zone) for zone in zones)
    configured = {"storage": {"landing": "/Volumes/main/fitness/landing"}}
    assert load_settings("local", root=str(tmp_path), overrides=configured).landing == "/Volumes/main/fitness/landing"
