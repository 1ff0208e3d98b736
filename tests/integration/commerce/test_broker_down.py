"""The broker stopped: one clear message, and no table created or changed."""

from pathlib import Path

import pytest

from medallion.engine.pipeline import run
from medallion.errors import SourceError

pytestmark = pytest.mark.integration


def test_a_run_with_the_broker_down_stops_before_any_table_changes(make_runtime):
    runtime = make_runtime(kafka={"bootstrap_servers": "127.0.0.1:1"})  # nothing listens there
    for folder in ("sales", "customers"):
        Path(runtime.settings.landing_path("commerce", folder)).mkdir(parents=True)
    with pytest.raises(SourceError) as raised:
        run(runtime, "commerce")
    assert str(raised.value) == (
        "The Kafka broker at 127.0.0.1:1 is not reachable: start it with `scripts/kafka.sh start` (port: "
        "$MEDALLION_KAFKA_PORT), or check kafka.bootstrap_servers in conf/local.yml. No table was changed."
    )
    assert not Path(runtime.settings.path("commerce")).exists()
