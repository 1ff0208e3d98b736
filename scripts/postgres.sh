#!/usr/bin/env bash
# The project's local PostgreSQL server: the operational database of the relational sources, locally and in CI.
#
#   scripts/postgres.sh start    initialise .pgdata/ on first use, start the server, ensure the app role and
#                                database (idempotent: a running server is left running)
#   scripts/postgres.sh stop     stop the server (no-op when stopped)
#   scripts/postgres.sh status   "running" (exit 0) or "stopped" (exit 3)
#   scripts/postgres.sh url      the JDBC URL the pipelines use
#
# Debian's packages provide the binaries (apt-get install -y postgresql): they are found under
# /usr/lib/postgresql/<version>/bin, not on PATH. The server listens on 127.0.0.1 only, on
# $MEDALLION_PG_PORT (default 54329); its data live in the project's .pgdata/ (git-ignored; override with
# $MEDALLION_PG_DATA). PostgreSQL refuses to run as root, so when invoked as root the server runs as the
# `postgres` OS user.
#
# The app role `medallion` logs in with a password over TCP (scram-sha-256). The password is the secret
# `operational-db-password`: $MEDALLION_SECRET_OPERATIONAL_DB_PASSWORD when exported (the env secret store,
# as in CI), else the entry of the git-ignored .secrets.yml (the file secret store of conf/local.yml),
# created there with a random value on first start. It is never printed, and it is re-applied on every
# start so the role always follows the secret store.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGDATA_DIR="${MEDALLION_PG_DATA:-$PROJECT_DIR/.pgdata}"
PORT="${MEDALLION_PG_PORT:-54329}"
APP_USER="medallion"
APP_DATABASE="medallion"
SECRET_NAME="operational-db-password"
SECRET_VAR="MEDALLION_SECRET_OPERATIONAL_DB_PASSWORD"
SECRETS_FILE="$PROJECT_DIR/.secrets.yml"
LOG_FILE="$PGDATA_DIR/server.log"

die() { echo "postgres: $*" >&2; exit 1; }

pg_bin_dir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -z "$dir" || ! -x "$dir/pg_ctl" ]]; then
        die "PostgreSQL binaries not found under /usr/lib/postgresql/<version>/bin: install them with 'apt-get install -y postgresql'."
    fi
    echo "$dir"
}

# Run a command as the server's OS user: `postgres` when we are root, ourselves otherwise.
as_server_user() {
    if [[ "$(id -u)" == "0" ]]; then
        id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' OS user (apt-get install -y postgresql creates it)."
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

is_running() {
    [[ -f "$PGDATA_DIR/PG_VERSION" ]] && as_server_user "$BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

app_password() {
    if [[ -n "${!SECRET_VAR:-}" ]]; then
        printf '%s' "${!SECRET_VAR}"
        return
    fi
    local stored=""
    if [[ -f "$SECRETS_FILE" ]]; then
        stored="$(sed -n "s/^${SECRET_NAME}: *//p" "$SECRETS_FILE" | head -n 1)"
        stored="${stored#\'}"; stored="${stored%\'}"; stored="${stored#\"}"; stored="${stored%\"}"
    fi
    if [[ -z "$stored" ]]; then
        stored="pg-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
        (umask 077; printf '%s: %s\n' "$SECRET_NAME" "$stored" >> "$SECRETS_FILE")
        chmod 600 "$SECRETS_FILE"
        echo "postgres: created the local secret '$SECRET_NAME' in $(basename "$SECRETS_FILE")" >&2
    fi
    printf '%s' "$stored"
}

init_cluster() {
    [[ -f "$PGDATA_DIR/PG_VERSION" ]] && return
    mkdir -p "$PGDATA_DIR"
    if [[ "$(id -u)" == "0" ]]; then
        chown postgres:postgres "$PGDATA_DIR"
        as_server_user test -w "$PGDATA_DIR" || die "the postgres OS user cannot write $PGDATA_DIR (a parent folder is not traversable): set MEDALLION_PG_DATA to a folder it can reach."
    fi
    chmod 700 "$PGDATA_DIR"
    echo "postgres: initialising a cluster in $PGDATA_DIR" >&2
    # The local socket lives inside the 0700 data folder, so `trust` there reaches only the server's OS user;
    # every TCP client needs a password.
    as_server_user "$BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >"$PGDATA_DIR.init.log" 2>&1 \
        || { cat "$PGDATA_DIR.init.log" >&2; die "initdb failed"; }
    rm -f "$PGDATA_DIR.init.log"
    as_server_user tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null <<EOF
# medallion: loopback only, socket inside the data folder, a small footprint
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGDATA_DIR'
password_encryption = scram-sha-256
shared_buffers = 64MB
max_connections = 50
fsync = on
EOF
    as_server_user tee "$PGDATA_DIR/pg_hba.conf" >/dev/null <<'EOF'
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   scram-sha-256
EOF
}

start_server() {
    if is_running; then
        return
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        die "port $PORT on 127.0.0.1 is taken by another process (another worktree's server?): stop it, or export MEDALLION_PG_PORT=<free port>."
    fi
    if ! as_server_user "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 \
            -o "-p $PORT -k $PGDATA_DIR -c listen_addresses=127.0.0.1" start >/dev/null; then
        tail -n 20 "$LOG_FILE" >&2 || true
        die "the server did not start (log: $LOG_FILE)"
    fi
}

psql_admin() {
    as_server_user "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA_DIR" -p "$PORT" -U postgres -d postgres "$@"
}

ensure_app_role() {
    local password
    password="$(app_password)"
    # Through the environment, never argv: a command line is visible to every process list.
    # CREATEDB lets the tests create throwaway databases; the server listens on loopback only.
    MEDALLION_PG_APP_PASSWORD="$password" psql_admin -v app_user="$APP_USER" >/dev/null <<'SQL'
\getenv app_password MEDALLION_PG_APP_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'app_user')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN CREATEDB PASSWORD %L', :'app_user', :'app_password') \gexec
SQL
    psql_admin -v app_user="$APP_USER" -v app_database="$APP_DATABASE" >/dev/null <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'app_database', :'app_user')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'app_database') \gexec
SQL
}

command="${1:-}"
case "$command" in
    start)
        BIN="$(pg_bin_dir)"
        init_cluster
        start_server
        ensure_app_role
        echo "postgres: running on 127.0.0.1:$PORT (data: $PGDATA_DIR)" >&2
        ;;
    stop)
        BIN="$(pg_bin_dir)"
        if is_running; then
            as_server_user "$BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null
            echo "postgres: stopped" >&2
        fi
        ;;
    status)
        BIN="$(pg_bin_dir)"
        if is_running; then echo running; else echo stopped; exit 3; fi
        ;;
    url)
        echo "jdbc:postgresql://127.0.0.1:$PORT/$APP_DATABASE"
        ;;
    *)
        echo "usage: $0 {start|stop|status|url}" >&2
        exit 2
        ;;
esac
