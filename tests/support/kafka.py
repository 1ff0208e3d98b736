"""The project's local Kafka broker, from Python: a thin wrapper over ``scripts/kafka.sh``.

The script is the one implementation (the README, CI and the tests all go through it). The broker listens
on ``$MEDALLION_KAFKA_PORT`` (default 19092), so parallel checkouts each set their own port.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.support.scripts import run_script


def _script(command: str, check: bool = True) -> subprocess.CompletedProcess:
    return run_script("kafka", command, check)


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
