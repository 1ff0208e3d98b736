"""Fixtures of the reliability suite: a test configuration for child processes, the canary secret, and
one clean in-process run of the fault-injection data set that the other tests compare against."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from medallion.declare.pipeline import get_pipeline
from medallion.engine import runner
from medallion.platform.config import CONF_DIR_ENV_VAR, DEFAULT_CONF_DIR, load_settings
from medallion.platform.failpoints import ENV_VAR as FAILPOINTS_ENV_VAR
from medallion.platform.runtime import Runtime
from tests.integration.reliability import faults
from tests.support.processes import child_environment, medallion_in_this_process

CANARY = "canary-3f9c2b71-never-print-me"  # the tokenisation key of every run in this suite
# Settings every run of the suite shares, in this process or a child, beside the test environment's.
SUITE_OVERRIDES: dict = {}
TEST_ENV = yaml.safe_dump(
    {
        "runtime": "local",
        "spark": {"shuffle_partitions": 2},
        "streaming": {"trigger_interval": "1 second"},
        "secrets": {"provider": "env"},
        **SUITE_OVERRIDES,
    }
)


@pytest.fixture(scope="session")
def conf_dir(tmp_path_factory) -> Path:
    """base.yml of the project plus a ``test`` environment, for ``--env test`` in child processes."""
    folder = tmp_path_factory.mktemp("conf")
    shutil.copy(DEFAULT_CONF_DIR / "base.yml", folder / "base.yml")
    (folder / "test.yml").write_text(TEST_ENV)
    return folder


@pytest.fixture(scope="session")
def canary_secrets_file(tmp_path_factory) -> Path:
    """A git-ignored-style secrets file holding the canary, referenced from config (secrets.file)."""
    path = tmp_path_factory.mktemp("secrets") / "secrets.yml"
    path.write_text(f"pii-token-key: {CANARY}\n")
    return path


@dataclass
class CleanRun:
    runtime: Runtime
    rows: dict[str, list[tuple]]  # every table + quarantine after set A
    runs: list


@pytest.fixture(scope="session")
def clean_run(spark, tmp_path_factory, canary_secrets_file) -> CleanRun:
    """Set A processed once, in this process, with the canary as the tokenisation key (file provider)."""
    root = tmp_path_factory.mktemp("clean")
    settings = load_settings(
        "local",
        root=str(root),
        overrides={"secrets": {"provider": "file", "file": str(canary_secrets_file)}, **SUITE_OVERRIDES},
    )
    runtime = Runtime(settings, spark=spark)
    faults.land_set_a(settings)
    runner.load_history(runtime, get_pipeline("fitness"))
    runs = runner.run(runtime, "fitness", progress=lambda _message: None)
    return CleanRun(runtime, faults.lakehouse_rows(runtime, get_pipeline("fitness")), runs)


def child_env(conf_dir: Path, **extra: str) -> dict:
    return child_environment(
        without=[FAILPOINTS_ENV_VAR],
        **{
            CONF_DIR_ENV_VAR: str(conf_dir),
            "MEDALLION_SECRET_PII_TOKEN_KEY": CANARY,
            "MEDALLION_DRIVER_MEMORY": os.environ.get("MEDALLION_DRIVER_MEMORY", "2g"),
            **extra,
        },
    )


def medallion(conf_dir: Path, root: Path, *args: str, env: str = "test", timeout: float = 400, **extra_env: str):
    """``python -m medallion ARGS --env test --root ROOT`` in a child process (its own JVM)."""
    return subprocess.run(
        [sys.executable, "-m", "medallion", *args, "--env", env, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(conf_dir, **extra_env),
    )


def medallion_here(conf_dir: Path, root: Path, *args: str, env: str = "test", **extra_env: str):
    """The same command as :func:`medallion`, run in this process (a step that does not end its process)."""
    return medallion_in_this_process([*args, "--env", env, "--root", str(root)], child_env(conf_dir, **extra_env))


def prepared_root(clean: CleanRun, root: Path) -> Path:
    """A fresh storage root with set A landed and the calendar table copied from the clean run (so a
    child process only has to run the pipeline itself)."""
    from medallion.declare.tables import Layer

    settings = load_settings("local", root=str(root))
    faults.land_set_a(settings)
    faults.copy_table(clean.runtime, str(root), "fitness", Layer.BRONZE, "date_lookup")
    return root
