"""The environment of a child Python process a test starts (``python -m medallion …``, ``python -c …``), and
``medallion`` run in the test's own process as a child would run it."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
from collections.abc import Iterable, Mapping
from unittest import mock

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


def medallion_in_this_process(argv: list[str], environment: Mapping[str, str]) -> subprocess.CompletedProcess:
    """``medallion ARGV`` in this process, on the test session's JVM, with ``environment`` in place of this
    process's: the outputs and exit code a child process would give, without a JVM to start. For a step that
    ends normally or with an error; a crash or a kill needs a process of its own."""
    from medallion.cli import main
    from medallion.platform import failpoints

    root_logger = logging.getLogger()
    handlers, level = root_logger.handlers[:], root_logger.level
    out, err = io.StringIO(), io.StringIO()
    failpoints.reset()  # as in a new process, failpoint hits are counted from zero
    try:
        # patch.dict restores the whole environment afterwards, what the run added and what it removed
        with mock.patch.dict(os.environ, environment, clear=True):
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
    finally:  # the run's logging set-up (stderr, level) must not outlive it in the test session
        root_logger.handlers[:] = handlers
        root_logger.setLevel(level)
    return subprocess.CompletedProcess(["medallion", *argv], code, out.getvalue(), err.getvalue())
