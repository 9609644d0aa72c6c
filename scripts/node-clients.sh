#!/usr/bin/env bash
# scripts/node-clients.sh: Node.js libraries that are all Lua scripts, run unchanged against
# slotd and, for reference, redis-server 7.0: ioredis' defineCommand (EVALSHA with the NOSCRIPT
# fallback, pipelines, MULTI), redlock 4, rate-limiter-flexible and BullMQ (a Queue, a Worker
# processing jobs, completed/failed events, a delayed job, job counts). The checks are
# tests/clients/node_scripts.js. Not in CI: it installs from the npm registry (about 25
# packages) on each run. BullMQ uses streams (XADD and XTRIM in its scripts, XREAD BLOCK in
# QueueEvents); every check passes on slotd since the stream commands (issue 15).
#
# Usage: scripts/node-clients.sh [--no-redis]
# Environment:
#   SLOTD_BIN      slotd binary (default target/debug/slotd, built with cargo when missing)
#   SLOTD_ARGS     extra slotd arguments (default "--server-threads 2")
#   REDIS_BIN      default /usr/bin/redis-server
#   SLOTD_PORT     default 7641;   REDIS_PORT default 7640
#   NODE_DIR       where to npm-install the libraries (default: a temporary directory)
# Exits non-zero when any check fails on slotd (or on redis-server, which would mean the checks
# themselves are wrong).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WITH_REDIS=1
for arg in "$@"; do
    case "$arg" in
        --no-redis) WITH_REDIS=0 ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
        *) echo "node-clients.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

SLOTD_PORT=${SLOTD_PORT:-7641}
REDIS_PORT=${REDIS_PORT:-7640}
REDIS_BIN=${REDIS_BIN:-/usr/bin/redis-server}
read -r -a EXTRA <<<"${SLOTD_ARGS:---server-threads 2}"
WORK=$(mktemp -d /tmp/slotd-node.XXXXXX)
NODE_DIR=${NODE_DIR:-$WORK/npm}
PIDS=()

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "[node-clients $(date +%H:%M:%S)] $*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node-clients.sh: node and npm are needed" >&2
    exit 1
fi
if [[ -z ${SLOTD_BIN:-} ]]; then
    SLOTD_BIN=$ROOT/target/debug/slotd
    [[ -x $SLOTD_BIN ]] || cargo build --bin slotd >&2
fi

mkdir -p "$NODE_DIR"
PACKAGES=(bullmq ioredis redlock@4 rate-limiter-flexible)
missing=0
for p in "${PACKAGES[@]}"; do [[ -d $NODE_DIR/node_modules/${p%@*} ]] || missing=1; done
if [[ $missing == 1 ]]; then
    log "npm install ${PACKAGES[*]} into $NODE_DIR"
    (cd "$NODE_DIR" && { [[ -f package.json ]] || npm init -y >/dev/null; } &&
        timeout 600 npm install --no-audit --no-fund --silent "${PACKAGES[@]}" >&2)
fi
versions=()
for p in "${PACKAGES[@]}"; do
    versions+=("${p%@*} $(node -p "require('$NODE_DIR/node_modules/${p%@*}/package.json').version")")
done
log "$(printf '%s; ' "${versions[@]}")"

start() { # port binary args...
    local port=$1 i
    shift
    if redis-cli -p "$port" PING >/dev/null 2>&1; then
        echo "node-clients.sh: something already answers on port $port" >&2
        exit 1
    fi
    "$@" >"$WORK/$port.log" 2>&1 &
    PIDS+=($!)
    for ((i = 0; i < 100; i++)); do
        redis-cli -p "$port" PING >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "node-clients.sh: server on $port did not start; its log:" >&2
    tail -n 20 "$WORK/$port.log" >&2
    exit 1
}

run() { # label port
    log "$1 (port $2)"
    NODE_PATH=$NODE_DIR/node_modules timeout 120 node "$ROOT/tests/clients/node_scripts.js" "$2"
}

rc=0
if [[ $WITH_REDIS == 1 ]]; then
    mkdir -p "$WORK/redis"
    start "$REDIS_PORT" "$REDIS_BIN" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$WORK/redis"
    run "redis-server $("$REDIS_BIN" --version | awk '{ print $3 }')" "$REDIS_PORT" || rc=1
fi
mkdir -p "$WORK/slotd"
start "$SLOTD_PORT" "$SLOTD_BIN" --port "$SLOTD_PORT" --dir "$WORK/slotd" "${EXTRA[@]}"
run "slotd ${EXTRA[*]}" "$SLOTD_PORT" || rc=1
exit "$rc"
