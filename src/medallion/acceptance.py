"""Acceptance runs (notebooks 08 and 09): produce each data set, run, and compare the tables with the
pipeline's declared expected counts. Raises ``AcceptanceFailed`` naming every count that differs."""
from __future__ import annotations

from dataclasses import dataclass

from medallion import runner
from medallion.errors import MedallionError
from medallion.registry import get_pipeline
from medallion.runtime import Runtime


@dataclass(frozen=True)
class Check:
    """``table`` (optionally filtered by a SQL ``where``) must hold exactly ``rows`` rows."""

    table: str
    rows: int
    where: str | None = None

    @property
    def label(self) -> str:
        return f"{self.table}[{self.where}]" if self.where else self.table


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
    if pipeline.acceptance is None or pipeline.producer is None:
        raise MedallionError(f"{pipeline_name} declares no acceptance counts")
    expected = pipeline.acceptance(runtime.settings)
    runner.prepare(runtime, pipeline)
    results = {}
    streams = runner.start_streams(runtime, pipeline_name) if mode == "stream" else None
    try:
        for set_number, checks in sorted(expected.items()):
            pipeline.producer(runtime, set_number=set_number)
            if streams:
                streams.await_idle(stream_timeout)
            else:
                runner.run(runtime, pipeline_name)
            results[f"set {set_number}"] = verify(runtime, pipeline_name, checks)
    finally:
        if streams:
            streams.stop()
    return results
