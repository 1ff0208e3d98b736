"""The main job of ``make run``: the fitness pipeline on the published data set, set 1 then set 2.

Every step is idempotent, so running it again lands no new file, processes nothing new and prints the
same counts.
"""

from __future__ import annotations

import sys
import time

from medallion.cli import configure_logging
from medallion.declare.pipeline import get_pipeline
from medallion.display import print_counts, print_dataframe
from medallion.engine import hooks, runner
from medallion.errors import MedallionError
from medallion.platform.config import load_settings
from medallion.platform.runtime import Runtime


def main(pipeline_name: str = "fitness", sets: tuple[int, ...] = (1, 2)) -> int:
    configure_logging()  # our progress lines; the libraries' own (Spark's gateway) only when they are errors
    runtime = Runtime(load_settings("local"))
    pipeline = get_pipeline(pipeline_name)
    started = time.time()
    runner.prepare(runtime, pipeline)
    for set_number in sets:
        hooks.produce(runtime, pipeline, set_number=set_number)
        runner.run(runtime, pipeline_name)
    print(f"\n{pipeline_name}: tables under {runtime.settings.root} (took {time.time() - started:.0f} s)\n")
    print_counts(runtime, pipeline_name)
    for table in pipeline.ordered():
        if table.layer.value == "gold":
            frame = runtime.spark.read.format("delta").load(
                runtime.location(pipeline_name, table.layer, table.name).path
            )
            print(f"\n{runtime.location(pipeline_name, table.layer, table.name).name}")
            print_dataframe(frame.orderBy(*frame.columns[:3]))
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "fitness"))
    except MedallionError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2)
