"""Every writer of landing files, fed an ``abfss://`` root and a ``/Volumes/`` root: where each file goes.

The ADLS side is a fake of the store interface (:class:`FakeAdls`, in memory; never the network); the
volume side records what a cluster's file APIs would be asked to write. No landing root is ever turned
into a local ``Path`` here: a stray ``Path("abfss://…")`` would write under the working directory, which
each test checks stays empty.
"""

from __future__ import annotations

import types

import pytest

from medallion.errors import ConfigError, MedallionError
from medallion.platform.config import load_settings
from medallion.sources.landing import LandingZone, LocalLanding, files_under, landing_for, store_for, upload

ABFSS = "abfss://landing@medalliondev.dfs.core.windows.net/incoming"
VOLUME = "/Volumes/medallion_dev/landing/files"


class FakeAdls:
    """The ADLS Gen2 store's interface, in memory: what would be written where."""

    made: list[FakeAdls] = []

    def __init__(self, account_url: str, file_system: str, base: str = "", credential=None):
        self.address = (account_url, file_system, base)
        self.where = f"{account_url}/{file_system}/{base}".rstrip("/")
        self.files: dict[str, bytes] = {}
        FakeAdls.made.append(self)

    def put(self, file) -> bool:
        data = file.local.read_bytes()
        if self.files.get(file.relative) == data:
            return False
        self.files[file.relative] = data
        return True

    def exists(self, relative: str) -> bool:
        return relative in self.files

    def read(self, relative: str) -> bytes:
        return self.files[relative]


class VolumeFiles(FakeAdls):
    """What a cluster's file APIs would write under a volume path (the store :func:`store_for` picks)."""

    def __init__(self, root: str):
        super().__init__("", "", "")
        self.where = root


@pytest.fixture(autouse=True)
def working_directory_stays_empty(tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield
    assert list(cwd.rglob("*")) == []


def zones(pipeline: str):
    """The pipeline's zone on ADLS (through the fake SDK store) and on a volume (recorded)."""
    on_adls = LandingZone(ABFSS, pipeline, store=store_for(ABFSS, adls=FakeAdls))
    on_volume = LandingZone(VOLUME, pipeline, store=VolumeFiles(VOLUME))
    return on_adls, on_volume


def written(zone: LandingZone) -> list[str]:
    return sorted(f"{zone.store.where}/{relative}" for relative in zone.store.files)


def test_roots_are_classified_without_building_a_path_from_a_url():
    adls = store_for(ABFSS, adls=FakeAdls)
    assert isinstance(adls, FakeAdls)
    assert adls.address == ("https://medalliondev.dfs.core.windows.net", "landing", "incoming")
    volume = store_for(VOLUME)
    assert isinstance(volume, LocalLanding) and volume.where == VOLUME
    with pytest.raises(ConfigError, match="a local folder, a /Volumes/ path or an abfss:// URL"):
        store_for("s3://bucket/landing")
    assert LandingZone(ABFSS, "fitness").path("gym_logins_bz", "a.csv") == f"{ABFSS}/fitness/gym_logins_bz/a.csv"
    assert LandingZone(VOLUME + "/", "fitness").path("gym_logins_bz") == f"{VOLUME}/fitness/gym_logins_bz"


def test_the_fitness_producer_and_history_loader():
    from medallion.pipelines.fitness import producer

    conf = {**load_settings("local", root="/tmp/unused").pipeline("fitness"), "bpm_readings_per_set": 3}
    for zone in zones("fitness"):
        landed = producer.produce(zone, conf, 1, log=lambda _: None)
        landed.append(producer.land_date_lookup(zone))
        expected = [
            f"{zone.root}/fitness/{folder}/{name}"
            for folder, name in [
                ("date_lookup", "6-date-lookup.json"),
                ("gym_logins_bz", "5-gym_logins_1.csv"),
                ("kafka_multiplex_bz", "2-user_info_1.json"),
                ("kafka_multiplex_bz", "3-bpm_1.json"),
                ("kafka_multiplex_bz", "4-workout_1.json"),
                ("registered_users_bz", "1-registered_users_1.csv"),
            ]
        ]
        assert sorted(landed) == expected
        note = f"{zone.root}/fitness/_produced/3-bpm_1.json.note"  # what the heart-rate file holds
        assert written(zone) == [e.replace(zone.root, zone.store.where.rstrip("/")) for e in sorted([note, *expected])]
        assert zone.read_text("_produced", "3-bpm_1.json.note") == f"readings 3, seed {int(conf['bpm_seed']) + 1}\n"
        before = dict(zone.store.files)
        assert producer.produce(zone, conf, 1, log=lambda _: None) == landed[:-1]  # landed once: nothing rewritten
        assert zone.store.files == before
        with pytest.raises(MedallionError, match=r"3-bpm_1.json.note is already landed with other content"):
            producer.produce(zone, conf, 1, log=lambda _: None, scale=10)  # another file under the same name
        with pytest.raises(MedallionError, match=r"3-bpm_1.json.note is already landed with other content"):
            producer.produce(zone, {**conf, "bpm_seed": 99}, 1, log=lambda _: None)
        assert zone.store.files == before


def test_the_experiments_producer():
    from medallion.pipelines.experiments import landing as experiments

    for zone in zones("experiments"):
        manifest = experiments.produce(zone, scale=40, seed=1, progress=lambda _: None)
        paths = written(zone)
        assert paths == sorted(
            [f"{zone.store.where}/experiments/{f}" for f in manifest["files"]]
            + [f"{zone.store.where}/experiments/manifest.json"]
        )
        days = [p.split("/experiments/")[1].split("/") for p in paths if not p.endswith("/manifest.json")]
        assert days and all(
            stream in experiments.STREAMS and folder.startswith("arrival_date=") for stream, folder, _ in days
        )
        assert experiments.read_manifest(zone) == manifest


def test_the_movies_producer():
    from medallion.pipelines.movies import hooks

    conf = {**load_settings("local", root="/tmp/unused").pipeline("movies"), "reviews_per_day": 8}
    for zone in zones("movies"):
        context = types.SimpleNamespace(conf=conf, landing=zone, log=lambda _: None)
        landed = hooks.produce(context, set_number=2)
        assert landed == [
            f"{zone.root}/movies/movie_review/movie_review_2021-04-02.csv",
            f"{zone.root}/movies/log_reviews/log_reviews_2021-04-02.csv",
        ]
        assert written(zone) == sorted(p.replace(zone.root, zone.store.where) for p in landed)


def test_upload_to_an_abfss_landing_and_to_a_volume_from_outside_the_workspace(tmp_path):
    data = tmp_path / "data"
    (data / "gym_logins_bz").mkdir(parents=True)
    (data / "gym_logins_bz" / "5-gym_logins_1.csv").write_text("mac_address,gym,login,logout\n")
    on_adls = load_settings("dev")
    assert on_adls.landing == "abfss://landing@medalliondev.dfs.core.windows.net"
    store = landing_for(on_adls, adls=FakeAdls)
    assert upload(store, files_under(data), progress=lambda _: None) == (1, 0)
    assert (store.address, sorted(store.files)) == (
        ("https://medalliondev.dfs.core.windows.net", "landing", ""),
        ["gym_logins_bz/5-gym_logins_1.csv"],
    )

    on_volume = load_settings(
        "dev",
        overrides={
            "storage": {
                "landing": VOLUME,
                "landing_upload": "abfss://volumes@medalliondev.dfs.core.windows.net/landing/files",
            }
        },
    )
    store = landing_for(on_volume, adls=FakeAdls)
    assert upload(store, files_under(data, "fitness"), progress=lambda _: None) == (1, 0)
    assert (store.address, sorted(store.files)) == (
        ("https://medalliondev.dfs.core.windows.net", "volumes", "landing/files"),
        ["fitness/gym_logins_bz/5-gym_logins_1.csv"],
    )

    without_location = load_settings("dev", overrides={"storage": {"landing": VOLUME}})
    with pytest.raises(ConfigError, match="set storage.landing_upload in conf/dev.yml"):
        landing_for(without_location, adls=FakeAdls)


def test_a_producer_outside_the_workspace_lands_a_volume_through_its_storage_location(monkeypatch):
    """Off a cluster ``/Volumes`` is not mounted (as here): the volume's abfss location is written instead."""
    from medallion.pipelines.fitness import producer
    from medallion.sources import landing

    monkeypatch.setattr(landing, "AdlsLanding", FakeAdls)
    zone = LandingZone(VOLUME, "fitness", upload_root=ABFSS)
    assert (
        producer.land_date_lookup(zone) == f"{VOLUME}/fitness/date_lookup/6-date-lookup.json"
    )  # as Auto Loader reads it
    assert (zone.store.address, sorted(zone.store.files)) == (
        ("https://medalliondev.dfs.core.windows.net", "landing", "incoming"),
        ["fitness/date_lookup/6-date-lookup.json"],
    )
    with pytest.raises(ConfigError, match="only a Databricks cluster can write as a path"):
        LandingZone(VOLUME, "fitness").exists("date_lookup", "x.json")


def test_the_writers_hold_no_file_api_of_their_own():
    """Producers and loaders receive a LandingZone and write through it, never to a path they build."""
    import inspect

    from medallion.pipelines.experiments import landing as experiments
    from medallion.pipelines.fitness import hooks as fitness_hooks
    from medallion.pipelines.fitness import producer
    from medallion.pipelines.movies import hooks as movies_hooks

    for module in (experiments, producer, fitness_hooks, movies_hooks):
        source = inspect.getsource(module)
        assert not [
            call for call in (".mkdir(", ".rename(", ".write_bytes(", "Path(landing", "landing_path(") if call in source
        ], module.__name__
