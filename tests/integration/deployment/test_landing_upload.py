"""`medallion upload`: ADLS Gen2 through azure-storage-file-datalake against a local HTTPS server that
speaks the Blob/DFS protocol, and the local landing folder."""

import pytest
import yaml

from medallion.cli import main
from medallion.errors import MedallionError
from medallion.platform.config import DEFAULT_CONF_DIR
from medallion.sources.landing import AdlsLanding, files_under, parse_abfss, upload
from tests.support.adls import TOKEN, FakeDataLake
from tests.support.credentials import FixedTokenCredential
from tests.support.tls import self_signed


@pytest.fixture
def lake(tmp_path, monkeypatch):
    certificate, context = self_signed(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate))
    with FakeDataLake(context) as server:
        yield server


@pytest.fixture
def data_set(tmp_path):
    folder = tmp_path / "set"
    (folder / "gym_logins_bz").mkdir(parents=True)
    (folder / "registered_users_bz").mkdir()
    (folder / "gym_logins_bz" / "5-gym_logins_1.csv").write_text("mac_address,gym,login,logout\naa,1,10,20\n")
    (folder / "registered_users_bz" / "1-registered_users_1.csv").write_text("user_id,device_id\n1,2\n")
    (folder / "registered_users_bz" / ".partial.tmp").write_text("half a file")
    return folder


def landing(lake, base="", token=TOKEN):
    return AdlsLanding(lake.account_url, "landing", base, credential=FixedTokenCredential(token))


def test_files_land_under_a_hidden_name_then_are_renamed_into_place(lake, data_set):
    assert upload(landing(lake), files_under(data_set), progress=lambda _: None) == (2, 0)
    assert lake.files("landing") == {
        "gym_logins_bz/5-gym_logins_1.csv": b"mac_address,gym,login,logout\naa,1,10,20\n",
        "registered_users_bz/1-registered_users_1.csv": b"user_id,device_id\n1,2\n",
    }
    gym = [op for op in lake.operations if "gym_logins" in op]
    assert gym == [
        "create gym_logins_bz/.5-gym_logins_1.csv.uploading",
        "append gym_logins_bz/.5-gym_logins_1.csv.uploading 40",
        "flush gym_logins_bz/.5-gym_logins_1.csv.uploading",
        "rename gym_logins_bz/.5-gym_logins_1.csv.uploading -> gym_logins_bz/5-gym_logins_1.csv",
    ]


def test_uploading_the_same_set_again_changes_nothing(lake, data_set):
    upload(landing(lake), files_under(data_set), progress=lambda _: None)
    operations = len(lake.operations)
    assert upload(landing(lake), files_under(data_set), progress=lambda _: None) == (0, 2)
    assert lake.operations[operations:] == ["create-filesystem landing"]  # exists already: nothing else written


def test_a_changed_file_replaces_the_landed_one(lake, data_set):
    upload(landing(lake), files_under(data_set), progress=lambda _: None)
    (data_set / "gym_logins_bz" / "5-gym_logins_1.csv").write_text("mac_address,gym,login,logout\nbb,2,30,40\n")
    assert upload(landing(lake), files_under(data_set), progress=lambda _: None) == (1, 1)
    assert lake.files("landing")["gym_logins_bz/5-gym_logins_1.csv"].endswith(b"bb,2,30,40\n")


def test_a_base_directory_from_the_abfss_url_prefixes_every_path(lake, data_set):
    account_url, file_system, base = parse_abfss("abfss://landing@medallionqa.dfs.core.windows.net/incoming/2024")
    assert (account_url, file_system, base) == ("https://medallionqa.dfs.core.windows.net", "landing", "incoming/2024")
    upload(landing(lake, base), files_under(data_set), progress=lambda _: None)
    assert sorted(lake.files("landing")) == [
        "incoming/2024/gym_logins_bz/5-gym_logins_1.csv",
        "incoming/2024/registered_users_bz/1-registered_users_1.csv",
    ]


def test_a_refused_identity_gives_one_actionable_error(lake, data_set):
    with pytest.raises(MedallionError, match=r"failed \(401 .*Storage Blob Data Contributor"):
        upload(landing(lake, token="wrong"), files_under(data_set), progress=lambda _: None)


def test_locally_a_pipeline_data_set_is_copied_to_the_landing_folder(tmp_path, monkeypatch, capsys):
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    for name in ("base.yml", "local.yml"):
        (conf_dir / name).write_text((DEFAULT_CONF_DIR / name).read_text())
    local = yaml.safe_load((conf_dir / "local.yml").read_text())
    local["pipelines"] = {"fitness": {"bpm_readings_per_set": 3}}  # a small heart-rate file
    (conf_dir / "local.yml").write_text(yaml.safe_dump(local))
    monkeypatch.setenv("MEDALLION_CONF_DIR", str(conf_dir))
    root = tmp_path / "lakehouse"

    assert main(["upload", "fitness", "--set", "1", "--root", str(root)]) == 0
    zone = root / "landing" / "fitness"  # each pipeline's own zone
    landed = sorted(p.relative_to(zone).as_posix() for p in zone.rglob("*") if p.is_file())
    assert landed == [
        "gym_logins_bz/5-gym_logins_1.csv",
        "kafka_multiplex_bz/2-user_info_1.json",
        "kafka_multiplex_bz/3-bpm_1.json",
        "kafka_multiplex_bz/4-workout_1.json",
        "registered_users_bz/1-registered_users_1.csv",
    ]
    assert len((zone / "kafka_multiplex_bz" / "3-bpm_1.json").read_text().splitlines()) == 3
    assert "5 files landed" in capsys.readouterr().out

    assert main(["upload", "fitness", "--set", "1", "--root", str(root)]) == 0
    assert "0 files landed in " + str(root / "landing") + ", 5 already there" in capsys.readouterr().out

    extra = tmp_path / "extra.csv"
    extra.write_text("mac_address,gym,login,logout\n")
    assert main(["upload", "fitness", "--path", str(extra), "--to", "gym_logins_bz", "--root", str(root)]) == 0
    assert (zone / "gym_logins_bz" / "extra.csv").read_text() == "mac_address,gym,login,logout\n"


def test_the_environment_decides_between_adls_and_the_local_folder(tmp_path):
    from medallion.platform.config import load_settings
    from medallion.sources.landing import LocalLanding, landing_for

    on_azure = landing_for(load_settings("qa"), credential=FixedTokenCredential(TOKEN))
    assert isinstance(on_azure, AdlsLanding) and on_azure.where == "https://medallionqa.dfs.core.windows.net/landing"
    local = landing_for(load_settings("local", root=str(tmp_path)))
    assert isinstance(local, LocalLanding) and local.where == str(tmp_path / "landing")
