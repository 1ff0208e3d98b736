import shutil

import pytest

from deployment.settings import https_location, load_deployment
from medallion.errors import ConfigError
from medallion.platform.config import DEFAULT_CONF_DIR, load_conf
from tests.support.checkout import edit_conf

KNOWN = ["fitness", "commerce"]


@pytest.fixture
def conf_dir(tmp_path):
    target = tmp_path / "conf"
    shutil.copytree(DEFAULT_CONF_DIR, target)
    return target


@pytest.mark.parametrize(
    "env, folder, paused, workers",
    [
        ("dev", "/Deployments/medallion/dev", True, 1),
        ("qa", "/Deployments/medallion/qa", False, 1),
        ("prod", "/Deployments/medallion/prod", False, 4),
    ],
)
def test_every_environment_has_its_deployment_settings(env, folder, paused, workers):
    settings = load_deployment(env, known_pipelines=KNOWN)
    assert settings.workspace_folder == folder
    assert settings.files_folder == "/Workspace" + folder
    assert settings.schedule.paused is paused
    assert settings.cluster.num_workers == workers
    assert settings.cluster.spark_version == "15.4.x-scala2.12"
    assert settings.host.startswith("https://adb-") and settings.host.endswith(".azuredatabricks.net")
    assert settings.pipelines == ("fitness", "commerce")
    assert settings.stream_pipelines == ("commerce",)  # Event Hubs read continuously in every environment
    assert settings.job_name("fitness") == f"medallion-{env}-fitness"


def test_local_declares_the_section_but_deploys_nowhere():
    assert load_conf("local")["deployment"]["workspace_folder"] is None
    with pytest.raises(ConfigError, match="workspace_folder is not set"):
        load_deployment("local", known_pipelines=KNOWN)


def test_permissions_keep_their_conf_order_and_levels():
    settings = load_deployment("qa", known_pipelines=KNOWN)
    assert settings.permissions == (
        ("medallion-engineers", "CAN_MANAGE"),
        ("medallion-operators", "CAN_MANAGE_RUN"),
        ("medallion-readers-qa", "CAN_VIEW"),
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"workspace_folder": "/Shared"}, "must be a folder of its own"),
        ({"stream_pipelines": ["comerce"]}, r"deployment.stream_pipelines: unknown pipeline\(s\) comerce"),
        ({"pipelines": ["nope"]}, "deployment.pipelines: unknown pipeline"),
        ({"cluster": {"data_security_mode": "NONE"}}, "data_security_mode must be one of"),
        ({"host": "adb-1.azuredatabricks.net"}, "must be a workspace URL"),
        ({"synapse": {"auth": "password"}}, "synapse.auth must be one of"),
    ],
)
def test_a_wrong_setting_stops_with_the_key_named(conf_dir, change, message):
    edit_conf(conf_dir, "qa", **change)
    with pytest.raises(ConfigError, match=message):
        load_deployment("qa", conf_dir, known_pipelines=KNOWN)


def test_a_stream_pipeline_left_out_of_an_environment_gets_no_job_and_no_error(conf_dir):
    edit_conf(conf_dir, "qa", pipelines=["fitness"])
    settings = load_deployment("qa", conf_dir, known_pipelines=KNOWN)
    assert (settings.pipelines, settings.stream_pipelines) == (("fitness",), ())


def test_an_unknown_deployment_key_is_rejected_by_the_config_schema(conf_dir):
    edit_conf(conf_dir, "qa", node_size="large")
    with pytest.raises(ConfigError, match="unknown setting 'deployment.node_size'"):
        load_deployment("qa", conf_dir, known_pipelines=KNOWN)


def test_the_workspace_prefix_is_accepted_and_dropped_for_api_paths(conf_dir):
    edit_conf(conf_dir, "qa", workspace_folder="/Workspace/Deployments/medallion/qa/")
    assert load_deployment("qa", conf_dir, known_pipelines=KNOWN).workspace_folder == "/Deployments/medallion/qa"


def test_abfss_roots_become_the_https_locations_synapse_reads():
    assert (
        https_location("abfss://lakehouse@medallionqa.dfs.core.windows.net/medallion")
        == "https://medallionqa.dfs.core.windows.net/lakehouse/medallion"
    )
    with pytest.raises(ConfigError, match="not an abfss:// URL"):
        https_location("/Volumes/main/lake/files")
