"""The library over a Spark Connect session (scripts/spark-connect.sh): no JVM on the client side.

The server is the project's own (the pinned Spark's spark-connect jar, Delta on the server side), started
for this module and stopped afterwards when the module started it. What runs here is what Databricks'
standard access mode, serverless and Databricks Connect allow: DataFrames, SQL and documented options.
"""

from __future__ import annotations

import subprocess

import pytest

from medallion.platform.config import PROJECT_DIR, load_settings
from medallion.platform.runtime import REMOTE_ENV_VAR, Runtime

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


def test_a_runtime_given_a_remote_works_on_delta_through_a_connect_session(connect_url, tmp_path, monkeypatch):
    monkeypatch.setenv(REMOTE_ENV_VAR, connect_url)
    spark = Runtime(load_settings("local", root=str(tmp_path))).spark
    assert type(spark).__module__ == "pyspark.sql.connect.session"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"

    path = str(tmp_path / "events")
    spark.range(5).write.format("delta").save(path)
    for _ in range(2):  # the same transaction twice: Delta keeps one (the idempotent-write options)
        (
            spark.range(5, 8)
            .write.format("delta")
            .mode("append")
            .option("txnAppId", "batch-writer")
            .option("txnVersion", 1)
            .save(path)
        )
    assert spark.read.format("delta").load(path).count() == 8
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").select("version", "operation").collect()
    assert [(row["version"], row["operation"]) for row in history] == [(1, "WRITE"), (0, "WRITE")]
