#!/usr/bin/env bash
# Usage: scripts/with-services.sh CMD [ARGS...]
#
# Starts a throwaway PostgreSQL cluster and a redis-server, both listening
# only on 127.0.0.1 on free ports, with everything under one temp dir; runs
# CMD with these exported:
#   FAIRSERVER_TEST_PG_URL        postgresql+asyncpg://USER:PASS@127.0.0.1:PORT/fairserver_test
#   FAIRSERVER_TEST_REDIS_URL     redis://:PASS@127.0.0.1:PORT/0
#   FAIRSERVER_TEST_REDIS_SERVER  path of redis-server (tests may start their own)
#   FAIRSERVER_CHROMIUM           /usr/bin/chromium
# then stops both services, removes the temp dir and exits with CMD's status.
# A pytest exit status 5 ("no tests collected") is reported as a failure.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

log() { echo "with-services: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- locate binaries ---------------------------------------------------------
# Newest installed PostgreSQL major version (override with PG_BIN=...).
if [ -z "${PG_BIN:-}" ]; then
    initdb_path=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$initdb_path" ] || die "no /usr/lib/postgresql/*/bin/initdb; run 'make system'"
    PG_BIN=$(dirname "$initdb_path")
fi
REDIS_SERVER=$(command -v redis-server) || die "redis-server not found; run 'make system'"
REDIS_CLI=$(command -v redis-cli) || die "redis-cli not found; run 'make system'"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
random_hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# --- temp dir + cleanup ------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fairserver-services.XXXXXX")
pgdata="$tmp/pgdata"
pgsock="$tmp/pgsock"
redisdir="$tmp/redis"
redis_pid=""
pg_pid=""

# PostgreSQL refuses to run as root: when root, run the cluster as 'postgres'.
# setpriv exec()s (unlike su/runuser, which fork and linger as a parent), so
# the backgrounded postmaster below is our direct child and $! is its pid.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user; run 'make system'"
    chown postgres: "$tmp"
    pg_as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
else
    pg_as=()
fi
# Run a PostgreSQL tool as the cluster owner, from a dir it can read.
as_pg() { (cd "$tmp" && exec "${pg_as[@]}" "$@"); }

# True while $1 is running (a zombie, i.e. exited but not yet reaped, counts as gone).
is_running() {
    local state
    [ -r "/proc/$1/stat" ] || return 1
    read -r _ _ state _ <"/proc/$1/stat" || return 1
    [ "$state" != Z ]
}

# stop_child PID SIGNAL FALLBACK_SIGNAL: signal one of our own children, give it
# 30 s, then the fallback signal, and reap it.
stop_child() {
    local pid=$1 sig=$2 fallback=$3
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 300); do
        is_running "$pid" || break
        sleep 0.1
    done
    if is_running "$pid"; then
        log "pid $pid ignored SIG$sig for 30 s; sending SIG$fallback"
        kill "-$fallback" "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$redis_pid" ]; then
        stop_child "$redis_pid" TERM KILL
    fi
    if [ -n "$pg_pid" ]; then
        # SIGINT = PostgreSQL "fast shutdown"; SIGQUIT = "immediate shutdown".
        stop_child "$pg_pid" INT QUIT
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- PostgreSQL ---------------------------------------------------------------
pg_port=$(free_port)
pg_user=fairserver
pg_pass=$(random_hex)

mkdir -p "$pgsock"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$pgsock"
fi
chmod 700 "$pgsock"

# Local (unix socket) connections are trusted: the socket lives in a 0700 dir
# only the cluster owner can reach. TCP connections need a password (scram).
as_pg "$PG_BIN/initdb" -D "$pgdata" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$tmp/initdb.log" 2>&1 \
    || { cat "$tmp/initdb.log" >&2; die "initdb failed"; }

cat >>"$pgdata/postgresql.conf" <<CONF

# --- with-services.sh ---
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pgsock'
synchronous_commit = on
CONF

(cd "$tmp" && exec "${pg_as[@]}" "$PG_BIN/postgres" -D "$pgdata") </dev/null >"$tmp/postgres.log" 2>&1 &
pg_pid=$!

pg_ready=0
for _ in $(seq 300); do
    is_running "$pg_pid" || break
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -d postgres; then
        pg_ready=1
        break
    fi
    sleep 0.1
done
if [ "$pg_ready" -ne 1 ]; then
    cat "$tmp/postgres.log" >&2 || true
    die "PostgreSQL did not become ready on 127.0.0.1:$pg_port within 30 s"
fi

# Superuser: simplest for a throwaway cluster (CREATE DATABASE, CREATE EXTENSION).
as_pg "$PG_BIN/psql" -q -X -v ON_ERROR_STOP=1 -h "$pgsock" -p "$pg_port" -d postgres \
    -c "CREATE ROLE $pg_user LOGIN SUPERUSER PASSWORD '$pg_pass'" \
    -c "CREATE DATABASE fairserver_test OWNER $pg_user" >/dev/null

# --- redis ----------------------------------------------------------------------
redis_port=$(free_port)
redis_pass=$(random_hex)
mkdir -p "$redisdir"
# Config in a file (not argv) so the password does not show up in ps.
(umask 077 && cat >"$redisdir/redis.conf" <<CONF
bind 127.0.0.1
port $redis_port
requirepass $redis_pass
save ""
appendonly no
daemonize no
dir $redisdir
logfile $redisdir/redis.log
CONF
)
"$REDIS_SERVER" "$redisdir/redis.conf" </dev/null &
redis_pid=$!

redis_ready=0
for _ in $(seq 300); do
    is_running "$redis_pid" || break
    if [ "$(REDISCLI_AUTH=$redis_pass "$REDIS_CLI" -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = "PONG" ]; then
        redis_ready=1
        break
    fi
    sleep 0.1
done
if [ "$redis_ready" -ne 1 ]; then
    cat "$redisdir/redis.log" >&2 || true
    die "redis-server did not become ready on 127.0.0.1:$redis_port within 30 s"
fi

log "postgres on 127.0.0.1:$pg_port, redis on 127.0.0.1:$redis_port (dir $tmp)"

export FAIRSERVER_TEST_PG_URL="postgresql+asyncpg://$pg_user:$pg_pass@127.0.0.1:$pg_port/fairserver_test"
export FAIRSERVER_TEST_REDIS_URL="redis://:$redis_pass@127.0.0.1:$redis_port/0"
export FAIRSERVER_TEST_REDIS_SERVER="$REDIS_SERVER"
export FAIRSERVER_CHROMIUM=/usr/bin/chromium

# --- run the command -------------------------------------------------------------
set +e
"$@"
rc=$?
set -e

if [ "$rc" -eq 5 ]; then
    log "FAILED: command exited 5 (pytest: no tests collected)"
fi
exit "$rc"
