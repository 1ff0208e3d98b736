"""One measured step of the benchmark, in a process of its own (``python -m benchmarks.steps STEP ROOT``).

Each step starts its own Spark session, so no step profits from another's warm JVM; the time reported is
the step's work after the session is up (the session's start-up is reported apart; ``increment_warm``
reports only its second run, the first warms its own JVM), and the driver JVM's peak resident memory is
read from ``/proc`` when the step ends. The result is one JSON line.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

GYM_OF_FIRST_PROBE = 1000  # probe visits use gym numbers no landed file uses, so each one is a new gold row


def settings(root: str):
    from medallion.platform.config import load_settings

    return load_settings("local", root=root)


def driver_jvm_peak_mib() -> float | None:
    """VmHWM of the JVM this Python process started (local mode: the driver is the whole of Spark)."""
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == me and b"java" in command:
            for line in (stat.parent / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return None


def floor(runtime) -> dict:
    from benchmarks.floor import run_floor

    run_floor(runtime.spark, runtime.settings.landing + "/fitness", runtime.settings.root + "/_floor")
    return {}


def pipeline_run(runtime, prepare: bool) -> dict:
    from medallion.declare.pipeline import get_pipeline
    from medallion.engine import runner

    if prepare:
        runner.prepare(runtime, get_pipeline("fitness"))
    runs = runner.run(runtime, "fitness")
    return {
        "tables_run": sum(r.status != "skipped" for r in runs),
        "tables_skipped": sum(r.status == "skipped" for r in runs),
        "rows_written": sum(r.rows_inserted + r.rows_updated for r in runs),
    }


def warm_increment(runtime, scale: float, readings: int) -> dict:
    """The 1% increment on a driver that has run one before (a long-lived driver: an all-purpose cluster, a
    notebook session): two more increments land and run in this process, and the second alone is timed."""
    from benchmarks.fitness import land_increment

    root = runtime.settings.root
    land_increment(root, scale, readings, part=2)
    pipeline_run(runtime, prepare=False)  # pays this process's warm-up
    land_increment(root, scale, readings, part=3)
    started = time.perf_counter()
    detail = pipeline_run(runtime, prepare=False)
    return {**detail, "seconds": time.perf_counter() - started}


def stream_latency(runtime, probes: int) -> dict:
    """Stream mode: land one gym visit at a time around an existing workout, and time each from the file
    landing to its row in gold ``gym_summary`` (read without Spark, as an analyst would)."""
    from deltalake import DeltaTable

    from medallion.engine import runner
    from medallion.sources.landing import LandingZone

    spark = runtime.spark
    registered = spark.read.format("delta").load(
        runtime.location("fitness", _layer("bronze"), "registered_users_bz").path
    )
    workouts = spark.read.format("delta").load(runtime.location("fitness", _layer("silver"), "completed_workouts").path)
    visit = (
        registered.join(workouts, "user_id")
        .orderBy("user_id", "workout_id")
        .select("mac_address", "start_time", "end_time")
        .first()
    )
    login, logout = int(visit.start_time.timestamp()) - 60, int(visit.end_time.timestamp()) + 60
    landing = LandingZone(runtime.settings.landing, "fitness")
    gold = runtime.location("fitness", _layer("gold"), "gym_summary").path
    streams = runner.start_streams(runtime, "fitness", progress=lambda message: None)
    latencies = []
    try:
        streams.await_idle()
        for probe in range(probes):
            gym = GYM_OF_FIRST_PROBE + probe
            landed = time.time()
            landing.write(
                "gym_logins_bz",
                f"probe_{gym}.csv",
                lambda out: out.write(
                    f"mac_address,gym,login,logout\n{visit.mac_address},{gym},{login},{logout}\n".encode()
                ),
            )
            while not _has_gym(DeltaTable(gold), gym):
                streams._raise_failures()
                time.sleep(0.2)
            latencies.append(time.time() - landed)
    finally:
        streams.stop()
    ordered = sorted(latencies)
    return {
        "latency_p50": statistics.median(ordered),
        "latency_p95": ordered[max(0, round(0.95 * len(ordered)) - 1)],
        "probes": len(ordered),
    }


def _has_gym(table, gym: int) -> bool:
    import pyarrow.compute as pc

    gyms = table.to_pyarrow_table(columns=["gym"])["gym"]
    return bool(pc.any(pc.equal(gyms, gym)).as_py())


def _layer(name: str):
    from medallion.declare.tables import Layer

    return Layer(name)


def main(step: str, root: str, *options: str) -> dict:
    from medallion.platform.runtime import Runtime

    logging.basicConfig(level=logging.WARNING)
    runtime = Runtime(settings(root))
    started = time.perf_counter()
    runtime.spark.range(1).count()
    session_seconds = time.perf_counter() - started
    started = time.perf_counter()
    if step == "floor":
        detail = floor(runtime)
    elif step in ("full", "noop", "increment"):
        detail = pipeline_run(runtime, prepare=step == "full")
    elif step == "increment_warm":
        detail = warm_increment(runtime, float(options[0]), int(options[1]))
    elif step == "stream":
        detail = stream_latency(runtime, probes=int(options[0]) if options else 10)
    else:
        raise SystemExit(f"unknown step {step}")
    seconds = detail.pop("seconds", time.perf_counter() - started)
    return {
        "step": step,
        "seconds": seconds,
        "session_seconds": session_seconds,
        "jvm_peak_mib": driver_jvm_peak_mib(),
        **detail,
    }


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(*sys.argv[1:])), flush=True)
