"""One SparkSession for the whole test run (few shuffle partitions, UI off), and fresh lakehouses.

Two profiles (``--profile``):

- ``classic`` (the default): an embedded Spark session with the JVM in this process.
- ``databricks``: the run behaves like a Databricks cluster in the ways local runs used to hide: the
  session is a Spark Connect session (no JVM in Python; ``foreachBatch`` functions run in the server's
  own Python process), so Delta is reached through public APIs only. The server is the one at
  ``$MEDALLION_SPARK_REMOTE`` or, when that is unset, the project's own (``scripts/spark-connect.sh``),
  started for the run and stopped after it. Landing files go to a Unity Catalog volume path,
  ``/Volumes/medallion_test/<run>/landing/…`` on local disk (``$MEDALLION_LANDING_ROOT``), as the landing
  zone is a volume on a cluster. ``make test-connect`` runs the tests this profile covers.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path, PurePosixPath

import pytest

from medallion.platform.config import LANDING_ENV_VAR, load_settings
from medallion.platform.runtime import REMOTE_ENV_VAR, Runtime, connect_session, local_spark_session
from tests.support.scripts import run_script

TEST_PII_KEY = "test-only-tokenisation-key"
PROFILES = ("classic", "databricks")
VOLUMES = Path("/Volumes")
TEST_CATALOG = "medallion_test"  # the profile's volumes: /Volumes/medallion_test/<run>/landing


def pytest_addoption(parser):
    parser.addoption(
        "--profile",
        choices=PROFILES,
        default=os.environ.get("MEDALLION_TEST_PROFILE", "classic"),
        help="classic: embedded Spark; databricks: a Spark Connect session (see tests/conftest.py)",
    )


def is_databricks_profile(config) -> bool:
    return config.getoption("--profile") == "databricks"


def pytest_configure(config):
    config.addinivalue_line("markers", "databricks_profile: runs in the databricks profile only (make test-connect)")
    if is_databricks_profile(config):
        config.landing_volume = create_landing_volume()
        os.environ[LANDING_ENV_VAR] = str(config.landing_volume)  # every Runtime and subprocess lands there


def pytest_unconfigure(config):
    volume = getattr(config, "landing_volume", None)
    if volume is not None:
        shutil.rmtree(volume.parent, ignore_errors=True)  # the run's schema folder and its landing volume
        for emptied in (volume.parent.parent, VOLUMES):
            try:
                emptied.rmdir()  # only when no other run is using it
            except OSError:
                break


def create_landing_volume() -> Path:
    """A folder at a volume path for this run's landing files: what a cluster's Auto Loader, file APIs and the
    landing writers see on Databricks, where ``/Volumes`` is the mount of Unity Catalog volumes."""
    volume = VOLUMES / TEST_CATALOG / f"run_{os.getpid()}_{uuid.uuid4().hex[:8]}" / "landing"
    try:
        volume.mkdir(parents=True)
    except PermissionError:
        raise pytest.UsageError(
            f"The databricks profile lands files under {VOLUMES}, which this user cannot create: run "
            f"`sudo mkdir -p {VOLUMES} && sudo chown $USER {VOLUMES}` once, or run the tests as root."
        ) from None
    return volume


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Tests of the databricks profile only (a Connect run compared with a classic one) are not collected by a
    classic run: `make test-connect` runs them. Every test that runs gets its worker group (``pytest -n``)."""
    if not is_databricks_profile(config):
        deselect_databricks_only(config, items)
    assign_worker_groups(items)


def deselect_databricks_only(config, items) -> None:
    deselected = [item for item in items if item.get_closest_marker("databricks_profile")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("databricks_profile")]


@pytest.fixture(scope="session")
def spark(request, tmp_path_factory):
    os.environ.setdefault("MEDALLION_SECRET_PII_TOKEN_KEY", TEST_PII_KEY)
    settings = load_settings(
        "local", root=str(tmp_path_factory.mktemp("spark-root")), overrides={"spark": {"shuffle_partitions": 2}}
    )
    if not is_databricks_profile(request.config):
        session = local_spark_session(settings)
        yield session
        session.stop()
        return
    started_here = False
    remote = os.environ.get(REMOTE_ENV_VAR)
    if not remote:
        started_here = run_script("spark-connect", "status", check=False).returncode != 0
        run_script("spark-connect", "start")
        remote = run_script("spark-connect", "url").stdout.strip()
        os.environ[REMOTE_ENV_VAR] = remote  # every Runtime the tests build reaches the same server
    session = connect_session(settings, remote)
    yield session
    session.stop()
    if started_here:
        run_script("spark-connect", "stop")


@pytest.fixture
def make_runtime(spark, tmp_path_factory):
    """``make_runtime(**overrides)`` → a Runtime on a new empty storage root sharing the session."""

    def make(**overrides) -> Runtime:
        root = tmp_path_factory.mktemp("lakehouse")
        overrides = {"secrets": {"provider": "env"}, "streaming": {"trigger_interval": "1 second"}, **overrides}
        return Runtime(load_settings("local", root=str(root), overrides=overrides), spark=spark)

    return make


# `make test` runs the suite in two processes (pytest-xdist, `--dist loadgroup`), each with its own Spark
# session; a group of tests always runs in one of them. The project's servers (one PostgreSQL, one Kafka broker,
# one Spark Connect server per checkout) are started, stopped on purpose and stopped at the end by the tests
# that use them, so the modules using a server are one group: no test sees a server the other process stopped.
# Otherwise a module is a group, as its module fixtures (a whole pipeline run) are built once; a folder whose
# modules share session fixtures (the reliability suite's clean run) is one group for the same reason.
SERVER_FIXTURES = frozenset({"postgres_server", "kafka_broker", "connect_url"})
FOLDERS_SHARING_FIXTURES = frozenset({"reliability"})


def assign_worker_groups(items) -> None:
    """Mark each test with its group and put the groups in the order the processes take them (see below)."""
    servers_of: dict[PurePosixPath, set[str]] = {}
    for item in items:
        servers_of.setdefault(module_of(item), set()).update(SERVER_FIXTURES.intersection(item.fixturenames))
    groups = server_groups({module: servers for module, servers in servers_of.items() if servers})
    group_of: dict[str, str] = {}
    for item in items:
        module = module_of(item)
        default = module.parent if module.parent.name in FOLDERS_SHARING_FIXTURES else module
        group_of[item.nodeid] = groups.get(module, str(default))
        item.add_marker(pytest.mark.xdist_group(group_of[item.nodeid]))
    items[:] = longest_groups_first(items, group_of)


# A process takes the next group when it is nearly done with its own, in the order of the collection (the
# Makefile passes --no-loadscope-reorder: xdist's own order, the most tests first, would leave a one-test group
# of a whole stream run to the end, for one process, while the other waits). A group's time is unknown before it
# runs, so its kind stands for it: the groups of a server (each a series of pipeline runs against it), then the
# other integration tests (a pipeline run each), then unit tests (seconds each), which even out the end.
def longest_groups_first(items, group_of: dict[str, str]) -> list:
    members: dict[str, list] = {}
    for item in items:
        members.setdefault(group_of[item.nodeid], []).append(item)

    def expected_length(group: str) -> tuple[int, int]:
        kind = 0 if group.startswith("servers:") else 1 if group.startswith("tests/integration") else 2
        return kind, -len(members[group])

    return [item for group in sorted(members, key=expected_length) for item in members[group]]


def module_of(item) -> PurePosixPath:
    return PurePosixPath(item.nodeid.split("::", 1)[0])  # relative to the project, as pytest prints it


def server_groups(servers_of: dict[PurePosixPath, set[str]]) -> dict[PurePosixPath, str]:
    """A group per set of servers that modules use together: a module using two servers joins their groups."""
    clusters: list[set[str]] = []
    for servers in servers_of.values():
        touching = [cluster for cluster in clusters if cluster & servers]
        clusters = [cluster for cluster in clusters if not cluster & servers] + [servers.union(*touching)]
    named = {server: "servers:" + "+".join(sorted(cluster)) for cluster in clusters for server in cluster}
    return {module: named[next(iter(servers))] for module, servers in servers_of.items()}
