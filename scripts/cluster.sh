#!/usr/bin/env bash
# scripts/cluster.sh: a local cluster of N nodes on 127.0.0.1 for manual tests and demos.
#
# Usage:
#   scripts/cluster.sh start N [--replicas R] [--base-port 7001] [--bin PATH] [--keep] [--create]
#   scripts/cluster.sh create N [same options]     start, then form the cluster (as --create)
#   scripts/cluster.sh stop                        stop every node started from the work dir
#   scripts/cluster.sh status                      one line per node: port, pid, PING, state
#   scripts/cluster.sh clean                       stop, then delete the work dir
#
# Nodes get ports BASE..BASE+N-1 (cluster bus at port+10000). Each node has its own directory
# under $CLUSTER_DIR (default /tmp/slotd-cluster) holding a generated node.conf, nodes.conf,
# the AOF, node.log and node.pid. Nodes run in the background (no daemonize, so the binary
# needs no support for it); the pid file is written by this script. `start` wipes each node
# directory first unless --keep is given (then nodes.conf and the AOF are reused).
# --create runs `redis-cli --cluster create ... --cluster-replicas R --cluster-yes` and waits
# until every node reports cluster_state:ok. Every wait is bounded.
# --bin defaults to target/release/slotd (built with `cargo build --release` when missing);
# `--bin /usr/bin/redis-server` gives a reference cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER_DIR=${CLUSTER_DIR:-/tmp/slotd-cluster}
NODE_TIMEOUT_MS=3000
PING_WAIT_TENTHS=100   # per node, at start
STOP_WAIT_TENTHS=100   # per node, before SIGKILL
STATE_OK_WAIT_S=30     # after create, for cluster_state:ok everywhere
CREATE_TIMEOUT_S=120

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "[cluster] $*" >&2; }
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" >&2; exit 2; }

ping_ok() { [[ $(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null) == PONG ]]; }

# The pid in a node's pid file, only when that process still runs the binary recorded beside
# it (pid files outlive reboots and pids get reused). The command line cannot be checked:
# redis-server rewrites its process title.
live_pid() { # node_dir
    local pid
    [[ -f $1/node.pid && -f $1/node.bin ]] || return 1
    pid=$(<"$1/node.pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(<"$1/node.bin")" ]] || return 1
    echo "$pid"
}

write_conf() { # node_dir port
    cat >"$1/node.conf" <<EOF
port $2
bind 127.0.0.1
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout $NODE_TIMEOUT_MS
appendonly yes
dir $1
logfile $1/node.log
daemonize no
EOF
}

start_node() { # bin port keep
    local bin=$1 port=$2 keep=$3 dir="$CLUSTER_DIR/node-$2" i
    [[ $keep == 1 ]] || rm -rf "$dir"
    mkdir -p "$dir"
    write_conf "$dir" "$port"
    # Resolved for the live_pid check only: run the path as given, since redis-server is a
    # symlink whose target behaves differently under its own name.
    readlink -f "$bin" >"$dir/node.bin"
    # Output before the log file is open (a bad flag, a panic) still lands next to the log.
    nohup "$bin" "$dir/node.conf" >>"$dir/stdout.log" 2>&1 </dev/null &
    echo $! >"$dir/node.pid"
    for ((i = 0; i < PING_WAIT_TENTHS; i++)); do
        ping_ok "$port" && return 0
        live_pid "$dir" >/dev/null || die "node $port exited at start; see $dir/node.log, stdout.log"
        sleep 0.1
    done
    die "node $port did not answer PING within $((PING_WAIT_TENTHS / 10))s"
}

node_dirs() { compgen -G "$CLUSTER_DIR/node-*" | sort || true; }

# SIGTERM to every node at once (each may spend seconds on its final AOF fsync), then one
# shared bounded wait, then SIGKILL for any node still there.
cmd_stop() {
    local dir pid i alive
    local -A pids=()
    for dir in $(node_dirs); do
        pid=$(live_pid "$dir") || { rm -f "$dir/node.pid"; continue; }
        kill -TERM "$pid" 2>/dev/null || true
        pids[$dir]=$pid
    done
    for ((i = 0; i < STOP_WAIT_TENTHS; i++)); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for dir in "${!pids[@]}"; do
        pid=${pids[$dir]}
        if kill -0 "$pid" 2>/dev/null; then
            log "pid $pid ignored SIGTERM for $((STOP_WAIT_TENTHS / 10))s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$dir/node.pid"
        log "stopped ${dir##*/} (pid $pid)"
    done
}

cmd_status() {
    local dir port pid state
    for dir in $(node_dirs); do
        port=${dir##*-}
        pid=$(live_pid "$dir" || echo -)
        state=$(redis-cli -h 127.0.0.1 -p "$port" CLUSTER INFO 2>/dev/null |
            tr -d '\r' | awk -F: '/^cluster_state/ { print $2 }' || true)
        printf '%s pid=%s ping=%s state=%s\n' "$port" "$pid" \
            "$(ping_ok "$port" && echo PONG || echo -)" "${state:--}"
    done
}

wait_state_ok() { # ports...
    local deadline=$((SECONDS + STATE_OK_WAIT_S)) port pending
    while ((SECONDS < deadline)); do
        pending=0
        for port in "$@"; do
            redis-cli -h 127.0.0.1 -p "$port" CLUSTER INFO 2>/dev/null |
                grep -q '^cluster_state:ok' || pending=1
        done
        ((pending == 0)) && { log "cluster_state:ok on all ${#@} nodes"; return 0; }
        sleep 0.5
    done
    die "cluster_state not ok on every node within ${STATE_OK_WAIT_S}s (see cluster.sh status)"
}

cmd_start() { # create N options...
    local create=$1 n=${2:-}
    shift 2 || usage
    [[ $n =~ ^[0-9]+$ && $n -ge 1 ]] || die "N must be a positive number"
    local replicas=0 base=7001 bin="" keep=0 port pid
    while (($#)); do
        case "$1" in
            --replicas) replicas=${2:?}; shift 2 ;;
            --base-port) base=${2:?}; shift 2 ;;
            --bin) bin=${2:?}; shift 2 ;;
            --keep) keep=1; shift ;;
            --create | create) create=1; shift ;;
            *) die "unknown option: $1" ;;
        esac
    done
    [[ $replicas =~ ^[0-9]+$ && $base =~ ^[0-9]+$ ]] || die "bad --replicas or --base-port"
    ((base + n - 1 + 10000 <= 65535)) || die "ports too high: the bus port is port+10000"
    if ((create)) && ((n < 3 * (replicas + 1))); then
        die "create needs N >= 3 * (replicas + 1): at least 3 masters"
    fi
    if [[ -z $bin ]]; then
        bin="${CARGO_TARGET_DIR:-$ROOT/target}/release/slotd"
        [[ -x $bin ]] || (cd "$ROOT" && cargo build --release --bin slotd >&2)
    fi
    [[ -x $bin ]] || die "no executable at $bin"
    mkdir -p "$CLUSTER_DIR"
    for ((port = base; port < base + n; port++)); do
        pid=$(live_pid "$CLUSTER_DIR/node-$port") && die "node $port already runs (pid $pid)"
        ping_ok "$port" && die "port $port already answers PING (not ours); choose --base-port"
    done
    # A failed start leaves no half cluster behind.
    trap 'rc=$?; ((rc)) && { log "start failed; stopping what was started"; cmd_stop; }' EXIT
    local ports=()
    for ((port = base; port < base + n; port++)); do
        start_node "$bin" "$port" "$keep"
        ports+=("$port")
    done
    log "${#ports[@]} nodes up: ports ${ports[0]}..${ports[-1]}, dir $CLUSTER_DIR, bin $bin"
    if ((create)); then
        local addrs=()
        for port in "${ports[@]}"; do addrs+=("127.0.0.1:$port"); done
        timeout -k 5 "$CREATE_TIMEOUT_S" redis-cli --cluster create "${addrs[@]}" \
            --cluster-replicas "$replicas" --cluster-yes >&2
        wait_state_ok "${ports[@]}"
    fi
    trap - EXIT
}

case "${1:-}" in
    start) shift; cmd_start 0 "$@" ;;
    create) shift; cmd_start 1 "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    clean) cmd_stop; rm -rf "$CLUSTER_DIR"; log "removed $CLUSTER_DIR" ;;
    *) usage ;;
esac
