"""The library over a Spark Connect session (scripts/spark-connect.sh): no JVM on the client side.

The server is the project's own (the pinned Spark's spark-connect jar, Delta on the server side), started
for this module and stopped afterwards when the module started it. What runs here is what Databricks'
standard access mode, serverless and Databricks Connect allow: DataFrames, SQL and documented options.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from medallion.platform.config import PROJECT_DIR
from medallion.platform.runtime import REMOTE_ENV_VAR
from tests.support.processes import child_environment

SCRIPT = PROJECT_DIR / "scripts" / "spark-connect.sh"


def _script(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), command], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def connect_url():
    was_running = _script("status").returncode == 0
    started = _script("start")
    assert started.returncode == 0, started.stderr
    yield _script("url").stdout.strip()
    if not was_running:
        _script("stop")


# The client runs in a process of its own: PySpark allows one kind of session per process, and the suite's
# classic session may already be running in this one.
CLIENT = """
import json, sys
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime

root = sys.argv[1]
spark = Runtime(load_settings("local", root=root)).spark
path = root + "/events"
spark.range(5).write.format("delta").save(path)
for _ in range(2):  # the same transaction twice: Delta keeps one (the idempotent-write options)
    (spark.range(5, 8).write.format("delta").mode("append")
     .option("txnAppId", "batch-writer").option("txnVersion", 1).save(path))
history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").select("version", "operation").collect()
print(json.dumps({
    "session": type(spark).__module__,
    "time_zone": spark.conf.get("spark.sql.session.timeZone"),
    "rows": int(spark.read.format("delta").load(path).count()),
    "history": [[int(row["version"]), str(row["operation"])] for row in history],
}))
"""


def test_a_runtime_given_a_remote_works_on_delta_through_a_connect_session(connect_url, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, str(tmp_path)],
        capture_output=True,
        text=True,
        env=child_environment(**{REMOTE_ENV_VAR: connect_url}),
        cwd=PROJECT_DIR,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "session": "pyspark.sql.connect.session",
        "time_zone": "UTC",
        "rows": 8,
        "history": [[1, "WRITE"], [0, "WRITE"]],
    }
