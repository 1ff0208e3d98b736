#!/usr/bin/env bash
# A local Spark Connect server of the pinned Spark, with Delta Lake on the server side: the way the
# library is proven to run where the session has no JVM in Python (Databricks standard access mode,
# serverless, Databricks Connect).
#
#   scripts/spark-connect.sh start    resolve the jars (once), start the server, wait until it answers
#                                     (idempotent: a running server is left running)
#   scripts/spark-connect.sh stop     stop the server (no-op when stopped)
#   scripts/spark-connect.sh status   "running" (exit 0) or "stopped" (exit 3)
#   scripts/spark-connect.sh url      the address for MEDALLION_SPARK_REMOTE (sc://127.0.0.1:<port>)
#
# The server listens on $MEDALLION_CONNECT_PORT (default 15002) on 127.0.0.1; its state (pid, log, Derby
# metastore, warehouse) lives in the project's .spark-connect/ (git-ignored). Its jars: the `spark` group
# (Delta, Kafka, JDBC driver) and the `connect` group (spark-connect_2.12 of the pinned Spark), both from
# Maven Central through medallion.platform.jars. Python work on the server (UDFs, foreachBatch functions)
# runs in this project's virtual environment with its sources on the path, as on a cluster the job's
# libraries would.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${MEDALLION_CONNECT_PORT:-15002}"
STATE_DIR="$PROJECT_DIR/.spark-connect"
PID_FILE="$STATE_DIR/server.pid"
LOG_FILE="$STATE_DIR/server.log"
PYTHON="$PROJECT_DIR/.venv/bin/python"

die() { echo "spark-connect: $*" >&2; exit 1; }

is_running() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

start() {
    if is_running; then
        echo "spark-connect: running on sc://127.0.0.1:$PORT (pid $(cat "$PID_FILE"))"
        return
    fi
    command -v java >/dev/null || die "java was not found: install a JDK 17 (apt-get install -y openjdk-17-jre-headless)."
    [[ -x "$PYTHON" ]] || die "$PYTHON is missing: run 'make setup' first."
    if answers; then die "port $PORT is taken by another process: set MEDALLION_CONNECT_PORT to a free port."; fi
    mkdir -p "$STATE_DIR"
    PYTHONPATH="$PROJECT_DIR/src" "$PYTHON" -m medallion.platform.jars spark connect
    local spark_home server_jar jars
    spark_home="$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
    server_jar="$(ls "$PROJECT_DIR"/.jars/connect/*spark-connect_2.12-*.jar)"
    jars="$(ls "$PROJECT_DIR"/.jars/spark/*.jar | paste -sd, -),$server_jar"
    local jvm_options  # the local session's (platform/runtime.py)
    jvm_options="$(PYTHONPATH="$PROJECT_DIR/src" "$PYTHON" -c 'from medallion.platform.runtime import DRIVER_JVM_OPTIONS; print(DRIVER_JVM_OPTIONS)')"
    local file_writes=()  # the local session's too
    while IFS= read -r setting; do file_writes+=(--conf "$setting"); done < <(PYTHONPATH="$PROJECT_DIR/src" "$PYTHON" -c \
        'from medallion.platform.runtime import LOCAL_FILE_WRITES as w; print("\n".join(f"{k}={v}" for k, v in w.items()))')
    PYSPARK_PYTHON="$PYTHON" PYTHONPATH="$PROJECT_DIR/src" SPARK_HOME="$spark_home" nohup \
        "$spark_home/bin/spark-submit" \
        --master "local[2]" \
        --class org.apache.spark.sql.connect.service.SparkConnectServer \
        --jars "$jars" \
        --conf "spark.connect.grpc.binding.port=$PORT" \
        --conf "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension" \
        --conf "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog" \
        --conf "spark.sql.session.timeZone=UTC" \
        --conf "spark.default.parallelism=2" \
        --conf "spark.databricks.delta.snapshotPartitions=2" \
        "${file_writes[@]}" \
        --conf "spark.sql.warehouse.dir=$STATE_DIR/warehouse" \
        --conf "spark.ui.enabled=false" \
        --conf "spark.driver.memory=${MEDALLION_DRIVER_MEMORY:-4g}" \
        --conf "spark.driver.extraJavaOptions=$jvm_options -Dderby.system.home=$STATE_DIR/derby -Dlog4j2.configurationFile=$PROJECT_DIR/src/medallion/platform/log4j2.properties" \
        spark-internal >"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    for _ in $(seq 1 180); do
        if answers; then
            echo "spark-connect: running on sc://127.0.0.1:$PORT (log: $LOG_FILE)"
            return
        fi
        is_running || die "the server stopped while starting; its log: $LOG_FILE"
        sleep 1
    done
    die "the server did not answer on port $PORT within 180 s; its log: $LOG_FILE"
}

stop() {
    if ! is_running; then
        rm -f "$PID_FILE"
        echo "spark-connect: stopped"
        return
    fi
    local pid
    pid="$(cat "$PID_FILE")"
    kill "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    rm -f "$PID_FILE"
    echo "spark-connect: stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if is_running; then echo running; else echo stopped; exit 3; fi ;;
    url) echo "sc://127.0.0.1:$PORT" ;;
    *) die "usage: scripts/spark-connect.sh start|stop|status|url" ;;
esac
