"""The engine's entry points, for the faces (CLI, notebooks, demo) and tests: one import for all of them.

- ``run``: every table of a pipeline once (``availableNow``), skipping what did not change (pipeline.py);
- ``start_streams``: stream mode (streams.py);
- ``prepare``, ``ensure_tables``, ``load_history``: setup (setup.py);
- ``run_table``, ``build``, ``RunContext``: one table (table.py, inputs.py, context.py).
"""

from medallion.declare.pipeline import get_pipeline
from medallion.engine.context import RunContext
from medallion.engine.failures import CONCURRENT_WRITE_ERRORS
from medallion.engine.inputs import build
from medallion.engine.pipeline import preflight, run
from medallion.engine.setup import ensure_tables, load_history, prepare
from medallion.engine.streams import StreamingRun, start_streams
from medallion.engine.table import run_table

__all__ = [
    "CONCURRENT_WRITE_ERRORS",
    "RunContext",
    "StreamingRun",
    "build",
    "ensure_tables",
    "get_pipeline",
    "load_history",
    "preflight",
    "prepare",
    "run",
    "run_table",
    "start_streams",
]
