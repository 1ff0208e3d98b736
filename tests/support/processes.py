"""The environment of a child Python process a test starts (``python -m medallion …``, ``python -c …``)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from medallion.platform.config import PROJECT_DIR
from medallion.platform.runtime import REMOTE_ENV_VAR

# What makes PySpark (and the runtime) build a Spark Connect session instead of a classic one.
CONNECT_VARIABLES = (REMOTE_ENV_VAR, "SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE")


def child_environment(without: Iterable[str] = (), **variables: str) -> dict[str, str]:
    """This process's environment minus ``without``, plus ``variables``, with the project's ``src`` first on
    ``PYTHONPATH`` so the child imports this checkout's ``medallion`` whatever its working directory."""
    dropped = set(without)
    environment = {name: value for name, value in os.environ.items() if name not in dropped}
    python_path = [str(PROJECT_DIR / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    environment.update({"PYTHONPATH": os.pathsep.join(python_path), **variables})
    return environment
