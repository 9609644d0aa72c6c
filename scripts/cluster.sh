#!/usr/bin/env bash
# scripts/cluster.sh: a local cluster of N nodes on 127.0.0.1 for tests, demos and benchmarks.
#
# Usage:
#   scripts/cluster.sh start N [options]           N nodes from generated configs
#   scripts/cluster.sh start --conf FILE... [opts] one node per given redis.conf (e.g. conf/*)
#   scripts/cluster.sh start --seed [opts]         the seed's nodes: conf/redis-master-{1,2,3}.conf,
#                                                  plus conf/redis-replica-{4,5,6}.conf with
#                                                  --replicas 1 (the seed's second step)
#   scripts/cluster.sh create ...                  start as above, then form the cluster (--create)
#   scripts/cluster.sh stop                        stop every node started from the work dir
#   scripts/cluster.sh status                      one line per node: port, pid, PING, state
#   scripts/cluster.sh clean                       stop, then delete the work dir
# Options:
#   --replicas R         replicas per master for --create (default 0)
#   --base-port P        first port of the generated mode (default 7001)
#   --bin PATH           the server binary (default target/release/slotd, built when missing;
#                        `--bin /usr/bin/redis-server` gives a reference cluster)
#   --appendonly yes|no  generated mode only (default yes, as the seed's configs)
#   --set 'NAME VALUE'   one more config line for every node, e.g. --set 'save ""' (repeatable)
#   --keep               reuse each node's nodes.conf and AOF instead of wiping its directory
#   --create             same as the create command
# Examples: the seed's three masters, and its three masters with three replicas:
#   scripts/cluster.sh create --seed
#   scripts/cluster.sh create --seed --replicas 1
# Environment: CLUSTER_DIR (default /tmp/slotd-cluster), SEED_CONF_DIR (default conf/: where
# --seed reads the six seed configs).
#
# Each node has its own directory $CLUSTER_DIR/node-PORT (default /tmp/slotd-cluster) holding
# node.conf, nodes.conf, the AOF, node.log and node.pid. Generated mode writes node.conf with
# ports BASE..BASE+N-1 (cluster bus at port+10000). --conf mode writes a node.conf that
# `include`s the given file unchanged (its port decides the node directory) and then only
# overrides where the node runs: dir, logfile, `daemonize no` and `bind 127.0.0.1` (local
# runs stay on loopback). Nodes run in the background without daemonize, so the binary needs
# no support for it; the pid file is written by this script. `start` wipes each node directory
# first unless --keep is given. --create runs `redis-cli --cluster create ADDRS
# --cluster-replicas R --cluster-yes` (masters are the first N/(R+1) addresses, in the order
# given) and waits until every node reports cluster_state:ok. Every wait is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER_DIR=${CLUSTER_DIR:-/tmp/slotd-cluster}
# Where --seed finds redis-master-{1,2,3}.conf and redis-replica-{4,5,6}.conf.
SEED_CONF_DIR=${SEED_CONF_DIR:-$ROOT/conf}
NODE_TIMEOUT_MS=3000
PING_WAIT_TENTHS=100   # per node, at start
STOP_WAIT_TENTHS=100   # per node, before SIGKILL
STATE_OK_WAIT_S=30     # after create, for cluster_state:ok everywhere
CREATE_TIMEOUT_S=120
APPENDONLY=yes         # generated mode; --appendonly
EXTRA_LINES=()         # --set

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

# The port a redis.conf sets: its last `port` line (a later line wins, as in the server).
conf_port() { # file
    awk 'tolower($1) == "port" { gsub(/["\047]/, "", $2); p = $2 } END { print p }' "$1"
}

# node.conf: the node's settings (generated, or an `include` of the given file unchanged),
# then where this node runs, then the --set lines; later lines win over earlier ones.
write_conf() { # node_dir port [source_conf]
    local dir=$1 port=$2 src=${3:-} line
    {
        if [[ -n $src ]]; then
            echo "include $src"
        else
            echo "port $port"
            echo "cluster-enabled yes"
            echo "cluster-config-file nodes.conf"
            echo "cluster-node-timeout $NODE_TIMEOUT_MS"
            echo "appendonly $APPENDONLY"
        fi
        echo "# where this local node runs (scripts/cluster.sh)"
        echo "dir $dir"
        echo "logfile $dir/node.log"
        echo "daemonize no"
        echo "bind 127.0.0.1"
        for line in "${EXTRA_LINES[@]}"; do echo "$line"; done
    } >"$dir/node.conf"
}

start_node() { # bin port keep [source_conf]
    local bin=$1 port=$2 keep=$3 src=${4:-} dir="$CLUSTER_DIR/node-$2" i
    [[ $keep == 1 ]] || rm -rf "$dir"
    mkdir -p "$dir"
    write_conf "$dir" "$port" "$src"
    # Resolved for the live_pid check only: run the path as given, since redis-server is a
    # symlink whose target behaves differently under its own name.
    readlink -f "$bin" >"$dir/node.bin"
    # Output before the log file is open (a bad flag, a panic) still lands next to the log.
    nohup "$bin" "$dir/node.conf" >>"$dir/stdout.log" 2>&1 </dev/null &
    echo $! >"$dir/node.pid"
    for ((i = 0; i < PING_WAIT_TENTHS; i++)); do
        ping_ok "$port" && return 0
        live_pid "$dir" >/dev/null ||
            die "node $port exited at start; see $dir/node.log, stdout.log"
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

# Counts the nodes that `port` sees flagged as replicas in CLUSTER NODES.
replicas_seen() { # port
    redis-cli -h 127.0.0.1 -p "$1" CLUSTER NODES 2>/dev/null |
        awk '$3 ~ /(^|,)slave(,|$)/ { n++ } END { print n + 0 }'
}

# Bounded wait until every node reports cluster_state:ok and sees all the replicas that
# --cluster create configured (gossip spreads the replica roles a moment after the slots).
wait_state_ok() { # replica_count ports...
    local want=$1 deadline=$((SECONDS + STATE_OK_WAIT_S)) port pending
    shift
    while ((SECONDS < deadline)); do
        pending=0
        for port in "$@"; do
            redis-cli -h 127.0.0.1 -p "$port" CLUSTER INFO 2>/dev/null |
                grep -q '^cluster_state:ok' || pending=1
            (($(replicas_seen "$port") == want)) || pending=1
        done
        ((pending == 0)) && {
            log "cluster_state:ok on all $# nodes, $want replicas seen by each"
            return 0
        }
        sleep 0.5
    done
    die "cluster not ok (state, or $want replicas) on every node within ${STATE_OK_WAIT_S}s" \
        "(see cluster.sh status)"
}

# The seed's node configs (conf/): three masters, and three replicas for its second step.
seed_confs() { # replicas
    local i
    for i in 1 2 3; do echo "$SEED_CONF_DIR/redis-master-$i.conf"; done
    if (($1 > 0)); then
        for i in 4 5 6; do echo "$SEED_CONF_DIR/redis-replica-$i.conf"; done
    fi
}

cmd_start() { # create [N] options...
    local create=$1 n="" replicas=0 base=7001 bin="" keep=0 seed=0 port pid i
    local confs=()
    shift
    [[ ${1:-} =~ ^[0-9]+$ ]] && { n=$1; shift; }
    while (($#)); do
        case "$1" in
            --replicas) replicas=${2:?}; shift 2 ;;
            --base-port) base=${2:?}; shift 2 ;;
            --bin) bin=${2:?}; shift 2 ;;
            --appendonly) APPENDONLY=${2:?}; shift 2 ;;
            --set)
                [[ ${2:?} != *$'\n'* ]] || die "--set takes one line"
                EXTRA_LINES+=("$2"); shift 2 ;;
            --keep) keep=1; shift ;;
            --seed) seed=1; shift ;;
            --conf)
                shift
                while (($#)) && [[ $1 != --* ]]; do confs+=("$1"); shift; done ;;
            --create | create) create=1; shift ;;
            *) die "unknown option: $1" ;;
        esac
    done
    [[ $replicas =~ ^[0-9]+$ && $base =~ ^[0-9]+$ ]] || die "bad --replicas or --base-port"
    [[ $APPENDONLY == yes || $APPENDONLY == no ]] || die "--appendonly takes yes or no"
    if ((seed)); then
        ((${#confs[@]} == 0)) || die "--seed and --conf exclude each other"
        ((replicas <= 1)) || die "the seed has one replica per master at most"
        mapfile -t confs < <(seed_confs "$replicas")
    fi
    # One port per node, and for --conf mode the absolute config path beside it.
    local ports=() srcs=()
    if ((${#confs[@]})); then
        [[ -z $n ]] || die "give N or --conf/--seed, not both"
        for i in "${confs[@]}"; do
            [[ -f $i && -r $i ]] || die "cannot read config $i"
            port=$(conf_port "$i")
            [[ $port =~ ^[0-9]+$ ]] || die "$i has no numeric port line"
            [[ " ${ports[*]} " != *" $port "* ]] || die "port $port appears in two configs"
            ports+=("$port")
            srcs+=("$(readlink -f "$i")")
        done
    else
        [[ $n =~ ^[0-9]+$ && $n -ge 1 ]] ||
            die "give N (a positive number), --conf FILE... or --seed"
        for ((port = base; port < base + n; port++)); do ports+=("$port"); done
    fi
    n=${#ports[@]}
    for port in "${ports[@]}"; do
        ((port >= 1 && port + 10000 <= 65535)) || die "port $port: the bus port is port+10000"
    done
    if ((create)) && ((n < 3 * (replicas + 1))); then
        die "create needs N >= 3 * (replicas + 1): at least 3 masters"
    fi
    if [[ -z $bin ]]; then
        bin="${CARGO_TARGET_DIR:-$ROOT/target}/release/slotd"
        [[ -x $bin ]] || (cd "$ROOT" && cargo build --release --bin slotd >&2)
    fi
    [[ -x $bin ]] || die "no executable at $bin"
    mkdir -p "$CLUSTER_DIR"
    for port in "${ports[@]}"; do
        pid=$(live_pid "$CLUSTER_DIR/node-$port") && die "node $port already runs (pid $pid)"
        ping_ok "$port" && die "port $port already answers PING (not ours); choose other ports"
    done
    # A failed start leaves no half cluster behind.
    trap 'rc=$?; ((rc)) && { log "start failed; stopping what was started"; cmd_stop; }' EXIT
    for ((i = 0; i < n; i++)); do
        start_node "$bin" "${ports[i]}" "$keep" "${srcs[i]:-}"
    done
    log "$n nodes up: ports ${ports[*]}, dir $CLUSTER_DIR, bin $bin"
    if ((create)); then
        local addrs=()
        for port in "${ports[@]}"; do addrs+=("127.0.0.1:$port"); done
        timeout -k 5 "$CREATE_TIMEOUT_S" redis-cli --cluster create "${addrs[@]}" \
            --cluster-replicas "$replicas" --cluster-yes >&2
        wait_state_ok $((n - n / (replicas + 1))) "${ports[@]}"
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
