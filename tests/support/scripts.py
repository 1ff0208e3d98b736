"""Running the project's service scripts (scripts/<name>.sh start|stop|status|…) from Python."""

from __future__ import annotations

import os
import subprocess

from medallion.errors import MedallionError
from medallion.platform.config import PROJECT_DIR


def run_script(name: str, command: str, check: bool = True) -> subprocess.CompletedProcess:
    """``scripts/<name>.sh <command>``; with ``check``, a failure raises with the script's own message."""
    script = PROJECT_DIR / "scripts" / f"{name}.sh"
    if not script.exists():
        raise MedallionError(f"{script} is missing: the local services run from a project checkout.")
    result = subprocess.run(["bash", str(script), command], capture_output=True, text=True, env=os.environ.copy())
    if check and result.returncode != 0:
        raise MedallionError(f"scripts/{name}.sh {command} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result
