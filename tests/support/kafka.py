"""The project's local Kafka broker, from Python: a thin wrapper over ``scripts/kafka.sh``.

The script is the one implementation (the README, CI and the tests all go through it). The broker listens
on ``$MEDALLION_KAFKA_PORT`` (default 19092), so parallel checkouts each set their own port.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from medallion.errors import MedallionError
from medallion.platform.config import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "kafka.sh"


def _script(command: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", str(SCRIPT), command], capture_output=True, text=True, env=os.environ.copy())
    if check and result.returncode != 0:
        raise MedallionError(f"scripts/kafka.sh {command} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def start() -> None:
    _script("start")


def stop() -> None:
    _script("stop")


def is_running() -> bool:
    return _script("status", check=False).returncode == 0


def bootstrap_servers() -> str:
    return _script("bootstrap").stdout.strip()


@pytest.fixture(scope="session")
def kafka_broker():
    """The running broker (started for the session when it was not running, and stopped after it)."""
    was_running = is_running()
    start()
    yield bootstrap_servers()
    if not was_running:
        stop()
