"""Acceptance runs (notebooks 08 and 09): produce each data set, run, and compare the tables with the
pipeline's declared expected counts. Raises ``AcceptanceFailed`` naming every count that differs."""

from __future__ import annotations

from medallion.declare.pipeline import get_pipeline
from medallion.declare.tables import ExpectedCount
from medallion.engine import hooks, runner
from medallion.errors import MedallionError
from medallion.platform.runtime import Runtime

Check = ExpectedCount


class AcceptanceFailed(AssertionError):
    pass


def count(runtime: Runtime, pipeline_name: str, check: Check) -> int:
    table = get_pipeline(pipeline_name).get(check.table)
    frame = runtime.spark.read.format("delta").load(runtime.location(pipeline_name, table.layer, table.name).path)
    return (frame.where(check.where) if check.where else frame).count()


def verify(runtime: Runtime, pipeline_name: str, checks: list[Check]) -> dict[str, int]:
    actual = {c.label: count(runtime, pipeline_name, c) for c in checks}
    wrong = [f"{c.label}: expected {c.rows:,}, found {actual[c.label]:,}" for c in checks if actual[c.label] != c.rows]
    if wrong:
        raise AcceptanceFailed(f"{pipeline_name}: " + "; ".join(wrong))
    return actual


def run_acceptance(runtime: Runtime, pipeline_name: str, mode: str, stream_timeout: float = 900) -> dict:
    """Produce set 1, run, verify; produce set 2, run, verify; … as the pipeline's acceptance declares."""
    pipeline = get_pipeline(pipeline_name)
    expected = hooks.expected_counts(runtime, pipeline)
    if expected is None or pipeline.hook("produce") is None:
        raise MedallionError(f"{pipeline_name} declares no acceptance counts")
    runner.prepare(runtime, pipeline)
    results = {}
    streams = runner.start_streams(runtime, pipeline_name) if mode == "stream" else None
    try:
        for set_number, checks in sorted(expected.items()):
            hooks.produce(runtime, pipeline, set_number=set_number)
            if streams:
                streams.await_idle(stream_timeout)
            else:
                runner.run(runtime, pipeline_name)
            results[f"set {set_number}"] = verify(runtime, pipeline_name, checks)
    finally:
        if streams:
            streams.stop()
    return results
