"""What a streaming query's plan holds, read from its physical plan as ``DataFrame.explain`` prints it."""

from __future__ import annotations

import contextlib
import io

from pyspark.sql import DataFrame

# Spark's physical operators that keep state between micro-batches (aggregations, deduplication,
# stream-stream joins, arbitrary state, session windows, a global limit), by the names they print under.
STATEFUL_OPERATORS = (
    "StateStoreRestore",
    "StateStoreSave",
    "StreamingDeduplicate",
    "StreamingSymmetricHashJoin",
    "WithState",
    "SessionWindowStateStore",
    "StreamingGlobalLimit",
)


def holds_state(query: DataFrame) -> bool:
    """Whether the streaming DataFrame ``query`` keeps state from one micro-batch to the next. A stateless
    query's batch can be read twice and gives the same rows twice; a stateful one's would advance its
    state again. When the plan cannot be read it is taken to hold state."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            query.explain()
    except Exception:
        return True
    plan = printed.getvalue()
    return not plan.strip() or any(operator in plan for operator in STATEFUL_OPERATORS)
