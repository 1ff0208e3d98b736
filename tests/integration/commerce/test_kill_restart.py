"""A batch run killed mid-merge, a stream run killed in the middle of a batch, then a restart: the same gold as a clean run (the
manifest), no message lost or doubled. Each killed run is a child process with its own JVM, killed for real; the restart
ends normally, so it runs in this process."""

import shutil
import subprocess
import sys

import pytest
import yaml

from medallion.declare.tables import Layer
from medallion.platform.config import DEFAULT_CONF_DIR, load_settings
from medallion.platform.failpoints import CRASH_EXIT_CODE
from medallion.platform.runtime import Runtime
from tests.integration.commerce.conftest import assert_gold_equals_manifest, produce
from tests.support.processes import child_environment, medallion_in_this_process

pytestmark = pytest.mark.integration


def medallion(conf_dir, root, *args: str, failpoint: str | None = None, here: bool = False):
    """``medallion ARGS --env test --root ROOT`` in a child process, or in this one when ``here``."""
    failpoints = {"MEDALLION_FAILPOINTS": failpoint} if failpoint else {}
    env = child_environment(without=["MEDALLION_FAILPOINTS"], MEDALLION_CONF_DIR=str(conf_dir), **failpoints)
    argv = [*args, "--env", "test", "--root", str(root)]
    if here:
        return medallion_in_this_process(argv, env)
    return subprocess.run(
        [sys.executable, "-m", "medallion", *argv], capture_output=True, text=True, timeout=1500, env=env
    )


def test_a_stream_run_killed_mid_batch_then_restarted_ends_with_the_manifest(commerce_runtime, tmp_path):
    runtime = commerce_runtime
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    shutil.copy(DEFAULT_CONF_DIR / "base.yml", conf_dir / "base.yml")
    topics = dict(runtime.settings.pipeline("commerce")["topics"])
    (conf_dir / "test.yml").write_text(
        yaml.safe_dump(
            {
                "runtime": "local",
                "spark": {"shuffle_partitions": 2},
                "secrets": {"provider": "env"},
                "streaming": {"trigger_interval": "1 second"},
                "pipelines": {"commerce": {"topics": topics}},
            }
        )
    )
    root = runtime.settings.root
    produce(runtime, 1)
    truths = produce(runtime, 2)

    # SIGKILL while the customers' SCD2 merge runs (the first silver table of a batch run): nothing committed.
    killed = medallion(conf_dir, root, "run", "commerce", failpoint="mid_merge:customers")
    assert killed.returncode != 0, killed.stderr[-3000:]
    # Then a stream run, killed after the first clickstream batch reached silver but before its
    # checkpoint recorded it (clicks had not run yet, so its first batch is certain to come).
    killed = medallion(
        conf_dir, root, "run", "commerce", "--mode", "stream", "--timeout", "900", failpoint="after_sink_commit:clicks"
    )
    assert killed.returncode == CRASH_EXIT_CODE, killed.stderr[-3000:]
    restarted = medallion(conf_dir, root, "run", "commerce", here=True)
    assert restarted.returncode == 0, restarted.stderr[-3000:]

    reader = Runtime(load_settings("test", root=root, conf_dir=conf_dir), spark=runtime.spark)
    assert_gold_equals_manifest(reader, truths)
    clicks = reader.spark.read.format("delta").load(reader.location("commerce", Layer.SILVER, "clicks").path)
    assert clicks.count() == truths["silver"]["clicks"]
