"""Named failpoints: places in the runner where a fault-injection test can crash the process.

Off unless the environment variable ``MEDALLION_FAILPOINTS`` names them; it is read at every call, so a
test arms a failpoint in a child process only. The value is a comma-separated list of
``name[:table][@count][=action]``:

- ``name``: one of :data:`POINTS`;
- ``table``: only when that table is being written (default: any table);
- ``count``: fire on the N-th time the point is reached in this process (default: the first);
- ``action``: ``crash`` (default) ends the process at once with :data:`CRASH_EXIT_CODE`, without
  ``finally`` blocks, atexit handlers or JVM shutdown hooks, like a killed driver or a lost VM;
  ``raise`` raises :class:`FailpointError` instead, to exercise the error path.

Examples: ``after_sink_commit:users``, ``between_writes:kafka_multiplex_bz@2``, ``mid_merge:user_profile``.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter
from dataclasses import dataclass

ENV_VAR = "MEDALLION_FAILPOINTS"
CRASH_EXIT_CODE = 86

POINTS = {
    "after_bronze_commit": "a bronze table's run has committed (data and checkpoint), before the next table",
    "between_writes": "one batch wrote its quarantine rows, not yet its table rows",
    "after_sink_commit": "one batch's table write committed, the streaming checkpoint has not",
    "mid_merge": "the process is killed while a MERGE runs, before its commit",
}

_hits: Counter = Counter()


class FailpointError(RuntimeError):
    """Raised by a failpoint armed with ``=raise`` (deliberately not a MedallionError: an unexpected
    failure, with a traceback, is the harder case for a test that checks what reaches the output)."""


@dataclass(frozen=True)
class Failpoint:
    name: str
    table: str | None = None
    count: int = 1
    action: str = "crash"

    def matches(self, name: str, table: str | None) -> bool:
        if self.name != name:
            return False
        return self.table is None or table is not None and (table == self.table or table.endswith("." + self.table))


def parse(spec: str) -> list[Failpoint]:
    """Parse the ``MEDALLION_FAILPOINTS`` value; an unknown name or action is an error, not a no-op."""
    points = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        item, _, action = item.partition("=")
        item, _, count = item.partition("@")
        name, _, table = item.partition(":")
        if name not in POINTS:
            raise ValueError(f"{ENV_VAR}: unknown failpoint '{name}'. Known: {', '.join(POINTS)}.")
        if action not in ("", "crash", "raise"):
            raise ValueError(f"{ENV_VAR}: action of '{name}' must be crash or raise, got '{action}'.")
        points.append(Failpoint(name, table or None, int(count) if count else 1, action or "crash"))
    return points


def armed(name: str, table: str | None = None) -> Failpoint | None:
    """The failpoint that fires now at ``name`` for ``table`` (counting this hit), or None."""
    spec = os.environ.get(ENV_VAR, "")
    if not spec:
        return None
    for point in parse(spec):
        if point.matches(name, table):
            _hits[point] += 1
            if _hits[point] == point.count:
                return point
    return None


def reset() -> None:
    """Count every failpoint's hits from zero again, as a new process would (a run made in a process that
    made runs before it, e.g. a test's)."""
    _hits.clear()


def hit(name: str, table: str | None = None) -> None:
    """Crash (or raise) here if a test armed this failpoint; otherwise do nothing."""
    point = armed(name, table)
    if point is None:
        return
    _announce(point, table)
    if point.action == "raise":
        raise FailpointError(f"failpoint {point.name} raised in {table}")
    os._exit(CRASH_EXIT_CODE)


def kill_while_reading(df, name: str, table: str | None = None):
    """``df`` unchanged, unless the failpoint is armed: then a filter whose first evaluated row kills the
    JVM that runs the job and this driver process (SIGKILL) from inside the Spark job that reads ``df``,
    e.g. a MERGE whose source it is. Nothing after that point of the job (its commit included) can happen.

    The JVM is found from inside the job: the Python worker evaluating the row is a descendant of the
    JVM that runs it (the local driver JVM, or the Spark Connect server), so no handle on the JVM is
    needed from this side."""
    point = armed(name, table)
    if point is None:
        return df
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType

    driver_pid = os.getpid()
    # Announced here: what a Python worker prints passes through the JVM, which is about to die.
    print(  # noqa: T201 - the fault is announced on the console on purpose
        f"failpoint {point.name} armed in {table}: its Spark job will kill driver {driver_pid} and the JVM running it",
        file=sys.stderr,
        flush=True,
    )

    def kill(_value) -> bool:  # runs in a Python worker process, inside the job
        jvm_pid = java_ancestor(os.getpid())
        if jvm_pid is not None:
            os.kill(jvm_pid, signal.SIGKILL)
        os.kill(driver_pid, signal.SIGKILL)
        return True

    return df.where(F.udf(kill, BooleanType())(F.lit(1)))


def java_ancestor(pid: int, proc: str = "/proc") -> int | None:
    """The nearest ancestor of process ``pid`` that is a ``java`` process (Linux process table), or None."""
    for _ in range(16):
        try:
            with open(f"{proc}/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces
            pid = int(fields[1])  # the parent
            with open(f"{proc}/{pid}/comm") as comm:
                if comm.read().strip() == "java":
                    return pid
        except (OSError, IndexError, ValueError):
            return None
        if pid <= 1:
            return None
    return None


def _announce(point: Failpoint, table: str | None) -> None:
    print(f"failpoint {point.name} hit in {table} ({POINTS[point.name]}): {point.action}", file=sys.stderr, flush=True)  # noqa: T201 - on purpose, as above
