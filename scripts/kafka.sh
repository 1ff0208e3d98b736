#!/usr/bin/env bash
# The project's local Apache Kafka broker: the stream sources' broker locally and in CI (Event Hubs' Kafka
# endpoint plays its part on Databricks).
#
#   scripts/kafka.sh start    resolve the broker's jars on first use, format .kafka/ on first use, start one
#                             KRaft node (broker + controller, no ZooKeeper) and wait until it accepts
#                             connections (idempotent: a running broker is left running)
#   scripts/kafka.sh stop     stop the broker (no-op when stopped)
#   scripts/kafka.sh status   "running" (exit 0) or "stopped" (exit 3)
#   scripts/kafka.sh bootstrap   the bootstrap servers clients use (127.0.0.1:<port>)
#
# The broker is Apache Kafka's own jars (group `kafka` of medallion.platform.jars: org.apache.kafka:kafka_2.13,
# from Maven Central into .jars/kafka/), run with the `java` on PATH. It listens on 127.0.0.1 only, on
# $MEDALLION_KAFKA_PORT (default 19092; its controller on the port + 1); data and log live in .kafka/
# (git-ignored; override with $MEDALLION_KAFKA_DATA). Plaintext: a local test broker, never exposed.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="${MEDALLION_KAFKA_DATA:-$PROJECT_DIR/.kafka}"
PORT="${MEDALLION_KAFKA_PORT:-19092}"
CONTROLLER_PORT="$((PORT + 1))"
JAR_DIR="$PROJECT_DIR/.jars/kafka"
CONFIG="$DATA_DIR/server.properties"
PID_FILE="$DATA_DIR/broker.pid"
LOG_FILE="$DATA_DIR/broker.log"
PYTHON="${MEDALLION_PYTHON:-$PROJECT_DIR/.venv/bin/python}"

die() { echo "kafka: $*" >&2; exit 1; }

is_running() {
    [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

require_java() {
    command -v java >/dev/null 2>&1 || die "java was not found on the PATH: install a JDK 17 (apt-get install -y openjdk-17-jre-headless)."
}

ensure_jars() {
    if [[ ! -f "$JAR_DIR/.resolved" ]]; then
        echo "kafka: resolving the broker's jars into $JAR_DIR (once)" >&2
        [[ -x "$PYTHON" ]] || die "$PYTHON not found: run 'make setup' first (it creates .venv)."
        PYTHONPATH="$PROJECT_DIR/src${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m medallion.platform.jars kafka \
            || die "could not resolve the broker's jars (see above)."
    fi
}

java_run() {
    java -Xms128m -Xmx384m -XX:+UseSerialGC -cp "$JAR_DIR/*" "$@"
}

write_config() {
    mkdir -p "$DATA_DIR/logs"
    cat >"$CONFIG" <<EOF
# medallion: one local KRaft node (broker and controller), loopback only, plaintext
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR/logs
num.partitions=2
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
EOF
}

format_storage() {
    [[ -f "$DATA_DIR/logs/meta.properties" ]] && return
    local cluster_id
    cluster_id="$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    [[ -n "$cluster_id" ]] || die "could not create a cluster id with kafka.tools.StorageTool."
    java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" >"$DATA_DIR/format.log" 2>&1 \
        || { cat "$DATA_DIR/format.log" >&2; die "formatting $DATA_DIR/logs failed"; }
}

start_broker() {
    if is_running; then
        return
    fi
    for port in "$PORT" "$CONTROLLER_PORT"; do
        if port_open "$port"; then
            die "port $port on 127.0.0.1 is taken by another process (another worktree's broker?): stop it, or export MEDALLION_KAFKA_PORT=<free port>."
        fi
    done
    write_config
    format_storage
    # The config names the data folder and ports: a broker formatted for other ports still starts (the
    # listeners are not in meta.properties), so a changed MEDALLION_KAFKA_PORT needs no reset.
    nohup java -Xms128m -Xmx384m -XX:+UseSerialGC -cp "$JAR_DIR/*" \
        -Dlog4j2.configurationFile="$DATA_DIR/log4j2.properties" kafka.Kafka "$CONFIG" >"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    for _ in $(seq 1 120); do
        if port_open "$PORT"; then
            return
        fi
        if ! is_running; then
            tail -n 20 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE"
            die "the broker exited while starting (log: $LOG_FILE)"
        fi
        sleep 0.5
    done
    die "the broker did not accept connections on 127.0.0.1:$PORT within 60 s (log: $LOG_FILE)"
}

write_log_config() {
    mkdir -p "$DATA_DIR"
    cat >"$DATA_DIR/log4j2.properties" <<'EOF'
status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRefs = stdout
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka.server.KafkaRaftServer
logger.kafka.level = INFO
EOF
}

stop_broker() {
    is_running || { rm -f "$PID_FILE"; return; }
    local pid
    pid="$(cat "$PID_FILE")"
    kill "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; echo "kafka: stopped" >&2; return; }
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    echo "kafka: stopped (killed after 30 s)" >&2
}

command="${1:-}"
case "$command" in
    start)
        require_java
        ensure_jars
        write_log_config
        start_broker
        echo "kafka: running on 127.0.0.1:$PORT (data: $DATA_DIR)" >&2
        ;;
    stop)
        stop_broker
        ;;
    status)
        if is_running; then echo running; else echo stopped; exit 3; fi
        ;;
    bootstrap)
        echo "127.0.0.1:$PORT"
        ;;
    *)
        echo "usage: $0 {start|stop|status|bootstrap}" >&2
        exit 2
        ;;
esac
