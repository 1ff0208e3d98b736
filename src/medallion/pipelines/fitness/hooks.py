"""Operational hooks of the pipeline: what notebooks 03 (history loader) and 10 (producer) call."""
from medallion import runner
from medallion.pipelines.fitness.producer import land_date_lookup, produce
from medallion.runtime import Runtime


def producer(runtime: Runtime, set_number: int = 1, **_options) -> list[str]:
    return produce(runtime.settings, set_number)


def history_loader(runtime: Runtime) -> list:
    """Land the calendar lookup and load ``date_lookup`` (replaced whole, so a re-run changes nothing)."""
    land_date_lookup(runtime.settings)
    return runner.run(runtime, "fitness", tables=["date_lookup"])
