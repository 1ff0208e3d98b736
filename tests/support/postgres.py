"""The project's local PostgreSQL server, from Python: a thin wrapper over ``scripts/postgres.sh``.

The script is the one implementation (the README, CI and the tests all go through it); this module lets
tests and tools start, stop and query it without shelling out by hand. See the script for where the data
live, the port (``$MEDALLION_PG_PORT``) and how the app role's password follows the secret store.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from medallion.errors import MedallionError
from medallion.platform.config import PROJECT_DIR
from tests.support.scripts import run_script

PASSWORD_SECRET = "operational-db-password"
PASSWORD_ENV_VAR = "MEDALLION_SECRET_OPERATIONAL_DB_PASSWORD"
SECRETS_FILE = PROJECT_DIR / ".secrets.yml"


def _script(command: str, check: bool = True) -> subprocess.CompletedProcess:
    return run_script("postgres", command, check)


def start() -> None:
    """Start the server (initialising it on first use) and ensure the app role and database. Idempotent."""
    _script("start")


def stop() -> None:
    """Stop the server; a stopped server stays stopped."""
    _script("stop")


def is_running() -> bool:
    return _script("status", check=False).returncode == 0


def url(database: str | None = None) -> str:
    """The JDBC URL of the app database (or of ``database`` on the same server)."""
    base = _script("url").stdout.strip()
    return base if database is None else base.rsplit("/", 1)[0] + "/" + database


def app_password() -> str:
    """The app role's password as the script resolves it: the env secret when exported, else the entry of
    the git-ignored ``.secrets.yml`` (which ``start`` creates). For tests that put it in the environment;
    never print it."""
    value = os.environ.get(PASSWORD_ENV_VAR)
    if value:
        return value
    start()  # creates the local entry when missing
    return _read_secrets_file(SECRETS_FILE)[PASSWORD_SECRET]


def _read_secrets_file(path: Path) -> dict:
    import yaml

    values = yaml.safe_load(path.read_text()) if path.exists() else None
    if not isinstance(values, dict) or PASSWORD_SECRET not in values:
        raise MedallionError(f"{path.name} has no '{PASSWORD_SECRET}': run scripts/postgres.sh start.")
    return {k: str(v) for k, v in values.items()}
